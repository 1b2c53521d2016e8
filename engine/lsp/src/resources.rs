//! The files a scenario names besides other scenarios: template files in `templates/` and
//! the rhai function behind a `rule("name")` in `rules/`.
//!
//! Read on demand (a definition or hover request), never cached. This module finds files and
//! places in them; it must not compile rules (the set's [`RuleSignature`]s already say which
//! file defines which function).

use std::path::{Path, PathBuf};

use relance_dsl::syntax::ast::Span;

use relance_core::rules::RuleSignature;

/// `templates/NAME.LANG.txt|html` files of a set folder, sorted.
pub fn template_files(root: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.join("templates")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let file = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let mut parts = file.rsplitn(3, '.');
            matches!((parts.next(), parts.next(), parts.next()), (Some(_), Some(_), Some(base)) if base == name)
        })
        .collect();
    out.sort();
    out
}

/// A rule function's definition: its file, text, and the span of its name there.
pub struct RuleDef {
    pub file: PathBuf,
    pub text: String,
    pub name: Option<Span>,
}

impl RuleDef {
    /// The definition's line, up to its `{` (`fn large_exposure(invoice, customer, limit)`).
    pub fn signature(&self) -> Option<&str> {
        let span = self.name?;
        let start = self.text[..span.start].rfind('\n').map_or(0, |i| i + 1);
        let end = self.text[span.start..]
            .find(['{', '\n'])
            .map_or(self.text.len(), |i| span.start + i);
        Some(self.text[start..end].trim())
    }
}

/// The files defining the public rule `name` (one per file; rhai overloads share a file).
pub fn rule_defs(rules: &[RuleSignature], name: &str) -> Vec<RuleDef> {
    let mut files: Vec<&str> = rules
        .iter()
        .filter(|r| r.name == name)
        .map(|r| r.file.as_str())
        .collect();
    files.dedup();
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let name = find_fn(&text, name);
            RuleDef {
                file: PathBuf::from(file),
                text,
                name,
            }
        })
        .collect()
}

/// The span of `name` in the first `fn name(` of a rhai text (not in a `//` comment).
pub fn find_fn(text: &str, name: &str) -> Option<Span> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for (at, _) in text.match_indices("fn") {
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        if text[..at].chars().next_back().is_some_and(ident) || text[line_start..at].contains("//")
        {
            continue;
        }
        let rest = &text[at + 2..];
        let trimmed = rest.trim_start();
        if trimmed.len() == rest.len() {
            continue;
        }
        let start = text.len() - trimmed.len();
        let after = trimmed.strip_prefix(name).map(str::trim_start);
        if after.is_some_and(|a| a.starts_with('(')) {
            return Some(Span::new(start, start + name.len()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_function_name_not_a_longer_one_nor_a_call() {
        let text = "// fn big\nfn bigger(invoice, customer) { big(1) }\nprivate fn big(invoice, customer, limit) {\n  true\n}\n";
        let span = find_fn(text, "big").unwrap();
        assert_eq!(&text[span.start..span.end], "big");
        assert!(
            text[..span.start].ends_with("private fn "),
            "not the comment, not `bigger`"
        );
        let def = RuleDef {
            file: PathBuf::new(),
            text: text.to_string(),
            name: Some(span),
        };
        assert_eq!(
            def.signature(),
            Some("private fn big(invoice, customer, limit)")
        );
        assert_eq!(find_fn(text, "small"), None);
    }
}
