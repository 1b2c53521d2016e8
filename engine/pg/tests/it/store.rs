//! PgStore: the conformance suite, and what only PostgreSQL does (migrations, the SQL schema
//! version, a failed transaction).

use std::sync::Mutex;

use relance_daemon::store::{Op, Store, StoreError, Tree, conformance};
use relance_pg::PgStore;

use crate::support::TestDb;

#[test]
fn pg_passes_the_conformance_suite() {
    if crate::support::server().is_none() {
        return;
    }
    let dbs = Mutex::new(Vec::new());
    conformance::run_all(&|name| {
        let db = TestDb::new(name).expect("server");
        let config = db.config.clone();
        dbs.lock().expect("dbs").push(db);
        Box::new(move || {
            Ok(Box::new(PgStore::open_config(config.clone(), "test".into())?) as Box<dyn Store>)
        })
    });
}

/// bytea compares as memcmp in PostgreSQL itself (not only through the store): the order the
/// daemon's keys rely on, whatever the database's collation.
#[test]
fn bytea_orders_as_memcmp() {
    let Some(db) = TestDb::new("memcmp") else {
        return;
    };
    let mut c = db.config.connect(postgres::NoTls).expect("connect");
    let mut keys: Vec<Vec<u8>> = vec![
        vec![0xff],
        vec![0x80],
        vec![0x7f, 0xff],
        vec![],
        vec![0x00],
        vec![0x61],
        vec![0x41, 0x00],
        vec![0x41],
        vec![0xc3, 0xa9],
    ];
    let rows = c
        .query(
            "SELECT k FROM unnest($1::bytea[]) AS k ORDER BY k",
            &[&keys],
        )
        .expect("query");
    let got: Vec<Vec<u8>> = rows.iter().map(|r| r.get(0)).collect();
    keys.sort();
    assert_eq!(got, keys);
}

/// A commit whose transaction fails half way leaves none of its ops, and the counts as they were.
#[test]
fn a_failed_commit_leaves_nothing() {
    let Some(db) = TestDb::new("atomic") else {
        return;
    };
    let s = PgStore::open_config(db.config.clone(), "test".into()).expect("open");
    s.commit(&[Op::Put(Tree::Customers, b"A".to_vec(), b"1".to_vec())])
        .expect("commit");
    s.fail_next_commit_after(2);
    let ops = vec![
        Op::Put(Tree::Customers, b"A".to_vec(), b"2".to_vec()),
        Op::Put(Tree::Invoices, b"F-1".to_vec(), b"x".to_vec()),
        Op::Delete(Tree::Customers, b"A".to_vec()),
    ];
    let err = s.commit(&ops).expect_err("fails");
    assert!(err.to_string().contains("injected"), "{err}");
    assert!(s.last_error().is_some());
    assert_eq!(
        s.get(Tree::Customers, b"A").expect("get"),
        Some(b"1".to_vec())
    );
    assert_eq!(s.get(Tree::Invoices, b"F-1").expect("get"), None);
    assert_eq!((s.count(Tree::Customers), s.count(Tree::Invoices)), (1, 0));
    s.commit(&ops).expect("the same commit, not failed");
    assert_eq!(s.last_error(), None);
    assert_eq!((s.count(Tree::Customers), s.count(Tree::Invoices)), (0, 1));
}

/// A database migrated by a newer build (a migration this build does not have) is refused
/// with the same error as a newer sled store; opening twice at once migrates once.
#[test]
fn migrations_run_once_and_a_newer_sql_schema_is_refused() {
    let Some(db) = TestDb::new("migrate") else {
        return;
    };
    let opens: Vec<_> = (0..3)
        .map(|_| {
            let config = db.config.clone();
            std::thread::spawn(move || PgStore::open_config(config, "test".into()).map(drop))
        })
        .collect();
    for o in opens {
        o.join()
            .expect("thread")
            .expect("concurrent opens all succeed");
    }
    let mut c = db.config.connect(postgres::NoTls).expect("connect");
    let applied: i64 = c
        .query_one("SELECT count(*) FROM refinery_schema_history", &[])
        .expect("history")
        .get(0);
    assert_eq!(applied, 3, "V1, V2 and V3 applied once each");
    c.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (99, 'future', 'now', '0')",
        &[],
    )
    .expect("a future migration");
    match PgStore::open_config(db.config.clone(), "postgres://u:***@h/db".into()) {
        Err(StoreError::NewerSchema {
            found,
            supported,
            path,
        }) => {
            assert_eq!((found, supported), (99, 3));
            assert_eq!(path, "postgres://u:***@h/db");
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

/// The store answers from inside a tokio runtime (the daemon's handlers call it there; the
/// sync client's own runtime would panic).
#[test]
fn the_store_works_inside_a_tokio_runtime() {
    let Some(db) = TestDb::new("tokio") else {
        return;
    };
    let s =
        std::sync::Arc::new(PgStore::open_config(db.config.clone(), "test".into()).expect("open"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let got = rt.block_on(async {
        s.commit(&[Op::Put(Tree::Meta, b"k".to_vec(), b"v".to_vec())])
            .expect("commit");
        s.get(Tree::Meta, b"k").expect("get")
    });
    assert_eq!(got, Some(b"v".to_vec()));
}

/// A password in the URL appears in no error.
#[test]
fn the_password_is_not_shown() {
    let Some(_db) = TestDb::new("password") else {
        return;
    };
    let err = PgStore::open("postgres://nobody_here:s3cr3t@127.0.0.1:1/none")
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(
        text.contains("postgres://nobody_here:***@127.0.0.1:1/none"),
        "{text}"
    );
}

/// Connections killed by the server (a restart, a failover): the calls that meet a dead
/// connection fail, the next ones open it again, and the generation moves (the engine drops
/// what it keeps in memory).
#[test]
fn broken_connections_are_opened_again() {
    let Some(db) = TestDb::new("reconnect") else {
        return;
    };
    let s = PgStore::open_config(db.config.clone(), "test".into()).expect("open");
    s.commit(&[Op::Put(Tree::Customers, b"A".to_vec(), b"1".to_vec())])
        .expect("commit");
    assert_eq!(s.generation(), 0);
    let mut admin = db.config.connect(postgres::NoTls).expect("connect");
    let killed: i64 = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .expect("terminate")
        .get(0);
    assert!(killed >= 1, "the store's connections were killed");
    let mut failures = 0;
    let mut ok = 0;
    for _ in 0..20 {
        match s.get(Tree::Customers, b"A") {
            Ok(v) => {
                assert_eq!(v, Some(b"1".to_vec()));
                ok += 1;
            }
            Err(_) => failures += 1,
        }
    }
    assert!(ok >= 10, "served again after {failures} failures");
    assert!(s.generation() >= 1, "the generation moved");
    s.commit(&[Op::Put(Tree::Customers, b"B".to_vec(), b"1".to_vec())])
        .expect("commit after");
    assert_eq!(s.count(Tree::Customers), 2);
}

/// Two writers committing the same keys in opposite orders: with the ops applied as given,
/// PostgreSQL aborted one as a deadlock victim (this test failed so); the store writes every
/// commit's keys in one order (and runs a deadlock victim again), so every commit succeeds:
/// sled has no such failure, and the daemon does not expect one.
#[test]
fn commits_writing_the_same_keys_in_opposite_orders_all_succeed() {
    let Some(db) = TestDb::new("deadlock") else {
        return;
    };
    let s =
        std::sync::Arc::new(PgStore::open_config(db.config.clone(), "test".into()).expect("open"));
    let keys: Vec<Vec<u8>> = (0..20u8).map(|k| vec![k]).collect();
    let writers: Vec<_> = [false, true]
        .into_iter()
        .map(|reverse| {
            let s = s.clone();
            let mut keys = keys.clone();
            if reverse {
                keys.reverse();
            }
            std::thread::spawn(move || {
                for n in 0..60u8 {
                    let ops: Vec<Op> = keys
                        .iter()
                        .map(|k| Op::Put(Tree::Outbox, k.clone(), vec![n]))
                        .collect();
                    s.commit(&ops).expect("every commit succeeds");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    assert_eq!(s.count(Tree::Outbox), 20);
}

/// Schema 5 on PostgreSQL: a backup of schema 4 (messages whole, their items inside them)
/// restores into a fresh database as schema 4, and the daemon's migration moves every
/// message's items into `tree_message_items` (V3): the messages read back whole and equal,
/// the store verifies sound, and a second run of the migration finds nothing to do.
#[test]
fn a_schema_4_backup_restores_and_its_items_move_apart() {
    use relance_daemon::model::Message;
    use relance_daemon::store::SCHEMA_KEY;
    use relance_daemon::{backup, messages, migrate, verify};
    let Some(db) = TestDb::new("items") else {
        return;
    };
    let store = PgStore::open_config(db.config.clone(), "test".into()).expect("open");
    let item = |invoice: &str| {
        serde_json::json!({"invoice": invoice, "key": format!("{invoice}/v/reminder-1/1/0"),
            "step": "reminder-1", "version": "v", "issued": "2026-01-01", "due": "2026-01-31",
            "amount": "100.00", "outstanding": "100.00", "currency": "EUR"})
    };
    let message = |id: u64, status: &str, items: Vec<serde_json::Value>| {
        serde_json::json!({"id": id, "key": format!("F-{id}/v/reminder-1/1/0"), "group": "g",
            "date": "2026-02-03", "customer": "ACME", "channel": "email",
            "text": "email \"reminder-1\" to accounting",
            "action": {"kind": "email", "template": "reminder-1", "to": ["accounting"], "cc": []},
            "scenario": "s", "items": items, "status": status, "sealed": true, "attempts": 1})
    };
    let dead = message(1, "dead", vec![item("F-1"), item("F-2"), item("F-3")]);
    let sent = message(2, "delivered", vec![item("F-4")]);
    let lines = [
        serde_json::json!({"format": "relance-backup", "version": 1, "schema": 4, "trees": []}),
        serde_json::json!({"tree": "outbox", "key_hex": "0000000000000001", "value": dead}),
        serde_json::json!({"tree": "delivered", "key_hex": "0000000000000002", "value": sent}),
        serde_json::json!({"end": true, "entries": 2}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    backup::restore(&store, &mut text.as_bytes(), false).expect("restore");
    assert_eq!(
        store.get(Tree::Meta, SCHEMA_KEY).expect("get"),
        Some(4u32.to_be_bytes().to_vec())
    );
    let today = "2026-02-04".parse().expect("date");
    assert_eq!(migrate::migrate(&store, today).expect("migrate"), Some(4));
    assert_eq!(store.count(Tree::MessageItems), 4);
    let want = |v: serde_json::Value| -> Vec<Message> {
        vec![serde_json::from_value(v).expect("a whole message")]
    };
    assert_eq!(
        messages::all(&store, Tree::Outbox).expect("outbox"),
        want(dead)
    );
    assert_eq!(
        messages::all(&store, Tree::Delivered).expect("delivered"),
        want(sent)
    );
    let report = verify::verify(&store).expect("verify");
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(migrate::migrate(&store, today).expect("again"), None);
}

/// Every backend of the test database but the caller's is ended, as a server crash or a cut
/// network ends them; returns once they are gone (termination is asynchronous: a backend
/// still alive would serve one more statement).
fn end_the_pools_connections(db: &TestDb) {
    let mut c = db.config.connect(postgres::NoTls).expect("connect");
    let others =
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
    c.execute(&format!("SELECT pg_terminate_backend(pid) {others}"), &[])
        .expect("terminate");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while c
        .query_one(&format!("SELECT count(*) {others}"), &[])
        .expect("count")
        .get::<_, i64>(0)
        > 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "backends still alive after 10 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Commits run with `synchronous_commit` off and a flush makes them durable (the module doc of
/// `relance-pg`). A write is acknowledged by `flush_since` the generation read before its
/// commit: when a connection of the pool was opened again in between (a server crash may
/// have lost the commit), that fails, even after another writer's flush took the store's own
/// marker of unflushed commits (the group-commit race a review found). A break with nothing
/// left to flush says nothing of the kind, and writes after it are acknowledged again.
#[test]
fn a_write_whose_commit_straddles_a_reopened_connection_is_not_acknowledged() {
    let Some(db) = TestDb::new("lost_flush") else {
        return;
    };
    let store = PgStore::open_config(db.config.clone(), "test".into()).expect("open");
    let put = |k: &[u8]| Op::Put(Tree::Timers, k.to_vec(), b"v".to_vec());
    let may_be_lost = |e: &StoreError| e.to_string().contains("may be lost");
    let since = store.generation();
    store.commit(&[put(b"a")]).expect("commit");
    store
        .flush_since(since)
        .expect("a flush with the connections whole");

    // Nothing unflushed when the connections break: no flush says a commit may be lost.
    end_the_pools_connections(&db);
    let mut flushed = 0;
    for _ in 0..20 {
        match store.flush() {
            Ok(()) => flushed += 1,
            Err(e) => assert!(!may_be_lost(&e), "nothing was waiting: {e}"),
        }
    }
    assert!(flushed >= 10, "flushes work again");

    // A commit, then the connections break and one is opened again before its flush.
    let since = store.generation();
    store.commit(&[put(b"b")]).expect("commit");
    end_the_pools_connections(&db);
    for _ in 0..50 {
        if store.generation() > since {
            break;
        }
        let _ = store.get(Tree::Timers, b"a");
    }
    assert!(store.generation() > since, "a connection was opened again");
    // Another writer's flush runs first (whatever it answers, it takes the store's marker).
    let _ = store.flush();
    // Never acknowledged: a flush that meets one more dead connection fails as such, and once
    // flushes work again the write is refused as possibly lost.
    let mut refused = None;
    for _ in 0..10 {
        match store.flush_since(since) {
            Ok(()) => panic!("a commit that may be lost was acknowledged"),
            Err(e) if may_be_lost(&e) => {
                refused = Some(e);
                break;
            }
            Err(_) => {}
        }
    }
    assert!(refused.is_some(), "the write was refused as possibly lost");

    // Writes go on: one that meets one more dead connection fails (not acknowledged) and is
    // tried again; within a few tries every connection is open again and a write is
    // acknowledged, the error cleared.
    let written = (0..10).any(|_| {
        let since = store.generation();
        store.commit(&[put(b"c")]).is_ok() && store.flush_since(since).is_ok()
    });
    assert!(written, "a write is acknowledged again");
    assert_eq!(store.last_error(), None);
    assert_eq!(
        store.get(Tree::Timers, b"c").expect("read"),
        Some(b"v".to_vec())
    );
}

/// The pool opens its four connections with the store (so that a later opening is always a
/// new session, and moves the generation), their sessions commit with `synchronous_commit`
/// off, and a flush commits at the server's durable level (`on` when the server says `off`).
#[test]
fn the_pools_sessions_commit_asynchronously() {
    let Some(db) = TestDb::new("async_commit") else {
        return;
    };
    let store = PgStore::open_config(db.config.clone(), "test".into()).expect("open");
    let mut c = db.config.connect(postgres::NoTls).expect("connect");
    let sessions: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .expect("count")
        .get(0);
    assert!(sessions >= 4, "the pool's connections are open: {sessions}");
    let server: String = c
        .query_one("SHOW synchronous_commit", &[])
        .expect("show")
        .get(0);
    let durable = if server == "off" {
        "on".to_string()
    } else {
        server
    };
    let (session, flush) = store.pool_synchronous_commit().expect("show");
    assert_eq!((session.as_str(), flush), ("off", durable.as_str()));
}

/// A flush that fails inside PostgreSQL (here a lock timeout on the schema row it rewrites,
/// held by another session) leaves its connection usable: its transaction is rolled back
/// whole, so the next jobs on every connection of the pool succeed (regression: an explicit
/// `BEGIN … COMMIT` in one query string left the session in an aborted transaction, every
/// later statement refused with 25P02).
#[test]
fn a_failed_flush_leaves_the_pool_usable() {
    let Some(db) = TestDb::new("failed_flush") else {
        return;
    };
    let mut admin = db.config.connect(postgres::NoTls).expect("connect");
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {} SET lock_timeout = '200ms'",
            db.name
        ))
        .expect("lock_timeout");
    let store = PgStore::open_config(db.config.clone(), "test".into()).expect("open");
    let put = |k: &[u8]| Op::Put(Tree::Timers, k.to_vec(), b"v".to_vec());
    store.commit(&[put(b"a")]).expect("commit");
    let mut holder = db.config.connect(postgres::NoTls).expect("connect");
    let mut tx = holder.transaction().expect("begin");
    tx.execute(
        "SELECT 1 FROM tree_meta WHERE key = $1 FOR UPDATE",
        &[&relance_daemon::store::SCHEMA_KEY],
    )
    .expect("lock the schema row");
    let refused = store.flush().expect_err("the schema row is locked");
    assert!(refused.to_string().contains("lock"), "{refused}");
    tx.rollback().expect("release");
    for i in 0..12u8 {
        let since = store.generation();
        store
            .commit(&[put(&[b'k', i])])
            .expect("a commit after the failed flush");
        store
            .flush_since(since)
            .expect("a flush after the failed flush");
        assert!(store.next_id().expect("an id") > 0);
    }
    assert_eq!(
        store.generation(),
        0,
        "no connection had to be opened again"
    );
}

/// Commits of more shapes (which trees they put to and delete from) than a connection keeps
/// prepared statements for: every one lands, the counts stay exact, and the cache starts
/// again instead of growing (each shape is one statement, `batch.rs`).
#[test]
fn commits_of_many_shapes_all_land() {
    let Some(db) = TestDb::new("shapes") else {
        return;
    };
    let store = PgStore::open_config(db.config.clone(), "test".into()).expect("open");
    let trees: Vec<Tree> = Tree::ALL
        .iter()
        .copied()
        .filter(|t| *t != Tree::Meta)
        .collect();
    let before: Vec<usize> = trees.iter().map(|t| store.count(*t)).collect();
    let mut puts = vec![0usize; trees.len()];
    // 600 shapes: the subsets of trees numbered 1..=600, each a put per tree in the subset
    // (a key of its own) and a delete of a key that is not there.
    for shape in 1u32..=600 {
        let mut ops = Vec::new();
        for (i, t) in trees
            .iter()
            .enumerate()
            .filter(|(i, _)| shape & (1 << i) != 0)
        {
            ops.push(Op::Put(*t, format!("k{shape}").into_bytes(), b"v".to_vec()));
            ops.push(Op::Delete(*t, format!("absent{shape}").into_bytes()));
            puts[i] += 1;
        }
        store.commit(&ops).expect("a commit of a new shape");
    }
    store.flush().expect("flush");
    for (i, t) in trees.iter().enumerate() {
        assert_eq!(store.count(*t), before[i] + puts[i], "{t:?}");
    }
}
