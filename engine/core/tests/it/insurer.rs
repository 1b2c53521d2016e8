//! The credit insurer's threatened-risk declaration task, driving the transition function as
//! the drivers do. The deadlines are the policy's (contractual, not the law's): hand-computed
//! calendar arithmetic from the ORIGINAL due date, 31 January 2026:
//! - 60 days: 28 days to 28 February, 31 to 31 March, 1 more: 1 April 2026; with a notice of
//!   10 days the task is created on 22 March 2026;
//! - 2 months: 31 March 2026 (the 31st exists in March); no notice: created that day.

use chrono::NaiveDate;
use relance_dsl::ir::{Action, ScenarioSet};
use relance_dsl::{SetContext, SourceFile, compile};
use serde_json::json;

use relance_core::domain::{Customer, EventKind, Invoice};
use relance_core::insurance::{CoverStatus, CreditCover, Period, ThreatenedRisk};
use relance_core::interest::RateTable;
use relance_core::rules::RuleSet;
use relance_core::runtime::{
    CustomerTotals, Facts, Input, Instance, Shared, open_case, transition,
};

const SET: &str = r#"
scenario s {
  step r1 at due + 10 days {
    email "reminder-1" to accounting
  }
}
"#;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn set() -> ScenarioSet {
    let out = compile(
        &[SourceFile::new("case.relance", SET)],
        &SetContext::default(),
    );
    let why = format!("{:?}", out.diagnostics);
    out.set.expect(&why)
}

/// The days (among those ticked) on which a threatened-risk task is created, and its texts.
fn task_days(
    status: CoverStatus,
    policy: Option<ThreatenedRisk>,
    extended_to: Option<&str>,
    days: &[&str],
) -> Vec<(String, String)> {
    let set = set();
    let rules = RuleSet::default();
    let mut customer = Customer::new("ACME");
    customer.credit_cover = Some(CreditCover {
        insurer: "acme-credit".into(),
        status,
        limit: None,
        threatened_risk: policy,
        stop_cover: None,
        claim: None,
        procedure_declaration: None,
    });
    let invoice: Invoice = serde_json::from_value(json!({
        "id": "F-1", "customer": "ACME", "amount": "10000",
        "issued": "2026-01-01", "due": "2026-01-31"
    }))
    .expect("a valid invoice");
    let shared = Shared {
        set: &set,
        rules: &rules,
        rates: RateTable::builtin(),
    };
    let mut inst: Instance = open_case(
        shared,
        &invoice,
        &customer,
        CustomerTotals::default(),
        invoice.issued,
    );
    let facts = Facts {
        scenario: &set.scenarios["s"],
        invoice: &invoice,
        customer: &customer,
        totals: CustomerTotals::default(),
        rules: &rules,
        rates: RateTable::builtin(),
    };
    if let Some(to) = extended_to {
        let ev = EventKind::DueDateExtended {
            invoice: "F-1".into(),
            to: day(to),
        };
        inst = transition(inst, Input::Event(&ev), day("2026-02-01"), &facts).0;
    }
    let mut found = Vec::new();
    for d in days {
        let (next, out) = transition(inst, Input::Tick, day(d), &facts);
        inst = next;
        for a in &out.actions {
            if let Action::Task { text, .. } = &a.action
                && a.step == "threatened_risk"
            {
                found.push((d.to_string(), text.clone()));
            }
        }
    }
    found
}

/// (cover, policy, extension, expected (day, deadline in the text) or none)
type Case = (
    CoverStatus,
    Option<ThreatenedRisk>,
    Option<&'static str>,
    Option<(&'static str, &'static str)>,
);

#[test]
fn the_threatened_risk_task_comes_once_on_the_policys_day() {
    let days = [
        "2026-03-20",
        "2026-03-21",
        "2026-03-22",
        "2026-03-23",
        "2026-03-31",
        "2026-04-02",
    ];
    let sixty_notice_ten = ThreatenedRisk {
        after: Period::Days(60),
        notice_days: 10,
    };
    let two_months = ThreatenedRisk {
        after: Period::Months(2),
        notice_days: 0,
    };
    let cases: [Case; 6] = [
        (
            CoverStatus::Covered,
            Some(sixty_notice_ten),
            None,
            Some(("2026-03-22", "2026-04-01")),
        ),
        // An extension (prorogation) does not move the insurer's deadline.
        (
            CoverStatus::Covered,
            Some(sixty_notice_ten),
            Some("2026-04-15"),
            Some(("2026-03-22", "2026-04-01")),
        ),
        (
            CoverStatus::Covered,
            Some(two_months),
            None,
            Some(("2026-03-31", "2026-03-31")),
        ),
        (CoverStatus::NotCovered, Some(sixty_notice_ten), None, None),
        (CoverStatus::Cancelled, Some(sixty_notice_ten), None, None),
        (CoverStatus::Covered, None, None, None),
    ];
    for (status, policy, ext, want) in cases {
        let got = task_days(status, policy, ext, &days);
        match want {
            None => assert!(got.is_empty(), "{status:?} {policy:?}: {got:?}"),
            Some((on, by)) => {
                assert_eq!(got.len(), 1, "{status:?} {policy:?} {ext:?}: {got:?}");
                assert_eq!(got[0].0, on, "{got:?}");
                assert!(
                    got[0].1.starts_with(&format!(
                        "declare the threatened risk to acme-credit by {by}: invoice F-1 unpaid, 10000 EUR outstanding (original due date 2026-01-31"
                    )),
                    "{}",
                    got[0].1
                );
            }
        }
    }
}

/// The stop-cover and claim deadlines become tasks like the threatened risk, each once, on
/// its day (deadline minus its notice), from the ORIGINAL due date 31 January 2026 whatever the
/// extension: stop-cover 90 days (28 + 31 + 31) = 1 May 2026, 5 days' notice: task on
/// 26 April; claim 6 months = 31 July 2026, 15 days' notice: task on 16 July. Not for a cover
/// that is not `covered`.
#[test]
fn the_stop_cover_and_claim_tasks_come_once_on_their_days() {
    let set = set();
    let rules = RuleSet::default();
    let invoice: Invoice = serde_json::from_value(json!({
        "id": "F-1", "customer": "ACME", "amount": "10000",
        "issued": "2026-01-01", "due": "2026-01-31"
    }))
    .expect("a valid invoice");
    let days = [
        "2026-04-25",
        "2026-04-26",
        "2026-04-27",
        "2026-07-15",
        "2026-07-16",
        "2026-07-17",
        "2026-08-01",
    ];
    for status in CoverStatus::ALL {
        let mut customer = Customer::new("ACME");
        customer.credit_cover = Some(CreditCover {
            insurer: "acme-credit".into(),
            status,
            limit: None,
            threatened_risk: None,
            stop_cover: Some(ThreatenedRisk {
                after: Period::Days(90),
                notice_days: 5,
            }),
            claim: Some(ThreatenedRisk {
                after: Period::Months(6),
                notice_days: 15,
            }),
            procedure_declaration: None,
        });
        let shared = Shared {
            set: &set,
            rules: &rules,
            rates: RateTable::builtin(),
        };
        let facts = Facts {
            scenario: &set.scenarios["s"],
            invoice: &invoice,
            customer: &customer,
            totals: CustomerTotals::default(),
            rules: &rules,
            rates: RateTable::builtin(),
        };
        let mut inst = open_case(
            shared,
            &invoice,
            &customer,
            CustomerTotals::default(),
            invoice.issued,
        );
        let ev = EventKind::DueDateExtended {
            invoice: "F-1".into(),
            to: day("2026-05-31"),
        };
        inst = transition(inst, Input::Event(&ev), day("2026-02-01"), &facts).0;
        let mut found: Vec<(String, String, String)> = Vec::new();
        for d in days {
            let (next, out) = transition(inst, Input::Tick, day(d), &facts);
            inst = next;
            for a in out.actions {
                if let Action::Task { text, .. } = a.action {
                    found.push((d.to_string(), a.step, text));
                }
            }
        }
        if status != CoverStatus::Covered {
            assert!(found.is_empty(), "{status:?}: {found:?}");
            continue;
        }
        let when: Vec<(&str, &str)> = found
            .iter()
            .map(|(d, s, _)| (d.as_str(), s.as_str()))
            .collect();
        assert_eq!(
            when,
            [
                ("2026-04-26", "stop_cover"),
                ("2026-07-16", "insurance_claim")
            ],
            "{found:?}"
        );
        assert!(
            found[0]
                .2
                .starts_with("stop-cover with acme-credit from 2026-05-01: "),
            "{}",
            found[0].2
        );
        assert!(
            found[1].2.starts_with(
                "file the claim with acme-credit by 2026-07-31: invoice F-1 unpaid, 10000 EUR \
                 outstanding (original due date 2026-01-31; the policy counts 6 months from it)"
            ),
            "{}",
            found[1].2
        );
    }
}

/// An invoice with installments: the insurer's deadlines count from the ORIGINAL due date of
/// the first installment not paid in full, not from `invoice.due` (the last installment's).
/// F-1: 10,000 EUR, 3,000 due 31 January 2026 and 7,000 due 31 March 2026; threatened risk
/// 60 days, no notice. Hand-computed:
/// - nothing paid: 31 January + 60 days = 1 April 2026 (28 days to 28 February, 31 to
///   31 March, 1 more); counting from 31 March would give 30 May;
/// - the first installment paid on 10 February: the second is the first unpaid, 31 March +
///   60 days = 30 May 2026 (30 days to 30 April, 30 more).
#[test]
fn insurer_deadlines_of_an_invoice_with_installments_count_from_the_first_unpaid_one() {
    let set = set();
    let rules = RuleSet::default();
    let mut customer = Customer::new("ACME");
    customer.credit_cover = Some(CreditCover {
        insurer: "acme-credit".into(),
        status: CoverStatus::Covered,
        limit: None,
        threatened_risk: Some(ThreatenedRisk {
            after: Period::Days(60),
            notice_days: 0,
        }),
        stop_cover: None,
        claim: None,
        procedure_declaration: None,
    });
    let invoice: Invoice = serde_json::from_value(json!({
        "id": "F-1", "customer": "ACME", "amount": "10000",
        "issued": "2026-01-01", "due": "2026-03-31",
        "installments": [
            {"due": "2026-01-31", "amount": "3000"},
            {"due": "2026-03-31", "amount": "7000"}
        ]
    }))
    .expect("a valid invoice");
    let facts = Facts {
        scenario: &set.scenarios["s"],
        invoice: &invoice,
        customer: &customer,
        totals: CustomerTotals::default(),
        rules: &rules,
        rates: RateTable::builtin(),
    };
    // (payment of the first installment, the task's day, its text)
    let cases = [
        (
            None,
            "2026-04-01",
            "declare the threatened risk to acme-credit by 2026-04-01: invoice F-1 unpaid, \
             10000 EUR outstanding (original due date 2026-01-31 of installment 1, the first \
             unpaid; the policy counts 60 days from it)",
        ),
        (
            Some("2026-02-10"),
            "2026-05-30",
            "declare the threatened risk to acme-credit by 2026-05-30: invoice F-1 unpaid, \
             7000 EUR outstanding (original due date 2026-03-31 of installment 2, the first \
             unpaid; the policy counts 60 days from it)",
        ),
    ];
    for (paid_on, want_day, want_text) in cases {
        let shared = Shared {
            set: &set,
            rules: &rules,
            rates: RateTable::builtin(),
        };
        let mut inst = open_case(
            shared,
            &invoice,
            &customer,
            CustomerTotals::default(),
            invoice.issued,
        );
        let mut found = Vec::new();
        let mut d = day("2026-01-02");
        while d <= day("2026-06-30") {
            if paid_on.is_some_and(|p| day(p) == d) {
                let ev = EventKind::Payment {
                    invoice: "F-1".into(),
                    amount: "3000".parse().expect("amount"),
                    reference: None,
                    details: Default::default(),
                };
                inst = transition(inst, Input::Event(&ev), d, &facts).0;
            }
            let (next, out) = transition(inst, Input::Tick, d, &facts);
            inst = next;
            for a in out.actions {
                if let Action::Task { text, .. } = a.action
                    && a.step == "threatened_risk"
                {
                    found.push((d.to_string(), text));
                }
            }
            d = d.succ_opt().expect("next day");
        }
        assert_eq!(
            found,
            [(want_day.to_string(), want_text.to_string())],
            "paid on {paid_on:?}"
        );
    }
}
