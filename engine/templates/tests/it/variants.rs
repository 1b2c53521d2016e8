//! Finding a template's variant: the message's language, then only the declared fallback;
//! no declaration means no fallback. And the settings file's own errors.

use std::collections::BTreeMap;

use relance_templates::{Settings, find};

fn set(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_messages_language_first() {
    let t = set(&[("r.fr.txt", "fr"), ("r.en.html", "en")]);
    let s =
        Settings::parse("languages = [\"fr\", \"en\"]\nfallback = [\"en\"]\n").expect("settings");
    let v = find(&t, &s, "r", "fr").expect("fr");
    assert_eq!(
        (v.file.as_str(), v.text, v.fallback_from),
        ("r.fr.txt", "fr", None)
    );
    let v = find(&t, &s, "r", "en").expect("en");
    assert_eq!(v.file, "r.en.html");
}

#[test]
fn a_declared_fallback_is_used_and_said() {
    let t = set(&[("r.fr.txt", "fr"), ("r.en.txt", "en")]);
    let s =
        Settings::parse("languages = [\"fr\", \"en\"]\nfallback = [\"en\"]\n").expect("settings");
    let v = find(&t, &s, "r", "de").expect("fallback");
    assert_eq!(v.file, "r.en.txt");
    assert_eq!(v.language, "en");
    assert_eq!(v.fallback_from.as_deref(), Some("de"));
}

#[test]
fn no_declaration_means_no_fallback() {
    let t = set(&[("r.fr.txt", "fr"), ("r.en.txt", "en")]);
    let err = find(&t, &Settings::default(), "r", "de").expect_err("no fallback");
    assert_eq!(
        err.to_string(),
        "no template `r` in language `de` (no file templates/r.de.txt or .html), and the set declares no fallback language (templates/templates.toml)"
    );
    let s =
        Settings::parse("languages = [\"fr\", \"en\"]\nfallback = [\"en\"]\n").expect("settings");
    let err = find(&set(&[("r.fr.txt", "fr")]), &s, "r", "de").expect_err("fallback missing too");
    assert_eq!(
        err.to_string(),
        "no template `r` in language `de` (no file templates/r.de.txt or .html), nor in its fallback language(s) en"
    );
}

#[test]
fn settings_errors_name_the_place() {
    let text = "languages = [\"fr\"]\nfallback = [\"en\"]\n";
    let errs = Settings::parse(text).expect_err("en not declared");
    assert_eq!(errs.len(), 1);
    assert_eq!(&text[errs[0].span.start..errs[0].span.end], "\"en\"");
    assert!(errs[0].message.contains("`en`"), "{}", errs[0].message);
    let errs = Settings::parse("langages = [\"fr\"]\n").expect_err("unknown key");
    assert!(errs[0].message.contains("langages"), "{}", errs[0].message);
    assert_eq!(errs[0].span.start, 0);
}
