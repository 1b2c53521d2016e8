//! Rendering a template variant with a message's context: one minijinja environment per
//! message language (the filters of `filters` bound to the variant's language), the template
//! named by its file so an error names `templates/FILE` and its line.
//!
//! This module renders text; it must not choose the variant (`variant`) nor build the
//! context (the daemon does), nor split a subject line off (the channel's business).

use minijinja::Environment;

use crate::filters;
use crate::variant::Variant;

/// A template that failed to render, naming its file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template templates/{file}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct RenderError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// The environment templates are parsed and rendered in, for messages in `language`.
pub fn environment(language: &str) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_debug(true);
    filters::register(&mut env, language);
    env
}

/// What a minijinja error says, without its location (the caller names file and line).
pub(crate) fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// Renders `variant` with the context `vars`, in the variant's language.
pub fn render(variant: &Variant<'_>, vars: &serde_json::Value) -> Result<String, RenderError> {
    let env = environment(&variant.language);
    let text = jinja2_unary_minus(variant.text);
    let error = |e: minijinja::Error| RenderError {
        file: variant.file.clone(),
        line: e.line(),
        message: describe(&e),
    };
    let template = env
        .template_from_named_str(&variant.file, &text)
        .map_err(error)?;
    template.render(vars).map_err(error)
}

/// Jinja2 compatibility: minijinja reads `-inv.days_late` as `(-inv).days_late`, Jinja2 (and
/// the templates' README) as `-(inv.days_late)`. Inside `{{ }}` and `{% %}`, a unary minus
/// before a dotted name gets explicit parentheses. Lines are kept, so an error's line is the
/// file's.
pub fn jinja2_unary_minus(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_expr = false;
    let mut i = 0;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        if !in_expr && (text[i..].starts_with("{{") || text[i..].starts_with("{%")) {
            in_expr = true;
            out.push_str(&text[i..i + 2]);
            i += 2;
            continue;
        }
        if in_expr && (text[i..].starts_with("}}") || text[i..].starts_with("%}")) {
            in_expr = false;
            out.push_str(&text[i..i + 2]);
            i += 2;
            continue;
        }
        if in_expr
            && b[i] == b'-'
            && b.get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        {
            let prev = text[..i].trim_end().bytes().last();
            if prev.is_some_and(|p| b"{%(,[=+*/:~".contains(&p)) {
                let mut j = i + 1;
                while j < b.len()
                    && (ident(b[j]) || (b[j] == b'.' && b.get(j + 1).is_some_and(|c| ident(*c))))
                {
                    j += 1;
                }
                out.push_str("-(");
                out.push_str(&text[i + 1..j]);
                out.push(')');
                i = j;
                continue;
            }
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}
