//! The locale-aware filters, as tables of cases (French and English; zero, negative, large;
//! the first of the month), called directly and through a template.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;

use relance_templates::filters::{DateForm, date, money, number};
use relance_templates::{Variant, render};

const NNBSP: char = '\u{202f}';
const NBSP: char = '\u{a0}';

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

#[test]
fn money_in_french_and_english() {
    let cases: &[(&str, &str, &str, String)] = &[
        ("1761.59", "EUR", "fr", format!("1{NNBSP}761,59{NBSP}€")),
        ("1761.59", "EUR", "en", "€1,761.59".into()),
        ("0", "EUR", "fr", format!("0,00{NBSP}€")),
        ("0", "EUR", "en", "€0.00".into()),
        ("-12.5", "EUR", "fr", format!("-12,50{NBSP}€")),
        ("-12.5", "EUR", "en", "-€12.50".into()),
        (
            "1234567.891",
            "EUR",
            "fr",
            format!("1{NNBSP}234{NNBSP}567,89{NBSP}€"),
        ),
        ("1234567.891", "EUR", "en", "€1,234,567.89".into()),
        ("0.005", "EUR", "en", "€0.01".into()),
        ("40", "USD", "en", "$40.00".into()),
        ("40", "CHF", "en", format!("CHF{NBSP}40.00")),
        ("40", "CHF", "fr", format!("40,00{NBSP}CHF")),
    ];
    for (value, currency, lang, want) in cases {
        assert_eq!(
            &money(d(value), currency, lang),
            want,
            "{value} {currency} in {lang}"
        );
    }
}

#[test]
fn numbers_in_french_and_english() {
    let cases: &[(&str, &str, String)] = &[
        ("12.15", "fr", "12,15".into()),
        ("12.15", "en", "12.15".into()),
        ("40", "fr", "40".into()),
        ("0", "en", "0".into()),
        ("-3.5", "fr", "-3,5".into()),
        ("1234567.5", "fr", format!("1{NNBSP}234{NNBSP}567,5")),
        ("1234567.5", "en", "1,234,567.5".into()),
    ];
    for (value, lang, want) in cases {
        assert_eq!(&number(d(value), lang), want, "{value} in {lang}");
    }
}

#[test]
fn dates_long_and_short() {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    let cases: &[(&str, DateForm, &str, &str)] = &[
        ("2026-04-01", DateForm::Long, "fr", "1er avril 2026"),
        ("2026-04-01", DateForm::Long, "en", "1 April 2026"),
        ("2026-04-02", DateForm::Long, "fr", "2 avril 2026"),
        ("2026-12-31", DateForm::Long, "fr", "31 décembre 2026"),
        ("2026-12-31", DateForm::Long, "en", "31 December 2026"),
        ("2026-04-01", DateForm::Short, "fr", "01/04/2026"),
        ("2026-04-01", DateForm::Short, "en", "01/04/2026"),
    ];
    for (value, form, lang, want) in cases {
        assert_eq!(
            date(day(value), *form, lang),
            *want,
            "{value} {form:?} in {lang}"
        );
    }
}

#[test]
fn filters_take_the_language_of_the_variant() {
    let text = "{{ total | money }} {{ inv.outstanding | money(inv.currency) }} {{ today | date }} {{ today | date(\"short\") }} {{ rate | number }}";
    let vars = json!({
        "total": "1761.59", "currency": "EUR", "today": "2026-04-01", "rate": "12.15",
        "inv": {"outstanding": "-5", "currency": "USD"},
    });
    let variant = |language: &str| Variant {
        file: format!("t.{language}.txt"),
        text,
        language: language.into(),
        fallback_from: None,
    };
    assert_eq!(
        render(&variant("fr"), &vars).expect("fr"),
        format!("1{NNBSP}761,59{NBSP}€ -5,00{NBSP}$ 1er avril 2026 01/04/2026 12,15")
    );
    assert_eq!(
        render(&variant("en"), &vars).expect("en"),
        "€1,761.59 -$5.00 1 April 2026 01/04/2026 12.15"
    );
    let bad = render(
        &Variant {
            text: "line 1\n{{ today | date(\"medium\") }}",
            ..variant("en")
        },
        &vars,
    )
    .expect_err("unknown form");
    assert_eq!(bad.file, "t.en.txt");
    assert_eq!(bad.line, Some(2));
    assert!(
        bad.to_string()
            .starts_with("template templates/t.en.txt, line 2: "),
        "{bad}"
    );
}
