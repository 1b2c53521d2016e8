//! The Portfolio page's series on a real store: the bundled example portfolio imported into a
//! fresh sled store, 60 days run by the daily run, then `portfolio::series_from_snapshot` (and
//! the kept `portfolio::series` where the two agree). The aged balance
//! and DSO/CEI are the reports' own figures; the activity and channel series add up to what
//! the store holds; every series draws as a chart.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use relance_core::domain::{EventKind, Portfolio};
use relance_daemon::Engine;
use relance_daemon::model::MessageStatus;
use relance_daemon::portfolio::{self, PortfolioOptions};
use relance_daemon::snapshot;
use relance_data::portfolio as files;
use relance_pictures::{Lang, charts};
use relance_sim::reports::{aged, dso};

use crate::daemon_engine::started;
use crate::support::TempDir;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// [`started`] (`p` imported on `from`, the first day run), then the daily run up to `until`.
fn run(tmp: &TempDir, p: &Portfolio, from: NaiveDate, until: NaiveDate) -> Arc<Engine> {
    let engine = started(tmp, from, p);
    engine.advance_to(until).expect("advance");
    engine
}

#[test]
fn the_portfolio_series_come_from_the_store() {
    let tmp = TempDir::new("portfolio");
    let from = d("2026-04-01");
    let until = from.checked_add_days(Days::new(59)).expect("date");
    let p = files::load_dir(&crate::workspace().join("examples")).expect("examples");
    let engine = run(&tmp, &p, from, until);
    assert_eq!(engine.today(), until);

    let options = PortfolioOptions {
        months: 3,
        ..PortfolioOptions::default()
    };
    // The recomputation restates every period end from the event log, as the reports do.
    let s = portfolio::series_from_snapshot(&engine, &options).expect("series");
    let snap = snapshot::take(&engine).expect("snapshot");
    // The page's kept series hold what the engine held on each day: today's aged balance is
    // the report's, and so are the payments and the messages (`aggregates.rs` tests the rest).
    let kept = portfolio::series(&engine, &options).expect("kept");
    assert_eq!(kept.aged.last(), s.aged.last());
    assert_eq!(kept.channels, s.channels);
    assert_eq!(kept.activity, s.activity);

    // Period ends: 30 April, 31 May, and today (30 May is the 60th day).
    let ends: Vec<NaiveDate> = s.aged.iter().map(|a| a.date).collect();
    assert_eq!(ends, [d("2026-03-31"), d("2026-04-30"), until]);
    for point in &s.aged {
        let report = aged::aged_balance(&snap.portfolio, point.date);
        assert_eq!(
            point.buckets,
            report.totals.get("EUR").cloned().unwrap_or_default(),
            "the aged report on {}",
            point.date
        );
    }
    assert!(s.aged[2].buckets.total > Decimal::ZERO, "{:?}", s.aged[2]);
    for point in &s.ratios {
        let report = dso::dso(
            &snap.portfolio,
            point.date,
            &dso::DsoOptions {
                currency: "EUR".into(),
                ..dso::DsoOptions::default()
            },
        );
        assert_eq!((point.dso, point.cei), (report.simple_dso, report.cei));
    }

    // Collected: every EUR payment logged in the three months.
    let eur: BTreeMap<&str, &str> = snap
        .portfolio
        .invoices
        .iter()
        .map(|i| (i.id.as_str(), i.currency.as_str()))
        .collect();
    let paid: Decimal = snap
        .portfolio
        .events
        .iter()
        .filter(|e| e.date >= d("2026-03-01") && e.date <= until)
        .filter_map(|e| match &e.kind {
            EventKind::Payment {
                invoice, amount, ..
            } if eur.get(invoice.as_str()) == Some(&"EUR") => Some(*amount),
            _ => None,
        })
        .sum();
    let collected: Decimal = s.activity.iter().map(|a| a.collected).sum();
    assert!(paid > Decimal::ZERO, "the examples log payments");
    assert_eq!(collected, paid);
    // Chased: the engine sent reminders in April and May.
    assert!(s.activity[1].chased > Decimal::ZERO, "{:?}", s.activity);
    assert!(s.activity[2].chased > Decimal::ZERO, "{:?}", s.activity);

    // Messages by channel: every message of the outbox, once.
    let outbox = engine.outbox().expect("outbox");
    let counted: u64 = s.channels.iter().map(|c| c.sent + c.pending + c.dead).sum();
    let delivered = outbox
        .iter()
        .filter(|m| m.status == MessageStatus::Delivered)
        .count();
    assert!(
        counted as usize >= outbox.len() - delivered,
        "{:?}",
        s.channels
    );
    assert!(
        s.channels.iter().any(|c| c.channel == "email"),
        "{:?}",
        s.channels
    );

    // Cases in error: one point per day of the last 30.
    assert_eq!(s.errors.len(), 30);
    assert_eq!(s.errors.last().map(|e| e.date), Some(until));

    // Every series draws.
    for (name, chart) in [
        ("aged", charts::aged_balance(&s.aged, "EUR", Lang::Fr)),
        ("dso", charts::dso_cei(&s.ratios, Lang::En)),
        ("activity", charts::activity(&s.activity, "EUR", Lang::En)),
        (
            "channels",
            charts::messages_by_channel(&s.channels, Lang::En),
        ),
        ("errors", charts::cases_in_error(&s.errors, Lang::En)),
    ] {
        let chart = chart.expect("draws");
        assert!(chart.svg.starts_with("<svg"), "{name}");
        assert!(chart.svg.contains("role=\"img\""), "{name}");
    }
}

/// What one call of `portfolio::series` costs on a generated store, against the former
/// recomputation (`series_from_snapshot`): `PORTFOLIO_INVOICES` invoices (default 20,000),
/// imported and run for 3 days, then `PORTFOLIO_RUNS` calls of each (default 20) timed, p50
/// and max. Run by hand: `PORTFOLIO_INVOICES=50000 cargo test -p relance-daemon --test it
/// portfolio_series_cost -- --ignored --nocapture` (a release build for real figures).
#[test]
#[ignore]
fn portfolio_series_cost() {
    let var = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let n = var("PORTFOLIO_INVOICES", 20_000);
    let runs = var("PORTFOLIO_RUNS", 20).max(1);
    let tmp = TempDir::new("portfolio-cost");
    let as_of = d("2026-04-01");
    let spec = relance_data::generator::Spec {
        customers: (n / 10).max(1),
        invoices: n,
        seed: 7,
        as_of,
    };
    let dir = tmp.0.join("gen");
    relance_data::generator::generate(spec, &dir, &mut |_| {}).expect("generate");
    let p = files::load_dir(&dir).expect("generated");
    let until = as_of.checked_add_days(Days::new(2)).expect("date");
    let start = std::time::Instant::now();
    let engine = run(&tmp, &p, as_of, until);
    let load = start.elapsed();
    type Series = fn(
        &Engine,
        &PortfolioOptions,
    ) -> Result<portfolio::PortfolioSeries, relance_daemon::DaemonError>;
    let ways: [(&str, Series, usize); 2] = [
        ("kept counters (series)", portfolio::series, runs),
        (
            "recomputed (series_from_snapshot)",
            portfolio::series_from_snapshot,
            runs.min(5),
        ),
    ];
    for (name, f, k) in ways {
        let mut times = Vec::new();
        for _ in 0..k {
            let start = std::time::Instant::now();
            let s = f(&engine, &PortfolioOptions::default()).expect("series");
            times.push(start.elapsed());
            assert_eq!(s.aged.len(), 6);
        }
        times.sort();
        eprintln!(
            "{n} invoices (load and 3 days: {load:?}), {name}, {k} calls: p50 {:?}, max {:?}",
            times[k / 2],
            times[k - 1]
        );
    }
}
