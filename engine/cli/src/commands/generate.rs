//! `relance gen`: write a seeded synthetic portfolio (see `relance_data::generator`).

use std::path::Path;

use chrono::NaiveDate;

use super::exit;
use relance_data::generator::{Spec, generate};

pub fn run(customers: usize, invoices: usize, seed: u64, as_of: NaiveDate, out: &Path) -> u8 {
    if customers == 0 {
        eprintln!("error: --customers must be at least 1");
        return exit::USAGE;
    }
    let bar = if invoices >= 100_000 {
        indicatif::ProgressBar::new(invoices as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    match generate(
        Spec {
            customers,
            invoices,
            seed,
            as_of,
        },
        out,
        &mut |n| bar.set_position(n as u64),
    ) {
        Ok(w) => {
            bar.finish_and_clear();
            println!(
                "wrote {} customers, {} invoices, {} payments, {} events to {}",
                w.customers,
                w.invoices,
                w.payments,
                w.events,
                out.display()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {}: {e}", out.display());
            exit::USAGE
        }
    }
}
