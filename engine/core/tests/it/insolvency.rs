//! Collective procedures and due date extensions at the level of one case, driving the
//! transition function as the drivers do (the customer record changed through
//! `apply_to_customer`, then the event given to the case). Hand-computed expectations cite
//! their source; the late interest uses the built-in table (2026-H1: ECB 2.15 % + 10 points
//! = 12.15 %, `engine/core/data/ecb-rates.csv`).

use chrono::NaiveDate;
use relance_dsl::ir::{Action, ScenarioSet};
use relance_dsl::{SetContext, SourceFile, compile};
use rust_decimal::Decimal;
use serde_json::json;

use relance_core::domain::{Customer, EventKind, Invoice};
use relance_core::insolvency::Procedure;
use relance_core::interest::RateTable;
use relance_core::rules::RuleSet;
use relance_core::runtime::{
    CustomerTotals, Facts, Input, Instance, Outcome, Shared, Status, open_case, transition,
};

const SET: &str = r#"
scenario s {
  step r1 at due + 10 days {
    email "reminder-1" to accounting
    charge indemnity
  }
  step r2 at due + 60 days {
    letter "formal-notice" to accounting
    charge late-interest
  }
  on dispute opened {
    pause
  }
}
"#;

fn set() -> ScenarioSet {
    let out = compile(
        &[SourceFile::new("case.relance", SET)],
        &SetContext::default(),
    );
    let why = format!("{:?}", out.diagnostics);
    out.set.expect(&why)
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn invoice(id: &str, issued: &str, due: &str, delivered: Option<&str>) -> Invoice {
    let mut v = json!({
        "id": id, "customer": "ACME", "amount": "10000",
        "issued": issued, "due": due
    });
    if let Some(d) = delivered {
        v["delivered_on"] = json!(d);
    }
    serde_json::from_value(v).expect("a valid invoice")
}

/// One invoice's case and what a driver holds for it.
struct Case {
    set: ScenarioSet,
    rules: RuleSet,
    customer: Customer,
    invoice: Invoice,
    inst: Option<Instance>,
}

impl Case {
    fn new(invoice: Invoice) -> Case {
        let set = set();
        let rules = RuleSet::default();
        let customer = Customer::new("ACME");
        let inst = open_case(
            Shared {
                set: &set,
                rules: &rules,
                rates: RateTable::builtin(),
            },
            &invoice,
            &customer,
            CustomerTotals::default(),
            invoice.issued,
        );
        Case {
            set,
            rules,
            customer,
            invoice,
            inst: Some(inst),
        }
    }

    fn run(&mut self, input: Input<'_>, today: &str) -> Outcome {
        if let Input::Event(ev) = input {
            ev.apply_to_customer(&mut self.customer);
        }
        let facts = Facts {
            scenario: &self.set.scenarios["s"],
            invoice: &self.invoice,
            customer: &self.customer,
            totals: CustomerTotals::default(),
            rules: &self.rules,
            rates: RateTable::builtin(),
        };
        let (inst, out) = transition(self.inst.take().unwrap(), input, day(today), &facts);
        self.inst = Some(inst);
        out
    }

    fn event(&mut self, ev: EventKind, today: &str) -> Outcome {
        self.run(Input::Event(&ev), today)
    }

    fn tick(&mut self, today: &str) -> Outcome {
        self.run(Input::Tick, today)
    }

    fn inst(&self) -> &Instance {
        self.inst.as_ref().unwrap()
    }
}

fn opened(published: Option<&str>) -> EventKind {
    EventKind::InsolvencyOpened {
        customer: "ACME".into(),
        procedure: Procedure::Redressement,
        judgment_on: day("2026-03-10"),
        published_on: published.map(day),
    }
}

fn tasks(out: &Outcome) -> Vec<&str> {
    out.actions
        .iter()
        .filter_map(|a| match &a.action {
            Action::Task { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Redressement judiciaire opened on 10 March 2026 against ACME, which owes 10,000 € due on
/// 31 January 2026 (indemnity of €40 charged on 10 February, D441-5):
/// - L622-28: interest stops at the judgment, so it runs from 1 February to 9 March, 37 days:
///   10,000 × 12.15 % × 37 / 365 = 123.164… → 123.16 €; to declare 10,000 + 40 + 123.16 =
///   10,163.16 €;
/// - R622-24: published in the BODACC on 20 March 2026, the claim is declared by 20 May 2026
///   (two months, a Wednesday);
/// - L622-21: no step fires while frozen (the formal notice due on 1 April does not go out);
///   the procedure's end brings the case back and the late step fires at the next tick.
#[test]
fn a_collective_procedure_freezes_a_prior_claim_and_asks_for_its_declaration() {
    let mut case = Case::new(invoice("F-1", "2026-01-01", "2026-01-31", None));
    let out = case.tick("2026-02-10");
    assert_eq!(
        out.actions.len(),
        2,
        "reminder and indemnity before the judgment"
    );

    let out = case.event(opened(None), "2026-03-12");
    assert_eq!(
        case.inst().status,
        Status::Insolvency {
            since: day("2026-03-10"),
            procedure: Procedure::Redressement
        }
    );
    let declaration = case.inst().declaration.clone().expect("a declaration");
    assert_eq!(
        (
            declaration.outstanding,
            declaration.charges,
            declaration.interest,
            declaration.total(),
            declaration.declare_by
        ),
        (
            dec("10000"),
            dec("40"),
            dec("123.16"),
            dec("10163.16"),
            None
        )
    );
    assert_eq!(
        tasks(&out),
        [
            "declare the claim on invoice F-1 to the mandataire judiciaire (redressement \
          judiciaire) within two months of the BODACC publication of the judgment of \
          2026-03-10 (R622-24; publication date not known yet): 10163.16 EUR (outstanding \
          10000, charges 40, interest to 2026-03-09 123.16)"
        ]
    );
    assert_eq!(
        out.actions[0].key,
        format!("F-1/{}/insolvency/1/0", case.inst().version)
    );

    // The publication becomes known: the deadline is set, a second task says it.
    let out = case.event(opened(Some("2026-03-20")), "2026-03-25");
    assert_eq!(
        case.inst().declaration.as_ref().and_then(|d| d.declare_by),
        Some(day("2026-05-20"))
    );
    let texts = tasks(&out);
    assert_eq!(texts.len(), 1);
    assert!(
        texts[0].contains("by 2026-05-20 (R622-24: two months after the BODACC publication)"),
        "{}",
        texts[0]
    );
    // Sent a third time unchanged: nothing new.
    assert!(
        case.event(opened(Some("2026-03-20")), "2026-03-26")
            .actions
            .is_empty()
    );

    // Frozen: the formal notice due on 1 April does not go out, a dispute is not handled.
    assert!(case.tick("2026-04-01").actions.is_empty());
    let out = case.event(
        EventKind::DisputeOpened {
            invoice: "F-1".into(),
            code: "quality".into(),
            amount: None,
            target_date: None,
            comment: None,
        },
        "2026-04-02",
    );
    assert!(out.actions.is_empty());
    assert!(matches!(case.inst().status, Status::Insolvency { .. }));

    // The procedure ends: dunning resumes and the late step fires, but no interest is charged
    // for the time before (L622-28 stopped it; what accrued before was declared).
    let out = case.event(
        EventKind::InsolvencyClosed {
            customer: "ACME".into(),
            reason: Some("plan de continuation".into()),
        },
        "2026-06-01",
    );
    assert!(out.actions.is_empty());
    assert_eq!(case.inst().status, Status::Active);
    assert_eq!(case.inst().declaration, None);
    let out = case.tick("2026-06-01");
    assert_eq!(out.actions.len(), 1, "{:?}", out.actions);
    assert!(matches!(out.actions[0].action, Action::Letter { .. }));
}

/// Which invoices the judgment of 10 March 2026 freezes: claims born before it (L622-7), the
/// delivery date when the invoice gives one, else the invoice date; the judgment takes effect
/// at 0 h on its date, so a claim of that day is posterior (L622-17) and dunned as usual.
#[test]
fn only_claims_born_before_the_judgment_are_frozen() {
    for (issued, delivered, frozen) in [
        ("2026-03-09", None, true),
        ("2026-03-10", None, false),
        ("2026-03-12", Some("2026-03-02"), true),
        ("2026-03-12", Some("2026-03-10"), false),
    ] {
        let mut case = Case::new(invoice("F-2", issued, "2026-04-30", delivered));
        let out = case.event(opened(Some("2026-03-20")), "2026-03-12");
        let is_frozen = matches!(case.inst().status, Status::Insolvency { .. });
        assert_eq!(
            is_frozen, frozen,
            "issued {issued}, delivered {delivered:?}"
        );
        assert_eq!(tasks(&out).len(), usize::from(frozen));
        if frozen {
            // Not yet due on the judgment day: nothing accrued.
            let d = case.inst().declaration.clone().unwrap();
            assert_eq!((d.interest, d.total()), (Decimal::ZERO, dec("10000")));
        }
    }
}

/// A redressement converted into a liquidation (L631-15): the case stays frozen under the new
/// procedure, the declaration stands (no new task).
#[test]
fn a_conversion_changes_the_procedure_without_a_new_declaration() {
    let mut case = Case::new(invoice("F-5", "2026-01-01", "2026-01-31", None));
    case.event(opened(Some("2026-03-20")), "2026-03-25");
    let out = case.event(
        EventKind::InsolvencyOpened {
            customer: "ACME".into(),
            procedure: Procedure::Liquidation,
            judgment_on: day("2026-04-14"),
            published_on: Some(day("2026-04-20")),
        },
        "2026-04-21",
    );
    assert!(out.actions.is_empty(), "{:?}", out.actions);
    assert_eq!(
        case.inst().status,
        Status::Insolvency {
            since: day("2026-03-10"),
            procedure: Procedure::Liquidation
        }
    );
    let d = case.inst().declaration.clone().unwrap();
    assert_eq!(
        (d.procedure, d.declare_by),
        (Procedure::Liquidation, Some(day("2026-05-20")))
    );
    assert!(
        out.records.iter().any(|r| r.cause
            == "redressement judiciaire converted to liquidation judiciaire on 2026-04-14"),
        "{:?}",
        out.records
    );
    // The next tick (the customer record now says liquidation, published 20 April) asks for
    // nothing new.
    assert!(case.tick("2026-04-22").actions.is_empty());
}

/// A case that opens after the judgment (the customer record already says so) is frozen on
/// its first tick, as one that was open.
#[test]
fn a_case_opened_under_a_procedure_is_frozen_at_its_first_tick() {
    let mut case = Case::new(invoice("F-3", "2026-01-01", "2026-01-31", None));
    opened(Some("2026-03-20")).apply_to_customer(&mut case.customer);
    let out = case.tick("2026-04-15");
    assert!(matches!(case.inst().status, Status::Insolvency { .. }));
    assert_eq!(tasks(&out).len(), 1);
    assert_eq!(
        out.actions.len(),
        1,
        "the task only: no reminder, no charge"
    );
}

/// A due date extension (prorogation) moves the steps' `due` anchor, never the invoice's due
/// date: due 31 January extended to 15 March, the first reminder (due + 10 days) falls on
/// 25 March instead of 10 February.
#[test]
fn an_extension_moves_the_dunning_due_date_only() {
    let mut case = Case::new(invoice("F-4", "2026-01-01", "2026-01-31", None));
    case.event(
        EventKind::DueDateExtended {
            invoice: "F-4".into(),
            to: day("2026-03-15"),
        },
        "2026-01-20",
    );
    assert_eq!(case.inst().extended_due, Some(day("2026-03-15")));
    assert_eq!(case.invoice.due, day("2026-01-31"));
    assert!(case.tick("2026-02-10").actions.is_empty());
    assert!(case.tick("2026-03-24").actions.is_empty());
    assert_eq!(case.tick("2026-03-25").actions.len(), 2);
}

/// A case frozen by a collective procedure, of a customer covered by a credit insurer: one
/// task to declare the procedure to the insurer, once per case (a conversion to liquidation
/// asks for none). The deadline is the policy's parameter (`procedure_declaration`), counted
/// from the judgment's date: judgment 10 March 2026 + 15 days = 25 March 2026. A policy
/// without that parameter still gets the task, its deadline left to the policy; no task for a
/// cover that is not `covered`, nor for an insurer without policy.
#[test]
fn a_frozen_case_of_an_insured_customer_gets_one_task_to_declare_the_procedure_to_the_insurer() {
    use relance_core::insurance::{CoverStatus, CreditCover, InsurerDeadline, Period};
    let claim = Some(InsurerDeadline {
        after: Period::Months(6),
        notice_days: 0,
    });
    let cover = |status, claim, procedure_declaration| CreditCover {
        insurer: "acme-credit".into(),
        status,
        limit: None,
        threatened_risk: None,
        stop_cover: None,
        claim,
        procedure_declaration,
    };
    let text = "declare the redressement judiciaire opened on 2026-03-10 to acme-credit";
    let tail = ": invoice F-1, 10000 EUR outstanding (the opening of a collective procedure is \
                a claim event under the credit insurance policy)";
    let cases = [
        (
            cover(CoverStatus::Covered, claim, Some(Period::Days(15))),
            Some(format!(
                "{text} by 2026-03-25 (the policy counts 15 days from the judgment){tail}"
            )),
        ),
        (
            cover(CoverStatus::Covered, claim, None),
            Some(format!(
                "{text} within the policy's deadline (insurers.csv gives no \
                 procedure_declaration for this insurer){tail}"
            )),
        ),
        (
            cover(CoverStatus::Cancelled, claim, Some(Period::Days(15))),
            None,
        ),
        (cover(CoverStatus::Covered, None, None), None),
    ];
    for (cover, want) in cases {
        let mut case = Case::new(invoice("F-1", "2026-01-01", "2026-01-31", None));
        case.customer.credit_cover = Some(cover.clone());
        case.tick("2026-02-10");
        let out = case.event(opened(Some("2026-03-20")), "2026-03-12");
        let insurer: Vec<&str> = out
            .actions
            .iter()
            .filter(|a| a.step == "insurer_procedure")
            .filter_map(|a| match &a.action {
                Action::Task { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            insurer,
            want.iter().map(String::as_str).collect::<Vec<_>>(),
            "{cover:?}"
        );
        // The mandataire's declaration is still there, and later days and a conversion add
        // no second insurer task.
        assert_eq!(tasks(&out).len(), 1 + insurer.len(), "{:?}", out.actions);
        let mut later = case.tick("2026-03-26").actions;
        later.extend(
            case.event(
                EventKind::InsolvencyOpened {
                    customer: "ACME".into(),
                    procedure: Procedure::Liquidation,
                    judgment_on: day("2026-04-14"),
                    published_on: Some(day("2026-04-20")),
                },
                "2026-04-21",
            )
            .actions,
        );
        assert!(later.is_empty(), "{later:?}");
    }
}
