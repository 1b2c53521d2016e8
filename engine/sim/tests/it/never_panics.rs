//! Hostile but accepted portfolios never make the planner panic: a data folder at the limits
//! the readers accept (amounts of `MAX_AMOUNT`, dates in 1900 and 2200, contractual and table
//! rates of 100 % and -100 %, terms of 3650 days, catch-ups of 3650 days and business days,
//! 10,000 sends of a step, a hundred installments, insurer deadlines of 99,999 months and
//! `u32::MAX` days, promises and extensions to 2200-12-31, a procedure judged in 1900, a tag
//! of 10,000 characters, every kind of event) is planned with the stdlib scenarios for a week
//! at both ends of the accepted calendar, in 9999 and at the end of chrono's (`relance plan
//! --from` takes any date), as `relance plan --data` does (one simulator, and shards choosing
//! ahead up to 2200), then the reports are drawn (aged balance, activity, behaviour,
//! insurance, DSO with the default and extreme options). A case JSON touching every date and
//! amount field the planner reads is also planned with each field, alone, at its limits (what
//! the readers accept of 0001-01-01 to 9999-12-31, `MAX_AMOUNT`, 0, `-0`, 3650-day terms and
//! catch-ups). Then one regression test per panic found. The readers' side is
//! `relance-data`'s `never_panics`.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{Datelike, Days, NaiveDate};
use relance_core::runtime::Shared;
use relance_sim::reports::activity::activity;
use relance_sim::reports::aged::aged_balance;
use relance_sim::reports::behaviour::{self, behaviour};
use relance_sim::reports::dso::{DsoOptions, MonthConvention, dso};
use relance_sim::reports::insurance::insurance;
use relance_sim::simulator::Simulator;

/// The stdlib's scenarios, and none (the policy picks).
const SCENARIOS: [&str; 9] = [
    "",
    "b2c",
    "credit-insured",
    "high-risk",
    "key-account",
    "litigation",
    "preventive",
    "small-amounts",
    "standard-b2b",
];

/// `MAX_AMOUNT`, the largest amount the readers accept.
const MAX: &str = "1000000000000000.00";

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// A data folder with one customer per scenario, each with the same hostile invoices and
/// events.
fn hostile_folder(dir: &Path, scenarios: &[&str], installments: u64) {
    let mut customers = String::from(
        "id,name,segment,scenario,risk_score,payment_terms,insurer,credit_cover,credit_limit,late_interest_rate,accounting_email\n",
    );
    let mut invoices = String::from(
        "id,customer,amount,currency,issued,due,outstanding,payment_terms,installments,catch_up,late_interest_rate,dunning_step,dunning_date,dunning_attempts\n",
    );
    let mut events = String::from(
        "date,type,invoice,customer,code,amount,promised_date,target_date,risk_score,procedure,judgment_on,published_on,to,reason,payment_date,outcome,role,tag,scenario,by,because,step\n",
    );
    // `installments` installments, one every 400 days from 1900, the last for the rest.
    let last = installments.saturating_sub(1);
    let mut many: Vec<String> = (0..last)
        .map(|i| format!("{} 1", d("1900-01-31") + Days::new(400 * i)))
        .collect();
    many.push(format!("{} rest", d("1900-01-31") + Days::new(400 * last)));
    let many = many.join("; ");
    // A tag of ten thousand characters.
    let tag = "T".repeat(10_000);
    for (n, scenario) in scenarios.iter().enumerate() {
        let c = format!("C{n}");
        let old = format!("{c}-OLD");
        let segment = if *scenario == "b2c" { "b2c" } else { "b2b" };
        writeln!(
            customers,
            "{c},Customer {n},{segment},{scenario},100,net 3650,acme-credit,covered,{MAX},100,c{n}@example.test"
        )
        .unwrap();
        let rows = [
            // Three centuries late at 100 %.
            format!("{c}-OLD,{c},{MAX},EUR,1900-01-01,1900-01-31,,,,,100"),
            format!("{c}-END,{c},{MAX},EUR,2200-12-31,2200-12-31,,,,,"),
            format!(
                "{c}-INST,{c},{MAX},EUR,1900-01-01,,,,1900-01-31 999999999999999.99; 2200-12-31 rest,,"
            ),
            format!("{c}-CENT,{c},0.01,EUR,1900-01-01,1900-01-02,0.01,,,,"),
            format!("{c}-CATCH,{c},{MAX},EUR,1900-01-01,1900-01-31,{MAX},,,gradual 3650 days,"),
            format!("{c}-TERMS,{c},{MAX},JPY,1900-01-01,,,net 3650,,,"),
            format!("{c}-EOM,{c},{MAX},EUR,2200-01-01,,,end of month + 300 days,,,"),
            format!(
                "{c}-MID,{c},{MAX},EUR,1900-01-01,1900-01-31,,,,gradual 3650 business days,,reminder-1,1900-02-05,10000"
            ),
            format!("{c}-MANY,{c},{MAX},XOF,1900-01-01,,,,{many},latest,0"),
        ];
        for row in rows
            .into_iter()
            .filter(|r| installments > 1 || !r.contains("-MANY"))
        {
            // Rows leave the trailing columns out.
            let pad = ",".repeat(13 - row.matches(',').count());
            writeln!(invoices, "{row}{pad}").unwrap();
        }
        let rows = [
            format!("1900-02-01,promise_made,{c}-OLD,,,{MAX},2200-12-31,,,,,,,,"),
            format!("1900-02-01,dispute_opened,{c}-CATCH,,quality/other,{MAX},,2200-12-31,,,,,,,"),
            format!("1900-02-02,due_date_extended,{c}-INST,,,,,,,,,,2200-12-31,,"),
            format!("1900-02-03,payment,{c}-OLD,,,999999999999999.99,,,,,,,,,"),
            format!(
                "2200-12-30,payment_reversed,{c}-OLD,,,999999999999999.99,,,,,,,,other,1900-02-03"
            ),
            format!("2200-12-31,risk_changed,,{c},,,,,0,,,,,,"),
            format!("1900-02-10,promise_made,{c}-INST,,,{MAX},2200-12-31,,,,,,,,"),
            format!("1900-02-11,credit_note,{c}-END,,,{MAX},,,,,,,,,"),
            format!("1900-02-12,write_off,{c}-CENT,,,,,,,,,,,,"),
            event(&[
                (0, "1900-03-01"),
                (1, "task_outcome"),
                (2, &old),
                (6, "2200-12-31"),
                (15, "called"),
            ]),
            event(&[
                (0, "1900-03-02"),
                (1, "contact_bounced"),
                (3, &c),
                (16, "accounting"),
            ]),
            event(&[(0, "1900-03-03"), (1, "tag_added"), (3, &c), (17, &tag)]),
            event(&[(0, "2200-12-30"), (1, "tag_removed"), (3, &c), (17, &tag)]),
            event(&[
                (0, "1900-03-04"),
                (1, "scenario_changed"),
                (2, &format!("{c}-TERMS")),
                (18, "litigation"),
                (19, "credit-manager"),
                (20, "hostile"),
            ]),
            event(&[
                (0, "1900-03-05"),
                (1, "payment_failed"),
                (2, &format!("{c}-EOM")),
                (13, "INSUFFICIENT_FUNDS"),
            ]),
            event(&[
                (0, "1900-03-06"),
                (1, "write_off_reversed"),
                (2, &format!("{c}-CENT")),
            ]),
            event(&[
                (0, "2200-12-31"),
                (1, "dispute_resolved"),
                (2, &format!("{c}-CATCH")),
            ]),
        ];
        for row in rows {
            // Rows leave the trailing columns out.
            let pad = ",".repeat(21 - row.matches(',').count());
            writeln!(events, "{row}{pad}").unwrap();
        }
    }
    // A collective procedure judged in 1900, published in 2200.
    events.push_str(
        "1900-01-02,insolvency_opened,,C0,,,,,,redressement,1900-01-01,2200-12-31,,,,,,,,,,\n",
    );
    events.push_str("2200-12-31,insolvency_closed,,C0,,,,,,,,,,ended,,,,,,,,\n");
    let insurers = "insurer,max_extension_days,threatened_risk,claim,stop_cover,stop_cover_notice_days,claim_notice_days,threatened_risk_notice_days,procedure_declaration\n\
                    acme-credit,4294967295,99999 months,4294967295 days,99999 months,4294967295,4294967295,4294967295,99999 months\n";
    // Rates at both ends of what a table may say, after the built-in rows.
    let rates = "half_year,ecb_rate,legal_rate_professionals\n2027-H1,100,100\n2027-H2,-100,-100\n";
    for (name, text) in [
        ("rates.csv", rates),
        ("customers.csv", customers.as_str()),
        ("invoices.csv", invoices.as_str()),
        ("events.csv", events.as_str()),
        ("insurers.csv", insurers),
    ] {
        std::fs::write(dir.join(name), text).expect("write");
    }
}

/// An `events.csv` row of 22 cells, `cells` given by column index.
fn event(cells: &[(usize, &str)]) -> String {
    let mut row = vec![""; 22];
    for &(i, text) in cells {
        row[i] = text;
    }
    row.join(",")
}

/// The windows planned: a week at each end of the accepted calendar, one today, and one at
/// the end of year 9999.
const WINDOWS: [(&str, &str); 4] = [
    ("1900-01-01", "1900-01-07"),
    ("2026-01-01", "2026-01-07"),
    ("2200-12-25", "2200-12-31"),
    ("9999-12-25", "9999-12-31"),
];

/// Plans the hostile folder of `scenarios` (with an invoice of `installments` installments)
/// over each window (one simulator, then two shards choosing ahead, as `relance plan` does,
/// in the accepted calendar), then draws the aged balance.
fn plan(scenarios: &[&str], installments: u64, windows: &[(NaiveDate, NaiveDate)]) {
    let dir = tempfile::tempdir().expect("tempdir");
    hostile_folder(dir.path(), scenarios, installments);
    let p = relance_data::portfolio::load_dir(dir.path())
        .unwrap_or_else(|e| panic!("the hostile folder is accepted: {e}"));
    let set = relance_core::scenario_set::load(&crate::workspace().join("stdlib-scenarios"))
        .expect("stdlib");
    let compiled = set.compile();
    let ir = compiled.set.as_ref().expect("stdlib compiles");
    let rates = relance_data::rates::load(Some(dir.path())).expect("rates");
    let shared = Shared {
        set: ir,
        rules: &set.rules,
        rates: &rates.table,
    };
    for &(from, until) in windows {
        let run = Simulator::new(shared, &p).run(from, until, &mut |_| {});
        assert_eq!(run.cases.len(), p.invoices.len());
        assert!(
            from.year() < 2026 || !run.actions.is_empty(),
            "nothing planned from {from}"
        );
        if from.year() <= 2200 {
            for sim in Simulator::shards(shared, &p, 2) {
                let _ = sim.look_ahead(usize::MAX).run(from, until, &mut |_| {});
            }
        }
        let aged = aged_balance(&p, until);
        let _ = (aged.to_text(), aged.to_csv());
        let activity = activity(&run.actions, &run.records, until);
        let _ = (activity.to_text(), activity.to_csv());
        let rows = behaviour(&p, &run.records, until);
        let _ = (behaviour::to_text(&rows, until), behaviour::to_csv(&rows));
        let policies = relance_data::insurers::load(dir.path()).expect("insurers");
        let cover = insurance(&p, &policies, until);
        let _ = (cover.to_text(), cover.to_csv());
        for options in [
            DsoOptions::default(),
            DsoOptions {
                period_days: u32::MAX,
                max_months: 1000,
                month_convention: MonthConvention::ThirtyDay,
                cei_months: 100,
                ..DsoOptions::default()
            },
        ] {
            let dso = dso(&p, until, &options);
            let _ = (dso.to_text(), dso.to_csv());
        }
    }
}

#[test]
fn a_hostile_but_accepted_folder_is_planned_without_panic() {
    let windows: Vec<_> = WINDOWS.iter().map(|(a, b)| (d(a), d(b))).collect();
    plan(&SCENARIOS, 100, &windows);
}

/// The last week of chrono's calendar (`relance plan --from +262142-12-25`), for one insured
/// customer: every day's wake-up, deadline and interest slice is computed there. (Late
/// interest is cut in half-years since the due date: half a million slices per invoice and
/// charge, so this run keeps to one customer and no installments.)
#[test]
fn the_last_week_of_the_calendar_is_planned_without_panic() {
    plan(
        &["credit-insured"],
        0,
        &[(NaiveDate::MAX - Days::new(6), NaiveDate::MAX)],
    );
}

/// A case JSON of one invoice started mid-way at `reminder-1`, with `attempts`.
fn mid_way(attempts: &str, catch_up: &str) -> String {
    format!(
        r#"{{
  "customers": [{{"id": "ACME", "scenario": "standard-b2b"}}],
  "invoices": [{{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01",
    "due": "2026-01-31", "dunning_step": "reminder-1", "dunning_date": "2026-02-05",
    "dunning_attempts": {attempts}, "catch_up": "{catch_up}"}}]
}}"#
    )
}

/// Plans `p` with the stdlib scenarios from 2026-03-01 for a week.
fn plan_case(p: &relance_core::domain::Portfolio) -> relance_sim::simulator::Run {
    with_stdlib(|shared| {
        Simulator::new(shared, p).run(d("2026-03-01"), d("2026-03-07"), &mut |_| {})
    })
}

/// Runs `f` with the stdlib scenarios compiled and the built-in rate table.
fn with_stdlib<T>(f: impl FnOnce(Shared<'_>) -> T) -> T {
    let set = relance_core::scenario_set::load(&crate::workspace().join("stdlib-scenarios"))
        .expect("stdlib");
    let compiled = set.compile();
    let ir = compiled.set.as_ref().expect("stdlib compiles");
    f(Shared {
        set: ir,
        rules: &set.rules,
        rates: relance_core::interest::RateTable::builtin(),
    })
}

/// An invoice started mid-way with `dunning_attempts` 4294967295 panicked the planner with
/// "attempt to add with overflow" (`Machine::run_due_gradually` sums the steps' fired counts,
/// `u32`). The count of sends is now at most 10,000, refused at import naming the field; the
/// largest accepted count plans.
#[test]
fn dunning_attempts_of_u32_max_are_refused_the_largest_accepted_plans() {
    let error = relance_data::portfolio::from_json(&mid_way("4294967295", "gradual 7 days"))
        .expect_err("too many attempts")
        .to_string();
    assert!(
        error.contains("invoices[0] (F-1).dunning_attempts: ") && error.contains("10000"),
        "{error}"
    );
    let p = relance_data::portfolio::from_json(&mid_way("10000", "gradual 7 days"))
        .expect("10000 attempts");
    let run = plan_case(&p);
    assert!(!run.actions.is_empty(), "the next steps are planned");
}

/// A `catch_up` of `gradual 4294967295 business days` made the planner walk business days
/// one by one until the end of chrono's calendar (`Calendar::checked_add_business_days`,
/// minutes per catch-up step): the walk now stops at once when the calendar cannot hold as
/// many days, and an interval is at most 3650 of its unit at import. The largest accepted
/// interval plans.
#[test]
fn a_catch_up_of_u32_max_business_days_is_refused_the_largest_accepted_plans() {
    let error =
        relance_data::portfolio::from_json(&mid_way("1", "gradual 4294967295 business days"))
            .expect_err("too long an interval")
            .to_string();
    assert!(
        error.contains("invoices[0] (F-1).catch_up") && error.contains("at most 3650"),
        "{error}"
    );
    let p = relance_data::portfolio::from_json(&mid_way("1", "gradual 3650 business days"))
        .expect("3650 business days");
    let started = std::time::Instant::now();
    let _ = plan_case(&p);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// The insurance report (`relance insurance DIR --at DATE`) panicked with "`NaiveDate + Days`
/// out of range" (`InsurerPolicy::deadlines`, the latest extension the policy allows) when
/// `insurers.csv` gave `max_extension_days` 4294967295: the limit now saturates at the end of
/// the calendar, like the policy's other deadlines, and no extension passes it.
#[test]
fn an_extension_limit_of_u32_max_days_saturates_in_the_insurance_report() {
    let policies = relance_data::insurers::parse(
        "insurer,max_extension_days,threatened_risk,claim\nacme-credit,4294967295,60 days,6 months\n",
    )
    .expect("policies");
    let p = relance_data::portfolio::from_json(
        r#"{
  "customers": [{"id": "ACME", "insurer": "acme-credit"}],
  "invoices": [{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31"}],
  "events": [{"date": "2026-02-10", "type": "due_date_extended", "invoice": "F-1", "to": "2200-12-31"}]
}"#,
    )
    .expect("case");
    let report = insurance(&p, &policies, d("2026-03-01"));
    let text = report.to_text();
    assert!(!text.contains("policy allows"), "{text}");
}

/// The event dates the year check does not cover (a procedure's judgment and publication, an
/// extension's new due date, a returned payment's original date) at the ends of what the
/// readers parse: planned for a week without panic.
#[test]
fn event_dates_outside_the_checked_years_are_planned_without_panic() {
    for (early, late) in [("0001-01-01", "9999-12-31"), ("1900-01-01", "2200-12-31")] {
        let case = format!(
            r#"{{
  "customers": [{{"id": "ACME", "insurer": "acme-credit"}}, {{"id": "BETA"}}],
  "invoices": [
    {{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31"}},
    {{"id": "F-2", "customer": "BETA", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31"}}
  ],
  "events": [
    {{"date": "2026-02-01", "type": "payment", "invoice": "F-2", "amount": "500", "remittance_date": "{early}"}},
    {{"date": "2026-02-02", "type": "payment_reversed", "invoice": "F-2", "amount": "500", "payment_date": "{early}"}},
    {{"date": "2026-02-03", "type": "due_date_extended", "invoice": "F-1", "to": "{late}"}},
    {{"date": "2026-02-04", "type": "insolvency_opened", "customer": "BETA", "procedure": "liquidation",
      "judgment_on": "{early}", "published_on": "{late}"}}
  ]
}}"#
        );
        let p = match relance_data::portfolio::from_json(&case) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{early}/{late}: refused: {e}");
                continue;
            }
        };
        let run = plan_case(&p);
        let _ = run.actions.len();
        let _ = aged_balance(&p, d("2026-03-07")).to_text();
    }
}

/// A case touching every date and amount field the planner reads; `{slot}`s take a default
/// or a hostile value.
const CASE: &str = r#"{
  "customers": [
    {"id": "ACME", "insurer": "acme-credit", "late_interest_rate": "{rate}", "scenario": "{scenario}"},
    {"id": "BETA", "segment": "b2c"}
  ],
  "invoices": [
    {"id": "F-1", "customer": "ACME", "amount": "{amount}", "issued": "{issued}", "due": "{due}",
     "outstanding": "{outstanding}", "dunning_step": "reminder-1", "dunning_date": "{dunning_date}",
     "catch_up": "{catch_up}"},
    {"id": "F-2", "customer": "ACME", "amount": "{amount}", "issued": "{issued}",
     "payment_terms": "{terms}", "delivered_on": "{delivered_on}",
     "installments": "{installments}"},
    {"id": "F-3", "customer": "BETA", "amount": "{amount}", "issued": "{issued}", "due": "{due}"}
  ],
  "events": [
    {"date": "{date}", "type": "payment", "invoice": "F-1", "amount": "{paid}", "remittance_date": "{remitted}"},
    {"date": "{date}", "type": "payment_reversed", "invoice": "F-1", "amount": "{paid}", "payment_date": "{date}"},
    {"date": "{date}", "type": "promise_made", "invoice": "F-2", "promised_date": "{promised}", "amount": "{paid}"},
    {"date": "{date}", "type": "dispute_opened", "invoice": "F-3", "code": "quality", "amount": "{paid}", "target_date": "{promised}"},
    {"date": "{date}", "type": "credit_note", "invoice": "F-3", "amount": "{paid}"},
    {"date": "{date}", "type": "due_date_extended", "invoice": "F-1", "to": "{to}"},
    {"date": "{date}", "type": "insolvency_opened", "customer": "BETA", "procedure": "sauvegarde",
     "judgment_on": "{judgment}", "published_on": "{to}"}
  ]
}"#;

const CASE_DEFAULTS: [(&str, &str); 17] = [
    ("rate", "12"),
    ("scenario", "standard-b2b"),
    ("amount", "1000"),
    ("issued", "2026-01-01"),
    ("due", "2026-01-31"),
    ("outstanding", "1000"),
    ("dunning_date", "2026-02-05"),
    ("catch_up", "gradual 7 days"),
    ("terms", "net 30 from delivery"),
    ("delivered_on", "2026-01-05"),
    ("installments", "2026-01-20 400; 2026-02-04 rest"),
    ("date", "2026-02-10"),
    ("paid", "100"),
    ("remitted", "2026-02-08"),
    ("promised", "2026-03-03"),
    ("to", "2026-03-02"),
    ("judgment", "2026-02-09"),
];

/// Every slot of [`CASE`] at each hostile value, alone: what the readers accept is planned
/// for a week from 2026-03-01 and from 2200-12-25 without panic.
#[test]
fn each_field_at_its_limits_is_planned_without_panic() {
    let dates = [
        "0001-01-01",
        "1900-01-01",
        "2026-01-01",
        "2200-12-31",
        "9999-12-31",
    ];
    let amounts = ["1000000000000000", "999999999999999.99", "0.01", "0", "-0"];
    let hostile = |slot: &str| -> Vec<&str> {
        match slot {
            "rate" => vec!["0", "100", "0.0000000000000000000000001"],
            "scenario" => SCENARIOS.to_vec(),
            "amount" | "outstanding" | "paid" => amounts.to_vec(),
            "catch_up" => vec![
                "latest",
                "gradual 3650 business days",
                "gradual 3650 months",
            ],
            "terms" => vec![
                "net 3650 from delivery",
                "3650 days end of month from delivery",
                "end of month + 3650 days",
                "periodic 3650",
            ],
            "installments" => vec![
                "1900-01-01 0.01; 2200-12-31 rest",
                "2026-01-20 100%; 2026-02-04 rest",
                "2026-01-20 999.99; 2026-02-04 rest",
            ],
            _ => dates.to_vec(),
        }
    };
    let (mut planned, mut refused) = (0, 0);
    let windows = [
        (d("2026-03-01"), d("2026-03-07")),
        (d("2200-12-25"), d("2200-12-31")),
    ];
    with_stdlib(|shared| {
        for (slot, _) in CASE_DEFAULTS {
            for value in hostile(slot) {
                let mut case = CASE.replace(&format!("{{{slot}}}"), value);
                for (name, default) in CASE_DEFAULTS {
                    case = case.replace(&format!("{{{name}}}"), default);
                }
                let case = case.replace(r#", "scenario": """#, "");
                let Ok(p) = relance_data::portfolio::from_json(&case) else {
                    refused += 1;
                    continue;
                };
                planned += 1;
                for (from, until) in windows {
                    let run = Simulator::new(shared, &p).run(from, until, &mut |_| {});
                    let _ = activity(&run.actions, &run.records, until).to_text();
                    let _ = aged_balance(&p, until).to_text();
                }
            }
        }
    });
    assert!(planned > refused, "{planned} planned, {refused} refused");
}
