//! The what-if timeline: one invoice run by the simulator from a day on, under the stdlib's
//! policy, its dated actions as the stdlib's own test expects them, drawn on the due-date axis.

use chrono::NaiveDate;
use relance_core::domain::{Customer, Event, Invoice};
use relance_core::interest::RateTable;
use relance_core::runtime::Shared;
use relance_pictures::{Lang, WhatIf, what_if};

use crate::svg::{aria_label, assert_accessible, elements, texts};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn acme() -> (Customer, Invoice) {
    let customer: Customer =
        serde_json::from_str(r#"{"id": "ACME", "name": "Acme SA", "segment": "b2b"}"#)
            .expect("customer");
    let invoice: Invoice = serde_json::from_str(
        r#"{"id": "F-1", "customer": "ACME", "amount": "1200", "currency": "EUR",
            "issued": "2026-03-02", "due": "2026-04-01"}"#,
    )
    .expect("invoice");
    (customer, invoice)
}

/// The what-if of [`acme`]'s invoice under the stdlib from 2026-03-20, given `events`.
fn plan(events: &[Event], lang: Lang) -> WhatIf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios");
    let (set, rules) = crate::ladder::compiled(&root);
    let shared = Shared {
        set: &set,
        rules: &rules,
        rates: RateTable::builtin(),
    };
    let (customer, invoice) = acme();
    what_if(shared, &customer, &invoice, events, d("2026-03-20"), lang)
}

#[test]
fn the_what_if_plans_the_standard_ladder_for_one_invoice() {
    let plan = plan(&[], Lang::En);
    crate::keep("what-if-standard-b2b", &plan.svg);
    let got: Vec<(String, i64, &str, &str)> = plan
        .actions
        .iter()
        .map(|a| {
            (
                a.date.to_string(),
                a.day,
                a.step.as_deref().unwrap_or(""),
                a.text.as_str(),
            )
        })
        .collect();
    // The dates of the stdlib's own test "a dispute holds the reminders", without the dispute.
    assert_eq!(
        &got[..5],
        [
            (
                "2026-03-27".into(),
                -5,
                "preventive",
                "email \"preventive\" to accounting"
            ),
            (
                "2026-04-06".into(),
                5,
                "reminder-1",
                "email \"reminder-1\" to accounting"
            ),
            (
                "2026-04-16".into(),
                15,
                "reminder-2",
                "email \"reminder-2\" to accounting cc sales"
            ),
            (
                "2026-04-23".into(),
                22,
                "call",
                "call accounting assign collector"
            ),
            (
                "2026-05-11".into(),
                40,
                "notice",
                "letter \"formal-notice\" to legal registered"
            ),
        ]
    );
    assert!(
        plan.actions
            .iter()
            .any(|a| a.channel == "escalate" && a.date == d("2026-05-26")),
        "the agency 15 days after the notice: {got:?}"
    );
    let title = "What if: invoice F-1 (due 2026-04-01)";
    assert_accessible(&plan.svg, title);
    let els = elements(&plan.svg);
    let markers = els
        .iter()
        .filter(|e| e.name == "circle" && e.attr("fill") == Some("#00795c"))
        .count();
    // One per action, and the legend's.
    assert_eq!(markers, plan.actions.len() + 1);
    let written = texts(&plan.svg);
    assert!(
        written.iter().any(|t| t == "from 2026-03-20"),
        "{written:?}"
    );
}

/// A paid invoice has nothing left to plan, and the picture says so.
#[test]
fn a_paid_invoice_plans_nothing() {
    let paid: Event = serde_json::from_str(
        r#"{"date": "2026-03-25", "type": "payment", "invoice": "F-1", "amount": "1200"}"#,
    )
    .expect("event");
    let plan = plan(&[paid], Lang::Fr);
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    let label = aria_label(&plan.svg);
    assert!(label.contains("rien de prévu"), "{label}");
}
