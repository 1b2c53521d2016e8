//! French-law features through the daemon's engine: the warning that the late-payment rate
//! table lacks a half-year, given once by the daily run (not once per invoice), and the credit
//! insurer's stop-cover and claim deadlines as tasks of the daily run, on the days the
//! simulator creates them (`relance_sim`'s `insurance` tests, dates hand-computed there).

use chrono::NaiveDate;

use relance_dsl::ir::Action;

use crate::daemon_engine::started;
use crate::support::TempDir;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// The built-in table gives every rate of 2026-H1 but not the legal rate of 2026-H2: the run
/// of 1 July 2026 warns (late interest for 2026-H2 assumes the last known legal rate); after
/// it, no later day warns again, even one past the table's last row.
#[test]
fn the_daily_run_warns_once_that_the_rate_table_lacks_a_half_year() {
    let tmp = TempDir::new("law-rates-warning");
    let p = relance_data::portfolio::from_json(
        r#"{"customers": [{"id": "ACME", "segment": "b2b"}],
            "invoices": [{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-05-01", "due": "2026-05-31"}]}"#,
    )
    .expect("case");
    let engine = started(&tmp, d("2026-06-29"), &p);
    assert_eq!(engine.warn_missing_rates(d("2026-06-30")), None);
    engine.advance_to(d("2026-07-02")).expect("advance");
    // The run of 1 July gave the warning: asking again, even for 2027, gives nothing.
    assert_eq!(engine.warn_missing_rates(d("2027-02-01")), None);

    // A fresh engine that has not run July yet still owes it, naming the half-years.
    let tmp2 = TempDir::new("law-rates-warning-2");
    let fresh = started(&tmp2, d("2026-06-29"), &p);
    let message = fresh
        .warn_missing_rates(d("2027-02-01"))
        .expect("the table lacks 2026-H2's legal rate and 2027-H1");
    assert!(message.contains("2026-H2, 2027-H1"), "{message}");
    assert_eq!(fresh.warn_missing_rates(d("2027-03-01")), None);
}

/// The data folder `engine/data/tests-data/insurance` (its `insurers.csv`: threatened risk
/// 60 days, stop-cover 90 days with 5 days' notice, claim 6 months with 15 days' notice),
/// imported into the daemon and run day by day: F-1 (due 31 January 2026) gets its stop-cover
/// task on 26 April and its claim task on 16 July, F-2 (due 14 February) on 10 May and 30 July,
/// as in the simulator.
#[test]
fn the_daily_run_creates_the_stop_cover_and_claim_tasks() {
    let tmp = TempDir::new("law-insurer-tasks");
    let root = crate::workspace();
    let p = relance_data::portfolio::load_dir(&root.join("engine/data/tests-data/insurance"))
        .expect("fixture");
    let engine = started(&tmp, d("2026-04-20"), &p);
    engine.advance_to(d("2026-08-01")).expect("advance");
    let mut tasks: Vec<(String, String, NaiveDate)> = engine
        .outbox()
        .expect("outbox")
        .into_iter()
        .filter(|m| matches!(m.action, Action::Task { .. }))
        .flat_map(|m| {
            let date = m.date;
            m.items.into_iter().map(move |i| (i.invoice, i.step, date))
        })
        .filter(|(_, step, _)| step == "stop_cover" || step == "insurance_claim")
        .collect();
    tasks.sort_by_key(|t| t.2);
    let got: Vec<(&str, &str, NaiveDate)> = tasks
        .iter()
        .map(|(i, s, d)| (i.as_str(), s.as_str(), *d))
        .collect();
    assert_eq!(
        got,
        [
            ("F-1", "stop_cover", d("2026-04-26")),
            ("F-2", "stop_cover", d("2026-05-10")),
            ("F-1", "insurance_claim", d("2026-07-16")),
            ("F-2", "insurance_claim", d("2026-07-30")),
        ]
    );
}

/// The daily run keeps with each message item the late-interest rate its invoice runs at
/// (`charges::applied_rate`, the choice the charge makes): F-1's own 15 %, else ACME's 12 %,
/// both contractual; BETA has none: ECB + 10 points of 2026-H1, 2.15 + 10 = 12.15 %.
#[test]
fn message_items_carry_the_rate_the_charge_would_use() {
    let tmp = TempDir::new("law-item-rates");
    let p = relance_data::portfolio::from_json(
        r#"{"customers": [
              {"id": "ACME", "segment": "b2b", "late_interest_rate": "12",
               "contacts": {"accounting": {"email": "compta@acme.example"}}},
              {"id": "BETA", "segment": "b2b",
               "contacts": {"accounting": {"email": "ap@beta.example"}}}],
            "invoices": [
              {"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31", "late_interest_rate": "15"},
              {"id": "F-2", "customer": "ACME", "amount": "500", "issued": "2026-01-01", "due": "2026-01-31"},
              {"id": "F-3", "customer": "BETA", "amount": "700", "issued": "2026-01-01", "due": "2026-01-31"}]}"#,
    )
    .expect("case");
    let engine = started(&tmp, d("2026-02-01"), &p);
    engine.advance_to(d("2026-03-15")).expect("advance");
    let mut rates: Vec<(String, String, bool)> = engine
        .outbox()
        .expect("outbox")
        .into_iter()
        .flat_map(|m| m.items)
        .map(|i| {
            (
                i.invoice,
                i.late_interest_rate
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
                i.late_interest_contractual,
            )
        })
        .collect();
    rates.sort();
    rates.dedup();
    assert_eq!(
        rates,
        [
            ("F-1".to_string(), "15".to_string(), true),
            ("F-2".to_string(), "12".to_string(), true),
            ("F-3".to_string(), "12.15".to_string(), false),
        ]
    );
}

/// The data folder's `rates.csv` is read again on each deployment: a row added for 2027-H1
/// (ECB 1.50 %) is in force after the next deployment, with no restart; a file that does not
/// parse refuses the deployment with a diagnostic naming `rates.csv` and its line, and the
/// table in force stays.
#[test]
fn each_deployment_rereads_the_rates_file() {
    use relance_daemon::catalog::Bundle;
    use relance_daemon::error::DaemonError;
    use rust_decimal::Decimal;

    let tmp = TempDir::new("law-rates-reread");
    let p = relance_data::portfolio::from_json(
        r#"{"customers": [{"id": "ACME", "segment": "b2b"}],
            "invoices": [{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-05-01", "due": "2026-05-31"}]}"#,
    )
    .expect("case");
    let engine = started(&tmp, d("2026-06-01"), &p);
    let stdlib = || Bundle::read_dir(&crate::workspace().join("stdlib-scenarios")).expect("stdlib");
    // Built-in table: 2027-H1 is past its last row (2026-H2, ECB 2.15 %).
    assert_eq!(
        engine.rates().ecb_rate_on(d("2027-02-01")),
        Some(Decimal::new(215, 2))
    );
    let file = tmp.0.join("data").join("rates.csv");
    std::fs::write(
        &file,
        "half_year,ecb_rate,legal_rate_professionals\n2027-H1,1.50,2.00\n",
    )
    .expect("write");
    engine.deploy(stdlib()).expect("deploys");
    assert_eq!(
        engine.rates().ecb_rate_on(d("2027-02-01")),
        Some(Decimal::new(150, 2))
    );
    std::fs::write(
        &file,
        "half_year,ecb_rate,legal_rate_professionals\n2027-H1,abc,\n",
    )
    .expect("write");
    match engine.deploy(stdlib()) {
        Err(DaemonError::Diagnostics(diags)) => {
            assert_eq!(diags.len(), 1, "{diags:?}");
            assert_eq!(diags[0].file, "rates.csv");
            assert_eq!(diags[0].line, 2);
            assert!(diags[0].message.contains("invalid rate `abc`"), "{diags:?}");
        }
        other => panic!("expected the deployment refused: {other:?}"),
    }
    assert_eq!(
        engine.rates().ecb_rate_on(d("2027-02-01")),
        Some(Decimal::new(150, 2))
    );
}

/// The data folder's `insurers.csv` is read when the daemon starts and again on each
/// deployment, as `rates.csv` is: the insurer tasks come from the file's parameters, as in
/// the simulator (the customer records, imported as JSON, carry no deadline of their own).
/// F-1 due 31 January 2026, hand-computed from that original due date:
/// - at start, threatened risk 60 days (28 + 31 + 1): task on 1 April 2026;
/// - the file changed to a stop-cover of 80 days, no notice (28 + 31 + 21): task on
///   21 April 2026 once deployed (the start's file gave none);
/// - a file that does not parse refuses the deployment with a diagnostic naming
///   `insurers.csv` and its line, and the policy in force stays: the claim (6 months, 15 days'
///   notice: 31 July less 15 days) comes on 16 July 2026.
///
/// The customer's cover in force (`Engine::cover_in_force`, the customer view's
/// `cover_in_force`) follows the file too, while the stored record keeps none of its deadlines.
#[test]
fn the_daemon_reads_the_insurers_file_at_start_and_on_each_deployment() {
    use relance_daemon::catalog::Bundle;
    use relance_daemon::error::DaemonError;

    let (_tmp, file, engine) = insured_acme("law-insurers-reread");
    let stdlib = || Bundle::read_dir(&crate::workspace().join("stdlib-scenarios")).expect("stdlib");
    let insurer_tasks = || insurer_tasks(&engine);
    engine.advance_to(d("2026-04-10")).expect("advance");
    assert_eq!(
        insurer_tasks(),
        [("threatened_risk".to_string(), d("2026-04-01"))]
    );
    // The customer view's cover in force (`GET /v1/customers/{id}`) is the file's, while the
    // record as imported carries no deadline.
    let acme = engine.customer("ACME").expect("read").expect("ACME");
    let stored = acme.credit_cover.clone().expect("covered");
    assert!(
        stored.threatened_risk.is_none() && stored.claim.is_none(),
        "{stored:?}"
    );
    let cover = || engine.cover_in_force(&acme).expect("covered");
    assert!(cover().threatened_risk.is_some(), "{:?}", cover());
    assert_eq!(cover().claim.map(|c| c.notice_days), Some(15));
    assert!(cover().stop_cover.is_none(), "{:?}", cover());

    std::fs::write(&file, WITH_STOP_COVER).expect("write");
    engine.deploy(stdlib()).expect("deploys");
    assert_eq!(cover().stop_cover.map(|c| c.notice_days), Some(0));
    engine.advance_to(d("2026-04-30")).expect("advance");
    assert_eq!(
        insurer_tasks(),
        [
            ("threatened_risk".to_string(), d("2026-04-01")),
            ("stop_cover".to_string(), d("2026-04-21")),
        ]
    );

    std::fs::write(
        &file,
        "insurer,max_extension_days,threatened_risk,claim\nacme-credit,sixty,60 days,6 months\n",
    )
    .expect("write");
    match engine.deploy(stdlib()) {
        Err(DaemonError::Diagnostics(diags)) => {
            assert_eq!(diags.len(), 1, "{diags:?}");
            assert_eq!(diags[0].file, "insurers.csv");
            assert_eq!(diags[0].line, 2);
            assert!(
                diags[0].message.contains(
                    "column \"max_extension_days\": expected a number of days, found \"sixty\""
                ),
                "{diags:?}"
            );
        }
        other => panic!("expected the deployment refused: {other:?}"),
    }
    engine.advance_to(d("2026-07-20")).expect("advance");
    assert_eq!(
        insurer_tasks().last(),
        Some(&("insurance_claim".to_string(), d("2026-07-16")))
    );
}

/// `insurers.csv` giving acme-credit a stop-cover of 80 days, no notice.
const WITH_STOP_COVER: &str = "insurer,max_extension_days,threatened_risk,claim,stop_cover,claim_notice_days\n\
                               acme-credit,60,60 days,6 months,80 days,15\n";

/// ACME, covered by acme-credit, F-1 of 800 EUR due 31 January 2026, the engine started on
/// 1 March 2026 over a data folder whose `insurers.csv` gives a threatened risk of 60 days
/// and a claim of 6 months with 15 days' notice. Returns the folder, that file and the engine.
fn insured_acme(
    tag: &str,
) -> (
    TempDir,
    std::path::PathBuf,
    std::sync::Arc<relance_daemon::Engine>,
) {
    let tmp = TempDir::new(tag);
    let data = tmp.0.join("data");
    std::fs::create_dir_all(&data).expect("data folder");
    let file = data.join("insurers.csv");
    std::fs::write(
        &file,
        "insurer,max_extension_days,threatened_risk,claim,claim_notice_days\n\
         acme-credit,60,60 days,6 months,15\n",
    )
    .expect("write");
    let p = relance_data::portfolio::from_json(
        r#"{"customers": [{"id": "ACME", "segment": "b2b", "insurer": "acme-credit", "credit_cover": "covered"}],
            "invoices": [{"id": "F-1", "customer": "ACME", "amount": "800", "issued": "2026-01-01", "due": "2026-01-31"}]}"#,
    )
    .expect("case");
    let engine = started(&tmp, d("2026-03-01"), &p);
    (tmp, file, engine)
}

/// The insurer tasks in the outbox (step, day), by day.
fn insurer_tasks(engine: &relance_daemon::Engine) -> Vec<(String, NaiveDate)> {
    let mut tasks: Vec<(String, NaiveDate)> = engine
        .outbox()
        .expect("outbox")
        .into_iter()
        .filter(|m| matches!(m.action, Action::Task { .. }))
        .flat_map(|m| {
            let date = m.date;
            m.items.into_iter().map(move |i| (i.step, date))
        })
        .filter(|(step, _)| {
            ["threatened_risk", "stop_cover", "insurance_claim"].contains(&step.as_str())
        })
        .collect();
    tasks.sort_by_key(|t| t.1);
    tasks
}

/// A deployment refused after the data files were read (its policy would leave F-1
/// unassigned) changes nothing: the insurers' policies of the new `insurers.csv` do not apply
/// (no stop-cover task on 21 April), as if the deployment had not been tried. Review
/// regression: the policies were applied, and the cases woken, before the coverage check.
#[test]
fn a_refused_deployment_leaves_the_insurers_policies_as_they_were() {
    use relance_daemon::catalog::Bundle;
    use relance_daemon::error::DaemonError;

    let (tmp, file, engine) = insured_acme("law-insurers-refused");
    engine.advance_to(d("2026-04-10")).expect("advance");
    std::fs::write(&file, WITH_STOP_COVER).expect("write");
    let small = tmp.0.join("small-set");
    std::fs::create_dir_all(&small).expect("set folder");
    std::fs::write(
        small.join("small.relance"),
        "scenario small {\n  applies when invoice.amount < 100 EUR\n\n  step reminder-1 at due + 3 days {\n    email \"reminder-1\" to accounting\n  }\n}\n",
    )
    .expect("write");
    match engine.deploy(Bundle::read_dir(&small).expect("set")) {
        Err(DaemonError::Diagnostics(diags)) => {
            assert!(diags.iter().any(|g| g.code == "unassigned"), "{diags:?}");
        }
        other => panic!("expected the deployment refused: {other:?}"),
    }
    engine.advance_to(d("2026-04-30")).expect("advance");
    assert_eq!(
        insurer_tasks(&engine),
        [("threatened_risk".to_string(), d("2026-04-01"))]
    );
}

/// Review regression: the insurers' policies are not stored, and a restart woke no case, so an
/// `insurers.csv` added (or shortened) while the daemon was down took effect only at each
/// insured case's next wake-up. ACME's F-1 (due 31 January 2026) runs from 1 March without the
/// file; on 13 March the file appears with a threatened risk whose deadline falls the day
/// before the case's next wake-up, and the daemon restarts: the declaration task comes on the
/// deadline, not at the case's next step.
#[test]
fn a_restart_wakes_insured_cases_under_a_new_insurers_file() {
    use relance_daemon::config::Config;
    use relance_daemon::server::{self, ClockMode};

    let tmp = TempDir::new("law-insurers-restart");
    let p = relance_data::portfolio::from_json(
        r#"{"customers": [{"id": "ACME", "segment": "b2b", "insurer": "acme-credit", "credit_cover": "covered"}],
            "invoices": [{"id": "F-1", "customer": "ACME", "amount": "800", "issued": "2026-01-01", "due": "2026-01-31"}]}"#,
    )
    .expect("case");
    let engine = started(&tmp, d("2026-03-01"), &p);
    engine.advance_to(d("2026-03-13")).expect("advance");
    assert_eq!(insurer_tasks(&engine), [], "no policy, no task");
    let next_wake = engine
        .case("F-1")
        .expect("read")
        .expect("F-1")
        .wake
        .expect("a running case has a wake-up");
    assert!(
        next_wake >= d("2026-03-16"),
        "the case must sleep past the restart for this test: {next_wake}"
    );
    drop(engine);

    // The deadline: the day before the next wake-up, counted from the due date.
    let deadline = next_wake.pred_opt().expect("date");
    let days = (deadline - d("2026-01-31")).num_days();
    let data = tmp.0.join("data");
    std::fs::write(
        data.join("insurers.csv"),
        format!("insurer,max_extension_days,threatened_risk,claim\nacme-credit,60,{days} days,12 months\n"),
    )
    .expect("write");
    let config = Config {
        data,
        spool: tmp.0.join("spool"),
        ..Config::default()
    };
    let stdlib = crate::workspace().join("stdlib-scenarios");
    let engine = server::open(&config, ClockMode::Virtual { start: None }, Some(&stdlib))
        .expect("the daemon restarts");
    engine.advance_to(next_wake).expect("advance");
    assert_eq!(
        insurer_tasks(&engine),
        [("threatened_risk".to_string(), deadline)],
        "the deadline falls before the case's next wake-up ({next_wake})"
    );
}
