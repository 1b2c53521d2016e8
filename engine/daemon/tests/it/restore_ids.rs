//! Regression test: a restore continues the source store's ids. Before the fix, `relance
//! restore` into a new sled store restarted `Store::next_id` at 0, so the events, history
//! entries and messages written after the restore took the ids of restored ones and
//! overwrote them. This file owns only that property (the byte-for-byte backup round trip is
//! in `daemon_engine`).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use relance_core::domain::{Event, EventKind};
use relance_daemon::Engine;
use relance_daemon::backup;
use relance_daemon::config::Config;
use relance_daemon::server::{self, ClockMode};
use relance_daemon::store::{SledStore, Store, Tree};
use relance_data::portfolio;

use crate::support::TempDir;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// Every entry of the trees keyed by store ids (values as JSON: a backup keeps a value's JSON,
/// not its bytes).
fn entries(store: &dyn Store) -> BTreeMap<(&'static str, Vec<u8>), serde_json::Value> {
    let mut out = BTreeMap::new();
    for tree in [Tree::Events, Tree::History, Tree::EventIndex, Tree::Outbox] {
        store
            .scan(tree, &mut |k, v| {
                let value = serde_json::from_slice(v).unwrap_or(serde_json::Value::Null);
                out.insert((tree.name(), k.to_vec()), value);
                Ok(())
            })
            .expect("scan");
    }
    out
}

/// A promise on the `nth` open case.
fn promise(engine: &Engine, invoices: &[String], today: NaiveDate, nth: usize) -> [Event; 1] {
    let invoice = invoices
        .iter()
        .filter(|i| {
            engine
                .case(i)
                .expect("case")
                .is_some_and(|r| r.case.is_open())
        })
        .nth(nth)
        .expect("an open case")
        .clone();
    [Event {
        date: today,
        kind: EventKind::PromiseMade {
            invoice,
            promised_date: d("2026-04-20"),
            amount: None,
        },
    }]
}

#[test]
fn restored_ids_are_never_reused_by_later_writes() {
    let tmp = TempDir::new("restore-ids");
    let today = d("2026-04-01");
    let scenarios = crate::workspace().join("stdlib-scenarios");
    let p = portfolio::load_dir(&crate::workspace().join("examples")).expect("examples");
    let invoices: Vec<String> = p.invoices.iter().map(|i| i.id.clone()).collect();
    let open = |data: &str| {
        let config = Config {
            data: tmp.0.join(data),
            spool: tmp.0.join("spool"),
            ..Config::default()
        };
        server::open(
            &config,
            ClockMode::Virtual { start: Some(today) },
            Some(&scenarios),
        )
        .expect("engine")
    };
    let engine = open("data");
    engine.import(&p).expect("import");
    engine.catch_up(today).expect("first day");
    drop(engine);
    // A served store is restarted: sled resumes its ids 2,000,000 further at each reopening,
    // so the source's later facts carry ids a new store reaches after one reopening.
    for nth in 0..2 {
        let engine = open("data");
        engine
            .apply_events_keyed(&promise(&engine, &invoices, today, nth), None)
            .expect("write");
        engine.flush().expect("flush");
    }
    let engine = open("data");
    let mut dump = Vec::new();
    backup::export(engine.store(), &mut dump).expect("export");
    let before = entries(engine.store());
    let events = engine.store().count(Tree::Events);
    assert!(events > 10, "a meaningful log: {events} events");
    drop(engine);

    {
        let restored = SledStore::open(&tmp.0.join("restored")).expect("open");
        backup::restore(&restored, &mut dump.as_slice(), false).expect("restore");
    }
    let engine = open("restored");
    let reopened = entries(engine.store());
    let changed: Vec<_> = before
        .iter()
        .filter(|(k, v)| reopened.get(*k) != Some(*v))
        .map(|((tree, key), _)| format!("{tree} {key:02x?}"))
        .chain(
            reopened
                .keys()
                .filter(|k| !before.contains_key(*k))
                .map(|(tree, key)| format!("new {tree} {key:02x?}")),
        )
        .take(8)
        .collect();
    assert!(changed.is_empty(), "restored as backed up: {changed:?}");
    // New facts after the restore: two promises (on two other cases).
    for nth in 2..4 {
        engine
            .apply_events_keyed(&promise(&engine, &invoices, today, nth), None)
            .expect("write after the restore");
    }
    engine.flush().expect("flush");

    let after = entries(engine.store());
    let overwritten: Vec<_> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(*v))
        .map(|((tree, key), _)| format!("{tree} {key:02x?}"))
        .take(5)
        .collect();
    assert!(
        overwritten.is_empty(),
        "restored entries overwritten or lost by later writes: {overwritten:?}"
    );
    assert_eq!(
        engine.store().count(Tree::Events),
        events + 2,
        "the two new events are added, not written over restored ones"
    );
    let greatest = |m: &BTreeMap<(&'static str, Vec<u8>), serde_json::Value>| {
        m.keys()
            .filter(|(t, _)| *t == "events")
            .map(|(_, k)| u64::from_be_bytes(k.as_slice().try_into().expect("8 bytes")))
            .max()
            .expect("events")
    };
    assert!(
        greatest(&after) > greatest(&before),
        "new ids continue past the restored ones"
    );
}
