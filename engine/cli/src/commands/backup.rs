//! `relance backup` and `relance restore`: the JSON-lines export of a store (read directly
//! from `--data DIR` or `--data postgres://…`, or from a running daemon with `--server URL`,
//! since the store is locked while it runs) and the rebuild of an empty store from it. Exit 0, or 2 with the reason.
//!
//! A restore writes its marker file before it opens the store and removes it only once its
//! last entry is durable; a store with the marker is refused by `relance serve` and by
//! `relance backup`, and `relance restore` into it starts over.

use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use super::exit;
use relance_daemon::backup;
use relance_daemon::store::{SledStore, Store};

fn fail(e: impl std::fmt::Display) -> u8 {
    eprintln!("error: {e}");
    exit::USAGE
}

pub fn backup(data: Option<&Path>, server: Option<&str>, token: Option<&str>, out: &Path) -> u8 {
    let tmp = out.with_extension("partial");
    let result = match (data, server) {
        (_, Some(url)) => from_server(url, token, &tmp),
        (Some(dir), None) => from_store(dir, &tmp),
        (None, None) => {
            return fail("give --data DIR (daemon stopped) or --server URL (daemon running)");
        }
    };
    match result.and_then(|n| {
        std::fs::rename(&tmp, out)
            .map(|_| n)
            .map_err(|e| e.to_string())
    }) {
        Ok(n) => {
            println!("{n} entries written to {}", out.display());
            exit::OK
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            fail(e)
        }
    }
}

fn from_store(dir: &Path, out: &Path) -> Result<u64, String> {
    if let Some(url) = super::store::postgres_url(dir) {
        let store = super::store::open_postgres(url).map_err(|e| {
            format!("{e} (if `relance serve` is running on it, use `relance backup --server URL --token TOKEN`)")
        })?;
        return write_export(&*store, out);
    }
    if !dir.is_dir() {
        return Err(format!("{}: no such store", dir.display()));
    }
    backup::check_complete(dir, None).map_err(|e| e.to_string())?;
    let store = SledStore::open(dir).map_err(|e| {
        format!("{e} (if `relance serve` is running on it, use `relance backup --server URL --token TOKEN`)")
    })?;
    backup::check_complete(dir, Some(&store)).map_err(|e| e.to_string())?;
    write_export(&store, out)
}

/// Exports `store` into the file `out`, synced; the entries written.
fn write_export(store: &dyn Store, out: &Path) -> Result<u64, String> {
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut w = BufWriter::new(file);
    let stats = backup::export(store, &mut w).map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())?;
    w.get_ref().sync_all().map_err(|e| e.to_string())?;
    Ok(stats.entries)
}

fn from_server(url: &str, token: Option<&str>, out: &Path) -> Result<u64, String> {
    let token = token
        .map(String::from)
        .or_else(|| std::env::var("RELANCE_TOKEN").ok())
        .ok_or("give --token or RELANCE_TOKEN")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let bytes = runtime.block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{}/v1/backup", url.trim_end_matches('/')))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!(
                "{}: {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            ));
        }
        resp.bytes().await.map_err(|e| e.to_string())
    })?;
    std::fs::write(out, &bytes).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count()
        .saturating_sub(2) as u64)
}

pub fn restore(data: &Path, input: &Path) -> u8 {
    let file = match std::fs::File::open(input) {
        Ok(f) => f,
        Err(e) => return fail(format!("{}: {e}", input.display())),
    };
    if let Err(e) = std::fs::create_dir_all(data) {
        return fail(format!("{}: {e}", data.display()));
    }
    let again = backup::restore_pending(data);
    let store = match SledStore::open(data) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    // A store in use is refused before any marker is written.
    match backup::is_empty(&store) {
        Ok(true) => {}
        Ok(false) if again || backup::check_complete(data, Some(&store)).is_err() => {}
        Ok(false) => return fail("restore needs an empty data folder"),
        Err(e) => return fail(e),
    }
    if let Err(e) = backup::begin_restore(data) {
        return fail(e);
    }
    let restored = backup::restore(&store, &mut BufReader::new(file), again);
    drop(store);
    match restored.and_then(|stats| backup::finish_restore(data).map(|()| stats)) {
        Ok(stats) => {
            println!("{} entries restored into {}", stats.entries, data.display());
            exit::OK
        }
        Err(e) => fail(format!(
            "{e}\nthe restore did not finish: {} is refused until a restore into it completes",
            data.display()
        )),
    }
}
