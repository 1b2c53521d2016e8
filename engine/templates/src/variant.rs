//! Finding the variant of a template for a message: the file `NAME.LANG.txt` (or `.html`)
//! in the message's language, else in the set's declared fallback languages in order
//! (`templates.toml`), else nothing: there is no implicit fallback.
//!
//! This module only chooses a file; it must not render it.

use std::collections::BTreeMap;

use crate::settings::Settings;

/// The file extensions of a template, in the order they are tried.
pub const EXTENSIONS: [&str; 2] = ["txt", "html"];

/// `(name, language, extension)` of a template file name (`reminder-1.fr.txt`); `None` for
/// any other file (the settings file included).
pub fn parse_file_name(file: &str) -> Option<(&str, &str, &str)> {
    let (rest, ext) = file.rsplit_once('.')?;
    let (name, lang) = rest.rsplit_once('.')?;
    (EXTENSIONS.contains(&ext) && !name.is_empty() && !lang.is_empty()).then_some((name, lang, ext))
}

/// The variant chosen for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant<'t> {
    /// The file name (`reminder-1.en.txt`).
    pub file: String,
    pub text: &'t str,
    /// The language of the variant: the message's language, or a fallback's.
    pub language: String,
    /// The language asked for, when the variant is a fallback's.
    pub fallback_from: Option<String>,
}

/// No variant for a message: the template and the languages tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct Missing {
    pub template: String,
    pub language: String,
    /// The declared fallback languages, tried in order after `language`.
    pub fallback: Vec<String>,
}

impl Missing {
    fn describe(&self) -> String {
        let mut s = format!(
            "no template `{}` in language `{}` (no file templates/{}.{}.txt or .html)",
            self.template, self.language, self.template, self.language
        );
        if self.fallback.is_empty() {
            s.push_str(", and the set declares no fallback language (templates/templates.toml)");
        } else {
            s.push_str(&format!(
                ", nor in its fallback language(s) {}",
                self.fallback.join(", ")
            ));
        }
        s
    }
}

fn exact<'t>(
    templates: &'t BTreeMap<String, String>,
    name: &str,
    lang: &str,
) -> Option<(String, &'t str)> {
    EXTENSIONS.iter().find_map(|ext| {
        let file = format!("{name}.{lang}.{ext}");
        templates.get(&file).map(|t| (file, t.as_str()))
    })
}

/// The variant of template `name` for a message in `language`.
pub fn find<'t>(
    templates: &'t BTreeMap<String, String>,
    settings: &Settings,
    name: &str,
    language: &str,
) -> Result<Variant<'t>, Missing> {
    if let Some((file, text)) = exact(templates, name, language) {
        return Ok(Variant {
            file,
            text,
            language: language.to_string(),
            fallback_from: None,
        });
    }
    for lang in &settings.fallback {
        if let Some((file, text)) = exact(templates, name, lang) {
            return Ok(Variant {
                file,
                text,
                language: lang.clone(),
                fallback_from: Some(language.to_string()),
            });
        }
    }
    Err(Missing {
        template: name.to_string(),
        language: language.to_string(),
        fallback: settings.fallback.clone(),
    })
}

/// The languages template `name` has a file in.
pub fn languages_of<'t>(templates: &'t BTreeMap<String, String>, name: &str) -> Vec<&'t str> {
    let mut out: Vec<&str> = templates
        .keys()
        .filter_map(|f| parse_file_name(f))
        .filter(|(n, _, _)| *n == name)
        .map(|(_, l, _)| l)
        .collect();
    out.dedup();
    out
}
