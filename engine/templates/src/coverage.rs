//! What the set's templates cover, where a mistake would otherwise pass as healthy: a
//! `templates/` folder without `templates.toml` (no language declared, so no variant is ever
//! reported missing and nothing falls back), a template no scenario sends, and a declared
//! language without any template (warnings W0501–W0503).
//!
//! Called by `check::check_set` only (so `relance check`, a deployment and the language server
//! report the same). This module reports; it must not check a template's text (`check`,
//! `names` do) nor choose a variant.

use std::collections::{BTreeMap, BTreeSet};

use relance_dsl::syntax::ast::Span;
use relance_dsl::{Code, Diagnostic};

use crate::check::{FileDiagnostics, Use};
use crate::settings::{SETTINGS_FILE, Settings};
use crate::variant::parse_file_name;

/// Adds the coverage warnings to the files of `checked` (every file of `templates`, sorted by
/// name, the settings file included when there is one). `uses`: the templates the scenarios
/// send, `None` when a scenario does not parse (no template is then called unused).
pub fn check(
    templates: &BTreeMap<String, String>,
    settings: &Settings,
    uses: Option<&[Use]>,
    checked: &mut [FileDiagnostics],
) {
    let files: Vec<(&str, &str, &str)> = templates
        .keys()
        .filter_map(|f| {
            let (name, lang, _) = parse_file_name(f)?;
            Some((f.as_str(), name, lang))
        })
        .collect();
    let Some(&(first, _, _)) = files.first() else {
        return;
    };
    let mut push = |file: &str, d: Diagnostic| {
        if let Some(f) = checked.iter_mut().find(|f| f.file == file) {
            f.diagnostics.push(d);
            f.diagnostics.sort_by_key(|d| d.span);
        }
    };
    let first_line = |file: &str| {
        let text = templates.get(file).map_or("", String::as_str);
        Span::new(0, text.find('\n').unwrap_or(text.len()))
    };

    if !templates.contains_key(SETTINGS_FILE) {
        push(
            first,
            Diagnostic::new(
                Code::TemplatesWithoutSettings,
                first_line(first),
                "templates/ has no templates.toml: the set declares no language",
            )
            .with_label("no template is checked for a missing language")
            .with_help(
                "add templates/templates.toml with the languages of your customers \
                 (`languages = [\"fr\", \"en\"]`): a template missing in one of them is then an \
                 error, not a message that never goes out; add `fallback = [\"en\"]` only if a \
                 customer may get another language's variant",
            ),
        );
    }

    let used: Option<BTreeSet<&str>> = uses.map(|u| u.iter().map(|u| u.name.as_str()).collect());
    for &(file, name, _) in &files {
        if used.as_ref().is_some_and(|used| !used.contains(name)) {
            push(
                file,
                Diagnostic::new(
                    Code::UnusedTemplate,
                    first_line(file),
                    format!("template `{name}` is not sent by any scenario of the set"),
                )
                .with_label("never used")
                .with_help(format!(
                    "a scenario sends it with `email \"{name}\" to …` (or `letter`, `sms`); \
                     check the name in the scenario, or remove the file if it is obsolete"
                )),
            );
        }
    }

    if let Some(text) = templates.get(SETTINGS_FILE) {
        let written: BTreeSet<&str> = files.iter().map(|&(_, _, lang)| lang).collect();
        for lang in &settings.languages {
            if written.contains(lang.as_str()) {
                continue;
            }
            push(
                SETTINGS_FILE,
                Diagnostic::new(
                    Code::LanguageWithoutTemplates,
                    language_span(text, lang),
                    format!("language `{lang}` is declared but no template is written in it"),
                )
                .with_label(format!("no templates/*.{lang}.txt or .html"))
                .with_help(format!(
                    "write the templates in `{lang}` (each one a scenario uses is then checked), \
                     or remove `{lang}` from `languages`"
                )),
            );
        }
    }
}

/// The span of `"lang"` in the `languages` array of the settings text (the array's key when
/// not found).
fn language_span(text: &str, lang: &str) -> Span {
    let from = text.find("languages").unwrap_or(0);
    let needle = format!("\"{lang}\"");
    match text[from..].find(&needle) {
        Some(i) => Span::new(from + i, from + i + needle.len()),
        None => Span::new(from, from + "languages".len().min(text.len() - from)),
    }
}
