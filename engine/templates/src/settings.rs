//! The set's template settings, `templates/templates.toml`: the languages the set's
//! templates are written in, and the order of the languages to fall back on when a message's
//! language has no variant.
//!
//! ```toml
//! languages = ["fr", "en"]
//! fallback = ["en"]
//! ```
//!
//! No file, or no `fallback`, means no fallback: a message in a language its template lacks
//! is a dead letter. The file is one of the set's templates for a deployment (it is pinned
//! with them). This module parses and validates the file; it must not look templates up.

use serde::Deserialize;

use relance_dsl::syntax::ast::Span;

/// The settings file's name in `templates/`.
pub const SETTINGS_FILE: &str = "templates.toml";

/// The parsed settings; `Settings::default()` when the set has no file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The languages every template a scenario uses must exist in (`fr`, `en`).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Languages tried in order when a message's language has no variant.
    #[serde(default)]
    pub fallback: Vec<String>,
}

/// A problem of the settings file, with the byte span it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub message: String,
    pub span: Span,
}

impl Settings {
    /// Parses and validates the text of `templates.toml`.
    pub fn parse(text: &str) -> Result<Settings, Vec<SettingsError>> {
        let settings: Settings = toml::from_str(text).map_err(|e| {
            let span = e
                .span()
                .map_or(Span::new(0, 0), |r| Span::new(r.start, r.end));
            vec![SettingsError {
                message: e.message().to_string(),
                span,
            }]
        })?;
        let mut errors = Vec::new();
        let place = |key: &str, value: &str| -> Span {
            // The quoted value inside the key's array: the first `"value"` after `key`.
            let from = text.find(key).unwrap_or(0);
            let needle = format!("\"{value}\"");
            text[from..]
                .find(&needle)
                .map_or(Span::new(from, from + key.len()), |i| {
                    Span::new(from + i, from + i + needle.len())
                })
        };
        for lang in &settings.languages {
            if !is_language(lang) {
                errors.push(SettingsError {
                    message: format!("`{lang}` is not a language code (`fr`, `en`, `pt-BR`)"),
                    span: place("languages", lang),
                });
            }
        }
        for lang in &settings.fallback {
            if !settings.languages.contains(lang) {
                errors.push(SettingsError {
                    message: format!(
                        "fallback language `{lang}` is not one of the set's `languages`"
                    ),
                    span: place("fallback", lang),
                });
            }
        }
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(errors)
        }
    }

    /// The settings of a set's templates (keyed by file name): parsed from `templates.toml`
    /// if there is one, else the default (no declared language, no fallback).
    pub fn of(
        templates: &std::collections::BTreeMap<String, String>,
    ) -> Result<Settings, Vec<SettingsError>> {
        templates
            .get(SETTINGS_FILE)
            .map_or_else(|| Ok(Settings::default()), |t| Settings::parse(t.as_str()))
    }
}

/// A BCP 47 language tag as far as a file name needs it: letters, digits and `-`.
fn is_language(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
