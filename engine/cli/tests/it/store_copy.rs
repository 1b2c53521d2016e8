//! `relance store copy`: a sled store copied to PostgreSQL and back is the same store (its
//! backups are identical, byte keys and non-JSON values included), its ids stay unique, a
//! non-empty destination is refused, and no password is printed.
//!
//! Needs `RELANCE_TEST_PG` (see engine/pg/tests): without it the test prints a notice and
//! passes, except under CI, where it fails.

use std::path::Path;
use std::process::{Command, Output};

use relance_daemon::backup;
use relance_daemon::store::{Op, SledStore, Store, Tree};

use crate::support::TempDir;

/// `relance ARGS` with warnings only in the log (also the PostgreSQL ops tests').
pub(crate) fn relance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relance"))
        .env("RELANCE_LOG", "warn")
        .args(args)
        .output()
        .expect("relance")
}

/// A fresh database on the test server (dropped on drop), or `None` without a server.
pub(crate) struct Db {
    admin: String,
    name: String,
    pub url: String,
}

impl Db {
    pub fn new(tag: &str) -> Option<Db> {
        let admin = match std::env::var("RELANCE_TEST_PG") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "RELANCE_TEST_PG is not set under CI"
                );
                eprintln!("notice: RELANCE_TEST_PG is not set; PostgreSQL test `{tag}` skipped");
                return None;
            }
        };
        let name = format!("relance_cli_{tag}_{}", std::process::id());
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("connect");
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("drop");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create");
        let cut = admin.find('?').unwrap_or(admin.len());
        let base = &admin[..cut];
        let slash = base.rfind('/').expect("a database in the URL");
        let url = format!("{}/{name}{}", &base[..slash], &admin[cut..]);
        Some(Db { admin, name, url })
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn export(store: &dyn Store) -> String {
    let mut out = Vec::new();
    backup::export(store, &mut out).expect("export");
    String::from_utf8(out).expect("utf-8")
}

/// A sled store with entries in every tree: text and byte keys, JSON and byte values.
fn filled(dir: &Path) -> (String, u64) {
    let s = SledStore::open(dir).expect("open");
    let mut ops = Vec::new();
    for (i, t) in Tree::ALL.iter().enumerate() {
        for n in 0..30u8 {
            ops.push(Op::Put(
                *t,
                format!("k-{n:02}").into_bytes(),
                format!("{{\"n\":{n}}}").into_bytes(),
            ));
            ops.push(Op::Put(
                *t,
                vec![0xff, n, 0x00, i as u8],
                vec![0x00, 0x9f, n],
            ));
        }
    }
    s.commit(&ops).expect("commit");
    let mut last = 0;
    for _ in 0..10 {
        last = s.next_id().expect("id");
    }
    s.flush().expect("flush");
    (export(&s), last)
}

#[test]
fn a_store_copied_to_postgres_and_back_is_the_same_store() {
    let Some(db) = Db::new("copy") else { return };
    let dir = TempDir::new("store-copy");
    let src = dir.0.join("sled");
    let back = dir.0.join("back");
    let (before, last_id) = filled(&src);
    let src_s = src.display().to_string();
    let back_s = back.display().to_string();

    let out = relance(&["store", "copy", "--from", &src_s, "--to", &db.url]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("backups are identical"), "{stdout}");

    // Into a database that now holds a store: refused, nothing changed.
    let again = relance(&["store", "copy", "--from", &src_s, "--to", &db.url]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));

    let out = relance(&["store", "copy", "--from", &db.url, "--to", &back_s]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = SledStore::open(&back).expect("open the copy");
    assert_eq!(
        export(&s),
        before,
        "sled → PostgreSQL → sled keeps every entry"
    );
    assert!(
        s.next_id().expect("id") > last_id,
        "ids stay unique after the copy"
    );
    assert!(
        s.get(Tree::Meta, backup::RESTORING).expect("get").is_none(),
        "finished"
    );
}

#[test]
fn store_copy_never_prints_the_password() {
    if Db::new("pw").is_none() {
        return;
    }
    let dir = TempDir::new("store-copy-pw");
    let src = dir.0.join("sled");
    filled(&src);
    let out = relance(&[
        "store",
        "copy",
        "--from",
        &src.display().to_string(),
        "--to",
        "postgres://nobody:s3cr3t-pw@127.0.0.1:1/none",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("s3cr3t-pw"), "{err}");
    assert!(err.contains("nobody:***@127.0.0.1:1/none"), "{err}");
}
