//! The rules of the standard scenario set (`stdlib-scenarios/rules/*.rhai`), called as the
//! runtime calls them: each rule with true and false cases and its boundary.
//!
//! Also guards the set as a whole: it checks clean (no error, no warning), and every template a
//! scenario names exists in French and English.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use relance_core::domain::{Customer, Invoice};
use relance_core::rules::{RuleArg, RuleInvoice, RuleSet, RuleValue};
use relance_core::scenario_set;
use rust_decimal::Decimal;

fn set_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib-scenarios")
}

fn rules() -> RuleSet {
    RuleSet::load_dir(&set_dir().join("rules")).expect("the stdlib rules compile")
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

fn invoice(amount: &str) -> Invoice {
    Invoice {
        id: "F-1".into(),
        customer: "ACME".into(),
        amount: dec(amount),
        currency: "EUR".into(),
        issued: date(2026, 3, 2),
        due: date(2026, 4, 1),
        outstanding: None,
        po_number: None,
        payment_terms: None,
        delivered_on: None,
        dunning: Default::default(),
        payment_means: None,
        late_interest_rate: None,
        installments: Vec::new(),
    }
}

fn customer(tags: &[&str]) -> Customer {
    let mut c = Customer::new("ACME");
    c.tags = tags.iter().map(|t| t.to_string()).collect();
    c
}

fn today() -> NaiveDate {
    date(2026, 4, 20)
}

/// The facts of `invoice` with the customer's totals set: what it owes over all its open
/// invoices, and its average invoice.
fn facts<'a>(invoice: &'a Invoice, outstanding: &str, average: &str) -> RuleInvoice<'a> {
    RuleInvoice {
        customer_outstanding: dec(outstanding),
        customer_average_invoice: dec(average),
        customer_open_invoices: 2,
        ..RuleInvoice::new(invoice, today())
    }
}

fn call_bool(
    rules: &RuleSet,
    name: &str,
    facts: &RuleInvoice,
    customer: &Customer,
    args: &[RuleArg],
) -> bool {
    match rules.call(name, facts, customer, args) {
        Ok(RuleValue::Bool(b)) => b,
        other => panic!("{name} returned {other:?}, expected a boolean"),
    }
}

// ----- the set -------------------------------------------------------------------------------

#[test]
fn the_rules_folder_defines_exactly_the_rules_the_scenarios_call() {
    let sigs: Vec<(String, usize)> = rules()
        .functions()
        .into_iter()
        .map(|f| (f.name, f.params))
        .collect();
    assert_eq!(
        sigs,
        vec![
            ("key_account".to_string(), 2),
            ("large_exposure".to_string(), 3),
            ("litigation_via_agency".to_string(), 2),
        ]
    );
}

#[test]
fn the_set_checks_clean_without_any_warning() {
    let set = scenario_set::load(&set_dir()).expect("the set loads");
    let compiled = set.compile();
    let found: Vec<String> = set
        .files
        .iter()
        .zip(&compiled.diagnostics)
        .flat_map(|(file, diags)| {
            diags
                .iter()
                .map(move |d| format!("{}: {} {}", file.path, d.code, d.message))
        })
        .collect();
    assert!(found.is_empty(), "diagnostics:\n{}", found.join("\n"));
    assert!(compiled.set.is_some());
}

#[test]
fn every_template_exists_in_french_and_english() {
    let dir = set_dir();
    let templates = dir.join("templates");
    let mut named = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("the set folder") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "relance") {
            let text = std::fs::read_to_string(&path).expect("a scenario file");
            for word in ["email \"", "sms \"", "letter \""] {
                for (i, _) in text.match_indices(word) {
                    let rest = &text[i + word.len()..];
                    named.insert(rest[..rest.find('"').expect("a closing quote")].to_string());
                }
            }
        }
    }
    assert!(named.len() >= 10, "templates found: {named:?}");
    for name in &named {
        for lang in ["fr", "en"] {
            let file = templates.join(format!("{name}.{lang}.txt"));
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|_| panic!("missing {}", file.display()));
            assert!(
                text.contains("{% for inv in invoices %}"),
                "{} lists no invoices",
                file.display()
            );
        }
    }
}

// ----- key_account ---------------------------------------------------------------------------

#[test]
fn key_account_by_tag() {
    let rules = rules();
    let inv = invoice("1200");
    let f = facts(&inv, "1200", "1200");
    assert!(call_bool(
        &rules,
        "key_account",
        &f,
        &customer(&["key-account"]),
        &[]
    ));
    assert!(call_bool(
        &rules,
        "key_account",
        &f,
        &customer(&["watch", "key-account"]),
        &[]
    ));
    assert!(!call_bool(&rules, "key_account", &f, &customer(&[]), &[]));
    // tags match exactly
    assert!(!call_bool(
        &rules,
        "key_account",
        &f,
        &customer(&["key-accounts"]),
        &[]
    ));
    assert!(!call_bool(
        &rules,
        "key_account",
        &f,
        &customer(&["Key-Account"]),
        &[]
    ));
}

#[test]
fn key_account_by_outstanding_from_100000() {
    let rules = rules();
    let inv = invoice("20000");
    let plain = customer(&[]);
    assert!(!call_bool(
        &rules,
        "key_account",
        &facts(&inv, "99999.99", "20000"),
        &plain,
        &[]
    ));
    assert!(call_bool(
        &rules,
        "key_account",
        &facts(&inv, "100000", "20000"),
        &plain,
        &[]
    ));
    assert!(call_bool(
        &rules,
        "key_account",
        &facts(&inv, "250000", "20000"),
        &plain,
        &[]
    ));
    // a lone invoice of 120 000: its own outstanding makes the customer a key account
    let big = invoice("120000");
    assert!(call_bool(
        &rules,
        "key_account",
        &RuleInvoice::new(&big, today()),
        &plain,
        &[]
    ));
}

// ----- large_exposure ------------------------------------------------------------------------

#[test]
fn large_exposure_is_strictly_above_factor_times_the_average() {
    let rules = rules();
    let inv = invoice("1000");
    let c = customer(&[]);
    let three = [RuleArg::Int(3)];
    assert!(!call_bool(
        &rules,
        "large_exposure",
        &facts(&inv, "2500", "1000"),
        &c,
        &three
    ));
    // boundary: exactly three times is not above
    assert!(!call_bool(
        &rules,
        "large_exposure",
        &facts(&inv, "3000", "1000"),
        &c,
        &three
    ));
    assert!(call_bool(
        &rules,
        "large_exposure",
        &facts(&inv, "3000.01", "1000"),
        &c,
        &three
    ));
    assert!(call_bool(
        &rules,
        "large_exposure",
        &facts(&inv, "4000", "1000"),
        &c,
        &three
    ));
}

#[test]
fn large_exposure_takes_a_decimal_factor() {
    let rules = rules();
    let inv = invoice("1000");
    let c = customer(&[]);
    let factor = [RuleArg::Decimal(dec("2.5"))];
    assert!(!call_bool(
        &rules,
        "large_exposure",
        &facts(&inv, "2500", "1000"),
        &c,
        &factor
    ));
    assert!(call_bool(
        &rules,
        "large_exposure",
        &facts(&inv, "2500.01", "1000"),
        &c,
        &factor
    ));
}

#[test]
fn large_exposure_is_false_for_a_lone_invoice() {
    // one open invoice: outstanding = average invoice, never above 3 times it
    let rules = rules();
    let inv = invoice("50000");
    let f = RuleInvoice::new(&inv, today());
    assert!(!call_bool(
        &rules,
        "large_exposure",
        &f,
        &customer(&[]),
        &[RuleArg::Int(3)]
    ));
    // …but above a factor under 1 (a partly paid history can make the average larger)
    assert!(call_bool(
        &rules,
        "large_exposure",
        &f,
        &customer(&[]),
        &[RuleArg::Decimal(dec("0.5"))]
    ));
}

#[test]
fn large_exposure_needs_its_factor() {
    let rules = rules();
    let inv = invoice("1000");
    let err = rules
        .call(
            "large_exposure",
            &RuleInvoice::new(&inv, today()),
            &customer(&[]),
            &[],
        )
        .expect_err("the factor is missing");
    assert!(err.to_string().contains("large_exposure"), "{err}");
}

// ----- litigation_via_agency -----------------------------------------------------------------

#[test]
fn litigation_route_by_amount_under_1500_goes_to_the_agency() {
    let rules = rules();
    let c = customer(&[]);
    for (amount, agency) in [
        ("150", true),
        ("1499.99", true),
        ("1500", false),
        ("1500.01", false),
        ("4000", false),
    ] {
        let inv = invoice(amount);
        let got = call_bool(
            &rules,
            "litigation_via_agency",
            &RuleInvoice::new(&inv, today()),
            &c,
            &[],
        );
        assert_eq!(got, agency, "amount {amount}");
    }
}

#[test]
fn litigation_route_follows_the_invoice_amount_not_the_outstanding() {
    // 4000 issued, 200 left after a partial payment: still the injunction route
    let rules = rules();
    let inv = invoice("4000");
    let f = RuleInvoice {
        outstanding: dec("200"),
        ..RuleInvoice::new(&inv, today())
    };
    assert!(!call_bool(
        &rules,
        "litigation_via_agency",
        &f,
        &customer(&[]),
        &[]
    ));
}

#[test]
fn litigation_route_forced_by_a_customer_tag() {
    let rules = rules();
    let big = invoice("4000");
    let small = invoice("800");
    let big_f = RuleInvoice::new(&big, today());
    let small_f = RuleInvoice::new(&small, today());
    assert!(call_bool(
        &rules,
        "litigation_via_agency",
        &big_f,
        &customer(&["litigation-agency"]),
        &[]
    ));
    assert!(!call_bool(
        &rules,
        "litigation_via_agency",
        &small_f,
        &customer(&["litigation-injunction"]),
        &[]
    ));
    // both tags: the agency tag is read first
    assert!(call_bool(
        &rules,
        "litigation_via_agency",
        &small_f,
        &customer(&["litigation-injunction", "litigation-agency"]),
        &[]
    ));
}
