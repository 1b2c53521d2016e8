//! Starting mid-way and the gradual catch-up, at the level of one case: what `open_case`
//! restores from an invoice's standing, the error an unknown step gives, and the day
//! `next_wakeup` asks for while a gradual catch-up holds a step. The whole engine is tested
//! on a virtual clock in relance-sim (`semantics/catch-up-gradual.relance`, `mid-way.relance`).

use chrono::NaiveDate;
use serde_json::json;

use relance_core::domain::{Customer, Invoice};
use relance_core::interest::RateTable;
use relance_core::rules::RuleSet;
use relance_core::runtime::{
    CustomerTotals, Facts, Input, Instance, Shared, Status, next_wakeup, open_case, transition,
};
use relance_dsl::ir::ScenarioSet;
use relance_dsl::{SetContext, SourceFile, compile};

const SET: &str = r#"
scenario s {
  catch up gradually every 7 days
  step r1 at due + 3 days {
    email "reminder-1" to accounting
  }
  step r2 at due + 13 days {
    email "reminder-2" to accounting
  }
  step r3 at due + 30 days {
    email "reminder-3" to accounting
  }
}
"#;

fn set() -> ScenarioSet {
    compile(
        &[SourceFile::new("case.relance", SET)],
        &SetContext::default(),
    )
    .set
    .expect("the case compiles")
}

fn invoice(extra: serde_json::Value) -> Invoice {
    let mut v = json!({
        "id": "F-1", "customer": "ACME", "amount": "100",
        "issued": "2026-01-01", "due": "2026-01-31"
    });
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    serde_json::from_value(v).expect("a valid invoice")
}

fn customer() -> Customer {
    serde_json::from_value(json!({ "id": "ACME" })).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Opens `inv`'s case for ACME on `today` under the test set, with no rules.
fn open(inv: &Invoice, today: NaiveDate) -> Instance {
    let set = set();
    let rules = RuleSet::default();
    let shared = Shared {
        set: &set,
        rules: &rules,
        rates: RateTable::builtin(),
    };
    open_case(shared, inv, &customer(), CustomerTotals::default(), today)
}

#[test]
fn the_standing_is_restored_as_if_the_step_had_fired() {
    let inv = invoice(json!({
        "dunning_step": "r1", "dunning_date": "2026-02-05", "dunning_attempts": 2
    }));
    let case = open(&inv, day("2026-03-01"));
    assert_eq!(case.status, Status::Active);
    assert_eq!(case.next_step, 1);
    assert_eq!(case.done_on, [Some(day("2026-02-05")), None, None]);
    assert_eq!(case.fired_count, [2, 0, 0]);
    assert_eq!(case.counters.last_step.as_deref(), Some("r1"));
    assert_eq!(case.counters.messages, 2);
}

#[test]
fn an_unknown_step_puts_the_case_in_error_naming_invoice_and_field() {
    let inv = invoice(json!({ "dunning_step": "level-3", "dunning_date": "2026-02-05" }));
    let case = open(&inv, day("2026-03-01"));
    let Status::Error { message, .. } = &case.status else {
        panic!("not in error: {:?}", case.status);
    };
    assert_eq!(
        message,
        "invoice F-1: dunning_step `level-3` is not a step of scenario `s` (its steps: r1, r2, r3)"
    );
}

#[test]
fn a_held_step_wakes_the_case_when_its_interval_ends() {
    let set = set();
    let rules = RuleSet::default();
    let shared = Shared {
        set: &set,
        rules: &rules,
        rates: RateTable::builtin(),
    };
    let inv = invoice(json!({}));
    let cust = customer();
    let totals = CustomerTotals::default();
    // Enters on 03-10: r1 (02-03), r2 (02-13) and r3 (03-02) are past.
    let today = day("2026-03-10");
    let case = open_case(shared, &inv, &cust, totals, today);
    let facts = Facts {
        scenario: &set.scenarios["s"],
        invoice: &inv,
        customer: &cust,
        totals,
        rules: &rules,
        rates: RateTable::builtin(),
    };
    let (case, out) = transition(case, Input::Tick, today, &facts);
    assert_eq!(out.actions.len(), 1, "r1 only: {:?}", out.actions);
    assert_eq!(case.catch_up_next, Some(day("2026-03-17")));
    assert_eq!(next_wakeup(&case, &facts), Some(day("2026-03-17")));
    // A tick before the interval ends (an event's day) sends nothing.
    let (case, out) = transition(case, Input::Tick, day("2026-03-12"), &facts);
    assert!(out.actions.is_empty());
    let (case, out) = transition(case, Input::Tick, day("2026-03-17"), &facts);
    assert_eq!(out.actions.len(), 1, "r2: {:?}", out.actions);
    assert_eq!(out.actions[0].step, "r2");
    assert_eq!(next_wakeup(&case, &facts), Some(day("2026-03-24")));
    let (case, out) = transition(case, Input::Tick, day("2026-03-24"), &facts);
    assert_eq!(out.actions[0].step, "r3");
    assert_eq!(case.catch_up_next, None, "caught up: nothing left");
    assert_eq!(next_wakeup(&case, &facts), None);
}
