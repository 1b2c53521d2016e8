//! A read-only picture of the store for the import and report endpoints: the stored customers
//! and invoices, with every fact of the event log, as a [`Portfolio`]; the history as runtime
//! [`Record`]s; and the decided actions (outbox and delivered messages) as [`Planned`]
//! actions — the inputs of `relance_data::import` (the base an import merges into) and of
//! `relance_sim::reports` (the same functions `relance report` calls).
//!
//! Facts are read as the typed events the log stores (payments with their reference, write-offs
//! with their reason, disputes with their amount), never from history text.
//!
//! The whole picture is read under the engine's writer lock, so it is one consistent state.
//! This module must not write, and must not decide anything the engine or the reports decide.

use std::collections::HashMap;

use super::engine::Engine;
use super::error::DaemonError;
use super::messages;
use super::migrate::MIGRATED;
use super::model::{HistoryEntry, Message, StoredEvent, decode};
use super::store::{Store, Tree};
use relance_core::domain::{Customer, Event, Invoice, Portfolio};
use relance_core::runtime::{Planned, Record};

/// What the store holds, as the import and report libraries read it.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Customers and invoices in id order; the logged events by date (log order within a day).
    pub portfolio: Portfolio,
    /// Every history line, in decision order (`order` is the line's sequence number).
    pub records: Vec<Record>,
    /// Every action decided with its actions kept (one per invoice of each message).
    pub actions: Vec<Planned>,
    /// For each of `portfolio.events`: whether its free-text parts (payment reference,
    /// write-off reason, dispute comment) were lost, as for facts a schema-1 store's migration
    /// rebuilt from history; an import matches those without their texts.
    pub textless: Vec<bool>,
}

/// Reads the whole store, under the writer lock.
pub fn take(engine: &Engine) -> Result<Snapshot, DaemonError> {
    let _guard = engine.lock();
    let store = engine.store();
    let customers: Vec<Customer> = values(store, Tree::Customers, "customer")?;
    let invoices: Vec<Invoice> = values(store, Tree::Invoices, "invoice")?;
    let history = history(store)?;
    let customer_of: HashMap<&str, &str> = invoices
        .iter()
        .map(|i| (i.id.as_str(), i.customer.as_str()))
        .collect();
    let records = history
        .iter()
        .map(|(invoice, seq, h)| {
            record(invoice, customer_of.get(invoice.as_str()).copied(), *seq, h)
        })
        .collect();
    let mut stored: Vec<StoredEvent> = values(store, Tree::Events, "event")?;
    stored.sort_by_key(|e| e.event.date);
    let textless = stored.iter().map(|e| e.source.via == MIGRATED).collect();
    let events: Vec<Event> = stored.into_iter().map(|e| e.event).collect();
    let actions = actions(store)?;
    Ok(Snapshot {
        portfolio: Portfolio {
            customers,
            invoices,
            events,
            ..Portfolio::default()
        },
        records,
        actions,
        textless,
    })
}

/// Every value of `tree`, decoded, in key order.
fn values<T: for<'de> serde::Deserialize<'de>>(
    store: &dyn Store,
    tree: Tree,
    what: &str,
) -> Result<Vec<T>, DaemonError> {
    let mut raw: Vec<Vec<u8>> = Vec::new();
    store.scan(tree, &mut |_, v| {
        raw.push(v.to_vec());
        Ok(())
    })?;
    raw.iter().map(|v| decode(what, v)).collect()
}

/// The history lines: (invoice, sequence number, line), in decision order.
pub(crate) fn history(store: &dyn Store) -> Result<Vec<(String, u64, HistoryEntry)>, DaemonError> {
    let mut raw: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    store.scan(Tree::History, &mut |k, v| {
        raw.push((k.to_vec(), v.to_vec()));
        Ok(())
    })?;
    let mut out = Vec::with_capacity(raw.len());
    for (k, v) in raw {
        let (invoice, seq) =
            history_key(&k).ok_or_else(|| DaemonError::Corrupt(format!("history key {k:?}")))?;
        out.push((invoice, seq, decode("history", &v)?));
    }
    out.sort_by_key(|(_, seq, _)| *seq);
    Ok(out)
}

/// `invoice id, 0, sequence (8 bytes)` → (invoice, sequence).
fn history_key(key: &[u8]) -> Option<(String, u64)> {
    let split = key.len().checked_sub(9)?;
    let (id, rest) = key.split_at(split);
    let seq = u64::from_be_bytes(rest.get(1..)?.try_into().ok()?);
    (rest[0] == 0)
        .then(|| std::str::from_utf8(id).ok().map(|s| (s.to_string(), seq)))
        .flatten()
}

/// A status name as the runtime spells it (records hold static names).
fn status_name(name: &str) -> &'static str {
    const NAMES: [&str; 8] = [
        "new",
        "active",
        "paused",
        "waiting",
        "closed",
        "error",
        "unassigned",
        "insolvency",
    ];
    NAMES.into_iter().find(|n| *n == name).unwrap_or("other")
}

fn record(invoice: &str, customer: Option<&str>, seq: u64, h: &HistoryEntry) -> Record {
    Record {
        date: h.date,
        invoice: invoice.to_string(),
        customer: customer.unwrap_or_default().to_string(),
        step: h.step.clone(),
        from: status_name(&h.from),
        to: status_name(&h.to),
        cause: h.cause.clone(),
        step_order: None,
        seq: 0,
        order: seq,
    }
}

/// The actions of every message, pending or delivered, one per invoice it carries.
fn actions(store: &dyn Store) -> Result<Vec<Planned>, DaemonError> {
    let mut messages: Vec<Message> = messages::all(store, Tree::Outbox)?;
    messages.extend(messages::all(store, Tree::Delivered)?);
    messages.sort_by_key(|m| m.id);
    Ok(messages
        .iter()
        .flat_map(|m| {
            m.items.iter().map(move |item| Planned {
                date: m.date,
                invoice: item.invoice.clone(),
                customer: m.customer.clone(),
                scenario: m.scenario.clone(),
                version: item.version.clone(),
                step: item.step.clone(),
                step_order: 0,
                action: m.action.clone(),
                rate_assumed: None,
                installments: item.installments.clone(),
                key: item.key.clone(),
                seq: 0,
                order: m.id,
            })
        })
        .collect())
}
