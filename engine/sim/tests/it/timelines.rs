//! Simulated timelines of realistic cases, as `relance simulate` prints them, kept as insta
//! snapshots (text and JSON), plus determinism and JSON-contract checks.
//!
//! Every case goes through the library on the same path as `relance simulate`:
//! `scenario_set::load` → compile → `portfolio::from_json` → `Simulator::run` from the case's
//! start (`from`, else the earliest `issued`) → `Timeline::build` with transitions. The cases
//! are in `tests/it/timelines/*.json`:
//!
//! - `brief.json`: the case JSON of the original product brief (`docs/DATA.md`, "The case JSON"), against `dsl/tests/cases/valid/brief-sketch.relance`;
//! - `three-customers.json`: grouping, a kept promise of an amount, a broken promise, partial
//!   payments, a consumer under tolerance, against `tests/it/timelines/set/`;
//! - `from-later.json`: a company starting on 2026-04-01 with invoices already late, history
//!   before `from` (a dispute, payments) and an invoice issued after `from`.
//!
//! Review a changed snapshot like code: each line must follow from the semantics of `docs/LANGUAGE.md`.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use relance_core::interest::RateTable;
use relance_core::rules::RuleSet;
use relance_core::runtime::Shared;
use relance_core::scenario_set;
use relance_data::portfolio;
use relance_dsl::{SetContext, SourceFile, compile};
use relance_sim::simulator::Simulator;
use relance_sim::timeline::Timeline;
use serde_json::Value;

fn workspace() -> PathBuf {
    crate::workspace()
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/timelines")
}

fn brief_set() -> PathBuf {
    workspace().join("dsl/tests/cases/valid/brief-sketch.relance")
}

fn collection_set() -> PathBuf {
    cases_dir().join("set")
}

const UNTIL: &str = "2026-06-30";

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a valid date")
}

/// The timeline of `case` under the set at `set`, exactly as `relance simulate` computes it.
fn simulate(set: &Path, case: &Path, until: NaiveDate) -> Timeline {
    let loaded = scenario_set::load(set).unwrap_or_else(|e| panic!("{}: {e}", set.display()));
    let compiled = loaded.compile();
    let ir = compiled.set.as_ref().unwrap_or_else(|| {
        panic!(
            "{} does not compile: {:?}",
            set.display(),
            compiled.diagnostics
        )
    });
    let text = std::fs::read_to_string(case).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    let p = portfolio::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    let from = p.start().expect("the case has invoices");
    let shared = Shared {
        set: ir,
        rules: &loaded.rules,
        rates: RateTable::builtin(),
    };
    let run = Simulator::new(shared, &p).run(from, until, &mut |_| {});
    Timeline::build(ir, &run.actions, &run.records, true)
}

/// The timeline of an inline set (no rules, no templates) and an inline case JSON.
pub(crate) fn simulate_inline(source: &str, case_json: &str, until: NaiveDate) -> Timeline {
    simulate_inline_with(source, case_json, until, RateTable::builtin())
}

/// [`simulate_inline`] on the rate table `rates`.
pub(crate) fn simulate_inline_with(
    source: &str,
    case_json: &str,
    until: NaiveDate,
    rates: &RateTable,
) -> Timeline {
    let compiled = compile(
        &[SourceFile::new("inline.relance", source)],
        &SetContext::default(),
    );
    let ir = compiled
        .set
        .as_ref()
        .unwrap_or_else(|| panic!("inline set does not compile: {:?}", compiled.diagnostics));
    let rules = RuleSet::default();
    let p = portfolio::from_json(case_json).expect("a valid inline case");
    let shared = Shared {
        set: ir,
        rules: &rules,
        rates,
    };
    let run = Simulator::new(shared, &p).run(p.start().unwrap(), until, &mut |_| {});
    Timeline::build(ir, &run.actions, &run.records, true)
}

/// `relance simulate --format json` prints this, plus a newline.
fn json(t: &Timeline) -> String {
    serde_json::to_string_pretty(t).expect("a timeline serializes")
}

fn snapshot_case(name: &str, set: &Path, until: &str) {
    let case = cases_dir().join(format!("{name}.json"));
    let t = simulate(set, &case, date(until));
    let description = format!(
        "relance simulate {} --case {} --until {until}",
        rel(set),
        rel(&case)
    );
    insta::with_settings!({ description => description.clone(), omit_expression => true }, {
        insta::assert_snapshot!(format!("{name}.txt"), t.to_text());
        insta::assert_snapshot!(format!("{name}.json"), json(&t));
    });
    check_contract(&t, &json(&t));
}

fn rel(p: &Path) -> String {
    p.strip_prefix(workspace())
        .unwrap_or(p)
        .display()
        .to_string()
}

#[test]
fn brief_case_timeline() {
    snapshot_case("brief", &brief_set(), UNTIL);
}

#[test]
fn three_customers_timeline() {
    snapshot_case("three-customers", &collection_set(), UNTIL);
}

#[test]
fn from_later_than_issue_dates_timeline() {
    snapshot_case("from-later", &collection_set(), UNTIL);
}

// ----- the JSON contract ----------------------------------------------------------------------

const ACTIONS: [&str; 12] = [
    "email", "sms", "letter", "call", "task", "webhook", "escalate", "alert", "block", "unblock",
    "charge", "tag",
];

/// The timeline JSON contract (`docs/CLI.md`, `relance simulate`): `{"entries": [...]}`, each entry with `date`, `kind`
/// (`action` or `transition`), `customer`, `invoices` (array of ids), `step`; actions with
/// `action`, `template` where one applies, `to`, `amount` for charges; sorted by date, then
/// customer, then step order. Also: every idempotency key is unique.
fn check_contract(t: &Timeline, text: &str) {
    let doc: Value = serde_json::from_str(text).expect("the timeline is JSON");
    let entries = doc["entries"].as_array().expect("`entries` is an array");
    assert_eq!(entries.len(), t.entries.len());
    assert!(
        entries.iter().any(|e| e["kind"] == "action"),
        "the case has actions"
    );
    let mut keys = std::collections::BTreeSet::new();
    for (i, e) in entries.iter().enumerate() {
        let at = format!("entries[{i}] = {e}");
        let d = e["date"]
            .as_str()
            .unwrap_or_else(|| panic!("{at}: `date` is a string"));
        assert!(
            d.parse::<NaiveDate>().is_ok() && d.len() == 10,
            "{at}: `date` is YYYY-MM-DD"
        );
        assert!(
            e["customer"].as_str().is_some_and(|c| !c.is_empty()),
            "{at}: `customer`"
        );
        let invoices = e["invoices"]
            .as_array()
            .unwrap_or_else(|| panic!("{at}: `invoices` is an array"));
        assert!(
            !invoices.is_empty() && invoices.iter().all(Value::is_string),
            "{at}: `invoices` lists ids"
        );
        assert!(e.get("step").is_some(), "{at}: `step` is present");
        match e["kind"].as_str() {
            Some("transition") => {}
            Some("action") => {
                assert!(e["step"].is_string(), "{at}: an action names its step");
                let action = e["action"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{at}: `action`"));
                assert!(ACTIONS.contains(&action), "{at}: unknown action `{action}`");
                if matches!(action, "email" | "sms" | "letter") {
                    assert!(
                        e["template"].is_string(),
                        "{at}: a message has its `template`"
                    );
                    assert!(
                        e["to"].as_array().is_some_and(|to| !to.is_empty()),
                        "{at}: a message has `to`"
                    );
                } else {
                    assert!(
                        e.get("template").is_none(),
                        "{at}: no template for `{action}`"
                    );
                }
                if action == "call" {
                    assert!(
                        e["to"].as_array().is_some_and(|to| to.len() == 1),
                        "{at}: a call has `to`"
                    );
                }
                if action == "charge" {
                    let amount = e["amount"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{at}: a charge has an `amount` string"));
                    assert!(
                        amount.parse::<rust_decimal::Decimal>().is_ok(),
                        "{at}: `amount` is a decimal"
                    );
                    assert_eq!(invoices.len(), 1, "{at}: charges never merge");
                } else {
                    assert!(
                        e.get("amount").is_none(),
                        "{at}: only charges have an amount"
                    );
                }
                for k in e["keys"].as_array().expect("keys") {
                    assert!(
                        keys.insert(k.as_str().unwrap().to_string()),
                        "{at}: idempotency key {k} used twice"
                    );
                }
            }
            other => panic!("{at}: `kind` is `action` or `transition`, not {other:?}"),
        }
    }
    check_sorted(t);
}

/// Sorted by date, then customer (step order within a day: see
/// `entries_of_one_customer_and_day_follow_step_order`).
fn check_sorted(t: &Timeline) {
    for w in t.entries.windows(2) {
        assert!(
            (w[0].date, &w[0].customer) <= (w[1].date, &w[1].customer),
            "entries not sorted by date then customer:\n{:?}\n{:?}",
            w[0],
            w[1]
        );
    }
}

#[test]
fn entries_of_one_customer_and_day_follow_step_order() {
    // `docs/CLI.md`: entries are sorted by date, then customer, then step order. F-1 (due 01-01)
    // reaches `notice` (step 2, due + 33 = 02-03) on the day F-2 (due 01-31) reaches
    // `reminder-1` (step 0, due + 3 = 02-03): reminder-1 comes first.
    let source = r#"
scenario s {
  step reminder-1 at due + 3 days { email "reminder-1" to accounting }
  step reminder-2 at due + 15 days { email "reminder-2" to accounting }
  step notice at due + 33 days { letter "formal-notice" to legal registered }
}
"#;
    let case = r#"{
  "customers": [{"id": "ACME", "segment": "b2b"}],
  "invoices": [
    {"id": "F-1", "customer": "ACME", "amount": "100", "currency": "EUR", "issued": "2025-12-02", "due": "2026-01-01"},
    {"id": "F-2", "customer": "ACME", "amount": "100", "currency": "EUR", "issued": "2026-01-01", "due": "2026-01-31"}
  ],
  "events": []
}"#;
    let t = simulate_inline(source, case, date("2026-02-28"));
    let day: Vec<String> = t
        .actions()
        .filter(|e| e.date == date("2026-02-03"))
        .map(|e| {
            format!(
                "{} {}",
                e.step.as_deref().unwrap_or("-"),
                e.invoices.join(",")
            )
        })
        .collect();
    assert_eq!(day, ["reminder-1 F-2", "notice F-1"], "\n{}", t.to_text());
}

// ----- determinism ----------------------------------------------------------------------------

#[test]
fn the_same_case_twice_gives_the_same_bytes() {
    for (set, name) in [
        (brief_set(), "brief"),
        (collection_set(), "three-customers"),
        (collection_set(), "from-later"),
    ] {
        let case = cases_dir().join(format!("{name}.json"));
        let a = json(&simulate(&set, &case, date(UNTIL)));
        let b = json(&simulate(&set, &case, date(UNTIL)));
        assert!(a == b, "{name}: two runs differ");
    }
}

/// An action on an invoice with installments lists them as they stand on its day: in the
/// JSON each with its invoice, number, due date, amount, unpaid part, days late and whether it
/// is overdue; in the text the overdue ones. An invoice with one due date has no
/// `installments` key (the JSON stays as it was). F-1: 1,000 EUR, 300 due 31 January 2026 and
/// 700 due 31 March 2026, nothing paid; the reminder at due + 10 days counts from the first
/// installment: 10 February. That day, the first is 10 days late; the second is due in
/// 18 + 31 = 49 days (days_late -49), not overdue.
#[test]
fn an_action_on_an_invoice_with_installments_lists_them() {
    let timeline = simulate_inline(
        "scenario s {\n  group by invoice\n  step r1 at due + 10 days {\n    email \"reminder-1\" to accounting\n  }\n}\n",
        r#"{"customers": [{"id": "ACME", "segment": "b2b"}],
            "invoices": [
              {"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01",
               "installments": "2026-01-31 300; 2026-03-31 700"},
              {"id": "F-2", "customer": "ACME", "amount": "500", "issued": "2026-01-01", "due": "2026-01-31"}]}"#,
        date("2026-02-28"),
    );
    let actions = Timeline {
        entries: timeline.actions().cloned().collect(),
    };
    let json: Value = serde_json::to_value(&actions).expect("json");
    let entries = json["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{json:#}");
    assert_eq!(
        entries[0]["invoices"],
        serde_json::json!(["F-1"]),
        "{json:#}"
    );
    assert_eq!(
        entries[0]["installments"],
        serde_json::json!([
            {"invoice": "F-1", "number": 1, "due": "2026-01-31", "amount": "300",
             "unpaid": "300", "days_late": 10, "overdue": true},
            {"invoice": "F-1", "number": 2, "due": "2026-03-31", "amount": "700",
             "unpaid": "700", "days_late": -49, "overdue": false}
        ])
    );
    assert_eq!(
        entries[1]["invoices"],
        serde_json::json!(["F-2"]),
        "{json:#}"
    );
    assert!(entries[1].get("installments").is_none(), "{json:#}");
    let text = actions.to_text();
    assert!(
        text.contains(
            "email \"reminder-1\" to accounting  (overdue: F-1 installment 1 due 2026-01-31: \
             300 unpaid of 300, 10 days late)\n"
        ),
        "{text}"
    );
}

/// A `per customer` scenario's level names show in the timeline (and so in `relance plan`)
/// exactly as written, capitals, hyphens and underscores kept: the account's action entries
/// carry `level NAME` as their step. F-1 due 31 January 2026: 30 days late on 2 March
/// (Relance-Amiable_1), 40 on 12 March (MISE_EN_DEMEURE-2).
#[test]
fn account_level_names_show_in_the_timeline_as_written() {
    let timeline = simulate_inline(
        ACCOUNT_LEVEL_NAMES,
        r#"{"customers": [{"id": "ACME", "segment": "b2b"}],
            "invoices": [{"id": "F-1", "customer": "ACME", "amount": "100", "issued": "2026-01-01", "due": "2026-01-31"}]}"#,
        date("2026-03-31"),
    );
    let steps: Vec<(NaiveDate, Option<&str>)> = timeline
        .actions()
        .map(|e| (e.date, e.step.as_deref()))
        .collect();
    assert_eq!(
        steps,
        [
            (date("2026-03-02"), Some("level Relance-Amiable_1")),
            (date("2026-03-12"), Some("level MISE_EN_DEMEURE-2")),
        ]
    );
    let text = Timeline {
        entries: timeline.actions().cloned().collect(),
    }
    .to_text();
    assert!(
        text.contains("2026-03-12  ACME  F-1  level MISE_EN_DEMEURE-2  webhook \"second\"\n"),
        "{text}"
    );
}

/// Two levels whose names mix capitals, hyphens and underscores (the daemon's `accounts` test
/// reads the same names back from its account view).
const ACCOUNT_LEVEL_NAMES: &str = r#"
scenario overdue {
  per customer
  level Relance-Amiable_1 when customer.oldest_overdue_days >= 30 {
    webhook "first"
  }
  level MISE_EN_DEMEURE-2 when customer.oldest_overdue_days >= 40 {
    webhook "second"
  }
}
"#;
