//! The daemon's performance benchmark (issue 4): a seeded synthetic portfolio (the generator
//! of `relance gen`, the stdlib scenarios) loaded into a real on-disk sled store, then, in the
//! same run:
//!
//! - the daily run (`Engine::advance_to`, the daemon's own path) over the due timers of the
//!   first days after the load, up to the day where about 5 % of the invoices are due;
//! - a raw sled write of the very records that run committed (same count, same key and value
//!   sizes, one atomic batch per commit, the same flushes) into a fresh tree: the baseline;
//! - durable HTTP event writes: the real axum router on 127.0.0.1:0, K concurrent reqwest
//!   clients posting payments and promises, each acknowledged once durable;
//! - peak memory (`VmHWM`).
//!
//! One JSON object per measurement on stdout, progress on stderr. It only uses loopback and a
//! temporary folder (under the target dir, or under `--data`) that it removes. It must not
//! shortcut the daemon's code paths it measures.
//!
//! `--store postgres://…/DB` runs the same measurements on PostgreSQL (`relance-pg`, as
//! `relance serve` opens it: leader lock included): a fresh database `relance_bench_<pid>` is
//! created on that server (the URL's user must be allowed to) and dropped at the end; there is
//! no raw baseline then (`raw_seconds` null). `--standby RELANCE` also starts `RELANCE serve`
//! on that database once this process holds the leader lock: a second daemon, waiting as a
//! standby (it serves nothing while this one lives), stopped at the end.
//!
//! ```text
//! cargo run --release -p relance-daemon --example bench_daemon -- \
//!     [--invoices N] [--customers C] [--http-writes M] [--concurrency K] [--data DIR] \
//!     [--skip-http] [--skip-daily] [--store postgres://…] [--standby path/to/relance]
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use serde_json::json;

use relance_core::domain::{Event, Portfolio};
use relance_daemon::Engine;
use relance_daemon::api::{self, AppState, auth};
use relance_daemon::catalog::Bundle;
use relance_daemon::clock::VirtualClock;
use relance_daemon::config::{Role, Token};
use relance_daemon::keys;
use relance_daemon::store::{Entry, Op, SledStore, Snapshot, Store, StoreError, Tree, Visit};
use relance_data::generator::{Spec, generate};
use relance_data::portfolio;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN: &str = "bench-integration-token-0001";
const LOAD_CHUNK: usize = 5_000;

type Failure = Box<dyn std::error::Error + Send + Sync>;

// ----- arguments -----------------------------------------------------------------------------

struct Args {
    invoices: usize,
    customers: usize,
    http_writes: usize,
    concurrency: usize,
    data: Option<PathBuf>,
    skip_http: bool,
    skip_daily: bool,
    store: Option<String>,
    standby: Option<PathBuf>,
}

fn args() -> Result<Args, Failure> {
    let mut a = Args {
        invoices: 1_000_000,
        customers: 100_000,
        http_writes: 20_000,
        concurrency: 32,
        data: None,
        skip_http: false,
        skip_daily: false,
        store: None,
        standby: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--invoices" => a.invoices = value()?.parse()?,
            "--customers" => a.customers = value()?.parse()?,
            "--http-writes" => a.http_writes = value()?.parse()?,
            "--concurrency" => a.concurrency = value()?.parse()?,
            "--data" => a.data = Some(PathBuf::from(value()?)),
            "--skip-http" => a.skip_http = true,
            "--skip-daily" => a.skip_daily = true,
            "--store" => a.store = Some(value()?),
            "--standby" => a.standby = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if a.standby.is_some() && a.store.is_none() {
        return Err("--standby needs --store postgres://…".into());
    }
    if a.customers == 0 || a.invoices == 0 || a.concurrency == 0 {
        return Err("--invoices, --customers and --concurrency must be at least 1".into());
    }
    Ok(a)
}

// ----- the temporary folder ------------------------------------------------------------------

/// A folder of this run, removed on drop.
struct Workdir(PathBuf);

impl Workdir {
    fn new(parent: Option<&Path>) -> Result<Workdir, Failure> {
        let parent = match parent {
            Some(p) => p.to_path_buf(),
            // target/<profile>/examples/bench_daemon → target/<profile>/
            None => std::env::current_exe()?
                .parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_else(std::env::temp_dir),
        };
        let dir = parent.join(format!("bench-daemon-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(Workdir(dir))
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ----- a store that records what is committed ------------------------------------------------

/// One recorded store call: a commit (each op's tree, key and value sizes) or a flush.
enum Rec {
    Commit(Vec<(usize, usize, bool)>),
    Flush,
}

/// The store (sled or PostgreSQL), recording the size of every commit and every flush while `on`.
struct Recorder {
    inner: Arc<dyn Store>,
    on: AtomicBool,
    log: Mutex<Vec<Rec>>,
}

impl Recorder {
    fn record(&self, rec: Rec) {
        if self.on.load(Ordering::Relaxed) {
            self.log.lock().unwrap_or_else(|e| e.into_inner()).push(rec);
        }
    }

    fn take(&self) -> Vec<Rec> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Store for Recorder {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }

    fn get_many(&self, tree: Tree, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.inner.get_many(tree, keys)
    }

    fn range(
        &self,
        tree: Tree,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.inner.range(tree, from, to, limit)
    }

    fn scan(&self, tree: Tree, f: Visit<'_>) -> Result<(), StoreError> {
        self.inner.scan(tree, f)
    }

    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>, StoreError> {
        self.inner.snapshot()
    }

    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        self.inner.commit(ops)?;
        self.record(Rec::Commit(
            ops.iter()
                .map(|op| match op {
                    Op::Put(_, k, v) => (k.len(), v.len(), false),
                    Op::Delete(_, k) => (k.len(), 0, true),
                })
                .collect(),
        ));
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()?;
        self.record(Rec::Flush);
        Ok(())
    }

    fn next_id(&self) -> Result<u64, StoreError> {
        self.inner.next_id()
    }

    fn count(&self, tree: Tree) -> usize {
        self.inner.count(tree)
    }
}

// ----- measurements --------------------------------------------------------------------------

/// Peak resident memory of this process so far, in MB (`VmHWM`).
fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn emit(value: serde_json::Value) {
    println!("{value}");
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap_or_default()
}

/// The generated portfolio (CSV files of `relance gen`, read back as `relance plan` does).
fn portfolio(a: &Args, dir: &Path, as_of: NaiveDate) -> Result<Portfolio, Failure> {
    let gen_dir = dir.join("gen");
    let spec = Spec {
        customers: a.customers,
        invoices: a.invoices,
        seed: 1,
        as_of,
    };
    let written = generate(spec, &gen_dir, &mut |_| {})?;
    eprintln!(
        "generated {} customers, {} invoices, {} payments, {} events",
        written.customers, written.invoices, written.payments, written.events
    );
    let p = portfolio::load_dir(&gen_dir)?;
    std::fs::remove_dir_all(&gen_dir)?;
    Ok(p)
}

/// Loads the portfolio through the engine's import (customers, then invoices with their
/// events in chunks), opening every issued invoice's case on the load day. Flushed.
fn load(engine: &Engine, p: Portfolio) -> Result<(), Failure> {
    let started = Instant::now();
    for chunk in p.customers.chunks(10_000) {
        engine.put_customers(chunk)?;
    }
    let mut events: HashMap<String, Vec<Event>> = HashMap::new();
    for ev in p.events {
        let key = ev.kind.invoice().unwrap_or_default().to_string();
        events.entry(key).or_default().push(ev);
    }
    let total = p.invoices.len();
    for (n, chunk) in p.invoices.chunks(LOAD_CHUNK).enumerate() {
        let part = Portfolio {
            events: chunk
                .iter()
                .flat_map(|i| events.remove(&i.id).unwrap_or_default())
                .collect(),
            invoices: chunk.to_vec(),
            ..Portfolio::default()
        };
        engine.import(&part)?;
        let done = (n + 1) * LOAD_CHUNK;
        if done % 100_000 < LOAD_CHUNK || done >= total {
            eprintln!(
                "  loaded {} invoices ({:.0} s)",
                done.min(total),
                started.elapsed().as_secs_f64()
            );
        }
    }
    engine.flush()?;
    Ok(())
}

/// The first day after `after` by which about 5 % of the invoices have a timer due, and how
/// many timers are due by then.
fn bench_day(
    store: &dyn Store,
    after: NaiveDate,
    invoices: usize,
) -> Result<(NaiveDate, u64), Failure> {
    let mut by_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    store.scan(Tree::Timers, &mut |k, _| {
        if let Some((d, _)) = keys::parse_timer(k) {
            *by_day.entry(d).or_default() += 1;
        }
        Ok(())
    })?;
    let want = (invoices as u64).div_ceil(20);
    let mut due = 0;
    let mut last = after;
    for (d, n) in by_day.range(after.succ_opt().unwrap_or(after)..) {
        due += n;
        last = *d;
        if due >= want {
            break;
        }
    }
    Ok((last, due))
}

/// Replays the recorded commits as raw sled batches into a fresh tree, flushing where the
/// daily run flushed. Returns the seconds it took.
fn raw_write(store: &SledStore, log: &[Rec]) -> Result<f64, Failure> {
    let db = store.db()?;
    let tree = db.open_tree("bench_raw")?;
    let started = Instant::now();
    let mut n: u64 = 0;
    for rec in log {
        match rec {
            Rec::Commit(ops) => {
                let mut batch = sled::Batch::default();
                for (klen, vlen, delete) in ops {
                    n += 1;
                    let mut key = n.to_be_bytes().to_vec();
                    key.resize((*klen).max(8), b'k');
                    if *delete {
                        batch.remove(key);
                    } else {
                        batch.insert(key, vec![b'v'; *vlen]);
                    }
                }
                tree.apply_batch(batch)?;
            }
            Rec::Flush => {
                db.flush()?;
            }
        }
    }
    db.flush()?;
    let seconds = started.elapsed().as_secs_f64();
    db.drop_tree("bench_raw")?;
    Ok(seconds)
}

struct Opened {
    engine: Arc<Engine>,
    recorder: Arc<Recorder>,
    /// The store measured (sled or PostgreSQL).
    store: Arc<dyn Store>,
    /// The sled store, when it is the one measured (the raw baseline and the size on disk).
    sled: Option<Arc<SledStore>>,
}

fn open(dir: &Path, today: NaiveDate, pg: Option<&PgDb>) -> Result<Opened, Failure> {
    let (store, sled): (Arc<dyn Store>, Option<Arc<SledStore>>) = match pg {
        Some(db) => (relance_pg::open_store(&db.url)?, None),
        None => {
            let s = Arc::new(SledStore::open(&dir.join("data"))?);
            (s.clone() as Arc<dyn Store>, Some(s))
        }
    };
    let recorder = Arc::new(Recorder {
        inner: store.clone(),
        on: AtomicBool::new(false),
        log: Mutex::new(Vec::new()),
    });
    let engine = Arc::new(Engine::open(
        recorder.clone(),
        Arc::new(VirtualClock::new(today)),
    )?);
    // `RELANCE_BENCH_SCENARIOS` measures another set (the stdlib without its cadence …).
    let scenarios = std::env::var_os("RELANCE_BENCH_SCENARIOS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios"),
        PathBuf::from,
    );
    engine.deploy(Bundle::read_dir(&scenarios)?)?;
    Ok(Opened {
        engine,
        recorder,
        store,
        sled,
    })
}

/// The daily run over the bench day's timers, then its raw baseline.
fn daily(o: &Opened, invoices: usize, as_of: NaiveDate) -> Result<(), Failure> {
    // The load day was run by `run` (every case opened, each waiting for tomorrow).
    let (target, timers) = bench_day(&*o.store, as_of, invoices)?;
    eprintln!("daily run: {timers} timers due from {as_of} (exclusive) to {target}");
    o.recorder.take();
    o.recorder.on.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let reports = o.engine.advance_to(target)?;
    let seconds = started.elapsed().as_secs_f64();
    o.recorder.on.store(false, Ordering::Relaxed);
    let log = o.recorder.take();
    let processed: u64 = reports.iter().map(|r| r.timers).sum();
    let actions: u64 = reports.iter().map(|r| r.actions).sum();
    let commits = log.iter().filter(|r| matches!(r, Rec::Commit(_))).count();
    let flushes = log.len() - commits;
    let (records, bytes) = log.iter().fold((0usize, 0usize), |(n, b), r| match r {
        Rec::Commit(ops) => (
            n + ops.len(),
            b + ops.iter().map(|o| o.0 + o.1).sum::<usize>(),
        ),
        Rec::Flush => (n, b),
    });
    eprintln!("  {seconds:.2} s; raw write of {records} records ({bytes} bytes) …");
    let raw_seconds = match &o.sled {
        Some(sled) => Some(raw_write(sled, &log)?),
        None => None,
    };
    emit(json!({
        "bench": "daemon_daily",
        "invoices": invoices,
        "days": reports.len(),
        "bench_day": target,
        "timers": processed,
        "timers_expected": timers,
        "actions": actions,
        "commits": commits,
        "flushes": flushes,
        "records": records,
        "bytes": bytes,
        "seconds": round(seconds),
        "timers_per_second": round(processed as f64 / seconds),
        "store": if o.sled.is_some() { "sled" } else { "postgres" },
        "raw_seconds": raw_seconds.map(round),
        "ratio": raw_seconds.map(|raw| round(seconds / raw)),
        "peak_rss_mb": peak_rss_mb(),
    }));
    Ok(())
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

// ----- HTTP ----------------------------------------------------------------------------------

/// Invoices with an open case waiting on a timer (a payment or a promise is valid on them).
fn targets(store: &dyn Store, want: usize) -> Result<Vec<String>, Failure> {
    Ok(store
        .range(Tree::Timers, &[], None, want)?
        .iter()
        .filter_map(|(k, _)| keys::parse_timer(k).map(|(_, id)| id))
        .collect())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The body and path of write number `n`: payments and promises, alternating.
fn request(n: usize, invoice: &str, today: NaiveDate) -> (String, serde_json::Value) {
    if n.is_multiple_of(2) {
        (
            format!("/v1/invoices/{invoice}/payments"),
            json!({"amount": "1.00", "reference": format!("BENCH-{n}")}),
        )
    } else {
        let promised = today.checked_add_days(Days::new(14)).unwrap_or(today);
        (
            format!("/v1/invoices/{invoice}/promises"),
            json!({"promised_date": promised, "amount": "10.00"}),
        )
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    targets: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    total: usize,
    today: NaiveDate,
}

impl Client {
    /// Posts writes until `total` are taken; returns each latency (ms) and the failures.
    async fn run(self) -> (Vec<f64>, Vec<String>) {
        let mut lat = Vec::new();
        let mut errors = Vec::new();
        loop {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            if n >= self.total {
                return (lat, errors);
            }
            let invoice = &self.targets[(n * 7919) % self.targets.len()];
            let (path, body) = request(n, invoice, self.today);
            let started = Instant::now();
            let sent = self
                .http
                .post(format!("{}{path}", self.base))
                .bearer_auth(TOKEN)
                .header(
                    "Idempotency-Key",
                    format!("bench-{}-{n}", std::process::id()),
                )
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    let _ = r.bytes().await;
                    lat.push(started.elapsed().as_secs_f64() * 1000.0);
                }
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    errors.push(format!("{path}: {status} {text}"));
                }
                Err(e) => errors.push(format!("{path}: {e}")),
            }
        }
    }
}

async fn serve(engine: Arc<Engine>) -> Result<String, Failure> {
    let state = Arc::new(AppState {
        engine,
        tokens: auth::tokens(&[Token {
            name: "bench".into(),
            token: TOKEN.into(),
            role: Role::Integration,
        }]),
        wake: Arc::new(tokio::sync::Notify::new()),
        heartbeat: None,
        send_timeout: relance_daemon::config::Http::default().send_timeout(),
    });
    let app = api::router(state, true);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(base)
}

async fn http(o: &Opened, a: &Args) -> Result<(), Failure> {
    let targets = Arc::new(targets(&*o.store, a.http_writes.clamp(1, 50_000))?);
    if targets.is_empty() {
        return Err("no open invoice to write events on".into());
    }
    let base = serve(o.engine.clone()).await?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(a.concurrency)
        .build()?;
    eprintln!(
        "http: {} durable writes, {} clients, on {base}",
        a.http_writes, a.concurrency
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..a.concurrency)
        .map(|_| {
            tokio::spawn(
                Client {
                    http: http.clone(),
                    base: base.clone(),
                    targets: targets.clone(),
                    next: next.clone(),
                    total: a.http_writes,
                    today: o.engine.today(),
                }
                .run(),
            )
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = Vec::new();
    for t in tasks {
        let (l, e) = t.await?;
        lat.extend(l);
        errors.extend(e);
    }
    let seconds = started.elapsed().as_secs_f64();
    for e in errors.iter().take(5) {
        eprintln!("  failed: {e}");
    }
    lat.sort_by(f64::total_cmp);
    emit(json!({
        "bench": "http_writes",
        "writes": lat.len(),
        "errors": errors.len(),
        "concurrency": a.concurrency,
        "seconds": round(seconds),
        "per_second": round(lat.len() as f64 / seconds),
        "p50_ms": round(percentile(&lat, 0.50)),
        "p95_ms": round(percentile(&lat, 0.95)),
        "p99_ms": round(percentile(&lat, 0.99)),
        "max_ms": round(lat.last().copied().unwrap_or(0.0)),
        "peak_rss_mb": peak_rss_mb(),
    }));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{} writes failed", errors.len()).into())
    }
}

// ----- main ----------------------------------------------------------------------------------

fn run(a: &Args, dir: &Path) -> Result<(), Failure> {
    let as_of = day("2026-03-31");
    let p = portfolio(a, dir, as_of)?;
    let pg = a.store.as_deref().map(PgDb::create).transpose()?;
    let o = open(dir, as_of, pg.as_ref())?;
    let standby = match (&a.standby, &pg) {
        (Some(relance), Some(db)) => Some(Standby::start(relance, dir, db)?),
        _ => None,
    };
    let started = Instant::now();
    load(&o.engine, p)?;
    let import_seconds = started.elapsed().as_secs_f64();
    // Imports open no case: the load day's run opens them all, applying the facts that
    // waited in `pending` (the daemon's path). It is part of the load.
    let opened = Instant::now();
    o.engine.run_day(as_of)?;
    o.engine.flush()?;
    let open_seconds = opened.elapsed().as_secs_f64();
    emit(json!({
        "bench": "daemon_load",
        "invoices": a.invoices,
        "customers": a.customers,
        "import_seconds": round(import_seconds),
        "load_day_run_seconds": round(open_seconds),
        "seconds": round(import_seconds + open_seconds),
        "store": if o.sled.is_some() { "sled" } else { "postgres" },
        "daemons": if standby.is_some() { 2 } else { 1 },
        "events": o.store.count(Tree::Events),
        "cases": o.store.count(Tree::Instances),
        "timers": o.store.count(Tree::Timers),
        "outbox": o.store.count(Tree::Outbox),
        "size_on_disk_mb": match (&o.sled, &pg) {
            (Some(s), _) => Some(s.size_on_disk() / (1024 * 1024)),
            (None, Some(db)) => db.size_mb().ok(),
            _ => None,
        },
        "peak_rss_mb": peak_rss_mb(),
    }));
    if !a.skip_daily {
        daily(&o, a.invoices, as_of)?;
    }
    if !a.skip_http {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(http(&o, a))?;
        rt.shutdown_timeout(Duration::from_secs(5));
    }
    o.engine.flush()?;
    if let Some(standby) = standby {
        // Still waiting: it never served while this process held the lock.
        emit(json!({"bench": "standby", "waiting_all_along": standby.stop()?}));
    }
    drop(o);
    emit(json!({"bench": "peak_memory", "invoices": a.invoices, "peak_rss_mb": peak_rss_mb()}));
    Ok(())
}

// ----- PostgreSQL ------------------------------------------------------------------------------

/// A fresh database on the server of `--store`, dropped on drop.
struct PgDb {
    admin: String,
    name: String,
    url: String,
}

impl PgDb {
    fn create(admin: &str) -> Result<PgDb, Failure> {
        let name = format!("relance_bench_{}", std::process::id());
        let mut c = postgres::Client::connect(admin, postgres::NoTls)?;
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        c.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let cut = admin.find('?').unwrap_or(admin.len());
        let base = &admin[..cut];
        let slash = base
            .rfind('/')
            .filter(|i| *i > base.find("://").map_or(0, |s| s + 2))
            .ok_or("--store needs a database in the URL: postgres://user@host:port/postgres")?;
        let url = format!("{}/{name}{}", &base[..slash], &admin[cut..]);
        eprintln!("postgres: database {name} created");
        Ok(PgDb {
            admin: admin.to_string(),
            name,
            url,
        })
    }

    /// `pg_database_size`, in MB.
    fn size_mb(&self) -> Result<u64, Failure> {
        let mut c = postgres::Client::connect(&self.admin, postgres::NoTls)?;
        let row = c.query_one(
            "SELECT pg_database_size(datname) FROM pg_database WHERE datname = $1",
            &[&self.name],
        )?;
        Ok(row.get::<_, i64>(0) as u64 / (1024 * 1024))
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A second `relance serve` on the database, started once this process holds the leader lock.
struct Standby {
    child: std::process::Child,
    log: PathBuf,
}

impl Standby {
    fn start(relance: &Path, dir: &Path, db: &PgDb) -> Result<Standby, Failure> {
        let config = dir.join("standby.toml");
        let spool = dir.join("standby-spool");
        std::fs::write(
            &config,
            format!(
                "store = \"{}\"\nspool = \"{}\"\nlisten = \"127.0.0.1:0\"\n[[tokens]]\nname = \"bench\"\ntoken = \"{TOKEN}\"\nrole = \"admin\"\n",
                db.url,
                spool.display()
            ),
        )?;
        let log = dir.join("standby.log");
        let file = std::fs::File::create(&log)?;
        let child = std::process::Command::new(relance)
            .args(["serve", "--config"])
            .arg(&config)
            .env("RELANCE_LOG", "info")
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()?;
        let standby = Standby { child, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !standby.waiting() {
            if Instant::now() > deadline {
                return Err("the second relance serve did not report waiting as a standby".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("standby: a second relance serve waits on the database");
        Ok(standby)
    }

    fn waiting(&self) -> bool {
        std::fs::read_to_string(&self.log).is_ok_and(|l| l.contains("standby:"))
    }

    /// Stops it (SIGKILL: it holds nothing); whether it was still only waiting.
    fn stop(mut self) -> Result<bool, Failure> {
        let served = std::fs::read_to_string(&self.log)
            .is_ok_and(|l| l.contains("taking over") || l.contains("listening"));
        let alive = self.child.try_wait()?.is_none();
        self.child.kill()?;
        self.child.wait()?;
        Ok(alive && !served)
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() -> std::process::ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = Workdir::new(a.data.as_deref()).and_then(|dir| {
        eprintln!("bench_daemon: working in {}", dir.0.display());
        run(&a, &dir.0)
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
