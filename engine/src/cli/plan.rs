//! `relance plan`: what the engine would do over the next N days for a whole portfolio read
//! from CSV files, with a progress bar on large inputs.

use std::path::Path;

use chrono::{Days, NaiveDate};
use relance_dsl::diagnostics::render;

use super::{Format, exit};
use crate::interest::RateTable;
use crate::portfolio;
use crate::runtime::Shared;
use crate::scenario_set;
use crate::simulator::Simulator;
use crate::timeline::Timeline;

pub fn run(data: &Path, scenarios: &Path, from: NaiveDate, days: u32, format: Format) -> u8 {
    let set = match scenario_set::load(scenarios) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let compiled = set.compile();
    let Some(ir) = compiled.set.as_ref() else {
        for (file, diags) in set.files.iter().zip(&compiled.diagnostics) {
            eprint!("{}", render(diags, &file.path, &file.text, super::color()));
        }
        return exit::FINDINGS;
    };
    let p = match portfolio::load_dir(data) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FINDINGS;
        }
    };
    let until = from.checked_add_days(Days::new(u64::from(days.max(1)) - 1)).unwrap_or(from);
    let bar = progress_bar(p.invoices.len() as u64);
    let shared = Shared { set: ir, rules: &set.rules, rates: RateTable::builtin() };
    let run = Simulator::new(shared, &p).run(from, until, &mut |n| bar.set_position(n));
    bar.finish_and_clear();
    let timeline = Timeline::build(ir, &run.actions, &run.records, false);
    match format {
        Format::Json => {
            let out = serde_json::json!({ "from": from, "until": until, "entries": timeline.entries });
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
        Format::Text => {
            print!("{}", timeline.to_text());
            let errors = run.cases.iter().flatten().filter(|c| c.status.name() == "error").count();
            let unassigned = run.cases.iter().flatten().filter(|c| c.status.name() == "unassigned").count();
            eprintln!(
                "{} action(s) from {from} to {until} over {} invoice(s); {errors} case(s) in error, {unassigned} without scenario",
                timeline.entries.len(),
                p.invoices.len()
            );
        }
    }
    exit::OK
}

/// A bar on stderr for portfolios of 10,000 invoices or more, hidden when stderr is not a
/// terminal.
fn progress_bar(len: u64) -> indicatif::ProgressBar {
    if len < 10_000 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} planning {pos}/{len} invoices [{bar:40}] {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}
