//! `PgStore`: the daemon's key-value [`Store`] on PostgreSQL. One table per tree
//! (`tree_<name>`: `key bytea primary key, value bytea not null`; `bytea` compares as memcmp,
//! the order sled gives), the id sequence `relance_ids`, and refinery's schema history. The
//! SQL schema is the migrations of `engine/pg/migrations/`, applied on open under a
//! PostgreSQL advisory lock (two daemons starting at once migrate once); a database migrated
//! by a newer build, or whose `meta` tree holds a newer daemon schema, is refused with
//! [`StoreError::NewerSchema`], as sled refuses it.
//!
//! Connections: the sync `postgres` client runs its own tokio runtime and panics when called
//! from inside another one (the daemon calls the store from its runtime), so the connections
//! live on a small pool of dedicated threads; a call sends a job over a channel and waits for
//! the answer. A connection that broke is opened again by the next job.
//!
//! Durability, as on sled: a [`Store::commit`] is one SQL transaction (all ops or none, crash
//! of either side included), committed with `synchronous_commit` off: visible at once, durable
//! a moment later. [`Store::flush`] makes every commit so far durable: one small transaction
//! committed at the server's own durable level (`on`, or the `remote_*`/`local` it is set to;
//! `on` if the server says `off`), whose WAL flush covers every commit before it. Concurrent
//! callers share one flush ([`GroupFlush`]) instead of waiting for a WAL flush each.
//! A write is acknowledged only after [`Store::flush_since`] the generation read before its
//! first commit: every connection of the pool is opened with the store, and every later
//! opening (a new session after a break: a server crash may have lost commits not flushed)
//! moves the store's [`Store::generation`], so a write whose commits straddle one is never
//! acknowledged, and the engine drops what it keeps in memory. A plain flush also fails when
//! the oldest commit it finds waiting was made before such an opening.
//! Counts: kept in memory, read with `count(*)` per table on open and moved by this process's
//! commits: exact while one daemon writes the database, stale (until the next open) when
//! another process writes it too. `scan` reads pages of keyset-paged ranges, not one
//! snapshot: a scan racing with commits may see some of them (as sled's may). A
//! [`Store::snapshot`] (backups) is one `REPEATABLE READ` transaction on its own connection
//! ([`PgSnapshot`]): a point-in-time view that never blocks the pool's commits.
//!
//! This crate must not know relance's records: it stores bytes under keys, nothing more.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use postgres::{Client, NoTls, Statement};
use relance_daemon::store::{
    Entry, GroupFlush, Op, SCHEMA_KEY, Snapshot, Store, StoreError, Tree, Visit, VisitAll,
};

mod batch;
use batch::Plan;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// The advisory lock key taken while migrating ("relance" + 1 in ASCII, any fixed number).
const MIGRATE_LOCK: i64 = 0x72656c616e636501;

/// Threads (and connections) of the pool.
const POOL: usize = 4;

/// Prepared statements kept per connection (see [`Conn::statement`]).
const MAX_STATEMENTS: usize = 256;

/// Entries read per page by `scan`.
const SCAN_PAGE: i64 = 1000;

/// Opens the database at `url` as the daemon's store, once this process is its only daemon:
/// waits (a standby) while another process holds the leader lock (what the CLI registers
/// with `relance_daemon::server::register_url_store` for `relance serve`).
pub fn open_store(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    // The lock first: a standby reads the counts once it takes over, not before.
    let leader = lead(url, Leadership::Wait)?;
    let mut store = PgStore::open(url)?;
    store.leader = Some(leader);
    Ok(Arc::new(store))
}

/// Opens the database at `url` for a command that needs it alone (`relance store copy`):
/// refused while a daemon holds the leader lock.
pub fn open_exclusive(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let leader = lead(url, Leadership::Try)?;
    let mut store = PgStore::open(url)?;
    store.leader = Some(leader);
    Ok(Arc::new(store))
}

/// Whether the database at `url` holds a relance store (its `tree_meta` table exists), without
/// creating anything: what a command that only reads (`relance store verify`, `relance backup
/// --data`) checks before [`open_exclusive`], which would migrate an empty database.
pub fn holds_store(url: &str) -> Result<bool, StoreError> {
    let label = redact(url);
    let open = move |message: String| StoreError::Open {
        path: label.clone(),
        message,
    };
    let config = postgres::Config::from_str(url).map_err(|e| open(e.to_string()))?;
    // The sync client runs its own runtime: on a thread of its own, as the pool does.
    std::thread::spawn(move || -> Result<bool, StoreError> {
        let mut client = config.connect(NoTls).map_err(|e| open(pg(e).to_string()))?;
        let row = client
            .query_one("SELECT to_regclass('tree_meta') IS NOT NULL", &[])
            .map_err(|e| open(pg(e).to_string()))?;
        Ok(row.get::<_, bool>(0))
    })
    .join()
    .map_err(|_| StoreError::Engine("the connection thread died".into()))?
}

/// The advisory lock key the one daemon of a database holds on its own session.
const LEADER_LOCK: i64 = 0x72656c616e636502;

/// How often the leader checks that its session (and so its lock) is still there.
const LEADER_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// How [`PgStore::lead`] takes the leader lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leadership {
    /// Wait until the lock is free (a standby daemon).
    Wait,
    /// Fail at once when another process holds it.
    Try,
}

/// The session holding the leader lock, checked by its own thread.
struct Leader {
    stop: mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Leader {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether `s` names a PostgreSQL database (`postgres://` or `postgresql://`), rather than a
/// sled folder.
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The URL with its password replaced by `***` (for logs and error messages).
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    // The credentials end at the last `@` before the query: a password may hold a `/` that
    // was not percent-encoded, and must be hidden even then.
    let auth_end = rest.find('?').unwrap_or(rest.len());
    let mut out = url.to_string();
    if let Some(at) = rest[..auth_end].rfind('@')
        && let Some(colon) = rest[..at].find(':')
    {
        let start = scheme_end + 3 + colon + 1;
        let end = scheme_end + 3 + at;
        out.replace_range(start..end, "***");
    }
    // `password=` as a query parameter too.
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|p| {
                if p.starts_with("password=") {
                    "password=***".to_string()
                } else {
                    p.to_string()
                }
            })
            .collect();
        out = format!("{head}{}", query.join("&"));
    }
    out
}

type Job = Box<dyn FnOnce(&mut Conn) + Send>;

/// One pooled connection and its prepared statements.
struct Conn {
    config: postgres::Config,
    /// The store's generation: bumped when a connection that broke is opened again.
    generation: Arc<AtomicU64>,
    client: Option<Client>,
    /// Whether this connection was opened once: every later opening is a new session, which
    /// moves the generation (the pool opens all its connections when the store opens).
    opened_once: bool,
    statements: HashMap<String, Statement>,
    /// The server's durable `synchronous_commit` level, which a flush commits at (the
    /// session runs its commits with it off).
    durable_level: &'static str,
}

impl Conn {
    fn client(&mut self) -> Result<&mut Client, StoreError> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            if self.opened_once {
                // A commit in flight when it broke may or may not have landed, and commits not
                // flushed yet may be lost (a server crash): the engine drops what it keeps,
                // and no flush acknowledges a commit made before (`Store::flush_since`).
                // Every opening after the first moves it, a failed one included.
                self.generation.fetch_add(1, Ordering::SeqCst);
                tracing::warn!("the connection to PostgreSQL broke: opening it again");
            }
            self.client = None;
            self.statements.clear();
            let mut client = self
                .config
                .connect(NoTls)
                .map_err(|e| StoreError::Engine(e.to_string()))?;
            let level = client
                .query_one("SHOW synchronous_commit", &[])
                .map_err(pg)?
                .get::<_, String>(0);
            self.durable_level = durable_level(&level);
            client
                .batch_execute("SET synchronous_commit TO off")
                .map_err(pg)?;
            self.client = Some(client);
            self.opened_once = true;
        }
        Ok(self.client.as_mut().expect("connected"))
    }

    /// The store's generation now (after [`Conn::client`], the one this connection's next
    /// statements run under).
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The prepared statement of `sql` (prepared once per connection). The connection is
    /// checked first: opened again, it forgets the statements of the one that broke (using
    /// one of those would fail with "prepared statement does not exist").
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        self.client()?;
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        // A commit's statement depends on which trees it writes (`batch.rs`): bounded, the
        // cache starts again when full (dropping a statement closes it on the server).
        if self.statements.len() >= MAX_STATEMENTS {
            self.statements.clear();
        }
        let s = self.client()?.prepare(sql).map_err(pg)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// The `synchronous_commit` level a flush commits at: the server's own when it is durable
/// (`on`, `remote_apply`, `remote_write`, `local`), else `on`.
fn durable_level(server: &str) -> &'static str {
    match server {
        "remote_apply" => "remote_apply",
        "remote_write" => "remote_write",
        "local" => "local",
        _ => "on",
    }
}

/// Makes every commit before it durable: a transaction that writes (the schema row, to its
/// own value) committed at the durable level, whose WAL flush covers the earlier commits
/// made with `synchronous_commit` off. One round trip. A transaction that wrote nothing
/// would not wait (PostgreSQL flushes at commit only what a transaction wrote WAL for: an
/// xid alone, `txid_current()`, is not enough).
fn flush_wal(c: &mut Conn) -> Result<(), StoreError> {
    let level = c.durable_level;
    let key: String = SCHEMA_KEY.iter().map(|b| format!("{b:02x}")).collect();
    // One simple query of two statements is one implicit transaction: committed at its end,
    // rolled back whole if a statement fails (an explicit BEGIN would leave the session in
    // an aborted transaction after an error). `set_config(…, true)` holds to its end.
    let sql = format!(
        "SELECT set_config('synchronous_commit', '{level}', true); \
         UPDATE tree_meta SET value = value WHERE key = '\\x{key}'::bytea"
    );
    let replies = c.client()?.simple_query(&sql).map_err(pg)?;
    // The last command is the update: how many rows it touched.
    let touched = replies
        .iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .last();
    if touched != Some(1) {
        return Err(StoreError::Engine(
            "the store's schema row is missing from tree_meta: nothing to flush with".into(),
        ));
    }
    Ok(())
}

/// Ids drawn from the sequence per round trip ([`Store::next_id`]): more than the 32 values
/// PostgreSQL logs a sequence ahead, so that every draw writes WAL (see [`draw_ids`]).
const ID_BLOCK: usize = 64;
const _: () = assert!(ID_BLOCK > 32);

/// A block of [`ID_BLOCK`] ids from the sequence, increasing, drawn in a transaction committed
/// at the durable level (the sequence's WAL record flushed before any of them is used).
/// PostgreSQL WAL-logs a sequence 32 values ahead (`SEQ_LOG_VALS`) and gives the transaction
/// that logs it an xid, so that its commit waits for the flush (`nextval_internal`): a block
/// of 64 logs at least once, and the values it does not cover were covered by an earlier
/// record, flushed the same way.
fn draw_ids(c: &mut Conn) -> Result<std::collections::VecDeque<u64>, StoreError> {
    let level = c.durable_level;
    // One implicit transaction, as in `flush_wal`.
    let sql = format!(
        "SELECT set_config('synchronous_commit', '{level}', true); \
         SELECT nextval('relance_ids') FROM generate_series(1, {ID_BLOCK})"
    );
    let replies = c.client()?.simple_query(&sql).map_err(pg)?;
    // The rows of the second statement (the first answers one row, the level).
    let mut ids: Vec<u64> = replies
        .iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .skip(1)
        .filter_map(|row| row.get(0).and_then(|v| v.parse().ok()))
        .collect();
    // nextval over a series is increasing; sorted anyway, the contract is.
    ids.sort_unstable();
    if ids.len() != ID_BLOCK {
        return Err(StoreError::Engine(format!(
            "the id sequence gave {} ids, not {ID_BLOCK}",
            ids.len()
        )));
    }
    Ok(ids.into())
}

fn pg(e: postgres::Error) -> StoreError {
    StoreError::Engine(match e.as_db_error() {
        Some(db) => format!("postgres: {} ({})", db.message(), db.code().code()),
        None => format!("postgres: {e}"),
    })
}

/// An error inside a commit's transaction: PostgreSQL's (maybe worth a retry), or the store's.
enum Retry {
    Pg(postgres::Error),
    Store(StoreError),
}

impl From<postgres::Error> for Retry {
    fn from(e: postgres::Error) -> Self {
        Retry::Pg(e)
    }
}

impl From<StoreError> for Retry {
    fn from(e: StoreError) -> Self {
        Retry::Store(e)
    }
}

/// What a commit locks: the tree and the key of an op.
fn op_key(op: &Op) -> (Tree, &[u8]) {
    match op {
        Op::Put(t, k, _) | Op::Delete(t, k) => (*t, k),
    }
}

/// A deadlock victim or a serialization failure: nothing of the transaction landed, run it again.
fn retryable(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    })
}

fn table(t: Tree) -> String {
    format!("tree_{}", t.name())
}

/// The daemon's store on PostgreSQL (see the module doc).
pub struct PgStore {
    /// The URL without its password.
    label: String,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    counts: Vec<AtomicI64>,
    last_error: Mutex<Option<String>>,
    /// Test hook: the next commits fail after this many ops (inside their transaction).
    fail_commit_after: AtomicU32,
    generation: Arc<AtomicU64>,
    /// The leader lock's session, when this store took it ([`PgStore::lead`]).
    leader: Option<Leader>,
    /// Where to connect: a snapshot reads on a connection of its own, not the pool's.
    config: postgres::Config,
    /// One flush at a time; callers arriving meanwhile share the next.
    flusher: GroupFlush,
    /// The generation of the oldest commit no flush has covered yet, if any.
    unflushed: Mutex<Option<u64>>,
    /// Ids drawn from the sequence and not handed out yet, with the generation they were
    /// drawn under ([`Store::next_id`]).
    ids: Mutex<(u64, std::collections::VecDeque<u64>)>,
}

impl PgStore {
    /// Opens the database at `url` (`postgres://user:password@host:port/db`, or a Unix socket
    /// folder as `host=/path` in the query): migrates its schema, checks the daemon schema
    /// version, reads the counts.
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        let label = redact(url);
        let config = postgres::Config::from_str(url).map_err(|e| StoreError::Open {
            path: label.clone(),
            message: e.to_string(),
        })?;
        PgStore::open_config(config, label)
    }

    /// [`PgStore::open`] with a parsed configuration; `label` names it in messages.
    pub fn open_config(config: postgres::Config, label: String) -> Result<PgStore, StoreError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let generation = Arc::new(AtomicU64::new(0));
        let threads = (0..POOL)
            .map(|n| {
                let rx = rx.clone();
                let mut conn = Conn {
                    config: config.clone(),
                    generation: generation.clone(),
                    client: None,
                    opened_once: false,
                    statements: HashMap::new(),
                    durable_level: "on",
                };
                std::thread::Builder::new()
                    .name(format!("relance-pg-{n}"))
                    .spawn(move || {
                        loop {
                            let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                            match job {
                                Ok(job) => job(&mut conn),
                                Err(_) => return,
                            }
                        }
                    })
                    .map_err(|e| StoreError::Open {
                        path: label.clone(),
                        message: e.to_string(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let store = PgStore {
            label: label.clone(),
            jobs: Mutex::new(Some(tx)),
            threads: Mutex::new(threads),
            counts: Tree::ALL.iter().map(|_| AtomicI64::new(0)).collect(),
            last_error: Mutex::new(None),
            fail_commit_after: AtomicU32::new(0),
            generation,
            leader: None,
            config,
            flusher: GroupFlush::default(),
            unflushed: Mutex::new(None),
            ids: Mutex::new((0, std::collections::VecDeque::new())),
        };
        let open_err = |e: StoreError| match e {
            StoreError::Engine(message) => StoreError::Open {
                path: label.clone(),
                message,
            },
            e => e,
        };
        store.open_every_connection().map_err(open_err)?;
        store
            .run(migrate)
            .map_err(open_err)?
            .map_err(|newer| StoreError::NewerSchema {
                path: label.clone(),
                found: newer.0,
                supported: newer.1,
            })?;
        let counts = store
            .run(|c| {
                let mut out = Vec::new();
                for t in Tree::ALL {
                    let row = c
                        .client()?
                        .query_one(&format!("SELECT count(*) FROM {}", table(t)), &[])
                        .map_err(pg)?;
                    out.push(row.get::<_, i64>(0));
                }
                Ok(out)
            })
            .map_err(open_err)?;
        for (c, n) in store.counts.iter().zip(counts) {
            c.store(n, Ordering::Relaxed);
        }
        relance_daemon::store::schema_on_open(&store, &label)?;
        tracing::debug!(store = %store.label, "postgres store open");
        Ok(store)
    }
}

/// Takes the leader lock of the database on a session of its own (`pg_try_advisory_lock`,
/// retried every second with [`Leadership::Wait`]), so that one process at a time serves a
/// database. The lock lives as long as that session: a thread checks it every second, and
/// when the session is gone (the database restarted or failed over, the network cut) the
/// lock may already be another process's, so this process **exits** (status 3) rather than
/// go on beside it; its supervisor starts it again, as a standby. Released on drop.
fn lead(url: &str, how: Leadership) -> Result<Leader, StoreError> {
    {
        let label = redact(url);
        let config = postgres::Config::from_str(url).map_err(|e| StoreError::Open {
            path: label.clone(),
            message: e.to_string(),
        })?;
        let label2 = label.clone();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), StoreError>>(1);
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("relance-pg-leader".into())
            .spawn(move || {
                let open = |e: postgres::Error| StoreError::Open {
                    path: label.clone(),
                    message: pg(e).to_string(),
                };
                let mut client = match config.connect(NoTls) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = ready_tx.send(Err(open(e)));
                        return;
                    }
                };
                let mut told = false;
                loop {
                    match client.query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK]) {
                        Ok(row) if row.get::<_, bool>(0) => break,
                        Ok(_) if how == Leadership::Try => {
                            let _ = ready_tx.send(Err(StoreError::Open {
                                path: label.clone(),
                                message: "a relance serve is using this database: stop it first"
                                    .into(),
                            }));
                            return;
                        }
                        Ok(_) => {
                            if !told {
                                tracing::info!(store = %label, "standby: another relance serve holds this database; waiting to take over");
                                told = true;
                            }
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(open(e)));
                            return;
                        }
                    }
                    match stop_rx.recv_timeout(LEADER_CHECK) {
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                }
                if told {
                    tracing::info!(store = %label, "the other relance serve is gone: taking over");
                }
                let _ = ready_tx.send(Ok(()));
                loop {
                    match stop_rx.recv_timeout(LEADER_CHECK) {
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            if let Err(e) = client.simple_query("SELECT 1") {
                                tracing::error!(store = %label, error = %pg(e), "the session holding the leader lock is gone: exiting, another relance serve may have taken over");
                                eprintln!("relance: lost the database's leader lock: exiting");
                                std::process::exit(3);
                            }
                        }
                        _ => {
                            let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&LEADER_LOCK]);
                            return;
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Open {
                path: label2.clone(),
                message: e.to_string(),
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Leader {
                stop: stop_tx,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(StoreError::Engine("the leader thread died".into()))
            }
        }
    }
}

impl PgStore {
    /// The database's URL, without its password.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Test hook: the next commit fails after `n` ops, inside its transaction (which rolls
    /// back: none of its ops land).
    #[doc(hidden)]
    pub fn fail_next_commit_after(&self, n: u32) {
        self.fail_commit_after.store(n + 1, Ordering::SeqCst);
    }

    /// Test hook: a pooled session's `synchronous_commit`, and the level its flushes commit at.
    #[doc(hidden)]
    pub fn pool_synchronous_commit(&self) -> Result<(String, &'static str), StoreError> {
        self.run(|c| {
            let row = c
                .client()?
                .query_one("SHOW synchronous_commit", &[])
                .map_err(pg)?;
            Ok((row.get::<_, String>(0), c.durable_level))
        })
    }

    /// Opens every connection of the pool now: one job per thread, each held at a barrier
    /// until all are connected (so no thread takes two). A connection opened later is then
    /// always a new session after a break, and moves the generation.
    fn open_every_connection(&self) -> Result<(), StoreError> {
        let barrier = Arc::new(std::sync::Barrier::new(POOL));
        let answers: Vec<mpsc::Receiver<Result<(), StoreError>>> = (0..POOL)
            .map(|_| {
                let (tx, rx) = mpsc::sync_channel(1);
                let barrier = barrier.clone();
                let job: Job = Box::new(move |c: &mut Conn| {
                    let opened = c.client().map(|_| ());
                    barrier.wait();
                    let _ = tx.send(opened);
                });
                let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
                jobs.as_ref()
                    .ok_or_else(|| StoreError::Engine("the store is closed".into()))?
                    .send(job)
                    .map_err(|_| StoreError::Engine("the store's connections are gone".into()))?;
                Ok(rx)
            })
            .collect::<Result<_, StoreError>>()?;
        for rx in answers {
            rx.recv()
                .map_err(|_| StoreError::Engine("a store connection thread died".into()))??;
        }
        Ok(())
    }

    /// Runs `f` on a pooled connection and waits for its answer.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |c: &mut Conn| {
            let _ = tx.send(f(c));
        });
        {
            let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            let sender = jobs
                .as_ref()
                .ok_or_else(|| StoreError::Engine("the store is closed".into()))?;
            sender
                .send(job)
                .map_err(|_| StoreError::Engine("the store's connections are gone".into()))?;
        }
        rx.recv()
            .map_err(|_| StoreError::Engine("a store connection thread died".into()))?
    }

    fn note(&self, result: &Result<(), StoreError>) {
        let mut last = self.last_error.lock().unwrap_or_else(|e| e.into_inner());
        *last = result.as_ref().err().map(|e| e.to_string());
    }
}

/// Applies the embedded migrations under the advisory lock. `Ok(Err((found, supported)))`
/// when the database was migrated by a newer build.
fn migrate(c: &mut Conn) -> Result<Result<(), (u32, u32)>, StoreError> {
    let client = c.client()?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK])
        .map_err(pg)?;
    let result: Result<Result<(), (u32, u32)>, StoreError> = (|| {
        let runner = embedded::migrations::runner();
        let supported = runner
            .get_migrations()
            .iter()
            .map(|m| m.version())
            .max()
            .unwrap_or(0);
        let history: Option<String> = client
            .query_one("SELECT to_regclass('refinery_schema_history')::text", &[])
            .map_err(pg)?
            .get(0);
        let found: Option<i32> = match history {
            None => None,
            Some(_) => client
                .query_one("SELECT max(version) FROM refinery_schema_history", &[])
                .map_err(pg)?
                .get(0),
        };
        if let Some(found) = found
            && i64::from(found) > i64::from(supported)
        {
            return Ok(Err((found as u32, supported)));
        }
        runner
            .run(client)
            .map_err(|e| StoreError::Engine(format!("migrating the schema: {e}")))?;
        Ok(Ok(()))
    })();
    let unlock = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK])
        .map_err(pg);
    let result = result?;
    unlock?;
    Ok(result)
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Closing the channel ends the threads once their current job is done.
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        for t in self
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = t.join();
        }
    }
}

/// What a snapshot's reading thread sends.
enum Sent {
    Entry(Tree, Vec<u8>, Vec<u8>),
    /// Every tree was read whole.
    End,
    Failed(StoreError),
}

/// A snapshot of a [`PgStore`]: one `REPEATABLE READ`, read-only transaction on a connection
/// and a thread of its own (the pool keeps serving commits), read in keyset pages of
/// [`SCAN_PAGE`] and sent through a channel of one page: what is in memory is bounded by a
/// page, whatever the database's size. The transaction's snapshot is taken by its first
/// statement, before [`Store::snapshot`] returns. Dropping it unread (or stopping the visit)
/// closes the channel: the thread rolls back and ends.
struct PgSnapshot {
    entries: mpsc::Receiver<Sent>,
}

impl Snapshot for PgSnapshot {
    fn visit(self: Box<Self>, f: VisitAll<'_>) -> Result<(), StoreError> {
        for sent in self.entries.iter() {
            match sent {
                Sent::Entry(tree, k, v) => f(tree, &k, &v)?,
                Sent::End => return Ok(()),
                Sent::Failed(e) => return Err(e),
            }
        }
        Err(StoreError::Engine(
            "the snapshot's reading thread ended before its end".into(),
        ))
    }
}

/// The snapshot's thread: opens the transaction, answers `ready` once its snapshot is taken,
/// then sends every entry of every tree, then [`Sent::End`].
fn read_snapshot(
    config: &postgres::Config,
    ready: &mut Option<mpsc::SyncSender<Result<(), StoreError>>>,
    out: &mpsc::SyncSender<Sent>,
) -> Result<(), StoreError> {
    let mut client = config.connect(NoTls).map_err(pg)?;
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(pg)?;
    // The snapshot of a REPEATABLE READ transaction is taken by its first statement.
    tx.query_one("SELECT 1", &[]).map_err(pg)?;
    if let Some(ready) = ready.take() {
        let _ = ready.send(Ok(()));
    }
    for tree in Tree::ALL {
        let first = format!(
            "SELECT key, value FROM {} ORDER BY key LIMIT {SCAN_PAGE}",
            table(tree)
        );
        let next = format!(
            "SELECT key, value FROM {} WHERE key > $1 ORDER BY key LIMIT {SCAN_PAGE}",
            table(tree)
        );
        let mut last: Option<Vec<u8>> = None;
        loop {
            let rows = match &last {
                None => tx.query(&first, &[]),
                Some(k) => tx.query(&next, &[k]),
            }
            .map_err(pg)?;
            let full = rows.len() == SCAN_PAGE as usize;
            for row in rows {
                let (k, v): (Vec<u8>, Vec<u8>) = (row.get(0), row.get(1));
                last = Some(k.clone());
                if out.send(Sent::Entry(tree, k, v)).is_err() {
                    return Ok(()); // the reader stopped: the transaction rolls back
                }
            }
            if !full {
                break;
            }
        }
    }
    let _ = out.send(Sent::End);
    tx.rollback().map_err(pg)
}

impl Store for PgStore {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>, StoreError> {
        let (ready, started) = mpsc::sync_channel(1);
        let (out, entries) = mpsc::sync_channel(SCAN_PAGE as usize);
        let config = self.config.clone();
        std::thread::Builder::new()
            .name("relance-pg-snapshot".into())
            .spawn(move || {
                let mut ready = Some(ready);
                if let Err(e) = read_snapshot(&config, &mut ready, &out) {
                    // Before `ready`: the caller gets it from `snapshot`; after: from `visit`.
                    match ready {
                        Some(ready) => drop(ready.send(Err(e))),
                        None => drop(out.send(Sent::Failed(e))),
                    }
                }
            })
            .map_err(|e| StoreError::Engine(format!("snapshot thread: {e}")))?;
        started
            .recv()
            .map_err(|_| StoreError::Engine("the snapshot's thread ended".into()))??;
        Ok(Box::new(PgSnapshot { entries }))
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_vec();
        self.run(move |c| {
            let st = c.statement(&format!("SELECT value FROM {} WHERE key = $1", table(tree)))?;
            let row = c.client()?.query_opt(&st, &[&key]).map_err(pg)?;
            Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
        })
    }

    /// One statement for all the keys (`key = ANY($1)`), the values put back in their order.
    fn get_many(&self, tree: Tree, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.len() <= 1 {
            return keys.iter().map(|k| self.get(tree, k)).collect();
        }
        let sql = format!("SELECT key, value FROM {} WHERE key = ANY($1)", table(tree));
        let wanted = keys.to_vec();
        let found: HashMap<Vec<u8>, Vec<u8>> = self.run(move |c| {
            let st = c.statement(&sql)?;
            let rows = c.client()?.query(&st, &[&wanted]).map_err(pg)?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })?;
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }
    fn range(
        &self,
        tree: Tree,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        if limit == 0 || to.is_some_and(|e| e <= from) {
            return Ok(Vec::new());
        }
        let from = from.to_vec();
        let to = to.map(<[u8]>::to_vec);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |c| {
            let t = table(tree);
            let rows = match &to {
                Some(to) => {
                    let st = c.statement(&format!(
                        "SELECT key, value FROM {t} WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3"
                    ))?;
                    c.client()?.query(&st, &[&from, to, &limit])
                }
                None => {
                    let st = c.statement(&format!(
                        "SELECT key, value FROM {t} WHERE key >= $1 ORDER BY key LIMIT $2"
                    ))?;
                    c.client()?.query(&st, &[&from, &limit])
                }
            }
            .map_err(pg)?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1)))
                .collect())
        })
    }

    fn scan(&self, tree: Tree, f: Visit<'_>) -> Result<(), StoreError> {
        let mut page = self.range(tree, &[], None, SCAN_PAGE as usize)?;
        loop {
            for (k, v) in &page {
                f(k, v)?;
            }
            if page.len() < SCAN_PAGE as usize {
                return Ok(());
            }
            let Some((last, _)) = page.last() else {
                return Ok(());
            };
            // The first key after `last`: `last` followed by a zero byte.
            let mut next = last.clone();
            next.push(0);
            page = self.range(tree, &next, None, SCAN_PAGE as usize)?;
        }
    }

    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let plan = Plan::of(ops);
        let fail_after = match self.fail_commit_after.swap(0, Ordering::SeqCst) {
            0 => None,
            n => Some(n as usize - 1),
        };
        let result = self.run(move |c| {
            // Blind writes: a transaction PostgreSQL aborted as a deadlock victim (two commits
            // writing the same keys in another order) is run again, whole.
            let mut attempt = 0;
            loop {
                attempt += 1;
                // The generation the commit lands under: read once connected, so that a
                // connection opened again after it shows as a later generation.
                c.client()?;
                let generation = c.generation();
                match plan.write(c, fail_after) {
                    Ok(Ok(moved)) => return Ok((moved, generation)),
                    Ok(Err(e)) => return Err(e),
                    Err(Retry::Pg(e)) if attempt < 10 && retryable(&e) => {
                        tracing::debug!(attempt, error = %pg(e), "commit retried");
                    }
                    Err(Retry::Pg(e)) => return Err(pg(e)),
                    Err(Retry::Store(e)) => return Err(e),
                }
            }
        });
        match result {
            Ok((moved, generation)) => {
                for (count, n) in self.counts.iter().zip(moved) {
                    if n != 0 {
                        count.fetch_add(n, Ordering::Relaxed);
                    }
                }
                let mut unflushed = self.unflushed.lock().unwrap_or_else(|e| e.into_inner());
                *unflushed = Some(unflushed.map_or(generation, |g| g.min(generation)));
                self.note(&Ok(()));
                Ok(())
            }
            Err(e) => {
                self.note(&Err(StoreError::Engine(e.to_string())));
                Err(e)
            }
        }
    }

    /// One durable transaction for every commit so far (see the module doc), shared by the
    /// callers that arrive while one runs. Fails when a connection broke after a commit it
    /// covers: that commit may be lost, and must not be acknowledged.
    fn flush(&self) -> Result<(), StoreError> {
        self.flusher.flush(|| {
            let oldest = self
                .unflushed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let result = self.run(flush_wal);
            let now = self.generation();
            let result = match (result, oldest) {
                // A connection was opened again since the oldest commit waiting here (before
                // this flush or during it): that commit may be lost, whatever the flush did.
                (result, Some(then)) if then != now => {
                    let during = result.err().map(|e| format!(" ({e})")).unwrap_or_default();
                    Err(StoreError::Engine(format!(
                        "the connection to PostgreSQL broke after a commit and before its \
                         flush: the commit may be lost (store generation {then}, now {now}); \
                         not acknowledged{during}"
                    )))
                }
                (Err(e), Some(then)) => {
                    // Still the same connections: the next flush covers these commits again.
                    let mut unflushed = self.unflushed.lock().unwrap_or_else(|e| e.into_inner());
                    *unflushed = Some(unflushed.map_or(then, |g| g.min(then)));
                    Err(e)
                }
                (result, _) => result,
            };
            self.note(&result);
            result
        })
    }

    /// The next id of a block drawn from the sequence [`ID_BLOCK`] at a time (one round trip
    /// per block, not per id), in the order drawn. A block is drawn in a transaction committed
    /// at the durable level: after a crash the sequence resumes past every id handed out, used
    /// or not (ids are never reused, even by a store whose commits were not flushed).
    fn next_id(&self) -> Result<u64, StoreError> {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        // Ids drawn before a connection was opened again are not handed out: a failover to
        // a replica that had not received their draw would draw them again.
        if ids.1.is_empty() || ids.0 != self.generation() {
            let block = self.run(draw_ids)?;
            *ids = (self.generation(), block);
        }
        ids.1
            .pop_front()
            .ok_or_else(|| StoreError::Engine("the id sequence gave no id".into()))
    }

    fn advance_ids(&self, past: u64) -> Result<(), StoreError> {
        let past = i64::try_from(past).map_err(|_| StoreError::Engine("id out of range".into()))?;
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        self.run(move |c| {
            c.client()?
                .execute(
                    "SELECT setval('relance_ids', greatest($1, (SELECT last_value FROM relance_ids)))",
                    &[&past],
                )
                .map_err(pg)?;
            Ok(())
        })?;
        // Ids drawn before may be below `past`: drawn again, from the sequence set past it.
        ids.1.clear();
        Ok(())
    }

    fn count(&self, tree: Tree) -> usize {
        usize::try_from(self.counts[tree as usize].load(Ordering::Relaxed)).unwrap_or(0)
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_recognised_and_redacted() {
        let cases: &[(&str, bool, &str)] = &[
            (
                "postgres://u:secret@h:5432/db",
                true,
                "postgres://u:***@h:5432/db",
            ),
            ("postgresql://u@h/db", true, "postgresql://u@h/db"),
            // Regression (review): a `/` in a password not percent-encoded was shown.
            ("postgres://u:p/ss@h/db", true, "postgres://u:***@h/db"),
            (
                "postgres://u:p%40ss@h/db?sslmode=disable",
                true,
                "postgres://u:***@h/db?sslmode=disable",
            ),
            (
                "postgres:///db?host=/run/pg&password=x",
                true,
                "postgres:///db?host=/run/pg&password=***",
            ),
            ("relance-data", false, "relance-data"),
            ("/var/lib/relance", false, "/var/lib/relance"),
        ];
        for (url, is_pg, shown) in cases {
            assert_eq!(is_postgres_url(url), *is_pg, "{url}");
            assert_eq!(redact(url), *shown, "{url}");
        }
    }
}
