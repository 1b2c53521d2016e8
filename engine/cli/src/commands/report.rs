//! `relance report aged|dso|activity|behaviour --data DIR --at DATE`: reports over the CSV
//! data folder, as a table, CSV or JSON. `activity` and `behaviour` first simulate the
//! portfolio with the scenario set from its first day up to `--at` to get the engine's history.
//!
//! Exit 0 with a report, 1 when the data or the scenario set is invalid, 2 on usage or I/O.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use relance_dsl::diagnostics::render;

use super::exit;
use relance_core::runtime::Shared;
use relance_core::scenario_set;
use relance_data::portfolio::{self, PortfolioError};
use relance_sim::reports::{activity, aged, behaviour, dso};
use relance_sim::simulator::{Run, Simulator};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportKind {
    /// Aged balance: not due, 1-30, 31-60, 61-90, over 90 days, disputed apart.
    Aged,
    /// DSO (simple, countback), best possible DSO, average days delinquent, CEI.
    Dso,
    /// Collection activity of the engine up to the date.
    Activity,
    /// Each customer's payment behaviour.
    Behaviour,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ReportFormat {
    #[default]
    Text,
    Csv,
    Json,
}

/// The options of `relance report`.
#[derive(Debug, Clone)]
pub struct Args {
    pub kind: ReportKind,
    pub data: PathBuf,
    pub at: NaiveDate,
    pub scenarios: PathBuf,
    pub format: ReportFormat,
    pub period_days: u32,
    pub currency: String,
    pub countback_months: MonthConventionArg,
    pub cei_months: u32,
}

/// `--countback-months`: how the DSO countback counts a month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum MonthConventionArg {
    /// Each month's calendar days (the report's month up to --at).
    #[default]
    Calendar,
    /// 30 days a month.
    #[value(name = "30-day")]
    ThirtyDay,
}

impl From<MonthConventionArg> for dso::MonthConvention {
    fn from(a: MonthConventionArg) -> Self {
        match a {
            MonthConventionArg::Calendar => dso::MonthConvention::Calendar,
            MonthConventionArg::ThirtyDay => dso::MonthConvention::ThirtyDay,
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_default()
    )
}

pub fn run(args: Args) -> u8 {
    if let Err(e) = relance_data::import::write::recover(&args.data) {
        eprintln!("error: {}: {e}", args.data.display());
        return exit::USAGE;
    }
    let p = match portfolio::load_dir(&args.data) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return match e {
                PortfolioError::Io { .. } => exit::USAGE,
                _ => exit::FINDINGS,
            };
        }
    };
    let text = match args.kind {
        ReportKind::Aged => {
            let r = aged::aged_balance(&p, args.at);
            match args.format {
                ReportFormat::Text => r.to_text(),
                ReportFormat::Csv => r.to_csv(),
                ReportFormat::Json => json(&r),
            }
        }
        ReportKind::Dso => {
            let options = dso::DsoOptions {
                period_days: args.period_days,
                currency: args.currency.to_uppercase(),
                month_convention: args.countback_months.into(),
                cei_months: args.cei_months,
                ..dso::DsoOptions::default()
            };
            let r = dso::dso(&p, args.at, &options);
            match args.format {
                ReportFormat::Text => r.to_text(),
                ReportFormat::Csv => r.to_csv(),
                ReportFormat::Json => json(&r),
            }
        }
        ReportKind::Activity | ReportKind::Behaviour => {
            let run = match simulate(&p, &args.scenarios, args.at, &args.data) {
                Ok(run) => run,
                Err(code) => return code,
            };
            if args.kind == ReportKind::Activity {
                let r = activity::activity(&run.actions, &run.records, args.at);
                match args.format {
                    ReportFormat::Text => r.to_text(),
                    ReportFormat::Csv => r.to_csv(),
                    ReportFormat::Json => json(&r),
                }
            } else {
                let rows = behaviour::behaviour(&p, &run.records, args.at);
                match args.format {
                    ReportFormat::Text => behaviour::to_text(&rows, args.at),
                    ReportFormat::Csv => behaviour::to_csv(&rows),
                    ReportFormat::Json => {
                        json(&serde_json::json!({"at": args.at, "customers": rows}))
                    }
                }
            }
        }
    };
    emit(&text);
    exit::OK
}

/// Runs the engine over the portfolio from its first day up to `at`.
fn simulate(
    p: &relance_core::domain::Portfolio,
    scenarios: &Path,
    at: NaiveDate,
    data: &Path,
) -> Result<Run, u8> {
    // The data folder's rates.csv, else the built-in table.
    let rates = relance_data::rates::load(Some(data)).map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })?;
    let set = scenario_set::load(scenarios).map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })?;
    let compiled = set.compile();
    let Some(ir) = compiled.set.as_ref() else {
        for (file, diags) in set.files.iter().zip(&compiled.diagnostics) {
            eprint!("{}", render(diags, &file.path, &file.text, super::color()));
        }
        return Err(exit::FINDINGS);
    };
    let Some(from) = p.start() else {
        return Ok(Run::default());
    };
    let bar = if p.invoices.len() < 10_000 {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(p.invoices.len() as u64)
    };
    let shared = Shared {
        set: ir,
        rules: &set.rules,
        rates: &rates.table,
    };
    let run = Simulator::new(shared, p).run(from, at, &mut |n| bar.set_position(n));
    bar.finish_and_clear();
    Ok(run)
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
