//! A store written by an older relance is migrated on open. The fixture
//! `tests/fixtures/schema1-store.jsonl` is the backup of a schema-1 store written by the
//! relance of commit d2a5bf5 (before the event log), as its README says: after the migration
//! the store verifies sound, its event log holds the money and dispute facts that store only
//! kept as history lines, its outbox has its `due` index, and the engine runs on from it.

use std::io::BufReader;

use relance_core::domain::EventKind;
use relance_daemon::backup;
use relance_daemon::config::Config;
use relance_daemon::migrate::MIGRATED;
use relance_daemon::model::{StoredEvent, decode};
use relance_daemon::server::{self, ClockMode};
use relance_daemon::store::{SCHEMA_KEY, SCHEMA_VERSION, SledStore, Store, Tree};
use relance_daemon::verify;
use rust_decimal::Decimal;

use crate::support::TempDir;

fn fixture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema1-store.jsonl")
}

/// One fact as `invoice kind amount` (amounts and dispute details where the kind has them).
fn describe(kind: &EventKind) -> String {
    match kind {
        EventKind::Payment {
            invoice, amount, ..
        } => format!("{invoice} payment {amount}"),
        EventKind::CreditNote {
            invoice, amount, ..
        } => format!("{invoice} credit_note {amount}"),
        EventKind::WriteOff { invoice, .. } => format!("{invoice} write_off"),
        EventKind::DisputeOpened {
            invoice,
            code,
            amount,
            target_date,
            ..
        } => format!(
            "{invoice} dispute_opened {code} {} {}",
            amount.map(|a| a.to_string()).unwrap_or("-".into()),
            target_date.map(|d| d.to_string()).unwrap_or("-".into())
        ),
        EventKind::DisputeResolved { invoice, .. } => format!("{invoice} dispute_resolved"),
        other => format!("{other:?}"),
    }
}

#[test]
fn a_schema_1_store_is_migrated_on_open_and_runs_on() {
    let tmp = TempDir::new("migration");
    let config = Config {
        data: tmp.0.join("data"),
        spool: tmp.0.join("spool"),
        ..Config::default()
    };
    {
        let store = SledStore::open(&config.data).expect("store");
        let file = std::fs::File::open(fixture()).expect("fixture");
        backup::restore(&store, &mut BufReader::new(file), false).expect("restore");
        let schema = store.get(Tree::Meta, SCHEMA_KEY).expect("get");
        assert_eq!(
            schema,
            Some(1u32.to_be_bytes().to_vec()),
            "the fixture is schema 1"
        );
        let report = verify::verify(&store).expect("verify");
        assert!(
            !report.decoded,
            "an older schema is not decoded before its migration"
        );
    }

    let engine = server::open(&config, ClockMode::Virtual { start: None }, None).expect("open");
    let store = engine.store();
    assert_eq!(
        store.get(Tree::Meta, SCHEMA_KEY).expect("get"),
        Some(SCHEMA_VERSION.to_be_bytes().to_vec())
    );
    let report = verify::verify(store).expect("verify");
    assert!(report.decoded && report.ok(), "{:#?}", report.problems);

    let mut facts = Vec::new();
    store
        .scan(Tree::Events, &mut |_, v| {
            let e: StoredEvent = decode("event", v).expect("event");
            assert_eq!(e.source.via, MIGRATED);
            facts.push(format!("{} {}", e.event.date, describe(&e.event.kind)));
            Ok(())
        })
        .expect("scan");
    facts.sort();
    assert_eq!(
        facts,
        [
            "2026-02-20 F-1 payment 400.00",
            "2026-02-20 F-2 credit_note 100.00",
            "2026-02-20 F-3 dispute_opened quality 1000.00 2026-03-15",
            "2026-02-20 F-4 dispute_opened logistics - -",
            "2026-03-10 F-1 payment 800.00",
            "2026-03-10 F-2 write_off",
            "2026-03-10 F-4 dispute_resolved",
        ]
    );

    // The engine runs on from the migrated store: money as it stood, then later days.
    assert_eq!(engine.today().to_string(), "2026-03-20");
    assert_eq!(engine.outstanding("ACME").expect("ACME"), Decimal::ZERO);
    assert_eq!(
        engine.outstanding("BETA").expect("BETA"),
        Decimal::new(5800, 0)
    );
    let later = engine.today() + chrono::Days::new(10);
    let days = engine.advance_to(later).expect("ten more days");
    assert_eq!(days.len(), 10);
    assert!(verify::verify(engine.store()).expect("verify").ok());
}
