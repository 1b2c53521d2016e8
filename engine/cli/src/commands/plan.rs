//! `relance plan`: what the engine would do over the next N days for a whole portfolio read
//! from CSV files, with a progress bar on large inputs.
//!
//! The portfolio is split by customer into shards (`Simulator::shards`), one thread each.
//! Each shard simulates without recording state changes (only actions are printed) and
//! renders each of its days (grouped, sorted, as JSON or text) on its own thread, where the
//! day's actions were just made. The calling thread writes the days in date order, shard by
//! shard within a day: shards hold ranges of customer ids, so that is the timeline's order.
//! Bounded channels keep a few days per shard in memory, whatever the number of days.
//!
//! Formats: JSON (the timeline contract), text (one line per entry), CSV and Parquet (one row
//! per entry, the columns of `row.rs`; `csv.rs` and `parquet.rs` write them). CSV and text are
//! rendered to bytes on the shard threads like JSON; Parquet days become Arrow batches there,
//! and the writer closes a row group every `parquet::ROW_GROUP` rows.

mod csv;
mod parquet;
mod row;

use std::io::Write;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender};

use chrono::{Days, NaiveDate};
use relance_dsl::ir::ScenarioSet;

use super::exit;
use relance_core::runtime::cadence::{self, Cadence, Deferral};
use relance_core::runtime::{Instance, Planned, Recording, Shared, Status};
use relance_data::portfolio;
use relance_sim::simulator::Simulator;
use relance_sim::timeline::{Entry, Timeline};
use std::collections::HashMap;

/// How many rendered days each shard may have waiting for the writer.
const QUEUED_DAYS: usize = 2;

/// What `relance plan --format` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum PlanFormat {
    /// One line per entry.
    #[default]
    Text,
    /// The timeline contract: `{"from", "until", "entries": [...]}`.
    Json,
    /// A header, then one line per entry (text cells neutralised against formulas).
    Csv,
    /// One Parquet file (typed columns: Date32 dates, Decimal128 amounts); not to a terminal.
    Parquet,
}

pub fn run(
    data: &Path,
    scenarios: &Path,
    from: NaiveDate,
    days: u32,
    format: PlanFormat,
    threads: Option<u16>,
) -> u8 {
    if format == PlanFormat::Parquet && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        eprintln!("error: --format parquet writes a binary file: redirect it (> plan.parquet)");
        return exit::USAGE;
    }
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
    let rates = match relance_data::rates::load(Some(data)) {
        Ok(r) => r.table,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let until = from
        .checked_add_days(Days::new(u64::from(days.max(1)) - 1))
        .unwrap_or(from);
    let bar = progress_bar(p.invoices.len() as u64);
    let shared = Shared {
        set: ir,
        rules: &set.rules,
        rates: &rates,
    };
    let threads = threads.map_or_else(default_shards, usize::from);
    let mut shards = Simulator::shards(shared, &p, threads);
    if shards.len() > 1 {
        // The shards keep the cores busy: choosing scenarios ahead would only add threads.
        shards = shards
            .into_iter()
            .map(|sim| sim.look_ahead(usize::MAX))
            .collect();
    }
    let (printed, counts) = std::thread::scope(|scope| {
        let mut days_rx = Vec::with_capacity(shards.len());
        let mut runs = Vec::with_capacity(shards.len());
        for sim in shards {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Option<Day>>(QUEUED_DAYS);
            days_rx.push(rx);
            let bar = bar.clone();
            runs.push(scope.spawn(move || plan_shard(sim, ir, (from, until), format, &bar, &tx)));
        }
        let printed = write_days(days_rx, from, until, format);
        let mut counts = Counts::default();
        for run in runs {
            let shard = run
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            counts.errors += shard.errors;
            counts.unassigned += shard.unassigned;
        }
        (printed, counts)
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
    eprintln!(
        "{written} action(s) from {from} to {until} over {} invoice(s); {} case(s) in error, {} without scenario",
        p.invoices.len(),
        counts.errors,
        counts.unassigned,
    );
    exit::OK
}

/// Two shards per core: a customer range can hold more work than its invoice count says,
/// and a core left with a light shard picks up another (1M invoices on 2 cores: 17-19 s
/// with 4 shards, 20-22 s with 2).
fn default_shards() -> usize {
    (2 * std::thread::available_parallelism().map_or(1, |n| n.get())).min(64)
}

/// One shard's entries of one day, rendered.
struct Day {
    date: NaiveDate,
    entries: usize,
    rendered: Rendered,
}

/// A day's entries in the output's form.
enum Rendered {
    /// JSON: each entry preceded by `,\n`; text and CSV: one line per entry.
    Bytes(Vec<u8>),
    /// Parquet: the day as one Arrow batch.
    Batch(arrow_array::RecordBatch),
    /// The day could not be rendered (an amount Parquet cannot hold): the writer stops on it.
    Failed(String),
}

/// The cases a run left in error or without a scenario.
#[derive(Debug, Default)]
struct Counts {
    errors: usize,
    unassigned: usize,
}

/// Runs one shard from `from` to `until`, sending each day it processes, rendered, to the
/// writer, then `None`. A closed channel means the writer stopped on an error: it reports it.
fn plan_shard(
    sim: Simulator<'_>,
    set: &ScenarioSet,
    (from, until): (NaiveDate, NaiveDate),
    format: PlanFormat,
    bar: &indicatif::ProgressBar,
    days: &SyncSender<Option<Day>>,
) -> Counts {
    let (mut reported, mut stopped) = (0, false);
    // Under a `cadence`, each day's messages go through it; days on which only waiting
    // messages go out are rendered before the next day the simulator processes.
    let mut cadence = cadence::used(set).then(|| {
        let positions: HashMap<String, usize> = sim
            .invoices()
            .iter()
            .enumerate()
            .map(|(i, inv)| (inv.id.clone(), i))
            .collect();
        (Cadence::new(set), positions)
    });
    let run = sim.recording(Recording::Off).run_with(
        from,
        until,
        &mut |opened| {
            bar.inc(opened - reported);
            reported = opened;
        },
        // Recording::Off: `run.records` stays empty. Once the writer has stopped (on an
        // error it reports) there is nothing left to render for.
        &mut |date, run| {
            let actions = std::mem::take(&mut run.actions);
            if let Some((cadence, positions)) = &mut cadence {
                let closed_on = |p: &Planned| closed(positions, &run.cases, p);
                let mut out = date
                    .pred_opt()
                    .map(|before| cadence.release_through(before, &closed_on))
                    .unwrap_or_default();
                out.push((date, cadence.day(date, actions, &closed_on)));
                for (day, d) in out {
                    if !stopped {
                        let rendered = render(set, day, d.sent, d.deferred, format);
                        stopped = days.send(Some(rendered)).is_err();
                    }
                }
                return;
            }
            if !stopped {
                stopped = days
                    .send(Some(render(set, date, actions, vec![], format)))
                    .is_err();
            }
        },
    );
    if let Some((cadence, positions)) = &mut cadence {
        let closed_on = |p: &Planned| closed(positions, &run.cases, p);
        for (day, d) in cadence.release_through(until, &closed_on) {
            if !stopped {
                stopped = days
                    .send(Some(render(set, day, d.sent, d.deferred, format)))
                    .is_err();
            }
        }
    }
    // The end of this shard's plan: without it the writer knows the shard failed.
    let _ = days.send(None);
    let mut counts = Counts::default();
    for case in run.cases.iter().flatten() {
        match case.status.name() {
            "error" => counts.errors += 1,
            "unassigned" => counts.unassigned += 1,
            _ => {}
        }
    }
    counts
}

/// When the case of a planned action closed, as the shard's run stands.
fn closed(
    positions: &HashMap<String, usize>,
    cases: &[Option<Instance>],
    p: &Planned,
) -> Option<NaiveDate> {
    let case = cases.get(*positions.get(&p.invoice)?)?.as_ref()?;
    match case.status {
        Status::Closed { on, .. } => Some(on),
        _ => None,
    }
}

/// A day's actions grouped into entries (and, under a cadence, the messages that start
/// waiting), sorted and rendered.
fn render(
    set: &ScenarioSet,
    date: NaiveDate,
    actions: Vec<Planned>,
    deferred: Vec<Deferral>,
    format: PlanFormat,
) -> Day {
    let mut timeline = Timeline::of_actions(set, actions);
    timeline.add_deferrals(deferred);
    let entries = timeline.entries.len();
    if format == PlanFormat::Parquet {
        let rendered = match parquet::batch(&timeline.entries) {
            Ok(batch) => Rendered::Batch(batch),
            Err(e) => Rendered::Failed(e),
        };
        return Day {
            date,
            entries,
            rendered,
        };
    }
    // About 350 bytes a JSON entry, 100 a line of text: one allocation for most days.
    let per_entry = if format == PlanFormat::Text { 128 } else { 384 };
    let mut bytes = Vec::with_capacity(entries * per_entry);
    for entry in &timeline.entries {
        match format {
            PlanFormat::Json => {
                bytes.extend_from_slice(b",\n");
                // Entries hold strings, numbers and dates: writing them to memory cannot fail.
                serde_json::to_writer(&mut bytes, entry).expect("an entry serializes");
            }
            PlanFormat::Text => bytes.extend_from_slice(day_line(entry).as_bytes()),
            PlanFormat::Csv => csv::push_line(&mut bytes, entry),
            PlanFormat::Parquet => unreachable!("rendered as a batch above"),
        }
    }
    Day {
        date,
        entries,
        rendered: Rendered::Bytes(bytes),
    }
}

/// Where the writer puts the days: bytes as they come, or the Parquet file.
enum Sink<W: Write + Send> {
    Bytes(W),
    Columnar(Box<parquet::Writer<W>>),
}

/// Writes the shards' days to stdout in date order, shard by shard within a day, as they
/// come. Returns how many entries were written; a shard that ended without saying so (it
/// failed) is an error, and the plan is left unterminated rather than looking complete.
fn write_days(
    shards: Vec<Receiver<Option<Day>>>,
    from: NaiveDate,
    until: NaiveDate,
    format: PlanFormat,
) -> std::io::Result<usize> {
    // A big buffer: Parquet writes its pages in many small pieces.
    let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
    let mut sink = match format {
        PlanFormat::Parquet => Sink::Columnar(Box::new(parquet::Writer::new(out)?)),
        _ => Sink::Bytes(out),
    };
    let mut written = 0usize;
    if let Sink::Bytes(out) = &mut sink {
        match format {
            PlanFormat::Json => write!(
                out,
                "{{\"from\":\"{from}\",\"until\":\"{until}\",\"entries\":["
            )?,
            PlanFormat::Csv => out.write_all(csv::header().as_bytes())?,
            PlanFormat::Text | PlanFormat::Parquet => {}
        }
    }
    let next_day = |rx: &Receiver<Option<Day>>| {
        rx.recv()
            .map_err(|_| std::io::Error::other("a planning thread stopped before its end"))
    };
    let mut next: Vec<Option<Day>> = shards.iter().map(next_day).collect::<Result<_, _>>()?;
    while let Some(s) = (0..next.len())
        .filter(|&s| next[s].is_some())
        .min_by_key(|&s| (next[s].as_ref().map(|d| d.date), s))
    {
        let Some(day) = next[s].take() else { break };
        match (&day.rendered, &mut sink) {
            (Rendered::Bytes(bytes), Sink::Bytes(out)) => {
                let bytes = match format {
                    // The first entry of the plan has no comma before it.
                    PlanFormat::Json if written == 0 => bytes.get(1..).unwrap_or_default(),
                    _ => bytes,
                };
                out.write_all(bytes)?;
            }
            (Rendered::Batch(batch), Sink::Columnar(file)) => file.write(batch)?,
            (Rendered::Failed(why), _) => return Err(std::io::Error::other(why.clone())),
            _ => unreachable!("a day is rendered in the plan's format"),
        }
        written += day.entries;
        next[s] = next_day(&shards[s])?;
    }
    let mut out = match sink {
        Sink::Bytes(out) => out,
        Sink::Columnar(file) => file.finish()?,
    };
    if format == PlanFormat::Json {
        writeln!(out, "\n]}}")?;
    }
    out.flush()?;
    Ok(written)
}

/// One text line of the agenda (the same columns as `relance simulate`, without alignment
/// across days, which would need the whole plan in memory).
fn day_line(e: &Entry) -> String {
    use relance_sim::timeline::Detail;
    let deferred;
    let text = match &e.detail {
        Detail::Action { text, .. } => text.as_str(),
        Detail::Transition { cause, .. } => cause.as_str(),
        Detail::Deferred { text, until } => {
            deferred = relance_sim::timeline::deferred_text(text, *until);
            deferred.as_str()
        }
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
