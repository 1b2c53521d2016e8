//! What the daily run and the dispatcher ask PostgreSQL, and that it answers from the
//! primary keys: the due timers are a range of `tree_timers` keys (the date first), the
//! messages due a range of `tree_due` keys (the next attempt's time first), so each table's
//! primary-key index is the index by date or by next attempt and no other index is needed
//! (docs/DEPLOY.md, "Schema and indexes"). And a large commit, written as one statement per
//! tree and kind, keeps the entry counts exact.

use chrono::NaiveDate;
use relance_daemon::keys;
use relance_daemon::store::{Op, Store, Tree};
use relance_pg::PgStore;

use crate::support::TestDb;

/// The statement `PgStore::range` prepares (engine/pg/src/lib.rs), on `table`.
fn range_sql(table: &str) -> String {
    format!("SELECT key, value FROM {table} WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3")
}

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + chrono::Days::new(u64::from(n))
}

#[test]
fn the_daily_run_and_the_dispatcher_read_through_the_primary_keys() {
    let Some(db) = TestDb::new("plans") else {
        return;
    };
    let s = PgStore::open_config(db.config.clone(), "test".into()).expect("open");
    // 120 days of 500 timers, and 60,000 queued messages over as many seconds.
    for d in 0..120u32 {
        let ops: Vec<Op> = (0..500)
            .map(|i| {
                Op::Put(
                    Tree::Timers,
                    keys::timer(day(d), &format!("F-{:07}", d * 500 + i)),
                    vec![1; 40],
                )
            })
            .collect();
        s.commit(&ops).expect("timers");
    }
    for chunk in 0..60u64 {
        let ops: Vec<Op> = (0..1000)
            .map(|i| {
                let id = chunk * 1000 + i;
                Op::Put(
                    Tree::Due,
                    keys::due(1_700_000_000_000 + id * 1000, id).to_vec(),
                    vec![],
                )
            })
            .collect();
        s.commit(&ops).expect("due");
    }
    assert_eq!(
        (s.count(Tree::Timers), s.count(Tree::Due)),
        (60_000, 60_000)
    );
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    c.batch_execute("ANALYZE tree_timers; ANALYZE tree_due")
        .expect("analyze");
    let cases: [(&str, Vec<u8>, Vec<u8>, i64); 2] = [
        // The due timers: from the first key to the end of the day (earlier days were run),
        // a batch at a time (daily.rs).
        ("tree_timers", Vec::new(), keys::date(day(1)).to_vec(), 1000),
        // The messages due by now, all of them (the dispatcher's poll, engine.rs).
        (
            "tree_due",
            Vec::new(),
            keys::due(1_700_000_100_000, 0).to_vec(),
            i64::MAX,
        ),
    ];
    for (table, from, to, limit) in cases {
        let rows = c
            .query(
                &format!("EXPLAIN {}", range_sql(table)),
                &[&from, &to, &limit],
            )
            .expect("explain");
        let plan: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
        let plan = plan.join("\n");
        assert!(
            plan.contains(&format!("Index Scan using {table}_pkey")),
            "{table}: {plan}"
        );
        assert!(!plan.contains("Seq Scan"), "{table}: {plan}");
        assert!(
            !plan.contains("Sort"),
            "{table}: the index gives the order: {plan}"
        );
    }
}

/// One commit of 10,000 ops mixing puts, overwrites, deletes of existing and missing keys,
/// and several ops on one key: the rows are the net effect, the counts those of the tables.
#[test]
fn a_large_mixed_commit_keeps_the_counts_exact() {
    let Some(db) = TestDb::new("bigcommit") else {
        return;
    };
    let s = PgStore::open_config(db.config.clone(), "test".into()).expect("open");
    let key = |n: u32| format!("K-{n:06}").into_bytes();
    let first: Vec<Op> = (0..4000)
        .map(|n| Op::Put(Tree::Invoices, key(n), b"old".to_vec()))
        .collect();
    s.commit(&first).expect("first");
    let mut ops = Vec::new();
    for n in 0..2500 {
        // Overwrites of 0..2500, deletes of 2500..4000 (present) and 4000..5000 (missing)…
        ops.push(Op::Put(Tree::Invoices, key(n), b"new".to_vec()));
        let d = 2500 + n;
        if d < 5000 {
            ops.push(Op::Delete(Tree::Invoices, key(d)));
        }
    }
    for n in 5000..8000 {
        // …new keys, some put then deleted, some deleted then put twice.
        match n % 3 {
            0 => ops.push(Op::Put(Tree::Invoices, key(n), b"new".to_vec())),
            1 => {
                ops.push(Op::Put(Tree::Invoices, key(n), b"x".to_vec()));
                ops.push(Op::Delete(Tree::Invoices, key(n)));
            }
            _ => {
                ops.push(Op::Delete(Tree::Invoices, key(n)));
                ops.push(Op::Put(Tree::Invoices, key(n), b"x".to_vec()));
                ops.push(Op::Put(Tree::Invoices, key(n), b"new".to_vec()));
            }
        }
        ops.push(Op::Put(Tree::Customers, key(n), b"c".to_vec()));
    }
    s.commit(&ops).expect("the mixed commit");
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let count =
        |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[]).expect(sql).get(0) };
    let invoices = count(&mut c, "SELECT count(*) FROM tree_invoices");
    // 2,500 overwritten + 1,000 + 1,000 new of 5000..8000 (n % 3 == 0 or 2).
    assert_eq!(invoices, 4500);
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM tree_invoices WHERE value <> 'new'::bytea"
        ),
        0
    );
    assert_eq!(s.count(Tree::Invoices) as i64, invoices);
    assert_eq!(s.count(Tree::Customers), 3000);
    assert_eq!(
        s.get(Tree::Invoices, &key(3999)).expect("get"),
        None,
        "deleted"
    );
    // 5000 % 3 == 2: deleted, then put twice; 5002 % 3 == 1: put, then deleted.
    assert_eq!(
        s.get(Tree::Invoices, &key(5000)).expect("get"),
        Some(b"new".to_vec())
    );
    assert_eq!(s.get(Tree::Invoices, &key(5002)).expect("get"), None);
}
