//! Stored idempotency keys are pruned by the daily run once older than
//! `idempotency_retention_days`, on the virtual clock: a key stored on day W still replays
//! through day W + N; the run of day W + N + 1 deletes it, after which a retry with it is
//! applied as a new write (its fact logged again); a key within the retention still replays.
//! Deletions go through the store's commits (in batches of `Engine::batch`), so the kept
//! entry counts stay equal to the walked ones, the store verifies and reopens (sealed counts).
//! The setting is refused when below 1, naming it.

use std::sync::Arc;

use chrono::{Days, NaiveDate};

use relance_core::domain::{Customer, Event, EventKind};
use relance_daemon::catalog::Bundle;
use relance_daemon::clock::VirtualClock;
use relance_daemon::config::Config;
use relance_daemon::engine::{Engine, Idem, Keyed};
use relance_daemon::server::{self, ClockMode};
use relance_daemon::store::{SledStore, Store, Tree};
use relance_daemon::{keys, verify};
use relance_data::portfolio;

use crate::support::TempDir;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn plus(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_add_days(Days::new(n)).expect("date")
}

/// Entries of `tree`, walked (what the kept count must agree with).
fn walked(store: &dyn Store, tree: Tree) -> usize {
    let mut n = 0;
    store
        .scan(tree, &mut |_, _| {
            n += 1;
            Ok(())
        })
        .expect("scan");
    n
}

/// The key `key` of the caller `erp`, for a request fingerprinted `fingerprint`.
fn idem(key: &str, fingerprint: &str) -> Idem {
    Idem {
        key: keys::idempotency("erp", key),
        fingerprint: fingerprint.into(),
    }
}

/// Whether the write was applied now (`true`) or replayed (`false`).
fn applied<T>(k: Keyed<T>) -> bool {
    matches!(k, Keyed::Fresh(_))
}

/// With a retention of 3 days (through `relance.toml`, as `relance serve` reads it): keyed
/// writes on day D and D + 2; the run of D + 3 keeps both, the run of D + 4 deletes D's key
/// only. A retry with D's key is then applied again (one more fact in the log) and stored
/// anew; D + 2's key still replays. Counts stay right across all of it, and a reopen.
#[test]
fn keys_older_than_the_retention_are_pruned_by_the_daily_run() {
    let tmp = TempDir::new("idem-prune");
    let day = d("2026-04-01");
    let scenarios = crate::workspace().join("stdlib-scenarios");
    let p = portfolio::load_dir(&crate::workspace().join("examples")).expect("examples");
    let config = Config {
        data: tmp.0.join("data"),
        spool: tmp.0.join("spool"),
        idempotency_retention_days: 3,
        ..Config::default()
    };
    let open = || {
        server::open(
            &config,
            ClockMode::Virtual { start: Some(day) },
            Some(&scenarios),
        )
        .expect("engine")
    };
    let engine = open();
    engine.import(&p).expect("import");
    engine.catch_up(day).expect("the first day's run");
    let risk = |customer: &str, score: i64| {
        [Event {
            date: day,
            kind: EventKind::RiskChanged {
                customer: customer.to_string(),
                risk_score: score,
            },
        }]
    };
    let customer = p.customers[0].id.clone();
    let (old_write, recent_write) = (risk(&customer, 70), risk(&customer, 40));
    let (old, recent) = (idem("risk-1", "request-1"), idem("risk-2", "request-2"));
    let events = || engine.store().count(Tree::Events);
    let keys_held = |engine: &Engine| {
        let kept = engine.store().count(Tree::Idempotency);
        assert_eq!(
            kept,
            walked(engine.store(), Tree::Idempotency),
            "kept = walked"
        );
        kept
    };

    // Day D: the first key.
    let before = events();
    assert!(applied(
        engine
            .apply_events_keyed(&old_write, Some(&old))
            .expect("write")
    ));
    assert_eq!(events(), before + 1);
    // Day D + 2: the second key.
    engine.advance_to(plus(day, 2)).expect("advance");
    assert!(applied(
        engine
            .apply_events_keyed(&recent_write, Some(&recent))
            .expect("write")
    ));
    assert_eq!(keys_held(&engine), 2);

    // Day D + 3 (run done): D is not older than D + 3 − 3: both keys are kept.
    let days = engine.advance_to(plus(day, 3)).expect("advance");
    assert_eq!(
        days.iter().map(|r| r.idempotency_pruned).sum::<u64>(),
        0,
        "nothing is old enough yet"
    );
    assert_eq!(keys_held(&engine), 2);
    let logged = events();
    assert!(
        !applied(
            engine
                .apply_events_keyed(&old_write, Some(&old))
                .expect("replay")
        ),
        "on the retention's last day the key still replays"
    );
    assert_eq!(events(), logged, "a replay writes nothing");

    // Day D + 4 (run done): D's key is older than D + 4 − 3 and is gone; D + 2's is kept.
    let days = engine.advance_to(plus(day, 4)).expect("advance");
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].idempotency_pruned, 1, "{days:?}");
    assert_eq!(keys_held(&engine), 1);
    assert_eq!(
        engine
            .store()
            .get(Tree::Idempotency, &old.key)
            .expect("get"),
        None
    );
    assert!(
        !applied(
            engine
                .apply_events_keyed(&recent_write, Some(&recent))
                .expect("replay")
        ),
        "a key within the retention still replays"
    );
    assert_eq!(events(), logged);
    // A retry with the pruned key is a new write: applied, its fact logged again, its reply
    // stored again (dated today), so that its own retries replay.
    assert!(
        applied(
            engine
                .apply_events_keyed(&old_write, Some(&old))
                .expect("write")
        ),
        "a pruned key is applied as a new write"
    );
    assert_eq!(events(), logged + 1);
    assert_eq!(keys_held(&engine), 2);
    assert!(!applied(
        engine
            .apply_events_keyed(&old_write, Some(&old))
            .expect("replay")
    ));
    engine.flush().expect("flush");
    let report = verify::verify(engine.store()).expect("verify");
    assert!(report.ok(), "{}", report.summary());
    drop(engine);

    // Reopened: the sealed counts match the trees (deletions were counted), the keys kept.
    let engine = open();
    assert_eq!(keys_held(&engine), 2);
    assert!(!applied(
        engine
            .apply_events_keyed(&recent_write, Some(&recent))
            .expect("replay")
    ));
}

/// More expired keys than one batch: the pruning deletes them all, a batch (here 2 keys) per
/// commit, keeps the key of the day within the retention (here 1 day), and counts right.
#[test]
fn pruning_goes_through_every_batch() {
    let tmp = TempDir::new("idem-batches");
    let day = d("2026-04-01");
    let store = Arc::new(SledStore::open(&tmp.0.join("data")).expect("store"));
    let mut engine = Engine::open(store.clone(), Arc::new(VirtualClock::new(day))).expect("engine");
    engine.batch = 2;
    engine.idempotency_retention_days = 1;
    engine
        .deploy(Bundle::read_dir(&crate::workspace().join("stdlib-scenarios")).expect("set"))
        .expect("deploy");
    engine.catch_up(day).expect("first day");
    let p = portfolio::load_dir(&crate::workspace().join("examples")).expect("examples");
    let customers: Vec<Customer> = p.customers.iter().take(1).cloned().collect();
    let put = |key: &str| {
        engine
            .put_customers_keyed(&customers, Some(&idem(key, key)))
            .expect("write")
    };
    for n in 0..5 {
        assert!(applied(put(&format!("day-0-{n}"))));
    }
    engine.advance_to(plus(day, 1)).expect("advance");
    assert!(applied(put("day-1")));
    assert_eq!(store.count(Tree::Idempotency), 6);

    // The run of D + 2 deletes the keys of D (older than D + 2 − 1), not those of D + 1.
    let days = engine.advance_to(plus(day, 2)).expect("advance");
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].idempotency_pruned, 5, "{days:?}");
    assert_eq!(store.count(Tree::Idempotency), 1);
    assert_eq!(walked(&*store, Tree::Idempotency), 1);
    assert!(!applied(put("day-1")), "the key of D + 1 still replays");
    assert!(applied(put("day-0-3")), "a pruned key is applied anew");
    assert_eq!(store.count(Tree::Idempotency), 2);
    assert_eq!(walked(&*store, Tree::Idempotency), 2);
}

/// `idempotency_retention_days`: 30 by default; 0 and negative values are refused with an
/// error naming the setting.
#[test]
fn the_retention_setting_is_checked() {
    let c = Config::parse("").expect("defaults");
    assert_eq!(c.idempotency_retention_days, 30);
    assert_eq!(c.idempotency_retention(), 30);
    let c = Config::parse("idempotency_retention_days = 7").expect("7 days");
    assert_eq!(c.idempotency_retention(), 7);
    for bad in ["0", "-1", "-30"] {
        let err = Config::parse(&format!("idempotency_retention_days = {bad}"))
            .err()
            .unwrap_or_else(|| panic!("{bad} is refused"))
            .to_string();
        assert!(
            err.contains("idempotency_retention_days must be at least 1")
                && err.contains(&format!("found {bad}")),
            "{bad}: {err}"
        );
    }
    assert!(Config::parse("idempotency_retention_days = \"30\"").is_err());
}
