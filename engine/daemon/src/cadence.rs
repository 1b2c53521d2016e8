//! The contact cadence in the daemon: the store's side of `relance_core::runtime::cadence`.
//!
//! It owns the `cadence` tree and the feeding of core's [`Cadence`], as the simulator's
//! `cadence.rs` feeds it over a run: the messages subject to the cadence that the daily run
//! decides are *held* (`h`, day, order) instead of going to the outbox; once the day's last
//! case is ticked, [`Work::cadence_pass`] hands them all to a [`Cadence`] resumed from the
//! store (each customer's last contact `l`, the messages waiting out a gap `w`), with the
//! messages whose gap ends that day, and writes back what it returns: the messages that go
//! out (through the outbox, one message per customer, channel and day, each invoice keeping
//! its own step), the ones that start waiting and the new last contacts, in the same commit.
//! A unit of work outside the daily run (a write after the day's run) goes through the same
//! cadence at once ([`Work::cadence_now`]): its messages go out that day unless the customer
//! was already contacted within the gap, and then wait.
//!
//! It must not decide anything itself (core decides what merges, what waits and what is
//! dropped) nor run the transition function; it must not deliver (the outbox does).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use relance_core::runtime::Planned;
use relance_core::runtime::cadence::Cadence;
use relance_dsl::ir::{Action, ScenarioSet};

use super::driver::Work;
use super::error::DaemonError;
use super::keys;
use super::model::{Item, decode, encode};
use super::store::{Op, Tree};

/// Actions with their outbox items.
type WithItems = Vec<(Planned, Item)>;

const HELD: u8 = b'h';
const WAITING: u8 = b'w';
const LAST: u8 = b'l';

/// A message in the cadence's keeping: the action as core decided it and its outbox item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldMessage {
    /// The day it goes out (held: the day it was decided; waiting: the end of the gap).
    pub date: NaiveDate,
    /// Waiting: the day it was due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
    pub invoice: String,
    pub customer: String,
    pub scenario: String,
    pub version: String,
    pub step: String,
    pub step_order: usize,
    pub action: Action,
    pub key: String,
    /// Decision order (a store id): a tie of severity goes to the first decided.
    pub order: u64,
    pub item: Item,
}

impl HeldMessage {
    fn new(p: Planned, item: Item, due_on: Option<NaiveDate>) -> HeldMessage {
        HeldMessage {
            date: p.date,
            due_on,
            invoice: p.invoice,
            customer: p.customer,
            scenario: p.scenario,
            version: p.version,
            step: p.step,
            step_order: p.step_order,
            action: p.action,
            key: p.key,
            order: p.order,
            item,
        }
    }

    fn planned(&self) -> Planned {
        Planned {
            date: self.date,
            invoice: self.invoice.clone(),
            customer: self.customer.clone(),
            scenario: self.scenario.clone(),
            version: self.version.clone(),
            step: self.step.clone(),
            step_order: self.step_order,
            action: self.action.clone(),
            rate_assumed: None,
            installments: self.item.installments.clone(),
            key: self.key.clone(),
            seq: 0,
            order: self.order,
        }
    }
}

fn dated_key(kind: u8, day: NaiveDate, order: u64) -> Vec<u8> {
    let mut k = vec![kind];
    k.extend_from_slice(&keys::date(day));
    k.extend_from_slice(&order.to_be_bytes());
    k
}

/// The key of a customer's last contact.
fn last_key(customer: &str) -> Vec<u8> {
    let mut k = vec![LAST];
    k.extend_from_slice(customer.as_bytes());
    k
}

/// `verify`'s check of one entry of the `cadence` tree.
pub fn check_entry(k: &[u8], v: &[u8]) -> Result<(), String> {
    match k.first() {
        Some(&HELD | &WAITING) => {
            if k.len() != 13 || keys::parse_date(&k[1..]).is_none() {
                return Err("key is not a kind, a date and an order".into());
            }
            serde_json::from_slice::<HeldMessage>(v)
                .map(drop)
                .map_err(|e| e.to_string())
        }
        Some(&LAST) if k.len() > 1 => {
            if v.len() == 4 && keys::parse_date(v).is_some() {
                Ok(())
            } else {
                Err("last contact is not a date".into())
            }
        }
        _ => Err("unknown kind of cadence entry".into()),
    }
}

/// The set whose cadence applies: the current deployment's, when it has one.
pub(crate) fn set_of<'a>(w: &Work<'a>) -> Option<&'a ScenarioSet> {
    w.catalog()
        .current()
        .map(|d| &d.set)
        .filter(|s| relance_core::runtime::cadence::used(s))
}

/// What waits in the cadence's keeping, in release order (for views and tests).
pub fn waiting(store: &dyn super::store::Store) -> Result<Vec<HeldMessage>, DaemonError> {
    store
        .range(Tree::Cadence, &[WAITING], Some(&[WAITING + 1]), usize::MAX)?
        .into_iter()
        .map(|(_, v)| decode("cadence message", &v))
        .collect()
}

/// What waits for one customer (`GET /v1/customers/{id}`'s `waiting`), in release order. A
/// scan of every waiting message: few wait at once (one per invoice at most).
pub fn waiting_for(
    store: &dyn super::store::Store,
    customer: &str,
) -> Result<Vec<HeldMessage>, DaemonError> {
    Ok(waiting(store)?
        .into_iter()
        .filter(|m| m.customer == customer)
        .collect())
}

impl Work<'_> {
    /// Splits this unit's messages subject to the cadence off (each numbered by a store id in
    /// decision order): held for the day's pass in the daily run, through the cadence at
    /// once otherwise. Returns the writes.
    pub(crate) fn cadence_split(
        &mut self,
        planned: Vec<(Planned, Item)>,
    ) -> Result<(WithItems, Vec<Op>), DaemonError> {
        let Some(set) = set_of(self) else {
            return Ok((planned, Vec::new()));
        };
        let cadence = Cadence::new(set);
        let (mut subject, rest): (Vec<_>, Vec<_>) =
            planned.into_iter().partition(|(p, _)| cadence.subject(p));
        if subject.is_empty() {
            return Ok((rest, Vec::new()));
        }
        for (p, _) in &mut subject {
            p.order = self.store().next_id()?;
        }
        if self.holds_for_cadence() {
            let ops = subject
                .into_iter()
                .map(|(p, item)| {
                    let k = dated_key(HELD, p.date, p.order);
                    Op::Put(Tree::Cadence, k, encode(&HeldMessage::new(p, item, None)))
                })
                .collect();
            return Ok((rest, ops));
        }
        let day = subject
            .iter()
            .map(|(p, _)| p.date)
            .max()
            .unwrap_or(NaiveDate::MIN);
        let (ops, sent) = self.decide(day, subject, Vec::new())?;
        self.merged_through_cadence(sent);
        Ok((rest, ops))
    }

    /// The daily run's last pass on `day`: every message held for the day and every message
    /// whose gap ends by then go through the cadence (see the module's doc).
    /// False when nothing was held nor waiting.
    pub fn cadence_pass(&mut self, day: NaiveDate) -> Result<bool, DaemonError> {
        if set_of(self).is_none() {
            // A set deployed without a cadence: what was held or waiting goes out as it is.
            return self.cadence_release_all(day);
        }
        let mut ops = Vec::new();
        let mut due = Vec::new();
        for (k, v) in self.store().range(
            Tree::Cadence,
            &[HELD],
            Some(&keys::dated_through(HELD, day)),
            usize::MAX,
        )? {
            let m: HeldMessage = decode("cadence message", &v)?;
            ops.push(Op::Delete(Tree::Cadence, k));
            let mut p = m.planned();
            p.date = day;
            due.push((p, m.item));
        }
        let mut waiting = Vec::new();
        for (k, v) in self.store().range(
            Tree::Cadence,
            &[WAITING],
            Some(&keys::dated_through(WAITING, day)),
            usize::MAX,
        )? {
            let m: HeldMessage = decode("cadence message", &v)?;
            ops.push(Op::Delete(Tree::Cadence, k));
            waiting.push(m);
        }
        if due.is_empty() && waiting.is_empty() {
            return Ok(false);
        }
        let (decided, sent) = self.decide(day, due, waiting)?;
        ops.extend(decided);
        for op in ops {
            self.push_op(op);
        }
        self.merged_through_cadence(sent);
        Ok(true)
    }

    /// Without a cadence in the current set: held and waiting messages go out on `day`
    /// unmerged, as they were decided.
    fn cadence_release_all(&mut self, day: NaiveDate) -> Result<bool, DaemonError> {
        let mut sent = Vec::new();
        for kind in [HELD, WAITING] {
            for (k, v) in self.store().range(
                Tree::Cadence,
                &[kind],
                Some(&keys::dated_through(kind, day)),
                usize::MAX,
            )? {
                let m: HeldMessage = decode("cadence message", &v)?;
                self.push_op(Op::Delete(Tree::Cadence, k));
                if self.closed_on(&m.invoice)?.is_some_and(|c| c <= day) {
                    continue;
                }
                let mut p = m.planned();
                p.date = day;
                sent.push((p, m.item));
            }
        }
        let any = !sent.is_empty();
        self.merged_through_cadence(sent);
        Ok(any)
    }

    /// The day an invoice's case closed or was frozen, if it was ([`Status::silenced_since`](relance_core::runtime::Status::silenced_since)).
    fn closed_on(&mut self, invoice: &str) -> Result<Option<NaiveDate>, DaemonError> {
        Ok(self.case(invoice)?.and_then(|c| c.status.silenced_since()))
    }

    /// Core's decision for `day` over `due` (all due that day) and `waiting` (released by
    /// then), from the stored last contacts: the writes (new waiting messages, last contacts)
    /// and the messages that go out, each with its item.
    fn decide(
        &mut self,
        day: NaiveDate,
        due: Vec<(Planned, Item)>,
        waiting: Vec<HeldMessage>,
    ) -> Result<(Vec<Op>, WithItems), DaemonError> {
        let customers: BTreeSet<String> = due
            .iter()
            .map(|(p, _)| p.customer.clone())
            .chain(waiting.iter().map(|m| m.customer.clone()))
            .collect();
        let mut last = HashMap::new();
        for c in &customers {
            if let Some(v) = self.store().get(Tree::Cadence, &last_key(c))?
                && let Some(d) = keys::parse_date(&v)
            {
                last.insert(c.clone(), d);
            }
        }
        let mut closed = HashMap::new();
        for m in &waiting {
            if let Some(on) = self.closed_on(&m.invoice)? {
                closed.insert(m.invoice.clone(), on);
            }
        }
        let mut items: HashMap<String, Item> = HashMap::new();
        let mut planned = Vec::with_capacity(due.len());
        for (p, item) in due {
            items.insert(p.key.clone(), item);
            planned.push(p);
        }
        let resumed: Vec<Planned> = waiting
            .into_iter()
            .map(|m| {
                let p = m.planned();
                items.insert(p.key.clone(), m.item);
                p
            })
            .collect();
        let set = set_of(self).ok_or_else(|| DaemonError::Corrupt("no cadence".into()))?;
        let mut cadence = Cadence::resume(set, last.clone(), resumed);
        let closed_on = |p: &Planned| closed.get(&p.invoice).copied();
        let mut days = day
            .pred_opt()
            .map(|before| cadence.release_through(before, &closed_on))
            .unwrap_or_default();
        days.push((day, cadence.day(day, planned, &closed_on)));
        let mut sent = Vec::new();
        let mut due_on: HashMap<String, NaiveDate> = HashMap::new();
        for (_, d) in days {
            for p in d.sent {
                if let Some(item) = items.remove(&p.key) {
                    sent.push((p, item));
                }
            }
            for def in d.deferred {
                due_on.insert(format!("{}\u{0}{}", def.invoice, def.order), def.date);
            }
        }
        let mut ops = Vec::new();
        for p in cadence.waiting() {
            let Some(item) = items.get(&p.key).cloned() else {
                continue;
            };
            let from = due_on
                .get(&format!("{}\u{0}{}", p.invoice, p.order))
                .copied();
            ops.push(Op::Put(
                Tree::Cadence,
                dated_key(WAITING, p.date, p.order),
                encode(&HeldMessage::new(p.clone(), item, from)),
            ));
        }
        let changed: BTreeMap<&str, NaiveDate> = cadence
            .last_contacts()
            .filter(|(c, d)| last.get(*c) != Some(d))
            .collect();
        for (c, d) in changed {
            ops.push(Op::Put(Tree::Cadence, last_key(c), keys::date(d).to_vec()));
        }
        Ok((ops, sent))
    }
}
