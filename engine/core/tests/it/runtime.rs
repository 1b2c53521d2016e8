//! The transition function and its helpers against the semantic rules that hold whatever the
//! driver: a handler sees the customer totals after its event, customer totals count one
//! currency, an amount tolerance applies in its currency only. The whole engine on a virtual
//! clock is tested in relance-sim (`tests/it/semantics/`); these tests call relance-core alone,
//! with hand-made facts, and must not depend on a driver.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;

use relance_core::domain::{Customer, EventKind, Invoice};
use relance_core::interest::RateTable;
use relance_core::rules::RuleSet;
use relance_core::runtime::{CustomerTotals, Facts, Input, Shared, assign, open_case, transition};
use relance_dsl::ir::{Action, ScenarioSet};
use relance_dsl::{SetContext, SourceFile, compile};

fn set(source: &str) -> ScenarioSet {
    let compiled = compile(
        &[SourceFile::new("case.relance", source)],
        &SetContext::default(),
    );
    compiled.set.expect("the case compiles")
}

fn invoice(id: &str, amount: &str, currency: &str) -> Invoice {
    serde_json::from_value(json!({
        "id": id, "customer": "ACME", "amount": amount, "currency": currency,
        "issued": "2026-01-01", "due": "2026-01-31"
    }))
    .expect("a valid invoice")
}

fn customer() -> Customer {
    serde_json::from_value(json!({ "id": "ACME", "segment": "b2b" })).expect("a valid customer")
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

const UNBLOCK: &str = r#"
scenario s {
  step reminder at due + 3 days {
    email "reminder-1" to accounting
  }
  on paid {
    if customer.outstanding == 0 EUR and customer.open_invoices == 0 {
      unblock deliveries
    }
  }
  on payment {
    if customer.outstanding == 1100 EUR and customer.open_invoices == 2 {
      tag "1100-left"
    }
  }
}
"#;

/// The actions of one payment of `paid` on F-1 (1000 EUR), the driver's totals being
/// `totals` (which count F-1 open with its 1000 EUR, as drivers give them).
fn pay(paid: &str, totals: CustomerTotals) -> Vec<Action> {
    let set = set(UNBLOCK);
    let rules = RuleSet::default();
    let shared = Shared {
        set: &set,
        rules: &rules,
        rates: RateTable::builtin(),
    };
    let inv = invoice("F-1", "1000", "EUR");
    let cust = customer();
    let case = open_case(shared, &inv, &cust, totals, day("2026-01-01"));
    let facts = Facts {
        scenario: &set.scenarios["s"],
        invoice: &inv,
        customer: &cust,
        totals,
        rules: &rules,
        rates: RateTable::builtin(),
    };
    let ev = EventKind::Payment {
        invoice: "F-1".into(),
        amount: dec(paid),
        reference: None,
        details: Default::default(),
    };
    let (_, out) = transition(case, Input::Event(&ev), day("2026-02-10"), &facts);
    out.actions.into_iter().map(|p| p.action).collect()
}

fn totals(outstanding: &str, open: i64) -> CustomerTotals {
    CustomerTotals {
        outstanding: dec(outstanding),
        open_invoices: open,
        ..CustomerTotals::default()
    }
}

#[test]
fn on_paid_sees_the_totals_without_the_invoice_just_paid() {
    // F-1 alone open: paying it leaves nothing, `on paid` unblocks.
    assert_eq!(pay("1000", totals("1000", 1)), [Action::Unblock]);
    // F-2 (400 EUR) still open: 400 EUR on one invoice, no unblock.
    assert_eq!(pay("1000", totals("1400", 2)), []);
}

#[test]
fn on_payment_sees_the_new_outstanding() {
    // 1000 + 400 open on two invoices; 300 paid on F-1: 700 + 400 = 1100 EUR, still two.
    let actions = pay("300", totals("1400", 2));
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert!(matches!(&actions[0], Action::Tag { .. }), "{actions:?}");
}

#[test]
fn customer_totals_count_the_invoice_currency_only() {
    let eur = invoice("F-1", "149", "EUR");
    let usd = invoice("F-2", "120", "USD");
    let eur2 = invoice("F-3", "51", "EUR");
    let rows = [(&eur, None), (&usd, None), (&eur2, Some((true, dec("50"))))];
    let t = CustomerTotals::over(rows, day("2026-02-01"), "EUR");
    assert_eq!(
        (t.outstanding, t.open_invoices, t.average_invoice),
        (dec("199"), 2, dec("100.00"))
    );
    let t = CustomerTotals::over(rows, day("2026-02-01"), "USD");
    assert_eq!(
        (t.outstanding, t.open_invoices, t.average_invoice),
        (dec("120"), 1, dec("120.00"))
    );
}

#[test]
fn an_amount_tolerance_applies_in_its_currency_only() {
    let set = set(r#"
scenario eur {
  tolerance 5 EUR
  step reminder at due + 3 days {
    email "reminder-1" to accounting
  }
}
scenario pct {
  tolerance 1%
  step reminder at due + 3 days {
    email "reminder-1" to accounting
  }
}
"#);
    let eur = &set.scenarios["eur"];
    let pct = &set.scenarios["pct"];
    let e = invoice("F-1", "1000", "EUR");
    let j = invoice("F-2", "10000", "JPY");
    assert!(assign::settled(eur, &e, dec("5")));
    assert!(
        !assign::settled(eur, &j, dec("3")),
        "3 JPY is not under 5 EUR"
    );
    assert!(assign::settled(eur, &j, dec("0")));
    assert!(assign::settled(pct, &j, dec("100")), "1% of 10000 JPY");
    assert!(!assign::settled(pct, &j, dec("100.01")));
}

const TWO: &str = r#"
scenario standard {
  step reminder-1 at due + 3 days {
    email "reminder-1" to accounting
  }
}
scenario strict {
  step call at due + 5 days {
    call accounting assign collector
  }
  step notice at due + 20 days {
    letter "formal-notice" to legal registered
  }
}
"#;

/// A move to another scenario (OCA's policy changer): the case is pinned to the new scenario's
/// version at the named step, and the record says who and why; an unknown step is an error.
#[test]
fn a_move_pins_the_new_scenario_and_records_who_and_why() {
    let set = set(TWO);
    let rules = RuleSet::default();
    let inv = invoice("F-1", "1000", "EUR");
    let cust = customer();
    let case = assign::open_chosen(
        Ok(Some(&set.scenarios["standard"])),
        &inv,
        &cust,
        day("2026-01-01"),
    );
    let strict = &set.scenarios["strict"];
    let facts = Facts {
        scenario: strict,
        invoice: &inv,
        customer: &cust,
        totals: CustomerTotals::default(),
        rules: &rules,
        rates: RateTable::builtin(),
    };
    let moved = |step: &str| EventKind::ScenarioChanged {
        invoice: "F-1".into(),
        scenario: "strict".into(),
        step: Some(step.into()),
        by: "marie".into(),
        because: "key account".into(),
    };
    let (after, out) = transition(
        case.clone(),
        Input::Event(&moved("notice")),
        day("2026-02-10"),
        &facts,
    );
    assert_eq!(after.scenario, "strict");
    assert_eq!(after.version, strict.version);
    assert_eq!(after.next_step, 1);
    assert_eq!(after.status.name(), "active");
    let causes: Vec<&str> = out.records.iter().map(|r| r.cause.as_str()).collect();
    assert_eq!(
        causes,
        ["moved from scenario standard to strict at step notice by marie: key account"]
    );
    let (after, _) = transition(
        case,
        Input::Event(&moved("nowhere")),
        day("2026-02-10"),
        &facts,
    );
    assert_eq!(after.status.name(), "error");
    assert_eq!(
        after.scenario, "standard",
        "an error leaves the case where it was"
    );
}
