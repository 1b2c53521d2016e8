//! `relance store verify`: the full scan of a stopped daemon's store (`daemon::verify`),
//! printed as text or JSON. Exit 0 sound, 1 problems found, 2 the store cannot be opened.

use std::path::Path;

use super::{Format, exit};
use relance_daemon::backup;
use relance_daemon::store::SledStore;
use relance_daemon::verify;

pub fn verify(data: &Path, format: Format) -> u8 {
    let fail = |e: String| {
        eprintln!("error: {e}");
        exit::USAGE
    };
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
    let mut report = match verify::verify(&store) {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    if backup::check_complete(data, Some(&store)).is_err() {
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
            v["store"] = serde_json::json!(data.display().to_string());
            v["ok"] = serde_json::json!(report.ok());
            println!("{v}");
        }
        Format::Text => {
            println!(
                "store {} (schema {})",
                data.display(),
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
