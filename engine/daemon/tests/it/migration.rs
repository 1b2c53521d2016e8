//! A store written by an older relance is migrated on open. The fixture
//! `tests/fixtures/schema1-store.jsonl` is the backup of a schema-1 store written by the
//! relance of commit d2a5bf5 (before the event log), as its README says: after the migration
//! the store verifies sound, its event log holds the money and dispute facts that store only
//! kept as history lines, its outbox has its `due` index, and the engine runs on from it. A
//! schema-3 store's `pending` keys (date, event id) become keys in the canonical order of a
//! day's facts.

use std::io::BufReader;

use relance_core::domain::EventKind;
use relance_daemon::backup;
use relance_daemon::config::Config;
use relance_daemon::keys;
use relance_daemon::migrate::MIGRATED;
use relance_daemon::model::{StoredEvent, decode};
use relance_daemon::server::{self, ClockMode};
use relance_daemon::store::{Op, SCHEMA_KEY, SCHEMA_VERSION, SledStore, Store, Tree};
use relance_daemon::verify;
use rust_decimal::Decimal;

use crate::support::TempDir;

/// The `pending` keys of `store`, in key order.
fn pending_keys(store: &dyn Store) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    store
        .scan(Tree::Pending, &mut |k, _| {
            keys.push(k.to_vec());
            Ok(())
        })
        .expect("scan");
    keys
}

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

/// Schema 3 keyed `pending` by date then event id. A store holding facts that wait for their
/// day's run (written by this build through the JSON API, their keys put back in the schema-3
/// layout) is migrated on open: every key becomes the fact's key in the canonical order of
/// its day, the store verifies sound and the day's run applies every waiting fact.
#[test]
fn a_schema_3_store_gets_pending_keys_in_day_order() {
    let tmp = TempDir::new("migration-3");
    let config = Config {
        data: tmp.0.join("data"),
        spool: tmp.0.join("spool"),
        ..Config::default()
    };
    let day: chrono::NaiveDate = "2026-03-02".parse().expect("date");
    let stdlib = crate::workspace().join("stdlib-scenarios");
    let p: relance_core::domain::Portfolio = serde_json::from_value(serde_json::json!({
        "customers": [{"id": "C1", "segment": "b2b"}],
        "invoices": [
            {"id": "F-1", "customer": "C1", "amount": "900.00", "issued": "2026-01-05", "due": "2026-02-04"},
            {"id": "F-2", "customer": "C1", "amount": "700.00", "issued": "2026-01-06", "due": "2026-02-05"}
        ],
        "events": [
            {"date": "2026-03-02", "type": "payment", "invoice": "F-2", "amount": "700.00"},
            {"date": "2026-03-01", "type": "payment", "invoice": "F-1", "amount": "900.00"}
        ]
    }))
    .expect("portfolio");
    let old_keys = {
        let engine = server::open(
            &config,
            ClockMode::Virtual { start: Some(day) },
            Some(&stdlib),
        )
        .expect("open");
        engine.import(&p).expect("import before the day's run");
        engine.flush().expect("flush");
        let store = engine.store();
        let pending = pending_keys(store);
        assert_eq!(pending.len(), 2, "both facts wait for the run");
        // Back to schema 3: date, event id.
        let mut ops = Vec::new();
        let mut old_keys = Vec::new();
        for k in pending {
            let mut old = k[..4].to_vec();
            old.extend_from_slice(&k[k.len() - 8..]);
            ops.push(Op::Delete(Tree::Pending, k));
            ops.push(Op::Put(Tree::Pending, old.clone(), Vec::new()));
            old_keys.push(old);
        }
        ops.push(Op::Put(
            Tree::Meta,
            SCHEMA_KEY.to_vec(),
            3u32.to_be_bytes().to_vec(),
        ));
        store.commit(&ops).expect("commit");
        engine.flush().expect("flush");
        old_keys
    };

    let engine = server::open(&config, ClockMode::Virtual { start: None }, Some(&stdlib))
        .expect("the schema-3 store opens");
    let store = engine.store();
    assert_eq!(
        store.get(Tree::Meta, SCHEMA_KEY).expect("get"),
        Some(SCHEMA_VERSION.to_be_bytes().to_vec())
    );
    let mut expected = Vec::new();
    store
        .scan(Tree::Events, &mut |_, v| {
            let e: StoredEvent = decode("event", v).expect("event");
            expected.push(keys::pending(&e.order_key()));
            Ok(())
        })
        .expect("scan");
    expected.sort();
    let got = pending_keys(store);
    assert_eq!(
        got, expected,
        "every key rewritten, none left in the old layout"
    );
    assert!(old_keys.iter().all(|k| !got.contains(k)));
    assert!(verify::verify(store).expect("verify").ok());
    engine.catch_up(day).expect("the day's run");
    assert_eq!(engine.outstanding("C1").expect("C1"), Decimal::ZERO);
    let left = pending_keys(store).len();
    assert_eq!(left, 0, "the run applied every waiting fact");
}

/// Schema 5 ranked a day's facts by their file's kind (a camt.053 statement's facts last, rank
/// 3); schema 6 by what they are (a payment with the payments). A statement's payment waiting
/// for its day's run in a schema-5 store gets its schema-6 key on open, and the day's run
/// applies it once.
#[test]
fn a_schema_5_store_ranks_a_waiting_statement_payment_as_a_payment() {
    use relance_core::fact_order::{FileKind, FileLine};
    use relance_daemon::model::encode;

    let tmp = TempDir::new("migration-5");
    let config = Config {
        data: tmp.0.join("data"),
        spool: tmp.0.join("spool"),
        ..Config::default()
    };
    let day: chrono::NaiveDate = "2026-03-02".parse().expect("date");
    let stdlib = crate::workspace().join("stdlib-scenarios");
    let p: relance_core::domain::Portfolio = serde_json::from_value(serde_json::json!({
        "customers": [{"id": "C1", "segment": "b2b"}],
        "invoices": [
            {"id": "F-1", "customer": "C1", "amount": "900.00", "issued": "2026-01-05", "due": "2026-02-04"}
        ],
        "events": [
            {"date": "2026-03-02", "type": "payment", "invoice": "F-1", "amount": "900.00"}
        ]
    }))
    .expect("portfolio");
    let legacy = {
        let engine = server::open(
            &config,
            ClockMode::Virtual { start: Some(day) },
            Some(&stdlib),
        )
        .expect("open");
        engine.import(&p).expect("import before the day's run");
        engine.flush().expect("flush");
        let store = engine.store();
        let mut events = Vec::new();
        store
            .scan(Tree::Events, &mut |k, v| {
                events.push((
                    k.to_vec(),
                    decode::<StoredEvent>("event", v).expect("event"),
                ));
                Ok(())
            })
            .expect("scan");
        assert_eq!(events.len(), 1, "{events:?}");
        let (id_key, mut stored) = events.remove(0);
        let api_key = keys::pending(&stored.order_key());
        // As a schema-5 daemon recorded a payment read from a statement: its file and line,
        // and a pending key of rank 3.
        stored.source.via = "import".into();
        stored.source.batch = Some(1);
        stored.source.at = Some(FileLine {
            kind: FileKind::Statement,
            file: 0,
            line: 1,
        });
        let mut legacy = keys::pending(&stored.order_key());
        assert_eq!(legacy[4], 1, "schema 6 ranks it with the payments");
        legacy[4] = 3;
        let ops = vec![
            Op::Put(Tree::Events, id_key, encode(&stored)),
            Op::Delete(Tree::Pending, api_key),
            Op::Put(Tree::Pending, legacy.clone(), Vec::new()),
            Op::Put(Tree::Meta, SCHEMA_KEY.to_vec(), 5u32.to_be_bytes().to_vec()),
        ];
        store.commit(&ops).expect("commit");
        engine.flush().expect("flush");
        legacy
    };

    let engine = server::open(&config, ClockMode::Virtual { start: None }, Some(&stdlib))
        .expect("the schema-5 store opens");
    let store = engine.store();
    assert_eq!(
        store.get(Tree::Meta, SCHEMA_KEY).expect("get"),
        Some(SCHEMA_VERSION.to_be_bytes().to_vec())
    );
    let got = pending_keys(store);
    let mut renewed = legacy.clone();
    renewed[4] = 1;
    assert_eq!(got, vec![renewed], "the rank-3 key rewritten as rank 1");
    assert!(verify::verify(store).expect("verify").ok());
    engine.catch_up(day).expect("the day's run");
    assert_eq!(engine.outstanding("C1").expect("C1"), Decimal::ZERO);
    let left = pending_keys(store).len();
    assert_eq!(left, 0, "the run applied the waiting payment once");
}
