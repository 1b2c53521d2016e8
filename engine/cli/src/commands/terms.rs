//! `relance terms check <data folder> [--format json]`: the customers and invoices whose
//! payment terms or due dates pass the L441-10 caps (`relance_data::terms_check`), printed.
//! Exit 0 none, 1 some listed, 2 the folder cannot be read. It must not change the data.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::{Format, exit};
use relance_data::portfolio;
use relance_data::terms_check;

/// `relance terms …`.
#[derive(Subcommand, Debug)]
pub enum TermsCommand {
    /// List the customers and invoices whose terms or due dates exceed the L441-10 caps (60
    /// days, 45 days end of month, 45 days for periodic invoices). Exit 0 none, 1 some, 2 I/O.
    Check {
        /// The CSV data folder (customers.csv, invoices.csv …).
        data: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub fn run(command: TermsCommand) -> u8 {
    match command {
        TermsCommand::Check { data, format } => check(&data, format),
    }
}

fn check(data: &Path, format: Format) -> u8 {
    let p = match portfolio::load_dir(data) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let findings = terms_check::check(&p);
    match format {
        Format::Json => println!(
            "{}",
            serde_json::json!({ "data": data.display().to_string(), "findings": findings })
        ),
        Format::Text => {
            for f in &findings {
                println!("{f}");
            }
            println!(
                "{} finding(s) over {} customer(s) and {} invoice(s)",
                findings.len(),
                p.customers.len(),
                p.invoices.len()
            );
        }
    }
    if findings.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    }
}
