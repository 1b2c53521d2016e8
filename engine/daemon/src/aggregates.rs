//! The Portfolio page's figures kept up to date: counters keyed by date and currency,
//! changed in the same commit as the writes that change them, and folded into the page's
//! series at read time (so a view costs the number of distinct dates, not of invoices).
//!
//! [`Kept`] wraps the engine's [`Store`]: every [`Store::commit`] takes the previous value of
//! each entry it writes in the trees the figures come from (invoices, cases, events, history,
//! outbox and delivered messages and their items), computes what the entry counted before and after
//! ([`Counters`]' contributions, pure functions of one entry and its invoice, or of a
//! message item and its message's header), and adds the
//! changed counters to the same commit (in the `meta` tree, under `aggr/`), so that after a
//! crash the counters and the data are both there or both not. The counters also stay in
//! memory (loaded on open) for the reads. A previous value is, in this order: what an earlier
//! op of the same commit left; what the writer handed in ([`Olds`]: a unit of work commits
//! through [`Kept::commit_with`] with the invoices, cases and message headers it read and
//! decoded under the writer lock, and the keys under fresh ids it knows are new, so its commit
//! reads back none of the entries the unit writes: only the markers of invoices chased, below);
//! else a read of the store (a plain [`Store::commit`], such as the dispatcher's).
//!
//! What is kept:
//! - what the open cases owe, per currency, due date and the day the change counts from
//!   (`since`), with the disputed part apart: the aged balance on any day folds the entries
//!   with `since` on or before it into buckets by the days from the due date. `since` is the
//!   date of the fact, not the day it was logged: a new invoice is owed from its issue date;
//!   a case changed by events written in the same commit (a payment, a credit note, a
//!   dispute) changes on the earliest of those events' dates (not before the invoice's issue
//!   date, not after the engine's today); any other change (the daily run's own: a case
//!   opened, a charge) on the engine's day. So facts imported late restate the past month
//!   ends they belong to;
//! - invoice amounts per currency and issue date (the DSO's credit sales);
//! - payments and promises per currency and the event's date; amounts chased per currency and
//!   the message's date (each invoice once per calendar month: a marker per month and invoice);
//! - messages per channel and state (sent, pending, dead);
//! - per day, the change of the number of cases in error (from the history's state changes).
//!
//! On open the counters are read back from `meta`; when they are missing, written by another
//! version ([`VERSION`]), or when the trees they count no longer hold the number of entries
//! recorded with them (a store written without this wrapper: a restore, a migration, older
//! code), they are rebuilt from the store by the same contributions ([`Counters::rebuild`]).
//!
//! The same commits keep the customer list's index (`customer_index.rs`), in memory only,
//! once it has been asked for ([`Kept::customers`]).
//!
//! This module must not decide anything about a case, nor write anything but its own
//! `aggr/` keys; it never reads the wall clock (the day comes from the engine's clock).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{Datelike, Days, NaiveDate};
use relance_core::domain::{Customer, EventKind, Invoice};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use relance_pictures::series::{ActivityPoint, AgedPoint, Buckets, ChannelCount, ErrorPoint};

use crate::clock::Clock;
use crate::customer_index::{CustomerIndex, Share, share};
use crate::keys;
use crate::model::{
    CaseRecord, HistoryEntry, Item, MessageHeader, MessageStatus, StoredEvent, decode,
};
use crate::store::{Entry, Op, Store, StoreError, Tree};

/// The counters' format: a store whose counters carry another number rebuilds them on open.
pub const VERSION: u32 = 1;

const PREFIX: &[u8] = b"aggr/";
const HEADER: &[u8] = b"aggr/header";
const MARKER: &str = "aggr/x/";

/// The trees whose entries the counters count (their sizes are recorded with the counters).
/// A message's items come after its header: an item written with its message finds the
/// header of the same commit.
pub const COUNTED: [Tree; 7] = [
    Tree::Invoices,
    Tree::Instances,
    Tree::Events,
    Tree::History,
    Tree::Outbox,
    Tree::Delivered,
    Tree::MessageItems,
];

/// The write of the counters' header: this format's [`VERSION`] and the counted trees' sizes.
fn header_op(sizes: &[usize]) -> Op {
    let header = Header {
        version: VERSION,
        sizes: sizes.to_vec(),
    };
    Op::Put(
        Tree::Meta,
        HEADER.to_vec(),
        serde_json::to_vec(&header).expect("header"),
    )
}

/// What the open cases owe on one due date, as committed on `since`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owed {
    /// Everything the open cases still owe (the disputed part included).
    pub owed: Decimal,
    /// Of which under an open dispute.
    pub disputed: Decimal,
}

/// Money that moved on one day, in one currency.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flows {
    pub chased: Decimal,
    pub promised: Decimal,
    pub collected: Decimal,
}

/// A message's state as the Portfolio page counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    Sent,
    Pending,
    Dead,
}

impl MessageState {
    fn of(s: MessageStatus) -> MessageState {
        match s {
            MessageStatus::Delivered => MessageState::Sent,
            MessageStatus::Pending | MessageStatus::Retrying => MessageState::Pending,
            MessageStatus::Dead => MessageState::Dead,
        }
    }
}

/// Every kept figure. Entries at zero are dropped, so two equal sets of counters compare
/// equal whatever path led to them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counters {
    /// (currency, due date, since) → owed.
    pub owed: BTreeMap<(String, NaiveDate, NaiveDate), Owed>,
    /// (currency, issue date) → invoice amounts.
    pub sales: BTreeMap<(String, NaiveDate), Decimal>,
    /// (currency, day) → money moved.
    pub flows: BTreeMap<(String, NaiveDate), Flows>,
    /// (channel, state) → messages.
    pub messages: BTreeMap<(String, MessageState), i64>,
    /// Day → change of the number of cases in error.
    pub errors: BTreeMap<NaiveDate, i64>,
}

/// One counter, stored as data (the key only addresses it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Stored {
    Owed {
        currency: String,
        due: NaiveDate,
        since: NaiveDate,
        #[serde(flatten)]
        value: Owed,
    },
    Sales {
        currency: String,
        issued: NaiveDate,
        amount: Decimal,
    },
    Flows {
        currency: String,
        day: NaiveDate,
        #[serde(flatten)]
        value: Flows,
    },
    Messages {
        channel: String,
        state: MessageState,
        count: i64,
    },
    Errors {
        day: NaiveDate,
        change: i64,
    },
}

/// The counters' header: their format and the sizes of the counted trees they match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Header {
    version: u32,
    sizes: Vec<usize>,
}

impl Owed {
    fn add(&mut self, o: Owed, sign: Decimal) {
        self.owed += o.owed * sign;
        self.disputed += o.disputed * sign;
    }
    fn is_zero(&self) -> bool {
        self.owed.is_zero() && self.disputed.is_zero()
    }
}

impl Flows {
    fn add(&mut self, f: Flows) {
        self.chased += f.chased;
        self.promised += f.promised;
        self.collected += f.collected;
    }
    fn is_zero(&self) -> bool {
        self.chased.is_zero() && self.promised.is_zero() && self.collected.is_zero()
    }
}

/// What an invoice owes, by (currency, due date), and the first day it counts: its case's
/// outstanding while open (nothing once closed); before its case opens, its opening amount
/// from its issue date on (as the aged report counts an invoice issued whose case the next
/// run will open).
fn owed_of(
    inv: Option<&Invoice>,
    case: Option<&CaseRecord>,
) -> Option<(String, NaiveDate, Owed, NaiveDate)> {
    let inv = inv?;
    let Some(case) = case.map(|c| &c.case) else {
        let owed = inv.opening_outstanding();
        return (owed > Decimal::ZERO).then(|| {
            (
                inv.currency.clone(),
                inv.due,
                Owed {
                    owed,
                    disputed: Decimal::ZERO,
                },
                inv.issued,
            )
        });
    };
    if !case.is_open() || case.outstanding <= Decimal::ZERO {
        return None;
    }
    let disputed = case.dispute.as_ref().map_or(Decimal::ZERO, |d| {
        d.amount.unwrap_or(case.outstanding).min(case.outstanding)
    });
    Some((
        inv.currency.clone(),
        inv.due,
        Owed {
            owed: case.outstanding,
            disputed,
        },
        NaiveDate::MIN,
    ))
}

fn month_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn marker_key(month: &str, invoice: &str) -> Vec<u8> {
    format!("{MARKER}{month}/{invoice}").into_bytes()
}

impl Counters {
    fn add_owed(
        &mut self,
        key: Option<(String, NaiveDate, Owed, NaiveDate)>,
        day: NaiveDate,
        sign: i32,
    ) {
        if let Some((currency, due, o, floor)) = key {
            let k = (currency, due, day.max(floor));
            let e = self.owed.entry(k.clone()).or_default();
            e.add(o, Decimal::from(sign));
            if e.is_zero() {
                self.owed.remove(&k);
            }
        }
    }

    fn add_sales(&mut self, inv: Option<&Invoice>, sign: i32) {
        if let Some(inv) = inv {
            let key = (inv.currency.clone(), inv.issued);
            let e = self.sales.entry(key.clone()).or_default();
            *e += inv.amount * Decimal::from(sign);
            if e.is_zero() {
                self.sales.remove(&key);
            }
        }
    }

    fn add_flows(&mut self, currency: &str, day: NaiveDate, f: Flows) {
        let key = (currency.to_string(), day);
        let e = self.flows.entry(key.clone()).or_default();
        e.add(f);
        if e.is_zero() {
            self.flows.remove(&key);
        }
    }

    fn add_message(&mut self, m: Option<&MessageHeader>, sign: i64) {
        if let Some(m) = m {
            let key = (m.channel.clone(), MessageState::of(m.status));
            let e = self.messages.entry(key.clone()).or_default();
            *e += sign;
            if *e == 0 {
                self.messages.remove(&key);
            }
        }
    }

    fn add_history(&mut self, h: Option<&HistoryEntry>, sign: i64) {
        if let Some(h) = h {
            let change = i64::from(h.to == "error") - i64::from(h.from == "error");
            if change != 0 {
                let e = self.errors.entry(h.date).or_default();
                *e += change * sign;
                if *e == 0 {
                    self.errors.remove(&h.date);
                }
            }
        }
    }

    /// Adds `delta` (a sparse set of changes) to these counters.
    pub fn merge(&mut self, delta: &Counters) {
        for (k, v) in &delta.owed {
            let e = self.owed.entry(k.clone()).or_default();
            e.add(*v, Decimal::ONE);
            if e.is_zero() {
                self.owed.remove(k);
            }
        }
        for (k, v) in &delta.sales {
            let e = self.sales.entry(k.clone()).or_default();
            *e += *v;
            if e.is_zero() {
                self.sales.remove(k);
            }
        }
        for (k, v) in &delta.flows {
            self.add_flows(&k.0, k.1, *v);
        }
        for (k, v) in &delta.messages {
            let e = self.messages.entry(k.clone()).or_default();
            *e += *v;
            if *e == 0 {
                self.messages.remove(k);
            }
        }
        for (k, v) in &delta.errors {
            let e = self.errors.entry(*k).or_default();
            *e += *v;
            if *e == 0 {
                self.errors.remove(k);
            }
        }
    }

    /// The counters of what `store` holds, every entry counted once as of `day` (a rebuild
    /// cannot know the days past changes were committed: what is owed counts from `day`).
    pub fn rebuild(store: &dyn Store, day: NaiveDate) -> Result<(Counters, Vec<Op>), StoreError> {
        let mut c = Counters::default();
        let mut markers: Vec<Op> = Vec::new();
        // Every invoice with its case, if opened (a case without its invoice counts nothing,
        // as in a commit).
        let mut invoices: Vec<(Vec<u8>, Invoice)> = Vec::new();
        store.scan(Tree::Invoices, &mut |k, v| {
            if let Ok(inv) = decode::<Invoice>("invoice", v) {
                invoices.push((k.to_vec(), inv));
            }
            Ok(())
        })?;
        for (k, inv) in &invoices {
            c.add_sales(Some(inv), 1);
            let case = store
                .get(Tree::Instances, k)?
                .and_then(|b| decode::<CaseRecord>("case", &b).ok());
            c.add_owed(owed_of(Some(inv), case.as_ref()), day, 1);
        }
        let mut events: Vec<StoredEvent> = Vec::new();
        store.scan(Tree::Events, &mut |_, v| {
            if let Ok(e) = decode::<StoredEvent>("event", v) {
                events.push(e);
            }
            Ok(())
        })?;
        for e in &events {
            let inv = match invoice_of_event(e) {
                Some(id) => store
                    .get(Tree::Invoices, id.as_bytes())?
                    .and_then(|b| decode::<Invoice>("invoice", &b).ok()),
                None => None,
            };
            if let Some((currency, f)) = flows_of_event(e, inv.as_ref()) {
                c.add_flows(&currency, e.event.date, f);
            }
        }
        store.scan(Tree::History, &mut |_, v| {
            c.add_history(decode::<HistoryEntry>("history", v).ok().as_ref(), 1);
            Ok(())
        })?;
        // Each message's date, then every item in (date, message, place) order.
        let mut dates: HashMap<u64, NaiveDate> = HashMap::new();
        for tree in [Tree::Outbox, Tree::Delivered] {
            store.scan(tree, &mut |_, v| {
                if let Ok(m) = decode::<MessageHeader>("message", v) {
                    c.add_message(Some(&m), 1);
                    dates.insert(m.id, m.date);
                }
                Ok(())
            })?;
        }
        let mut items: Vec<(NaiveDate, u64, u32, Item)> = Vec::new();
        store.scan(Tree::MessageItems, &mut |k, v| {
            if let Some((id, place)) = keys::parse_message_item(k)
                && let Some(date) = dates.get(&id)
                && let Ok(item) = decode::<Item>("message item", v)
            {
                items.push((*date, id, place, item));
            }
            Ok(())
        })?;
        items.sort_by_key(|(date, id, place, _)| (*date, *id, *place));
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        for (date, _, _, item) in &items {
            let month = month_of(*date);
            if seen.insert((month.clone(), item.invoice.clone())) {
                c.add_flows(
                    &item.currency,
                    *date,
                    Flows {
                        chased: item.outstanding,
                        ..Flows::default()
                    },
                );
                markers.push(Op::Put(
                    Tree::Meta,
                    marker_key(&month, &item.invoice),
                    Vec::new(),
                ));
            }
        }
        Ok((c, markers))
    }

    /// The stored form of every counter `delta` touches, with its value in `self` (a
    /// counter at zero is deleted).
    fn ops_for(&self, delta: &Counters) -> Vec<Op> {
        let mut ops = Vec::new();
        let mut put = |key: String, value: Option<Stored>| {
            let key = format!("aggr/{key}").into_bytes();
            ops.push(match value {
                Some(v) => Op::Put(
                    Tree::Meta,
                    key,
                    serde_json::to_vec(&v).expect("a counter serializes"),
                ),
                None => Op::Delete(Tree::Meta, key),
            });
        };
        for k in delta.owed.keys() {
            put(
                format!("o/{}/{}/{}", k.0, k.1, k.2),
                self.owed.get(k).map(|v| Stored::Owed {
                    currency: k.0.clone(),
                    due: k.1,
                    since: k.2,
                    value: *v,
                }),
            );
        }
        for k in delta.sales.keys() {
            put(
                format!("s/{}/{}", k.0, k.1),
                self.sales.get(k).map(|v| Stored::Sales {
                    currency: k.0.clone(),
                    issued: k.1,
                    amount: *v,
                }),
            );
        }
        for k in delta.flows.keys() {
            put(
                format!("f/{}/{}", k.0, k.1),
                self.flows.get(k).map(|v| Stored::Flows {
                    currency: k.0.clone(),
                    day: k.1,
                    value: *v,
                }),
            );
        }
        for k in delta.messages.keys() {
            put(
                format!("m/{}/{:?}", k.0, k.1),
                self.messages.get(k).map(|v| Stored::Messages {
                    channel: k.0.clone(),
                    state: k.1,
                    count: *v,
                }),
            );
        }
        for k in delta.errors.keys() {
            put(
                format!("e/{k}"),
                self.errors.get(k).map(|v| Stored::Errors {
                    day: *k,
                    change: *v,
                }),
            );
        }
        ops
    }

    /// Every counter as a delta from nothing (to write a rebuild).
    fn all(&self) -> Vec<Op> {
        self.ops_for(self)
    }

    fn load(store: &dyn Store) -> Result<Counters, StoreError> {
        let mut c = Counters::default();
        for (k, v) in store.prefix(Tree::Meta, PREFIX, usize::MAX)? {
            if k == HEADER || k.starts_with(MARKER.as_bytes()) {
                continue;
            }
            let Ok(s) = serde_json::from_slice::<Stored>(&v) else {
                continue;
            };
            match s {
                Stored::Owed {
                    currency,
                    due,
                    since,
                    value,
                } => {
                    c.owed.insert((currency, due, since), value);
                }
                Stored::Sales {
                    currency,
                    issued,
                    amount,
                } => {
                    c.sales.insert((currency, issued), amount);
                }
                Stored::Flows {
                    currency,
                    day,
                    value,
                } => {
                    c.flows.insert((currency, day), value);
                }
                Stored::Messages {
                    channel,
                    state,
                    count,
                } => {
                    c.messages.insert((channel, state), count);
                }
                Stored::Errors { day, change } => {
                    c.errors.insert(day, change);
                }
            }
        }
        Ok(c)
    }
}

fn invoice_of_event(e: &StoredEvent) -> Option<&str> {
    match &e.event.kind {
        EventKind::Payment { invoice, .. } | EventKind::PromiseMade { invoice, .. } => {
            Some(invoice.as_str())
        }
        _ => None,
    }
}

/// What an event adds to its day's flows, in its invoice's currency: a payment its amount, a
/// promise its amount (the invoice's when it names none).
fn flows_of_event(e: &StoredEvent, inv: Option<&Invoice>) -> Option<(String, Flows)> {
    let inv = inv?;
    let f = match &e.event.kind {
        EventKind::Payment { amount, .. } => Flows {
            collected: *amount,
            ..Flows::default()
        },
        EventKind::PromiseMade { amount, .. } => Flows {
            promised: amount.unwrap_or(inv.amount),
            ..Flows::default()
        },
        _ => return None,
    };
    Some((inv.currency.clone(), f))
}

/// This commit's writes so far, by (tree, key): the value each op left (`None`: deleted).
type Overlay<'a> = HashMap<(u8, &'a [u8]), Option<&'a [u8]>>;

fn tree_tag(t: Tree) -> u8 {
    COUNTED.iter().position(|x| *x == t).unwrap_or(255) as u8
}

/// A record a writer read (and decoded) before its commit.
#[derive(Debug, Clone)]
pub enum Record {
    Invoice(Invoice),
    Case(CaseRecord),
    Message(MessageHeader),
}

/// What a writer already holds of the entries of the counted trees, as stored before its
/// commit (`None`: absent), so that [`Kept::commit_with`] need not read them back: the
/// invoices, cases and message headers a unit of work read and decoded, and the keys it knows
/// are new (fresh ids: events, history, a message's new items). It must be read under the
/// writer lock the commit is made under (nothing else commits in between); it is used only if
/// the store's [`Store::generation`] is still `generation` (a store reopened since may have
/// lost what was read). An entry held here is the value before the commit, not after an
/// earlier op of the same commit: the delta applies the commit's own ops first.
#[derive(Debug, Default)]
pub struct Olds {
    generation: u64,
    held: HashMap<(u8, Vec<u8>), Option<Record>>,
}

impl Olds {
    /// Nothing held yet, read at the store's generation `generation`.
    pub fn new(generation: u64) -> Olds {
        Olds {
            generation,
            held: HashMap::new(),
        }
    }

    fn hold(&mut self, tree: Tree, key: Vec<u8>, value: Option<Record>) {
        // The first value handed in is the one read from the store.
        self.held.entry((tree_tag(tree), key)).or_insert(value);
    }

    /// Invoice `id` as stored.
    pub fn invoice(&mut self, id: &str, inv: Option<Invoice>) {
        self.hold(
            Tree::Invoices,
            id.as_bytes().to_vec(),
            inv.map(Record::Invoice),
        );
    }

    /// The case of invoice `id` as stored.
    pub fn case(&mut self, id: &str, case: Option<CaseRecord>) {
        self.hold(
            Tree::Instances,
            id.as_bytes().to_vec(),
            case.map(Record::Case),
        );
    }

    /// Message `id`'s header as stored in `tree` (outbox or delivered).
    pub fn message(&mut self, tree: Tree, id: u64, header: Option<MessageHeader>) {
        self.hold(tree, keys::id(id).to_vec(), header.map(Record::Message));
    }

    /// `key` of `tree` is not stored (a key under a fresh id).
    pub fn absent(&mut self, tree: Tree, key: &[u8]) {
        self.hold(tree, key.to_vec(), None);
    }
}

/// An entry as it stands within a commit being prepared, before one of its ops.
enum Old<'a> {
    /// Written by an earlier op of this commit.
    Written(Option<&'a [u8]>),
    /// Handed in by the writer ([`Olds`]).
    Held(Option<&'a Record>),
    /// Read from the store.
    Stored(Option<Vec<u8>>),
}

impl<'a> Old<'a> {
    fn exists(&self) -> bool {
        match self {
            Old::Written(v) => v.is_some(),
            Old::Held(v) => v.is_some(),
            Old::Stored(v) => v.is_some(),
        }
    }

    /// The entry's bytes, when it was not handed in decoded (only absent entries of the trees
    /// [`Olds`] holds no record type for are handed in: events, history, items).
    fn bytes(&self) -> Option<&[u8]> {
        match self {
            Old::Written(v) => *v,
            Old::Held(_) => None,
            Old::Stored(v) => v.as_deref(),
        }
    }

    fn decoded<T: for<'de> Deserialize<'de> + Clone>(
        &self,
        what: &str,
        pick: impl FnOnce(&'a Record) -> Option<&'a T>,
    ) -> Option<Cow<'a, T>> {
        match self {
            Old::Held(r) => r.and_then(pick).map(Cow::Borrowed),
            _ => self
                .bytes()
                .and_then(|b| decode::<T>(what, b).ok())
                .map(Cow::Owned),
        }
    }

    fn invoice(&self) -> Option<Cow<'a, Invoice>> {
        self.decoded("invoice", |r| match r {
            Record::Invoice(i) => Some(i),
            _ => None,
        })
    }

    fn case(&self) -> Option<Cow<'a, CaseRecord>> {
        self.decoded("case", |r| match r {
            Record::Case(c) => Some(c),
            _ => None,
        })
    }

    fn message(&self) -> Option<Cow<'a, MessageHeader>> {
        self.decoded("message", |r| match r {
            Record::Message(m) => Some(m),
            _ => None,
        })
    }
}

/// Entry `key` of `tree` as it stands before the next op of the commit: this commit's earlier
/// ops first, then what the writer handed in, then the store.
fn before<'a>(
    store: &dyn Store,
    overlay: &Overlay<'a>,
    olds: Option<&'a Olds>,
    tree: Tree,
    key: &[u8],
) -> Result<Old<'a>, StoreError> {
    let tag = tree_tag(tree);
    // The overlay's keys live as long as the commit's ops; `key` may not (the map is
    // covariant in them).
    let overlay: &HashMap<(u8, &[u8]), Option<&'a [u8]>> = overlay;
    if let Some(v) = overlay.get(&(tag, key)) {
        return Ok(Old::Written(*v));
    }
    if let Some(held) = olds.and_then(|o| o.held.get(&(tag, key.to_vec()))) {
        return Ok(Old::Held(held.as_ref()));
    }
    Ok(Old::Stored(store.get(tree, key)?))
}

/// The store with its counters kept in step (see the module's comment).
pub struct Kept {
    inner: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

struct State {
    counters: Counters,
    sizes: Vec<usize>,
    generation: u64,
    /// The customer list's index, once asked for (`customer_index.rs`); kept by each commit.
    index: Option<CustomerIndex>,
}

/// What a commit changes in the customer list's index: invoices' shares (with a sign) and
/// customers' records (`None`: deleted).
#[derive(Default)]
struct IndexDelta {
    shares: Vec<(Option<Share>, Decimal)>,
    customers: Vec<(String, Option<Customer>)>,
}

impl IndexDelta {
    fn apply(self, index: &mut CustomerIndex) {
        for (share, sign) in self.shares {
            index.add(share, sign);
        }
        for (id, c) in self.customers {
            index.customer(&id, c.as_ref());
        }
    }
}

impl Kept {
    /// Wraps `inner`: its counters read back, or rebuilt when missing or stale.
    pub fn open(inner: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<Kept, StoreError> {
        let state = Self::load_or_rebuild(&*inner, clock.today())?;
        Ok(Kept {
            inner,
            clock,
            state: Mutex::new(state),
        })
    }

    fn sizes(store: &dyn Store) -> Vec<usize> {
        COUNTED.iter().map(|t| store.count(*t)).collect()
    }

    fn load_or_rebuild(store: &dyn Store, today: NaiveDate) -> Result<State, StoreError> {
        let sizes = Self::sizes(store);
        let header = store
            .get(Tree::Meta, HEADER)?
            .and_then(|b| serde_json::from_slice::<Header>(&b).ok());
        let generation = store.generation();
        if let Some(h) = header
            && h.version == VERSION
            && h.sizes == sizes
        {
            return Ok(State {
                counters: Counters::load(store)?,
                sizes,
                generation,
                index: None,
            });
        }
        let mut ops: Vec<Op> = store
            .prefix(Tree::Meta, PREFIX, usize::MAX)?
            .into_iter()
            .map(|(k, _)| Op::Delete(Tree::Meta, k))
            .collect();
        if sizes.iter().all(|n| *n == 0) {
            // Nothing to count: nothing written (a fresh store stays empty for a restore);
            // the first commit that counts something writes the header.
            if !ops.is_empty() {
                store.commit(&ops)?;
            }
            return Ok(State {
                counters: Counters::default(),
                sizes,
                generation,
                index: None,
            });
        }
        let (counters, markers) = Counters::rebuild(store, today)?;
        ops.extend(markers);
        ops.extend(counters.all());
        ops.push(header_op(&sizes));
        store.commit(&ops)?;
        store.flush()?;
        tracing::info!("portfolio counters rebuilt from the store");
        Ok(State {
            counters,
            sizes,
            generation,
            index: None,
        })
    }

    /// The counters as committed.
    pub fn counters(&self) -> Counters {
        self.lock().counters.clone()
    }

    /// Reads the counters under the lock (no copy).
    pub fn read<T>(&self, f: impl FnOnce(&Counters) -> T) -> T {
        f(&self.lock().counters)
    }

    /// Reads the customer list's index under the lock, building it first if it is not kept
    /// yet (one scan of the customers, invoices and cases; every commit then keeps it).
    pub fn customers<T>(&self, f: impl FnOnce(&CustomerIndex) -> T) -> Result<T, StoreError> {
        let mut st = self.lock();
        if self.inner.generation() != st.generation {
            *st = Self::load_or_rebuild(&*self.inner, self.clock.today())?;
        }
        if st.index.is_none() {
            st.index = Some(CustomerIndex::build(&*self.inner)?);
        }
        Ok(f(st.index.as_ref().expect("built above")))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`Store::commit`] of `ops`, the entries `olds` holds not read back (see [`Olds`]: a
    /// unit of work's records, as it read them before this commit under the writer lock).
    pub fn commit_with(&self, ops: &[Op], olds: &Olds) -> Result<(), StoreError> {
        self.commit_olds(ops, Some(olds))
    }

    fn commit_olds(&self, ops: &[Op], olds: Option<&Olds>) -> Result<(), StoreError> {
        let tree = |op: &Op| match op {
            Op::Put(t, ..) | Op::Delete(t, _) => *t,
        };
        let customers = ops.iter().any(|op| tree(op) == Tree::Customers);
        let counted = ops.iter().any(|op| COUNTED.contains(&tree(op)));
        if !customers && !counted {
            return self.inner.commit(ops);
        }
        let mut st = self.lock();
        if self.inner.generation() != st.generation {
            // Commits not made durable before a reopening may be gone: read the counters
            // back as the store now holds them.
            *st = Self::load_or_rebuild(&*self.inner, self.clock.today())?;
        }
        // What was read under another generation may be gone: read it back.
        let olds = olds.filter(|o| o.generation == self.inner.generation());
        let today = self.clock.today();
        let mut idx = IndexDelta::default();
        let (delta, extra, sizes) = self.delta(ops, olds, today, &mut idx)?;
        if !counted {
            // Customers only: the counters and their header stay.
            self.inner.commit(ops)?;
            if let Some(index) = st.index.as_mut() {
                idx.apply(index);
            }
            return Ok(());
        }
        let mut next = st.counters.clone_touched(&delta);
        next.merge(&delta);
        let new_sizes: Vec<usize> = st
            .sizes
            .iter()
            .zip(&sizes)
            .map(|(s, d)| s.saturating_add_signed(*d))
            .collect();
        let mut all: Vec<Op> = ops.to_vec();
        all.extend(extra);
        all.extend(next.ops_for(&delta));
        all.push(header_op(&new_sizes));
        self.inner.commit(&all)?;
        st.counters.merge(&delta);
        st.sizes = new_sizes;
        if let Some(index) = st.index.as_mut() {
            idx.apply(index);
        }
        Ok(())
    }

    /// What `ops` change in the counters (and the markers of invoices chased), read against
    /// the store as it is before them (the entries `olds` holds are not read back).
    fn delta<'a>(
        &self,
        ops: &'a [Op],
        olds: Option<&'a Olds>,
        today: NaiveDate,
        idx: &mut IndexDelta,
    ) -> Result<(Counters, Vec<Op>, Vec<isize>), StoreError> {
        let store = &*self.inner;
        let mut overlay: Overlay<'a> = HashMap::new();
        let mut d = Counters::default();
        for op in ops {
            if let Op::Put(Tree::Customers, k, _) | Op::Delete(Tree::Customers, k) = op {
                let c = match op {
                    Op::Put(_, _, v) => decode::<Customer>("customer", v).ok(),
                    Op::Delete(..) => None,
                };
                idx.customers
                    .push((String::from_utf8_lossy(k).into_owned(), c));
            }
        }
        let mut extra = Vec::new();
        let mut sizes = vec![0isize; COUNTED.len()];
        let mut new_markers: BTreeSet<Vec<u8>> = BTreeSet::new();
        // The date of the facts this commit brings, per invoice (the earliest of its events):
        // what its case owes changes on that day, not on the day the facts were logged.
        let mut fact_day: HashMap<String, NaiveDate> = HashMap::new();
        for op in ops {
            if let Op::Put(Tree::Events, _, v) = op
                && let Ok(e) = decode::<StoredEvent>("event", v)
                && let Some(inv) = e.event.kind.invoice()
            {
                let d = fact_day.entry(inv.to_string()).or_insert(e.event.date);
                *d = (*d).min(e.event.date);
            }
        }
        // The day an invoice's change counts from: its facts' date (not before its issue
        // date, not after today), else today.
        let dated = |id: &str, inv: Option<&Invoice>| {
            fact_day.get(id).map_or(today, |d| {
                (*d).max(inv.map_or(NaiveDate::MIN, |i| i.issued))
                    .min(today)
            })
        };
        // Invoices first, then cases (an invoice and its case written together count once).
        for pass in COUNTED {
            for op in ops {
                let (tree, key, new): (Tree, &'a [u8], Option<&'a [u8]>) = match op {
                    Op::Put(t, k, v) => (*t, k.as_slice(), Some(v.as_slice())),
                    Op::Delete(t, k) => (*t, k.as_slice(), None),
                };
                if tree != pass {
                    continue;
                }
                let old = before(store, &overlay, olds, tree, key)?;
                let slot = tree_tag(tree) as usize;
                sizes[slot] += isize::from(new.is_some()) - isize::from(old.exists());
                match tree {
                    Tree::Invoices => {
                        let o = old.invoice();
                        let n = new.and_then(|b| decode::<Invoice>("invoice", b).ok());
                        d.add_sales(o.as_deref(), -1);
                        d.add_sales(n.as_ref(), 1);
                        let case = before(store, &overlay, olds, Tree::Instances, key)?.case();
                        let case = case.as_deref();
                        let id = String::from_utf8_lossy(key);
                        let day = dated(id.as_ref(), n.as_ref().or(o.as_deref()));
                        d.add_owed(owed_of(o.as_deref(), case), day, -1);
                        // A new invoice is owed from its issue date (imported late, its past
                        // month ends count it).
                        let from = match (&o, &n) {
                            (None, Some(inv)) => inv.issued.min(today),
                            _ => day,
                        };
                        d.add_owed(owed_of(n.as_ref(), case), from, 1);
                        idx.shares
                            .push((share(o.as_deref(), case), Decimal::NEGATIVE_ONE));
                        idx.shares.push((share(n.as_ref(), case), Decimal::ONE));
                    }
                    Tree::Instances => {
                        let inv = before(store, &overlay, olds, Tree::Invoices, key)?.invoice();
                        let inv = inv.as_deref();
                        let o = old.case();
                        let n = new.and_then(|b| decode::<CaseRecord>("case", b).ok());
                        let day = dated(String::from_utf8_lossy(key).as_ref(), inv);
                        d.add_owed(owed_of(inv, o.as_deref()), day, -1);
                        d.add_owed(owed_of(inv, n.as_ref()), day, 1);
                        idx.shares
                            .push((share(inv, o.as_deref()), Decimal::NEGATIVE_ONE));
                        idx.shares.push((share(inv, n.as_ref()), Decimal::ONE));
                    }
                    Tree::Events => {
                        for (bytes, sign) in [(old.bytes(), -1), (new, 1)] {
                            let Some(e) =
                                bytes.and_then(|b| decode::<StoredEvent>("event", b).ok())
                            else {
                                continue;
                            };
                            let inv = match invoice_of_event(&e) {
                                Some(id) => {
                                    before(store, &overlay, olds, Tree::Invoices, id.as_bytes())?
                                        .invoice()
                                }
                                None => None,
                            };
                            if let Some((currency, mut f)) = flows_of_event(&e, inv.as_deref()) {
                                if sign < 0 {
                                    f.promised = -f.promised;
                                    f.collected = -f.collected;
                                }
                                d.add_flows(&currency, e.event.date, f);
                            }
                        }
                    }
                    Tree::History => {
                        let o = old
                            .bytes()
                            .and_then(|b| decode::<HistoryEntry>("history", b).ok());
                        let n = new.and_then(|b| decode::<HistoryEntry>("history", b).ok());
                        d.add_history(o.as_ref(), -1);
                        d.add_history(n.as_ref(), 1);
                    }
                    Tree::Outbox | Tree::Delivered => {
                        let o = old.message();
                        let n = new.and_then(|b| decode::<MessageHeader>("message", b).ok());
                        d.add_message(o.as_deref(), -1);
                        d.add_message(n.as_ref(), 1);
                    }
                    // A new item chases its invoice on its message's date (once a month).
                    Tree::MessageItems => {
                        let item = match (old.exists(), new) {
                            (false, Some(v)) => decode::<Item>("message item", v).ok(),
                            _ => None,
                        };
                        let date = match keys::parse_message_item(key) {
                            Some((id, _)) if item.is_some() => {
                                let id = keys::id(id);
                                let mut header =
                                    before(store, &overlay, olds, Tree::Outbox, &id)?.message();
                                if header.is_none() {
                                    header = before(store, &overlay, olds, Tree::Delivered, &id)?
                                        .message();
                                }
                                header.map(|h| h.date)
                            }
                            _ => None,
                        };
                        if let (Some(item), Some(date)) = (item, date) {
                            let k = marker_key(&month_of(date), &item.invoice);
                            if !new_markers.contains(&k) && store.get(Tree::Meta, &k)?.is_none() {
                                d.add_flows(
                                    &item.currency,
                                    date,
                                    Flows {
                                        chased: item.outstanding,
                                        ..Flows::default()
                                    },
                                );
                                extra.push(Op::Put(Tree::Meta, k.clone(), Vec::new()));
                                new_markers.insert(k);
                            }
                        }
                    }
                    _ => {}
                }
                overlay.insert((tree_tag(tree), key), new);
            }
        }
        Ok((d, extra, sizes))
    }
}

impl Store for Kept {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }

    fn get_many(&self, tree: Tree, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.inner.get_many(tree, keys)
    }

    crate::forward_store_reads!();

    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        self.commit_olds(ops, None)
    }

    fn last_error(&self) -> Option<String> {
        self.inner.last_error()
    }

    fn generation(&self) -> u64 {
        self.inner.generation()
    }

    fn open_snapshots(&self) -> usize {
        self.inner.open_snapshots()
    }

    fn advance_ids(&self, past: u64) -> Result<(), StoreError> {
        self.inner.advance_ids(past)
    }

    fn prefix(&self, tree: Tree, prefix: &[u8], limit: usize) -> Result<Vec<Entry>, StoreError> {
        self.inner.prefix(tree, prefix, limit)
    }
}

impl Counters {
    /// The entries of `self` that `delta` touches (the others are not needed to write it).
    fn clone_touched(&self, delta: &Counters) -> Counters {
        let mut c = Counters::default();
        for k in delta.owed.keys() {
            if let Some(v) = self.owed.get(k) {
                c.owed.insert(k.clone(), *v);
            }
        }
        for k in delta.sales.keys() {
            if let Some(v) = self.sales.get(k) {
                c.sales.insert(k.clone(), *v);
            }
        }
        for k in delta.flows.keys() {
            if let Some(v) = self.flows.get(k) {
                c.flows.insert(k.clone(), *v);
            }
        }
        for k in delta.messages.keys() {
            if let Some(v) = self.messages.get(k) {
                c.messages.insert(k.clone(), *v);
            }
        }
        for k in delta.errors.keys() {
            if let Some(v) = self.errors.get(k) {
                c.errors.insert(*k, *v);
            }
        }
        c
    }

    /// The aged balance in `currency` on `at`: what was owed as committed by `at`, by the
    /// days from each due date to `at`.
    pub fn aged(&self, currency: &str, at: NaiveDate) -> Buckets {
        let mut b = Buckets::default();
        for ((c, due, since), o) in &self.owed {
            if c == currency && *since <= at {
                b.add((at - *due).num_days(), o.owed, o.disputed);
            }
        }
        b
    }

    /// Receivables in `currency` on `at`: all, and those not yet due.
    pub fn receivables(&self, currency: &str, at: NaiveDate) -> (Decimal, Decimal) {
        let mut total = Decimal::ZERO;
        let mut current = Decimal::ZERO;
        for ((c, due, since), o) in &self.owed {
            if c == currency && *since <= at {
                total += o.owed;
                if *due >= at {
                    current += o.owed;
                }
            }
        }
        (total, current)
    }

    /// Invoice amounts in `currency` issued from `from` to `to`, inclusive.
    pub fn sales(&self, currency: &str, from: NaiveDate, to: NaiveDate) -> Decimal {
        self.sales
            .range((currency.to_string(), from)..=(currency.to_string(), to))
            .map(|(_, v)| *v)
            .sum()
    }

    /// DSO (simple formula over `period_days`) and CEI on `at`, as the DSO report defines
    /// them, on the kept receivables.
    pub fn ratios(
        &self,
        currency: &str,
        at: NaiveDate,
        period_days: u32,
    ) -> (Option<Decimal>, Option<Decimal>) {
        let days = Decimal::from(period_days.max(1));
        let start = at
            .checked_sub_days(Days::new(u64::from(period_days.max(1)) - 1))
            .unwrap_or(at);
        let before = start.pred_opt().unwrap_or(start);
        let (now, current) = self.receivables(currency, at);
        let (beginning, _) = self.receivables(currency, before);
        let sales = self.sales(currency, start, at);
        let dso = (sales > Decimal::ZERO).then(|| (now / sales * days).round_dp(1));
        let denominator = beginning + sales - current;
        let cei = (denominator > Decimal::ZERO)
            .then(|| ((beginning + sales - now) / denominator * Decimal::ONE_HUNDRED).round_dp(1));
        (dso, cei)
    }

    /// Money moved in `currency` from `from` to `until`, inclusive.
    pub fn activity(&self, currency: &str, from: NaiveDate, until: NaiveDate) -> ActivityPoint {
        let mut f = Flows::default();
        for (_, v) in self
            .flows
            .range((currency.to_string(), from)..=(currency.to_string(), until))
        {
            f.add(*v);
        }
        ActivityPoint {
            from,
            until,
            chased: f.chased,
            promised: f.promised,
            collected: f.collected,
        }
    }

    /// Messages by channel (name order).
    pub fn channels(&self) -> Vec<ChannelCount> {
        let mut by: BTreeMap<&str, ChannelCount> = BTreeMap::new();
        for ((channel, state), n) in &self.messages {
            let c = by.entry(channel.as_str()).or_insert_with(|| ChannelCount {
                channel: channel.clone(),
                sent: 0,
                pending: 0,
                dead: 0,
            });
            let n = u64::try_from(*n).unwrap_or(0);
            match state {
                MessageState::Sent => c.sent += n,
                MessageState::Pending => c.pending += n,
                MessageState::Dead => c.dead += n,
            }
        }
        by.into_values().collect()
    }

    /// Cases in error at the end of each of the `days` days up to `at`.
    pub fn errors(&self, at: NaiveDate, days: u32) -> Vec<ErrorPoint> {
        let first = at
            .checked_sub_days(Days::new(u64::from(days.max(1)) - 1))
            .unwrap_or(at);
        let mut n: i64 = self.errors.range(..first).map(|(_, v)| *v).sum();
        first
            .iter_days()
            .take_while(|d| *d <= at)
            .map(|day| {
                n += self.errors.get(&day).copied().unwrap_or(0);
                ErrorPoint {
                    date: day,
                    cases: u64::try_from(n).unwrap_or(0),
                }
            })
            .collect()
    }

    /// The aged balance at a period end.
    pub fn aged_point(&self, currency: &str, at: NaiveDate) -> AgedPoint {
        AgedPoint {
            date: at,
            buckets: self.aged(currency, at),
        }
    }
}
