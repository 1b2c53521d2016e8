//! The durable store: a small key-value [`Store`] trait (named trees, ordered ranges, atomic
//! multi-tree commits, flush) and its sled implementation.
//!
//! The daemon's typed records live above this trait (`model`, `keys`, `driver`), so another engine can
//! be added by implementing five methods. This module owns the tree list, the schema version
//! (checked on open; a newer schema is refused), the atomicity of a commit (every [`Op`] of
//! one [`Store::commit`] lands, or none does, crash included) and the entry count of each tree,
//! kept by the commits so that [`Store::count`] never walks a tree. It must not interpret
//! values.
//!
//! `SledStore` does not run a sled transaction per commit (sled 0.34 writes its log buffer
//! out twice, synchronously, for each): a commit goes into an in-memory overlay that every
//! read sees at once, and a flush writes everything committed since the last one into sled in
//! one transaction, then makes it durable. So concurrent writers share one transaction as
//! well as one `fdatasync`; a crash loses the commits of the flush that did not complete,
//! each whole (they were not acknowledged).

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::keys;

#[cfg(any(test, feature = "conformance"))]
#[doc(hidden)]
pub mod conformance;
pub mod ids;

/// Forwards a `Store` wrapper's reads, flush, ids and counts (`range`, `scan`, `snapshot`,
/// `flush`, `next_id`, `count`) to its field `inner`: a wrapper that records, counts or
/// derives from writes (`aggregates::Kept`, the tests' recording stores, `bench_daemon`'s)
/// writes only what it changes. Expand inside `impl Store for … { … }`. `get` and `get_many`
/// are the wrapper's own (`get_many` defaults to its `get` of each key, so a recording
/// wrapper sees every read).
#[macro_export]
macro_rules! forward_store_reads {
    () => {
        fn range(
            &self,
            tree: $crate::store::Tree,
            from: &[u8],
            to: Option<&[u8]>,
            limit: usize,
        ) -> Result<Vec<$crate::store::Entry>, $crate::store::StoreError> {
            self.inner.range(tree, from, to, limit)
        }
        fn scan(
            &self,
            tree: $crate::store::Tree,
            f: $crate::store::Visit<'_>,
        ) -> Result<(), $crate::store::StoreError> {
            self.inner.scan(tree, f)
        }
        fn snapshot(
            &self,
        ) -> Result<Box<dyn $crate::store::Snapshot + '_>, $crate::store::StoreError> {
            self.inner.snapshot()
        }
        fn flush(&self) -> Result<(), $crate::store::StoreError> {
            self.inner.flush()
        }
        fn next_id(&self) -> Result<u64, $crate::store::StoreError> {
            self.inner.next_id()
        }
        fn count(&self, tree: $crate::store::Tree) -> usize {
            self.inner.count(tree)
        }
    };
}

/// The schema this build reads and writes. Bump it with a migration in `migrate.rs`.
pub const SCHEMA_VERSION: u32 = 6;

/// The meta key holding the schema version (4 bytes, big-endian).
pub const SCHEMA_KEY: &[u8] = b"schema_version";

/// The trees of the store (see `docs/DAEMON.md` for their keys and values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tree {
    /// Schema version, clock, run watermark, counters.
    Meta,
    /// Customer id → customer JSON.
    Customers,
    /// Invoice id → invoice JSON.
    Invoices,
    /// Customer id, 0, invoice id → empty (a customer's invoices).
    ByCustomer,
    /// Invoice id → case record JSON (the instance and its timer).
    Instances,
    /// Fire date (4 bytes), invoice id → empty.
    Timers,
    /// Message id → message header JSON (a message without its items, with their count):
    /// every message not yet delivered (pending, retrying, dead).
    Outbox,
    /// Group key → id of the open (unsealed) message of that group.
    Groups,
    /// Message id → message header JSON, once delivered.
    Delivered,
    /// Day (4 bytes), message id → agenda entry JSON (calls and tasks).
    Agenda,
    /// Message id → hand-off record JSON (escalations).
    Handoffs,
    /// Invoice id, 0, sequence → history entry JSON.
    History,
    /// `deploy/` + number → deployed bundle; `scenario/` + version → scenario IR.
    Versions,
    /// Caller, 0, `Idempotency-Key` → the write's request fingerprint and its response (pruned
    /// by the daily run after the retention).
    Idempotency,
    /// Event id (u64 BE) → stored event JSON: the append-only log of facts.
    Events,
    /// Owner (`i` + invoice id or `c` + customer id), 0, event id → empty.
    EventIndex,
    /// The canonical order of a day's facts (`keys::pending`: fact date, rank, import,
    /// file, line, event id; `relance_core::fact_order`) → empty: facts waiting for the run of
    /// their day.
    Pending,
    /// SHA-256 (hex) of an import batch's files and options → import record JSON (`already_imported`).
    Imports,
    /// Next attempt (ms, 0 for now), message id → empty: the outbox's pending and retrying
    /// messages, so that a dispatcher pass reads only the messages it has work for (dead
    /// letters and messages waiting out a retry delay are not read).
    Due,
    /// The contact cadence's state (`cadence.rs`): `h`, day (4 bytes), order → a message held
    /// for its day's decision; `w`, release day, order → a message waiting out its customer's
    /// gap; `l`, customer id → the day of its last contact (4 bytes).
    Cadence,
    /// Account-level dunning (`account.rs`): `s`, customer, 0, scenario, 0, currency → the
    /// account's record; `t`, day (4 bytes), account → empty (its wake-up); `u`, day, account
    /// → empty (one of its cases was ticked that day).
    Accounts,
    /// Message id (u64 BE), item index (u32 BE) → one item of that message (outbox or
    /// delivered), stored apart so that joining a group writes one item, not all of them.
    MessageItems,
}

impl Tree {
    pub const ALL: [Tree; 22] = [
        Tree::Meta,
        Tree::Customers,
        Tree::Invoices,
        Tree::ByCustomer,
        Tree::Instances,
        Tree::Timers,
        Tree::Outbox,
        Tree::Groups,
        Tree::Delivered,
        Tree::Agenda,
        Tree::Handoffs,
        Tree::History,
        Tree::Versions,
        Tree::Idempotency,
        Tree::Events,
        Tree::EventIndex,
        Tree::Pending,
        Tree::Imports,
        Tree::Due,
        Tree::Cadence,
        Tree::Accounts,
        Tree::MessageItems,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Customers => "customers",
            Tree::Invoices => "invoices",
            Tree::ByCustomer => "by_customer",
            Tree::Instances => "instances",
            Tree::Timers => "timers",
            Tree::Outbox => "outbox",
            Tree::Groups => "groups",
            Tree::Delivered => "delivered",
            Tree::Agenda => "agenda",
            Tree::Handoffs => "handoffs",
            Tree::History => "history",
            Tree::Versions => "versions",
            Tree::Idempotency => "idempotency",
            Tree::Events => "events",
            Tree::EventIndex => "event_index",
            Tree::Pending => "pending",
            Tree::Imports => "imports",
            Tree::Due => "due",
            Tree::Cadence => "cadence",
            Tree::Accounts => "accounts",
            Tree::MessageItems => "message_items",
        }
    }

    pub fn by_name(name: &str) -> Option<Tree> {
        Tree::ALL.into_iter().find(|t| t.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One write of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put(Tree, Vec<u8>, Vec<u8>),
    Delete(Tree, Vec<u8>),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {message}")]
    Open { path: String, message: String },
    #[error(
        "the store at {path} has schema version {found}, but this relance only understands versions up to {supported}: \
         run a newer relance, or export it with that newer version (`relance backup`) and restore here"
    )]
    NewerSchema {
        path: String,
        found: u32,
        supported: u32,
    },
    #[error(
        "the store at {path} is damaged and cannot be served: {message} \
         (restore it from a backup: `relance restore --data NEW-DIR backup.jsonl`)"
    )]
    Damaged { path: String, message: String },
    #[error("the store at {path} has an unreadable schema version")]
    BadSchema { path: String },
    #[error("store: {0}")]
    Engine(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Engine(e.to_string())
    }
}

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A visitor of a tree's entries (may stop the scan with an error).
pub type Visit<'a> = &'a mut dyn FnMut(&[u8], &[u8]) -> Result<(), StoreError>;

/// A visitor of every tree's entries: the tree, the key, the value (may stop with an error).
pub type VisitAll<'a> = &'a mut dyn FnMut(Tree, &[u8], &[u8]) -> Result<(), StoreError>;

/// A point-in-time view of the whole store, taken by [`Store::snapshot`] (backups).
pub trait Snapshot: Send {
    /// Calls `f` on every entry of every tree, in [`Tree::ALL`] order then key order, as the
    /// store was when the snapshot was taken: commits made since (while it is read included)
    /// are not seen. Reading it must not stop writers.
    fn visit(self: Box<Self>, f: VisitAll<'_>) -> Result<(), StoreError>;
}

/// What the daemon needs from a storage engine.
pub trait Store: Send + Sync {
    /// The value under `key`.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// The values under `keys`, in their order: [`Store::get`] of each by default; a store
    /// where each read is a round trip reads them at once (PostgreSQL: `key = ANY($1)`).
    fn get_many(&self, tree: Tree, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(tree, k)).collect()
    }
    /// Entries with `from <= key < to` (`to: None`: to the end), in key order, at most `limit`.
    fn range(
        &self,
        tree: Tree,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError>;
    /// Calls `f` on every entry of `tree`, in key order (backups; `f` may stop with an error).
    fn scan(&self, tree: Tree, f: Visit<'_>) -> Result<(), StoreError>;
    /// A point-in-time view of every tree (see [`Snapshot`]): taking it is brief (it never
    /// copies the store), reading it streams, and neither waits for nor blocks commits.
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>, StoreError>;
    /// Applies every op atomically: after a crash, all of them or none are there.
    fn commit(&self, ops: &[Op]) -> Result<(), StoreError>;
    /// Makes every commit so far durable. Concurrent callers may share one flush (group
    /// commit), but each returns only once its own earlier commits are on disk.
    fn flush(&self) -> Result<(), StoreError>;
    /// [`Store::flush`] for a caller whose commits were all made at [`Store::generation`]
    /// `since` (read before its first commit): fails when the store was opened again since,
    /// for a commit made before a reopening may be lost whatever the flush did. What
    /// acknowledges a write to a client.
    fn flush_since(&self, since: u64) -> Result<(), StoreError> {
        self.flush()?;
        let now = self.generation();
        if now == since {
            Ok(())
        } else {
            Err(StoreError::Engine(format!(
                "the store was opened again after this write's commits (generation {since}, \
                 now {now}): they may be lost, so the write is not acknowledged"
            )))
        }
    }
    /// A fresh, strictly increasing number (never reused, even after a crash).
    fn next_id(&self) -> Result<u64, StoreError>;
    /// How many entries `tree` holds, in constant time: kept up to date by the commits (never
    /// a scan of the tree; `GET /metrics` reads it on every scrape).
    fn count(&self, tree: Tree) -> usize;

    /// The error of the last failed commit or flush, until a flush succeeds (`/healthz`).
    fn last_error(&self) -> Option<String> {
        None
    }

    /// How many times the store was reopened after an I/O error: what was committed but not
    /// durable before a reopening may be gone (the engine drops what it keeps in memory).
    fn generation(&self) -> u64 {
        0
    }

    /// How many [`Store::snapshot`]s are being read now (each holds something of the store
    /// until dropped: sled keeps the values written ahead of its reader, PostgreSQL a
    /// transaction). A store that does not count them says 0.
    fn open_snapshots(&self) -> usize {
        0
    }

    /// Makes every later [`Store::next_id`] greater than `past` (a copy of another store
    /// keeps its ids unique). The default draws ids until one is; a store with a settable
    /// counter overrides it.
    fn advance_ids(&self, past: u64) -> Result<(), StoreError> {
        while self.next_id()? < past {}
        Ok(())
    }

    /// Entries whose key starts with `prefix`, in key order.
    fn prefix(&self, tree: Tree, prefix: &[u8], limit: usize) -> Result<Vec<Entry>, StoreError> {
        let end = keys::prefix_end(prefix);
        self.range(tree, prefix, end.as_deref(), limit)
    }
}

/// The schema check of a store being opened (`path` names it in errors): a new store
/// records this build's [`SCHEMA_VERSION`] (flushed); a store of a newer schema is refused
/// ([`StoreError::NewerSchema`]); a schema value that is not 4 bytes is
/// [`StoreError::BadSchema`]. An older schema is left for `migrate.rs`.
pub fn schema_on_open(store: &dyn Store, path: &str) -> Result<(), StoreError> {
    match store.get(Tree::Meta, SCHEMA_KEY)? {
        None => {
            store.commit(&[Op::Put(
                Tree::Meta,
                SCHEMA_KEY.to_vec(),
                SCHEMA_VERSION.to_be_bytes().to_vec(),
            )])?;
            store.flush()
        }
        Some(v) => {
            let raw: [u8; 4] = v.as_slice().try_into().map_err(|_| StoreError::BadSchema {
                path: path.to_string(),
            })?;
            let found = u32::from_be_bytes(raw);
            if found > SCHEMA_VERSION {
                return Err(StoreError::NewerSchema {
                    path: path.to_string(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            Ok(())
        }
    }
}

/// Group commit: at most one durable flush runs at a time; every caller that arrives while
/// one runs waits for the next one, which then covers all of them (their commits happened
/// before it started). A caller returns only after a flush that started after its call.
/// `SledStore` and `relance-pg`'s `PgStore` flush through it.
#[derive(Default)]
pub struct GroupFlush {
    state: Mutex<FlushState>,
    done: Condvar,
}

#[derive(Default)]
struct FlushState {
    /// Flushes started so far (the one running included).
    started: u64,
    /// Flushes finished so far.
    finished: u64,
    running: bool,
    /// Callers waiting for a flush to finish (the tests read it to know a group has formed).
    waiting: usize,
    /// The last failed flush and its error.
    failed: Option<(u64, String)>,
}

impl GroupFlush {
    /// Runs `flush` as a group commit (see the type). A failure fails the callers that flush
    /// covered, and only them: the next caller starts a new flush.
    pub fn flush(&self, flush: impl Fn() -> Result<(), StoreError>) -> Result<(), StoreError> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // The first flush to start after this call covers every commit made before it.
        let needed = st.started + 1;
        loop {
            if st.finished >= needed {
                return match &st.failed {
                    Some((n, e)) if *n >= needed => Err(StoreError::Engine(e.clone())),
                    _ => Ok(()),
                };
            }
            if st.running {
                st.waiting += 1;
                st = self.done.wait(st).unwrap_or_else(|e| e.into_inner());
                st.waiting -= 1;
                continue;
            }
            st.running = true;
            st.started += 1;
            let this = st.started;
            drop(st);
            let result = flush();
            st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.running = false;
            st.finished = this;
            if let Err(e) = result {
                st.failed = Some((this, e.to_string()));
            }
            self.done.notify_all();
        }
    }
}

/// The files sled writes and does not fsync itself before `flush` returns: sled 0.34 ends a
/// log write with `sync_file_range` (data pages only, no file size or metadata, no disk cache
/// flush) and leaves the `fdatasync` to a background thread up to 500 ms later; blob files
/// (values too big for the log) are never synced at all. After sled's flush, this syncs the
/// log file (`fdatasync`), every blob file not synced yet, and their folders (`fsync`).
struct DurableFiles {
    dir: std::path::PathBuf,
    /// The log file `db`, opened once.
    log: std::fs::File,
    /// Blob files already synced (they are written once, never changed).
    synced_blobs: HashSet<std::ffi::OsString>,
}

impl DurableFiles {
    fn open(dir: &Path) -> std::io::Result<DurableFiles> {
        let log = std::fs::File::open(dir.join("db"))?;
        let mut files = DurableFiles {
            dir: dir.to_path_buf(),
            log,
            synced_blobs: HashSet::new(),
        };
        // The files sled created on open (`db`, `conf`, `blobs/`) and their entries in the folder.
        files.log.sync_all()?;
        if let Ok(conf) = std::fs::File::open(dir.join("conf")) {
            conf.sync_all()?;
        }
        files.sync()?;
        sync_dir(dir)?;
        Ok(files)
    }

    /// Makes what sled wrote so far durable (see the type).
    fn sync(&mut self) -> std::io::Result<()> {
        self.log.sync_data()?;
        let blobs = self.dir.join("blobs");
        let mut present = HashSet::new();
        let mut new = false;
        match std::fs::read_dir(&blobs) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry?;
                    let name = entry.file_name();
                    if !self.synced_blobs.contains(&name) {
                        std::fs::File::open(entry.path())?.sync_data()?;
                        new = true;
                    }
                    present.insert(name);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if new {
            sync_dir(&blobs)?;
        }
        self.synced_blobs = present;
        Ok(())
    }
}

/// `fsync` of a folder: its entries (files created or removed) are durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// One tree's writes not in sled yet: the last write of each key (`None`: deleted).
type Layer = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

fn layers() -> Vec<Layer> {
    vec![Layer::new(); Tree::ALL.len()]
}

/// The commits not written into sled yet, per tree. `commit` only adds to `active` (no sled
/// transaction: sled 0.34 writes its log buffer out twice, synchronously, for each one); the
/// next flush moves `active` to `frozen`, writes `frozen` into sled in **one** transaction,
/// makes it durable, then empties `frozen`. Every read looks at `active`, then `frozen`, then
/// sled, so a write is seen at once by every reader, as a sled commit was. A failed flush puts
/// `frozen` back under `active` (nothing is dropped: the next flush writes it again).
struct Overlay {
    active: Vec<Layer>,
    frozen: Arc<Vec<Layer>>,
}

impl Overlay {
    fn new() -> Overlay {
        Overlay {
            active: layers(),
            frozen: Arc::new(layers()),
        }
    }

    /// The pending write of `key`: `Some(None)` when it is deleted, `None` when not written.
    fn get(&self, t: usize, key: &[u8]) -> Option<Option<Vec<u8>>> {
        self.active[t]
            .get(key)
            .or_else(|| self.frozen[t].get(key))
            .cloned()
    }

    /// The pending writes of tree `t` with `from <= key < to` (the caller checked
    /// `from <= to`), in key order, `active` over `frozen`; read lazily.
    fn range<'a>(
        &'a self,
        t: usize,
        from: &[u8],
        to: Option<&[u8]>,
    ) -> impl Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)> + 'a {
        let bounds = || {
            (
                Bound::Included(from.to_vec()),
                to.map_or(Bound::Unbounded, |e| Bound::Excluded(e.to_vec())),
            )
        };
        let mut a = self.active[t].range::<Vec<u8>, _>(bounds()).peekable();
        let mut f = self.frozen[t].range::<Vec<u8>, _>(bounds()).peekable();
        std::iter::from_fn(move || match (a.peek(), f.peek()) {
            (None, None) => None,
            (Some(_), None) => a.next(),
            (None, Some(_)) => f.next(),
            (Some((ka, _)), Some((kf, _))) => match ka.cmp(kf) {
                std::cmp::Ordering::Less => a.next(),
                std::cmp::Ordering::Greater => f.next(),
                std::cmp::Ordering::Equal => {
                    f.next();
                    a.next()
                }
            },
        })
    }

    fn is_empty(&self) -> bool {
        self.active.iter().all(BTreeMap::is_empty) && self.frozen.iter().all(BTreeMap::is_empty)
    }

    /// Entries in `active`.
    fn active_len(&self) -> usize {
        self.active.iter().map(BTreeMap::len).sum()
    }
}

/// Past this many pending entries, a commit writes them out (a flush) before it returns, so
/// that a long series of commits without a flush (an import in chunks) neither holds its
/// whole data in memory nor becomes one huge transaction.
const SPILL: usize = 20_000;

/// Walks sled's entries (`sled`, in key order) with the pending writes over them (`over`, in
/// key order): a pending write replaces or hides the stored entry. `emit` returns false to stop.
fn merge<'a, E: Into<StoreError>>(
    sled: impl Iterator<Item = Result<(sled::IVec, sled::IVec), E>>,
    over: impl Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>,
    mut emit: impl FnMut(&[u8], &[u8]) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let mut over = over.peekable();
    for item in sled {
        let (k, v) = item.map_err(Into::into)?;
        while let Some((ok, _)) = over.peek()
            && ok.as_slice() < k.as_ref()
        {
            if let Some((ok, Some(ov))) = over.next()
                && !emit(ok, ov)?
            {
                return Ok(());
            }
        }
        let pending = match over.peek() {
            Some((ok, _)) if ok.as_slice() == k.as_ref() => over.next().map(|(_, ov)| ov),
            _ => None,
        };
        let go = match pending {
            Some(Some(ov)) => emit(&k, ov)?,
            Some(None) => true,
            None => emit(&k, &v)?,
        };
        if !go {
            return Ok(());
        }
    }
    for (ok, ov) in over {
        if let Some(ov) = ov
            && !emit(ok, ov)?
        {
            return Ok(());
        }
    }
    Ok(())
}

/// The open database and its trees; replaced whole when the store recovers from an I/O error.
struct Inner {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    files: Mutex<DurableFiles>,
}

/// The embedded sled store.
pub struct SledStore {
    path: std::path::PathBuf,
    /// Held (read) by every operation; taken (write) only to reopen after a failure (`None`
    /// only while reopening, or when the reopening failed).
    inner: RwLock<Option<Inner>>,
    flusher: GroupFlush,
    /// Entries per tree ([`Tree::index`]): counted on open, then moved by every commit
    /// by what it inserted and removed (sled's own `len` walks the whole tree).
    counts: Vec<AtomicI64>,
    /// The last commit or flush failed: the next one reopens the database first (sled keeps
    /// an I/O error as a global error and fails every later operation until reopened).
    broken: AtomicBool,
    /// The error of the last failed commit or flush, cleared by the next successful flush.
    last_error: Mutex<Option<String>>,
    /// Times the database was reopened after a failure.
    generation: AtomicU64,
    /// Test hook: the next this many durable syncs fail with an injected I/O error.
    inject_sync_failures: AtomicU32,
    /// Test hook: called by each durable flush after sled's flush, before the syncs; it may
    /// block (to form a group behind it) or fail (as the sync would).
    sync_hook: Mutex<Option<SyncHook>>,
    /// Commits not written into sled yet (see [`Overlay`]).
    overlay: Mutex<Overlay>,
    /// The snapshots being read (backups): a flush keeps, for each, the values it overwrites
    /// in sled ahead of the snapshot's reader (see [`SledSnapshot`]).
    snapshots: Mutex<Vec<Arc<Mutex<Kept>>>>,
    /// Added to sled's id generator (which cannot be set): moved by [`Store::advance_ids`],
    /// kept durably under [`ID_BASE_KEY`] in sled's default tree (no relance tree: neither
    /// counted nor exported).
    id_base: AtomicU64,
}

/// A test hook of the durable flush (see [`SledStore::set_sync_hook`]).
pub type SyncHook = Box<dyn FnMut() -> std::io::Result<()> + Send>;

/// The key of the id base in sled's default tree (8 bytes, big-endian).
const ID_BASE_KEY: &[u8] = b"relance_id_base";

/// How long opening waits for the store's lock: sled releases it on a background thread
/// after the last handle drops (spacejam/sled#1289), so a store closed and reopened at
/// once, as in a restart, can still be locked for a few milliseconds.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens the sled database in `dir`, waiting up to [`LOCK_WAIT`] while its lock is held; a
/// store held by a running daemon still fails after that.
fn open_db(dir: &Path) -> sled::Result<sled::Db> {
    let config = sled::Config::new()
        .path(dir)
        .cache_capacity(256 * 1024 * 1024);
    let start = std::time::Instant::now();
    loop {
        match config.open() {
            // sled reports the lock as `ErrorKind::Other` with this message.
            Err(sled::Error::Io(e))
                if e.to_string().starts_with("could not acquire lock")
                    && start.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            done => return done,
        }
    }
}

/// A sled error in words (its corruption error prints an empty backtrace).
fn describe(e: &sled::Error) -> String {
    match e {
        sled::Error::Corruption { .. } => {
            "sled found corrupted data in its files (a checksum or a structure does not match)"
                .into()
        }
        other => other.to_string(),
    }
}

/// The text of a caught panic.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs `f`, turning a panic of sled (which panics on some damaged pages instead of
/// returning an error) into an error.
fn no_panic<T>(f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(StoreError::Engine(format!(
            "the storage engine failed: {}",
            panic_text(&*p)
        ))),
    }
}

/// Opens the database and its trees, and reads every entry of every tree once (every page is
/// read and checked by sled): the entry counts.
fn open_inner(dir: &Path) -> Result<(Inner, Vec<i64>), StoreError> {
    let path = dir.display().to_string();
    let damaged = |message: String| StoreError::Damaged {
        path: path.clone(),
        message,
    };
    // I/O errors (a lock held, no permission) are not damage; anything else sled reports on
    // open, or a panic, is.
    let db = match std::panic::catch_unwind(|| open_db(dir)) {
        Ok(Ok(db)) => db,
        Ok(Err(sled::Error::Io(e))) => {
            return Err(StoreError::Open {
                path,
                message: e.to_string(),
            });
        }
        Ok(Err(e)) => return Err(damaged(describe(&e))),
        Err(p) => {
            return Err(damaged(format!(
                "the storage engine failed: {}",
                panic_text(&*p)
            )));
        }
    };
    let read_all = || {
        let mut trees = Vec::with_capacity(Tree::ALL.len());
        let mut counts = Vec::with_capacity(Tree::ALL.len());
        for t in Tree::ALL {
            let tree = db.open_tree(t.name())?;
            let mut n = 0i64;
            for item in tree.iter() {
                item.map_err(|e| {
                    StoreError::Engine(format!("tree {}: {}", t.name(), describe(&e)))
                })?;
                n += 1;
            }
            trees.push(tree);
            counts.push(n);
        }
        Ok((trees, counts))
    };
    let (trees, counts) = no_panic(read_all).map_err(|e| damaged(e.to_string()))?;
    let files = DurableFiles::open(dir).map_err(|e| StoreError::Open {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok((
        Inner {
            db,
            trees,
            files: Mutex::new(files),
        },
        counts,
    ))
}

/// The seal file in the store's folder: the entry count of every tree when the store was last
/// closed cleanly (`{"clean": true, "counts": {...}}`), or `{"clean": false}` while it is open
/// (or after a crash). sled reads a damaged record of its log as the end of the log and opens
/// with what came before it, silently; a store closed cleanly whose trees do not hold the
/// sealed counts on open is refused as damaged instead.
pub const SEAL_FILE: &str = "relance-seal.json";

fn read_seal(dir: &Path) -> Option<std::collections::BTreeMap<String, i64>> {
    let text = std::fs::read_to_string(dir.join(SEAL_FILE)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    if v["clean"] != true {
        return None;
    }
    serde_json::from_value(v["counts"].clone()).ok()
}

fn write_seal(dir: &Path, seal: &serde_json::Value) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = dir.join(format!("{SEAL_FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(seal.to_string().as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(SEAL_FILE))?;
    sync_dir(dir)
}

impl Drop for SledStore {
    /// A clean close: everything durable, then the seal with the entry counts.
    fn drop(&mut self) {
        if self.broken.load(Ordering::SeqCst) || self.durable_flush().is_err() {
            return;
        }
        if !self.overlay().is_empty() {
            return; // what could not be written: no clean seal
        }
        let counts: serde_json::Map<String, serde_json::Value> = Tree::ALL
            .iter()
            .map(|t| {
                (
                    t.name().to_string(),
                    self.counts[t.index()].load(Ordering::Relaxed).into(),
                )
            })
            .collect();
        let seal = serde_json::json!({"clean": true, "counts": counts});
        if let Err(e) = write_seal(&self.path, &seal) {
            tracing::warn!(store = %self.path.display(), error = %e, "cannot write the seal");
        }
    }
}

impl SledStore {
    /// Opens (or creates) the store in `dir`: reads every entry of every tree (a damaged
    /// store is refused with [`StoreError::Damaged`], never a panic), checks its schema
    /// version, and makes its files durable.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let path = dir.display().to_string();
        let sealed = read_seal(dir);
        let (inner, counts) = open_inner(dir)?;
        let id_base = match inner.db.get(ID_BASE_KEY)? {
            None => 0,
            Some(v) => {
                u64::from_be_bytes(v.as_ref().try_into().map_err(|_| StoreError::Damaged {
                    path: path.clone(),
                    message: "its id base is not 8 bytes".into(),
                })?)
            }
        };
        if let Some(sealed) = sealed {
            for (t, n) in Tree::ALL.iter().zip(&counts) {
                let want = sealed.get(t.name()).copied().unwrap_or(0);
                if want != *n {
                    return Err(StoreError::Damaged {
                        path,
                        message: format!(
                            "it was closed cleanly with {want} entries in tree {}, but {n} can be read \
                             (part of its log is damaged: sled reads a damaged record as the end of its log)",
                            t.name()
                        ),
                    });
                }
            }
        }
        write_seal(dir, &serde_json::json!({"clean": false})).map_err(|e| StoreError::Open {
            path: path.clone(),
            message: format!("{SEAL_FILE}: {e}"),
        })?;
        let store = SledStore {
            path: dir.to_path_buf(),
            inner: RwLock::new(Some(inner)),
            flusher: GroupFlush::default(),
            counts: counts.into_iter().map(AtomicI64::new).collect(),
            broken: AtomicBool::new(false),
            last_error: Mutex::new(None),
            generation: AtomicU64::new(0),
            inject_sync_failures: AtomicU32::new(0),
            sync_hook: Mutex::new(None),
            overlay: Mutex::new(Overlay::new()),
            snapshots: Mutex::new(Vec::new()),
            id_base: AtomicU64::new(id_base),
        };
        schema_on_open(&store, &path)?;
        Ok(store)
    }

    /// Runs `f` on the open database (an error if the last reopening failed).
    fn with<T>(&self, f: impl FnOnce(&Inner) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(inner) => f(inner),
            None => Err(StoreError::Engine(format!(
                "the store at {} could not be reopened after an I/O error",
                self.path.display()
            ))),
        }
    }

    /// The folder of the store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying sled database (benchmarks write raw trees next to the daemon's).
    pub fn db(&self) -> Result<sled::Db, StoreError> {
        self.with(|i| Ok(i.db.clone()))
    }

    /// The size of the store's files.
    pub fn size_on_disk(&self) -> u64 {
        self.with(|i| Ok(i.db.size_on_disk()?)).unwrap_or(0)
    }

    /// Test hook: `hook` runs in every durable flush after sled's flush and before the syncs
    /// (under the group commit: one at a time). Blocking in it holds the flush, so that
    /// writers queue behind it; an error fails the flush as a failed sync would.
    pub fn set_sync_hook(&self, hook: Option<SyncHook>) {
        *self.sync_hook.lock().unwrap_or_else(|e| e.into_inner()) = hook;
    }

    /// Test hook (fault injection): the next `n` durable syncs fail with an I/O error, as a
    /// full disk would fail them, through the same path (the flush fails, the store is
    /// marked broken, the next commit or flush reopens it).
    pub fn inject_sync_failures(&self, n: u32) {
        self.inject_sync_failures.store(n, Ordering::SeqCst);
    }

    /// Records a failure: the next commit or flush reopens the database first.
    fn failed(&self, e: &StoreError) {
        self.broken.store(true, Ordering::SeqCst);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
    }

    /// After a failure: drops the database and opens it again (sled recovers from its log
    /// what was durable), recounting every tree. Runs alone (write lock).
    fn recover(&self) -> Result<(), StoreError> {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if !self.broken.load(Ordering::SeqCst) {
            return Ok(()); // another caller recovered meanwhile
        }
        // Release the old handles (and sled's lock) before reopening.
        drop(inner.take());
        let (fresh, counts) = open_inner(&self.path)?;
        *inner = Some(fresh);
        // The commits still pending count on top of what sled holds.
        let mut counts = counts;
        {
            let fresh = inner
                .as_ref()
                .ok_or_else(|| StoreError::Engine("reopened".into()))?;
            let o = self.overlay();
            for t in Tree::ALL {
                let i = t.index();
                for (k, v) in o.range(i, &[], None) {
                    let stored = fresh.trees[i].contains_key(k)?;
                    counts[i] += i64::from(v.is_some()) - i64::from(stored);
                }
            }
        }
        for (c, n) in self.counts.iter().zip(counts) {
            c.store(n, Ordering::Relaxed);
        }
        self.broken.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        tracing::warn!(store = %self.path.display(), "store reopened after an I/O error");
        Ok(())
    }

    /// Reopens first when the last commit or flush failed.
    fn ready(&self) -> Result<(), StoreError> {
        if self.broken.load(Ordering::SeqCst) {
            self.recover().inspect_err(|e| self.failed(e))?;
        }
        Ok(())
    }

    fn overlay(&self) -> std::sync::MutexGuard<'_, Overlay> {
        self.overlay.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One durable flush: the pending commits written into sled in one transaction, sled's
    /// flush, then the syncs sled leaves out ([`DurableFiles`]). On failure the pending
    /// commits stay pending (under the ones made since).
    fn durable_flush(&self) -> Result<(), StoreError> {
        self.with(|inner| {
            let frozen = {
                let mut o = self.overlay();
                let active = std::mem::replace(&mut o.active, layers());
                o.frozen = Arc::new(active);
                o.frozen.clone()
            };
            let result = self
                .keep_for_snapshots(inner, &frozen)
                .and_then(|()| Self::write_layers(inner, &frozen))
                .and_then(|()| self.durable_flush_of(inner));
            let mut o = self.overlay();
            match &result {
                Ok(()) => o.frozen = Arc::new(layers()),
                Err(_) => {
                    let newer = std::mem::replace(&mut o.active, layers());
                    let mut back = (*o.frozen).clone();
                    for (layer, newer) in back.iter_mut().zip(newer) {
                        layer.extend(newer);
                    }
                    o.active = back;
                    o.frozen = Arc::new(layers());
                }
            }
            result
        })
    }

    /// Before `layers` are written into sled: for every snapshot being read, the value sled
    /// holds now under each key they write that its reader has not passed yet, unless kept
    /// already (so each snapshot keeps the value of the moment it was taken).
    fn keep_for_snapshots(&self, inner: &Inner, layers: &[Layer]) -> Result<(), StoreError> {
        let snapshots = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        for snap in snapshots.iter() {
            let mut kept = snap.lock().unwrap_or_else(|e| e.into_inner());
            for (t, layer) in layers.iter().enumerate() {
                for k in layer.keys() {
                    if kept.passed(t, k) || kept.values[t].contains_key(k) {
                        continue;
                    }
                    let now = inner.trees[t].get(k)?.map(|v| v.to_vec());
                    kept.values[t].insert(k.clone(), now);
                }
            }
        }
        Ok(())
    }

    /// Writes pending commits into sled: one transaction over the trees they touch.
    fn write_layers(inner: &Inner, layers: &[Layer]) -> Result<(), StoreError> {
        let involved: Vec<usize> = (0..layers.len())
            .filter(|i| !layers[*i].is_empty())
            .collect();
        if involved.is_empty() {
            return Ok(());
        }
        let trees: Vec<&sled::Tree> = involved.iter().map(|i| &inner.trees[*i]).collect();
        let result = trees.as_slice().transaction(|tx: &Vec<TransactionalTree>| {
            for (slot, i) in involved.iter().enumerate() {
                for (k, v) in &layers[*i] {
                    match v {
                        Some(v) => {
                            tx[slot].insert(k.as_slice(), v.as_slice())?;
                        }
                        None => {
                            tx[slot].remove(k.as_slice())?;
                        }
                    }
                }
            }
            Ok::<_, ConflictableTransactionError<()>>(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(e)) => Err(e.into()),
            Err(TransactionError::Abort(())) => {
                Err(StoreError::Engine("transaction aborted".into()))
            }
        }
    }

    fn durable_flush_of(&self, inner: &Inner) -> Result<(), StoreError> {
        inner.db.flush()?;
        let injected = self
            .inject_sync_failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if injected {
            return Err(StoreError::Engine(format!(
                "sync of {}: {} (injected)",
                self.path.display(),
                std::io::Error::from_raw_os_error(28)
            )));
        }
        if let Some(hook) = self
            .sync_hook
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            hook().map_err(|e| {
                StoreError::Engine(format!("sync of {}: {e} (hook)", self.path.display()))
            })?;
        }
        let mut files = inner.files.lock().unwrap_or_else(|e| e.into_inner());
        files
            .sync()
            .map_err(|e| StoreError::Engine(format!("sync of {}: {e}", self.path.display())))
    }
}

/// What a snapshot keeps of sled while it is read: the values flushes overwrote ahead of
/// its reader, and how far the reader is (trees before `tree` read whole; in `tree`, keys up
/// to `key`).
struct Kept {
    tree: usize,
    key: Option<Vec<u8>>,
    /// Per tree: key → its value in sled when the snapshot was taken (`None`: absent).
    values: Vec<Layer>,
}

impl Kept {
    /// Whether the reader has read past `key` of tree `t` (a later write there is not seen).
    fn passed(&self, t: usize, key: &[u8]) -> bool {
        t < self.tree || (t == self.tree && self.key.as_deref().is_some_and(|c| key <= c))
    }
}

/// Entries read from sled per step of a snapshot's reader (the store's lock is held for one
/// step, never while the visitor runs).
const SNAPSHOT_STEP: usize = 1000;

/// A point-in-time view of a [`SledStore`], without a copy and without a lock held while it is
/// read (sled 0.34 has no snapshots): taken under the overlay's lock, it holds the pending
/// writes of that moment (at most a few [`SPILL`]s of entries) and registers with the store;
/// from then on, every flush first keeps, for it, the value sled holds under each key it is
/// about to write, unless the reader has passed that key ([`SledStore::keep_for_snapshots`]).
/// The reader walks sled in steps; a kept value replaces what sled holds now (a key deleted
/// since is still read, one created since is not); the pending writes of the moment go
/// over that. What it keeps grows with the keys written ahead of the reader while it runs,
/// never with the store. A store reopened after an I/O error while a snapshot is read fails
/// that read (take the backup again).
struct SledSnapshot<'a> {
    store: &'a SledStore,
    kept: Arc<Mutex<Kept>>,
    pending: Vec<Layer>,
    generation: u64,
}

impl Drop for SledSnapshot<'_> {
    fn drop(&mut self) {
        self.store
            .snapshots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|s| !Arc::ptr_eq(s, &self.kept));
    }
}

impl SledSnapshot<'_> {
    /// The next entries of tree `t` after `last` as they were when the snapshot was taken
    /// (without its pending writes), and whether the tree is read to its end.
    fn step(&self, t: usize, last: &mut Option<Vec<u8>>) -> Result<(Vec<Entry>, bool), StoreError> {
        if self.store.generation() != self.generation {
            return Err(StoreError::Engine(
                "the store was reopened after an I/O error while the snapshot was read: take it again"
                    .into(),
            ));
        }
        let read: Vec<(sled::IVec, sled::IVec)> = self.store.with(|i| {
            let tree = &i.trees[t];
            let from = last
                .clone()
                .map_or(Bound::Unbounded, Bound::Excluded::<Vec<u8>>);
            let mut out = Vec::new();
            for item in tree.range::<Vec<u8>, _>((from, Bound::Unbounded)) {
                out.push(item?);
                if out.len() == SNAPSHOT_STEP {
                    break;
                }
            }
            Ok(out)
        })?;
        // Each entry was read before this check: a flush that wrote it since kept its value.
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        let lower = |last: &Option<Vec<u8>>| {
            last.clone()
                .map_or(Bound::Unbounded, Bound::Excluded::<Vec<u8>>)
        };
        for (k, v) in &read {
            // Kept keys before this one that sled no longer returns (deleted since).
            out.extend(
                kept.values[t]
                    .range::<Vec<u8>, _>((lower(last), Bound::Excluded(k.to_vec())))
                    .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v))),
            );
            match kept.values[t].get(k.as_ref()) {
                Some(Some(v)) => out.push((k.to_vec(), v.clone())),
                Some(None) => {} // created since
                None => out.push((k.to_vec(), v.to_vec())),
            }
            *last = Some(k.to_vec());
        }
        let end = read.len() < SNAPSHOT_STEP;
        if end {
            out.extend(
                kept.values[t]
                    .range::<Vec<u8>, _>((lower(last), Bound::Unbounded))
                    .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v))),
            );
            kept.tree = t + 1;
            kept.key = None;
        } else {
            kept.tree = t;
            kept.key = last.clone();
        }
        // What the reader passed is not needed any more.
        let values = &mut kept.values[t];
        match last {
            _ if end => values.clear(),
            Some(last) => *values = values.split_off(&[last.as_slice(), &[0]].concat()),
            None => {}
        }
        Ok((out, end))
    }
}

impl Snapshot for SledSnapshot<'_> {
    fn visit(self: Box<Self>, f: VisitAll<'_>) -> Result<(), StoreError> {
        for tree in Tree::ALL {
            let t = tree.index();
            let mut last = None;
            let mut read = std::collections::VecDeque::new();
            let mut end = false;
            let base = std::iter::from_fn(|| {
                loop {
                    if let Some((k, v)) = read.pop_front() {
                        return Some(Ok((sled::IVec::from(k), sled::IVec::from(v))));
                    }
                    if end {
                        return None;
                    }
                    match self.step(t, &mut last) {
                        Ok((entries, at_end)) => {
                            read.extend(entries);
                            end = at_end;
                        }
                        Err(e) => {
                            end = true;
                            return Some(Err(e));
                        }
                    }
                }
            });
            merge(base, self.pending[t].iter(), |k, v| {
                f(tree, k, v)?;
                Ok(true)
            })?;
        }
        Ok(())
    }
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(pending) = self.overlay().get(tree.index(), key) {
            return Ok(pending);
        }
        self.with(|i| Ok(i.trees[tree.index()].get(key)?.map(|v| v.to_vec())))
    }

    fn range(
        &self,
        tree: Tree,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.with(|i| {
            let t = &i.trees[tree.index()];
            let mut out = Vec::new();
            if limit == 0 || to.is_some_and(|e| e <= from) {
                return Ok(out);
            }
            let iter = match to {
                Some(end) => t.range(from.to_vec()..end.to_vec()),
                None => t.range(from.to_vec()..),
            };
            // Held while reading (at most `limit` entries): the pending writes read lazily.
            let o = self.overlay();
            merge(iter, o.range(tree.index(), from, to), |k, v| {
                out.push((k.to_vec(), v.to_vec()));
                Ok(out.len() < limit)
            })?;
            Ok(out)
        })
    }

    fn scan(&self, tree: Tree, f: Visit<'_>) -> Result<(), StoreError> {
        self.with(|i| {
            // A copy of the tree's pending writes: a whole scan does not hold the lock.
            let over: Layer = {
                let o = self.overlay();
                o.range(tree.index(), &[], None)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            };
            merge(i.trees[tree.index()].iter(), over.iter(), |k, v| {
                f(k, v)?;
                Ok(true)
            })
        })
    }

    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>, StoreError> {
        self.ready()?;
        let kept = Arc::new(Mutex::new(Kept {
            tree: 0,
            key: None,
            values: layers(),
        }));
        // Under the overlay's lock: no commit lands and no flush takes the pending writes
        // meanwhile; a flush that has taken them keeps them (`frozen`) until they are in sled.
        let pending = {
            let o = self.overlay();
            self.snapshots
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(kept.clone());
            (0..Tree::ALL.len())
                .map(|t| {
                    o.range(t, &[], None)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .collect()
        };
        Ok(Box::new(SledSnapshot {
            store: self,
            kept,
            pending,
            generation: self.generation(),
        }))
    }

    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        self.ready()?;
        // Staged whole first (a read error leaves nothing half added), then added to the
        // pending writes under one lock: readers see all of it or none of it.
        let result = self.with(|inner| {
            let mut o = self.overlay();
            let mut staged: Vec<Layer> = layers();
            let mut moved = vec![0i64; Tree::ALL.len()];
            for op in ops {
                let (t, k, v) = match op {
                    Op::Put(t, k, v) => (t.index(), k, Some(v.clone())),
                    Op::Delete(t, k) => (t.index(), k, None),
                };
                let existed = match staged[t].get(k).cloned().or_else(|| o.get(t, k)) {
                    Some(pending) => pending.is_some(),
                    None => inner.trees[t].contains_key(k)?,
                };
                moved[t] += i64::from(v.is_some()) - i64::from(existed);
                staged[t].insert(k.clone(), v);
            }
            for (layer, staged) in o.active.iter_mut().zip(staged) {
                layer.extend(staged);
            }
            Ok((moved, o.active_len() > SPILL))
        });
        match result {
            Ok((moved, spill)) => {
                for (count, n) in self.counts.iter().zip(moved) {
                    if n != 0 {
                        count.fetch_add(n, Ordering::Relaxed);
                    }
                }
                // The commit is made (readers see it); a failed write-out keeps it pending
                // and is reported by the next flush.
                if spill && let Err(e) = self.flush() {
                    tracing::warn!(store = %self.path.display(), error = %e, "writing out pending commits failed");
                }
                Ok(())
            }
            Err(e) => {
                self.failed(&e);
                Err(e)
            }
        }
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.flusher.flush(|| {
            self.ready()?;
            match self.durable_flush() {
                Ok(()) => {
                    *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
                    Ok(())
                }
                Err(e) => {
                    self.failed(&e);
                    Err(e)
                }
            }
        })
    }

    fn next_id(&self) -> Result<u64, StoreError> {
        self.ready()?;
        let generated = self
            .with(|i| Ok(i.db.generate_id()?))
            .inspect_err(|e| self.failed(e))?;
        generated
            .checked_add(self.id_base.load(Ordering::SeqCst))
            .ok_or_else(|| StoreError::Engine("store ids exhausted".into()))
    }

    /// Sets the id base (sled's generator cannot be set), durably, instead of drawing ids
    /// one by one: `next_id` is then `past + 1 + generated`, generated only growing.
    fn advance_ids(&self, past: u64) -> Result<(), StoreError> {
        if self.next_id()? > past {
            return Ok(());
        }
        let base = past
            .checked_add(1)
            .ok_or_else(|| StoreError::Engine("store ids exhausted".into()))?;
        self.with(|i| {
            i.db.insert(ID_BASE_KEY, &base.to_be_bytes())?;
            Ok(())
        })
        .inspect_err(|e| self.failed(e))?;
        self.flush()?;
        self.id_base.fetch_max(base, Ordering::SeqCst);
        Ok(())
    }

    fn count(&self, tree: Tree) -> usize {
        usize::try_from(self.counts[tree.index()].load(Ordering::Relaxed)).unwrap_or(0)
    }

    fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn open_snapshots(&self) -> usize {
        self.snapshots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    /// `Tree::ALL` lists the trees in their declared order: the backup snapshot's reader
    /// (`SledSnapshot`) walks them by index and keeps pre-images only for trees it has not
    /// passed, so a list out of order would silently lose its point-in-time guarantee.
    #[test]
    fn every_tree_is_listed_at_its_index() {
        for (i, tree) in super::Tree::ALL.iter().enumerate() {
            assert_eq!(tree.index(), i, "{tree:?}");
        }
    }

    use super::*;

    /// A fresh folder under the system temp dir, removed on drop.
    pub struct TempDir(pub std::path::PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> TempDir {
            static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let p = std::env::temp_dir().join(format!("relance-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).expect("temp dir");
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The overlay: reads see commits not flushed yet (replaced, deleted, new keys, in key
    /// order, with limits), counts follow them, a flush writes them into sled, and a failed
    /// flush keeps them (the next one writes them).
    #[test]
    fn commits_are_read_before_and_after_their_flush() {
        let dir = TempDir::new("overlay");
        let s = SledStore::open(&dir.0).expect("open");
        let put = |k: &str, v: &str| Op::Put(Tree::Timers, k.into(), v.into());
        let del = |k: &str| Op::Delete(Tree::Timers, k.into());
        let entries = |s: &SledStore, from: &str, to: Option<&str>, limit: usize| -> Vec<String> {
            s.range(Tree::Timers, from.as_bytes(), to.map(str::as_bytes), limit)
                .expect("range")
                .into_iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        String::from_utf8_lossy(&k),
                        String::from_utf8_lossy(&v)
                    )
                })
                .collect()
        };
        s.commit(&[put("b", "1"), put("d", "1"), put("f", "1")])
            .expect("commit");
        s.flush().expect("flush");
        // Pending over stored: c new, d replaced, f deleted, a new before everything.
        s.commit(&[
            put("c", "2"),
            put("d", "2"),
            del("f"),
            put("a", "2"),
            put("a", "3"),
        ])
        .expect("commit");
        let cases: &[(&str, Option<&str>, usize, &[&str])] = &[
            ("", None, usize::MAX, &["a=3", "b=1", "c=2", "d=2"]),
            ("", None, 2, &["a=3", "b=1"]),
            ("b", Some("d"), usize::MAX, &["b=1", "c=2"]),
            ("c", None, usize::MAX, &["c=2", "d=2"]),
            ("e", None, usize::MAX, &[]),
            ("d", Some("c"), usize::MAX, &[]),
        ];
        let check = |s: &SledStore| {
            for (from, to, limit, want) in cases {
                assert_eq!(
                    entries(s, from, *to, *limit),
                    *want,
                    "{from:?}..{to:?} limit {limit}"
                );
            }
            assert_eq!(s.get(Tree::Timers, b"f").expect("get"), None);
            assert_eq!(s.get(Tree::Timers, b"a").expect("get"), Some(b"3".to_vec()));
            assert_eq!(s.count(Tree::Timers), 4);
            let mut seen = Vec::new();
            s.scan(Tree::Timers, &mut |k, _| {
                seen.push(String::from_utf8_lossy(k).to_string());
                Ok(())
            })
            .expect("scan");
            assert_eq!(seen, ["a", "b", "c", "d"]);
        };
        check(&s);
        // Not in sled before the flush.
        let raw = s
            .db()
            .expect("db")
            .open_tree(Tree::Timers.name())
            .expect("tree");
        assert!(raw.get("a").expect("raw").is_none());
        drop(raw); // a handle held would keep sled's lock: the store reopens after a failure
        // A failed flush keeps them pending; the next one writes them.
        s.inject_sync_failures(1);
        assert!(s.flush().is_err());
        check(&s);
        s.flush().expect("flush after the failure");
        check(&s);
        let raw = s
            .db()
            .expect("db")
            .open_tree(Tree::Timers.name())
            .expect("tree");
        assert_eq!(raw.get("a").expect("raw").as_deref(), Some(&b"3"[..]));
        assert!(raw.get("f").expect("raw").is_none());
        drop(raw);
        drop(s);
        let s = SledStore::open(&dir.0).expect("reopen");
        check(&s);
    }

    /// Regression: reopening right after closing could fail on sled's lock, still held by
    /// its flusher thread (daemon_engine's restart test failed this way now and then).
    #[test]
    fn a_store_reopens_at_once_after_it_is_closed() {
        let dir = TempDir::new("reopen");
        for n in 0..20u8 {
            let s = SledStore::open(&dir.0).expect("reopens at once");
            s.commit(&[Op::Put(Tree::Meta, b"n".to_vec(), vec![n])])
                .expect("commit");
        }
    }

    #[test]
    fn a_store_held_open_is_refused_after_the_wait() {
        let dir = TempDir::new("held");
        let _held = SledStore::open(&dir.0).expect("open");
        let start = std::time::Instant::now();
        let second = SledStore::open(&dir.0);
        assert!(
            matches!(&second, Err(StoreError::Open { message, .. }) if message.contains("lock")),
            "{:?}",
            second.err()
        );
        assert!(start.elapsed() >= LOCK_WAIT, "it waited for the lock");
    }

    #[test]
    fn commits_round_trip_across_reopen() {
        let dir = TempDir::new("store");
        {
            let s = SledStore::open(&dir.0).expect("open");
            s.commit(&[
                Op::Put(Tree::Customers, b"ACME".to_vec(), b"{}".to_vec()),
                Op::Put(Tree::Invoices, b"F-1".to_vec(), b"{\"a\":1}".to_vec()),
            ])
            .expect("commit");
            s.commit(&[Op::Delete(Tree::Customers, b"ACME".to_vec())])
                .expect("delete");
            s.flush().expect("flush");
        }
        let s = SledStore::open(&dir.0).expect("reopen");
        assert_eq!(s.get(Tree::Customers, b"ACME").expect("get"), None);
        assert_eq!(
            s.get(Tree::Invoices, b"F-1").expect("get").as_deref(),
            Some(&b"{\"a\":1}"[..])
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = TempDir::new("schema");
        {
            let s = SledStore::open(&dir.0).expect("open");
            s.commit(&[Op::Put(
                Tree::Meta,
                SCHEMA_KEY.to_vec(),
                (SCHEMA_VERSION + 1).to_be_bytes().to_vec(),
            )])
            .expect("commit");
            s.flush().expect("flush");
        }
        let err = SledStore::open(&dir.0).err().expect("refused");
        assert!(
            matches!(err, StoreError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1)
        );
        let up_to = format!("only understands versions up to {SCHEMA_VERSION}");
        assert!(err.to_string().contains(&up_to), "{err}");
    }

    /// Entries of `tree`, walked (what `count` must agree with).
    fn walked(s: &SledStore, tree: Tree) -> usize {
        let mut n = 0;
        s.scan(tree, &mut |_, _| {
            n += 1;
            Ok(())
        })
        .expect("scan");
        n
    }

    /// `count` follows every commit (new keys, overwrites, deletes of present and absent keys,
    /// a key written twice in one commit) and survives a reopen; it is kept, not walked: an
    /// entry written behind the store's back (raw sled) is not seen until the next open.
    #[test]
    fn counts_are_kept_by_commits_not_walked() {
        let put = |t, k: &str| Op::Put(t, k.as_bytes().to_vec(), b"v".to_vec());
        let del = |t, k: &str| Op::Delete(t, k.as_bytes().to_vec());
        use Tree::{Customers as C, Invoices as I, Outbox as O};
        // Each commit and the counts of (customers, invoices, outbox) after it.
        let rows: Vec<(&str, Vec<Op>, [usize; 3])> = vec![
            (
                "new keys",
                vec![put(C, "A"), put(C, "B"), put(I, "F-1")],
                [2, 1, 0],
            ),
            ("overwrite", vec![put(C, "A"), put(I, "F-1")], [2, 1, 0]),
            (
                "delete present and absent",
                vec![del(C, "B"), del(C, "Z")],
                [1, 1, 0],
            ),
            (
                "written twice",
                vec![put(O, "1"), put(O, "1"), put(I, "F-2")],
                [1, 2, 1],
            ),
            ("put then delete", vec![put(O, "2"), del(O, "2")], [1, 2, 1]),
            ("delete then put", vec![del(O, "1"), put(O, "1")], [1, 2, 1]),
            (
                "moved across trees",
                vec![del(O, "1"), put(I, "F-3")],
                [1, 3, 0],
            ),
        ];
        let dir = TempDir::new("counts");
        let s = SledStore::open(&dir.0).expect("open");
        for (name, ops, want) in &rows {
            s.commit(ops).expect("commit");
            let got = [C, I, O].map(|t| s.count(t));
            assert_eq!(&got, want, "{name}");
            assert_eq!(got, [C, I, O].map(|t| walked(&s, t)), "{name}: walked");
        }
        s.db()
            .expect("db")
            .open_tree(Tree::Customers.name())
            .expect("tree")
            .insert(b"raw", b"v".to_vec())
            .expect("raw insert");
        assert_eq!(
            s.count(C),
            1,
            "a raw write is not counted: count does not walk"
        );
        s.flush().expect("flush");
        drop(s);
        // Closed cleanly with the kept counts: the raw entry makes the trees disagree with the
        // seal, and the store is refused as damaged.
        let err = SledStore::open(&dir.0).err().expect("refused");
        assert!(
            matches!(&err, StoreError::Damaged { message, .. } if message.contains("1 entries in tree customers, but 2")),
            "{err}"
        );
        // Without the seal (a crash), the trees are counted again on open.
        std::fs::remove_file(dir.0.join(SEAL_FILE)).expect("seal");
        let s = SledStore::open(&dir.0).expect("reopen");
        assert_eq!(
            [C, I, O].map(|t| s.count(t)),
            [2, 3, 0],
            "counted again on open"
        );
    }

    /// A failed sync (an injected ENOSPC, through the same path a full disk takes) fails the
    /// flush and is reported by `last_error`; it does not poison the store: the next commit
    /// reopens the database, and once syncs succeed again everything durable before the
    /// failure and everything after it is there, across a reopen.
    #[test]
    fn a_failed_sync_does_not_poison_the_store() {
        let dir = TempDir::new("enospc");
        {
            let s = SledStore::open(&dir.0).expect("open");
            let put = |k: &str| Op::Put(Tree::Customers, k.as_bytes().to_vec(), b"{}".to_vec());
            s.commit(&[put("before")]).expect("commit");
            s.flush().expect("flush");
            assert_eq!(s.last_error(), None);
            s.inject_sync_failures(1);
            s.commit(&[put("lost-or-kept")])
                .expect("commit lands in memory");
            let err = s.flush().expect_err("the sync fails");
            assert!(err.to_string().contains("No space left on device"), "{err}");
            assert!(s.last_error().is_some(), "the failure is reported");
            assert_eq!(s.generation(), 0);
            // Space is back: the next commit reopens the store, then works.
            s.commit(&[put("after")]).expect("the next commit works");
            assert_eq!(s.generation(), 1, "reopened once");
            assert!(s.last_error().is_some(), "reported until a flush succeeds");
            s.flush().expect("the next flush works");
            assert_eq!(s.last_error(), None, "healthy again");
            assert_eq!(s.count(Tree::Customers), walked(&s, Tree::Customers));
        }
        let s = SledStore::open(&dir.0).expect("reopen");
        for k in ["before", "after"] {
            assert!(
                s.get(Tree::Customers, k.as_bytes()).expect("get").is_some(),
                "{k}"
            );
        }
    }

    /// Group commit under 8 concurrent writers: no more flushes than writes (callers that arrive
    /// while a flush runs share the next one, not asserted: it depends on timing); each one's
    /// commit is durable when it returns, and a failure fails only the flush it covered.
    #[test]
    fn concurrent_writers_flush_at_most_once_each() {
        let dir = TempDir::new("group");
        let s = std::sync::Arc::new(SledStore::open(&dir.0).expect("open"));
        let started = |s: &SledStore| s.flusher.state.lock().expect("state").started;
        let before = started(&s);
        let threads: Vec<_> = (0..8u8)
            .map(|n| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..20u8 {
                        s.commit(&[Op::Put(Tree::Customers, vec![n, i], b"{}".to_vec())])
                            .expect("commit");
                        s.flush().expect("flush");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let flushes = started(&s) - before;
        assert!(flushes <= 160, "at most one flush per write: {flushes}");
        assert_eq!(s.count(Tree::Customers), 160);
    }

    /// Group commit, made deterministic: a first flush is held in the sync hook while `N`
    /// writers commit and call `flush`; they all wait for the next flush. Released, exactly
    /// one more flush runs and covers all of them. When that flush succeeds, every writer is
    /// answered `Ok` and its commit is there after a reopen; when it fails (the sync fails,
    /// as on a full disk), every writer of the group gets the error: none is acknowledged.
    #[test]
    fn a_group_of_writers_is_acknowledged_by_one_flush_or_failed_whole() {
        use std::sync::mpsc;
        const N: u8 = 16;
        for fail in [false, true] {
            let dir = TempDir::new(if fail { "group-fail" } else { "group-ok" });
            let s = Arc::new(SledStore::open(&dir.0).expect("open"));
            let put = |k: Vec<u8>| Op::Put(Tree::Customers, k, b"{}".to_vec());
            let (release, held) = mpsc::channel::<()>();
            let calls = Arc::new(AtomicU32::new(0));
            let seen = calls.clone();
            s.set_sync_hook(Some(Box::new(move || {
                match seen.fetch_add(1, Ordering::SeqCst) {
                    0 => {
                        let _ = held.recv();
                        Ok(())
                    }
                    _ if fail => Err(std::io::Error::from_raw_os_error(28)),
                    _ => Ok(()),
                }
            })));
            let state = |s: &SledStore| {
                let st = s.flusher.state.lock().expect("state");
                (st.started, st.waiting)
            };
            let (before, _) = state(&s);
            // The first flush, held in the hook.
            let first = {
                let s = s.clone();
                std::thread::spawn(move || {
                    s.commit(&[put(b"first".to_vec())]).expect("commit");
                    s.flush()
                })
            };
            while calls.load(Ordering::SeqCst) == 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            let writers: Vec<_> = (0..N)
                .map(|n| {
                    let s = s.clone();
                    std::thread::spawn(move || {
                        s.commit(&[put(vec![b'w', n])]).expect("commit");
                        s.flush()
                    })
                })
                .collect();
            while state(&s).1 < usize::from(N) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            release.send(()).expect("release");
            first
                .join()
                .expect("first")
                .expect("the held flush succeeds");
            let answers: Vec<Result<(), StoreError>> = writers
                .into_iter()
                .map(|t| t.join().expect("writer"))
                .collect();
            assert_eq!(
                state(&s).0 - before,
                2,
                "the held flush and one flush for the whole group"
            );
            assert_eq!(calls.load(Ordering::SeqCst), 2);
            if fail {
                for a in &answers {
                    let e = a
                        .as_ref()
                        .expect_err("no writer of a failed flush is acknowledged");
                    assert!(e.to_string().contains("No space left on device"), "{e}");
                }
                assert!(s.last_error().is_some());
            } else {
                assert!(answers.iter().all(Result::is_ok), "{answers:?}");
                s.set_sync_hook(None);
                drop(s);
                let s = SledStore::open(&dir.0).expect("reopen");
                for n in 0..N {
                    assert!(
                        s.get(Tree::Customers, &[b'w', n]).expect("get").is_some(),
                        "writer {n} acknowledged and durable"
                    );
                }
            }
        }
    }

    /// The store conformance suite (`store::conformance`) on sled, each check in a fresh folder.
    #[test]
    fn sled_passes_the_conformance_suite() {
        let dirs = Mutex::new(Vec::new());
        conformance::run_all(&|name| {
            let dir = TempDir::new(&format!("conf-{name}"));
            let path = dir.0.clone();
            dirs.lock().expect("dirs").push(dir);
            Box::new(move || Ok(Box::new(SledStore::open(&path)?) as Box<dyn Store>))
        });
    }

    #[test]
    fn timers_scan_in_date_then_invoice_order() {
        let dir = TempDir::new("timers");
        let s = SledStore::open(&dir.0).expect("open");
        let d = |x: &str| x.parse::<chrono::NaiveDate>().expect("date");
        let ops: Vec<Op> = [
            ("2026-03-02", "A"),
            ("2026-03-01", "Z"),
            ("2026-03-01", "B"),
            ("2026-04-01", "C"),
        ]
        .iter()
        .map(|(day, inv)| Op::Put(Tree::Timers, keys::timer(d(day), inv), Vec::new()))
        .collect();
        s.commit(&ops).expect("commit");
        let end = keys::date(d("2026-03-03"));
        let due: Vec<_> = s
            .range(Tree::Timers, &[], Some(&end), 10)
            .expect("range")
            .iter()
            .filter_map(|(k, _)| keys::parse_timer(k))
            .map(|(day, inv)| format!("{day} {inv}"))
            .collect();
        assert_eq!(due, ["2026-03-01 B", "2026-03-01 Z", "2026-03-02 A"]);
    }
}
