//! What a rules file calls, read from rhai's own syntax tree (`AST::walk`, rhai's `internals`
//! feature) rather than from its text: a name in a comment or a string is never a call, and a
//! method call (`customer.tags.contains("vip")`) is told apart from a call of a function
//! (`helper(invoice)`). W0190 (`scenario_set::unused_rules`) reads it to know whether a file of
//! helpers is called by another rules file.
//!
//! This module only reads a compiled file's tree; it must not run anything, nor decide what a
//! call means for the set (that is `scenario_set`'s).

use rhai::{AST, ASTNode, Expr, FnCallExpr, Position, Stmt};

use super::{RuleLimits, sandbox};

/// A call written in a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCall {
    /// The name called (for `Fn("name")`, the name in the string).
    pub name: String,
    pub kind: CallKind,
    /// Where the name is written, as rhai gives it: 1-based line, 1-based column in characters.
    pub line: usize,
    pub column: usize,
}

/// How a function is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// `name(a, b)`: a function of that name, whatever its parameters (a call with the wrong
    /// number of arguments is still a call its author meant; rhai reports it when it runs).
    Function,
    /// `x.name(a)` with `args` arguments (the object not counted): rhai calls a script function
    /// `name` of exactly `args` parameters with `this` bound to `x` when there is one, and a
    /// built-in method (`contains`, `len` …) otherwise.
    Method { args: usize },
    /// `Fn("name")`: a function pointer, called later with any number of arguments.
    Pointer,
}

impl RuleCall {
    /// Whether this call may run a script function `name` of `params` parameters.
    pub fn reaches(&self, name: &str, params: usize) -> bool {
        self.name == name
            && match self.kind {
                CallKind::Function | CallKind::Pointer => true,
                CallKind::Method { args } => args == params,
            }
    }
}

/// The calls of a rules file's source, in source order, compiled as the sandbox compiles it;
/// empty when it does not compile (its compile error is its diagnostic).
pub fn of_source(source: &str) -> Vec<RuleCall> {
    let engine = sandbox::build_engine(&RuleLimits::default());
    engine
        .compile(source)
        .map(|ast| of(&ast))
        .unwrap_or_default()
}

/// The calls of a compiled file, function bodies and closures included, in source order.
/// Operators (`a + b`, which rhai also represents as calls) are not calls.
pub fn of(ast: &AST) -> Vec<RuleCall> {
    let mut out = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(f, pos)) | ASTNode::Stmt(Stmt::FnCall(f, pos))) => {
                function_call(f, *pos, &mut out);
            }
            Some(ASTNode::Expr(Expr::MethodCall(f, pos))) => {
                push(
                    &mut out,
                    &f.name,
                    CallKind::Method { args: f.args.len() },
                    *pos,
                );
            }
            _ => {}
        }
        true
    });
    out.sort_by_key(|c| (c.line, c.column));
    out
}

fn function_call(f: &FnCallExpr, pos: Position, out: &mut Vec<RuleCall>) {
    if f.op_token.is_some() {
        return;
    }
    if f.name == "Fn" {
        // `Fn("helper")` names a function in a string: the one string that is a call.
        if let [Expr::StringConstant(name, at)] = f.args.as_slice() {
            push(out, name, CallKind::Pointer, *at);
        }
        return;
    }
    push(out, &f.name, CallKind::Function, pos);
}

fn push(out: &mut Vec<RuleCall>, name: &str, kind: CallKind, pos: Position) {
    out.push(RuleCall {
        name: name.to_string(),
        kind,
        line: pos.line().unwrap_or(0),
        column: pos.position().unwrap_or(0),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each source's calls as `name kind line:column`.
    #[test]
    fn calls_come_from_the_tree_with_their_line_and_column() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "a call, an operator",
                "fn f(x) {\n    helper(x) + 1\n}\n",
                &["helper fn 2:5"],
            ),
            (
                "a name in a line comment and in a block comment",
                "fn f(x) {\n    // helper(x)\n    /* other(x) */ x\n}\n",
                &[],
            ),
            (
                "a name in a string and in an interpolated string",
                "fn f(x) {\n    let s = \"helper(x)\";\n    let t = `other(${x})`;\n    s == t\n}\n",
                &[],
            ),
            (
                "a method call, its object not counted",
                "fn f(customer) {\n    customer.tags.contains(\"vip\") && customer.is_vip()\n}\n",
                &["contains method/1 2:19", "is_vip method/0 2:47"],
            ),
            (
                "a function pointer, at its string",
                "fn f(x) {\n    let g = Fn(\"helper\");\n    g.call(x)\n}\n",
                &["helper pointer 2:16", "call method/1 3:7"],
            ),
            (
                "a call inside a closure and a nested call",
                "fn f(xs) {\n    xs.filter(|x| big(small(x))).len() > 0\n}\n",
                &[
                    "filter method/1 2:8",
                    "big fn 2:19",
                    "small fn 2:23",
                    "len method/0 2:34",
                ],
            ),
            ("a file that does not compile", "fn f(x) {\n", &[]),
        ];
        for (what, source, expected) in cases {
            let got: Vec<String> = of_source(source)
                .iter()
                .map(|c| {
                    let kind = match c.kind {
                        CallKind::Function => "fn".to_string(),
                        CallKind::Method { args } => format!("method/{args}"),
                        CallKind::Pointer => "pointer".to_string(),
                    };
                    format!("{} {kind} {}:{}", c.name, c.line, c.column)
                })
                .collect();
            assert_eq!(got, *expected, "{what}");
        }
    }

    #[test]
    fn a_method_call_reaches_a_function_of_as_many_parameters_as_its_arguments() {
        let call = |kind| RuleCall {
            name: "h".into(),
            kind,
            line: 1,
            column: 1,
        };
        assert!(call(CallKind::Function).reaches("h", 3));
        assert!(call(CallKind::Pointer).reaches("h", 0));
        assert!(call(CallKind::Method { args: 1 }).reaches("h", 1));
        assert!(!call(CallKind::Method { args: 1 }).reaches("h", 2));
        assert!(!call(CallKind::Function).reaches("g", 2));
    }
}
