//! `relance import csv|events|fec|camt053 FILE... --data DIR`: merges accounting data into
//! the CSV data folder, all or nothing, or with `--dry-run` only says what would change.
//! `--server URL` sends the files instead to a running daemon as one batch
//! (`POST /v1/import/batch`, see `docs/DAEMON.md`): the daemon merges, checks and records them
//! the same way, atomically, and recognises a batch it already imported.
//!
//! Exit 0 when imported (or nothing to do), 1 when an input or the merged portfolio is invalid
//! (every problem printed with its file, line and column), 2 on usage or I/O errors.

use std::path::{Path, PathBuf};

use super::{Format, exit};
use relance_data::import::csv_mapped::{self, CsvOptions, Kind, Mapping};
use relance_data::import::fec::{self, FecOptions};
use relance_data::import::{DecimalStyle, Merge, load_or_empty, write};
use relance_data::import::{camt053, events_csv};
use relance_data::portfolio::{self, PortfolioError};

/// What the files are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// CSV files of customers, contacts, invoices or payments.
    Csv,
    /// The data folder's `events.csv` (payments, disputes, promises, credit notes, write-offs…).
    Events,
    /// A FEC (Fichier des Écritures Comptables).
    Fec,
    /// ISO 20022 camt.053 bank statements.
    Camt053,
}

/// How amounts are written in CSV files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Decimals {
    /// Guess per cell.
    #[default]
    Auto,
    /// `1 234,56`.
    Fr,
    /// `1,234.56`.
    En,
}

/// Where the files go.
#[derive(Debug, Clone)]
pub enum Target {
    /// A CSV data folder.
    Folder(PathBuf),
    /// A running daemon (base URL; the token, else `RELANCE_TOKEN`).
    Server { url: String, token: Option<String> },
}

/// The options of `relance import`.
#[derive(Debug, Clone)]
pub struct Args {
    pub source: Source,
    pub files: Vec<PathBuf>,
    /// `None` when neither `--data` nor `--server` was given.
    pub target: Option<Target>,
    pub map: Vec<String>,
    pub kind: Option<Kind>,
    pub decimals: Decimals,
    pub dry_run: bool,
    pub default_terms: u32,
    pub format: Format,
}

fn report_error(e: &PortfolioError) -> u8 {
    eprintln!("error: {e}");
    match e {
        PortfolioError::Io { .. } => exit::USAGE,
        _ => exit::FINDINGS,
    }
}

fn bar(path: &Path) -> indicatif::ProgressBar {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    if size < 4 << 20 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} importing {msg} [{bar:40}] {bytes}/{total_bytes} {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(path.display().to_string());
    bar
}

pub fn run(args: Args) -> u8 {
    let mapping = match Mapping::parse_all(args.map.iter().map(String::as_str)) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: --map: {e}");
            return exit::USAGE;
        }
    };
    if args.source != Source::Csv && (!mapping.eq(&Mapping::default()) || args.kind.is_some()) {
        eprintln!("error: --map and --kind apply to CSV imports only");
        return exit::USAGE;
    }
    for f in &args.files {
        if !f.is_file() {
            eprintln!("error: {}: no such file", f.display());
            return exit::USAGE;
        }
    }
    let data = match &args.target {
        Some(Target::Folder(dir)) => dir.clone(),
        Some(Target::Server { url, token }) => {
            return send(&args, &mapping, url, token.as_deref());
        }
        None => {
            eprintln!("error: give --data DIR (a data folder) or --server URL (a running daemon)");
            return exit::USAGE;
        }
    };
    let base = match load_or_empty(&data) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "error: the data folder {} cannot be read as it is:",
                data.display()
            );
            return report_error(&e);
        }
    };
    let mut merge = Merge::new(base);
    let mut failed = None;
    let mut summaries = Vec::new();
    match args.source {
        Source::Csv => {
            let options = CsvOptions {
                mapping,
                decimal: match args.decimals {
                    Decimals::Auto => DecimalStyle::Auto,
                    Decimals::Fr => DecimalStyle::French,
                    Decimals::En => DecimalStyle::English,
                },
                default_terms: args.default_terms,
                kind: args.kind,
                // The import notes judge rates against the folder's own table.
                rates: match relance_data::rates::load(Some(&data)) {
                    Ok(r) => Some(std::sync::Arc::new(r.table.into_owned())),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return exit::USAGE;
                    }
                },
            };
            let mut files = args.files.clone();
            files.sort_by_key(|f| csv_mapped::kind_of(f, &options));
            for f in &files {
                let bar = bar(f);
                let result = csv_mapped::import(f, &options, &mut merge, &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                });
                bar.finish_and_clear();
                match result {
                    Ok((kind, rows)) => summaries.push(serde_json::json!({
                        "file": f.display().to_string(), "kind": kind.name(), "rows": rows
                    })),
                    Err(e) => failed = Some(failed.unwrap_or(exit::OK).max(report_error(&e))),
                }
            }
        }
        Source::Fec => {
            let options = FecOptions {
                default_terms: args.default_terms,
            };
            for f in &args.files {
                let bar = bar(f);
                let result = fec::import(f, &options, &mut merge, &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                });
                bar.finish_and_clear();
                match result {
                    Ok(s) => summaries
                        .push(serde_json::json!({"file": f.display().to_string(), "fec": s})),
                    Err(e) => failed = Some(failed.unwrap_or(exit::OK).max(report_error(&e))),
                }
            }
        }
        Source::Events => {
            for f in &args.files {
                match events_csv::import(f, &mut merge) {
                    Ok(rows) => summaries.push(serde_json::json!({
                        "file": f.display().to_string(), "kind": "events", "rows": rows
                    })),
                    Err(e) => failed = Some(failed.unwrap_or(exit::OK).max(report_error(&e))),
                }
            }
        }
        Source::Camt053 => {
            for f in &args.files {
                match camt053::import(f, &mut merge) {
                    Ok(s) => summaries
                        .push(serde_json::json!({"file": f.display().to_string(), "camt053": s})),
                    Err(e) => failed = Some(failed.unwrap_or(exit::OK).max(report_error(&e))),
                }
            }
        }
    }
    if let Some(code) = failed {
        eprintln!("nothing imported: fix the problems above and run the import again");
        return code;
    }
    let (merged, changes) = merge.finish();
    if let Err(e) = portfolio::validate(&merged) {
        eprintln!(
            "error: the data folder would be invalid after this import (nothing written):\n{e}"
        );
        return exit::FINDINGS;
    }
    let wrote = !args.dry_run && !changes.is_empty();
    if wrote && let Err(e) = write::write_dir(&data, &merged) {
        eprintln!(
            "error: cannot write {}: {e} (nothing changed)",
            data.display()
        );
        return exit::USAGE;
    }
    match args.format {
        Format::Json => {
            let out = serde_json::json!({
                "dry_run": args.dry_run,
                "written": wrote,
                "files": summaries,
                "changes": changes,
            });
            emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&out).unwrap_or_default()
            ));
        }
        Format::Text => {
            emit(&changes.to_text());
            if args.dry_run {
                emit(&format!("dry run: nothing written to {}\n", data.display()));
            } else if wrote {
                emit(&format!("imported into {}\n", data.display()));
            } else {
                emit(&format!("nothing to change in {}\n", data.display()));
            }
        }
    }
    exit::OK
}

/// `--server`: the files as one batch to a running daemon.
fn send(args: &Args, mapping: &Mapping, url: &str, token: Option<&str>) -> u8 {
    use base64::Engine as _;
    let Some(token) = token
        .map(String::from)
        .or_else(|| std::env::var("RELANCE_TOKEN").ok())
    else {
        eprintln!("error: give --token or RELANCE_TOKEN (a role that writes data)");
        return exit::USAGE;
    };
    let format = match args.source {
        Source::Csv => "csv",
        Source::Events => "events",
        Source::Fec => "fec",
        Source::Camt053 => "camt053",
    };
    let mut files = Vec::new();
    for f in &args.files {
        let bytes = match std::fs::read(f) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {}: {e}", f.display());
                return exit::USAGE;
            }
        };
        let mut file = serde_json::Map::new();
        let name = f.file_name().map_or_else(
            || f.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        file.insert("name".into(), name.into());
        file.insert("format".into(), format.into());
        match String::from_utf8(bytes) {
            Ok(text) => file.insert("text".into(), text.into()),
            Err(e) => file.insert(
                "base64".into(),
                base64::engine::general_purpose::STANDARD
                    .encode(e.as_bytes())
                    .into(),
            ),
        };
        if args.source == Source::Csv {
            if let Some(kind) = args.kind {
                file.insert("kind".into(), kind.name().into());
            }
            let map: serde_json::Map<String, serde_json::Value> = mapping
                .pairs()
                .iter()
                .map(|(from, to)| (from.clone(), to.clone().into()))
                .collect();
            if !map.is_empty() {
                file.insert("map".into(), map.into());
            }
            let decimals = match args.decimals {
                Decimals::Auto => "auto",
                Decimals::Fr => "fr",
                Decimals::En => "en",
            };
            file.insert("decimals".into(), decimals.into());
        }
        if matches!(args.source, Source::Csv | Source::Fec) {
            file.insert("default_terms".into(), args.default_terms.into());
        }
        files.push(serde_json::Value::Object(file));
    }
    let body = serde_json::json!({"files": files, "dry_run": args.dry_run});
    let endpoint = format!("{}/v1/import/batch", url.trim_end_matches('/'));
    let answer = super::remote::post_json(&endpoint, &token, &body);
    let (status, text) = match answer {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {endpoint}: {e}");
            return exit::USAGE;
        }
    };
    let reply: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    if status != 200 {
        let message = reply["message"].as_str().unwrap_or(&text);
        eprintln!("error: {message}");
        return if status == 422 {
            exit::FINDINGS
        } else {
            exit::USAGE
        };
    }
    match args.format {
        Format::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&reply).unwrap_or_default()
        )),
        Format::Text => emit(&server_summary(url, &reply)),
    }
    exit::OK
}

/// What the daemon did with the batch, in a sentence.
fn server_summary(url: &str, reply: &serde_json::Value) -> String {
    let changes = &reply["changes"];
    let count = |d: &serde_json::Value| d["new"].as_array().map_or(0, Vec::len);
    let what = format!(
        "{} new customers, {} new invoices, {} new payments, {} new events",
        count(&changes["customers"]),
        count(&changes["invoices"]),
        changes["new_payments"],
        changes["new_events"]
    );
    if let Some(before) = reply.get("already_imported") {
        return format!(
            "already imported into {url} as batch {} on {}: nothing applied again\n",
            before["batch"],
            before["recorded_on"].as_str().unwrap_or_default()
        );
    }
    if reply["dry_run"] == serde_json::json!(true) {
        format!("dry run: {what} (nothing written to {url})\n")
    } else if reply["written"] == serde_json::json!(true) {
        format!(
            "imported into {url} as batch {}: {what}\n",
            reply["batch"]["batch"]
        )
    } else {
        format!("nothing to change in {url}\n")
    }
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
