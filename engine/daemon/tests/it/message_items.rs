//! A message's items stored apart from it (schema 5): joining a group writes one item and the
//! message's header, whatever the group's size; a store written in schema 4's layout (whole
//! messages), backed up and restored, is migrated on open to the same messages, also when a
//! first migration was killed half-way.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

use relance_daemon::backup;
use relance_daemon::catalog::Bundle;
use relance_daemon::clock::VirtualClock;
use relance_daemon::config::Config;
use relance_daemon::dispatcher::Dispatcher;
use relance_daemon::keys;
use relance_daemon::messages;
use relance_daemon::model::{Message, MessageHeader, decode, encode};
use relance_daemon::server::{self, ClockMode};
use relance_daemon::store::{Op, SCHEMA_KEY, SledStore, Store, StoreError, Tree};
use relance_daemon::{Engine, outbox, verify};

use crate::support::TempDir;

/// A store that keeps every commit's ops (what the engine writes), over sled.
struct Recording {
    inner: SledStore,
    commits: Mutex<Vec<Vec<Op>>>,
}

impl Store for Recording {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }
    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        self.commits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ops.to_vec());
        self.inner.commit(ops)
    }
    relance_daemon::forward_store_reads!();
}

const SET: &str = "scenario all {\n  step reminder-1 at due + 3 days {\n    email \"reminder-1\" to accounting\n  }\n}\n";

/// Sixty invoices of one customer fall due on the same day: their reminders make one grouped
/// message (`group by customer`, the default; no cadence), and with a daily run of one timer
/// per unit of work, each invoice joins it in a commit of its own. Every one of those commits
/// writes exactly one item and the header (and nothing else of the message): the bytes it
/// writes for the message do not grow with the number of items already in it (before
/// schema 5 each join rewrote every item: the k-th join wrote about k items' bytes).
#[test]
fn joining_a_group_writes_one_item_and_the_header_whatever_the_group_s_size() {
    const N: usize = 60;
    let tmp = TempDir::new("items-join");
    let day: NaiveDate = "2026-04-03".parse().expect("date");
    let rec = Arc::new(Recording {
        inner: SledStore::open(&tmp.0).expect("store"),
        commits: Mutex::new(Vec::new()),
    });
    let mut engine = Engine::open(rec.clone(), Arc::new(VirtualClock::new(day))).expect("engine");
    engine.batch = 1;
    engine
        .deploy(
            Bundle::from_map(BTreeMap::from([
                ("all.relance".to_string(), SET.to_string()),
                (
                    "templates/reminder-1.fr.txt".to_string(),
                    "Subject: Relance\n\nBonjour\n".to_string(),
                ),
            ]))
            .expect("bundle"),
        )
        .expect("deploy");
    let invoices: Vec<serde_json::Value> = (1..=N)
        .map(|i| {
            serde_json::json!({"id": format!("F-{i:03}"), "customer": "ACME", "amount": "1000.00",
                "issued": "2026-03-01", "due": "2026-03-31"})
        })
        .collect();
    let p: relance_core::domain::Portfolio = serde_json::from_value(serde_json::json!({
        "customers": [{"id": "ACME", "segment": "b2b"}],
        "invoices": invoices,
    }))
    .expect("portfolio");
    engine.import(&p).expect("import");
    rec.commits.lock().expect("lock").clear();
    engine.catch_up(day).expect("the day's run");

    // The commits that write the message: (items written, headers written, their bytes).
    let bytes = |ops: &[&Op]| -> usize {
        ops.iter()
            .map(|op| match op {
                Op::Put(_, k, v) => k.len() + v.len(),
                Op::Delete(_, k) => k.len(),
            })
            .sum()
    };
    let joins: Vec<(usize, usize, usize)> = rec
        .commits
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|ops| {
            let of = |t: Tree| -> Vec<&Op> {
                ops.iter()
                    .filter(|op| matches!(op, Op::Put(x, ..) | Op::Delete(x, _) if *x == t))
                    .collect()
            };
            let items = of(Tree::MessageItems);
            let headers = of(Tree::Outbox);
            (!items.is_empty() || !headers.is_empty()).then(|| {
                let mut all = items.clone();
                all.extend(&headers);
                all.extend(of(Tree::Due));
                (items.len(), headers.len(), bytes(&all))
            })
        })
        .collect();
    assert_eq!(joins.len(), N, "one commit per invoice: {joins:?}");
    assert!(
        joins
            .iter()
            .all(|(items, headers, _)| (*items, *headers) == (1, 1)),
        "each writes one item and the header: {joins:?}"
    );
    // The first commit also writes the message's `due` entry; from the second on, the
    // bytes differ only by the digits of the item count.
    let later: Vec<usize> = joins[1..].iter().map(|(_, _, b)| *b).collect();
    let (least, most) = (
        *later.iter().min().expect("joins"),
        *later.iter().max().expect("joins"),
    );
    assert!(
        most - least <= 1,
        "the 2nd to the {N}th join write {least} to {most} bytes"
    );
    assert!(most <= joins[0].2, "no join writes more than the first");

    let outbox = engine.outbox().expect("outbox");
    assert_eq!(outbox.len(), 1, "one grouped message");
    let listed: Vec<String> = outbox[0].invoices();
    let want: Vec<String> = (1..=N).map(|i| format!("F-{i:03}")).collect();
    assert_eq!(listed, want, "every invoice, in the order they joined");
    assert!(verify::verify(engine.store()).expect("verify").ok());
}

/// Review regression: a reader outside the writer lock reads a message's header, then its
/// items; a join committed between the two reads (the header's count and one more item, in
/// one commit) made it report a damaged store. The reader now takes the header's first
/// `item_count` items; fewer items than the header counts is still a damaged store. Reading
/// a whole tree at once (`messages::all`) gives each message its own items.
#[test]
fn a_header_read_before_a_join_reads_its_own_items_not_a_damaged_store() {
    let tmp = TempDir::new("items-stale-header");
    let day: NaiveDate = "2026-04-03".parse().expect("date");
    let store = Arc::new(SledStore::open(&tmp.0).expect("store"));
    let engine = Engine::open(store, Arc::new(VirtualClock::new(day))).expect("engine");
    engine
        .deploy(
            Bundle::from_map(BTreeMap::from([
                ("all.relance".to_string(), SET.to_string()),
                (
                    "templates/reminder-1.fr.txt".to_string(),
                    "Subject: Relance\n\nBonjour\n".to_string(),
                ),
            ]))
            .expect("bundle"),
        )
        .expect("deploy");
    let invoices: Vec<serde_json::Value> = (1..=3)
        .map(|i| {
            serde_json::json!({"id": format!("F-{i}"), "customer": "ACME", "amount": "1000.00",
                "issued": "2026-03-01", "due": "2026-03-31"})
        })
        .collect();
    let p: relance_core::domain::Portfolio = serde_json::from_value(serde_json::json!({
        "customers": [{"id": "ACME", "segment": "b2b"}],
        "invoices": invoices,
    }))
    .expect("portfolio");
    engine.import(&p).expect("import");
    engine.catch_up(day).expect("the day's run");
    let whole = engine.outbox().expect("outbox");
    assert_eq!(whole.len(), 1, "one grouped message");
    // The whole outbox (two range reads) is what reading each message alone gives.
    let one_by_one: Vec<Message> = whole
        .iter()
        .map(|m| {
            messages::read(engine.store(), Tree::Outbox, m.id)
                .expect("read")
                .expect("the message")
        })
        .collect();
    assert_eq!(whole, one_by_one);
    let header = messages::header(engine.store(), Tree::Outbox, whole[0].id)
        .expect("read")
        .expect("the header");
    assert_eq!(header.item_count, 3);
    // The header as it was before the third invoice joined.
    let before = MessageHeader {
        item_count: 2,
        ..header.clone()
    };
    let items = messages::items(engine.store(), &before).expect("not a damaged store");
    assert_eq!(items, whole[0].items[..2].to_vec());
    // A header counting an item that is not there is a damaged store.
    let ahead = MessageHeader {
        item_count: 4,
        ..header.clone()
    };
    let err = messages::items(engine.store(), &ahead).expect_err("an item is missing");
    assert!(err.to_string().contains("header says 4"), "{err}");

    // `messages::all` reads the items of a whole tree in one range: a delivered message's items
    // between two outbox messages are skipped, each outbox message gets its own.
    let store = engine.store();
    let (a, b) = (header.id + 10, header.id + 20);
    let mut ops = Vec::new();
    for (tree, id, count) in [(Tree::Delivered, a, 2u32), (Tree::Outbox, b, 1)] {
        let h = MessageHeader {
            id,
            item_count: count,
            ..header.clone()
        };
        ops.push(Op::Put(tree, keys::id(id).to_vec(), encode(&h)));
        for place in 0..count {
            let item = &whole[0].items[place as usize];
            ops.push(Op::Put(
                Tree::MessageItems,
                keys::message_item(id, place).to_vec(),
                encode(item),
            ));
        }
    }
    store.commit(&ops).expect("commit");
    let all = messages::all(store, Tree::Outbox).expect("the outbox");
    let got: Vec<(u64, usize)> = all.iter().map(|m| (m.id, m.items.len())).collect();
    assert_eq!(got, [(header.id, 3), (b, 1)]);
    assert_eq!(all[0], whole[0]);
    assert_eq!(all[1].items, whole[0].items[..1].to_vec());
    let delivered = messages::all(store, Tree::Delivered).expect("delivered");
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].items, whole[0].items[..2].to_vec());

    // Many delivered items between the two (more than the one range read accepts to skip):
    // each outbox message's items are then read by their own prefix, with the same result.
    let many = messages::RANGE_SLACK as u32 + 50;
    let c = header.id + 15;
    let mut ops = vec![Op::Put(
        Tree::Delivered,
        keys::id(c).to_vec(),
        encode(&MessageHeader {
            id: c,
            item_count: many,
            ..header.clone()
        }),
    )];
    for place in 0..many {
        ops.push(Op::Put(
            Tree::MessageItems,
            keys::message_item(c, place).to_vec(),
            encode(&whole[0].items[0]),
        ));
    }
    store.commit(&ops).expect("commit");
    assert_eq!(messages::all(store, Tree::Outbox).expect("the outbox"), all);
    let delivered = messages::all(store, Tree::Delivered).expect("delivered");
    let counts: Vec<usize> = delivered.iter().map(|m| m.items.len()).collect();
    assert_eq!(counts, [2, many as usize]);
}

/// Every entry of the message trees and the `due` index.
fn message_entries(store: &dyn Store) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    for tree in [Tree::Outbox, Tree::Delivered, Tree::MessageItems, Tree::Due] {
        store
            .scan(tree, &mut |k, v| {
                out.push((tree.name(), k.to_vec(), v.to_vec()));
                Ok(())
            })
            .expect("scan");
    }
    out
}

/// Puts the store back in schema 4's layout: every message whole (its items inside it), no
/// `message_items`, schema 4.
fn back_to_schema_4(store: &dyn Store) {
    let mut ops = Vec::new();
    for tree in [Tree::Outbox, Tree::Delivered] {
        for (k, v) in store.range(tree, &[], None, usize::MAX).expect("range") {
            let h: MessageHeader = decode("message", &v).expect("header");
            for place in 0..h.item_count {
                ops.push(Op::Delete(
                    Tree::MessageItems,
                    keys::message_item(h.id, place).to_vec(),
                ));
            }
            let whole = messages::whole(store, h).expect("whole");
            ops.push(Op::Put(tree, k, encode(&whole)));
        }
    }
    ops.push(Op::Put(
        Tree::Meta,
        SCHEMA_KEY.to_vec(),
        4u32.to_be_bytes().to_vec(),
    ));
    store.commit(&ops).expect("commit");
    store.flush().expect("flush");
}

/// Restores `backup` into a new store in `dir`.
fn restore(dir: &std::path::Path, backup: &[u8]) {
    std::fs::create_dir_all(dir).expect("dir");
    let store = SledStore::open(dir).expect("store");
    backup::restore(&store, &mut &backup[..], false).expect("restore");
}

fn config(dir: &std::path::Path) -> Config {
    Config {
        data: dir.join("data"),
        spool: dir.join("spool"),
        ..Config::default()
    }
}

/// The example portfolio run for a day and its outbox drained (messages pending, delivered and
/// grouped), put back in schema 4's layout and backed up: the backup says schema 4, restores
/// as schema 4, and `relance serve` migrates it on open to exactly the messages of the run,
/// whole, on a sound store. A second restore whose migration was killed half-way (half the
/// outbox already split, the version still 4) ends in the same message trees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_4_backup_restores_and_migrates_to_the_same_messages_even_after_a_kill() {
    let tmp = TempDir::new("items-schema-4");
    let day: NaiveDate = "2026-04-01".parse().expect("date");
    let p =
        relance_data::portfolio::load_dir(&crate::workspace().join("examples")).expect("examples");
    let source = config(&tmp.0.join("source"));
    let engine = server::open(
        &source,
        ClockMode::Virtual { start: Some(day) },
        Some(&crate::workspace().join("stdlib-scenarios")),
    )
    .expect("engine");
    engine.import(&p).expect("import");
    engine.catch_up(day).expect("the day's run");
    Dispatcher::new(engine.clone(), &source)
        .expect("dispatcher")
        .drain()
        .await
        .expect("drain");
    let pending: Vec<Message> = engine.outbox().expect("outbox");
    let delivered: Vec<Message> = engine.delivered(0, usize::MAX).expect("delivered");
    assert!(!delivered.is_empty(), "some messages delivered");
    assert!(
        pending.iter().chain(&delivered).any(|m| m.items.len() > 1),
        "some grouped messages"
    );
    back_to_schema_4(engine.store());
    let mut old = Vec::new();
    backup::export(engine.store(), &mut old).expect("export");
    let header: serde_json::Value =
        serde_json::from_slice(old.split(|b| *b == b'\n').next().expect("header")).expect("header");
    assert_eq!(
        header["schema"], 4,
        "a store of schema 4 is backed up as schema 4"
    );
    drop(engine);

    let whole = config(&tmp.0.join("whole"));
    let killed = config(&tmp.0.join("killed"));
    restore(&whole.data, &old);
    restore(&killed.data, &old);
    {
        // A first migration killed half-way: the first half of the outbox split, committed.
        let s = SledStore::open(&killed.data).expect("store");
        let all = s.range(Tree::Outbox, &[], None, usize::MAX).expect("range");
        let mut ops = Vec::new();
        for (k, v) in &all[..all.len() / 2] {
            let m: Message = decode("message", v).expect("a whole message");
            ops.extend(outbox::item_ops(m.id, 0, &m.items));
            ops.push(Op::Put(Tree::Outbox, k.clone(), encode(&m.header())));
        }
        assert!(!ops.is_empty());
        s.commit(&ops).expect("commit");
        s.flush().expect("flush");
        assert_eq!(
            s.get(Tree::Meta, SCHEMA_KEY).expect("get"),
            Some(4u32.to_be_bytes().to_vec())
        );
    }
    let mut trees = Vec::new();
    for c in [&whole, &killed] {
        let engine = server::open(c, ClockMode::Virtual { start: None }, None).expect("migrated");
        assert_eq!(
            engine.store().get(Tree::Meta, SCHEMA_KEY).expect("get"),
            Some(relance_daemon::store::SCHEMA_VERSION.to_be_bytes().to_vec())
        );
        assert_eq!(engine.outbox().expect("outbox"), pending);
        assert_eq!(
            engine.delivered(0, usize::MAX).expect("delivered"),
            delivered
        );
        assert!(verify::verify(engine.store()).expect("verify").ok());
        trees.push(message_entries(engine.store()));
    }
    assert!(
        trees[1] == trees[0],
        "a resumed migration ends in the same store"
    );
}
