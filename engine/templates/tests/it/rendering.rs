//! Rendering: Jinja2's reading of a unary minus, and errors that name the template file and
//! line (what a dead letter says).

use serde_json::json;

use relance_templates::render::jinja2_unary_minus;
use relance_templates::{Variant, render};

fn variant(text: &str) -> Variant<'_> {
    Variant {
        file: "reminder-1.fr.txt".into(),
        text,
        language: "fr".into(),
        fallback_from: None,
    }
}

#[test]
fn unary_minus_binds_like_jinja2() {
    assert_eq!(
        jinja2_unary_minus("in {{ -inv.days_late }} days, {{ a - b }}"),
        "in {{ -(inv.days_late) }} days, {{ a - b }}"
    );
    assert_eq!(jinja2_unary_minus("-x {{ 3 -x }}"), "-x {{ 3 -x }}");
    let vars = json!({"inv": {"days_late": -5}});
    assert_eq!(
        render(&variant("{{ -inv.days_late }}"), &vars).as_deref(),
        Ok("5")
    );
}

#[test]
fn a_broken_template_names_its_file_and_line() {
    let err = render(
        &variant("Subject: x\n\nBonjour {{ customer.name }\n"),
        &json!({}),
    )
    .expect_err("syntax error");
    assert_eq!(err.file, "reminder-1.fr.txt");
    assert_eq!(err.line, Some(3));
    let text = err.to_string();
    assert!(
        text.starts_with("template templates/reminder-1.fr.txt, line 3: syntax error"),
        "{text}"
    );
    assert!(!text.contains("<string>"), "{text}");
}
