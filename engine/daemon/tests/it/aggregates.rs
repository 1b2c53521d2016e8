//! The Portfolio page's kept counters (`relance_daemon::aggregates`) against a full
//! recomputation: a generated portfolio fed day by day in random batches, messages delivered,
//! made dead and retried at random, the engine closed and reopened from disk at random moments;
//! after every day the counters the commits kept equal the counters rebuilt from the whole
//! store (and the customer list's index kept by the same commits equals one built from the
//! store), and at the end the page's series agree with the reports' recomputation on what both
//! define alike (today's aged balance, messages by channel, cases in error, payments and
//! promises). Then the migration: a store whose counters are missing (as today's stores
//! written before them are), or written by another version, or changed behind the engine's
//! back, gets them rebuilt on open. Last, the old records the units of work hand the
//! counters (`aggregates::Olds`): commit by commit, the counters they give equal those of a
//! twin store whose commits read every old value back, and a daily run's commits read back
//! none of the entries they write.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use chrono::{Days, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use relance_core::domain::Portfolio;
use relance_daemon::Engine;
use relance_daemon::aggregates::{self, Counters, Kept, Owed};
use relance_daemon::catalog::Bundle;
use relance_daemon::clock::VirtualClock;
use relance_daemon::config::Config;
use relance_daemon::customer_index::CustomerIndex;
use relance_daemon::model::MessageStatus;
use relance_daemon::outbox;
use relance_daemon::portfolio::{self, PortfolioOptions};
use relance_daemon::server::{self, ClockMode};
use relance_daemon::store::{Op, SledStore, Store, StoreError, Tree};
use relance_data::generator::{self, Spec};
use relance_data::portfolio as files;
use relance_sim::reports::aged;

use crate::support::TempDir;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

struct Daemon {
    config: Config,
    from: NaiveDate,
    engine: Option<Arc<Engine>>,
}

impl Daemon {
    fn engine(&mut self) -> Arc<Engine> {
        if self.engine.is_none() {
            let scenarios = crate::workspace().join("stdlib-scenarios");
            self.engine = Some(
                server::open(
                    &self.config,
                    ClockMode::Virtual {
                        start: Some(self.from),
                    },
                    Some(&scenarios),
                )
                .expect("the store opens"),
            );
        }
        Arc::clone(self.engine.as_ref().expect("open"))
    }

    fn restart(&mut self) {
        if let Some(e) = self.engine.take() {
            e.flush().expect("flush");
        }
    }
}

/// What is owed by (currency, due date), whatever day it was committed (a rebuild counts
/// everything from its own day).
fn owed_now(c: &Counters) -> BTreeMap<(String, NaiveDate), Owed> {
    let mut out: BTreeMap<(String, NaiveDate), Owed> = BTreeMap::new();
    for ((currency, due, _), o) in &c.owed {
        let e = out.entry((currency.clone(), *due)).or_default();
        e.owed += o.owed;
        e.disputed += o.disputed;
    }
    out.retain(|_, o| !(o.owed.is_zero() && o.disputed.is_zero()));
    out
}

fn assert_same(engine: &Engine, day: NaiveDate, seed: u64) {
    let kept = engine.kept().counters();
    let (full, _) = Counters::rebuild(engine.store(), day).expect("rebuild");
    let at = format!("seed {seed}, {day}");
    assert_eq!(owed_now(&kept), owed_now(&full), "owed, {at}");
    assert_eq!(kept.sales, full.sales, "sales, {at}");
    assert_eq!(kept.flows, full.flows, "flows, {at}");
    assert_eq!(kept.messages, full.messages, "messages, {at}");
    assert_eq!(kept.errors, full.errors, "errors, {at}");
    // The customer list's index, kept by the same commits, against one built from the store.
    let index = engine.kept().customers(|i| i.clone()).expect("index");
    let built = CustomerIndex::build(engine.store()).expect("build");
    assert_eq!(index, built, "customer index, {at}");
}

/// Moves a few outbox messages on: delivered, dead, or (dead ones) retried.
fn deliver_some(engine: &Engine, rng: &mut ChaCha8Rng) {
    let mut messages = engine.outbox().expect("outbox");
    messages.shuffle(rng);
    for m in messages.into_iter().take(4) {
        match (m.status, rng.random_range(0..3)) {
            (MessageStatus::Dead, _) => {
                engine.requeue(m.id).expect("requeue");
            }
            (MessageStatus::Pending | MessageStatus::Retrying, 0) => {
                let mut after = m.clone();
                after.status = MessageStatus::Delivered;
                engine
                    .store()
                    .commit(&outbox::delivered_ops(&m, &after))
                    .expect("deliver");
            }
            (MessageStatus::Pending | MessageStatus::Retrying, 1) => {
                let mut after = m.clone();
                after.status = MessageStatus::Dead;
                after.last_error = Some("refused".into());
                engine
                    .store()
                    .commit(&outbox::put_ops(Some(&m), &after))
                    .expect("dead");
            }
            _ => {}
        }
    }
}

fn facts_by_day(p: &Portfolio, from: NaiveDate) -> BTreeMap<NaiveDate, Portfolio> {
    let on = |d: NaiveDate| d.max(from);
    let mut by: BTreeMap<NaiveDate, Portfolio> = BTreeMap::new();
    let first: BTreeMap<&str, NaiveDate> = p.invoices.iter().fold(BTreeMap::new(), |mut m, i| {
        let e = m.entry(i.customer.as_str()).or_insert(on(i.issued));
        *e = (*e).min(on(i.issued));
        m
    });
    for c in &p.customers {
        let day = first.get(c.id.as_str()).copied().unwrap_or(from);
        by.entry(day).or_default().customers.push(c.clone());
    }
    for i in &p.invoices {
        by.entry(on(i.issued)).or_default().invoices.push(i.clone());
    }
    for e in &p.events {
        by.entry(on(e.date)).or_default().events.push(e.clone());
    }
    by
}

/// A portfolio of `relance gen` (`customers`, `invoices`, `seed`, as of `as_of`) written under
/// `tmp` and read back.
fn generated(
    tmp: &TempDir,
    seed: u64,
    customers: usize,
    invoices: usize,
    as_of: NaiveDate,
) -> Portfolio {
    let dir = tmp.0.join("gen");
    generator::generate(
        Spec {
            customers,
            invoices,
            seed,
            as_of,
        },
        &dir,
        &mut |_| {},
    )
    .expect("generate");
    files::load_dir(&dir).expect("generated")
}

#[test]
fn kept_counters_equal_a_full_recomputation() {
    for seed in [3u64, 11] {
        let tmp = TempDir::new(&format!("aggr-{seed}"));
        let until = d("2026-05-15");
        let from = d("2026-03-20");
        let p = generated(&tmp, seed, 40, 250, until);
        let mut daemon = Daemon {
            config: Config {
                data: tmp.0.join("store"),
                spool: tmp.0.join("spool"),
                ..Config::default()
            },
            from,
            engine: None,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let facts = facts_by_day(&p, from);
        let mut restarts = 0;
        let mut day = from;
        while day <= until {
            let engine = daemon.engine();
            // Built now (once per opening), so that the day's commits keep it.
            engine.kept().customers(|_| ()).expect("index");
            engine.advance_to(day).expect("advance");
            if let Some(batch) = facts.get(&day) {
                engine.import(batch).expect("import");
            }
            deliver_some(&engine, &mut rng);
            assert_same(&engine, day, seed);
            if rng.random_bool(0.15) {
                let before = engine.kept().counters();
                drop(engine);
                daemon.restart();
                restarts += 1;
                // Read back as committed, not rebuilt (the owed entries keep their days).
                assert_eq!(
                    daemon.engine().kept().counters(),
                    before,
                    "seed {seed}, {day}"
                );
            }
            day = day.succ_opt().expect("day");
        }
        assert!(restarts > 0, "seed {seed} restarted");

        // The page's series against the reports' recomputation, where both count alike.
        let engine = daemon.engine();
        let options = PortfolioOptions {
            months: 3,
            ..PortfolioOptions::default()
        };
        let kept = portfolio::series(&engine, &options).expect("kept");
        let full = portfolio::series_from_snapshot(&engine, &options).expect("recomputed");
        assert_eq!(kept.channels, full.channels, "seed {seed}");
        assert!(
            kept.channels.iter().any(|c| c.sent > 0),
            "{:?}",
            kept.channels
        );
        assert_eq!(kept.errors, full.errors, "seed {seed}");
        for (k, f) in kept.activity.iter().zip(&full.activity) {
            assert_eq!(
                (k.collected, k.promised, k.chased),
                (f.collected, f.promised, f.chased),
                "seed {seed}, {}",
                k.from
            );
        }
        assert!(
            kept.activity
                .iter()
                .any(|a| a.collected > rust_decimal::Decimal::ZERO)
        );
        let snap = relance_daemon::snapshot::take(&engine).expect("snapshot");
        let report = aged::aged_balance(&snap.portfolio, until);
        let today = kept.aged.last().expect("today");
        assert_eq!(today.date, until);
        assert_eq!(
            today.buckets,
            report.totals.get("EUR").cloned().unwrap_or_default(),
            "seed {seed}: today's aged balance"
        );
    }
}

/// A store written without counters (or with another version's, or changed behind the
/// engine's back) gets them rebuilt on open, equal to those kept while it was written.
#[test]
fn counters_are_rebuilt_when_missing_stale_or_of_another_version() {
    let tmp = TempDir::new("aggr-migrate");
    let from = d("2026-04-01");
    let p = files::load_dir(&crate::workspace().join("examples")).expect("examples");
    let mut daemon = Daemon {
        config: Config {
            data: tmp.0.join("store"),
            spool: tmp.0.join("spool"),
            ..Config::default()
        },
        from,
        engine: None,
    };
    let engine = daemon.engine();
    engine.import(&p).expect("import");
    engine
        .advance_to(from.checked_add_days(Days::new(20)).expect("date"))
        .expect("advance");
    let kept = engine.kept().counters();
    assert!(!kept.owed.is_empty() && !kept.messages.is_empty());
    drop(engine);
    daemon.restart();

    let raw = || relance_daemon::store::SledStore::open(&tmp.0.join("store")).expect("raw");
    type Damage = fn(&dyn Store);
    let cases: [(&str, Damage); 3] = [
        ("missing", |s| {
            let ops: Vec<Op> = s
                .prefix(Tree::Meta, b"aggr/", usize::MAX)
                .expect("prefix")
                .into_iter()
                .map(|(k, _)| Op::Delete(Tree::Meta, k))
                .collect();
            assert!(ops.len() > 5);
            s.commit(&ops).expect("delete");
        }),
        ("another version", |s| {
            let header = format!("{{\"version\":{},\"sizes\":[]}}", aggregates::VERSION + 1);
            s.commit(&[Op::Put(
                Tree::Meta,
                b"aggr/header".to_vec(),
                header.into_bytes(),
            )])
            .expect("header");
            // Counters of that version mean nothing here.
            s.commit(&[Op::Put(
                Tree::Meta,
                b"aggr/e/2026-04-02".to_vec(),
                br#"{"kind":"errors","day":"2026-04-02","change":7}"#.to_vec(),
            )])
            .expect("junk");
        }),
        ("written behind its back", |s| {
            let (k, v) = s
                .range(Tree::Delivered, &[], None, 1)
                .expect("range")
                .into_iter()
                .chain(s.range(Tree::Outbox, &[], None, 1).expect("range"))
                .next()
                .expect("a message");
            let tree = if s.get(Tree::Outbox, &k).expect("get").is_some() {
                Tree::Outbox
            } else {
                Tree::Delivered
            };
            s.commit(&[Op::Delete(tree, k.clone())]).expect("delete");
            s.commit(&[Op::Put(tree, k, v)]).expect("put back");
            // Same content, but a commit the counters did not see: the sizes still match,
            // so a removal is what is detected; remove one for real.
            let (k, _) = s
                .range(Tree::History, &[], None, 1)
                .expect("range")
                .into_iter()
                .next()
                .expect("history");
            s.commit(&[Op::Delete(Tree::History, k)]).expect("delete");
        }),
    ];
    for (name, damage) in cases {
        {
            let s = raw();
            damage(&s);
            s.flush().expect("flush");
        }
        let engine = daemon.engine();
        let day = engine.today();
        let now = engine.kept().counters();
        let (full, _) = Counters::rebuild(engine.store(), day).expect("rebuild");
        assert_eq!(owed_now(&now), owed_now(&kept), "{name}: owed");
        assert_eq!(now.sales, kept.sales, "{name}: sales");
        assert_eq!(now.messages, kept.messages, "{name}: messages");
        assert_eq!(now.flows, kept.flows, "{name}: flows");
        assert_eq!(now.errors, full.errors, "{name}: errors");
        // Rebuilt: every owed entry counts from the day of the rebuild (an invoice not issued
        // yet from its issue date).
        assert!(now.owed.keys().all(|(_, _, since)| *since >= day), "{name}");
        assert!(now.owed.keys().any(|(_, _, since)| *since == day), "{name}");
        drop(engine);
        daemon.restart();
    }
}

/// An engine opened on an empty store writes no counters: the store stays empty, so a backup
/// can still be restored into it.
#[test]
fn an_empty_store_stays_empty() {
    let tmp = TempDir::new("aggr-empty");
    let store: Arc<dyn Store> =
        Arc::new(relance_daemon::store::SledStore::open(&tmp.0.join("store")).expect("store"));
    let clock = Arc::new(relance_daemon::clock::VirtualClock::new(d("2026-04-01")));
    let engine = Engine::open(store.clone(), clock).expect("engine");
    assert_eq!(engine.kept().counters(), Counters::default());
    drop(engine);
    assert!(relance_daemon::backup::is_empty(&*store).expect("read"));
}

/// Facts imported late count in the month of their own date, not the month they were logged:
/// an invoice issued in March and imported in June is owed at the March, April and May month
/// ends (due 31 March: 30 days late at the end of April, 61 at the end of May); a payment of
/// 400 dated 10 May, sent in June after the case opened, takes 400 off from 10 May (the May
/// month end), and is collected in May. key-account has no charge, so
/// the case owes the invoice's amount.
#[test]
fn facts_imported_late_count_in_their_own_month() {
    let tmp = TempDir::new("aggr-late");
    let from = d("2026-06-15");
    let mut daemon = Daemon {
        config: Config {
            data: tmp.0.join("store"),
            spool: tmp.0.join("spool"),
            ..Config::default()
        },
        from,
        engine: None,
    };
    let engine = daemon.engine();
    let p = files::from_json(
        r#"{
      "customers": [{"id": "LATE", "segment": "b2b", "scenario": "key-account"}],
      "invoices": [{"id": "F-LATE", "customer": "LATE", "amount": "1000", "currency": "EUR",
                    "issued": "2026-03-01", "due": "2026-03-31"}]
    }"#,
    )
    .expect("portfolio");
    engine.import(&p).expect("import");
    engine.advance_to(d("2026-06-16")).expect("the case opens");
    let payment: relance_core::domain::Event = serde_json::from_value(serde_json::json!(
        {"date": "2026-05-10", "type": "payment", "invoice": "F-LATE", "amount": "400"}
    ))
    .expect("payment");
    engine.apply_events(&[payment]).expect("payment");
    assert_eq!(engine.today(), d("2026-06-16"));

    let options = PortfolioOptions {
        months: 5,
        ..PortfolioOptions::default()
    };
    let s = portfolio::series(&engine, &options).expect("series");
    let dec = |s: &str| s.parse::<rust_decimal::Decimal>().expect("amount");
    // (month end, owed in all, not due, 1–30 days late, 31–60, 61–90; collected that month)
    let rows = [
        ("2026-02-28", "0", "0", "0", "0", "0", "0"),
        ("2026-03-31", "1000", "1000", "0", "0", "0", "0"),
        ("2026-04-30", "1000", "0", "1000", "0", "0", "0"),
        ("2026-05-31", "600", "0", "0", "0", "600", "400"),
        ("2026-06-16", "600", "0", "0", "0", "600", "0"),
    ];
    assert_eq!(s.aged.len(), rows.len());
    for ((end, total, not_due, d30, d60, d90, collected), (aged, activity)) in
        rows.iter().zip(s.aged.iter().zip(&s.activity))
    {
        assert_eq!(aged.date, d(end));
        let b = &aged.buckets;
        assert_eq!(
            (b.total, b.not_due, b.days_1_30, b.days_31_60, b.days_61_90),
            (dec(total), dec(not_due), dec(d30), dec(d60), dec(d90)),
            "{end}"
        );
        assert_eq!(activity.until, d(end));
        assert_eq!(activity.collected, dec(collected), "{end}");
    }
    // The kept counters still agree with a full recomputation on what is owed today.
    assert_same(&engine, engine.today(), 0);
}

/// Every commit made through it is made again, less the counters' own `aggr/` entries, on a
/// twin store through a [`Kept`] of its own, which reads back the old value of every entry
/// (plain [`Store::commit`]); the counters' entries both commits wrote are compared.
struct Twin {
    inner: SledStore,
    twin: Kept,
    capture: Arc<Capture>,
    /// Commits compared, and those whose counters differed (with the ops' trees).
    compared: Mutex<(usize, Vec<String>)>,
}

/// A sled store that keeps the ops of its last commit.
struct Capture {
    inner: SledStore,
    last: Mutex<Vec<Op>>,
}

fn counters_ops(ops: &[Op]) -> (Vec<Op>, Vec<Op>) {
    ops.iter().cloned().partition(|op| {
        matches!(op, Op::Put(Tree::Meta, k, _) | Op::Delete(Tree::Meta, k) if k.starts_with(b"aggr/"))
    })
}

impl Store for Capture {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }
    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = ops.to_vec();
        self.inner.commit(ops)
    }
    fn generation(&self) -> u64 {
        self.inner.generation()
    }
    relance_daemon::forward_store_reads!();
}

impl Store for Twin {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }
    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        self.inner.commit(ops)?;
        let (ours, data) = counters_ops(ops);
        if data.is_empty() {
            return Ok(());
        }
        self.twin.commit(&data)?;
        let (theirs, _) = counters_ops(&self.capture.last.lock().expect("last"));
        let mut compared = self.compared.lock().expect("compared");
        compared.0 += 1;
        if ours != theirs {
            let trees: BTreeSet<String> = data
                .iter()
                .map(|op| match op {
                    Op::Put(t, ..) | Op::Delete(t, _) => format!("{t:?}"),
                })
                .collect();
            let n = compared.0;
            compared.1.push(format!(
                "commit {n} over {trees:?}: kept {ours:?}, read back {theirs:?}"
            ));
        }
        Ok(())
    }
    fn generation(&self) -> u64 {
        self.inner.generation()
    }
    relance_daemon::forward_store_reads!();
}

/// The differential test of the units' old records (`aggregates::Olds`): a generated portfolio
/// fed day by day in random batches through an engine whose units hand the counters the
/// invoices, cases and message headers they read, and messages moved on at random; every
/// commit is made again on a twin store whose counters read back every old value. Each commit
/// writes the same counters on both, and after every day the counters (and the customer
/// list's index) equal those rebuilt from the store.
#[test]
fn counters_from_the_units_records_equal_counters_read_back() {
    for seed in [5u64, 23] {
        let tmp = TempDir::new(&format!("aggr-olds-{seed}"));
        let from = d("2026-03-25");
        let until = d("2026-05-05");
        let p = generated(&tmp, seed, 30, 180, until);
        let clock = Arc::new(VirtualClock::new(from));
        let capture = Arc::new(Capture {
            inner: SledStore::open(&tmp.0.join("twin")).expect("twin"),
            last: Mutex::new(Vec::new()),
        });
        let twin = Arc::new(Twin {
            inner: SledStore::open(&tmp.0.join("store")).expect("store"),
            twin: Kept::open(capture.clone(), clock.clone()).expect("twin's counters"),
            capture,
            compared: Mutex::new((0, Vec::new())),
        });
        let open = || {
            let engine = Engine::open(twin.clone(), clock.clone()).expect("engine");
            engine.kept().customers(|_| ()).expect("index");
            engine
        };
        let mut engine = open();
        twin.twin.customers(|_| ()).expect("twin's index");
        engine
            .deploy(Bundle::read_dir(&crate::workspace().join("stdlib-scenarios")).expect("bundle"))
            .expect("deploy");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let facts = facts_by_day(&p, from);
        let mut day = from;
        while day <= until {
            engine.advance_to(day).expect("advance");
            if let Some(batch) = facts.get(&day) {
                engine.import(batch).expect("import");
            }
            deliver_some(&engine, &mut rng);
            assert_same(&engine, day, seed);
            let (compared, differ) = &*twin.compared.lock().expect("compared");
            assert!(differ.is_empty(), "seed {seed}, {day}: {differ:#?}");
            assert!(*compared > 0);
            assert_eq!(
                engine.kept().counters(),
                twin.twin.counters(),
                "seed {seed}, {day}"
            );
            assert_eq!(
                engine.kept().customers(|i| i.clone()).expect("index"),
                twin.twin.customers(|i| i.clone()).expect("twin's index"),
                "seed {seed}, {day}"
            );
            if rng.random_bool(0.1) {
                engine.flush().expect("flush");
                drop(engine);
                engine = open();
            }
            day = day.succ_opt().expect("day");
        }
        assert!(
            engine.store().count(Tree::Instances) > 100,
            "seed {seed}: cases opened"
        );
        assert!(engine.store().count(Tree::MessageItems) > 0, "seed {seed}");
    }
}

/// What a store was asked, in order: reads of one entry, the generation, commits.
#[derive(Debug)]
enum Asked {
    Get(Tree, Vec<u8>),
    Generation,
    Commit(Vec<Op>),
}

/// A sled store that logs every read of an entry, every question about its generation and
/// every commit.
struct Reads {
    inner: SledStore,
    log: Mutex<Vec<Asked>>,
}

impl Reads {
    fn log(&self, a: Asked) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).push(a);
    }
}

impl Store for Reads {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.log(Asked::Get(tree, key.to_vec()));
        self.inner.get(tree, key)
    }
    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        self.log(Asked::Commit(ops.to_vec()));
        self.inner.commit(ops)
    }
    fn generation(&self) -> u64 {
        self.log(Asked::Generation);
        self.inner.generation()
    }
    relance_daemon::forward_store_reads!();
}

/// The commits of the daily runs (the load day's, which opens the cases, then a month of
/// them: charges, reminders grouped into messages, facts applied) read back none of the
/// entries they write: the unit of work hands the counters the cases, invoices and message
/// headers it read, and the keys under fresh ids (history, new messages and their items) are
/// known to be new. A commit's own reads are those after its last question about the store's
/// generation (the counters' commit asks it first, to notice a reopened store): of data they
/// hold none; only the counters' markers (an invoice chased once a month) are read.
#[test]
fn a_daily_run_unit_reads_back_none_of_the_entries_it_writes() {
    let tmp = TempDir::new("aggr-reads");
    let from = d("2026-04-01");
    let p = generated(&tmp, 7, 25, 150, from);
    let reads = Arc::new(Reads {
        inner: SledStore::open(&tmp.0.join("store")).expect("store"),
        log: Mutex::new(Vec::new()),
    });
    let engine = Engine::open(reads.clone(), Arc::new(VirtualClock::new(from))).expect("engine");
    engine
        .deploy(Bundle::read_dir(&crate::workspace().join("stdlib-scenarios")).expect("bundle"))
        .expect("deploy");
    engine.import(&p).expect("import");
    reads.log.lock().expect("log").clear();
    engine
        .advance_to(from.checked_add_days(Days::new(30)).expect("date"))
        .expect("the daily runs");

    let log = std::mem::take(&mut *reads.log.lock().expect("log"));
    let counted = aggregates::COUNTED;
    let mut written: BTreeMap<String, usize> = BTreeMap::new();
    let mut units = 0;
    let mut markers_read = 0;
    let mut since_generation: Vec<(Tree, Vec<u8>)> = Vec::new();
    for asked in log {
        match asked {
            Asked::Generation => since_generation.clear(),
            Asked::Get(t, k) => since_generation.push((t, k)),
            Asked::Commit(ops) => {
                let keys: BTreeSet<(String, Vec<u8>)> = ops
                    .iter()
                    .map(|op| match op {
                        Op::Put(t, k, _) | Op::Delete(t, k) => (format!("{t:?}"), k.clone()),
                    })
                    .collect();
                let data: Vec<&(String, Vec<u8>)> = keys
                    .iter()
                    .filter(|(t, _)| counted.iter().any(|c| format!("{c:?}") == *t))
                    .collect();
                if !data.is_empty() {
                    units += 1;
                    for (t, _) in &data {
                        *written.entry(t.clone()).or_default() += 1;
                    }
                    for (t, k) in since_generation.drain(..) {
                        let of_counters = t == Tree::Meta && k.starts_with(b"aggr/x/");
                        assert!(
                            of_counters,
                            "unit {units}: its commit read {t:?} {} back",
                            String::from_utf8_lossy(&k)
                        );
                        markers_read += 1;
                    }
                }
                since_generation.clear();
            }
        }
    }
    // The runs wrote cases, history and messages (new, and joined: a header read back).
    for t in ["Instances", "History", "Outbox", "MessageItems"] {
        assert!(written.get(t).copied().unwrap_or(0) > 0, "{t}: {written:?}");
    }
    assert!(units > 10, "{units} units");
    println!("{units} units wrote {written:?}; their commits read {markers_read} markers");
}
