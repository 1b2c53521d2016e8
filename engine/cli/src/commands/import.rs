//! `relance import csv|fec|camt053 FILE... --data DIR`: merges accounting data into the CSV
//! data folder, all or nothing, or with `--dry-run` only says what would change.
//!
//! Exit 0 when imported (or nothing to do), 1 when an input or the merged portfolio is invalid
//! (every problem printed with its file, line and column), 2 on usage or I/O errors.

use std::path::{Path, PathBuf};

use super::{Format, exit};
use relance_data::import::camt053;
use relance_data::import::csv_mapped::{self, CsvOptions, Kind, Mapping};
use relance_data::import::fec::{self, FecOptions};
use relance_data::import::{DecimalStyle, Merge, load_or_empty, write};
use relance_data::portfolio::{self, PortfolioError};

/// What the files are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// CSV files of customers, contacts, invoices or payments.
    Csv,
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

/// The options of `relance import`.
#[derive(Debug, Clone)]
pub struct Args {
    pub source: Source,
    pub files: Vec<PathBuf>,
    pub data: PathBuf,
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
    let base = match load_or_empty(&args.data) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "error: the data folder {} cannot be read as it is:",
                args.data.display()
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
    if wrote && let Err(e) = write::write_dir(&args.data, &merged) {
        eprintln!(
            "error: cannot write {}: {e} (nothing changed)",
            args.data.display()
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
                emit(&format!(
                    "dry run: nothing written to {}\n",
                    args.data.display()
                ));
            } else if wrote {
                emit(&format!("imported into {}\n", args.data.display()));
            } else {
                emit(&format!("nothing to change in {}\n", args.data.display()));
            }
        }
    }
    exit::OK
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
