//! The store conformance suite: one set of checks, generic over [`Store`], that every storage
//! engine must pass (sled in this crate's tests, PostgreSQL in `engine/pg/tests`). Each check
//! gets an opener of one fresh, empty store; calling it again reopens the same store (the
//! previous handle is dropped first), so durability, `next_id` across reopen and the schema
//! refusal are checked too.
//!
//! Built for tests only (`cfg(test)` or the `conformance` feature). It owns the checks, never a
//! store: it must not know any engine (no sled, no SQL here).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Op, SCHEMA_KEY, SCHEMA_VERSION, Store, StoreError, Tree};

/// Opens (or reopens) the store under test.
pub type Opener<'a> = &'a dyn Fn() -> Result<Box<dyn Store>, StoreError>;

/// One check: its name and its body.
pub type Check = (&'static str, fn(Opener<'_>));

/// Every check, in a table: a store implementation runs each one on a fresh store.
pub fn checks() -> Vec<Check> {
    vec![
        ("get_put_overwrite_delete", get_put_overwrite_delete),
        ("get_many_answers_as_get", get_many_answers_as_get),
        ("keys_order_as_bytes", keys_order_as_bytes),
        ("range_bounds_limits_order", range_bounds_limits_order),
        ("prefix", prefix),
        ("scan_order_and_stop", scan_order_and_stop),
        ("trees_are_separate", trees_are_separate),
        ("commit_is_seen_whole", commit_is_seen_whole),
        ("counts_follow_commits", counts_follow_commits),
        ("durable_across_reopen", durable_across_reopen),
        ("next_id_strictly_increases", next_id_strictly_increases),
        ("advance_ids", advance_ids),
        ("newer_schema_refused", newer_schema_refused),
        ("concurrent_writers", concurrent_writers),
        ("snapshot_is_point_in_time", snapshot_is_point_in_time),
    ]
}

/// Runs every check, each on the store `fresh` makes (a new, empty one per call); panics
/// naming the check that failed.
/// Opens (or reopens) one store under test, owned.
pub type BoxedOpener = Box<dyn Fn() -> Result<Box<dyn Store>, StoreError>>;

pub fn run_all(fresh: &dyn Fn(&str) -> BoxedOpener) {
    for (name, check) in checks() {
        let open = fresh(name);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&*open)));
        if let Err(e) = result {
            let text = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("store conformance check {name} failed: {text}");
        }
    }
}

fn put(t: Tree, k: &[u8], v: &[u8]) -> Op {
    Op::Put(t, k.to_vec(), v.to_vec())
}

fn del(t: Tree, k: &[u8]) -> Op {
    Op::Delete(t, k.to_vec())
}

fn open(o: Opener<'_>) -> Box<dyn Store> {
    o().expect("open the store")
}

fn keys_of(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<Vec<u8>> {
    entries.into_iter().map(|(k, _)| k).collect()
}

fn walked(s: &dyn Store, t: Tree) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    s.scan(t, &mut |k, _| {
        out.push(k.to_vec());
        Ok(())
    })
    .expect("scan");
    out
}

fn get_put_overwrite_delete(o: Opener<'_>) {
    let s = open(o);
    let t = Tree::Customers;
    assert_eq!(s.get(t, b"A").expect("get"), None);
    s.commit(&[]).expect("an empty commit is fine");
    s.commit(&[put(t, b"A", b"1")]).expect("put");
    assert_eq!(s.get(t, b"A").expect("get"), Some(b"1".to_vec()));
    s.commit(&[put(t, b"A", b"2")]).expect("overwrite");
    assert_eq!(s.get(t, b"A").expect("get"), Some(b"2".to_vec()));
    s.commit(&[put(t, b"E", b"")]).expect("empty value");
    assert_eq!(s.get(t, b"E").expect("get"), Some(Vec::new()));
    s.commit(&[del(t, b"A"), del(t, b"absent")])
        .expect("delete present and absent");
    assert_eq!(s.get(t, b"A").expect("get"), None);
    // Ops of one commit apply in order.
    s.commit(&[
        put(t, b"B", b"1"),
        del(t, b"B"),
        put(t, b"C", b"1"),
        put(t, b"C", b"2"),
    ])
    .expect("ordered ops");
    assert_eq!(s.get(t, b"B").expect("get"), None);
    assert_eq!(s.get(t, b"C").expect("get"), Some(b"2".to_vec()));
    let big = vec![0xABu8; 300_000];
    s.commit(&[put(t, b"big", &big)]).expect("a large value");
    assert_eq!(s.get(t, b"big").expect("get"), Some(big));
    s.flush().expect("flush");
}

/// Keys compare as unsigned bytes (memcmp), shorter first on a common prefix: the order the
/// daemon's keys are built for (big-endian dates and ids, 0 separators).
fn keys_order_as_bytes(o: Opener<'_>) {
    let s = open(o);
    let t = Tree::Timers;
    let mut want: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x00, 0x00],
        vec![0x00, 0x01],
        vec![0x01],
        vec![0x41],
        vec![0x41, 0x00],
        vec![0x61],
        vec![0x7f],
        vec![0x7f, 0xff],
        vec![0x80],
        vec![0xc3, 0xa9],
        vec![0xfe, 0xff, 0xff],
        vec![0xff],
        vec![0xff, 0x00],
        vec![0xff, 0xff],
    ];
    // Written in a scrambled order.
    let ops: Vec<Op> = want
        .iter()
        .rev()
        .enumerate()
        .map(|(i, k)| put(t, k, &[i as u8]))
        .collect();
    s.commit(&ops[..5]).expect("commit");
    s.commit(&ops[5..]).expect("commit");
    want.sort();
    assert_eq!(walked(&*s, t), want, "scan order");
    assert_eq!(
        keys_of(s.range(t, &[], None, usize::MAX).expect("range")),
        want,
        "range order"
    );
}

fn range_bounds_limits_order(o: Opener<'_>) {
    let s = open(o);
    let t = Tree::Timers;
    let ops: Vec<Op> = ["d", "b", "f", "a", "c", "e", "bb"]
        .iter()
        .map(|k| put(t, k.as_bytes(), format!("v{k}").as_bytes()))
        .collect();
    s.commit(&ops).expect("commit");
    let cases: &[(&str, Option<&str>, usize, &[&str])] = &[
        ("", None, usize::MAX, &["a", "b", "bb", "c", "d", "e", "f"]),
        ("", None, 3, &["a", "b", "bb"]),
        ("", None, 0, &[]),
        ("b", Some("d"), usize::MAX, &["b", "bb", "c"]),
        ("b", Some("d"), 2, &["b", "bb"]),
        ("ba", Some("c"), usize::MAX, &["bb"]),
        ("c", None, usize::MAX, &["c", "d", "e", "f"]),
        ("g", None, usize::MAX, &[]),
        ("d", Some("d"), usize::MAX, &[]),
        ("d", Some("c"), usize::MAX, &[]),
        ("", Some("a"), usize::MAX, &[]),
        ("", Some("b"), usize::MAX, &["a"]),
    ];
    for (from, to, limit, want) in cases {
        let got = s
            .range(t, from.as_bytes(), to.map(str::as_bytes), *limit)
            .expect("range");
        let got_keys: Vec<String> = got
            .iter()
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect();
        assert_eq!(got_keys, *want, "{from:?}..{to:?} limit {limit}");
        for (k, v) in &got {
            assert_eq!(v, &[b"v", &k[..]].concat(), "value of {k:?}");
        }
    }
}

fn prefix(o: Opener<'_>) {
    let s = open(o);
    let t = Tree::History;
    let keys: &[&[u8]] = &[
        b"F-1\x00\x01",
        b"F-1\x00\x02",
        b"F-1\x00\xff",
        b"F-10\x00\x01",
        b"F-1",
        b"F-2\x00\x01",
        b"\xff\xff\x01",
        b"\xff\xff\xff",
        b"\xff",
    ];
    s.commit(&keys.iter().map(|k| put(t, k, b"")).collect::<Vec<_>>())
        .expect("commit");
    /// A prefix, a limit, the keys expected.
    type Case<'a> = (&'a [u8], usize, &'a [&'a [u8]]);
    let cases: &[Case] = &[
        (
            b"F-1\x00",
            usize::MAX,
            &[b"F-1\x00\x01", b"F-1\x00\x02", b"F-1\x00\xff"],
        ),
        (b"F-1\x00", 1, &[b"F-1\x00\x01"]),
        (
            b"F-1",
            usize::MAX,
            &[
                b"F-1",
                b"F-1\x00\x01",
                b"F-1\x00\x02",
                b"F-1\x00\xff",
                b"F-10\x00\x01",
            ],
        ),
        (b"F-3", usize::MAX, &[]),
        (b"\xff\xff", usize::MAX, &[b"\xff\xff\x01", b"\xff\xff\xff"]),
        (b"\xff", 2, &[b"\xff", b"\xff\xff\x01"]),
    ];
    for (p, limit, want) in cases {
        let got = keys_of(s.prefix(t, p, *limit).expect("prefix"));
        let want: Vec<Vec<u8>> = want.iter().map(|k| k.to_vec()).collect();
        assert_eq!(got, want, "prefix {p:?} limit {limit}");
    }
}

fn scan_order_and_stop(o: Opener<'_>) {
    let s = open(o);
    let t = Tree::Events;
    // More entries than one page of a paged scan.
    let ops: Vec<Op> = (0..2500u32)
        .rev()
        .map(|i| put(t, &u64::from(i).to_be_bytes(), &i.to_be_bytes()))
        .collect();
    s.commit(&ops).expect("commit");
    let mut n = 0u32;
    s.scan(t, &mut |k, v| {
        assert_eq!(k, u64::from(n).to_be_bytes(), "in key order");
        assert_eq!(v, n.to_be_bytes());
        n += 1;
        Ok(())
    })
    .expect("scan");
    assert_eq!(n, 2500);
    let mut seen = 0;
    let err = s
        .scan(t, &mut |_, _| {
            seen += 1;
            if seen == 3 {
                Err(StoreError::Engine("stop here".into()))
            } else {
                Ok(())
            }
        })
        .expect_err("the visitor's error stops the scan");
    assert!(err.to_string().contains("stop here"), "{err}");
    assert_eq!(seen, 3, "no entry visited after the error");
    let mut none = 0;
    s.scan(Tree::Handoffs, &mut |_, _| {
        none += 1;
        Ok(())
    })
    .expect("empty scan");
    assert_eq!(none, 0);
}

fn trees_are_separate(o: Opener<'_>) {
    let s = open(o);
    let ops: Vec<Op> = Tree::ALL
        .iter()
        .map(|t| put(*t, b"same-key", t.name().as_bytes()))
        .collect();
    s.commit(&ops).expect("commit");
    for t in Tree::ALL {
        assert_eq!(
            s.get(t, b"same-key").expect("get").as_deref(),
            Some(t.name().as_bytes()),
            "{}",
            t.name()
        );
    }
    s.commit(&[del(Tree::Outbox, b"same-key")]).expect("delete");
    assert_eq!(s.get(Tree::Outbox, b"same-key").expect("get"), None);
    assert!(s.get(Tree::Delivered, b"same-key").expect("get").is_some());
}

/// A commit is seen whole: a reader never sees some ops of a commit without the others (two
/// trees and two keys written together, read while a writer commits them again and again).
fn commit_is_seen_whole(o: Opener<'_>) {
    let s: Arc<dyn Store> = Arc::from(open(o));
    let write = |n: u32| {
        let v = n.to_be_bytes();
        vec![
            put(Tree::Outbox, b"a", &v),
            put(Tree::Outbox, b"b", &v),
            put(Tree::Delivered, b"c", &v),
        ]
    };
    s.commit(&write(0)).expect("commit");
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let s = s.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::SeqCst) || reads == 0 {
                let pair = s.range(Tree::Outbox, b"a", None, 2).expect("range");
                assert_eq!(pair.len(), 2);
                assert_eq!(pair[0].1, pair[1].1, "a and b of one commit, seen together");
                reads += 1;
            }
        })
    };
    for n in 1..=150 {
        s.commit(&write(n)).expect("commit");
    }
    done.store(true, Ordering::SeqCst);
    reader.join().expect("reader");
    assert_eq!(
        s.get(Tree::Delivered, b"c").expect("get"),
        Some(150u32.to_be_bytes().to_vec())
    );
}

/// `count` follows every commit, agrees with a walk, and survives a reopen.
fn counts_follow_commits(o: Opener<'_>) {
    use Tree::{Customers as C, Invoices as I, Outbox as O};
    let rows: Vec<(&str, Vec<Op>, [usize; 3])> = vec![
        (
            "new keys",
            vec![put(C, b"A", b""), put(C, b"B", b""), put(I, b"F-1", b"")],
            [2, 1, 0],
        ),
        (
            "overwrite",
            vec![put(C, b"A", b"x"), put(I, b"F-1", b"x")],
            [2, 1, 0],
        ),
        (
            "delete present and absent",
            vec![del(C, b"B"), del(C, b"Z")],
            [1, 1, 0],
        ),
        (
            "written twice",
            vec![put(O, b"1", b""), put(O, b"1", b""), put(I, b"F-2", b"")],
            [1, 2, 1],
        ),
        (
            "put then delete",
            vec![put(O, b"2", b""), del(O, b"2")],
            [1, 2, 1],
        ),
        (
            "delete then put",
            vec![del(O, b"1"), put(O, b"1", b"")],
            [1, 2, 1],
        ),
        (
            "moved across trees",
            vec![del(O, b"1"), put(I, b"F-3", b"")],
            [1, 3, 0],
        ),
    ];
    {
        let s = open(o);
        for (name, ops, want) in &rows {
            s.commit(ops).expect("commit");
            let got = [C, I, O].map(|t| s.count(t));
            assert_eq!(&got, want, "{name}");
            assert_eq!(
                got,
                [C, I, O].map(|t| walked(&*s, t).len()),
                "{name}: walked"
            );
        }
        s.flush().expect("flush");
    }
    let s = open(o);
    assert_eq!([C, I, O].map(|t| s.count(t)), [1, 3, 0], "after reopen");
}

fn durable_across_reopen(o: Opener<'_>) {
    {
        let s = open(o);
        s.commit(&[
            put(Tree::Customers, b"ACME", b"{}"),
            put(Tree::Invoices, b"F-1", b"{\"a\":1}"),
        ])
        .expect("commit");
        s.commit(&[del(Tree::Customers, b"ACME")]).expect("delete");
        s.flush().expect("flush");
        assert_eq!(s.last_error(), None);
    }
    let s = open(o);
    assert_eq!(s.get(Tree::Customers, b"ACME").expect("get"), None);
    assert_eq!(
        s.get(Tree::Invoices, b"F-1").expect("get").as_deref(),
        Some(&b"{\"a\":1}"[..])
    );
    let schema = s.get(Tree::Meta, SCHEMA_KEY).expect("get");
    assert_eq!(
        schema,
        Some(SCHEMA_VERSION.to_be_bytes().to_vec()),
        "a new store records the schema version"
    );
}

/// `get_many` answers, key by key and in the order asked, what `get` answers: present and
/// absent keys, a key asked twice, an empty key, an empty list, a deleted key, and a key of
/// another tree.
fn get_many_answers_as_get(o: Opener<'_>) {
    let s = open(o);
    let stored: Vec<Vec<u8>> = (0..40u8).map(|i| vec![b'k', i, 0xff - i]).collect();
    let mut ops: Vec<Op> = stored
        .iter()
        .map(|k| put(Tree::Invoices, k, &[k.as_slice(), b"-v"].concat()))
        .collect();
    ops.push(put(Tree::Customers, b"other", b"x"));
    ops.push(put(Tree::Invoices, b"", b"empty key"));
    s.commit(&ops).expect("commit");
    s.commit(&[del(Tree::Invoices, &stored[3])])
        .expect("delete");
    let cases: Vec<Vec<Vec<u8>>> = vec![
        vec![],
        vec![stored[0].clone()],
        stored.clone(),
        stored.iter().rev().cloned().collect(),
        vec![
            stored[5].clone(),
            b"absent".to_vec(),
            stored[5].clone(),
            Vec::new(),
        ],
        vec![stored[3].clone(), b"other".to_vec(), stored[39].clone()],
    ];
    for keys in cases {
        let want: Vec<Option<Vec<u8>>> = keys
            .iter()
            .map(|k| s.get(Tree::Invoices, k).expect("get"))
            .collect();
        assert_eq!(
            s.get_many(Tree::Invoices, &keys).expect("get_many"),
            want,
            "{} keys",
            keys.len()
        );
    }
}

fn next_id_strictly_increases(o: Opener<'_>) {
    let mut last = None;
    for _ in 0..3 {
        let s = open(o);
        for _ in 0..50 {
            let id = s.next_id().expect("next_id");
            if let Some(prev) = last {
                assert!(id > prev, "{id} after {prev}");
            }
            last = Some(id);
        }
        s.flush().expect("flush");
    }
}

fn advance_ids(o: Opener<'_>) {
    {
        let s = open(o);
        let first = s.next_id().expect("next_id");
        s.advance_ids(first + 1000).expect("advance");
        assert!(s.next_id().expect("next_id") > first + 1000);
        // Never backwards.
        s.advance_ids(1).expect("advance");
        assert!(s.next_id().expect("next_id") > first + 1001);
        s.flush().expect("flush");
    }
    let s = open(o);
    assert!(s.next_id().expect("next_id") > 1002, "kept across a reopen");
}

fn newer_schema_refused(o: Opener<'_>) {
    {
        let s = open(o);
        s.commit(&[put(
            Tree::Meta,
            SCHEMA_KEY,
            &(SCHEMA_VERSION + 1).to_be_bytes(),
        )])
        .expect("commit");
        s.flush().expect("flush");
    }
    match o() {
        Err(StoreError::NewerSchema {
            found, supported, ..
        }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        Err(e) => panic!("refused with the wrong error: {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

fn concurrent_writers(o: Opener<'_>) {
    let s: Arc<dyn Store> = Arc::from(open(o));
    let threads: Vec<_> = (0..4u8)
        .map(|n| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..40u8 {
                    s.commit(&[
                        put(Tree::Customers, &[n, i], b"{}"),
                        put(Tree::Meta, b"shared", &[n, i]),
                    ])
                    .expect("commit");
                    s.flush().expect("flush");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer");
    }
    assert_eq!(s.count(Tree::Customers), 160);
    assert_eq!(walked(&*s, Tree::Customers).len(), 160);
}

/// Every entry of every tree, read now (no write runs meanwhile in the checks that call it).
fn everything(s: &dyn Store) -> BTreeMap<(Tree, Vec<u8>), Vec<u8>> {
    let mut out = BTreeMap::new();
    for t in Tree::ALL {
        s.scan(t, &mut |k, v| {
            out.insert((t, k.to_vec()), v.to_vec());
            Ok(())
        })
        .expect("scan");
    }
    out
}

/// A small seeded generator (xorshift64*): the checks must not depend on a crate's stream.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }

    /// 1 to 6 random puts and deletes over a few trees and a small key space (so that they
    /// land before, at and after a reader's position, on keys present and absent).
    fn ops(&mut self, round: u64) -> Vec<Op> {
        const TREES: [Tree; 4] = [Tree::Customers, Tree::Invoices, Tree::Outbox, Tree::Events];
        (0..1 + self.below(6))
            .map(|_| {
                let t = TREES[self.below(4) as usize];
                let k = format!("k{:03}", self.below(120)).into_bytes();
                if self.below(3) == 0 {
                    del(t, &k)
                } else {
                    put(t, &k, format!("v{round}-{}", self.below(1000)).as_bytes())
                }
            })
            .collect()
    }
}

/// Differential, seeded: a snapshot visited while random commits land (some flushed, some
/// not: on sled, a flush moves pending commits into the engine under the reader) yields
/// exactly the store as it was when the snapshot was taken, in tree then key order; the
/// commits made meanwhile all succeed and are all there afterwards.
fn snapshot_is_point_in_time(o: Opener<'_>) {
    let s = open(o);
    for seed in 1..=6u64 {
        let mut rng = Seeded(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for round in 0..40 {
            s.commit(&rng.ops(round)).expect("seed commit");
        }
        if seed.is_multiple_of(2) {
            s.flush().expect("flush");
        }
        let before = everything(&*s);
        let want: Vec<(Tree, Vec<u8>, Vec<u8>)> = before
            .iter()
            .map(|((t, k), v)| (*t, k.clone(), v.clone()))
            .collect();
        let snap = s.snapshot().expect("snapshot");
        let mut got = Vec::new();
        let mut n = 0u64;
        snap.visit(&mut |t, k, v| {
            got.push((t, k.to_vec(), v.to_vec()));
            n += 1;
            if n.is_multiple_of(3) {
                s.commit(&rng.ops(1000 + n))?;
                if rng.below(2) == 0 {
                    s.flush()?;
                }
            }
            Ok(())
        })
        .expect("visit");
        assert!(n >= 3, "seed {seed}: the visit wrote while it ran");
        let order = |(t, k, _): &(Tree, Vec<u8>, Vec<u8>)| (*t, k.clone());
        assert!(
            got.windows(2).all(|w| order(&w[0]) < order(&w[1])),
            "seed {seed}: tree then key order"
        );
        assert_eq!(
            got, want,
            "seed {seed}: the store as it was when the snapshot was taken"
        );
        assert_ne!(everything(&*s), before, "seed {seed}: the writes landed");
    }
}
