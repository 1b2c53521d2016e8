//! Verification of a store: a full scan that reads every entry of every tree and decodes each
//! one with the store's own types (`model`, `keys`, the domain types), reporting entries per
//! tree and every problem found (an unreadable page, a key of the wrong shape, a value that
//! does not decode, a record whose id differs from its key), then across trees: every
//! message's items against its header both ways (missing items, orphan items), every waiting
//! fact against the event log (an orphan, or a key left in schema 3's layout, is named as
//! such), and, on a store with no other problem, the `due` index against the outbox.
//!
//! `relance serve` runs it on open and refuses a store with problems; `relance store verify`
//! prints its report. This module owns what "a sound store" means record by record; it must
//! not write.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::DaemonError;
use super::keys;
use super::model::{
    AgendaEntry, CaseRecord, Handoff, HistoryEntry, ImportRecord, Item, MessageHeader, StoredEvent,
    StoredReply,
};
use super::outbox;
use super::store::{SCHEMA_KEY, SCHEMA_VERSION, Store, StoreError, Tree};
use relance_core::domain::{Customer, Invoice};

/// Problems listed in full (the count covers them all).
pub const MAX_LISTED: usize = 100;

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The schema version found (records are decoded with this build's types only when it is
    /// this build's version: an older store is migrated on open first).
    pub schema: Option<u32>,
    /// Whether records were decoded (the schema is this build's).
    pub decoded: bool,
    pub trees: Vec<TreeReport>,
    /// How many problems were found in all.
    pub problem_count: usize,
    /// The first [`MAX_LISTED`] problems.
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problem_count == 0
    }

    /// The problems in one line each, for an error message.
    pub fn summary(&self) -> String {
        let mut lines: Vec<String> = self
            .problems
            .iter()
            .take(5)
            .map(|p| p.to_string())
            .collect();
        if self.problem_count > lines.len() {
            lines.push(format!("… {} problem(s) in all", self.problem_count));
        }
        lines.join("; ")
    }
}

/// One tree: how many entries were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeReport {
    pub tree: &'static str,
    pub entries: u64,
}

/// One thing wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub tree: &'static str,
    /// The entry's key (as text when printable, else hex); absent when the tree itself could
    /// not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.key {
            Some(k) => write!(f, "{} [{k}]: {}", self.tree, self.message),
            None => write!(f, "{}: {}", self.tree, self.message),
        }
    }
}

fn show_key(k: &[u8]) -> String {
    match std::str::from_utf8(k) {
        Ok(s) if !s.chars().any(char::is_control) => s.to_string(),
        _ => k.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Decodes `v` as a `T`, the way the daemon reads it.
fn decode<T: DeserializeOwned>(v: &[u8]) -> Result<T, String> {
    serde_json::from_slice(v).map_err(|e| format!("value does not decode: {e}"))
}

fn empty(v: &[u8]) -> Result<(), String> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "an index entry carries a value ({} bytes)",
            v.len()
        ))
    }
}

fn same_id(what: &str, key: &str, id: &str) -> Result<(), String> {
    if key == id {
        Ok(())
    } else {
        Err(format!("{what} {id} stored under key {key}"))
    }
}

fn text_key(k: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(k).map_err(|_| "key is not UTF-8 text".to_string())
}

fn id_key(k: &[u8]) -> Result<u64, String> {
    let raw: [u8; 8] = k
        .try_into()
        .map_err(|_| format!("key of {} bytes, not an 8-byte id", k.len()))?;
    Ok(u64::from_be_bytes(raw))
}

/// `owner, 0, rest`: the key holds the separator.
fn owned_key(k: &[u8]) -> Result<(), String> {
    if k.contains(&0) {
        Ok(())
    } else {
        Err("key without its 0 separator".into())
    }
}

/// A date (4 bytes) followed by an 8-byte id.
fn dated_id_key(k: &[u8]) -> Result<(), String> {
    if k.len() == 12 && keys::parse_date(k).is_some() {
        Ok(())
    } else {
        Err("key is not a date and an id".into())
    }
}

/// Checks one entry of `tree` with this build's types.
fn check(tree: Tree, k: &[u8], v: &[u8]) -> Result<(), String> {
    match tree {
        Tree::Meta => match k {
            SCHEMA_KEY if v.len() != 4 => Err("schema version is not 4 bytes".into()),
            b"run_through" | b"virtual_today" | b"virtual_held"
                if keys::parse_date(v).is_none() || v.len() != 4 =>
            {
                Err("not a date".into())
            }
            _ => Ok(()),
        },
        Tree::Customers => {
            let c: Customer = decode(v)?;
            same_id("customer", text_key(k)?, &c.id)
        }
        Tree::Invoices => {
            let i: Invoice = decode(v)?;
            same_id("invoice", text_key(k)?, &i.id)
        }
        Tree::ByCustomer => {
            owned_key(k)?;
            empty(v)
        }
        Tree::Instances => {
            text_key(k)?;
            decode::<CaseRecord>(v).map(drop)
        }
        Tree::Timers => {
            keys::parse_timer(k).ok_or("key is not a date and an invoice")?;
            empty(v)
        }
        Tree::Outbox | Tree::Delivered => {
            let id = id_key(k)?;
            let m: MessageHeader = decode(v)?;
            same_id("message", &id.to_string(), &m.id.to_string())
        }
        Tree::MessageItems => {
            if k.len() != 12 {
                return Err("key is not a message id and an item's place".into());
            }
            decode::<Item>(v).map(drop)
        }
        Tree::Groups => id_key(v).map(drop).map_err(|e| format!("value: {e}")),
        Tree::Agenda => {
            dated_id_key(k)?;
            decode::<AgendaEntry>(v).map(drop)
        }
        Tree::Handoffs => {
            id_key(k)?;
            decode::<Handoff>(v).map(drop)
        }
        Tree::History => {
            owned_key(k)?;
            decode::<HistoryEntry>(v).map(drop)
        }
        Tree::Versions => {
            if k.starts_with(b"deploy/") {
                decode::<super::engine::StoredDeployment>(v).map(drop)
            } else if k.starts_with(b"scenario/") {
                decode::<relance_dsl::ir::Scenario>(v).map(drop)
            } else {
                Err("unknown kind of version".into())
            }
        }
        Tree::Idempotency => {
            owned_key(k)?;
            decode::<StoredReply>(v).map(drop)
        }
        Tree::Events => {
            let id = id_key(k)?;
            let e: StoredEvent = decode(v)?;
            same_id("event", &id.to_string(), &e.id.to_string())
        }
        Tree::EventIndex => {
            if !matches!(k.first(), Some(b'i' | b'c')) || keys::trailing_id(k).is_none() {
                return Err("key is not an owner and an event id".into());
            }
            owned_key(k)?;
            empty(v)
        }
        // A key of schema 3's layout (date, event id) is reported by `check_pending`, which
        // can tell why the schema-4 migration left it.
        Tree::Pending if k.len() == SCHEMA_3_PENDING_LEN && keys::parse_date(k).is_some() => {
            empty(v)
        }
        Tree::Pending => {
            if k.len() != keys::PENDING_LEN || keys::parse_date(k).is_none() {
                return Err(
                    "key is not a date, a file kind, a batch, a file, a line and an id".into(),
                );
            }
            empty(v)
        }
        Tree::Imports => decode::<ImportRecord>(v).map(drop),
        Tree::Due => {
            keys::parse_due(k).ok_or("key is not an instant and a message id")?;
            empty(v)
        }
        Tree::Cadence => super::cadence::check_entry(k, v),
        Tree::Accounts => super::account::check_entry(k, v),
    }
}

/// The `due` index against the outbox: every pending or retrying message has its entry, and
/// every entry names such a message at its next attempt (a message missing from the index
/// would never be sent).
fn check_due_index(store: &dyn Store, note: &mut dyn FnMut(Problem)) -> Result<(), StoreError> {
    // Keys are collected first: the store is not read from inside one of its own scans.
    let mut indexed = Vec::new();
    store.scan(Tree::Outbox, &mut |k, v| {
        if let Ok(m) = decode::<MessageHeader>(v)
            && let Some(due) = outbox::due_key(&m)
        {
            indexed.push((k.to_vec(), m.status.as_str(), due));
        }
        Ok(())
    })?;
    for (k, status, due) in indexed {
        if store.get(Tree::Due, &due)?.is_none() {
            note(Problem {
                tree: Tree::Outbox.name(),
                key: Some(show_key(&k)),
                message: format!("{status} message has no entry in the due index"),
            });
        }
    }
    let mut entries = Vec::new();
    store.scan(Tree::Due, &mut |k, _| {
        entries.push(k.to_vec());
        Ok(())
    })?;
    for k in entries {
        let Some((_, id)) = keys::parse_due(&k) else {
            continue;
        };
        let matches = store
            .get(Tree::Outbox, &keys::id(id))?
            .and_then(|v| decode::<MessageHeader>(&v).ok())
            .is_some_and(|m| outbox::due_key(&m) == <[u8; 16]>::try_from(&k[..]).ok());
        if !matches {
            note(Problem {
                tree: Tree::Due.name(),
                key: Some(show_key(&k)),
                message: format!(
                    "names message {id}, which is not in the outbox as pending or retrying at this instant"
                ),
            });
        }
    }
    Ok(())
}

/// The length of a `pending` key in schema 3: the fact's date (4 bytes) and its event id.
const SCHEMA_3_PENDING_LEN: usize = 12;

/// Every message's items against its header, both ways: a header (outbox or delivered) has
/// exactly `item_count` items, at places 0 to `item_count − 1`, and every item belongs to a
/// message that exists (an orphan item is reported on its key).
fn check_message_items(store: &dyn Store, note: &mut dyn FnMut(Problem)) -> Result<(), StoreError> {
    use std::collections::BTreeMap;
    // Message id → (its tree, item count); then each one's places found.
    let mut headers: BTreeMap<u64, (Tree, u32)> = BTreeMap::new();
    for tree in [Tree::Outbox, Tree::Delivered] {
        store.scan(tree, &mut |_, v| {
            if let Ok(m) = decode::<MessageHeader>(v) {
                headers.insert(m.id, (tree, m.item_count));
            }
            Ok(())
        })?;
    }
    let mut found: BTreeMap<u64, u32> = BTreeMap::new();
    let mut orphans = Vec::new();
    store.scan(Tree::MessageItems, &mut |k, _| {
        let Some((id, place)) = keys::parse_message_item(k) else {
            return Ok(()); // reported by the entry's own check
        };
        match headers.get(&id) {
            Some((_, count)) if place < *count => *found.entry(id).or_default() += 1,
            Some((tree, count)) => orphans.push((
                k.to_vec(),
                format!(
                    "item {place} of message {id}, whose header in {} says it has {count} item(s)",
                    tree.name()
                ),
            )),
            None => orphans.push((
                k.to_vec(),
                format!("item {place} of message {id}, which is neither in the outbox nor delivered (an orphan)"),
            )),
        }
        Ok(())
    })?;
    for (k, message) in orphans {
        note(Problem {
            tree: Tree::MessageItems.name(),
            key: Some(show_key(&k)),
            message,
        });
    }
    for (id, (tree, count)) in headers {
        let have = found.get(&id).copied().unwrap_or(0);
        if have != count {
            note(Problem {
                tree: tree.name(),
                key: Some(show_key(&keys::id(id))),
                message: format!(
                    "message {id} says it has {count} item(s), {have} of them are in message_items"
                ),
            });
        }
    }
    Ok(())
}

/// Every waiting fact (`pending`) against the event log: its event must be there, or the
/// daily run stops on it. A key still in schema 3's layout (date, event id) is named as such:
/// the schema-4 migration rewrites a key from its event, so it leaves one whose event is
/// missing or does not decode.
fn check_pending(store: &dyn Store, note: &mut dyn FnMut(Problem)) -> Result<(), StoreError> {
    let mut waiting = Vec::new();
    store.scan(Tree::Pending, &mut |k, _| {
        waiting.push(k.to_vec());
        Ok(())
    })?;
    for k in waiting {
        let old_layout = k.len() == SCHEMA_3_PENDING_LEN;
        if !old_layout && k.len() != keys::PENDING_LEN {
            continue; // reported by the entry's own check
        }
        let Some(id) = keys::trailing_id(&k) else {
            continue;
        };
        let event = store.get(Tree::Events, &keys::id(id))?;
        let decodes = event
            .as_deref()
            .is_some_and(|v| decode::<StoredEvent>(v).is_ok());
        let message = match (old_layout, &event) {
            (true, None) => format!(
                "a waiting fact in schema 3's key layout (date, event id) whose event {id} is not in \
                 the event log: the schema-4 migration rewrites a key from its event, so it left this \
                 orphan; the daily run would stop on it (delete the key, or restore from a backup)"
            ),
            (true, Some(_)) if !decodes => format!(
                "a waiting fact in schema 3's key layout (date, event id) that the schema-4 migration \
                 did not rewrite: its event {id} does not decode"
            ),
            (true, Some(_)) => format!(
                "a waiting fact in schema 3's key layout (date, event id), not rewritten by the \
                 schema-4 migration (its event {id} is in the log: open the store with relance \
                 serve to migrate it)"
            ),
            (false, None) => format!(
                "a waiting fact whose event {id} is not in the event log (an orphan): the daily run \
                 would stop on it"
            ),
            // Sound; or its event's own entry is reported as undecodable.
            (false, Some(_)) => continue,
        };
        note(Problem {
            tree: Tree::Pending.name(),
            key: Some(show_key(&k)),
            message,
        });
    }
    Ok(())
}

/// Reads every entry of every tree; with this build's schema, decodes each one. A problem is
/// reported, never a panic: a panic of the storage engine becomes a problem of its tree.
pub fn verify(store: &dyn Store) -> Result<Report, DaemonError> {
    let schema = store
        .get(Tree::Meta, SCHEMA_KEY)?
        .and_then(|v| <[u8; 4]>::try_from(v.as_slice()).ok())
        .map(u32::from_be_bytes);
    let decoded = schema == Some(SCHEMA_VERSION);
    let mut report = Report {
        schema,
        decoded,
        trees: Vec::new(),
        problem_count: 0,
        problems: Vec::new(),
    };
    let note = |r: &mut Report, p: Problem| {
        r.problem_count += 1;
        if r.problems.len() < MAX_LISTED {
            r.problems.push(p);
        }
    };
    for tree in Tree::ALL {
        let mut entries = 0u64;
        let mut found = Vec::new();
        let scanned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.scan(tree, &mut |k, v| {
                entries += 1;
                if decoded && let Err(message) = check(tree, k, v) {
                    found.push(Problem {
                        tree: tree.name(),
                        key: Some(show_key(k)),
                        message,
                    });
                }
                Ok::<(), StoreError>(())
            })
        }));
        for p in found {
            note(&mut report, p);
        }
        let failed = match scanned {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("the storage engine failed while reading it".to_string()),
        };
        if let Some(message) = failed {
            note(
                &mut report,
                Problem {
                    tree: tree.name(),
                    key: None,
                    message: format!("unreadable after {entries} entries: {message}"),
                },
            );
        }
        report.trees.push(TreeReport {
            tree: tree.name(),
            entries,
        });
    }
    if decoded {
        // Across trees: run even when entries were reported, so that an orphan is named as
        // one (the due index only on an otherwise sound store, as before).
        type Check = fn(&dyn Store, &mut dyn FnMut(Problem)) -> Result<(), StoreError>;
        let mut checks: Vec<(Tree, &str, Check)> = vec![
            (
                Tree::MessageItems,
                "the items could not be checked against their messages",
                check_message_items,
            ),
            (
                Tree::Pending,
                "the waiting facts could not be checked against the event log",
                check_pending,
            ),
        ];
        if report.ok() {
            checks.push((
                Tree::Due,
                "the index could not be checked against the outbox",
                check_due_index,
            ));
        }
        for (tree, failure, check) in checks {
            let mut found = Vec::new();
            let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                check(store, &mut |p| found.push(p))
            }));
            for p in found {
                note(&mut report, p);
            }
            if !matches!(checked, Ok(Ok(()))) {
                note(
                    &mut report,
                    Problem {
                        tree: tree.name(),
                        key: None,
                        message: failure.into(),
                    },
                );
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::TempDir;
    use crate::store::{Op, SledStore};

    /// Each kind of damage a record can have is reported on its tree and key; sound records
    /// are not.
    #[test]
    fn every_undecodable_record_is_reported() {
        let dir = TempDir::new("verify");
        let s = SledStore::open(&dir.0).expect("open");
        let put = |t, k: &[u8], v: &[u8]| Op::Put(t, k.to_vec(), v.to_vec());
        s.commit(&[
            put(Tree::Customers, b"ACME", br#"{"id":"ACME"}"#),
            put(Tree::Customers, b"BETA", br#"{"id":"GAMMA"}"#),
            put(Tree::Customers, b"BAD", b"{not json"),
            put(Tree::Outbox, &keys::id(7), b"[]"),
            put(Tree::Timers, b"xy", b""),
            put(Tree::Events, b"short", b"{}"),
        ])
        .expect("commit");
        let r = verify(&s).expect("verify");
        let got: Vec<(String, Option<String>)> = r
            .problems
            .iter()
            .map(|p| (p.tree.to_string(), p.key.clone()))
            .collect();
        let want = [
            ("customers", "BAD"),
            ("customers", "BETA"),
            ("timers", "xy"),
            ("outbox", "0000000000000007"),
            ("events", "short"),
        ];
        assert_eq!(r.problem_count, want.len(), "{:#?}", r.problems);
        for (t, k) in want {
            assert!(
                got.contains(&(t.to_string(), Some(k.to_string()))),
                "{t} {k} in {got:?}"
            );
        }
        let customers = r
            .trees
            .iter()
            .find(|t| t.tree == "customers")
            .expect("tree");
        assert_eq!(customers.entries, 3);
        assert!(r.decoded && !r.ok());
    }

    /// The `due` index is checked against the outbox: a pending message without its entry
    /// (it would never be sent) and an entry naming no such message are both reported.
    #[test]
    fn the_due_index_must_agree_with_the_outbox() {
        use crate::model::encode;
        use crate::outbox;
        let dir = TempDir::new("verify-due");
        let s = SledStore::open(&dir.0).expect("open");
        let mut m = outbox::tests::message();
        s.commit(&outbox::put_ops(None, &m)).expect("commit");
        assert!(verify(&s).expect("verify").ok());

        m.id = 2;
        s.commit(&[Op::Put(
            Tree::Outbox,
            keys::id(2).to_vec(),
            encode(&m.header()),
        )])
        .expect("unindexed");
        s.commit(&[Op::Put(Tree::Due, keys::due(5, 9).to_vec(), Vec::new())])
            .expect("dangling");
        let r = verify(&s).expect("verify");
        let got: Vec<(&str, Option<String>)> =
            r.problems.iter().map(|p| (p.tree, p.key.clone())).collect();
        assert_eq!(
            got,
            [
                ("outbox", Some("0000000000000002".to_string())),
                ("due", Some("00000000000000050000000000000009".to_string())),
            ],
            "{:#?}",
            r.problems
        );
    }
    /// A message's items are checked against its header both ways: a header whose items are
    /// not all there, an item past its message's count, and an item of no message (an
    /// orphan) are each reported on their key; a whole message is not.
    #[test]
    fn message_items_must_match_their_headers() {
        use crate::model::Item;
        use crate::outbox;
        let dir = TempDir::new("verify-items");
        let s = SledStore::open(&dir.0).expect("open");
        let item = |invoice: &str| Item {
            invoice: invoice.into(),
            key: format!("{invoice}/v/reminder-1/1/0"),
            step: "reminder-1".into(),
            version: "v".into(),
            deployment: None,
            issued: "2026-01-01".parse().expect("date"),
            due: "2026-01-31".parse().expect("date"),
            amount: "100".parse().expect("amount"),
            outstanding: "100".parse().expect("amount"),
            charges: Default::default(),
            currency: "EUR".into(),
            charge: None,
            due_now: None,
            installments: Vec::new(),
            late_interest_rate: None,
            late_interest_contractual: false,
        };
        let mut m = outbox::tests::message();
        m.items = vec![item("F-1"), item("F-2")];
        s.commit(&outbox::put_ops(None, &m)).expect("whole");
        assert!(verify(&s).expect("verify").ok(), "a whole message is sound");

        // Message 2 says 2 items, has 1; an item at place 2 of message 1 (count 2); an item
        // of message 9, which does not exist.
        let mut two = m.clone();
        two.id = 2;
        let mut ops = outbox::put_ops(None, &two);
        let dropped = keys::message_item(2, 1);
        ops.retain(|op| !matches!(op, Op::Put(Tree::MessageItems, k, _) if k[..] == dropped[..]));
        ops.extend(outbox::item_ops(1, 2, &[item("F-3")]));
        ops.extend(outbox::item_ops(9, 0, &[item("F-4")]));
        s.commit(&ops).expect("damaged");
        let r = verify(&s).expect("verify");
        let got: Vec<(&str, String, String)> = r
            .problems
            .iter()
            .map(|p| (p.tree, p.key.clone().unwrap_or_default(), p.message.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "message_items",
                    "000000000000000100000002".to_string(),
                    "item 2 of message 1, whose header in outbox says it has 2 item(s)".to_string()
                ),
                (
                    "message_items",
                    "000000000000000900000000".to_string(),
                    "item 0 of message 9, which is neither in the outbox nor delivered (an orphan)"
                        .to_string()
                ),
                (
                    "outbox",
                    "0000000000000002".to_string(),
                    "message 2 says it has 2 item(s), 1 of them are in message_items".to_string()
                ),
            ],
            "{:#?}",
            r.problems
        );
    }

    /// A waiting fact whose event is not in the log stops the daily run (`apply_pending`:
    /// "pending event … missing"). Before schema 4 verify checked only the key's shape and
    /// let such an orphan through; since, a schema-3 key left by the migration (it rewrites a
    /// key from its event, so it cannot rewrite an orphan's) was reported as a key of the
    /// wrong shape. Both orphans are now named as what they are.
    #[test]
    fn orphan_waiting_facts_are_named_as_such() {
        use relance_core::fact_order::{Arrival, FactKey};
        let dir = TempDir::new("verify-pending");
        let s = SledStore::open(&dir.0).expect("open");
        let day = "2026-03-02".parse().expect("date");
        let mut schema_3 = keys::date(day).to_vec();
        schema_3.extend_from_slice(&keys::id(77));
        let current = keys::pending(&FactKey::new(day, Arrival::Api, 78));
        s.commit(&[
            Op::Put(Tree::Pending, schema_3, Vec::new()),
            Op::Put(Tree::Pending, current, Vec::new()),
        ])
        .expect("commit");
        let r = verify(&s).expect("verify");
        let got: Vec<&str> = r.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(r.problem_count, 2, "{got:#?}");
        assert!(
            got[0].starts_with("a waiting fact in schema 3's key layout (date, event id) whose event 77 is not in the event log"),
            "{}",
            got[0]
        );
        assert!(
            got[1].starts_with("a waiting fact whose event 78 is not in the event log (an orphan)"),
            "{}",
            got[1]
        );
        assert!(r.problems.iter().all(|p| p.tree == "pending"));
    }
}
