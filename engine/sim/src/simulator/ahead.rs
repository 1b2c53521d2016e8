//! Choosing ahead: the scenarios of a large batch of invoices entering the engine on the same
//! day (every open invoice of a portfolio, on the first day of a run) are chosen on several
//! threads before the driver's sequential loop opens their cases.
//!
//! A policy reads the customer's totals, and each opening of one of the customer's invoices
//! can move them (an invoice already settled at its opening leaves them), so the batch is
//! split by customer: one thread chooses all of a customer's invoices, in the batch's order,
//! replaying the totals updates the loop will make. An invoice with events waiting for its
//! opening (applied right after it, they can move the totals) ends the look-ahead for its
//! customer: the loop chooses for it and for the customer's later invoices of the day.
//!
//! This moves work and decides nothing: the loop opens each case with the choice made here,
//! and debug builds check every one against the choice the loop would have made itself.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::{Running, Simulator};
use relance_core::domain::Event;
use relance_core::runtime::behaviour::Window;
use relance_core::runtime::{Choice, choose_scenario, opens_open};

/// Below this many invoices entering on one day the loop chooses alone by default: threads
/// would cost more than they save.
const MIN_BATCH: usize = 10_000;

/// The default look-ahead: [`MIN_BATCH`], or never on a single core (nothing to spread over).
pub(super) fn default_min_batch() -> usize {
    if cores() > 1 { MIN_BATCH } else { usize::MAX }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The choices for `batch` (the day's entering invoices, in the loop's order), by position,
/// `None` where the loop must choose; empty when the batch is under `sim.look_ahead`.
pub(super) fn choose<'a>(
    sim: &Simulator<'a>,
    batch: &[(NaiveDate, usize)],
    day: NaiveDate,
    pending: &BTreeMap<usize, Vec<&Event>>,
) -> Vec<Option<Choice<'a>>> {
    // A set reading the overdue figures chooses in the loop (the look-ahead does not replay
    // them).
    if batch.len() < sim.look_ahead || sim.accounts.reads_overdue {
        return Vec::new();
    }
    let threads = cores().clamp(2, 4);
    let mut chosen: Vec<Option<Choice<'a>>> = Vec::with_capacity(batch.len());
    chosen.resize_with(batch.len(), || None);
    std::thread::scope(|scope| {
        let lanes: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || lane(sim, batch, day, pending, (t, threads))))
            .collect();
        for lane in lanes {
            let choices = lane
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (k, choice) in choices {
                chosen[k] = Some(choice);
            }
        }
    });
    chosen
}

/// The choices for the customers of lane `t` of `n` (customer index modulo `n`), as
/// (position in the batch, choice).
fn lane<'a>(
    sim: &Simulator<'a>,
    batch: &[(NaiveDate, usize)],
    day: NaiveDate,
    pending: &BTreeMap<usize, Vec<&Event>>,
    (t, n): (usize, usize),
) -> Vec<(usize, Choice<'a>)> {
    // Each customer's behaviour as the loop will see it; `None` once the loop takes over.
    let mut customers: HashMap<usize, Option<Window>> = HashMap::new();
    // Its totals per currency (by `Simulator::invoice_slot`) as the loop will see them.
    let mut slots: HashMap<usize, Running> = HashMap::new();
    let mut out = Vec::new();
    for (k, &(_, i)) in batch.iter().enumerate() {
        let c = sim.invoice_customer[i];
        if c % n != t {
            continue;
        }
        let state = customers
            .entry(c)
            .or_insert_with(|| Some(sim.logs[c].window(day)));
        let Some(window) = state else {
            continue;
        };
        if pending.contains_key(&i) {
            *state = None;
            continue;
        }
        let slot = sim.invoice_slot[i];
        let running = slots.entry(slot).or_insert(sim.running[slot]);
        let invoice = sim.invoices[i];
        let totals = running.with_behaviour(*window, sim.broken[c]);
        let choice = choose_scenario(sim.shared, invoice, &sim.customers[c], totals, day);
        let opening = invoice.opening_outstanding();
        running.update(
            Some(opening),
            opens_open(&choice, invoice).then_some(opening),
        );
        out.push((k, choice));
    }
    out
}
