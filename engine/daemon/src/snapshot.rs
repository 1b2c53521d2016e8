//! A read-only picture of the store for the import and report endpoints: the stored customers
//! and invoices as a [`Portfolio`] whose money events are rebuilt from the history, plus the
//! history as runtime [`Record`]s and the decided actions (outbox and delivered messages) as
//! [`Planned`] actions — the inputs of `relance_data::import` (the base an import merges into) and of
//! `relance_sim::reports` (the same functions `relance report` calls).
//!
//! The store keeps no event list: an event lives on as the history lines its transition
//! recorded. So the events are read back from the causes the runtime writes (`payment of A,
//! outstanding O`, `credit note of A, …`, `written off`, `dispute opened: CODE`, `dispute
//! resolved`): payments come back without their reference, write-offs without their reason;
//! the amount and target date of a dispute are those of the case's open dispute (a resolved
//! dispute's amount is not kept). Events that change no money or dispute (promises, task
//! outcomes, risk changes) are not rebuilt: the reports read them from the history records.
//!
//! The whole picture is read under the engine's writer lock, so it is one consistent state.
//! This module must not write, and must not decide anything the engine or the reports decide.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::engine::Engine;
use super::error::DaemonError;
use super::model::{CaseRecord, HistoryEntry, Message, decode};
use super::store::{Store, Tree};
use relance_core::domain::{Customer, Event, EventKind, Invoice, Portfolio};
use relance_core::runtime::{Planned, Record};

/// What the store holds, as the import and report libraries read it.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Customers and invoices in id order; events rebuilt from the history, by date.
    pub portfolio: Portfolio,
    /// Every history line, in decision order (`order` is the line's sequence number).
    pub records: Vec<Record>,
    /// Every action decided with its actions kept (one per invoice of each message).
    pub actions: Vec<Planned>,
}

/// Reads the whole store, under the writer lock.
pub fn take(engine: &Engine) -> Result<Snapshot, DaemonError> {
    let _guard = engine.lock();
    let store = engine.store();
    let customers: Vec<Customer> = values(store, Tree::Customers, "customer")?;
    let invoices: Vec<Invoice> = values(store, Tree::Invoices, "invoice")?;
    let cases: HashMap<String, CaseRecord> = values::<CaseRecord>(store, Tree::Instances, "case")?
        .into_iter()
        .map(|r| (r.case.invoice.clone(), r))
        .collect();
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
    let mut events = rebuild_events(&history, &cases);
    events.sort_by_key(|e| e.date);
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
fn history(store: &dyn Store) -> Result<Vec<(String, u64, HistoryEntry)>, DaemonError> {
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
    const NAMES: [&str; 7] = [
        "new",
        "active",
        "paused",
        "waiting",
        "closed",
        "error",
        "unassigned",
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

/// The actions of every message, pending or delivered, one per invoice it carries.
fn actions(store: &dyn Store) -> Result<Vec<Planned>, DaemonError> {
    let mut messages: Vec<Message> = values(store, Tree::Outbox, "message")?;
    messages.extend(values::<Message>(store, Tree::Delivered, "message")?);
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
                key: item.key.clone(),
                seq: 0,
                order: m.id,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keys_and_causes_read_back() {
        let mut key = b"F-1".to_vec();
        key.push(0);
        key.extend_from_slice(&7u64.to_be_bytes());
        assert_eq!(history_key(&key), Some(("F-1".to_string(), 7)));
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
}
