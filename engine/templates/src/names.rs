//! The names a template uses besides the context's variables: the filters it applies
//! (`{{ x | money }}`, `{% filter upper %}`) and the attributes it reads of a loop variable
//! (`{{ i.amount }}` in `{% for i in invoices %}`). They are found on minijinja's own tokens
//! (its `unstable_machinery` tokenizer), so strings and comments never count, and checked
//! against what exists: a filter against the environment the renderer builds (minijinja's
//! built-in filters and those of `filters::register`, the did-you-mean over
//! [`filters::NAMES`]), a loop variable's attributes against the context table (`invoices[i].…`
//! rows of `context::CONTEXT`).
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

/// A `{% for VAR in ROOT %}` loop over a list of the context whose items have documented
/// attributes (`invoices`).
struct Loop<'a> {
    var: &'a str,
    root: &'a str,
    attributes: Vec<&'static str>,
}

/// The unknown filters and loop-variable attributes of `text`, a template that parses in
/// `env` (the renderer's environment).
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
    let mut loops: Vec<Option<Loop<'_>>> = Vec::new();
    let mut out = Vec::new();
    let ident = |i: usize| match tokens.get(i) {
        Some((Token::Ident(name), span)) => Some((*name, *span)),
        _ => None,
    };
    for i in 0..tokens.len() {
        let after_block_start = i > 0 && matches!(tokens[i - 1].0, Token::BlockStart);
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
            Token::Ident("for") if after_block_start => loops.push(for_loop(&tokens, i)),
            Token::Ident("endfor") if after_block_start => {
                loops.pop();
            }
            // `VAR.attr` where VAR is a loop variable in scope (not `x.VAR.attr`).
            Token::Ident(var)
                if matches!(tokens.get(i + 1), Some((Token::Dot, _)))
                    && !(i > 0 && matches!(tokens[i - 1].0, Token::Dot)) =>
            {
                let Some((attr, span)) = ident(i + 2) else {
                    continue;
                };
                let Some(l) = loops.iter().rev().flatten().find(|l| l.var == *var) else {
                    continue;
                };
                if l.attributes.contains(&attr) {
                    continue;
                }
                let item = format!("{}[i]", l.root);
                let mut d = Diagnostic::new(
                    Code::UnknownTemplateVariable,
                    span,
                    format!(
                        "unknown attribute `{attr}` of `{var}`, an item of `{}`",
                        l.root
                    ),
                )
                .with_label(format!("not an attribute of `{item}`"));
                let best = closest(attr, l.attributes.iter().copied());
                d = match best {
                    Some(_) => d.with_did_you_mean(best),
                    None => d.with_help(format!(
                        "the items of `{}` have {}",
                        l.root,
                        quoted(&l.attributes)
                    )),
                };
                out.push(d);
            }
            _ => {}
        }
    }
    out
}

/// The loop opened by the `for` token at `at`: `Some` when it iterates a list of the context
/// whose items have documented attributes, with one loop variable.
fn for_loop<'a>(tokens: &[(Token<'a>, Span)], at: usize) -> Option<Loop<'a>> {
    let (Some(Token::Ident(var)), Some(Token::Ident("in")), Some(Token::Ident(root))) = (
        tokens.get(at + 1).map(|t| &t.0),
        tokens.get(at + 2).map(|t| &t.0),
        tokens.get(at + 3).map(|t| &t.0),
    ) else {
        return None;
    };
    // `invoices`, `invoices | sort(…)` or `invoices if …`; not `invoices[0].x` or `a.b`.
    if matches!(
        tokens.get(at + 4).map(|t| &t.0),
        Some(Token::Dot | Token::BracketOpen | Token::Comma)
    ) {
        return None;
    }
    let attributes = context::attributes(&format!("{root}[i]"));
    (!attributes.is_empty()).then_some(Loop {
        var,
        root,
        attributes,
    })
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
