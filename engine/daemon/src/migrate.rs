//! Migrations of the store's schema, run on open before the engine reads anything.
//!
//! Schema 1 kept no event log: a fact lived on only as the history line its transition
//! recorded. Schema 2 adds the typed event log (`events`, `event_index`, `pending`,
//! `imports`). Migrating a schema-1 store rebuilds its money and dispute facts from those
//! history lines, once, here (the only place that reads history text): payments and credit
//! notes with their amount, write-offs, disputes opened (with the amount and target date of a
//! dispute still open) and resolved. What schema 1 never kept is not invented: payment
//! references, write-off reasons, a resolved dispute's amount, promises, task outcomes and
//! risk changes. The rebuilt facts are logged with the source `migration`.
//!
//! Schema 3 adds the outbox's `due` index (pending and retrying messages by next attempt),
//! built here from the outbox.
//!
//! Schema 4 keys `pending` by the canonical order of a day's facts (`keys::pending`: date,
//! file kind, batch, file, line, event id) instead of date then event id: each waiting fact's
//! key is rewritten from its stored event (facts logged before schema 4 carry no file and
//! line, so they keep their order of receipt, after any fact read from a file).
//!
//! Schema 5 stores a message's items apart from it: each `outbox` and `delivered` message
//! becomes a header (its item count in place of its items) and one `message_items` entry per
//! item. Unlike the earlier steps it is batched, so that its memory does not grow with the
//! store: messages are read a page at a time ([`SPLIT_PAGE`]), each one split in one commit
//! with its items (a commit holds whole messages only, up to about [`SPLIT_OPS`] writes), and
//! each page flushed. A message already split (a header) is skipped, so a migration killed
//! half-way resumes on the next open and ends in the same store; the schema version moves to
//! 5 only after the last page.
//!
//! Schema 6 ranks a day's facts read from files by what they are (`fact_order::rank_of`: a
//! payment with the payments whatever its file, any other fact — a FEC's write-off, a
//! statement's reversal — with `events.csv`'s) instead of by their file's kind: every
//! `pending` key that differs from its fact's key is rewritten, as schema 4 did (a camt.053
//! fact waiting with rank 3, a FEC's with rank 0).
//!
//! The steps up to schema 4 but its `pending` keys run in one commit that moves the version to
//! 4; then schema 5's; then one commit rewriting every `pending` key not in the current order
//! (schema 3's layout or schema 5's rank alike) with the current version.
//!
//! This module must not decide anything the engine decides and never touches cases or
//! timers.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::error::DaemonError;
use super::keys;
use super::model::{
    CaseRecord, EventSource, HistoryEntry, Message, MessageHeader, StoredEvent, decode, encode,
};
use super::outbox;
use super::snapshot;
use super::store::{Op, SCHEMA_KEY, SCHEMA_VERSION, Store, Tree};
use relance_core::domain::{Event, EventKind};

/// The `via` of the facts a migration rebuilt from a schema-1 store's history: their free-text
/// parts (payment references, write-off reasons, dispute comments) were not kept.
pub const MIGRATED: &str = "migration";

/// Brings a store written by an older relance to [`SCHEMA_VERSION`]; `today` stamps the facts
/// it rebuilds. A store already current is left alone.
pub fn migrate(store: &dyn Store, today: NaiveDate) -> Result<Option<u32>, DaemonError> {
    let found = match store.get(Tree::Meta, SCHEMA_KEY)? {
        Some(v) => u32::from_be_bytes(
            v.as_slice()
                .try_into()
                .map_err(|_| DaemonError::Corrupt("unreadable schema version".into()))?,
        ),
        None => SCHEMA_VERSION,
    };
    if found >= SCHEMA_VERSION {
        return Ok(None);
    }
    if found < 4 {
        let mut ops = Vec::new();
        if found < 2 {
            ops.extend(event_log_from_history(store, today)?);
        }
        if found < 3 {
            ops.extend(due_index(store)?);
        }
        ops.push(Op::Put(
            Tree::Meta,
            SCHEMA_KEY.to_vec(),
            4u32.to_be_bytes().to_vec(),
        ));
        store.commit(&ops)?;
        store.flush()?;
    }
    if found < 5 {
        for tree in [Tree::Outbox, Tree::Delivered] {
            split_message_items(store, tree)?;
        }
    }
    let mut ops = pending_in_day_order(store)?;
    ops.push(Op::Put(
        Tree::Meta,
        SCHEMA_KEY.to_vec(),
        SCHEMA_VERSION.to_be_bytes().to_vec(),
    ));
    store.commit(&ops)?;
    store.flush()?;
    Ok(Some(found))
}

/// Messages read per page by the schema-5 split (each page flushed).
const SPLIT_PAGE: usize = 1000;

/// Writes past which the schema-5 split commits (after a whole message).
const SPLIT_OPS: usize = 10_000;

/// Schema 5: every whole message of `tree` (schema 4: its items inside it) rewritten as its
/// header, with its items stored apart (`message_items`), one message per commit at least,
/// page by page. A message already split is left alone (a re-run after a kill resumes); one
/// that decodes as neither is left for `verify` (run next) to report.
fn split_message_items(store: &dyn Store, tree: Tree) -> Result<(), DaemonError> {
    let mut from: Vec<u8> = Vec::new();
    loop {
        let page = store.range(tree, &from, None, SPLIT_PAGE)?;
        let Some((last, _)) = page.last() else {
            return Ok(());
        };
        from = keys::successor(last);
        let mut ops = Vec::new();
        for (k, v) in &page {
            if decode::<MessageHeader>("message", v).is_ok() {
                continue;
            }
            let Ok(m) = decode::<Message>("message", v) else {
                continue;
            };
            ops.extend(outbox::item_ops(m.id, 0, &m.items));
            ops.push(Op::Put(tree, k.clone(), encode(&m.header())));
            if ops.len() >= SPLIT_OPS {
                store.commit(&std::mem::take(&mut ops))?;
            }
        }
        store.commit(&ops)?;
        store.flush()?;
    }
}

/// Schemas 4 and 6: every `pending` key that is not its fact's key in the canonical order of
/// its day (schema 3's date and event id; schema 5's rank by file kind) rewritten as that key.
/// A key whose event is missing or unreadable is left for `verify` (run next) to report.
fn pending_in_day_order(store: &dyn Store) -> Result<Vec<Op>, DaemonError> {
    let mut old = Vec::new();
    store.scan(Tree::Pending, &mut |k, _| {
        old.push(k.to_vec());
        Ok(())
    })?;
    let mut ops = Vec::new();
    for k in old {
        let Some(id) = keys::trailing_id(&k) else {
            continue;
        };
        let Some(bytes) = store.get(Tree::Events, &keys::id(id))? else {
            continue;
        };
        let Ok(stored) = decode::<StoredEvent>("event", &bytes) else {
            continue;
        };
        let key = keys::pending(&stored.order_key());
        if key != k {
            ops.push(Op::Delete(Tree::Pending, k));
            ops.push(Op::Put(Tree::Pending, key, Vec::new()));
        }
    }
    Ok(ops)
}

/// Schema 3: the `due` index of the outbox's pending and retrying messages.
fn due_index(store: &dyn Store) -> Result<Vec<Op>, DaemonError> {
    let mut ops = Vec::new();
    store.scan(Tree::Outbox, &mut |_, v| {
        // An undecodable message is left for `verify` (run next) to report.
        if let Ok(m) = decode::<Message>("message", v)
            && let Some(k) = outbox::due_key(&m.header())
        {
            ops.push(Op::Put(Tree::Due, k.to_vec(), Vec::new()));
        }
        Ok(())
    })?;
    Ok(ops)
}

/// Schema 2: the event log, rebuilt from a schema-1 store's history lines.
fn event_log_from_history(store: &dyn Store, today: NaiveDate) -> Result<Vec<Op>, DaemonError> {
    let history = snapshot::history(store)?;
    let mut cases: HashMap<String, CaseRecord> = HashMap::new();
    store.scan(Tree::Instances, &mut |k, v| {
        if let (Ok(id), Ok(rec)) = (std::str::from_utf8(k), decode::<CaseRecord>("case", v)) {
            cases.insert(id.to_string(), rec);
        }
        Ok(())
    })?;
    let mut events = rebuild_events(&history, &cases);
    events.sort_by_key(|e| e.date);
    let source = EventSource {
        via: MIGRATED.into(),
        caller: None,
        batch: None,
        file: None,
        at: None,
    };
    let mut ops = Vec::with_capacity(events.len() * 2);
    for event in events {
        let id = store.next_id()?;
        if let Some(invoice) = event.kind.invoice() {
            ops.push(Op::Put(
                Tree::EventIndex,
                keys::event_index(keys::EventOwner::Invoice(invoice), id),
                Vec::new(),
            ));
        }
        let stored = StoredEvent {
            id,
            recorded_on: today,
            source: source.clone(),
            idempotency_key: None,
            event,
        };
        ops.push(Op::Put(
            Tree::Events,
            keys::id(id).to_vec(),
            encode(&stored),
        ));
    }
    Ok(ops)
}

/// `payment of 120.00, outstanding 0.00` → 120.00.
fn amount_after(cause: &str, prefix: &str) -> Option<Decimal> {
    cause
        .strip_prefix(prefix)?
        .split(',')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// The money and dispute events the history lines record, in decision order.
fn rebuild_events(
    history: &[(String, u64, HistoryEntry)],
    cases: &HashMap<String, CaseRecord>,
) -> Vec<Event> {
    let mut last_dispute: HashMap<&str, usize> = HashMap::new();
    let mut events = Vec::new();
    for (invoice, _, h) in history {
        let Some(kind) = event_of(invoice, &h.cause) else {
            continue;
        };
        if matches!(kind, EventKind::DisputeOpened { .. }) {
            last_dispute.insert(invoice, events.len());
        }
        events.push(Event { date: h.date, kind });
    }
    for (invoice, i) in last_dispute {
        let open = cases.get(invoice).and_then(|r| r.case.dispute.as_ref());
        let date = events[i].date;
        if let (
            Some(d),
            EventKind::DisputeOpened {
                amount,
                target_date,
                ..
            },
        ) = (open, &mut events[i].kind)
            && d.opened == date
        {
            *amount = d.amount;
            *target_date = d.target_date;
        }
    }
    events
}

fn event_of(invoice: &str, cause: &str) -> Option<EventKind> {
    let invoice = invoice.to_string();
    if let Some(amount) = amount_after(cause, "payment of ") {
        return Some(EventKind::Payment {
            invoice,
            amount,
            reference: None,
            details: Default::default(),
        });
    }
    if let Some(amount) = amount_after(cause, "credit note of ") {
        return Some(EventKind::CreditNote { invoice, amount });
    }
    if cause == "written off" {
        return Some(EventKind::WriteOff {
            invoice,
            reason: None,
        });
    }
    if let Some(code) = cause.strip_prefix("dispute opened: ") {
        return Some(EventKind::DisputeOpened {
            invoice,
            code: code.to_string(),
            amount: None,
            target_date: None,
            comment: None,
        });
    }
    (cause == "dispute resolved").then_some(EventKind::DisputeResolved {
        invoice,
        comment: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_read_back() {
        assert_eq!(
            amount_after("payment of 120.50, outstanding 0.00", "payment of "),
            Some(Decimal::new(12050, 2))
        );
        assert!(matches!(
            event_of("F-1", "dispute opened: logistics/missing"),
            Some(EventKind::DisputeOpened { code, .. }) if code == "logistics/missing"
        ));
        assert_eq!(event_of("F-1", "step fired (on time)"), None);
    }

    /// A schema-2 store (no `due` index) gets one entry per pending or retrying message and
    /// none for a dead letter, then verifies sound.
    #[test]
    fn schema_2_gains_the_due_index() {
        use crate::model::MessageStatus;
        use crate::outbox;
        use crate::store::SledStore;
        use crate::store::tests::TempDir;
        let dir = TempDir::new("migrate-due");
        let s = SledStore::open(&dir.0).expect("open");
        let mut ops = vec![Op::Put(
            Tree::Meta,
            SCHEMA_KEY.to_vec(),
            2u32.to_be_bytes().to_vec(),
        )];
        let mut indexed = Vec::new();
        for (id, status) in [
            (1, MessageStatus::Pending),
            (2, MessageStatus::Retrying),
            (3, MessageStatus::Dead),
        ] {
            let mut m = outbox::tests::message();
            m.id = id;
            m.status = status;
            m.next_attempt = (id == 2).then(|| "2026-02-03T08:00:00Z".parse().expect("instant"));
            indexed.extend(outbox::due_key(&m.header()).map(|k| k.to_vec()));
            ops.push(Op::Put(Tree::Outbox, keys::id(id).to_vec(), encode(&m)));
        }
        s.commit(&ops).expect("commit");
        let today = "2026-02-04".parse().expect("date");
        assert_eq!(migrate(&s, today).expect("migrate"), Some(2));
        let due: Vec<Vec<u8>> = s
            .range(Tree::Due, &[], None, usize::MAX)
            .expect("range")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(due, indexed);
        assert_eq!(indexed.len(), 2);
        assert!(crate::verify::verify(&s).expect("verify").ok());
        assert_eq!(migrate(&s, today).expect("again"), None);
    }
}
