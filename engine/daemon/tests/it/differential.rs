//! The daemon decides what the planner decides (issue 15), on generated data fed the way a
//! real integration feeds it. For each seed, `relance_data::generator` writes a portfolio;
//! the simulator (what `relance plan` runs) plans it whole over the window; the daemon gets
//! the same facts on their own days, each day's facts split into random batches sent in a
//! random order that only respects dependencies (a customer before its invoices, an invoice
//! before its events), some batches retried with their idempotency key, and the engine
//! closed and reopened from disk at random moments. Both must end with the same dated
//! actions per invoice and the same case states; the planner plans the portfolio as the
//! daemon receives it (`parity::as_received`: facts posted through the API count in their
//! order of receipt within a day, LANGUAGE.md "What happens first on one day").
//!
//! Bounded: a few seeds of a few hundred invoices over about 75 days. A failure prints the
//! seed and the first differing invoices; `RELANCE_DIFF_SEEDS` and `RELANCE_DIFF_INVOICES`
//! run a larger sweep by hand. The comparison is `parity.rs`'s; the same
//! differential on a real `relance serve` killed with SIGKILL is `engine/cli/tests/it/crash.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use relance_core::domain::Portfolio;
use relance_daemon::Engine;
use relance_daemon::config::Config;
use relance_daemon::engine::{Idem, Keyed};
use relance_daemon::keys;
use relance_daemon::server::{self, ClockMode};
use relance_data::generator::{self, Spec};
use relance_data::portfolio;

use crate::parity::{arrivals, as_received, assert_agree, batches, decided, planned};
use crate::support::TempDir;

thread_local! {
    /// The last seed's planned account actions (entering a level, clearing) and per-invoice
    /// actions that needed two overdue invoices: what the account test asserts it covered.
    static ACCOUNT_ACTIONS: std::cell::Cell<(usize, usize, usize)> = const { std::cell::Cell::new((0, 0, 0)) };
}

thread_local! {
    /// The last seed's planned actions as (invoice, day): what the installment test counts.
    static INSTALLMENT_ACTIONS: std::cell::Cell<Vec<(String, NaiveDate)>> = const { std::cell::Cell::new(Vec::new()) };
}

fn scenarios() -> PathBuf {
    crate::workspace().join("stdlib-scenarios")
}

struct Daemon {
    config: Config,
    set: PathBuf,
    from: NaiveDate,
    engine: Option<Arc<Engine>>,
    restarts: usize,
}

impl Daemon {
    fn new(tmp: &TempDir, from: NaiveDate, set: PathBuf) -> Daemon {
        let config = Config {
            data: tmp.0.join("store"),
            spool: tmp.0.join("spool"),
            // PostgreSQL when engine/pg's tests run this file (support::store_for), else sled.
            store: crate::support::store_for(tmp),
            ..Config::default()
        };
        let mut d = Daemon {
            config,
            set,
            from,
            engine: None,
            restarts: 0,
        };
        d.engine();
        d
    }

    /// The open engine, reopened from disk after a restart.
    fn engine(&mut self) -> Arc<Engine> {
        if self.engine.is_none() {
            let scenarios = self.set.clone();
            let engine = server::open(
                &self.config,
                ClockMode::Virtual {
                    start: Some(self.from),
                },
                Some(&scenarios),
            )
            .expect("the store opens");
            self.engine = Some(engine);
        }
        Arc::clone(self.engine.as_ref().expect("open"))
    }

    fn restart(&mut self) {
        if let Some(e) = self.engine.take() {
            e.flush().expect("flush");
        }
        self.restarts += 1;
    }

    /// Sends one batch under its idempotency key: fresh the first time, replayed after.
    fn send(&mut self, batch: &Portfolio, key: &str, again: bool) {
        let idem = Idem {
            key: keys::idempotency("erp", key),
            fingerprint: key.to_string(),
        };
        let engine = self.engine();
        match engine.import_keyed(batch, Some(&idem)) {
            Ok(Keyed::Fresh(_)) => assert!(!again, "batch {key} sent again was applied again"),
            Ok(Keyed::Replay(_)) => assert!(again, "batch {key} sent once was a replay"),
            Err(e) => panic!("batch {key} refused: {e}"),
        }
    }
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One seed: generate, plan, feed the daemon day by day, compare. Returns the number of
/// actions compared, the restarts made and the cadence's effect (see [`planned`]).
fn one_seed(seed: u64, invoices: usize, set: Option<&str>) -> (usize, usize, (usize, usize)) {
    one_seed_with(seed, invoices, set, |_| {})
}

/// [`one_seed`], the generated portfolio changed by `change` before both sides see it.
fn one_seed_with(
    seed: u64,
    invoices: usize,
    set: Option<&str>,
    change: impl FnOnce(&mut Portfolio),
) -> (usize, usize, (usize, usize)) {
    let tmp = TempDir::new(&format!(
        "diff-{seed}-{}",
        if set.is_some() { "set" } else { "stdlib" }
    ));
    let as_of = NaiveDate::from_ymd_opt(2026, 5, 15).expect("date");
    generator::generate(
        Spec {
            customers: (invoices / 6).max(3),
            invoices,
            seed,
            as_of,
        },
        &tmp.0.join("data"),
        &mut |_| {},
    )
    .expect("generate");
    let mut p = portfolio::load_dir(&tmp.0.join("data")).expect("generated data loads");
    change(&mut p);
    let from = as_of.checked_sub_days(Days::new(45)).expect("date");
    let until = as_of.checked_add_days(Days::new(30)).expect("date");
    let dir = match set {
        Some(text) => {
            let dir = tmp.0.join("set");
            std::fs::create_dir_all(&dir).expect("set dir");
            std::fs::write(dir.join("set.relance"), text).expect("set");
            dir
        }
        None => scenarios(),
    };
    // Each day's facts in random batches, decided first: the planner plans the portfolio as
    // the daemon receives them (facts posted through the API count in their order of
    // receipt within a day).
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut by_day = arrivals(&p, from);
    let mut feed = Vec::new();
    let mut day = from;
    while day <= until {
        let facts = by_day.remove(&day).unwrap_or_default();
        feed.push((day, batches(&facts, &mut rng)));
        day = day.succ_opt().expect("date");
    }
    assert!(by_day.is_empty(), "every fact is sent");
    let all: Vec<Portfolio> = feed.iter().flat_map(|(_, b)| b.clone()).collect();
    let (plan, plan_states, effect) = planned(&as_received(&p, &all), &dir, from, until);

    let mut daemon = Daemon::new(&tmp, from, dir);
    let mut sent = 0usize;
    for (day, day_batches) in feed {
        daemon.engine().move_virtual_clock(day).expect("clock");
        for batch in day_batches {
            let key = format!("batch-{sent}");
            sent += 1;
            daemon.send(&batch, &key, false);
            if rng.random_bool(0.1) {
                daemon.restart();
            }
            if rng.random_bool(0.1) {
                // A retry of the same request, as after a lost answer.
                daemon.send(&batch, &key, true);
            }
        }
        daemon.engine().catch_up(day).expect("the day's run");
        if rng.random_bool(0.05) {
            daemon.restart();
        }
    }
    let engine = daemon.engine();
    let (got, got_states) = decided(&engine, &p);
    assert_agree(seed, (&plan, &plan_states), (&got, &got_states));
    let compared = plan.values().map(BTreeSet::len).sum();
    let all = || plan.values().flatten();
    INSTALLMENT_ACTIONS.with(|c| {
        c.set(
            plan.iter()
                .flat_map(|(inv, set)| set.iter().map(move |(day, _, _)| (inv.clone(), *day)))
                .collect(),
        )
    });
    ACCOUNT_ACTIONS.with(|c| {
        c.set((
            all().filter(|(_, k, _)| k.contains("/level ")).count(),
            all().filter(|(_, k, _)| k.contains("/on clear/")).count(),
            all().filter(|(_, _, a)| a.contains("\"many\"")).count(),
        ))
    });
    (compared, daemon.restarts, effect)
}

#[test]
fn the_daemon_fed_in_random_batches_decides_what_the_planner_decides() {
    if crate::support::skip_store_tests() {
        return;
    }
    let seeds = env_or("RELANCE_DIFF_SEEDS", 3) as u64;
    let invoices = env_or("RELANCE_DIFF_INVOICES", 200);
    let (mut total, mut deferred, mut merged) = (0, 0, 0);
    for seed in 1..=seeds {
        let (compared, restarts, (later, severer)) = one_seed(seed, invoices, None);
        eprintln!(
            "seed {seed}: {compared} dated actions agree, {restarts} restarts; the cadence moved {later} and merged {severer}"
        );
        assert!(compared > 50, "seed {seed}: a meaningful run ({compared})");
        total += compared;
        deferred += later;
        merged += severer;
    }
    eprintln!("{seeds} seeds, {total} dated actions compared");
    // The stdlib's cadence is exercised: messages waited out a gap and merged across steps.
    assert!(
        deferred > 0 && merged > 0,
        "the cadence changed nothing ({deferred} moved, {merged} merged)"
    );
}

/// Account-level dunning: `b2b` customers under a `per customer` scenario (levels by the
/// oldest overdue invoice and by the overdue amount, `on clear`), the others under a
/// per-invoice scenario that reads the overdue figures; the daemon and the planner agree on
/// every dated action (one per overdue invoice of the account) and every case.
const ACCOUNTS: &str = r#"
policy default {
  use accounts when customer.segment == "b2b"
  use invoices otherwise
}

scenario accounts {
  per customer
  level late when customer.oldest_overdue_days >= 10 {
    webhook "late"
  }
  level later when customer.oldest_overdue_days >= 30 {
    webhook "later"
    block deliveries
  }
  level big when customer.overdue >= 20000 EUR {
    webhook "big"
  }
  on clear {
    unblock deliveries
    webhook "clear"
  }
}

scenario invoices {
  step one at due + 10 days {
    if customer.overdue_count >= 2 {
      webhook "many"
    } else {
      webhook "one"
    }
  }
}
"#;

#[test]
fn the_daemon_drives_per_customer_accounts_as_the_planner_does() {
    let seeds = env_or("RELANCE_DIFF_SEEDS", 2) as u64;
    let invoices = env_or("RELANCE_DIFF_INVOICES", 200);
    for seed in 1..=seeds {
        let (compared, restarts, _) = one_seed(seed, invoices, Some(ACCOUNTS));
        eprintln!("seed {seed}: {compared} dated actions agree, {restarts} restarts");
        assert!(compared > 50, "seed {seed}: a meaningful run ({compared})");
        let (levels, clears, overdue_read) = ACCOUNT_ACTIONS.with(|c| c.take());
        eprintln!(
            "seed {seed}: {levels} level actions, {clears} clear actions, {overdue_read} `many`"
        );
        assert!(
            levels > 0 && clears > 0 && overdue_read > 0,
            "seed {seed}: accounts entered levels ({levels}), cleared ({clears}), overdue counted ({overdue_read})"
        );
    }
}

/// Installments (LANGUAGE.md, "Installments"): every third generated invoice is paid 40 % a
/// month before its due date and the rest on it. The daemon, fed its facts day by day, and the
/// planner chase each installment on the same days, through the stdlib's cadence.
#[test]
fn the_daemon_chases_installments_as_the_planner_does() {
    if crate::support::skip_store_tests() {
        return;
    }
    let seeds = env_or("RELANCE_DIFF_SEEDS", 2) as u64;
    let invoices = env_or("RELANCE_DIFF_INVOICES", 200);
    for seed in 1..=seeds {
        let mut split = BTreeMap::new();
        let (compared, restarts, _) = one_seed_with(seed, invoices, None, |p| {
            for inv in p.invoices.iter_mut().step_by(3) {
                let first = inv.due - Days::new(30);
                if first <= inv.issued {
                    continue;
                }
                let part = (inv.amount * rust_decimal::Decimal::new(4, 1)).round_dp(2);
                inv.installments = vec![
                    relance_core::domain::Installment {
                        due: first,
                        amount: part,
                    },
                    relance_core::domain::Installment {
                        due: inv.due,
                        amount: inv.amount - part,
                    },
                ];
                split.insert(inv.id.clone(), (first, inv.due));
            }
        });
        // Each side already compared every action; count those the first installment's
        // chase decided (dated before the invoice's last due date, after its first one).
        let early = INSTALLMENT_ACTIONS.with(|c| {
            c.take()
                .iter()
                .filter(|(inv, day)| {
                    split
                        .get(inv)
                        .is_some_and(|(first, last)| day > first && day < last)
                })
                .count()
        });
        eprintln!(
            "seed {seed}: {compared} dated actions agree, {restarts} restarts; {} invoices with installments, {early} actions on a first installment",
            split.len()
        );
        assert!(compared > 50, "seed {seed}: a meaningful run ({compared})");
        assert!(
            split.len() > 10 && early > 0,
            "seed {seed}: installments exercised ({early})"
        );
    }
}
