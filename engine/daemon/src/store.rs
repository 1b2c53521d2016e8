//! The durable store: a small key-value [`Store`] trait (named trees, ordered ranges, atomic
//! multi-tree commits, flush) and its sled implementation.
//!
//! The daemon's typed records live above this trait (`model`, `keys`, `driver`), so another engine can
//! be added by implementing five methods. This module owns the tree list, the schema version
//! (checked on open; a newer schema is refused), the atomicity of a commit (every [`Op`] of
//! one [`Store::commit`] lands, or none does, crash included) and the entry count of each tree,
//! kept by the commits so that [`Store::count`] never walks a tree. It must not interpret
//! values.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Condvar, Mutex};

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::keys;

/// The schema this build reads and writes. Bump it with a migration in [`SledStore::open`].
pub const SCHEMA_VERSION: u32 = 2;

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
    /// Message id → message JSON: every message not yet delivered (pending, retrying, dead).
    Outbox,
    /// Group key → id of the open (unsealed) message of that group.
    Groups,
    /// Message id → message JSON, once delivered.
    Delivered,
    /// Day (4 bytes), message id → agenda entry JSON (calls and tasks).
    Agenda,
    /// Message id → hand-off record JSON (escalations).
    Handoffs,
    /// Invoice id, 0, sequence → history entry JSON.
    History,
    /// `deploy/` + number → deployed bundle; `scenario/` + version → scenario IR.
    Versions,
    /// Caller, 0, `Idempotency-Key` → the write's request fingerprint and its response.
    Idempotency,
    /// Event id (u64 BE) → stored event JSON: the append-only log of facts.
    Events,
    /// Owner (`i` + invoice id or `c` + customer id), 0, event id → empty.
    EventIndex,
    /// Invoice id, 0, event id → empty: facts of an invoice whose case is not open yet.
    Pending,
    /// SHA-256 of an imported batch → import record JSON (`already_imported`).
    Imports,
}

impl Tree {
    pub const ALL: [Tree; 18] = [
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

impl Op {
    fn tree(&self) -> Tree {
        match self {
            Op::Put(t, ..) | Op::Delete(t, _) => *t,
        }
    }
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

/// What the daemon needs from a storage engine.
pub trait Store: Send + Sync {
    /// The value under `key`.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
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
    /// Applies every op atomically: after a crash, all of them or none are there.
    fn commit(&self, ops: &[Op]) -> Result<(), StoreError>;
    /// Makes every commit so far durable. Concurrent callers may share one flush (group
    /// commit), but each returns only once its own earlier commits are on disk.
    fn flush(&self) -> Result<(), StoreError>;
    /// A fresh, strictly increasing number (never reused, even after a crash).
    fn next_id(&self) -> Result<u64, StoreError>;
    /// How many entries `tree` holds, in constant time: kept up to date by the commits (never
    /// a scan of the tree; `GET /metrics` reads it on every scrape).
    fn count(&self, tree: Tree) -> usize;

    /// Entries whose key starts with `prefix`, in key order.
    fn prefix(&self, tree: Tree, prefix: &[u8], limit: usize) -> Result<Vec<Entry>, StoreError> {
        let end = keys::prefix_end(prefix);
        self.range(tree, prefix, end.as_deref(), limit)
    }
}

/// Group commit: at most one sled flush runs at a time; every caller that arrives while one
/// runs waits for the next one, which then covers all of them (their commits happened before
/// it started). A caller returns only after a flush that started after its call.
#[derive(Default)]
struct GroupFlush {
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
    /// The last failed flush and its error.
    failed: Option<(u64, String)>,
}

impl GroupFlush {
    fn flush(&self, db: &sled::Db) -> Result<(), StoreError> {
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
                st = self.done.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            st.running = true;
            st.started += 1;
            let this = st.started;
            drop(st);
            let result = db.flush();
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

/// The embedded sled store.
pub struct SledStore {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    flusher: GroupFlush,
    /// Entries per tree ([`Tree::index`]): counted once on open, then moved by every commit
    /// by what it inserted and removed (sled's own `len` walks the whole tree).
    counts: Vec<AtomicI64>,
}

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

impl SledStore {
    /// Opens (or creates) the store in `dir`, checking its schema version.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let path = dir.display().to_string();
        let db = open_db(dir).map_err(|e| StoreError::Open {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let mut trees = Vec::with_capacity(Tree::ALL.len());
        for t in Tree::ALL {
            trees.push(db.open_tree(t.name())?);
        }
        let store = SledStore {
            db,
            trees,
            flusher: GroupFlush::default(),
            counts: Tree::ALL.iter().map(|_| AtomicI64::new(0)).collect(),
        };
        let meta = &store.trees[Tree::Meta.index()];
        match meta.get(SCHEMA_KEY)? {
            None => {
                meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
                store.db.flush()?;
            }
            Some(v) => {
                let raw: [u8; 4] = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| StoreError::BadSchema { path: path.clone() })?;
                let found = u32::from_be_bytes(raw);
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema {
                        path,
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
            }
        }
        // The one full count: from here on, commits keep the counts.
        for t in Tree::ALL {
            let mut n = 0i64;
            for item in store.tree(t).iter() {
                item?;
                n += 1;
            }
            store.counts[t.index()].store(n, Ordering::Relaxed);
        }
        Ok(store)
    }

    fn tree(&self, t: Tree) -> &sled::Tree {
        &self.trees[t.index()]
    }

    /// The underlying sled database (benchmarks write raw trees next to the daemon's).
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    /// The size of the store's files.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(tree).get(key)?.map(|v| v.to_vec()))
    }

    fn range(
        &self,
        tree: Tree,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let t = self.tree(tree);
        let iter = match to {
            Some(end) => t.range(from.to_vec()..end.to_vec()),
            None => t.range(from.to_vec()..),
        };
        let mut out = Vec::new();
        for item in iter.take(limit) {
            let (k, v) = item?;
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    fn scan(&self, tree: Tree, f: Visit<'_>) -> Result<(), StoreError> {
        for item in self.tree(tree).iter() {
            let (k, v) = item?;
            f(&k, &v)?;
        }
        Ok(())
    }

    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        // Only the trees this commit touches take part in the transaction.
        let mut involved: Vec<Tree> = ops.iter().map(Op::tree).collect();
        involved.sort();
        involved.dedup();
        let slot = |t: Tree| involved.iter().position(|x| *x == t).unwrap_or(0);
        let trees: Vec<&sled::Tree> = involved.iter().map(|t| self.tree(*t)).collect();
        // Each attempt of the transaction counts afresh what it inserts and removes (a key
        // written twice in one commit sees its first write as the value it replaces).
        let result = trees.as_slice().transaction(|tx: &Vec<TransactionalTree>| {
            let mut moved = vec![0i64; Tree::ALL.len()];
            for op in ops {
                match op {
                    Op::Put(t, k, v) => {
                        if tx[slot(*t)].insert(k.as_slice(), v.as_slice())?.is_none() {
                            moved[t.index()] += 1;
                        }
                    }
                    Op::Delete(t, k) => {
                        if tx[slot(*t)].remove(k.as_slice())?.is_some() {
                            moved[t.index()] -= 1;
                        }
                    }
                }
            }
            Ok::<_, ConflictableTransactionError<()>>(moved)
        });
        match result {
            Ok(moved) => {
                for (count, n) in self.counts.iter().zip(moved) {
                    if n != 0 {
                        count.fetch_add(n, Ordering::Relaxed);
                    }
                }
                Ok(())
            }
            Err(TransactionError::Storage(e)) => Err(e.into()),
            Err(TransactionError::Abort(())) => {
                Err(StoreError::Engine("transaction aborted".into()))
            }
        }
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.flusher.flush(&self.db)
    }

    fn next_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }

    fn count(&self, tree: Tree) -> usize {
        usize::try_from(self.counts[tree.index()].load(Ordering::Relaxed)).unwrap_or(0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
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
        assert!(
            err.to_string()
                .contains("only understands versions up to 2"),
            "{err}"
        );
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
        s.db.open_tree(Tree::Customers.name())
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
        let s = SledStore::open(&dir.0).expect("reopen");
        assert_eq!(
            [C, I, O].map(|t| s.count(t)),
            [2, 3, 0],
            "counted again on open"
        );
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
