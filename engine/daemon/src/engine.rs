//! The engine: the store, the deployed scenario sets, the clock and the writer lock, and the
//! durable writes built on them (deploy, import, customers, invoices, events, agenda
//! outcomes) plus the reads the API serves.
//!
//! Every write runs under one writer lock (so a case is never read and rewritten by two
//! writers at once), is checked whole before anything is written, and lands in one atomic
//! commit; callers flush before acknowledging. It must not perform effects (the dispatcher
//! does) nor know HTTP.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::catalog::{Bundle, Catalog, Deployment, file_diagnostic};
use super::clock::Clock;
use super::config::DEFAULT_IDEMPOTENCY_RETENTION_DAYS;
use super::driver::{CurrencySums, CustomerSums, Ledger, Ledgers, Work, WorkStats};
use super::error::DaemonError;
use super::input;
use super::keys;
use super::messages;
use super::metrics::{Gauges, Metrics};
use super::model::{
    AgendaEntry, CaseRecord, EventSource, HistoryEntry, ImportRecord, Message, MessageHeader,
    StoredReply, decode, encode,
};
use super::outbox;
use super::store::{Op, Store, Tree};
use relance_core::domain::{Customer, Event, EventKind, Invoice, Portfolio};
use relance_core::fact_order::FileLine;
use relance_core::interest::RateTable;
use relance_core::runtime::Instance;

/// Meta key: the last day whose daily run completed (4 date bytes).
pub const RUN_THROUGH: &[u8] = b"run_through";
/// Meta key: the virtual clock's day (4 date bytes).
pub const VIRTUAL_TODAY: &[u8] = b"virtual_today";

const DEPLOY_PREFIX: &[u8] = b"deploy/";

/// What a write did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct WriteReport {
    pub customers: usize,
    pub invoices: usize,
    /// Invoices sent again with the same values (accepted, nothing written).
    pub unchanged: usize,
    pub events: usize,
    #[serde(flatten)]
    pub stats: WorkStats,
}

/// The result of a deployment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeployReport {
    pub deployment: u64,
    /// False when the set was already the current one.
    pub changed: bool,
    pub scenarios: Vec<(String, String)>,
    /// Cases that had no scenario and got one from this deployment.
    pub assigned: usize,
    /// Running cases moved to this deployment (`migrate`).
    pub migrated: usize,
}

/// Which running cases a deployment moves to itself (the rest keep the deployment they
/// started with).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Migrate {
    /// None (the default).
    #[default]
    None,
    /// Every running case whose scenario the new set has.
    All,
    /// The running cases of these scenarios.
    Scenarios(BTreeSet<String>),
}

impl Migrate {
    fn covers(&self, scenario: &str) -> bool {
        match self {
            Migrate::None => false,
            Migrate::All => true,
            Migrate::Scenarios(names) => names.contains(scenario),
        }
    }
}

/// Where an invoice's case stands, for a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CaseState {
    /// Not opened yet.
    New,
    /// Opened without a scenario.
    Unassigned,
    /// Running the scenario named.
    Running(String),
}

impl CaseState {
    /// The state of an opened case: `None` once it is closed.
    fn of(rec: CaseRecord) -> Option<CaseState> {
        if !rec.case.is_open() {
            None
        } else if rec.case.scenario.is_empty() {
            Some(CaseState::Unassigned)
        } else {
            Some(CaseState::Running(rec.case.scenario))
        }
    }
}

/// How many unassigned invoices a refused deployment lists.
const MAX_UNASSIGNED: usize = 20;

/// A deployment as stored in `versions` (`deploy/` + number).
#[derive(Serialize, serde::Deserialize)]
pub(crate) struct StoredDeployment {
    number: u64,
    deployed_on: NaiveDate,
    bundle: Bundle,
}

/// A write's idempotency key (already scoped to its caller, see `keys::idempotency`) and the
/// fingerprint of its request (route and body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idem {
    pub key: Vec<u8>,
    pub fingerprint: String,
}

impl Idem {
    /// The caller (token name) the key belongs to.
    pub fn caller(&self) -> Option<String> {
        let end = self.key.iter().position(|b| *b == 0)?;
        std::str::from_utf8(&self.key[..end])
            .ok()
            .map(str::to_string)
    }

    /// The client's `Idempotency-Key` as it sent it.
    pub fn client_key(&self) -> Option<&str> {
        let start = self.key.iter().position(|b| *b == 0)? + 1;
        std::str::from_utf8(&self.key[start..]).ok()
    }
}

/// The result of a write that may carry an idempotency key.
#[derive(Debug)]
pub enum Keyed<T> {
    /// Applied now (and, with a key, its reply stored with it).
    Fresh(T),
    /// A repeat: the original reply; nothing was written.
    Replay(StoredReply),
}

/// The result of an unkeyed write (which cannot be a replay).
fn fresh<T>(k: Keyed<T>) -> Result<T, DaemonError> {
    match k {
        Keyed::Fresh(t) => Ok(t),
        Keyed::Replay(_) => Err(DaemonError::Corrupt("a replay without a key".into())),
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    /// The same store, keeping the Portfolio page's counters in step (`aggregates.rs`).
    kept: Arc<crate::aggregates::Kept>,
    catalog: RwLock<Catalog>,
    writer: Mutex<()>,
    clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    /// The late-payment rate table (replaced when a deployment rereads `rates_dir`'s
    /// `rates.csv`: a unit of work takes the table in force when it starts).
    rates: RwLock<&'static RateTable>,
    /// The data folder whose `rates.csv` is reread on each deployment ([`Engine::reload_rates`]);
    /// `None`: the table set at start stays.
    rates_dir: Option<std::path::PathBuf>,
    /// The credit insurers' policies of the data folder's `insurers.csv` (reread with the
    /// rates on each deployment: [`Engine::read_insurers`], [`Engine::apply_insurers`]).
    insurers: RwLock<crate::insurers::Insurers>,
    /// Whether the log already warned that `rates` lacks a half-year a run reached (once per
    /// table, not once per invoice: [`Engine::warn_missing_rates`]).
    rates_warned: std::sync::atomic::AtomicBool,
    /// Customers' totals kept across units of work (see `driver::Ledger`).
    ledgers: Ledgers,
    /// Timers or waiting facts per unit of work of the daily run (one commit, one flush), and
    /// idempotency keys examined per commit by its pruning.
    pub batch: usize,
    /// Days an idempotency key is kept: the daily run of day D deletes the keys stored before
    /// D − this (`idempotency_retention_days` of the config).
    pub idempotency_retention_days: u32,
    /// The store's [`Store::generation`] the ledgers were kept under: after the store is
    /// reopened (an I/O error), commits not made durable may be gone, so the ledgers are
    /// summed again from the store.
    generation: std::sync::atomic::AtomicU64,
}

impl Engine {
    /// The engine over an opened store: every deployed set is compiled again.
    pub fn open(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<Engine, DaemonError> {
        let kept = Arc::new(crate::aggregates::Kept::open(store, clock.clone())?);
        let store: Arc<dyn Store> = kept.clone();
        let store_generation = store.generation();
        let mut catalog = Catalog::default();
        for (_, v) in store.prefix(Tree::Versions, DEPLOY_PREFIX, usize::MAX)? {
            let stored: StoredDeployment = decode("deployment", &v)?;
            let (set, rules) = stored.bundle.compile().map_err(|e| {
                DaemonError::Corrupt(format!(
                    "deployment {} no longer compiles: {e}",
                    stored.number
                ))
            })?;
            catalog.add(Deployment {
                number: stored.number,
                bundle: stored.bundle,
                set,
                rules,
            });
        }
        Ok(Engine {
            store,
            kept,
            catalog: RwLock::new(catalog),
            writer: Mutex::new(()),
            clock,
            metrics: Metrics::default(),
            rates: RwLock::new(RateTable::builtin()),
            rates_dir: None,
            insurers: RwLock::new(crate::insurers::Insurers::default()),
            rates_warned: std::sync::atomic::AtomicBool::new(false),
            ledgers: Ledgers::default(),
            batch: 1000,
            idempotency_retention_days: DEFAULT_IDEMPOTENCY_RETENTION_DAYS,
            generation: std::sync::atomic::AtomicU64::new(store_generation),
        })
    }

    /// Runs on `rates` instead of the built-in table (a data folder's `rates.csv`, read by
    /// [`crate::rates::load`] when the daemon starts).
    pub fn set_rates(&mut self, rates: &'static RateTable) {
        *self.rates.get_mut().unwrap_or_else(|e| e.into_inner()) = rates;
        self.rates_warned = std::sync::atomic::AtomicBool::new(false);
    }

    /// Runs on the credit insurers' policies `insurers` (a data folder's `insurers.csv`, read
    /// by [`crate::insurers::load`] when the daemon starts).
    pub fn set_insurers(&mut self, insurers: crate::insurers::Insurers) {
        *self.insurers.get_mut().unwrap_or_else(|e| e.into_inner()) = insurers;
    }

    /// The insurers' policies in force (each unit of work takes them when it starts).
    pub fn insurers(&self) -> crate::insurers::Insurers {
        self.insurers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `customer`'s credit cover as its cases run with it ([`crate::insurers::Insurers::apply`]):
    /// its insurer's deadlines from the data folder's `insurers.csv` when the daemon has that
    /// file (an insurer the file does not list gets none), else the deadlines stored with it;
    /// `None` for a customer without cover. The stored record is not changed.
    pub fn cover_in_force(
        &self,
        customer: &relance_core::domain::Customer,
    ) -> Option<relance_core::insurance::CreditCover> {
        let mut seen = customer.clone();
        self.insurers().apply(&mut seen);
        seen.credit_cover
    }

    /// Reads the data folder's `insurers.csv` again (`crate::insurers::load`), `None` when no
    /// folder is watched. An invalid file is an error naming it and its line. Nothing changes
    /// until [`Engine::apply_insurers`]: a deployment reads both data files before it applies
    /// either, so a refused deployment leaves the rates and the policies as they were.
    pub fn read_insurers(
        &self,
    ) -> Result<Option<crate::insurers::Insurers>, relance_data::insurers::InsurersError> {
        self.rates_dir
            .as_deref()
            .map(crate::insurers::load)
            .transpose()
    }

    /// Runs on `read` from the next unit of work; returns whether the policies changed.
    /// Called under the writer lock by a deployment.
    pub fn apply_insurers(&self, read: crate::insurers::Insurers) -> bool {
        let mut insurers = self.insurers.write().unwrap_or_else(|e| e.into_inner());
        if *insurers == read {
            return false;
        }
        *insurers = read;
        tracing::info!("credit insurers' policies reread from the data folder's insurers.csv");
        true
    }

    /// Rereads `dir`'s `rates.csv` (over the built-in table) and `insurers.csv` on each
    /// deployment.
    pub fn watch_rates(&mut self, dir: std::path::PathBuf) {
        self.rates_dir = Some(dir);
    }

    /// Reads the data folder's `rates.csv` again (`crate::rates::load`) and runs on it from
    /// the next unit of work; the log's missing-rate warning is owed again for a new table.
    /// Returns whether the table changed. An invalid file is an error naming it and its line,
    /// and the table in force stays. Called under the writer lock by a deployment.
    pub fn reload_rates(&self) -> Result<bool, relance_data::rates::RatesError> {
        let Some(dir) = &self.rates_dir else {
            return Ok(false);
        };
        let (table, file) = crate::rates::load(dir)?;
        let mut rates = self.rates.write().unwrap_or_else(|e| e.into_inner());
        if *rates == table {
            return Ok(false);
        }
        *rates = table;
        self.rates_warned
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let file = file.map_or("none (built-in table)".to_string(), |f| {
            f.display().to_string()
        });
        tracing::info!(file = %file, "late-payment rates reread");
        Ok(true)
    }

    /// Puts back the table in force before a refused deployment reread `rates.csv`.
    fn restore_rates(&self, previous: &'static RateTable) {
        *self.rates.write().unwrap_or_else(|e| e.into_inner()) = previous;
    }

    /// Logs one warning, the first time a run reaches `day` and the rate table lacks a
    /// half-year up to it (late interest for it is charged at the last known rate, marked as
    /// assumed on each charge: `relance_core::interest`). Returns the message when it logged
    /// it; `None` when the table holds every half-year or the warning was already given.
    pub fn warn_missing_rates(&self, day: NaiveDate) -> Option<String> {
        use std::sync::atomic::Ordering;
        if self.rates_warned.load(Ordering::Relaxed) {
            return None;
        }
        let rates = self.rates();
        let missing = rates.missing(rates.first_half_year(), day);
        if missing.is_empty() || self.rates_warned.swap(true, Ordering::Relaxed) {
            return None;
        }
        let names: Vec<String> = missing
            .iter()
            .map(|m| relance_core::interest::half_year_name(m.half_year))
            .collect();
        let message = format!(
            "the late-payment rate table lacks {} (up to {day}): late interest for these \
             half-years is charged at the last known rate, marked as assumed; add them to the \
             data folder's rates.csv",
            names.join(", ")
        );
        tracing::warn!(day = %day, "{message}");
        Some(message)
    }

    /// The late-payment rate table in force (the import notes judge rates against it).
    pub fn rates(&self) -> &'static RateTable {
        *self.rates.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// The Portfolio page's counters, kept in step with every commit (`aggregates.rs`).
    pub fn kept(&self) -> &crate::aggregates::Kept {
        &self.kept
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The clock itself, for what keeps it (the email channel's `Date:` headers).
    pub fn shared_clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    pub fn catalog(&self) -> RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The writer lock: held by every write.
    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn flush(&self) -> Result<(), DaemonError> {
        Ok(self.store.flush()?)
    }

    /// The store's generation now: read before a write's first commit, handed to
    /// [`Engine::flush_since`] to acknowledge it.
    pub fn generation(&self) -> u64 {
        self.store.generation()
    }

    /// Makes the commits made since the store's generation `since` durable, or fails when the
    /// store was opened again in between ([`Store::flush_since`]).
    pub fn flush_since(&self, since: u64) -> Result<(), DaemonError> {
        Ok(self.store.flush_since(since)?)
    }

    /// A probe write (a meta key) made durable: whether the store takes writes again after a
    /// failure (`/healthz`).
    pub fn probe(&self) -> Result<(), DaemonError> {
        self.store
            .commit(&[Op::Put(Tree::Meta, b"healthz_probe".to_vec(), vec![1])])?;
        Ok(self.store.flush()?)
    }

    pub(crate) fn meta_date(&self, key: &[u8]) -> Result<Option<NaiveDate>, DaemonError> {
        Ok(self
            .store
            .get(Tree::Meta, key)?
            .and_then(|b| keys::parse_date(&b)))
    }

    /// The last day whose daily run completed.
    pub fn run_through(&self) -> Result<Option<NaiveDate>, DaemonError> {
        self.meta_date(RUN_THROUGH)
    }

    /// Runs `f` on a unit of work and commits it atomically (the caller holds the lock and
    /// flushes).
    pub(crate) fn work_locked<T>(
        &self,
        guard: &MutexGuard<'_, ()>,
        f: impl FnOnce(&mut Work<'_>) -> Result<T, DaemonError>,
    ) -> Result<(T, WorkStats), DaemonError> {
        self.unit(guard, f, |_, _| Ok(Vec::new()))
    }

    /// Runs `f` on a unit of work, then `seal` (which may complete the result with the unit's
    /// stats and add writes), and commits every write in one transaction.
    fn unit<T>(
        &self,
        _guard: &MutexGuard<'_, ()>,
        f: impl FnOnce(&mut Work<'_>) -> Result<T, DaemonError>,
        seal: impl FnOnce(&mut T, WorkStats) -> Result<Vec<Op>, DaemonError>,
    ) -> Result<(T, WorkStats), DaemonError> {
        let before = self.forget_ledgers_if_reopened();
        let catalog = self.catalog();
        let mut w = Work::new(&*self.store, &catalog, self.rates(), &self.ledgers)
            .with_insurers(self.insurers());
        let mut out = f(&mut w)?;
        let deltas = w.take_deltas();
        let (mut ops, stats, olds) = w.into_commit()?;
        ops.extend(seal(&mut out, stats)?);
        // The counters take the records the unit read rather than reading them back.
        self.kept.commit_with(&ops, &olds)?;
        self.fold_ledgers(deltas);
        if self.store.generation() != before {
            self.forget_ledgers_if_reopened();
        }
        Metrics::add(&self.metrics.transitions, stats.transitions);
        Metrics::add(&self.metrics.cases_opened, stats.opened);
        Metrics::add(&self.metrics.actions_planned, stats.actions);
        Ok((out, stats))
    }

    /// The stored reply of an earlier write sent with the same key: `Some` for a repeat of
    /// the same request, an error (422, field `Idempotency-Key`) for another request.
    pub fn replay(&self, idem: Option<&Idem>) -> Result<Option<StoredReply>, DaemonError> {
        let Some(i) = idem else {
            return Ok(None);
        };
        let Some(bytes) = self.store.get(Tree::Idempotency, &i.key)? else {
            return Ok(None);
        };
        let r: StoredReply = decode("idempotency reply", &bytes)?;
        if r.fingerprint != i.fingerprint {
            return Err(DaemonError::field(
                "Idempotency-Key",
                format!(
                    "this key was already used on {} for a different request (another route or \
                     body); a repeat must send the same body to the same route, a new write needs a new key",
                    r.date
                ),
            ));
        }
        Ok(Some(r))
    }

    /// Locks; a repeat of a keyed write returns its stored reply and writes nothing; else runs
    /// `f`, `finish` completes its result with the unit's stats, and the writes commit in one
    /// transaction together with the reply under the key. Not flushed.
    pub fn write_keyed<T: Serialize>(
        &self,
        idem: Option<&Idem>,
        f: impl FnOnce(&mut Work<'_>) -> Result<T, DaemonError>,
        finish: impl FnOnce(&mut T, WorkStats),
    ) -> Result<Keyed<T>, DaemonError> {
        let guard = self.lock();
        if let Some(r) = self.replay(idem)? {
            return Ok(Keyed::Replay(r));
        }
        let today = self.today();
        let (out, _) = self.unit(&guard, f, |out, stats| {
            finish(out, stats);
            let Some(i) = idem else {
                return Ok(Vec::new());
            };
            let reply = StoredReply {
                fingerprint: i.fingerprint.clone(),
                date: today,
                status: 200,
                body: serde_json::to_value(&*out).map_err(|e| DaemonError::Io(e.to_string()))?,
            };
            Ok(vec![Op::Put(
                Tree::Idempotency,
                i.key.clone(),
                encode(&reply),
            )])
        })?;
        Ok(Keyed::Fresh(out))
    }

    /// Drops the kept ledgers when the store was reopened since they were kept (they are
    /// summed again from the store when next needed); returns the store's generation.
    fn forget_ledgers_if_reopened(&self) -> u64 {
        use std::sync::atomic::Ordering;
        let now = self.store.generation();
        if self.generation.swap(now, Ordering::SeqCst) != now {
            self.ledgers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
        now
    }

    /// Folds a committed unit's ledger changes into the customers' kept ledgers (a customer
    /// not kept yet is summed from the store when next needed, commit included).
    fn fold_ledgers(&self, deltas: HashMap<String, Ledger>) {
        let mut ledgers = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
        for (customer, d) in deltas {
            if let Some(l) = ledgers.get_mut(&customer) {
                l.merge(&d);
            }
        }
    }

    /// Locks, runs `f`, commits (not flushed).
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut Work<'_>) -> Result<T, DaemonError>,
    ) -> Result<(T, WorkStats), DaemonError> {
        let guard = self.lock();
        self.work_locked(&guard, f)
    }

    // ----- deployments ------------------------------------------------------------------------

    /// Checks and deploys a set, migrating no running case (see [`Engine::deploy_with`]).
    pub fn deploy(&self, bundle: Bundle) -> Result<DeployReport, DaemonError> {
        self.deploy_with(bundle, &Migrate::None)
    }

    /// Checks and deploys a set. Refused (422 with diagnostics, nothing written) when it does
    /// not compile, has no scenario, names a scenario to migrate it lacks, or when its policy
    /// leaves an invoice not closed (not opened yet, unassigned, or running) without a scenario.
    /// In one commit: the deployment; every case that got no scenario when it opened is
    /// assigned with the new set (facts logged since applied as history); the running cases
    /// `migrate` names move to it. Other running cases keep the deployment they started with
    /// (scenario version, rules, templates); new cases take this set.
    pub fn deploy_with(
        &self,
        bundle: Bundle,
        migrate: &Migrate,
    ) -> Result<DeployReport, DaemonError> {
        let (set, rules) = bundle.compile()?;
        if let Migrate::Scenarios(names) = migrate {
            let missing: Vec<&str> = names
                .iter()
                .filter(|n| !set.scenarios.contains_key(*n))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                let (file, _, _) = bundle.policy_place();
                return Err(DaemonError::Diagnostics(vec![file_diagnostic(
                    &file,
                    1,
                    1,
                    "migrate",
                    format!(
                        "cannot migrate the cases of {}: the set has no scenario of that name",
                        missing.join(", ")
                    ),
                )]));
            }
        }
        let scenarios: Vec<(String, String)> = set
            .scenarios
            .values()
            .map(|s| (s.name.clone(), s.version.clone()))
            .collect();
        let _guard = self.lock();
        // The data folder's insurers.csv, read again (applied only once the deployment is
        // accepted): an invalid file refuses the deployment, the policies in force stay.
        let insurers = self.read_insurers().map_err(|e| {
            data_file_refused(
                relance_data::insurers::INSURERS_FILE,
                "insurers",
                e.line,
                &e.message,
            )
        })?;
        // The data folder's rates.csv, read again: the deployment is when the table changes
        // (put back as it was when the deployment is refused below).
        let previous_rates = self.rates();
        self.reload_rates().map_err(|e| {
            data_file_refused(relance_data::rates::RATES_FILE, "rates", e.line, &e.message)
        })?;
        // Every refusal from here on puts the table back as it was.
        let result = (|| -> Result<DeployReport, DaemonError> {
            let today = self.today();
            let run_done = self.run_done()?;
            let from = if run_done {
                today.succ_opt().unwrap_or(today)
            } else {
                today
            };
            let catalog = self.catalog.write().unwrap_or_else(|e| e.into_inner());
            if let Some(current) = catalog.current()
                && current.bundle == bundle
                && *migrate == Migrate::None
            {
                let deployment = current.number;
                drop(catalog);
                // The same set again: the deployment rereads the data files, nothing else.
                if let Some(read) = insurers {
                    let previous = self.insurers();
                    if self.apply_insurers(read) {
                        let woken = self.unit(
                            &_guard,
                            |w| self.wake_running_for_insurers(w, from),
                            |_, _| Ok(Vec::new()),
                        );
                        if let Err(e) = woken {
                            self.apply_insurers(previous);
                            return Err(e);
                        }
                    }
                }
                return Ok(DeployReport {
                    deployment,
                    changed: false,
                    scenarios,
                    assigned: 0,
                    migrated: 0,
                });
            }
            let mut catalog = catalog;
            let number = catalog.deployments().len() as u64 + 1;
            let deployment = Deployment {
                number,
                bundle,
                set,
                rules,
            };
            let cases = self.cases_not_closed()?;
            self.check_coverage(&catalog, &deployment, &cases, today)?;
            let stored = StoredDeployment {
                number,
                deployed_on: today,
                bundle: deployment.bundle.clone(),
            };
            let mut key = DEPLOY_PREFIX.to_vec();
            key.extend_from_slice(&number.to_be_bytes());
            let mut ops = vec![Op::Put(Tree::Versions, key, encode(&stored))];
            for s in deployment.set.scenarios.values() {
                ops.push(Op::Put(
                    Tree::Versions,
                    format!("scenario/{}", s.version).into_bytes(),
                    encode(s),
                ));
            }
            catalog.add(deployment);
            // The insurers' policies read above apply only now that the deployment is accepted;
            // new deadlines may fall before a case's timer, so insured customers' running cases
            // are woken under them in the deployment's own unit (one commit with the rest).
            let previous_insurers = self.insurers();
            let insurers_changed = insurers.is_some_and(|read| self.apply_insurers(read));
            let result = (|| {
                let Some(current) = catalog.current() else {
                    return Err(DaemonError::NoScenarios);
                };
                let mut w = Work::new(&*self.store, &catalog, self.rates(), &self.ledgers)
                    .with_insurers(self.insurers());
                if insurers_changed {
                    for (id, state) in &cases {
                        if matches!(state, CaseState::Running(_)) {
                            w.wake_for_insurers(id, from)?;
                        }
                    }
                }
                let (mut assigned, mut migrated) = (0, 0);
                for (id, state) in &cases {
                    match state {
                        CaseState::Unassigned => {
                            assigned += usize::from(w.reassign(id, today, run_done)?)
                        }
                        CaseState::Running(scenario) if migrate.covers(scenario) => {
                            migrated += usize::from(w.migrate(id, current, today, from)?);
                        }
                        _ => {}
                    }
                }
                let deltas = w.take_deltas();
                let (more, stats, olds) = w.into_commit()?;
                ops.extend(more);
                self.kept.commit_with(&ops, &olds)?;
                self.store.flush()?;
                self.fold_ledgers(deltas);
                Metrics::add(&self.metrics.transitions, stats.transitions);
                Metrics::add(&self.metrics.cases_opened, stats.opened);
                Metrics::add(&self.metrics.actions_planned, stats.actions);
                Ok((assigned, migrated))
            })();
            let (assigned, migrated) = match result {
                Ok(r) => r,
                Err(e) => {
                    catalog.remove_last();
                    if insurers_changed {
                        self.apply_insurers(previous_insurers);
                    }
                    return Err(e);
                }
            };
            Ok(DeployReport {
                deployment: number,
                changed: true,
                scenarios,
                assigned,
                migrated,
            })
        })();
        if result.is_err() {
            self.restore_rates(previous_rates);
        }
        result
    }

    /// At start-up, with the data folder's `insurers.csv`: wakes the running cases of insured
    /// customers under the policies as read now (`Work::wake_for_insurers`: a case is woken no
    /// later than its insurer deadlines; one whose wake-up does not move is not rewritten). The
    /// policies are not stored, so a file changed or added while the daemon was down would
    /// otherwise take effect only at each case's next wake-up, after a shortened deadline.
    /// Reads the customers once, then only the insured customers' invoices (`by_customer`),
    /// in units of [`Engine::batch`] cases (each wake stands alone: no unit needs another's).
    /// Nothing without the file. Returns how many running cases were looked at.
    pub fn wake_insured(&self) -> Result<usize, DaemonError> {
        if self.insurers().0.is_none() {
            return Ok(0);
        }
        let mut insured = Vec::new();
        self.store.scan(Tree::Customers, &mut |k, v| {
            if decode::<Customer>("customer", v).is_ok_and(|c| c.credit_cover.is_some()) {
                insured.push(k.to_vec());
            }
            Ok(())
        })?;
        let mut running = Vec::new();
        for customer in &insured {
            let Ok(customer) = std::str::from_utf8(customer) else {
                continue;
            };
            let prefix = keys::owner_prefix(customer);
            let ids: Vec<Vec<u8>> = self
                .store
                .prefix(Tree::ByCustomer, &prefix, usize::MAX)?
                .into_iter()
                .map(|(k, _)| k[prefix.len()..].to_vec())
                .filter(|id| std::str::from_utf8(id).is_ok())
                .collect();
            // The customer's cases at once (one statement on PostgreSQL, not one per invoice).
            for (id, stored) in ids.iter().zip(self.store.get_many(Tree::Instances, &ids)?) {
                let Some(bytes) = stored else { continue };
                let rec: CaseRecord = decode("case", &bytes)?;
                if let Some(CaseState::Running(_)) = CaseState::of(rec) {
                    running.push(String::from_utf8_lossy(id).into_owned());
                }
            }
        }
        for chunk in running.chunks(self.batch.max(1)) {
            let guard = self.lock();
            let from = self.next_run_day()?;
            self.unit(
                &guard,
                |w| {
                    for id in chunk {
                        w.wake_for_insurers(id, from)?;
                    }
                    Ok(())
                },
                |_, _| Ok(Vec::new()),
            )?;
        }
        Ok(running.len())
    }

    /// Wakes every running case under the insurers' policies in force (`Work::wake_for_insurers`).
    fn wake_running_for_insurers(
        &self,
        w: &mut Work<'_>,
        from: NaiveDate,
    ) -> Result<(), DaemonError> {
        for (id, state) in self.cases_not_closed()? {
            if matches!(state, CaseState::Running(_)) {
                w.wake_for_insurers(&id, from)?;
            }
        }
        Ok(())
    }

    /// Every invoice whose case is not closed, in id order: not opened yet, opened without a
    /// scenario, or running one.
    fn cases_not_closed(&self) -> Result<Vec<(String, CaseState)>, DaemonError> {
        let mut states: BTreeMap<String, Option<CaseState>> = BTreeMap::new();
        self.store.scan(Tree::Instances, &mut |k, v| {
            let id = String::from_utf8_lossy(k).into_owned();
            let state = serde_json::from_slice::<CaseRecord>(v)
                .ok()
                .and_then(CaseState::of);
            states.insert(id, state);
            Ok(())
        })?;
        let mut out = Vec::new();
        self.store.scan(Tree::Invoices, &mut |k, _| {
            let id = String::from_utf8_lossy(k).into_owned();
            match states.remove(&id) {
                None => out.push((id, CaseState::New)),
                Some(Some(state)) => out.push((id, state)),
                Some(None) => {}
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Refuses `d` (422 with diagnostics at the set's policy) when its policy would give one of
    /// `cases` no scenario on `day`. Lists the first [`MAX_UNASSIGNED`] such invoices.
    fn check_coverage(
        &self,
        catalog: &Catalog,
        d: &Deployment,
        cases: &[(String, CaseState)],
        day: NaiveDate,
    ) -> Result<(), DaemonError> {
        let mut w = Work::new(&*self.store, catalog, self.rates(), &self.ledgers)
            .with_insurers(self.insurers());
        let (file, line, column) = d.bundle.policy_place();
        let mut diags = Vec::new();
        let mut count = 0usize;
        for (id, _) in cases {
            let problem = match w.choice(d, id, day)? {
                Ok(Some(_)) => continue,
                Ok(None) => format!("invoice {id} would match no scenario of this set"),
                Err(e) => format!("invoice {id}: {e}"),
            };
            count += 1;
            if diags.len() < MAX_UNASSIGNED {
                diags.push(file_diagnostic(&file, line, column, "unassigned", problem));
            }
        }
        if count > diags.len() {
            diags.push(file_diagnostic(
                &file,
                line,
                column,
                "unassigned",
                format!("and {} more invoices", count - diags.len()),
            ));
        }
        if diags.is_empty() {
            Ok(())
        } else {
            Err(DaemonError::Diagnostics(diags))
        }
    }

    // ----- data writes ------------------------------------------------------------------------

    /// Imports customers, invoices and events atomically: all of it, or nothing when any
    /// record is wrong. Nothing is decided here: the events go to the log (applied at once
    /// to open cases), invoices wait on their timer, and the daily run opens their cases
    /// once every fact of the write is in. Not flushed.
    pub fn import(&self, p: &Portfolio) -> Result<WriteReport, DaemonError> {
        fresh(self.import_keyed(p, None)?)
    }

    /// [`Engine::import`] with an optional idempotency key.
    pub fn import_keyed(
        &self,
        p: &Portfolio,
        idem: Option<&Idem>,
    ) -> Result<Keyed<WriteReport>, DaemonError> {
        self.import_from(
            p,
            idem,
            &EventSource::api(idem.and_then(Idem::caller).as_deref()),
        )
    }

    /// [`Engine::import_keyed`] naming where the facts come from (an API write: they count
    /// after a day's facts read from files, in their order of receipt).
    pub fn import_from(
        &self,
        p: &Portfolio,
        idem: Option<&Idem>,
        source: &EventSource,
    ) -> Result<Keyed<WriteReport>, DaemonError> {
        let today = self.today();
        let run_done = self.run_done()?;
        self.write_keyed(
            idem,
            |w| {
                let plan = self.check_portfolio(w, p, today)?;
                let key = idem.and_then(Idem::client_key);
                Self::write_portfolio(w, p, &plan, today, run_done, &|_| source.clone(), key)
            },
            |report, stats| report.stats = stats,
        )
    }

    /// Checks a portfolio to write whole ([`input::check`]); invoices need a deployed set.
    fn check_portfolio(
        &self,
        w: &mut Work<'_>,
        p: &Portfolio,
        today: NaiveDate,
    ) -> Result<input::Plan, DaemonError> {
        let plan = input::check(w, p, today)?;
        if !p.invoices.is_empty() && self.catalog().current().is_none() {
            return Err(DaemonError::NoScenarios);
        }
        Ok(plan)
    }

    /// Writes a checked portfolio in `w`: customers, the invoices the plan does not leave
    /// unchanged, and its facts logged (`p.events[i]` under `source_of(i)`) then applied.
    fn write_portfolio(
        w: &mut Work<'_>,
        p: &Portfolio,
        plan: &input::Plan,
        today: NaiveDate,
        run_done: bool,
        source_of: &dyn Fn(usize) -> EventSource,
        key: Option<&str>,
    ) -> Result<WriteReport, DaemonError> {
        for c in &p.customers {
            w.put_customer(c.clone());
        }
        let mut report = WriteReport {
            customers: p.customers.len(),
            events: p.events.len(),
            ..WriteReport::default()
        };
        for inv in &p.invoices {
            if plan.unchanged.contains(&inv.id) {
                report.unchanged += 1;
                continue;
            }
            w.add_invoice(inv.clone())?;
            report.invoices += 1;
        }
        let logged = w.record_events(&p.events, today, source_of, key)?;
        w.apply_events(&logged, today, run_done)?;
        Ok(report)
    }

    /// The import batch recorded under `sha256` (the digest of its files and their options),
    /// if that batch was imported before.
    pub fn imported(&self, sha256: &str) -> Result<Option<ImportRecord>, DaemonError> {
        match self.store().get(Tree::Imports, sha256.as_bytes())? {
            Some(bytes) => Ok(Some(decode("import record", &bytes)?)),
            None => Ok(None),
        }
    }

    /// Imports an accounting batch (files read and merged by the caller into `p`, what they
    /// change) as [`Engine::import`] does, and records the batch in `imports` under its
    /// digest in the same transaction; its facts name the batch, and where each was read
    /// when `origins` says it (`origins[i]` for `p.events[i]`, its `file` the place in
    /// `record.files`): the file's name, kind and line, its place in the canonical order of
    /// a day's facts. `record.batch` is set here. A batch already recorded is not applied
    /// again: its record comes back as `Err` of the inner result.
    pub fn import_batch(
        &self,
        p: &Portfolio,
        origins: &[FileLine],
        caller: Option<&str>,
        mut record: ImportRecord,
    ) -> Result<Result<(WriteReport, ImportRecord), ImportRecord>, DaemonError> {
        let today = self.today();
        let run_done = self.run_done()?;
        let mut already = None;
        let mut written = None;
        let keyed = self.write_keyed(
            None,
            |w| {
                if let Some(before) = self.imported(&record.sha256)? {
                    already = Some(before);
                    return Ok(WriteReport::default());
                }
                let plan = self.check_portfolio(w, p, today)?;
                record.batch = self.store().next_id()?;
                record.recorded_on = today;
                let source_of = |i: usize| {
                    let at = origins.get(i).copied();
                    let file = match (at, record.files.as_slice()) {
                        (Some(at), files) => files.get(at.file as usize).cloned(),
                        (None, [one]) => Some(one.clone()),
                        (None, _) => None,
                    };
                    EventSource {
                        via: "import".into(),
                        caller: caller.map(str::to_string),
                        batch: Some(record.batch),
                        file,
                        at,
                    }
                };
                let report = Self::write_portfolio(w, p, &plan, today, run_done, &source_of, None)?;
                w.push_op(Op::Put(
                    Tree::Imports,
                    record.sha256.as_bytes().to_vec(),
                    encode(&record),
                ));
                written = Some(record.clone());
                Ok(report)
            },
            |report, stats| report.stats = stats,
        )?;
        if let Some(before) = already {
            return Ok(Err(before));
        }
        let report = fresh(keyed)?;
        let record = written.ok_or_else(|| {
            DaemonError::Io("the import batch was written without its record".into())
        })?;
        Ok(Ok((report, record)))
    }

    /// The day of the next daily run: today until its run is done, then tomorrow.
    pub fn next_run_day(&self) -> Result<NaiveDate, DaemonError> {
        let today = self.today();
        Ok(if self.run_done()? {
            today.succ_opt().unwrap_or(today)
        } else {
            today
        })
    }

    /// Whether today's daily run is done: before it, a write's facts wait for it (see
    /// `Work::apply_events`).
    pub fn run_done(&self) -> Result<bool, DaemonError> {
        Ok(self.run_through()?.is_some_and(|d| d >= self.today()))
    }

    /// Adds or replaces customers. Not flushed.
    pub fn put_customers(&self, customers: &[Customer]) -> Result<WriteReport, DaemonError> {
        fresh(self.put_customers_keyed(customers, None)?)
    }

    /// [`Engine::put_customers`] with an optional idempotency key.
    pub fn put_customers_keyed(
        &self,
        customers: &[Customer],
        idem: Option<&Idem>,
    ) -> Result<Keyed<WriteReport>, DaemonError> {
        input::check_customers(customers)?;
        self.write_keyed(
            idem,
            |w| {
                for c in customers {
                    w.put_customer(c.clone());
                }
                Ok(WriteReport {
                    customers: customers.len(),
                    ..WriteReport::default()
                })
            },
            |report, stats| report.stats = stats,
        )
    }

    /// Adds invoices (an identical repeat is accepted and ignored). Not flushed.
    pub fn add_invoices(&self, invoices: &[Invoice]) -> Result<WriteReport, DaemonError> {
        fresh(self.add_invoices_keyed(invoices, None)?)
    }

    /// [`Engine::add_invoices`] with an optional idempotency key.
    pub fn add_invoices_keyed(
        &self,
        invoices: &[Invoice],
        idem: Option<&Idem>,
    ) -> Result<Keyed<WriteReport>, DaemonError> {
        let p = Portfolio {
            invoices: invoices.to_vec(),
            ..Portfolio::default()
        };
        self.import_keyed(&p, idem)
    }

    /// Applies events (dated today by default; earlier dates are history). Not flushed.
    pub fn apply_events(&self, events: &[Event]) -> Result<WriteReport, DaemonError> {
        fresh(self.apply_events_keyed(events, None)?)
    }

    /// [`Engine::apply_events`] with an optional idempotency key.
    pub fn apply_events_keyed(
        &self,
        events: &[Event],
        idem: Option<&Idem>,
    ) -> Result<Keyed<WriteReport>, DaemonError> {
        let p = Portfolio {
            events: events.to_vec(),
            ..Portfolio::default()
        };
        self.import_keyed(&p, idem)
    }

    /// Records the outcome of an agenda entry (a call or task) and applies it as a
    /// `task_outcome` event to each of its invoices. Not flushed.
    pub fn record_outcome(
        &self,
        id: u64,
        outcome: &str,
        promised: Option<NaiveDate>,
    ) -> Result<AgendaEntry, DaemonError> {
        fresh(self.record_outcome_keyed(id, outcome, promised, None)?)
    }

    /// [`Engine::record_outcome`] with an optional idempotency key.
    pub fn record_outcome_keyed(
        &self,
        id: u64,
        outcome: &str,
        promised: Option<NaiveDate>,
        idem: Option<&Idem>,
    ) -> Result<Keyed<AgendaEntry>, DaemonError> {
        // A repeat gets its reply even if the entry has moved on since.
        if let Some(r) = self.replay(idem)? {
            return Ok(Keyed::Replay(r));
        }
        if outcome.trim().is_empty() {
            return Err(DaemonError::field("outcome", "must not be empty"));
        }
        let today = self.today();
        // The request's own problems come before the lookup, so that a refusal does not tell
        // whether the entry exists.
        if let Some(p) = promised.filter(|p| *p < today) {
            return Err(DaemonError::field(
                "promised_date",
                format!("{p} is in the past (today is {today})"),
            ));
        }
        let delivered =
            self.store
                .get(Tree::Delivered, &keys::id(id))?
                .ok_or(DaemonError::NotFound {
                    what: "agenda entry",
                    id: id.to_string(),
                })?;
        let msg: MessageHeader = decode("message", &delivered)?;
        let key = keys::agenda(msg.date, id);
        let mut entry: AgendaEntry = decode(
            "agenda entry",
            &self
                .store
                .get(Tree::Agenda, &key)?
                .ok_or(DaemonError::NotFound {
                    what: "agenda entry",
                    id: id.to_string(),
                })?,
        )?;
        entry.outcome = Some(outcome.to_string());
        entry.outcome_on = Some(today);
        let events: Vec<Event> = entry
            .invoices
            .iter()
            .map(|inv| Event {
                date: today,
                kind: EventKind::TaskOutcome {
                    invoice: inv.clone(),
                    outcome: outcome.to_string(),
                    promised_date: promised,
                },
            })
            .collect();
        let run_done = self.run_done()?;
        let source = EventSource {
            via: "agenda".into(),
            caller: idem.and_then(Idem::caller),
            batch: None,
            file: None,
            at: None,
        };
        self.write_keyed(
            idem,
            move |w| {
                let logged = w.record_events(
                    &events,
                    today,
                    &|_| source.clone(),
                    idem.and_then(Idem::client_key),
                )?;
                w.apply_events(&logged, today, run_done)?;
                w.push_op(Op::Put(Tree::Agenda, key, encode(&entry)));
                Ok(entry)
            },
            |_, _| {},
        )
    }

    // ----- reads ------------------------------------------------------------------------------

    pub fn customer(&self, id: &str) -> Result<Option<Customer>, DaemonError> {
        self.store
            .get(Tree::Customers, id.as_bytes())?
            .map(|b| decode("customer", &b))
            .transpose()
    }

    pub fn invoice(&self, id: &str) -> Result<Option<Invoice>, DaemonError> {
        self.store
            .get(Tree::Invoices, id.as_bytes())?
            .map(|b| decode("invoice", &b))
            .transpose()
    }

    pub fn case(&self, id: &str) -> Result<Option<CaseRecord>, DaemonError> {
        self.store
            .get(Tree::Instances, id.as_bytes())?
            .map(|b| decode("case", &b))
            .transpose()
    }

    pub fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, DaemonError> {
        self.store
            .prefix(Tree::History, &keys::owner_prefix(id), usize::MAX)?
            .iter()
            .map(|(_, v)| decode("history", v))
            .collect()
    }

    pub fn customer_invoices(&self, customer: &str) -> Result<Vec<String>, DaemonError> {
        let prefix = keys::owner_prefix(customer);
        Ok(self
            .store
            .prefix(Tree::ByCustomer, &prefix, usize::MAX)?
            .into_iter()
            .filter_map(|(k, _)| {
                std::str::from_utf8(&k[prefix.len()..])
                    .ok()
                    .map(String::from)
            })
            .collect())
    }

    /// One page of a customer's invoice ids, in id order (bytewise): those after `after` (an
    /// id, not necessarily one of the customer's), at most `limit`; and whether more follow.
    /// A range scan of `by_customer` from the cursor: it reads the page, not the customer.
    pub fn customer_invoices_page(
        &self,
        customer: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<String>, bool), DaemonError> {
        let prefix = keys::owner_prefix(customer);
        let start = after.map_or_else(
            || prefix.clone(),
            |a| keys::successor(&keys::by_customer(customer, a)),
        );
        let end = keys::prefix_end(&prefix);
        let mut ids: Vec<String> = self
            .store
            .range(
                Tree::ByCustomer,
                &start,
                end.as_deref(),
                limit.saturating_add(1),
            )?
            .into_iter()
            .filter_map(|(k, _)| {
                std::str::from_utf8(&k[prefix.len()..])
                    .ok()
                    .map(String::from)
            })
            .collect();
        let more = ids.len() > limit;
        ids.truncate(limit);
        Ok((ids, more))
    }

    /// A customer's totals over all its invoices, from the ledger the engine keeps for the
    /// daily run's decisions: no pass over its invoices once the ledger is kept. A customer
    /// not kept yet is summed from the store (one read of each invoice and case, no more);
    /// the ledger is then kept if the writer lock is free, else thrown away (a read never
    /// waits for a write, and only a unit holding the lock may add a ledger, see `Ledgers`).
    pub fn customer_sums(&self, customer: &str) -> Result<CustomerSums, DaemonError> {
        self.read_ledger(customer, Ledger::sums)
    }

    /// A customer's sums per currency, with what is overdue today (see
    /// [`Ledger::by_currency`]); kept like [`Engine::customer_sums`].
    pub fn customer_currencies(&self, customer: &str) -> Result<Vec<CurrencySums>, DaemonError> {
        let today = self.today();
        self.read_ledger(customer, |l| l.by_currency(today))
    }

    /// `read` of a customer's ledger: the kept one, else one summed from the store, kept if
    /// the writer lock is free (see [`Engine::customer_sums`]).
    fn read_ledger<T>(
        &self,
        customer: &str,
        read: impl Fn(&Ledger) -> T,
    ) -> Result<T, DaemonError> {
        self.forget_ledgers_if_reopened();
        let kept = self
            .ledgers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(customer)
            .map(&read);
        if let Some(value) = kept {
            return Ok(value);
        }
        let guard = match self.writer.try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        };
        let catalog = self.catalog();
        let scratch = Ledgers::default();
        let ledgers = if guard.is_some() {
            &self.ledgers
        } else {
            &scratch
        };
        let ledger =
            Work::new(&*self.store, &catalog, self.rates(), ledgers).customer_ledger(customer)?;
        Ok(read(&ledger))
    }

    /// The name of the step a case waits for, if any.
    pub fn next_step(&self, case: &Instance) -> Option<String> {
        let catalog = self.catalog();
        let (scenario, _) = catalog.scenario(&case.version)?;
        scenario.steps.get(case.next_step).map(|s| s.name.clone())
    }

    /// Messages not yet delivered (pending, retrying, dead), oldest first.
    pub fn outbox(&self) -> Result<Vec<Message>, DaemonError> {
        messages::all(&*self.store, Tree::Outbox)
    }

    /// The headers (messages without their items) of the pending and retrying messages whose
    /// next attempt is at or before `now` (unsealed ones included), in that order: a range of
    /// the `due` index, so dead letters and messages waiting out a retry delay are not read.
    pub fn due_headers(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<MessageHeader>, DaemonError> {
        let until = outbox::due_until(now);
        let mut out = Vec::new();
        for (k, _) in self.store.range(Tree::Due, &[], Some(&until), usize::MAX)? {
            let Some((_, id)) = keys::parse_due(&k) else {
                continue;
            };
            out.extend(messages::header(&*self.store, Tree::Outbox, id)?);
        }
        Ok(out)
    }

    /// [`Engine::due_headers`], each message whole (with its items).
    pub fn due_messages(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Message>, DaemonError> {
        self.due_headers(now)?
            .into_iter()
            .map(|h| messages::whole(&*self.store, h))
            .collect()
    }

    /// Puts dead message `id` back in line for an immediate attempt (committed, not flushed).
    pub fn requeue(&self, id: u64) -> Result<Message, DaemonError> {
        let _guard = self.lock();
        let mut m =
            messages::read(&*self.store, Tree::Outbox, id)?.ok_or(DaemonError::NotFound {
                what: "message",
                id: id.to_string(),
            })?;
        let before = m.clone();
        if !outbox::requeue(&mut m) {
            return Err(DaemonError::Conflict(format!(
                "message {id} is {}, not dead",
                m.status.as_str()
            )));
        }
        self.store.commit(&outbox::put_ops(Some(&before), &m))?;
        Ok(m)
    }

    /// Delivered messages with an id above `after`, oldest first.
    pub fn delivered(&self, after: u64, limit: usize) -> Result<Vec<Message>, DaemonError> {
        let from = keys::id(after.saturating_add(1));
        self.store
            .range(Tree::Delivered, &from, None, limit)?
            .iter()
            .map(|(_, v)| messages::decode_whole(&*self.store, v))
            .collect()
    }

    /// Agenda entries from `from` to `to` inclusive.
    pub fn agenda(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<AgendaEntry>, DaemonError> {
        let start = keys::date(from);
        let end = to.succ_opt().map(keys::date);
        self.store
            .range(
                Tree::Agenda,
                &start,
                end.as_ref().map(|e| &e[..]),
                usize::MAX,
            )?
            .iter()
            .map(|(_, v)| decode("agenda entry", v))
            .collect()
    }

    /// One page of the agenda from `from` to `to` inclusive, in day then id order: the
    /// entries after `after` (a day and an entry's id) that `keep` accepts, at most `limit`;
    /// and whether more follow. A range scan from the cursor, read in chunks until the page
    /// is full (with a filter that keeps few entries, it reads on until it finds enough).
    pub fn agenda_page(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        after: Option<(NaiveDate, u64)>,
        limit: usize,
        keep: impl Fn(&AgendaEntry) -> bool,
    ) -> Result<(Vec<AgendaEntry>, bool), DaemonError> {
        let mut start = keys::date(from).to_vec();
        if let Some((day, id)) = after {
            start = start.max(keys::successor(&keys::agenda(day, id)));
        }
        let end = to.succ_opt().map(keys::date);
        let chunk = limit.saturating_add(1);
        let mut page = Vec::new();
        loop {
            if end.is_some_and(|e| start.as_slice() >= &e[..]) {
                return Ok((page, false));
            }
            let rows =
                self.store
                    .range(Tree::Agenda, &start, end.as_ref().map(|e| &e[..]), chunk)?;
            let full = rows.len() == chunk;
            for (k, v) in rows {
                let entry: AgendaEntry = decode("agenda entry", &v)?;
                if keep(&entry) {
                    if page.len() == limit {
                        return Ok((page, true));
                    }
                    page.push(entry);
                }
                start = keys::successor(&k);
            }
            if !full {
                return Ok((page, false));
            }
        }
    }

    pub fn gauges(&self) -> Gauges {
        Gauges {
            outbox: self.store.count(Tree::Outbox),
            delivered: self.store.count(Tree::Delivered),
            cases: self.store.count(Tree::Instances),
            timers: self.store.count(Tree::Timers),
            invoices: self.store.count(Tree::Invoices),
        }
    }

    /// The sum of outstanding amounts over a customer's open cases.
    pub fn outstanding(&self, customer: &str) -> Result<Decimal, DaemonError> {
        let mut total = Decimal::ZERO;
        for id in self.customer_invoices(customer)? {
            if let Some(rec) = self.case(&id)?
                && rec.case.is_open()
            {
                total = total.saturating_add(rec.case.outstanding);
            }
        }
        Ok(total)
    }
}

/// A deployment refused by an invalid data-folder file (`rates.csv`, `insurers.csv`): one
/// diagnostic naming the file and its line (the first when the error has none).
fn data_file_refused(file: &str, code: &str, line: Option<usize>, message: &str) -> DaemonError {
    let line = line.and_then(|l| u32::try_from(l).ok()).unwrap_or(1);
    DaemonError::Diagnostics(vec![file_diagnostic(
        file,
        line,
        1,
        code,
        format!("the data folder's {file}: {message}"),
    )])
}
