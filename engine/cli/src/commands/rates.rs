//! `relance rates [--data DIR] [--format json]`: the late-payment rate table in force (the data
//! folder's `rates.csv`, else the built-in one), per half-year: ECB rate, default rate (ECB +
//! 10 points), legal rate for professionals and its triple, the floor; then the half-years whose
//! default rate is below the floor; with `--data`, the customers whose contractual rate
//! (`late_interest_rate`) is below the floor (`relance_data::rate_check`); with `--today DATE`,
//! the half-years up to that date that the table lacks, each with the half-year whose rate the
//! engine assumes for it (`relance_core::interest`: the last known rate). Exit 0, or 2 when a
//! file cannot be read. Prints only.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::{Format, exit};
use relance_data::rates;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// A data folder whose `rates.csv` overrides the built-in table.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// List the half-years up to this date (YYYY-MM-DD) that the table lacks, and the rate
    /// assumed for each.
    #[arg(long)]
    pub today: Option<chrono::NaiveDate>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: Args) -> u8 {
    let loaded = match rates::load(args.data.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let source = loaded
        .file
        .as_ref()
        .map_or("built-in".to_string(), |f| f.display().to_string());
    let rows = loaded.table.table();
    let warnings = loaded.table.floor_warnings();
    let missing = args.today.map(|today| {
        let table = &loaded.table;
        table.missing(table.first_half_year(), today)
    });
    // A data folder's customers with a contractual rate below the floor.
    let contracts = match args.data.as_deref() {
        Some(dir) if dir.join("customers.csv").is_file() => {
            match relance_data::portfolio::load_dir(dir) {
                Ok(p) => relance_data::rate_check::check(&p, &loaded.table),
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::USAGE;
                }
            }
        }
        _ => Vec::new(),
    };
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({ "source": source, "rows": rows, "floor_warnings": warnings,
                "contract_warnings": contracts, "missing": missing })
        ),
        Format::Text => {
            println!("rate table: {source}");
            println!("half-year  ECB %  default %  legal % (pro)  floor %");
            let opt =
                |v: Option<rust_decimal::Decimal>| v.map_or("-".to_string(), |v| v.to_string());
            for r in &rows {
                println!(
                    "{:<9}  {:>5}  {:>9}  {:>13}  {:>7}",
                    relance_core::interest::half_year_name(r.half_year),
                    r.ecb_rate,
                    r.default_rate,
                    opt(r.legal_rate_professionals),
                    opt(r.floor)
                );
            }
            for w in &warnings {
                println!("warning: default rate, {w}");
            }
            for c in &contracts {
                println!("warning: {c}");
            }
            if let (Some(today), Some(missing)) = (args.today, &missing) {
                if missing.is_empty() {
                    println!("the table holds every half-year up to {today}");
                }
                for m in missing {
                    println!("missing: {}", missing_line(m));
                }
            }
        }
    }
    exit::OK
}

/// `2027-H1: no row (ECB rate of 2026-H2 assumed), legal rate of 2026-H1 assumed`.
fn missing_line(m: &relance_core::interest::MissingRate) -> String {
    let name = relance_core::interest::half_year_name;
    let mut parts = Vec::new();
    if let Some(from) = m.ecb_from {
        parts.push(format!("no row (ECB rate of {} assumed)", name(from)));
    }
    if let Some(from) = m.legal_from {
        parts.push(format!("legal rate of {} assumed", name(from)));
    }
    format!("{}: {}", name(m.half_year), parts.join(", "))
}
