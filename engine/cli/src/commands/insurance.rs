//! `relance insurance DIR --at DATE [--format text|csv|json]`: the credit-insurance report of a
//! data folder (`relance_sim::reports::insurance`): each open invoice of an insured customer
//! with its original and extended due dates and the insurer's deadlines from the folder's
//! `insurers.csv`, then the warnings. Exit 0 without warning, 1 with some, 2 when the folder
//! cannot be read. Prints only.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args as ClapArgs;

use super::exit;
use super::report::ReportFormat;
use relance_data::{insurers, portfolio};
use relance_sim::reports::insurance;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The CSV data folder (customers.csv with insurer and credit_cover, insurers.csv …).
    pub data: PathBuf,
    /// The report date (YYYY-MM-DD).
    #[arg(long)]
    pub at: NaiveDate,
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

pub fn run(args: Args) -> u8 {
    let p = match portfolio::load_dir(&args.data) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let policies = match insurers::load(&args.data) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let r = insurance::insurance(&p, &policies, args.at);
    match args.format {
        ReportFormat::Text => print!("{}", r.to_text()),
        ReportFormat::Csv => print!("{}", r.to_csv()),
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default()),
    }
    if r.warnings.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    }
}
