//! `relance plan`: what the engine would do over the next N days for a whole portfolio read
//! from CSV files, with a progress bar on large inputs.

use std::io::Write;
use std::path::Path;

use chrono::{Days, NaiveDate};

use super::{Format, exit};
use crate::interest::RateTable;
use crate::portfolio;
use crate::runtime::{Recording, Shared};
use crate::simulator::Simulator;
use crate::timeline::Timeline;

pub fn run(data: &Path, scenarios: &Path, from: NaiveDate, days: u32, format: Format) -> u8 {
    let (set, ir) = match super::runnable_set(scenarios) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let ir = &ir;
    let p = match portfolio::load_dir(data) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FINDINGS;
        }
    };
    let until = from
        .checked_add_days(Days::new(u64::from(days.max(1)) - 1))
        .unwrap_or(from);
    let bar = progress_bar(p.invoices.len() as u64);
    let shared = Shared {
        set: ir,
        rules: &set.rules,
        rates: RateTable::builtin(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut written = 0usize;
    let mut failure: Option<std::io::Error> = None;
    if format == Format::Json {
        failure = write!(
            out,
            "{{\"from\":\"{from}\",\"until\":\"{until}\",\"entries\":["
        )
        .err();
    }
    // Stream day by day: group the day's actions, print them, forget them.
    let run = Simulator::new(shared, &p)
        .recording(Recording::Off)
        .run_with(
        from,
        until,
        &mut |n| bar.set_position(n),
        &mut |_, run| {
            let day = Timeline::build(ir, &run.actions, &[], false);
            run.actions.clear();
            run.records.clear();
            for entry in &day.entries {
                let result = match format {
                    Format::Json => {
                        let sep = if written == 0 { "" } else { "," };
                        writeln!(out, "{sep}").and_then(|_| {
                            serde_json::to_writer(&mut out, entry).map_err(std::io::Error::other)
                        })
                    }
                    Format::Text => out.write_all(day_line(entry).as_bytes()),
                };
                written += 1;
                if let Err(e) = result {
                    failure.get_or_insert(e);
                }
            }
        },
    );
    bar.finish_and_clear();
    if format == Format::Json {
        failure = failure.or(writeln!(out, "\n]}}").err());
    }
    if let Some(e) = failure
        .or(out.flush().err())
        .filter(|e| e.kind() != std::io::ErrorKind::BrokenPipe)
    {
        eprintln!("error: writing the plan: {e}");
        return exit::USAGE;
    }
    let errors = run
        .cases
        .iter()
        .flatten()
        .filter(|c| c.status.name() == "error")
        .count();
    let unassigned = run
        .cases
        .iter()
        .flatten()
        .filter(|c| c.status.name() == "unassigned")
        .count();
    eprintln!(
        "{written} action(s) from {from} to {until} over {} invoice(s); {errors} case(s) in error, {unassigned} without scenario",
        p.invoices.len()
    );
    exit::OK
}

/// One text line of the agenda (the same columns as `relance simulate`, without alignment
/// across days, which would need the whole plan in memory).
fn day_line(e: &crate::timeline::Entry) -> String {
    let text = match &e.detail {
        crate::timeline::Detail::Action { text, .. } => text.as_str(),
        crate::timeline::Detail::Transition { cause, .. } => cause.as_str(),
    };
    format!(
        "{}  {}  {}  {}  {}\n",
        e.date,
        e.customer,
        e.invoices.join(","),
        e.step.as_deref().unwrap_or("-"),
        text
    )
}

/// A bar on stderr for portfolios of 10,000 invoices or more, hidden when stderr is not a
/// terminal.
fn progress_bar(len: u64) -> indicatif::ProgressBar {
    if len < 10_000 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} planning {pos}/{len} invoices [{bar:40}] {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}
