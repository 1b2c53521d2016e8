//! `relance backup` and `relance restore`: the JSON-lines export of a store (read directly
//! from `--data DIR` or `--data postgres://…`, or from a running daemon with `--server URL`,
//! since the store is locked while it runs) and the rebuild of an empty store from it. Exit 0, or 2 with the reason.
//! Both backups stream (a snapshot of the store written as it is read, or the server's
//! body written to the file as it arrives); a body cut short (no end line) is an error.
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
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut w = BufWriter::new(file);
    let mut lines = Lines::default();
    runtime.block_on(async {
        let mut resp = reqwest::Client::new()
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
        // Streamed to the file as it comes: never the whole backup in memory.
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| format!("the backup was cut short: {e}"))?
        {
            lines.feed(&chunk);
            w.write_all(&chunk)
                .map_err(|e| format!("{}: {e}", out.display()))?;
        }
        Ok(())
    })?;
    let entries = lines.entries().ok_or(
        "the backup was cut short (no end line): the server failed while it streamed it; see its log",
    )?;
    w.flush().map_err(|e| e.to_string())?;
    w.get_ref().sync_all().map_err(|e| e.to_string())?;
    Ok(entries)
}

/// What `relance backup --server` checks of the stream as it passes: its lines, and its last
/// line (the end line and its entry count, or the body was cut short).
#[derive(Default)]
struct Lines {
    count: u64,
    /// The last line, as far as it came.
    last: Vec<u8>,
    /// The line before `last` (when `last` is empty: the stream ended on a newline).
    complete: Vec<u8>,
}

impl Lines {
    fn feed(&mut self, chunk: &[u8]) {
        for part in chunk.split_inclusive(|b| *b == b'\n') {
            self.last.extend_from_slice(part);
            if self.last.ends_with(b"\n") {
                self.count += 1;
                self.complete = std::mem::take(&mut self.last);
            }
        }
    }

    /// The entries of a complete backup: its end line's count, when it matches the lines.
    fn entries(&self) -> Option<u64> {
        if !self.last.is_empty() {
            return None;
        }
        let end: serde_json::Value = serde_json::from_slice(&self.complete).ok()?;
        let n = end
            .get("end")
            .filter(|e| **e == true)
            .and(end["entries"].as_u64())?;
        (n + 2 == self.count).then_some(n)
    }
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

#[cfg(test)]
mod tests {
    use super::Lines;

    /// A streamed body is accepted only whole: ending on its end line, whose count matches
    /// the lines, however the chunks cut it.
    #[test]
    fn a_streamed_backup_is_accepted_only_whole() {
        let head = "{\"format\":\"relance-backup\"}\n";
        let a = "{\"tree\":\"meta\",\"key\":\"a\",\"value\":1}\n";
        let b = "{\"tree\":\"meta\",\"key\":\"b\",\"value\":2}\n";
        let end = |n: u64| format!("{{\"end\":true,\"entries\":{n}}}\n");
        let cases: Vec<(&str, String, Option<u64>)> = vec![
            ("whole", format!("{head}{a}{b}{}", end(2)), Some(2)),
            ("empty store", format!("{head}{}", end(0)), Some(0)),
            ("no end line", format!("{head}{a}{b}"), None),
            ("cut in a line", format!("{head}{a}{}", &b[..10]), None),
            (
                "end line cut",
                format!("{head}{a}{b}{}", &end(2)[..8]),
                None,
            ),
            ("count differs", format!("{head}{a}{}", end(2)), None),
            ("nothing", String::new(), None),
        ];
        for (name, body, want) in cases {
            for chunk in [1, 7, 64, usize::MAX] {
                let mut lines = Lines::default();
                for part in body.as_bytes().chunks(chunk.min(body.len().max(1))) {
                    lines.feed(part);
                }
                assert_eq!(lines.entries(), want, "{name}, chunks of {chunk}");
            }
        }
    }
}
