//! The names a template uses besides the context's variables: the filters it applies
//! (`{{ x | money }}`, `{% filter upper %}`) and the attributes it reads of a loop variable
//! (`{{ i.amount }}` in `{% for i in invoices %}`), of an indexed item (`invoices[0].amount`),
//! of a group (`groupby`: `grouper`, `list`) and the attribute names list filters take as text
//! (`sort(attribute="due")`). They are found on minijinja's own tokens (its
//! `unstable_machinery` tokenizer), so strings and comments never count, and checked against
//! what exists: a filter against the environment the renderer builds (minijinja's built-in
//! filters and those of `filters::register`, the did-you-mean over [`filters::NAMES`]), an
//! item's attributes against the context table (`invoices[i].…` rows of `context::CONTEXT`).
//! Values are typed along the way (a context list, a slice or a sorted copy of it, one of its
//! items, a group, a group's list); a name bound by `set`, `with`, a macro or a loop over
//! anything else is unknown and hides an outer loop variable of the same name. What is not
//! known is never judged.
//!
//! This module reports diagnostics of a template that parses (`check` reports syntax errors
//! first); it must not render nor restate a list of filters or fields.

use std::collections::BTreeMap;

use minijinja::machinery::{Token, WhitespaceConfig, tokenize};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind};
use relance_dsl::suggest::closest;
use relance_dsl::syntax::ast::Span;
use relance_dsl::{Code, Diagnostic};

use crate::{context, filters};

/// What the checker knows of a value a template reads, from the context table and the
/// template's own loops.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ty {
    /// A path of the context not indexed yet (`customer`, `address.lines`): its dotted
    /// attributes are the variable checker's (`check::check_template`), not this module's.
    Path(String),
    /// An item of a context list whose items have documented attributes (`invoices[i]`),
    /// named by the list's path.
    Item(String),
    /// An item of a context list of plain values (`address.lines`): no attributes.
    Plain(String),
    /// A list of values of the inner type (a slice, a sorted or filtered list, a group's list).
    List(Box<Ty>),
    /// A group made by `groupby` over a list of items: `grouper` and `list`.
    Group(String),
    /// Anything else: never judged.
    Unknown,
}

/// The list filters whose result is the same list, items kept (`invoices | sort(…)`).
const SAME_LIST: &[&str] = &[
    "sort",
    "reverse",
    "unique",
    "list",
    "select",
    "reject",
    "selectattr",
    "rejectattr",
];
/// The filters that pick one item of a list.
const ONE_ITEM: &[&str] = &["first", "last", "min", "max"];
/// The filters whose first positional argument is an attribute of the items.
const ATTRIBUTE_FIRST: &[&str] = &["selectattr", "rejectattr", "groupby"];
/// The attributes of a `groupby` group.
const GROUP: &[&str] = &["grouper", "list"];

/// The names in scope: loop variables (typed), and names bound by `set`, `with` and macro
/// parameters (unknown, but they hide an outer loop variable of the same name).
struct Scopes {
    frames: Vec<Vec<(String, Ty)>>,
    /// The context's top-level variables (`context::roots`), computed once per template.
    roots: Vec<&'static str>,
}

impl Scopes {
    fn lookup(&self, name: &str) -> Option<&Ty> {
        self.frames
            .iter()
            .rev()
            .find_map(|f| f.iter().rev().find(|(n, _)| n == name).map(|(_, t)| t))
    }

    fn bind(&mut self, name: &str, ty: Ty) {
        if let Some(top) = self.frames.last_mut() {
            top.push((name.to_string(), ty));
        }
    }

    fn pop(&mut self) {
        if self.frames.len() > 1 {
            self.frames.pop();
        }
    }
}

/// The tokens of a template, with their byte spans.
type Tokens<'a> = [(Token<'a>, Span)];

/// The unknown filters, and the unknown attributes of loop variables and indexed items, of
/// `text`, a template that parses in `env` (the renderer's environment).
pub fn check(env: &Environment<'_>, text: &str) -> Vec<Diagnostic> {
    // A unit struct without minijinja's `custom_syntax` feature, a struct with it: `default()`
    // compiles either way.
    #[allow(clippy::default_constructed_unit_structs)]
    let syntax = SyntaxConfig::default();
    let mut tokens: Vec<(Token<'_>, Span)> = Vec::new();
    for t in tokenize(text, false, syntax, WhitespaceConfig::default()) {
        let Ok((token, span)) = t else { break };
        let span = Span::new(span.start_offset as usize, span.end_offset as usize);
        tokens.push((token, span));
    }
    let mut known: BTreeMap<&str, bool> = BTreeMap::new();
    let mut scopes = Scopes {
        frames: vec![Vec::new()],
        roots: context::roots(),
    };
    // A `for` loop's variables come into scope after its iterable (in its `if` clause and its
    // body, not in the list it iterates).
    let mut pending: Option<(usize, Vec<(String, Ty)>)> = None;
    let mut out = Vec::new();
    let ident = |i: usize| match tokens.get(i) {
        Some((Token::Ident(name), span)) => Some((*name, *span)),
        _ => None,
    };
    for i in 0..tokens.len() {
        if pending.as_ref().is_some_and(|(at, _)| i >= *at)
            && let Some((_, frame)) = pending.take()
        {
            scopes.frames.push(frame);
        }
        let previous = i.checked_sub(1).map(|p| &tokens[p].0);
        let after_block_start = matches!(previous, Some(Token::BlockStart));
        match &tokens[i].0 {
            // `| name` and `{% filter name %}`.
            Token::Pipe => {
                if let Some((name, span)) = ident(i + 1) {
                    filter(env, &mut known, name, span, &mut out);
                }
            }
            Token::Ident("filter") if after_block_start => {
                if let Some((name, span)) = ident(i + 1) {
                    filter(env, &mut known, name, span, &mut out);
                }
            }
            Token::Ident("for") if after_block_start => {
                let (frame, end) = for_loop(&tokens, i, &scopes, text);
                pending = Some((end, frame));
            }
            Token::Ident("endfor" | "endmacro" | "endwith") if after_block_start => scopes.pop(),
            Token::Ident(keyword @ ("macro" | "with")) if after_block_start => {
                scopes.frames.push(Vec::new());
                for name in bound_names(&tokens, i + 1, *keyword == "macro") {
                    scopes.bind(name, Ty::Unknown);
                }
            }
            Token::Ident("set") if after_block_start => {
                for name in bound_names(&tokens, i + 1, false) {
                    scopes.bind(name, Ty::Unknown);
                }
            }
            // The start of a value: a name not read as an attribute (`x.NAME`) nor a filter
            // (`| NAME`).
            Token::Ident(_) if !matches!(previous, Some(Token::Dot | Token::Pipe)) => {
                expression(&tokens, i, &scopes, text, &mut out);
            }
            _ => {}
        }
    }
    // A `for` loop's iterable is typed in its header, then read as a value: one report.
    out.sort_by_key(|d| d.span);
    out.dedup_by(|a, b| a.span == b.span && a.message == b.message);
    out
}

/// The names a `set` or `with` tag (the identifiers before `=`, or a block `set`'s name) or a
/// macro's parameters (`macro_params`) bind, from the token after the keyword.
fn bound_names<'a>(tokens: &Tokens<'a>, from: usize, macro_params: bool) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut k = from;
    if macro_params {
        // `{% macro name(a, b=1) %}`: the parameters are inside the parentheses.
        k += 2;
    }
    let mut depth = 0usize;
    let mut expect_name = true;
    while let Some((t, _)) = tokens.get(k) {
        match t {
            Token::BlockEnd => break,
            Token::ParenOpen | Token::BracketOpen | Token::BraceOpen => depth += 1,
            Token::ParenClose | Token::BracketClose | Token::BraceClose => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            Token::Comma if depth == 0 => expect_name = true,
            Token::Ident(name) if expect_name && depth == 0 => {
                // `set ns.attr = …` assigns an attribute: it binds nothing.
                if !matches!(tokens.get(k + 1), Some((Token::Dot, _))) {
                    out.push(*name);
                }
                expect_name = false;
            }
            _ => expect_name = false,
        }
        k += 1;
    }
    out
}

/// The variables a `{% for … in … %}` tag at `at` binds, typed from its iterable, and the
/// index of the first token after the iterable (where they come into scope).
fn for_loop(
    tokens: &Tokens<'_>,
    at: usize,
    scopes: &Scopes,
    text: &str,
) -> (Vec<(String, Ty)>, usize) {
    let mut targets = Vec::new();
    let mut k = at + 1;
    while let Some((t, _)) = tokens.get(k) {
        match t {
            Token::Ident("in") => break,
            Token::Ident(name) => targets.push(*name),
            Token::Comma | Token::ParenOpen | Token::ParenClose => {}
            _ => break,
        }
        k += 1;
    }
    // The iterable's type; its own diagnostics are reported when it is read as a value.
    let mut reported_later = Vec::new();
    let (ty, end) = if matches!(tokens.get(k + 1), Some((Token::Ident(_), _))) {
        expression(tokens, k + 1, scopes, text, &mut reported_later)
    } else {
        (Ty::Unknown, k + 1)
    };
    let frame = match (targets.as_slice(), element(&ty)) {
        ([var], item) => vec![(var.to_string(), item)],
        // `{% for currency, items in invoices | groupby("currency") %}`.
        ([key, list], Ty::Group(root)) => vec![
            (key.to_string(), Ty::Unknown),
            (list.to_string(), Ty::List(Box::new(Ty::Item(root)))),
        ],
        // Anything else binds names of unknown type, which hide outer ones.
        (vars, _) => vars.iter().map(|v| (v.to_string(), Ty::Unknown)).collect(),
    };
    (frame, end)
}

/// The type of a list of the context, by path (`invoices`, `address.lines`); `Unknown` for a
/// path that is not a list.
fn context_list(path: &str) -> Ty {
    let is_list = context::CONTEXT
        .iter()
        .any(|v| v.ty == "list" && v.names.contains(&path));
    if !is_list {
        return Ty::Unknown;
    }
    if context::attributes(&format!("{path}[i]")).is_empty() {
        Ty::List(Box::new(Ty::Plain(path.to_string())))
    } else {
        Ty::List(Box::new(Ty::Item(path.to_string())))
    }
}

/// A context path read as a value (indexed, iterated, filtered) is its list type.
fn resolved(ty: Ty) -> Ty {
    match ty {
        Ty::Path(p) => context_list(&p),
        other => other,
    }
}

/// What iterating a value gives.
fn element(ty: &Ty) -> Ty {
    match resolved(ty.clone()) {
        Ty::List(inner) => *inner,
        _ => Ty::Unknown,
    }
}

/// Types the value that starts at the identifier `at` (`inv.amount`, `invoices[0].number`,
/// `invoices | sort(attribute="due")`), reporting the unknown attributes it reads of items,
/// groups and lists, and returns its type and the index of the first token after it.
fn expression(
    tokens: &Tokens<'_>,
    at: usize,
    scopes: &Scopes,
    text: &str,
    out: &mut Vec<Diagnostic>,
) -> (Ty, usize) {
    let Some((Token::Ident(name), first)) = tokens.get(at) else {
        return (Ty::Unknown, at + 1);
    };
    let mut ty = match scopes.lookup(name) {
        Some(t) => t.clone(),
        None if scopes.roots.contains(name) => Ty::Path((*name).to_string()),
        None => Ty::Unknown,
    };
    let mut k = at + 1;
    loop {
        match tokens.get(k).map(|t| &t.0) {
            Some(Token::Dot) => {
                let Some((Token::Ident(attr), span)) = tokens.get(k + 1) else {
                    return (Ty::Unknown, k);
                };
                // A method call (`line.upper()`) is not an attribute read.
                if matches!(tokens.get(k + 2), Some((Token::ParenOpen, _))) {
                    ty = Ty::Unknown;
                } else {
                    let subject = &text[first.start..tokens[k - 1].1.end];
                    ty = attribute(ty, subject, attr, *span, out);
                }
                k += 2;
            }
            Some(Token::BracketOpen) => {
                let Some(close) = matching(tokens, k) else {
                    return (Ty::Unknown, k);
                };
                let slice = (k + 1..close).any(|j| matches!(tokens[j].0, Token::Colon));
                let by_name = matches!(
                    tokens.get(k + 1).map(|t| &t.0),
                    Some(Token::Str(_) | Token::String(_))
                );
                ty = match resolved(ty) {
                    Ty::List(inner) if slice => Ty::List(inner),
                    Ty::List(inner) if !by_name => *inner,
                    _ => Ty::Unknown,
                };
                k = close + 1;
            }
            _ => break,
        }
    }
    // A filter pipeline: `| sort(attribute="due") | first`.
    while let (Some((Token::Pipe, _)), Some((Token::Ident(filter), _))) =
        (tokens.get(k), tokens.get(k + 1))
    {
        let args = match tokens.get(k + 2) {
            Some((Token::ParenOpen, _)) => matching(tokens, k + 2).map(|c| (k + 3, c)),
            _ => None,
        };
        let list = resolved(ty);
        if let (Ty::List(item), Some((from, to))) = (&list, args)
            && let Ty::Item(root) = item.as_ref()
        {
            attribute_arguments(tokens, filter, root, from, to, out);
        }
        ty = match list {
            Ty::List(_) if SAME_LIST.contains(filter) => list,
            Ty::List(inner) if ONE_ITEM.contains(filter) => *inner,
            Ty::List(inner) if *filter == "groupby" => match *inner {
                Ty::Item(root) => Ty::List(Box::new(Ty::Group(root))),
                _ => Ty::Unknown,
            },
            Ty::List(inner) if matches!(*filter, "batch" | "slice") => {
                Ty::List(Box::new(Ty::List(inner)))
            }
            _ => Ty::Unknown,
        };
        k = args.map_or(k + 2, |(_, close)| close + 1);
    }
    (ty, k)
}

/// The index of the bracket that closes the one at `open`, within the same tag.
fn matching(tokens: &Tokens<'_>, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, (t, _)) in tokens.iter().enumerate().skip(open) {
        match t {
            Token::BracketOpen | Token::ParenOpen | Token::BraceOpen => depth += 1,
            Token::BracketClose | Token::ParenClose | Token::BraceClose => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(j);
                }
            }
            Token::VariableEnd | Token::BlockEnd => return None,
            _ => {}
        }
    }
    None
}

/// Reads `attr` of a value of type `ty` written `subject`: reports an attribute that the items
/// of its list, a group or a list do not have, and returns the attribute's type.
fn attribute(ty: Ty, subject: &str, attr: &str, span: Span, out: &mut Vec<Diagnostic>) -> Ty {
    let unknown = |what: String, label: String| {
        Diagnostic::new(
            Code::UnknownTemplateVariable,
            span,
            format!("unknown attribute `{attr}` of `{subject}`, {what}"),
        )
        .with_label(label)
    };
    match ty {
        Ty::Path(p) => Ty::Path(format!("{p}.{attr}")),
        Ty::Item(root) => {
            let attributes = context::attributes(&format!("{root}[i]"));
            if !attributes.contains(&attr) {
                let d = unknown(
                    format!("an item of `{root}`"),
                    format!("not an attribute of `{root}[i]`"),
                );
                out.push(match closest(attr, attributes.iter().copied()) {
                    Some(best) => d.with_did_you_mean(Some(best)),
                    None => d.with_help(format!(
                        "the items of `{root}` have {}",
                        quoted(&attributes)
                    )),
                });
                return Ty::Unknown;
            }
            // A list attribute of the items (`inv.installments`) is a context list itself.
            context_list(&format!("{root}[i].{attr}"))
        }
        Ty::Group(root) => match attr {
            "list" => Ty::List(Box::new(Ty::Item(root))),
            "grouper" => Ty::Unknown,
            _ => {
                let d = unknown(
                    format!("a group of `{root}` made by `groupby`"),
                    "a group has `grouper` and `list`".to_string(),
                );
                out.push(match closest(attr, GROUP.iter().copied()) {
                    Some(best) => d.with_did_you_mean(Some(best)),
                    None => d.with_help(
                        "a group has `grouper` (the value its items share) and `list` (its items)",
                    ),
                });
                Ty::Unknown
            }
        },
        Ty::Plain(root) => {
            out.push(
                unknown(
                    format!("an item of `{root}`"),
                    format!("the items of `{root}` have no attributes"),
                )
                .with_help(format!("write `{{{{ {subject} }}}}` for the item itself")),
            );
            Ty::Unknown
        }
        Ty::List(_) => {
            out.push(
                unknown("a list".to_string(), "a list has no attributes".to_string()).with_help(
                    format!(
                        "loop over it (`{{% for x in {subject} %}}`) or index it (`{subject}[0].{attr}`)"
                    ),
                ),
            );
            Ty::Unknown
        }
        Ty::Unknown => Ty::Unknown,
    }
}

/// Checks the attribute names a list filter takes as text (`sort(attribute="due")`,
/// `selectattr("outstanding")`, `groupby("currency")`) against the items of `root`; the tokens
/// `from..to` are the arguments inside the parentheses. A dotted name (`due.year`) is checked
/// on its first part.
fn attribute_arguments(
    tokens: &Tokens<'_>,
    filter: &str,
    root: &str,
    from: usize,
    to: usize,
    out: &mut Vec<Diagnostic>,
) {
    let mut named = Vec::new();
    if ATTRIBUTE_FIRST.contains(&filter)
        && from < to
        && let Some((Token::Str(s), span)) = tokens.get(from)
    {
        named.push((*s, *span));
    }
    for j in from..to.saturating_sub(2) {
        if let (Token::Ident("attribute"), Token::Assign, Token::Str(s)) =
            (&tokens[j].0, &tokens[j + 1].0, &tokens[j + 2].0)
        {
            named.push((*s, tokens[j + 2].1));
        }
    }
    let attributes = context::attributes(&format!("{root}[i]"));
    for (name, span) in named {
        let first = name.split('.').next().unwrap_or(name);
        if attributes.contains(&first) {
            continue;
        }
        // The literal's span starts at its quote.
        let start = span.start + 1;
        let d = Diagnostic::new(
            Code::UnknownTemplateVariable,
            Span::new(start, start + first.len()),
            format!("unknown attribute `{first}` of the items of `{root}`, in `{filter}`"),
        )
        .with_label(format!("not an attribute of `{root}[i]`"));
        out.push(match closest(first, attributes.iter().copied()) {
            Some(best) => d.with_did_you_mean(Some(best)),
            None => d.with_help(format!(
                "the items of `{root}` have {}",
                quoted(&attributes)
            )),
        });
    }
}

/// Reports `name` when the environment has no such filter.
fn filter<'a>(
    env: &Environment<'_>,
    known: &mut BTreeMap<&'a str, bool>,
    name: &'a str,
    span: Span,
    out: &mut Vec<Diagnostic>,
) {
    let exists = *known.entry(name).or_insert_with(|| has_filter(env, name));
    if exists {
        return;
    }
    let best = closest(name, filters::NAMES);
    let d = Diagnostic::new(
        Code::UnknownTemplateFilter,
        span,
        format!("unknown template filter `{name}`"),
    )
    .with_label("no such filter");
    out.push(match best {
        Some(_) => d.with_did_you_mean(best),
        None => d.with_help(format!(
            "the filters of Relance are {}, besides minijinja's built-in ones (`upper`, `default` …)",
            quoted(&filters::NAMES)
        )),
    });
}

/// Whether the environment knows a filter `name`: asked of minijinja itself, which looks a
/// filter up before calling it.
fn has_filter(env: &Environment<'_>, name: &str) -> bool {
    let Ok(expr) = env.compile_expression_owned(format!("none | {name}")) else {
        return true;
    };
    !matches!(expr.eval(()), Err(e) if e.kind() == ErrorKind::UnknownFilter)
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
