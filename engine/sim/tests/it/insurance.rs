//! The credit-insurance report: deadlines from the original due date whatever the extension,
//! the extension past the policy's maximum, an insurer without policy and a customer over its
//! limit as warnings. Dates hand-computed in the comments.

use chrono::NaiveDate;
use relance_core::insurance::{InsurerPolicy, Period};
use relance_sim::reports::insurance::insurance;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

const CASE: &str = r#"{
  "customers": [
    {"id": "ACME", "insurer": "acme-credit", "credit_cover": "covered", "credit_limit": "1000"},
    {"id": "BETA", "insurer": "unknown-re", "credit_cover": "cancelled"},
    {"id": "GAMMA"}
  ],
  "invoices": [
    {"id": "F-1", "customer": "ACME", "amount": "800", "issued": "2026-01-01", "due": "2026-01-31"},
    {"id": "F-2", "customer": "ACME", "amount": "300", "issued": "2026-01-15", "due": "2026-02-14"},
    {"id": "F-3", "customer": "BETA", "amount": "100", "issued": "2026-01-01", "due": "2026-01-31"},
    {"id": "F-4", "customer": "GAMMA", "amount": "100", "issued": "2026-01-01", "due": "2026-01-31"},
    {"id": "F-5", "customer": "ACME", "amount": "50", "issued": "2026-01-01", "due": "2026-01-31"}
  ],
  "events": [
    {"date": "2026-01-25", "type": "due_date_extended", "invoice": "F-1", "to": "2026-04-15"},
    {"date": "2026-02-10", "type": "due_date_extended", "invoice": "F-2", "to": "2026-03-16"},
    {"date": "2026-02-20", "type": "payment", "invoice": "F-5", "amount": "50"}
  ]
}"#;

/// Policy: 60 days' maximum extension, threatened risk 60 days after the original due date,
/// claim within 6 months. F-1 due 31 January: threatened risk by 1 April (28 + 31 + 1 days),
/// claim by 31 July; extended to 15 April, 74 days, past the 60 allowed (warning), and the
/// deadlines stay. F-2 due 14 February: + 60 days = 15 April; + 6 months = 14 August; extended
/// 30 days to 16 March, within the policy. F-5 is paid; BETA's insurer has no policy; GAMMA is
/// not insured; ACME owes 1,100 € over its 1,000 € limit.
#[test]
fn insurer_deadlines_and_warnings() {
    let p = relance_data::portfolio::from_json(CASE).expect("case");
    let policies = [InsurerPolicy {
        insurer: "acme-credit".into(),
        max_extension_days: 60,
        threatened_risk: Period::Days(60),
        claim: Period::Months(6),
        notice_days: 0,
        stop_cover: None,
        stop_cover_notice_days: 0,
        claim_notice_days: 0,
        procedure_declaration: None,
    }];
    let r = insurance(&p, &policies, d("2026-03-31"));
    let rows: Vec<_> = r
        .invoices
        .iter()
        .map(|i| {
            (
                i.invoice.as_str(),
                i.original_due,
                i.extended_due,
                i.threatened_risk_by,
                i.claim_by,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "F-1",
                d("2026-01-31"),
                Some(d("2026-04-15")),
                Some(d("2026-04-01")),
                Some(d("2026-07-31"))
            ),
            (
                "F-2",
                d("2026-02-14"),
                Some(d("2026-03-16")),
                Some(d("2026-04-15")),
                Some(d("2026-08-14"))
            ),
            ("F-3", d("2026-01-31"), None, None, None),
        ]
    );
    assert_eq!(
        r.warnings,
        [
            "invoice F-1: extension to 2026-04-15 is 74 days after the original due date \
             2026-01-31: the acme-credit policy allows 60 days (until 2026-04-01)",
            "customer ACME: owes 1100 EUR, over its cover limit of 1000 EUR",
            "customer BETA: insurer \"unknown-re\" has no policy in insurers.csv: no deadline \
             computed",
        ]
    );
    assert!(r.to_csv().contains(
        "ACME,acme-credit,covered,F-1,EUR,800,2026-01-31,2026-04-15,2026-04-01,2026-07-31,,\n"
    ));
    assert!(
        r.to_text()
            .contains("BETA F-3 [unknown-re cancelled] 100 EUR due 2026-01-31: no policy"),
        "{}",
        r.to_text()
    );
}

/// The insurance fixture folder (`engine/data/tests-data/insurance`) simulated from
/// 1 January 2026 to `until` under a one-step scenario (a reminder at due + 10 days).
fn simulate_fixture(until: NaiveDate) -> relance_sim::simulator::Run {
    use relance_core::interest::RateTable;
    use relance_core::rules::RuleSet;
    use relance_core::runtime::Shared;
    use relance_dsl::{SetContext, SourceFile, compile};
    use relance_sim::simulator::Simulator;

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = relance_data::portfolio::load_dir(&root.join("../data/tests-data/insurance"))
        .expect("fixture");
    let out = compile(
        &[SourceFile::new(
            "s.relance",
            "scenario s {\n  step r1 at due + 10 days {\n    email \"reminder-1\" to accounting\n  }\n}\n",
        )],
        &SetContext::default(),
    );
    let set = out.set.expect("compiles");
    let rules = RuleSet::default();
    let shared = Shared {
        set: &set,
        rules: &rules,
        rates: RateTable::builtin(),
    };
    Simulator::new(shared, &p).run(d("2026-01-01"), until, &mut |_| {})
}

/// The threatened-risk declaration task through the simulator, from a CSV folder whose
/// `insurers.csv` gives acme-credit a 60-day deadline (no notice column: 0 days):
/// F-1 due 31 January: 28 + 31 + 1 days, 1 April 2026 (its extension to 15 April does not
/// move it); F-2 due 14 February: 14 + 31 + 15 days, 15 April 2026. BETA's insurer has no
/// policy and its cover is cancelled; GAMMA is not insured: no task for them.
#[test]
fn the_simulator_creates_the_threatened_risk_tasks_on_their_days() {
    use relance_dsl::ir::Action;

    let run = simulate_fixture(d("2026-05-31"));
    let tasks: Vec<(String, NaiveDate, String)> = run
        .actions
        .iter()
        .filter(|a| a.step == "threatened_risk")
        .map(|a| {
            let Action::Task { text, .. } = &a.action else {
                panic!("a task: {:?}", a.action)
            };
            (a.invoice.to_string(), a.date, text.clone())
        })
        .collect();
    let got: Vec<(&str, NaiveDate)> = tasks.iter().map(|(i, d, _)| (i.as_str(), *d)).collect();
    assert_eq!(
        got,
        [("F-1", d("2026-04-01")), ("F-2", d("2026-04-15"))],
        "{tasks:?}"
    );
    assert!(
        tasks[0]
            .2
            .starts_with("declare the threatened risk to acme-credit by 2026-04-01: invoice F-1"),
        "{}",
        tasks[0].2
    );
}

/// The three insurer deadlines as tasks through the simulator, from the same folder, whose
/// `insurers.csv` also gives a stop-cover of 90 days with 5 days' notice and a claim notice of
/// 15 days. Hand-computed from the ORIGINAL due dates (the extensions move none of them):
/// - F-1 due 31 January: threatened risk + 60 days = 1 April; stop-cover + 90 days (28 + 31 +
///   31) = 1 May, task 5 days before, 26 April; claim + 6 months = 31 July, task 15 days
///   before, 16 July.
/// - F-2 due 14 February: + 60 days (14 + 31 + 15) = 15 April; + 90 days (14 + 31 + 30 + 15) =
///   15 May, task 10 May; + 6 months = 14 August, task 30 July.
#[test]
fn the_simulator_creates_the_stop_cover_and_claim_tasks_on_their_days() {
    use relance_dsl::ir::Action;

    let run = simulate_fixture(d("2026-09-30"));
    let tasks: Vec<(&str, &str, NaiveDate, String)> = run
        .actions
        .iter()
        .filter(|a| ["threatened_risk", "stop_cover", "insurance_claim"].contains(&a.step.as_str()))
        .map(|a| {
            let Action::Task { text, .. } = &a.action else {
                unreachable!()
            };
            (a.invoice.as_str(), a.step.as_str(), a.date, text.clone())
        })
        .collect();
    let got: Vec<(&str, &str, NaiveDate)> = tasks.iter().map(|(i, s, d, _)| (*i, *s, *d)).collect();
    assert_eq!(
        got,
        [
            ("F-1", "threatened_risk", d("2026-04-01")),
            ("F-2", "threatened_risk", d("2026-04-15")),
            ("F-1", "stop_cover", d("2026-04-26")),
            ("F-2", "stop_cover", d("2026-05-10")),
            ("F-1", "insurance_claim", d("2026-07-16")),
            ("F-2", "insurance_claim", d("2026-07-30")),
        ],
        "{tasks:#?}"
    );
    let text = |step: &str, invoice: &str| {
        tasks
            .iter()
            .find(|t| t.1 == step && t.0 == invoice)
            .map(|t| t.3.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        text("stop_cover", "F-1"),
        "stop-cover with acme-credit from 2026-05-01: deliveries to this customer after that day \
         are not insured (stop them or agree with the insurer): invoice F-1 unpaid, 800.00 EUR \
         outstanding (original due date 2026-01-31; the policy counts 90 days from it)"
    );
    assert_eq!(
        text("insurance_claim", "F-2"),
        "file the claim with acme-credit by 2026-08-14: invoice F-2 unpaid, 300.00 EUR \
         outstanding (original due date 2026-02-14; the policy counts 6 months from it)"
    );
}

/// The report of an invoice with installments counts the insurer's deadlines from the first
/// unpaid installment's original due date, and shows the stop-cover date. F-1: 1,000 EUR,
/// 300 due 31 January 2026 and 700 due 31 March 2026; threatened risk 60 days, stop-cover
/// 90 days, claim 6 months. Hand-computed:
/// - on 15 March, nothing paid: from 31 January, 1 April (28 + 31 + 1), 1 May (28 + 31 + 31),
///   31 July; installment 1;
/// - after 300 paid on 10 February, on 15 March: from 31 March, 30 May (30 + 30), 29 June
///   (30 + 31 + 29), 30 September (6 months; the 30th exists in September); installment 2.
#[test]
fn an_invoice_with_installments_counts_from_its_first_unpaid_installment() {
    let policies = [InsurerPolicy {
        insurer: "acme-credit".into(),
        max_extension_days: 60,
        threatened_risk: Period::Days(60),
        claim: Period::Months(6),
        notice_days: 0,
        stop_cover: Some(Period::Days(90)),
        stop_cover_notice_days: 0,
        claim_notice_days: 0,
        procedure_declaration: None,
    }];
    let case = |events: &str| {
        format!(
            r#"{{"customers": [{{"id": "ACME", "insurer": "acme-credit", "credit_cover": "covered"}}],
                "invoices": [{{"id": "F-1", "customer": "ACME", "amount": "1000",
                  "issued": "2026-01-01", "due": "2026-03-31",
                  "installments": "2026-01-31 300; 2026-03-31 700"}}],
                "events": [{events}]}}"#
        )
    };
    for (events, want) in [
        (
            "",
            (
                d("2026-01-31"),
                Some(1),
                Some(d("2026-04-01")),
                Some(d("2026-05-01")),
                Some(d("2026-07-31")),
            ),
        ),
        (
            r#"{"date": "2026-02-10", "type": "payment", "invoice": "F-1", "amount": "300"}"#,
            (
                d("2026-03-31"),
                Some(2),
                Some(d("2026-05-30")),
                Some(d("2026-06-29")),
                Some(d("2026-09-30")),
            ),
        ),
    ] {
        let p = relance_data::portfolio::from_json(&case(events)).expect("case");
        let r = insurance(&p, &policies, d("2026-03-15"));
        let got: Vec<_> = r
            .invoices
            .iter()
            .map(|i| {
                (
                    i.original_due,
                    i.installment,
                    i.threatened_risk_by,
                    i.stop_cover_from,
                    i.claim_by,
                )
            })
            .collect();
        assert_eq!(got, [want], "{events}");
    }
}
