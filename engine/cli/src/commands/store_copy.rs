//! `relance store copy --from <sled folder|postgres://…> --to <sled folder|postgres://…>`: moves
//! a stopped daemon's store between sled and PostgreSQL (either way, or sled to sled). Every
//! tree is copied as bytes into an empty destination, which is marked as an unfinished
//! restore until the copy is done (a daemon refuses it meanwhile); the destination's ids are
//! moved past the source's; then both stores are exported in the backup format
//! (`daemon::backup::export`) and the two exports compared. Exit 0 copied and identical,
//! 1 the exports differ, 2 a store cannot be opened or the destination is not empty.
//!
//! It must not change the source, and never prints a database password.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::exit;
use relance_daemon::backup;
use relance_daemon::store::{Op, SledStore, Store, StoreError, Tree, ids};

/// Entries per commit into the destination.
const BATCH: usize = 1000;

/// A store location as given on the command line, for messages (no password).
fn shown(location: &str) -> String {
    if relance_pg::is_postgres_url(location) {
        relance_pg::redact(location)
    } else {
        location.to_string()
    }
}

/// Opens the store at `location`: a PostgreSQL URL, else a sled folder (`create`: made if
/// missing; else it must hold a store).
fn open(location: &str, create: bool) -> Result<Arc<dyn Store>, String> {
    if relance_pg::is_postgres_url(location) {
        return relance_pg::open_exclusive(location).map_err(|e| e.to_string());
    }
    let dir = Path::new(location);
    if !create && !dir.join("db").is_file() {
        return Err(format!("{location}: no store here"));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{location}: {e}"))?;
    backup::check_complete(dir, None).map_err(|e| e.to_string())?;
    let store = SledStore::open(dir).map_err(|e| e.to_string())?;
    Ok(Arc::new(store))
}

/// A writer that only hashes what it is given.
struct Hasher(Sha256);

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The SHA-256 of the store's export and its entry count.
fn export_digest(store: &dyn Store) -> Result<(String, u64), String> {
    let mut h = Hasher(Sha256::new());
    let stats = backup::export(store, &mut h).map_err(|e| e.to_string())?;
    let digest = h.0.finalize();
    Ok((
        digest.iter().map(|b| format!("{b:02x}")).collect(),
        stats.entries,
    ))
}

/// Copies every tree of `from` into the empty `to`.
fn copy(from: &dyn Store, to: &dyn Store) -> Result<u64, StoreError> {
    to.commit(&[Op::Put(
        Tree::Meta,
        backup::RESTORING.to_vec(),
        b"1".to_vec(),
    )])?;
    to.flush()?;
    let mut copied = 0u64;
    for tree in Tree::ALL {
        let mut batch = Vec::with_capacity(BATCH);
        from.scan(tree, &mut |k, v| {
            batch.push(Op::Put(tree, k.to_vec(), v.to_vec()));
            copied += 1;
            if batch.len() >= BATCH {
                to.commit(&batch)?;
                batch.clear();
            }
            Ok(())
        })?;
        to.commit(&batch)?;
    }
    // Ids the destination hands out from now on are past every id of the source.
    // (The same function as `relance restore`: past the source's counter and every id copied.)
    ids::continue_ids(to, from.next_id()?)?;
    to.commit(&[Op::Delete(Tree::Meta, backup::RESTORING.to_vec())])?;
    to.flush()?;
    Ok(copied)
}

pub fn run(from: &str, to: &str) -> u8 {
    let fail = |e: String| {
        eprintln!("error: {e}");
        exit::USAGE
    };
    if from == to {
        return fail("--from and --to are the same store".into());
    }
    let source = match open(from, false) {
        Ok(s) => s,
        Err(e) => return fail(format!("source {}: {e}", shown(from))),
    };
    if let Err(e) = backup::check_complete(Path::new(""), Some(&*source)) {
        return fail(format!("source {}: {e}", shown(from)));
    }
    let dest = match open(to, true) {
        Ok(s) => s,
        Err(e) => return fail(format!("destination {}: {e}", shown(to))),
    };
    match backup::is_empty(&*dest) {
        Ok(true) => {}
        Ok(false) => {
            return fail(format!(
                "destination {} is not empty (a copy needs an empty store: a new folder, or a new database)",
                shown(to)
            ));
        }
        Err(e) => return fail(format!("destination {}: {e}", shown(to))),
    }
    let copied = match copy(&*source, &*dest) {
        Ok(n) => n,
        Err(e) => {
            return fail(format!(
                "copy to {} failed: {e} (the destination is marked unfinished: empty it and copy again)",
                shown(to)
            ));
        }
    };
    let (a, b) = match (export_digest(&*source), export_digest(&*dest)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return fail(format!("verification: {e}")),
    };
    if a != b {
        eprintln!(
            "error: the stores' backups differ after the copy: {} entries ({}) in {}, {} entries ({}) in {}",
            a.1,
            a.0,
            shown(from),
            b.1,
            b.0,
            shown(to)
        );
        return exit::FINDINGS;
    }
    println!(
        "copied {copied} entries from {} to {}; their backups are identical ({} entries, sha256 {})",
        shown(from),
        shown(to),
        a.1,
        a.0
    );
    exit::OK
}
