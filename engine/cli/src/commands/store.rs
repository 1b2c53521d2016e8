//! `relance store verify`: the full scan of a stopped daemon's store (`daemon::verify`),
//! printed as text or JSON. Exit 0 sound, 1 problems found, 2 the store cannot be opened.
//! The store is a sled folder or a `postgres://` URL (opened only when it holds a relance
//! store, and refused while a daemon holds the database; the password is never printed).

use std::path::Path;
use std::sync::Arc;

use super::{Format, exit};
use relance_daemon::backup;
use relance_daemon::store::{SledStore, Store, Tree};
use relance_daemon::verify;

/// The `postgres://` URL that `data` spells, if it is one (`--data` takes either).
pub fn postgres_url(data: &Path) -> Option<&str> {
    data.to_str().filter(|s| relance_pg::is_postgres_url(s))
}

/// Opens the stopped daemon's database at `url` for reading: "no store here" when it holds
/// none (nothing is created), refused while a `relance serve` holds it, refused when a copy
/// into it did not finish.
pub fn open_postgres(url: &str) -> Result<Arc<dyn Store>, String> {
    let shown = relance_pg::redact(url);
    match relance_pg::holds_store(url) {
        Ok(true) => {}
        Ok(false) => return Err(format!("{shown}: no store here")),
        Err(e) => return Err(e.to_string()),
    }
    let store = relance_pg::open_exclusive(url).map_err(|e| e.to_string())?;
    if store
        .get(Tree::Meta, backup::RESTORING)
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Err(format!(
            "{shown}: a copy into this database did not finish; drop it and copy again"
        ));
    }
    Ok(store)
}

pub fn verify(data: &Path, format: Format) -> u8 {
    let fail = |e: String| {
        eprintln!("error: {e}");
        exit::USAGE
    };
    if let Some(url) = postgres_url(data) {
        return match open_postgres(url) {
            Ok(store) => report(&*store, &relance_pg::redact(url), format, false),
            Err(e) => fail(e),
        };
    }
    if !data.join("db").is_file() {
        return fail(format!("{}: no store here", data.display()));
    }
    if let Err(e) = backup::check_complete(data, None) {
        return fail(e.to_string());
    }
    let store = match SledStore::open(data) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    let unfinished = backup::check_complete(data, Some(&store)).is_err();
    report(&store, &data.display().to_string(), format, unfinished)
}

/// Verifies `store` and prints the report; `unfinished`: a restore marker was found.
fn report(store: &dyn Store, shown: &str, format: Format, unfinished: bool) -> u8 {
    let fail = |e: String| {
        eprintln!("error: {e}");
        exit::USAGE
    };
    let mut report = match verify::verify(store) {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    if unfinished {
        report.problem_count += 1;
        report.problems.push(verify::Problem {
            tree: "meta",
            key: Some(String::from_utf8_lossy(backup::RESTORING).into_owned()),
            message: "restore did not finish; restore again".into(),
        });
    }
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(&report).unwrap_or_default();
            v["store"] = serde_json::json!(shown);
            v["ok"] = serde_json::json!(report.ok());
            println!("{v}");
        }
        Format::Text => {
            println!(
                "store {} (schema {})",
                shown,
                report.schema.map_or("unknown".into(), |s| s.to_string())
            );
            for t in &report.trees {
                println!("  {:<12} {:>10} entries", t.tree, t.entries);
            }
            if !report.decoded {
                println!(
                    "  records not decoded: an older schema (migrated when `relance serve` opens it)"
                );
            }
            for p in &report.problems {
                println!("problem: {p}");
            }
            if report.problem_count > report.problems.len() {
                println!("… {} problem(s) in all", report.problem_count);
            }
            println!(
                "{}",
                if report.ok() {
                    "ok: every entry read and decoded".to_string()
                } else {
                    format!("{} problem(s)", report.problem_count)
                }
            );
        }
    }
    if report.ok() {
        exit::OK
    } else {
        exit::FINDINGS
    }
}
