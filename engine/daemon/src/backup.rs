//! Backups: a portable, versioned JSON-lines export of every tree of the store, and the
//! restore that rebuilds a store from it.
//!
//! Line 1 is a header (`format`, `version`, `schema`); then one line per entry
//! (`tree`, `key` as text or `key_hex`, `value` as JSON or `value_hex`); the last line is a
//! footer with the entry count, so a truncated file is refused. An export reads a
//! [`Snapshot`] of the store (one moment of it) and streams it: writes go on while it runs,
//! and what it holds in memory does not grow with the store. The restored store takes the
//! header's schema version (an older one is migrated when `relance serve` opens it). A restore goes into an empty
//! store (or one left by an interrupted restore, emptied first) and marks it incomplete until
//! its last entry is durable, twice: a marker file in the data folder, written and synced
//! before the store is even opened ([`begin_restore`], removed by [`finish_restore`]), and a
//! meta key inside the store. A store with either is refused by `relance serve` and by
//! `relance backup` ([`check_complete`]). Before the restore is marked complete, the store's id
//! counter is moved past every id in the backup (`store::ids::continue_ids`, shared with
//! `relance store copy`): a backup does not record the counter. This module must not interpret
//! records beyond their encoding.

use std::io::{BufRead, Write};
use std::path::Path;

use serde_json::{Value, json};

use super::engine::Engine;
use super::error::DaemonError;
use super::store::{Op, SCHEMA_KEY, SCHEMA_VERSION, Snapshot, Store, StoreError, Tree, ids};

pub const FORMAT: &str = "relance-backup";
pub const VERSION: u64 = 1;
/// Meta key set while a restore is in progress.
pub const RESTORING: &[u8] = b"restore_incomplete";
/// The marker file in the data folder while a restore is in progress.
pub const MARKER_FILE: &str = "RESTORE-INCOMPLETE";

/// The refusal of a store whose restore did not finish.
fn unfinished(dir: &Path) -> DaemonError {
    DaemonError::Conflict(format!(
        "the store at {}: restore did not finish; restore again \
         (`relance restore --data {} BACKUP.jsonl` starts it over)",
        dir.display(),
        dir.display()
    ))
}

/// Whether the data folder `dir` holds an unfinished restore's marker file.
pub fn restore_pending(dir: &Path) -> bool {
    dir.join(MARKER_FILE).exists()
}

/// Before a restore touches the store in `dir`: writes the marker file and makes it durable
/// (the file and its folder entry synced).
pub fn begin_restore(dir: &Path) -> Result<(), DaemonError> {
    let io = |e: std::io::Error| DaemonError::Io(format!("{}: {e}", dir.display()));
    let marker = dir.join(MARKER_FILE);
    let mut f = std::fs::File::create(&marker).map_err(io)?;
    f.write_all(b"a restore into this folder has not finished: restore again\n")
        .map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}

/// After the restore's last entry is durable: removes the marker file, durably.
pub fn finish_restore(dir: &Path) -> Result<(), DaemonError> {
    let io = |e: std::io::Error| DaemonError::Io(format!("{}: {e}", dir.display()));
    std::fs::remove_file(dir.join(MARKER_FILE)).map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}

/// How many entries an export or restore handled.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub entries: u64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn printable(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|s| !s.chars().any(char::is_control))
}

/// Writes every entry of every tree, as of one moment: a snapshot taken now (see
/// [`export_snapshot`]).
pub fn export(store: &dyn Store, out: &mut dyn Write) -> Result<Stats, DaemonError> {
    let schema = store
        .get(Tree::Meta, SCHEMA_KEY)?
        .and_then(|v| <[u8; 4]>::try_from(v.as_slice()).ok())
        .map_or(SCHEMA_VERSION, u32::from_be_bytes);
    export_at(store.snapshot()?, schema, out)
}

/// The backup of a running daemon (`GET /v1/backup`): the writer lock is held only while the
/// snapshot is taken, so the export is the store between two writes (never half of one),
/// and writes go on while it is streamed into `out`.
pub fn export_live(engine: &Engine, out: &mut dyn Write) -> Result<Stats, DaemonError> {
    let since = engine.generation();
    let snap = {
        let _writes_wait = engine.lock();
        engine.store().snapshot()?
    };
    // The snapshot may hold commits not flushed yet: made durable before a byte is exported,
    // so that a backup never holds a write the store could still lose.
    engine.flush_since(since)?;
    export_snapshot(snap, out)
}

/// Writes every entry of the snapshot `snap`, streamed: one entry in memory at a time, and
/// the store takes writes meanwhile (they are not in the export).
pub fn export_snapshot(
    snap: Box<dyn Snapshot + '_>,
    out: &mut dyn Write,
) -> Result<Stats, DaemonError> {
    export_at(snap, SCHEMA_VERSION, out)
}

/// [`export_snapshot`] of a store of schema `schema` (a store not migrated yet is exported as
/// what it is, so that its restore is migrated on open).
fn export_at(
    snap: Box<dyn Snapshot + '_>,
    schema: u32,
    out: &mut dyn Write,
) -> Result<Stats, DaemonError> {
    let io = |e: std::io::Error| DaemonError::Io(format!("backup: {e}"));
    let header = json!({"format": FORMAT, "version": VERSION, "schema": schema,
        "trees": Tree::ALL.iter().map(|t| t.name()).collect::<Vec<_>>()});
    writeln!(out, "{header}").map_err(io)?;
    let mut stats = Stats::default();
    snap.visit(&mut |tree, k, v| {
        let mut line = serde_json::Map::new();
        line.insert("tree".into(), json!(tree.name()));
        match printable(k) {
            Some(s) => line.insert("key".into(), json!(s)),
            None => line.insert("key_hex".into(), json!(hex(k))),
        };
        match serde_json::from_slice::<Value>(v) {
            Ok(value) if !v.is_empty() => line.insert("value".into(), value),
            _ => line.insert("value_hex".into(), json!(hex(v))),
        };
        writeln!(out, "{}", Value::Object(line)).map_err(|e| StoreError::Engine(e.to_string()))?;
        stats.entries += 1;
        Ok(())
    })?;
    writeln!(out, "{}", json!({"end": true, "entries": stats.entries})).map_err(io)?;
    Ok(stats)
}

/// Whether a store holds nothing but its schema version.
pub fn is_empty(store: &dyn Store) -> Result<bool, DaemonError> {
    for tree in Tree::ALL {
        let entries = store.range(tree, &[], None, 2)?;
        let only_schema = tree == Tree::Meta && entries.iter().all(|(k, _)| k == SCHEMA_KEY);
        if !entries.is_empty() && !only_schema {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Refuses the store in `dir` if a restore into it did not finish (its marker file, checked
/// before opening, or its meta key).
pub fn check_complete(dir: &Path, store: Option<&dyn Store>) -> Result<(), DaemonError> {
    if restore_pending(dir) {
        return Err(unfinished(dir));
    }
    if let Some(store) = store
        && store.get(Tree::Meta, RESTORING)?.is_some()
    {
        return Err(unfinished(dir));
    }
    Ok(())
}

/// Deletes every entry but the schema version (what an interrupted restore left).
fn clear(store: &dyn Store) -> Result<(), DaemonError> {
    for tree in Tree::ALL {
        loop {
            let keys: Vec<Op> = store
                .range(tree, &[], None, 1001)?
                .into_iter()
                .filter(|(k, _)| !(tree == Tree::Meta && k == SCHEMA_KEY))
                .map(|(k, _)| Op::Delete(tree, k))
                .collect();
            if keys.is_empty() {
                break;
            }
            store.commit(&keys)?;
        }
    }
    store.flush()?;
    Ok(())
}

/// Rebuilds an empty store from an export. `again`: the store is what an interrupted restore
/// left (its marker is there): it is emptied first.
pub fn restore(
    store: &dyn Store,
    input: &mut dyn BufRead,
    again: bool,
) -> Result<Stats, DaemonError> {
    if again || store.get(Tree::Meta, RESTORING)?.is_some() {
        clear(store)?;
    }
    if !is_empty(store)? {
        return Err(DaemonError::Conflict(
            "restore needs an empty data folder".into(),
        ));
    }
    let bad = |n: usize, why: &str| DaemonError::Io(format!("backup line {n}: {why}"));
    let mut lines = input.lines();
    let header: Value = match lines.next() {
        Some(Ok(l)) => serde_json::from_str(&l).map_err(|e| bad(1, &e.to_string()))?,
        _ => return Err(bad(1, "empty file")),
    };
    if header["format"] != FORMAT {
        return Err(bad(1, "not a relance backup"));
    }
    let version = header["version"].as_u64().unwrap_or(0);
    if version > VERSION {
        return Err(bad(
            1,
            &format!("backup format version {version} is newer than this relance ({VERSION})"),
        ));
    }
    let schema = header["schema"]
        .as_u64()
        .and_then(|s| u32::try_from(s).ok())
        .filter(|s| *s >= 1)
        .ok_or_else(|| bad(1, "no schema version in the header"))?;
    if schema > SCHEMA_VERSION {
        return Err(bad(
            1,
            &format!("schema {schema} is newer than this relance ({SCHEMA_VERSION})"),
        ));
    }
    store.commit(&[Op::Put(Tree::Meta, RESTORING.to_vec(), b"1".to_vec())])?;
    store.flush()?;
    let mut stats = Stats::default();
    let mut batch = Vec::new();
    let mut ended = false;
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        let line = line.map_err(|e| bad(n, &e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&line).map_err(|e| bad(n, &e.to_string()))?;
        if v["end"] == true {
            if v["entries"].as_u64() != Some(stats.entries) {
                return Err(bad(n, "entry count does not match: the file is damaged"));
            }
            ended = true;
            break;
        }
        let tree = v["tree"]
            .as_str()
            .and_then(Tree::by_name)
            .ok_or_else(|| bad(n, "unknown tree"))?;
        let key = match (&v["key"], &v["key_hex"]) {
            (Value::String(s), _) => s.as_bytes().to_vec(),
            (_, Value::String(h)) => unhex(h).ok_or_else(|| bad(n, "bad key_hex"))?,
            _ => return Err(bad(n, "no key")),
        };
        let value = match (&v["value"], &v["value_hex"]) {
            (_, Value::String(h)) => unhex(h).ok_or_else(|| bad(n, "bad value_hex"))?,
            (Value::Null, _) => return Err(bad(n, "no value")),
            (value, _) => serde_json::to_vec(value).map_err(|e| bad(n, &e.to_string()))?,
        };
        if tree == Tree::Meta && key == SCHEMA_KEY {
            stats.entries += 1;
            continue;
        }
        batch.push(Op::Put(tree, key, value));
        stats.entries += 1;
        if batch.len() >= 1000 {
            store.commit(&batch)?;
            batch.clear();
        }
    }
    if !ended {
        return Err(DaemonError::Io(
            "backup: no end line: the file is truncated".into(),
        ));
    }
    // The store takes the backup's schema, so that `relance serve` migrates an older one
    // (the fresh store was created with this build's).
    batch.push(Op::Put(
        Tree::Meta,
        SCHEMA_KEY.to_vec(),
        schema.to_be_bytes().to_vec(),
    ));
    store.commit(&batch)?;
    store.flush()?;
    // Ids go on past the backup's: later writes never take (and overwrite) a restored id.
    ids::continue_ids(store, 0)?;
    store.commit(&[Op::Delete(Tree::Meta, RESTORING.to_vec())])?;
    store.flush()?;
    Ok(stats)
}
