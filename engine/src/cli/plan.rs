//! `relance plan`: what the engine would do over the next N days for a whole portfolio read
//! from CSV files, with a progress bar on large inputs.
//!
//! The simulation runs without recording state changes (only actions are printed) and hands
//! each day's actions to a second thread that groups, sorts and prints them, so the two
//! stages overlap and memory holds one day of output at a time.

use std::io::Write;
use std::path::Path;
use std::sync::mpsc::Receiver;

use chrono::{Days, NaiveDate};
use relance_dsl::ir::ScenarioSet;

use super::{Format, exit};
use crate::interest::RateTable;
use crate::portfolio;
use crate::runtime::{Planned, Recording, Shared};
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
    // Two stages on two threads: the simulation, and the output (grouping, sorting, JSON,
    // writing), fed day by day through a bounded channel so memory stays flat.
    let (run, printed) = std::thread::scope(|scope| {
        let (days_tx, days_rx) = std::sync::mpsc::sync_channel::<Vec<Planned>>(4);
        let printer = scope.spawn(move || print_days(ir, days_rx, from, until, format));
        let run = Simulator::new(shared, &p)
            .recording(Recording::Off)
            .run_with(from, until, &mut |n| bar.set_position(n), &mut |_, run| {
                // Recording::Off: `run.records` stays empty. A closed channel means the printer stopped on an error: it reports it.
                let _ = days_tx.send(std::mem::take(&mut run.actions));
            });
        drop(days_tx);
        let printed = printer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the output thread panicked")));
        (run, printed)
    });
    bar.finish_and_clear();
    let written = match printed {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: writing the plan: {e}");
            return exit::USAGE;
        }
    };
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

/// The output stage: each day's actions grouped into entries and printed as they come.
/// Returns how many entries were written.
fn print_days(
    set: &ScenarioSet,
    days: Receiver<Vec<Planned>>,
    from: NaiveDate,
    until: NaiveDate,
    format: Format,
) -> std::io::Result<usize> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut written = 0usize;
    if format == Format::Json {
        write!(
            out,
            "{{\"from\":\"{from}\",\"until\":\"{until}\",\"entries\":["
        )?;
    }
    for actions in days {
        for entry in &Timeline::of_actions(set, actions).entries {
            match format {
                Format::Json => {
                    writeln!(out, "{}", if written == 0 { "" } else { "," })?;
                    serde_json::to_writer(&mut out, entry).map_err(std::io::Error::other)?;
                }
                Format::Text => out.write_all(day_line(entry).as_bytes())?,
            }
            written += 1;
        }
    }
    if format == Format::Json {
        writeln!(out, "\n]}}")?;
    }
    out.flush()?;
    Ok(written)
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
