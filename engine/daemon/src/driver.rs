//! The durable driver of the transition function: a unit of work that reads customers,
//! invoices and cases through the store, runs `open_case` / `transition` / `next_wakeup`
//! exactly as the simulator does, and turns everything decided into one list of store writes
//! (state, next timer, outbox messages with grouping, history) committed atomically.
//!
//! It owns the daemon's semantics of a day: every fact is first appended to the event log
//! (`record_events`); a fact on an open case is applied at once (dated before the day it is
//! applied on, it is history: its actions are dropped) and the case is ticked at the next
//! daily run; a fact on an invoice whose case is not open yet waits in `pending` and is applied
//! as history when the daily run opens the case (`open` then `apply_pending`), so no case acts
//! before the facts that arrived with it are in. Facts of one day are taken in the canonical
//! order of `relance_core::fact_order` (`StoredEvent::order_key`), which the `pending` keys
//! encode. The next tick is never earlier than tomorrow. It must not flush, lock, or perform effects: the engine commits, the dispatcher
//! delivers.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use relance_dsl::ir::{Action, GroupKey};

use super::aggregates::Olds;
use super::catalog::{Catalog, Deployment};
use super::error::DaemonError;
use super::keys;
use super::messages;
use super::model::{
    CaseRecord, EventSource, HistoryEntry, Item, MessageHeader, MessageStatus, StoredEvent, decode,
    encode,
};
use super::outbox;
use super::store::{Op, Store, Tree};
use relance_core::domain::{Customer, Event, EventKind, Invoice};
use relance_core::fact_order::FactKey;
use relance_core::interest::RateTable;
use relance_core::runtime::behaviour::{KnownBehaviour, days_late};
use relance_core::runtime::{
    CloseReason, CustomerTotals, Facts, Input, Instance, PaymentLog, Planned, Record, Shared,
    Status, choose_scenario, next_wakeup, open_case, transition,
};

#[derive(Clone)]
struct Slot {
    case: Option<Instance>,
    /// The deployment the case is pinned to (see `CaseRecord::deployment`).
    deployment: Option<u64>,
    wake: Option<NaiveDate>,
    stored_wake: Option<NaiveDate>,
    dirty: bool,
}

/// A customer's sums over a set of its invoices (see [`CustomerTotals::over`]), and what the
/// customer's view counts ([`CustomerSums`]).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Bucket {
    issued_sum: Decimal,
    issued: i64,
    /// Open cases' outstanding amounts, and the opening ones of invoices without a case.
    outstanding: Decimal,
    /// Open cases, and invoices without a case.
    open: i64,
    /// Invoices without a case yet (counted in `open`), and their part of `outstanding`.
    unopened: i64,
    unopened_sum: Decimal,
    /// Open cases with a dispute, with a pending promise.
    disputed: i64,
    promised: i64,
}

/// What one invoice adds to its customer's figures, as the customer's ledger counts them: its
/// outstanding (an open case's, or the opening amount while no case is open yet) and, of that,
/// what an opened case owes (the overdue figures count only that, on the invoice's due date).
pub(crate) fn owed_by(inv: &Invoice, case: Option<&Instance>) -> (Decimal, Decimal) {
    let b = Bucket::of(inv, case);
    (b.outstanding, b.outstanding.saturating_sub(b.unopened_sum))
}

impl Bucket {
    /// What one invoice adds, given its case (none yet: open with its opening outstanding).
    fn of(inv: &Invoice, case: Option<&Instance>) -> Bucket {
        let (open, outstanding) = case.map_or((true, inv.opening_outstanding()), |c| {
            (c.is_open(), c.outstanding)
        });
        let outstanding = if open { outstanding } else { Decimal::ZERO };
        let live = case.filter(|c| c.is_open());
        Bucket {
            issued_sum: inv.amount,
            issued: 1,
            outstanding,
            open: i64::from(open),
            unopened: i64::from(case.is_none()),
            unopened_sum: if case.is_none() {
                outstanding
            } else {
                Decimal::ZERO
            },
            disputed: i64::from(live.is_some_and(|c| c.dispute.is_some())),
            promised: i64::from(live.is_some_and(|c| c.promise.is_some())),
        }
    }

    // Saturating: amounts are bounded on input (`portfolio::MAX_AMOUNT`, and a customer's
    // total by `input::MAX_CUSTOMER_TOTAL`), so only a store written before the bounds can
    // reach a decimal's limit; it must not panic the daily run.
    fn add(&mut self, o: &Bucket) {
        self.issued_sum = self.issued_sum.saturating_add(o.issued_sum);
        self.issued = self.issued.saturating_add(o.issued);
        self.outstanding = self.outstanding.saturating_add(o.outstanding);
        self.open = self.open.saturating_add(o.open);
        self.unopened = self.unopened.saturating_add(o.unopened);
        self.unopened_sum = self.unopened_sum.saturating_add(o.unopened_sum);
        self.disputed = self.disputed.saturating_add(o.disputed);
        self.promised = self.promised.saturating_add(o.promised);
    }

    /// What the customer's view counts, from sums over its invoices.
    fn sums(&self) -> CustomerSums {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        CustomerSums {
            invoices: count(self.issued),
            open: count(self.open.saturating_sub(self.unopened)),
            unopened: count(self.unopened),
            disputes: count(self.disputed),
            promises: count(self.promised),
            outstanding: self.outstanding.saturating_sub(self.unopened_sum),
        }
    }

    fn sub(&mut self, o: &Bucket) {
        self.issued_sum = self.issued_sum.saturating_sub(o.issued_sum);
        self.issued = self.issued.saturating_sub(o.issued);
        self.outstanding = self.outstanding.saturating_sub(o.outstanding);
        self.open = self.open.saturating_sub(o.open);
        self.unopened = self.unopened.saturating_sub(o.unopened);
        self.unopened_sum = self.unopened_sum.saturating_sub(o.unopened_sum);
        self.disputed = self.disputed.saturating_sub(o.disputed);
        self.promised = self.promised.saturating_sub(o.promised);
    }
}

/// A customer's totals kept up to date instead of recomputed from every invoice on every
/// transition: the sums over all its invoices (with what its view counts: cases not opened
/// yet, disputes, promises), and per issue date (a day's totals leave out the invoices issued
/// after it), overall and per currency (the totals a case sees count its invoice's currency
/// only); and its payment behaviour (settlements and disputes by date, promises broken).
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    whole: Sums,
    currencies: BTreeMap<String, Sums>,
    /// Per currency, per due date: what the opened cases still owe (for overdue amounts and
    /// the oldest overdue invoice without a pass over the invoices; entries at zero dropped).
    owed_by_due: BTreeMap<String, BTreeMap<NaiveDate, Decimal>>,
    log: PaymentLog,
    promises_broken: i64,
}

/// A customer's sums in one currency, read from its [`Ledger`] (amounts of different
/// currencies are never added).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencySums {
    pub currency: String,
    pub sums: CustomerSums,
    /// What the opened cases owe on invoices due before the day asked about.
    pub overdue: Decimal,
    /// The earliest due date among those overdue invoices.
    pub oldest_due: Option<NaiveDate>,
}

/// Sums over a set of a customer's invoices: all of them, and per issue date.
#[derive(Debug, Default, Clone)]
struct Sums {
    all: Bucket,
    by_issue: BTreeMap<NaiveDate, Bucket>,
}

impl Sums {
    fn add(&mut self, issued: NaiveDate, b: &Bucket) {
        self.all.add(b);
        self.by_issue.entry(issued).or_default().add(b);
    }

    fn sub(&mut self, issued: NaiveDate, b: &Bucket) {
        self.all.sub(b);
        self.by_issue.entry(issued).or_default().sub(b);
    }

    /// The sums over the invoices issued on or before `day`.
    fn on(&self, day: NaiveDate) -> Bucket {
        let mut t = self.all;
        if let Some(next) = day.succ_opt() {
            for b in self.by_issue.range(next..).map(|(_, b)| b) {
                t.sub(b);
            }
        }
        t
    }
}

/// What a stored case tells of its customer's behaviour: settled on its closing day when
/// closed with nothing left to pay (not written off); its disputes (the open one on its
/// opening day, earlier ones dated when the case started: only their number is kept); its
/// broken promises.
fn stored_behaviour(l: &mut Ledger, inv: &Invoice, case: &Instance) {
    if let Status::Closed { on, reason } = case.status
        && reason != CloseReason::WrittenOff
        && case.outstanding <= Decimal::ZERO
        && inv.opening_outstanding() > Decimal::ZERO
    {
        l.log.settle(on, days_late(inv.due, on));
    }
    let open = case.dispute.as_ref().map(|d| d.opened);
    let earlier = case
        .counters
        .disputes
        .saturating_sub(u32::from(open.is_some()));
    for _ in 0..earlier {
        l.log.dispute(case.started);
    }
    if let Some(on) = open {
        l.log.dispute(on);
    }
    l.promises_broken += i64::from(case.counters.promises_broken);
}

/// What a case's change adds to its customer's payment behaviour: a settlement when a payment
/// or credit note brings the open amount to zero (a write-off is not one), a dispute when one
/// opens, the promises newly judged broken.
fn behaviour_change(
    inv: &Invoice,
    before: Option<&Instance>,
    after: &Instance,
    day: NaiveDate,
) -> BehaviourChange {
    let owed_before = before.map_or(inv.opening_outstanding(), |c| c.outstanding);
    let written_off = after.status.is_written_off();
    let counters = before.map(|c| &c.counters);
    BehaviourChange {
        settled: (owed_before > Decimal::ZERO
            && after.outstanding <= Decimal::ZERO
            && !written_off)
            .then(|| (day, days_late(inv.due, day))),
        dispute: (after.counters.disputes > counters.map_or(0, |c| c.disputes))
            .then(|| after.dispute.as_ref().map_or(day, |d| d.opened)),
        broken: i64::from(after.counters.promises_broken)
            - i64::from(counters.map_or(0, |c| c.promises_broken)),
    }
}

/// See [`behaviour_change`].
#[derive(Debug, Default, PartialEq)]
struct BehaviourChange {
    settled: Option<(NaiveDate, i64)>,
    dispute: Option<NaiveDate>,
    broken: i64,
}

impl BehaviourChange {
    fn apply(self, l: &mut Ledger) {
        if let Some((on, late)) = self.settled {
            l.log.settle(on, late);
        }
        if let Some(on) = self.dispute {
            l.log.dispute(on);
        }
        l.promises_broken += self.broken;
    }
}

/// What a customer's view counts over all its invoices, read from its [`Ledger`] rather than
/// from every invoice.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CustomerSums {
    /// Every invoice of the customer.
    pub invoices: u64,
    /// Invoices whose case is open.
    pub open: u64,
    /// Invoices whose case has not opened yet.
    pub unopened: u64,
    /// Open cases with a dispute.
    pub disputes: u64,
    /// Open cases with a pending promise.
    pub promises: u64,
    /// The sum of the open cases' outstanding amounts.
    pub outstanding: Decimal,
}

impl Ledger {
    /// The sums over all the customer's invoices.
    pub fn sums(&self) -> CustomerSums {
        self.whole.all.sums()
    }

    /// The sums per currency (currency order), with what is overdue on `day`.
    pub fn by_currency(&self, day: NaiveDate) -> Vec<CurrencySums> {
        self.currencies
            .iter()
            .map(|(currency, s)| {
                let due = self.owed_by_due.get(currency);
                let late = || due.into_iter().flat_map(|m| m.range(..day));
                CurrencySums {
                    currency: currency.clone(),
                    sums: s.all.sums(),
                    overdue: late().fold(Decimal::ZERO, |t, (_, a)| t.saturating_add(*a)),
                    oldest_due: late().find(|(_, a)| **a > Decimal::ZERO).map(|(d, _)| *d),
                }
            })
            .collect()
    }

    /// Adds what an invoice in `currency`, issued on `issued`, due on `due`, counts.
    fn add(&mut self, issued: NaiveDate, due: NaiveDate, currency: &str, b: &Bucket) {
        self.whole.add(issued, b);
        self.currency(currency).add(issued, b);
        self.owe(currency, due, b.outstanding.saturating_sub(b.unopened_sum));
    }

    fn sub(&mut self, issued: NaiveDate, due: NaiveDate, currency: &str, b: &Bucket) {
        self.whole.sub(issued, b);
        self.currency(currency).sub(issued, b);
        self.owe(currency, due, -b.outstanding.saturating_sub(b.unopened_sum));
    }

    fn owe(&mut self, currency: &str, due: NaiveDate, amount: Decimal) {
        if amount.is_zero() {
            return;
        }
        let m = self.owed_by_due.entry(currency.to_string()).or_default();
        let owed = m.entry(due).or_default();
        *owed = owed.saturating_add(amount);
        if owed.is_zero() {
            m.remove(&due);
        }
    }

    fn currency(&mut self, currency: &str) -> &mut Sums {
        self.currencies.entry(currency.to_string()).or_default()
    }

    pub fn merge(&mut self, other: &Ledger) {
        for (currency, sums) in &other.currencies {
            for (d, b) in &sums.by_issue {
                self.whole.add(*d, b);
                self.currency(currency).add(*d, b);
            }
        }
        for (currency, owed) in &other.owed_by_due {
            for (due, amount) in owed {
                self.owe(currency, *due, *amount);
            }
        }
        self.log.merge(&other.log);
        self.promises_broken += other.promises_broken;
    }

    /// The sums over the invoices issued on or before `day`, in `currency` only when given.
    fn on(&self, day: NaiveDate, currency: Option<&str>) -> Bucket {
        match currency {
            None => self.whole.on(day),
            Some(c) => self
                .currencies
                .get(c)
                .map_or_else(Bucket::default, |s| s.on(day)),
        }
    }
}

/// The ledgers of the customers met so far, as committed (the engine keeps them across units
/// of work and folds each unit's changes in after its commit; a ledger is added or changed
/// only under the writer lock, and read without it by the customer view).
pub type Ledgers = std::sync::Mutex<HashMap<String, Ledger>>;

/// What a unit of work did (for reports and metrics).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct WorkStats {
    pub transitions: u64,
    pub opened: u64,
    pub actions: u64,
}

/// One atomic unit of work over the store.
pub struct Work<'a> {
    store: &'a dyn Store,
    catalog: &'a Catalog,
    rates: &'static RateTable,
    /// The insurers' policies the cases run with (`insurers.rs`).
    insurers: crate::insurers::Insurers,
    customers: BTreeMap<String, Option<Customer>>,
    dirty_customers: BTreeSet<String>,
    invoices: BTreeMap<String, Option<Invoice>>,
    new_invoices: Vec<String>,
    slots: BTreeMap<String, Slot>,
    members: BTreeMap<String, Vec<String>>,
    planned: Vec<(Planned, Item)>,
    history: Vec<(String, HistoryEntry)>,
    extra: Vec<Op>,
    /// Facts appended to the event log by this unit.
    logged: Vec<StoredEvent>,
    /// Facts waiting for the daily run of their day: their keys in the order of a day.
    to_pend: Vec<FactKey>,
    ledgers: &'a Ledgers,
    /// This unit's changes to customers' ledgers (new invoices, cases opened or moved).
    deltas: HashMap<String, Ledger>,
    /// The daily run's units hold the messages subject to the contact cadence for the day's
    /// last pass (`cadence.rs`); other units put them through it at once.
    hold: bool,
    /// Messages that went through the cadence: grouped per customer, day and action.
    merged: Vec<(Planned, Item)>,
    /// The daily run's openings: what the day's pending facts will add to each customer's
    /// behaviour (`foresight.rs`), counted by the policy before they are applied.
    foreseen: crate::foresight::Foreseen,
    /// The cases (and absent invoices) as read from the store, for the commit's counters
    /// (`aggregates::Olds`; the invoices read are added when the unit ends).
    olds: Olds,
    /// Stored events read ahead by [`Work::prefetch_events`], by id, taken by their reader.
    events_read: HashMap<u64, StoredEvent>,
    /// Customers, invoices and cases read ahead by [`Work::prefetch`], as stored (`None`:
    /// absent), decoded only when the unit reads them, as a lazy read would be.
    read_ahead: HashMap<(Tree, String), Option<Vec<u8>>>,
    pub stats: WorkStats,
}

impl<'a> Work<'a> {
    pub fn new(
        store: &'a dyn Store,
        catalog: &'a Catalog,
        rates: &'static RateTable,
        ledgers: &'a Ledgers,
    ) -> Work<'a> {
        Work {
            store,
            catalog,
            rates,
            insurers: Default::default(),
            customers: BTreeMap::new(),
            dirty_customers: BTreeSet::new(),
            invoices: BTreeMap::new(),
            new_invoices: Vec::new(),
            slots: BTreeMap::new(),
            members: BTreeMap::new(),
            planned: Vec::new(),
            history: Vec::new(),
            extra: Vec::new(),
            logged: Vec::new(),
            to_pend: Vec::new(),
            ledgers,
            deltas: HashMap::new(),
            hold: false,
            merged: Vec::new(),
            foreseen: Default::default(),
            olds: Olds::new(store.generation()),
            events_read: HashMap::new(),
            read_ahead: HashMap::new(),
            stats: WorkStats::default(),
        }
    }

    /// This unit belongs to the daily run: messages subject to the cadence wait for the day's
    /// cadence pass ([`Work::cadence_pass`]).
    pub fn hold_for_cadence(&mut self) {
        self.hold = true;
    }

    /// The settlements and disputes the day's pending facts will add (see `foresight.rs`):
    /// the cases this unit opens see them in their customer's behaviour.
    pub(crate) fn foresee(&mut self, foreseen: &crate::foresight::Foreseen) {
        self.foreseen = foreseen.clone();
    }

    pub(crate) fn holds_for_cadence(&self) -> bool {
        self.hold
    }

    /// Messages the cadence let out: they go to the outbox grouped per customer, day and
    /// action (one message per customer and channel, each invoice its own item).
    pub(crate) fn merged_through_cadence(&mut self, sent: Vec<(Planned, Item)>) {
        self.merged.extend(sent);
    }

    pub(crate) fn store(&self) -> &'a dyn Store {
        self.store
    }

    pub(crate) fn catalog(&self) -> &'a Catalog {
        self.catalog
    }

    pub(crate) fn rates(&self) -> &'static RateTable {
        self.rates
    }

    /// A record of a decision, kept in its invoice's history.
    pub(crate) fn record(&mut self, r: Record) {
        self.history.push((r.invoice.clone(), history_entry(r)));
    }

    /// An action decided outside `transition` (an account's), with its outbox item.
    pub(crate) fn plan(&mut self, p: Planned, item: Item) {
        self.stats.actions += 1;
        self.planned.push((p, item));
    }

    /// Runs the cases with the insurers' policies `insurers` (the engine's, in force when the
    /// unit starts).
    pub fn with_insurers(mut self, insurers: crate::insurers::Insurers) -> Work<'a> {
        self.insurers = insurers;
        self
    }

    /// The customer as the transition sees it: its cover with the insurers' deadlines in force
    /// (`insurers.rs`); the stored record is not changed.
    fn insured(&self, mut customer: Customer) -> Customer {
        self.insurers.apply(&mut customer);
        customer
    }

    // ----- reads ------------------------------------------------------------------------------

    pub fn customer(&mut self, id: &str) -> Result<Option<&Customer>, DaemonError> {
        if !self.customers.contains_key(id) {
            let c = match self.stored(Tree::Customers, id)? {
                Some(b) => Some(decode::<Customer>("customer", &b)?),
                None => None,
            };
            self.customers.insert(id.to_string(), c);
        }
        Ok(self.customers.get(id).and_then(Option::as_ref))
    }

    pub fn invoice(&mut self, id: &str) -> Result<Option<&Invoice>, DaemonError> {
        if !self.invoices.contains_key(id) {
            let i = match self.stored(Tree::Invoices, id)? {
                Some(b) => Some(decode::<Invoice>("invoice", &b)?),
                None => None,
            };
            self.invoices.insert(id.to_string(), i);
        }
        Ok(self.invoices.get(id).and_then(Option::as_ref))
    }

    /// Reads at once what the unit will read of these invoices (the invoices, their cases,
    /// their customers) and is not holding yet: one `get_many` per tree instead of a read
    /// each (a round trip each on PostgreSQL). The values are kept as stored and decoded only
    /// when the unit reads them ([`Work::stored`]), so what the unit decodes, decides and
    /// notes for its counters is what the lazy reads would give; it decides nothing.
    pub fn prefetch(&mut self, ids: &[String]) -> Result<(), DaemonError> {
        let mut ids: Vec<&String> = ids.iter().collect();
        ids.sort();
        ids.dedup();
        let invoices = self.read_ahead_of(Tree::Invoices, ids.iter().map(|id| id.as_str()))?;
        self.read_ahead_of(Tree::Instances, ids.iter().map(|id| id.as_str()))?;
        // The customers of the invoices read ahead (an invoice that does not decode names
        // none here: its own read reports it).
        let mut customers: Vec<String> = invoices
            .iter()
            .filter_map(|b| decode::<Invoice>("invoice", b).ok())
            .map(|i| i.customer)
            .collect();
        customers.sort();
        customers.dedup();
        self.read_ahead_of(Tree::Customers, customers.iter().map(String::as_str))?;
        Ok(())
    }

    /// Reads ahead the keys `ids` of `tree` the unit neither holds nor read ahead yet, in one
    /// `get_many`; the values found.
    fn read_ahead_of<'k>(
        &mut self,
        tree: Tree,
        ids: impl Iterator<Item = &'k str>,
    ) -> Result<Vec<Vec<u8>>, DaemonError> {
        let wanted: Vec<String> = ids
            .filter(|id| {
                let held = match tree {
                    Tree::Invoices => self.invoices.contains_key(*id),
                    Tree::Instances => self.slots.contains_key(*id),
                    Tree::Customers => self.customers.contains_key(*id),
                    _ => false,
                };
                !held && !self.read_ahead.contains_key(&(tree, id.to_string()))
            })
            .map(str::to_string)
            .collect();
        let keys: Vec<Vec<u8>> = wanted.iter().map(|id| id.as_bytes().to_vec()).collect();
        let mut found = Vec::new();
        for (id, value) in wanted.into_iter().zip(self.store.get_many(tree, &keys)?) {
            if let Some(v) = &value {
                found.push(v.clone());
            }
            self.read_ahead.insert((tree, id), value);
        }
        Ok(found)
    }

    /// The stored value of `id` in `tree`: read ahead by [`Work::prefetch`], else from the
    /// store.
    fn stored(&mut self, tree: Tree, id: &str) -> Result<Option<Vec<u8>>, DaemonError> {
        match self.read_ahead.remove(&(tree, id.to_string())) {
            Some(value) => Ok(value),
            None => Ok(self.store.get(tree, id.as_bytes())?),
        }
    }

    /// Reads the stored events `ids` at once (one `get_many`), then what the unit will read
    /// of their invoices ([`Work::prefetch`]); [`Work::stored_event`] takes them from there.
    pub fn prefetch_events(&mut self, ids: &[u64]) -> Result<(), DaemonError> {
        let keys: Vec<Vec<u8>> = ids.iter().map(|id| keys::id(*id).to_vec()).collect();
        let mut invoices = Vec::new();
        for (id, value) in ids.iter().zip(self.store.get_many(Tree::Events, &keys)?) {
            if let Some(bytes) = value {
                let stored: StoredEvent = decode("event", &bytes)?;
                invoices.extend(stored.event.kind.invoice().map(str::to_string));
                self.events_read.insert(*id, stored);
            }
        }
        self.prefetch(&invoices)
    }

    /// The stored event `id`: read ahead by [`Work::prefetch_events`], else from the store.
    pub fn stored_event(&mut self, id: u64) -> Result<Option<StoredEvent>, DaemonError> {
        if let Some(stored) = self.events_read.remove(&id) {
            return Ok(Some(stored));
        }
        self.store
            .get(Tree::Events, &keys::id(id))?
            .map(|b| decode("event", &b))
            .transpose()
    }

    fn slot(&mut self, id: &str) -> Result<&mut Slot, DaemonError> {
        if !self.slots.contains_key(id) {
            let stored = self.stored(Tree::Instances, id)?;
            let slot = self.slot_from(id, stored)?;
            self.slots.insert(id.to_string(), slot);
        }
        self.slots
            .get_mut(id)
            .ok_or_else(|| DaemonError::Corrupt(format!("case {id}")))
    }

    /// The slot of invoice `id` from its stored case record (`None`: not opened yet), noted in
    /// the unit's `olds`.
    fn slot_from(&mut self, id: &str, stored: Option<Vec<u8>>) -> Result<Slot, DaemonError> {
        Ok(match stored {
            Some(b) => {
                let rec: CaseRecord = decode("case", &b)?;
                self.olds.case(id, Some(rec.clone()));
                Slot {
                    case: Some(rec.case),
                    deployment: rec.deployment,
                    wake: rec.wake,
                    stored_wake: rec.wake,
                    dirty: false,
                }
            }
            None => {
                self.olds.case(id, None);
                // An invoice without a case waits for its issue date on a timer.
                let issued = self.invoice(id)?.map(|i| i.issued);
                Slot {
                    case: None,
                    deployment: None,
                    wake: issued,
                    stored_wake: issued,
                    dirty: false,
                }
            }
        })
    }

    /// The case of an invoice, if opened.
    pub fn case(&mut self, id: &str) -> Result<Option<&Instance>, DaemonError> {
        Ok(self.slot(id)?.case.as_ref())
    }

    /// The day of the invoice's next tick (or, unopened, of its opening).
    pub fn wake(&mut self, id: &str) -> Result<Option<NaiveDate>, DaemonError> {
        Ok(self.slot(id)?.wake)
    }

    /// The invoices of a customer, in id order (stored ones and this unit's new ones).
    pub fn members(&mut self, customer: &str) -> Result<Vec<String>, DaemonError> {
        if !self.members.contains_key(customer) {
            let prefix = keys::owner_prefix(customer);
            let mut list: Vec<String> = self
                .store
                .prefix(Tree::ByCustomer, &prefix, usize::MAX)?
                .into_iter()
                .filter_map(|(k, _)| {
                    std::str::from_utf8(&k[prefix.len()..])
                        .ok()
                        .map(String::from)
                })
                .collect();
            for id in &self.new_invoices {
                if let Some(Some(inv)) = self.invoices.get(id)
                    && inv.customer == customer
                {
                    list.push(id.clone());
                }
            }
            list.sort();
            list.dedup();
            self.members.insert(customer.to_string(), list);
        }
        Ok(self.members.get(customer).cloned().unwrap_or_default())
    }

    /// The customer's totals on `day` for an invoice in `currency`, over its issued, open
    /// invoices in that currency (as the simulator computes them, `CustomerTotals::over`);
    /// `skip` counts in the average but not in the open totals (the caller adds its live
    /// state). Cheap: the committed ledger plus this unit's changes, not a pass over every
    /// invoice of the customer.
    pub(crate) fn totals(
        &mut self,
        customer: &str,
        currency: &str,
        day: NaiveDate,
        skip: Option<&str>,
    ) -> Result<CustomerTotals, DaemonError> {
        let mut t = self.ledger_on(customer, day, Some(currency))?;
        if let Some(s) = skip
            && let Some(inv) = self.invoice(s)?.cloned()
            && inv.issued <= day
        {
            let live = Bucket::of(&inv, self.slot(s)?.case.as_ref());
            t.outstanding -= live.outstanding;
            t.open -= live.open;
        }
        let totals = CustomerTotals {
            outstanding: t.outstanding,
            open_invoices: t.open,
            average_invoice: if t.issued > 0 {
                (t.issued_sum / Decimal::from(t.issued)).round_dp(2)
            } else {
                Decimal::ZERO
            },
            behaviour: self.behaviour_on(customer, day),
            // The overdue figures are added below when the set reads them.
            ..CustomerTotals::default()
        };
        #[cfg(debug_assertions)]
        self.check_totals(customer, currency, day, skip, &totals)?;
        // The overdue figures, when the set reads them (`account.rs`).
        self.with_overdue(customer, currency, day, totals)
    }

    /// A customer's ledger, committed and added by this unit: summed from the store the first
    /// time and kept in the unit's [`Ledgers`].
    pub fn customer_ledger(&mut self, customer: &str) -> Result<Ledger, DaemonError> {
        self.ledger_on(customer, NaiveDate::MAX, None)?;
        let mut l = self
            .ledgers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(customer)
            .cloned()
            .unwrap_or_default();
        if let Some(d) = self.deltas.get(customer) {
            l.merge(d);
        }
        Ok(l)
    }

    /// The sum of the amounts of a customer's invoices, stored and added by this unit
    /// (saturating at a decimal's limit).
    pub fn issued_total(&mut self, customer: &str) -> Result<Decimal, DaemonError> {
        Ok(self.ledger_on(customer, NaiveDate::MAX, None)?.issued_sum)
    }

    /// The committed ledger plus this unit's changes, on `day` (in `currency` only when given).
    fn ledger_on(
        &mut self,
        customer: &str,
        day: NaiveDate,
        currency: Option<&str>,
    ) -> Result<Bucket, DaemonError> {
        let cached = {
            let ledgers = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
            ledgers.get(customer).map(|l| l.on(day, currency))
        };
        let mut t = match cached {
            Some(t) => t,
            None => {
                let l = self.load_ledger(customer)?;
                let t = l.on(day, currency);
                self.ledgers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(customer.to_string(), l);
                t
            }
        };
        if let Some(d) = self.deltas.get(customer) {
            t.add(&d.on(day, currency));
        }
        Ok(t)
    }

    /// The customer's payment behaviour on `day`: the committed log plus this unit's changes
    /// (`ledger_on` loaded the committed ledger), plus what the day's pending facts will add
    /// when this unit opens the day's cases (`foresight.rs`).
    fn behaviour_on(&self, customer: &str, day: NaiveDate) -> KnownBehaviour {
        let (mut window, mut broken) = {
            let ledgers = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
            ledgers.get(customer).map_or((Default::default(), 0), |l| {
                (l.log.window(day), l.promises_broken)
            })
        };
        if let Some(d) = self.deltas.get(customer) {
            window = window + d.log.window(day);
            broken += d.promises_broken;
        }
        if let Some(f) = self.foreseen.get(customer) {
            window = window + f.window(day);
        }
        KnownBehaviour {
            window,
            promises_broken: broken,
        }
    }

    /// A customer's ledger summed from the store (committed invoices and cases only).
    fn load_ledger(&mut self, customer: &str) -> Result<Ledger, DaemonError> {
        let prefix = keys::owner_prefix(customer);
        let mut l = Ledger::default();
        let ids: Vec<String> = self
            .store
            .prefix(Tree::ByCustomer, &prefix, usize::MAX)?
            .iter()
            .filter_map(|(k, _)| std::str::from_utf8(&k[prefix.len()..]).ok())
            .map(str::to_string)
            .collect();
        // The invoices the unit does not hold yet (read ahead, each decoded by its read
        // below), and every stored case, read at once.
        self.read_ahead_of(Tree::Invoices, ids.iter().map(String::as_str))?;
        let keys: Vec<Vec<u8>> = ids.iter().map(|id| id.as_bytes().to_vec()).collect();
        let cases = self.store.get_many(Tree::Instances, &keys)?;
        for (id, stored) in ids.iter().zip(cases) {
            let Some(inv) = self.invoice(id)?.cloned() else {
                continue;
            };
            let case = match stored {
                Some(b) => Some(decode::<CaseRecord>("case", &b)?.case),
                None => None,
            };
            l.add(
                inv.issued,
                inv.due,
                &inv.currency,
                &Bucket::of(&inv, case.as_ref()),
            );
            if let Some(case) = &case {
                stored_behaviour(&mut l, &inv, case);
            }
        }
        Ok(l)
    }

    /// Debug builds: the kept totals equal a pass over every invoice (the definition).
    #[cfg(debug_assertions)]
    fn check_totals(
        &mut self,
        customer: &str,
        currency: &str,
        day: NaiveDate,
        skip: Option<&str>,
        kept: &CustomerTotals,
    ) -> Result<(), DaemonError> {
        let mut rows = Vec::new();
        for j in self.members(customer)? {
            let Some(inv) = self.invoice(&j)?.cloned() else {
                continue;
            };
            let state = if Some(j.as_str()) == skip {
                Some((false, Decimal::ZERO))
            } else {
                self.slot(&j)?
                    .case
                    .as_ref()
                    .map(|c| (c.is_open(), c.outstanding))
            };
            rows.push((inv, state));
        }
        let full =
            CustomerTotals::over(rows.iter().map(|(inv, state)| (inv, *state)), day, currency);
        debug_assert!(
            full.outstanding == kept.outstanding
                && full.open_invoices == kept.open_invoices
                && full.average_invoice == kept.average_invoice,
            "customer {customer} on {day}: kept totals {kept:?} differ from {full:?}"
        );
        Ok(())
    }

    /// Sets the case of an invoice, keeping its customer's ledger in step.
    fn set_case(&mut self, id: &str, case: Instance, day: NaiveDate) -> Result<(), DaemonError> {
        let inv = self
            .invoice(id)?
            .cloned()
            .ok_or_else(|| DaemonError::Corrupt(format!("invoice {id} missing")))?;
        let previous = self.slot(id)?.case.take();
        let before = Bucket::of(&inv, previous.as_ref());
        let after = Bucket::of(&inv, Some(&case));
        let change = behaviour_change(&inv, previous.as_ref(), &case, day);
        if before != after || change != BehaviourChange::default() {
            let d = self.deltas.entry(inv.customer.clone()).or_default();
            d.sub(inv.issued, inv.due, &inv.currency, &before);
            d.add(inv.issued, inv.due, &inv.currency, &after);
            change.apply(d);
        }
        let slot = self.slot(id)?;
        slot.case = Some(case);
        slot.dirty = true;
        Ok(())
    }

    /// This unit's ledger changes, to fold into the engine's ledgers once committed.
    pub fn take_deltas(&mut self) -> HashMap<String, Ledger> {
        std::mem::take(&mut self.deltas)
    }

    // ----- writes -----------------------------------------------------------------------------

    /// Adds or replaces a customer.
    pub fn put_customer(&mut self, c: Customer) {
        self.dirty_customers.insert(c.id.clone());
        self.customers.insert(c.id.clone(), Some(c));
    }

    /// Adds a new invoice (the caller checked it does not exist), waiting on a timer for its
    /// issue date. The caller opens the cases of invoices already issued once every invoice
    /// of the write is added (customer totals count them all, as the simulator does).
    pub fn add_invoice(&mut self, inv: Invoice) -> Result<(), DaemonError> {
        let id = inv.id.clone();
        let customer = inv.customer.clone();
        if let Some(list) = self.members.get_mut(&customer)
            && let Err(at) = list.binary_search(&id)
        {
            list.insert(at, id.clone());
        }
        let issued = inv.issued;
        self.deltas.entry(customer).or_default().add(
            issued,
            inv.due,
            &inv.currency,
            &Bucket::of(&inv, None),
        );
        if let Some(None) = self.invoices.get(&id) {
            // Read as absent: the counters need not read it again.
            self.olds.invoice(&id, None);
        }
        self.invoices.insert(id.clone(), Some(inv));
        self.new_invoices.push(id.clone());
        self.slots.insert(
            id,
            Slot {
                case: None,
                deployment: None,
                wake: Some(issued),
                stored_wake: None,
                dirty: true,
            },
        );
        Ok(())
    }

    /// Opens the invoice's case on `day` (policy assignment), without ticking it.
    pub fn open(&mut self, id: &str, day: NaiveDate) -> Result<(), DaemonError> {
        let catalog = self.catalog;
        let current = catalog.current().ok_or(DaemonError::NoScenarios)?;
        let inv = self
            .invoice(id)?
            .cloned()
            .ok_or_else(|| DaemonError::NotFound {
                what: "invoice",
                id: id.into(),
            })?;
        let cust = self
            .customer(&inv.customer)?
            .cloned()
            .ok_or_else(|| DaemonError::NotFound {
                what: "customer",
                id: inv.customer.clone(),
            })?;
        let totals = self.totals(&cust.id, &inv.currency, day, None)?;
        let shared = Shared {
            set: &current.set,
            rules: &current.rules,
            rates: self.rates,
        };
        let case = open_case(shared, &inv, &cust, totals, day);
        let cause = match &case.status {
            Status::Unassigned { .. } => "no scenario applies".to_string(),
            Status::Error { message, .. } => message.clone(),
            _ => format!("opened with scenario {} ({})", case.scenario, case.version),
        };
        self.history.push((
            id.to_string(),
            HistoryEntry {
                date: day,
                step: None,
                from: "new".into(),
                to: case.status.name().into(),
                cause,
            },
        ));
        self.stats.opened += 1;
        let assigned = !case.scenario.is_empty();
        self.set_case(id, case, day)?;
        // Its timer stays on `day`: the daily run ticks it once every case due is open.
        let slot = self.slot(id)?;
        slot.deployment = assigned.then_some(current.number);
        slot.wake = Some(day);
        slot.dirty = true;
        Ok(())
    }

    /// What the policy of `d` would choose for the invoice on `day` (its customer's totals as
    /// a case opening then would see them): a scenario name, `None` when no scenario applies,
    /// or the policy's error.
    pub fn choice(
        &mut self,
        d: &Deployment,
        id: &str,
        day: NaiveDate,
    ) -> Result<Result<Option<String>, String>, DaemonError> {
        let Some(inv) = self.invoice(id)?.cloned() else {
            return Ok(Ok(None));
        };
        let Some(cust) = self.customer(&inv.customer)?.cloned() else {
            return Ok(Ok(None));
        };
        let totals = self.totals(&cust.id, &inv.currency, day, None)?;
        let shared = Shared {
            set: &d.set,
            rules: &d.rules,
            rates: self.rates,
        };
        Ok(
            match choose_scenario(shared, &inv, &cust, totals, day.max(inv.issued)) {
                Ok(s) => Ok(s.map(|s| s.name.clone())),
                Err(e) => Err(e.0),
            },
        )
    }

    /// Opens again, with the current deployment, a case that got no scenario when it opened,
    /// then applies every fact logged for its invoice since (as history when dated before
    /// `day`). After the day's run (`run_done`) the case is ticked at once; before it, its
    /// timer waits on `day`. False when it still gets no scenario.
    pub fn reassign(
        &mut self,
        id: &str,
        day: NaiveDate,
        run_done: bool,
    ) -> Result<bool, DaemonError> {
        self.open(id, day)?;
        if self.case(id)?.is_none_or(|c| c.scenario.is_empty()) {
            return Ok(false);
        }
        let prefix = keys::event_owner_prefix(keys::EventOwner::Invoice(id));
        let mut facts = Vec::new();
        for (k, _) in self.store.prefix(Tree::EventIndex, &prefix, usize::MAX)? {
            let Some(tail) = k
                .get(prefix.len()..)
                .and_then(|t| <[u8; 8]>::try_from(t).ok())
            else {
                continue;
            };
            let event_id = u64::from_be_bytes(tail);
            if let Some(b) = self.store.get(Tree::Events, &keys::id(event_id))? {
                let stored: StoredEvent = decode("event", &b)?;
                facts.push(stored);
            }
        }
        facts.sort_by_key(StoredEvent::order_key);
        for f in &facts {
            self.apply_fact(&f.event, day)?;
            // Applied now: a fact still waiting for today's run must not be applied twice.
            self.extra
                .push(Op::Delete(Tree::Pending, keys::pending(&f.order_key())));
        }
        if run_done {
            self.tick(id, day)?;
        }
        Ok(true)
    }

    /// Moves a running case to deployment `to` (its scenario of the same name: rules,
    /// templates and steps of that deployment). The progress is kept by step name: a step done
    /// in the old version is done in the new one, and the next step is the old next step if the
    /// new version has it, else the one after the last done. The next tick is recomputed, no
    /// earlier than `from`. False when the case is not running or `to` has no scenario of its
    /// name.
    pub fn migrate(
        &mut self,
        id: &str,
        to: &Deployment,
        day: NaiveDate,
        from: NaiveDate,
    ) -> Result<bool, DaemonError> {
        let slot = self.slot(id)?;
        let pinned = slot.deployment;
        let Some(mut case) = slot
            .case
            .clone()
            .filter(|c| c.is_open() && !c.scenario.is_empty())
        else {
            return Ok(false);
        };
        let Some(new) = to.set.scenarios.get(&case.scenario) else {
            return Ok(false);
        };
        if pinned == Some(to.number) {
            return Ok(false);
        }
        if new.version != case.version {
            let old = self
                .catalog
                .scenario_in(&case.version, pinned)
                .map(|(s, _)| s.steps.iter().map(|s| s.name.clone()).collect::<Vec<_>>())
                .unwrap_or_default();
            let mut done_on = vec![None; new.steps.len()];
            let mut fired = vec![0; new.steps.len()];
            for (j, step) in new.steps.iter().enumerate() {
                if let Some(i) = old.iter().position(|n| *n == step.name) {
                    done_on[j] = case.done_on.get(i).copied().flatten();
                    fired[j] = case.fired_count.get(i).copied().unwrap_or(0);
                }
            }
            let by_name = old
                .get(case.next_step)
                .and_then(|n| new.steps.iter().position(|s| s.name == *n));
            let after_done = done_on
                .iter()
                .rposition(Option::is_some)
                .map_or(0, |j| j + 1);
            case.next_step = by_name.unwrap_or(after_done);
            // A repetition under way goes on if its step (by name) still repeats and is next.
            case.repeating = case.repeating.and_then(|mut r| {
                let name = old.get(r.step)?;
                let j = new.steps.iter().position(|s| s.name == *name)?;
                r.step = j;
                (new.steps[j].repeat.is_some() && j == case.next_step).then_some(r)
            });
            case.done_on = done_on;
            case.fired_count = fired;
            case.version = new.version.clone();
        }
        self.history.push((
            id.to_string(),
            HistoryEntry {
                date: day,
                step: None,
                from: case.status.name().into(),
                to: case.status.name().into(),
                cause: format!(
                    "migrated to deployment {} (scenario {} {})",
                    to.number, case.scenario, case.version
                ),
            },
        ));
        let slot = self.slot(id)?;
        slot.case = Some(case);
        slot.deployment = Some(to.number);
        slot.dirty = true;
        self.schedule_from(id, from)?;
        Ok(true)
    }

    /// One call of the transition function; `keep` false drops the actions (history).
    fn step(
        &mut self,
        id: &str,
        day: NaiveDate,
        input: Input<'_>,
        keep: bool,
    ) -> Result<(), DaemonError> {
        let Some(case) = self.slot(id)?.case.clone() else {
            return Ok(());
        };
        if case.scenario.is_empty() {
            return Ok(());
        }
        let inv = self
            .invoice(id)?
            .cloned()
            .ok_or_else(|| DaemonError::Corrupt(format!("invoice {id} missing")))?;
        let cust = self
            .customer(&inv.customer)?
            .cloned()
            .ok_or_else(|| DaemonError::Corrupt(format!("customer {} missing", inv.customer)))?;
        let cust = self.insured(cust);
        let mut totals = self.totals(&inv.customer, &inv.currency, day, Some(id))?;
        if case.is_open() {
            totals.outstanding += case.outstanding;
            totals.open_invoices += 1;
        }
        let pinned = self.slot(id)?.deployment;
        let catalog = self.catalog;
        // A move to another scenario runs with the facts of the scenario it names, as the case's
        // deployment (else the latest) holds it; the transition puts the case in error when
        // neither has it.
        let named = match input {
            Input::Event(EventKind::ScenarioChanged { scenario, .. }) => {
                let holding = |d: &'a crate::catalog::Deployment| {
                    d.set.scenarios.get(scenario).map(|s| (s, d))
                };
                pinned
                    .and_then(|n| catalog.deployment(n))
                    .and_then(holding)
                    .or_else(|| catalog.current().and_then(holding))
            }
            _ => None,
        };
        let Some((scenario, deployment)) =
            named.or_else(|| catalog.scenario_in(&case.version, pinned))
        else {
            return Ok(());
        };
        let facts = Facts {
            scenario,
            invoice: &inv,
            customer: &cust,
            totals,
            rules: &deployment.rules,
            rates: self.rates,
        };
        let (case, outcome) = transition(case, input, day, &facts);
        self.stats.transitions += 1;
        for r in outcome.records {
            self.history.push((id.to_string(), history_entry(r)));
        }
        if keep {
            for p in outcome.actions {
                let item = Item::of(&p, &inv, &case, pinned).with_rate(&facts, p.date);
                self.stats.actions += 1;
                self.planned.push((p, item));
            }
        }
        self.set_case(id, case, day)
    }

    /// Files the case's next tick (never before tomorrow).
    fn schedule(&mut self, id: &str, day: NaiveDate) -> Result<(), DaemonError> {
        self.schedule_from(id, day.succ_opt().unwrap_or(day))
    }

    /// Wakes an insured customer's case no later than its next wake-up under the insurers'
    /// policies now in force (just reread by a deployment): a task day the new policies bring
    /// earlier is kept; an earlier timer stays (a tick that finds nothing to do is harmless).
    /// Other cases are left as they are.
    pub(crate) fn wake_for_insurers(
        &mut self,
        id: &str,
        earliest: NaiveDate,
    ) -> Result<(), DaemonError> {
        let Some(inv) = self.invoice(id)?.cloned() else {
            return Ok(());
        };
        let insured = self
            .customer(&inv.customer)?
            .is_some_and(|c| c.credit_cover.is_some());
        if !insured {
            return Ok(());
        }
        let (before, was_dirty) = {
            let slot = self.slot(id)?;
            (slot.wake, slot.dirty)
        };
        self.schedule_from(id, earliest)?;
        let slot = self.slot(id)?;
        slot.wake = match (before, slot.wake) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if slot.wake == before {
            // The same wake-up: nothing of this case is to be written again.
            slot.dirty = was_dirty;
        }
        Ok(())
    }

    /// Files the case's next tick, never before `earliest`.
    fn schedule_from(&mut self, id: &str, earliest: NaiveDate) -> Result<(), DaemonError> {
        let Some(case) = self.slot(id)?.case.clone() else {
            return Ok(());
        };
        let pinned = self.slot(id)?.deployment;
        let wake = match self.catalog.scenario_in(&case.version, pinned) {
            Some((scenario, deployment)) => {
                let inv = self
                    .invoice(id)?
                    .cloned()
                    .ok_or_else(|| DaemonError::Corrupt(format!("invoice {id} missing")))?;
                let cust = self.customer(&inv.customer)?.cloned().ok_or_else(|| {
                    DaemonError::Corrupt(format!("customer {} missing", inv.customer))
                })?;
                let cust = self.insured(cust);
                let facts = Facts {
                    scenario,
                    invoice: &inv,
                    customer: &cust,
                    totals: CustomerTotals::default(),
                    rules: &deployment.rules,
                    rates: self.rates,
                };
                next_wakeup(&case, &facts)
            }
            None => None,
        };
        let slot = self.slot(id)?;
        slot.wake = wake.map(|w| w.max(earliest));
        slot.dirty = true;
        Ok(())
    }

    /// The day's tick of one case, then its next timer.
    pub fn tick(&mut self, id: &str, day: NaiveDate) -> Result<(), DaemonError> {
        self.step(id, day, Input::Tick, true)?;
        self.touch_account(id, day)?;
        self.schedule(id, day)
    }

    /// A person's hand on an open case (see `case_action`): sets its status and its next
    /// tick as given and records `cause` in its history, running no step of its scenario.
    pub fn set_by_hand(
        &mut self,
        id: &str,
        status: Status,
        wake: Option<NaiveDate>,
        cause: String,
        day: NaiveDate,
    ) -> Result<(), DaemonError> {
        let mut case = self
            .case(id)?
            .filter(|c| c.is_open())
            .cloned()
            .ok_or_else(|| DaemonError::NotFound {
                what: "open case",
                id: id.to_string(),
            })?;
        let from = case.status.name().to_string();
        case.status = status;
        let to = case.status.name().to_string();
        self.set_case(id, case, day)?;
        self.slot(id)?.wake = wake;
        self.note(
            id,
            HistoryEntry {
                date: day,
                step: None,
                from,
                to,
                cause,
            },
        );
        Ok(())
    }

    /// Adds a line to an invoice's history.
    pub fn note(&mut self, id: &str, entry: HistoryEntry) {
        self.history.push((id.to_string(), entry));
    }

    /// Drops a stale timer (one that does not match its case's record).
    pub fn drop_timer(&mut self, date: NaiveDate, id: &str) {
        self.extra
            .push(Op::Delete(Tree::Timers, keys::timer(date, id)));
    }

    /// Appends `events` to the event log (each gets an id, its source from `source_of` given
    /// its index, and the write's idempotency key) and returns them, in the order given.
    pub fn record_events(
        &mut self,
        events: &[Event],
        recorded_on: NaiveDate,
        source_of: &dyn Fn(usize) -> EventSource,
        idempotency_key: Option<&str>,
    ) -> Result<Vec<StoredEvent>, DaemonError> {
        let mut out = Vec::with_capacity(events.len());
        for (i, ev) in events.iter().enumerate() {
            let stored = StoredEvent {
                id: self.store.next_id()?,
                recorded_on,
                source: source_of(i),
                idempotency_key: idempotency_key.map(str::to_string),
                event: ev.clone(),
            };
            self.logged.push(stored.clone());
            out.push(stored);
        }
        Ok(out)
    }

    /// Applies logged facts (validated: every reference resolves) in the canonical order of
    /// a day's facts ([`StoredEvent::order_key`]: date, then facts read from files by rank
    /// (payments first), batch, file and line, then the others by event id).
    ///
    /// Before the day's run (`run_done` false) nothing is applied: every fact waits in
    /// `pending` for the run of its day, which applies it after opening the day's cases and
    /// before ticking any (as the simulator does a day). After the day's run, a fact on an
    /// opened case is applied at once, on its date if earlier than `today` (history: actions
    /// dropped), and the case is ticked at once; a fact on an invoice whose case is not open
    /// yet waits for the next run. A customer's fact moves every open case of the customer
    /// (and a risk change its record).
    pub fn apply_events(
        &mut self,
        events: &[StoredEvent],
        today: NaiveDate,
        run_done: bool,
    ) -> Result<(), DaemonError> {
        let mut ordered: Vec<&StoredEvent> = events.iter().collect();
        ordered.sort_by_key(|e| e.order_key());
        let mut touched = BTreeSet::new();
        for stored in ordered {
            let ready = match stored.event.kind.invoice() {
                Some(id) => self.case(id)?.is_some(),
                None => true,
            };
            if !run_done || !ready {
                self.to_pend.push(stored.order_key());
                continue;
            }
            touched.extend(self.apply_fact(&stored.event, today)?);
        }
        for id in touched {
            self.tick(&id, today)?;
        }
        Ok(())
    }

    /// Applies one fact on `day` to the case it names, or to every open case of the customer
    /// it names: dated before `day`, on its own date (no earlier than the invoice's issue)
    /// with its actions dropped (history). Returns the cases it moved; an invoice whose case
    /// is not open moves nothing (the caller keeps the fact pending).
    fn apply_fact(&mut self, ev: &Event, day: NaiveDate) -> Result<Vec<String>, DaemonError> {
        let keep = ev.date >= day;
        if let Some(id) = ev.kind.invoice() {
            if self.case(id)?.is_none() {
                return Ok(Vec::new());
            }
            let issued = self.invoice(id)?.map_or(ev.date, |i| i.issued);
            let at = ev.date.min(day).max(issued);
            self.step(id, at, Input::Event(&ev.kind), keep)?;
            return Ok(vec![id.to_string()]);
        }
        let Some(customer) = ev.kind.customer() else {
            return Ok(Vec::new());
        };
        if let Some(mut c) = self.customer(customer)?.cloned()
            && ev.kind.apply_to_customer(&mut c)
        {
            self.put_customer(c);
        }
        let mut moved = Vec::new();
        for id in self.members(customer)? {
            if self.case(&id)?.is_some_and(Instance::is_open) {
                self.step(&id, ev.date.min(day), Input::Event(&ev.kind), keep)?;
                moved.push(id);
            }
        }
        Ok(moved)
    }

    /// The daily run's second pass on `day`: applies one pending fact (see [`Work::apply_events`])
    /// and files every case it moved for the day's tick. False when its invoice has no case
    /// yet (it stays pending).
    pub fn apply_pending(
        &mut self,
        key: &[u8],
        event_id: u64,
        day: NaiveDate,
    ) -> Result<bool, DaemonError> {
        let stored = self
            .stored_event(event_id)?
            .ok_or_else(|| DaemonError::Corrupt(format!("pending event {event_id} missing")))?;
        if let Some(id) = stored.event.kind.invoice()
            && self.case(id)?.is_none()
        {
            return Ok(false);
        }
        for id in self.apply_fact(&stored.event, day)? {
            let slot = self.slot(&id)?;
            slot.wake = Some(day);
            slot.dirty = true;
        }
        self.extra.push(Op::Delete(Tree::Pending, key.to_vec()));
        Ok(true)
    }

    /// A raw write committed with the rest (meta keys, agenda outcomes…).
    pub fn push_op(&mut self, op: Op) {
        self.extra.push(op);
    }

    /// Whether nothing was decided or changed.
    pub fn is_empty(&self) -> bool {
        self.extra.is_empty()
            && self.logged.is_empty()
            && self.to_pend.is_empty()
            && self.dirty_customers.is_empty()
            && self.new_invoices.is_empty()
            && self.planned.is_empty()
            && self.merged.is_empty()
            && self.history.is_empty()
            && self.slots.values().all(|s| !s.dirty)
    }

    /// Every write of this unit, for one atomic commit. Actions become outbox messages,
    /// merged into the open message of their group when there is one.
    pub fn into_ops(self) -> Result<(Vec<Op>, WorkStats), DaemonError> {
        let (ops, stats, _) = self.into_commit()?;
        Ok((ops, stats))
    }

    /// [`Work::into_ops`], with what the unit holds of the entries it writes as they were
    /// stored before it (for [`crate::aggregates::Kept::commit_with`]): the invoices and
    /// cases it read, the headers of the messages it joins, and the keys under fresh ids.
    pub fn into_commit(mut self) -> Result<(Vec<Op>, WorkStats, Olds), DaemonError> {
        let planned = std::mem::take(&mut self.planned);
        let (planned, cadence_ops) = self.cadence_split(planned)?;
        let merged = std::mem::take(&mut self.merged);
        let mut ops = self.extra;
        ops.extend(cadence_ops);
        for e in &self.logged {
            self.olds.absent(Tree::Events, &keys::id(e.id));
            ops.push(Op::Put(Tree::Events, keys::id(e.id).to_vec(), encode(e)));
            if let Some(invoice) = e.event.kind.invoice() {
                ops.push(Op::Put(
                    Tree::EventIndex,
                    keys::event_index(keys::EventOwner::Invoice(invoice), e.id),
                    Vec::new(),
                ));
            }
            if let Some(customer) = e.event.kind.customer() {
                ops.push(Op::Put(
                    Tree::EventIndex,
                    keys::event_index(keys::EventOwner::Customer(customer), e.id),
                    Vec::new(),
                ));
            }
        }
        for key in &self.to_pend {
            ops.push(Op::Put(Tree::Pending, keys::pending(key), Vec::new()));
        }
        for id in &self.dirty_customers {
            if let Some(Some(c)) = self.customers.get(id) {
                ops.push(Op::Put(Tree::Customers, id.as_bytes().to_vec(), encode(c)));
            }
        }
        for id in &self.new_invoices {
            if let Some(Some(inv)) = self.invoices.get(id) {
                ops.push(Op::Put(Tree::Invoices, id.as_bytes().to_vec(), encode(inv)));
                ops.push(Op::Put(
                    Tree::ByCustomer,
                    keys::by_customer(&inv.customer, id),
                    Vec::new(),
                ));
            }
        }
        for (id, slot) in &self.slots {
            if !slot.dirty {
                continue;
            }
            if let Some(case) = &slot.case {
                let rec = CaseRecord {
                    case: case.clone(),
                    wake: slot.wake,
                    deployment: slot.deployment,
                };
                ops.push(Op::Put(
                    Tree::Instances,
                    id.as_bytes().to_vec(),
                    encode(&rec),
                ));
            }
            if slot.stored_wake != slot.wake {
                if let Some(old) = slot.stored_wake {
                    ops.push(Op::Delete(Tree::Timers, keys::timer(old, id)));
                }
                if let Some(new) = slot.wake {
                    ops.push(Op::Put(Tree::Timers, keys::timer(new, id), Vec::new()));
                }
            }
        }
        let mut open_groups: HashMap<String, u64> = HashMap::new();
        // Per message this unit writes: its header as stored (`None`: a new one), its header
        // now, and the items it gains (joining a group writes those and the header only).
        let mut messages: BTreeMap<u64, (Option<MessageHeader>, MessageHeader, Vec<Item>)> =
            BTreeMap::new();
        let all = planned
            .into_iter()
            .map(|x| (x, false))
            .chain(merged.into_iter().map(|x| (x, true)));
        for ((p, item), through_cadence) in all {
            let grouped = through_cadence
                || !matches!(p.action, Action::Charge { .. })
                    && self
                        .catalog
                        .scenario(&p.version)
                        .is_none_or(|(s, _)| s.group_by == GroupKey::Customer);
            let text = p.action.to_string();
            let group = if grouped {
                format!("{}|{}|{}", p.date, p.customer, text)
            } else {
                p.key.clone()
            };
            if grouped {
                let existing = match open_groups.get(&group) {
                    Some(id) => Some(*id),
                    None => self
                        .store
                        .get(Tree::Groups, group.as_bytes())?
                        .and_then(|b| b.try_into().ok().map(u64::from_be_bytes)),
                };
                if let Some(id) = existing {
                    if !messages.contains_key(&id)
                        && let Some(h) = messages::header(self.store, Tree::Outbox, id)?
                    {
                        messages.insert(id, (Some(h.clone()), h, Vec::new()));
                    }
                    if let Some((_, h, items)) = messages
                        .get_mut(&id)
                        .filter(|(_, h, _)| !h.sealed && h.status == MessageStatus::Pending)
                    {
                        h.item_count += 1;
                        items.push(item);
                        continue;
                    }
                }
            }
            let id = self.store.next_id()?;
            if grouped {
                open_groups.insert(group.clone(), id);
                ops.push(Op::Put(
                    Tree::Groups,
                    group.as_bytes().to_vec(),
                    keys::id(id).to_vec(),
                ));
            }
            let header = MessageHeader {
                id,
                key: p.key.clone(),
                group,
                date: p.date,
                customer: p.customer.clone(),
                channel: p.action.channel().to_string(),
                text,
                action: p.action.clone(),
                scenario: p.scenario.clone(),
                item_count: 1,
                status: MessageStatus::Pending,
                sealed: false,
                attempts: 0,
                next_attempt: None,
                last_error: None,
                rendered: None,
                delivered_at: None,
                receipt: None,
            };
            messages.insert(id, (None, header, vec![item]));
        }
        for (id, (stored, header, items)) in &messages {
            if items.is_empty() {
                continue; // read back, not joined (sealed meanwhile): nothing changes
            }
            // A message read back keeps its `due` entry: only a new one gets one written.
            ops.extend(outbox::header_ops(stored.as_ref(), header));
            self.olds.message(Tree::Outbox, *id, stored.clone());
            let first = stored.as_ref().map_or(0, |s| s.item_count);
            // A message's items are its first `item_count` places: those after are new.
            for op in outbox::item_ops(*id, first, items) {
                if let Op::Put(tree, key, _) = &op {
                    self.olds.absent(*tree, key);
                }
                ops.push(op);
            }
        }
        for (invoice, entry) in &self.history {
            let seq = self.store.next_id()?;
            let key = keys::history(invoice, seq);
            self.olds.absent(Tree::History, &key);
            ops.push(Op::Put(Tree::History, key, encode(entry)));
        }
        // The invoices read from the store (this unit's new ones are not as stored).
        let new: BTreeSet<String> = self.new_invoices.into_iter().collect();
        for (id, inv) in self.invoices {
            if !new.contains(&id) {
                self.olds.invoice(&id, inv);
            }
        }
        Ok((ops, self.stats, self.olds))
    }
}

fn history_entry(r: Record) -> HistoryEntry {
    HistoryEntry {
        date: r.date,
        step: r.step,
        from: r.from.to_string(),
        to: r.to.to_string(),
        cause: r.cause,
    }
}
