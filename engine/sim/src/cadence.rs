//! Driving the contact cadence (`relance_core::runtime::cadence`) over a simulated run: a
//! whole run's actions at once (`simulate`, the test runner), or day by day as a planner
//! makes them ([`Cadence`] of core, with [`closed_on`] reading the cases as they stand).
//!
//! It owns only the feeding: days in order, the days on which something waits, and when each
//! invoice's case closed. It must not decide anything itself (core does) nor change a case.

use std::collections::HashMap;

use chrono::NaiveDate;

use relance_core::domain::Invoice;
use relance_core::runtime::cadence::{Cadence, Deferral};
use relance_core::runtime::{Instance, Planned};
use relance_dsl::ir::ScenarioSet;

use crate::simulator::Run;
use crate::timeline::Timeline;

/// A whole run's timeline up to `until`: under the set's cadence when it has one (messages
/// merged and dated by it, what waited as deferrals), else the run's actions as they are.
/// `invoices` are the portfolio's, in the order of `run.cases`; `causes` as in
/// [`Timeline::build`]. What `simulate` and the test runner print.
pub fn timeline(
    set: &ScenarioSet,
    invoices: &[Invoice],
    run: Run,
    until: NaiveDate,
    causes: bool,
) -> Timeline {
    if !relance_core::runtime::cadence::used(set) {
        return Timeline::build(set, &run.actions, &run.records, causes);
    }
    let invoices: Vec<&Invoice> = invoices.iter().collect();
    let closed = closed_on(&invoices, &run.cases);
    let (actions, deferred) = apply(set, run.actions, until, &closed);
    let mut timeline = Timeline::build(set, &actions, &run.records, causes);
    timeline.add_deferrals(deferred);
    timeline
}

/// The day each invoice's case closed or was frozen by a collective procedure
/// ([`Status::silenced_since`](relance_core::runtime::Status::silenced_since)), from the cases a run left (by invoice position).
pub fn closed_on(invoices: &[&Invoice], cases: &[Option<Instance>]) -> HashMap<String, NaiveDate> {
    invoices
        .iter()
        .zip(cases)
        .filter_map(|(inv, case)| {
            let since = case.as_ref()?.status.silenced_since()?;
            Some((inv.id.clone(), since))
        })
        .collect()
}

/// A whole run's actions (in date order) under the set's cadence, up to `until`: the actions
/// that go out, each on its day, and the messages that waited. Messages still waiting after
/// `until` appear only as deferrals.
pub fn apply(
    set: &ScenarioSet,
    actions: Vec<Planned>,
    until: NaiveDate,
    closed: &HashMap<String, NaiveDate>,
) -> (Vec<Planned>, Vec<Deferral>) {
    let closed_on = |p: &Planned| closed.get(&p.invoice).copied();
    let mut cadence = Cadence::new(set);
    let (mut sent, mut deferred) = (Vec::with_capacity(actions.len()), Vec::new());
    let mut take = |day: relance_core::runtime::cadence::Day| {
        sent.extend(day.sent);
        deferred.extend(day.deferred);
    };
    let mut actions = actions.into_iter().peekable();
    while let Some(first) = actions.next() {
        let date = first.date;
        let mut today = vec![first];
        while let Some(p) = actions.next_if(|p| p.date == date) {
            today.push(p);
        }
        if let Some(before) = date.pred_opt() {
            for (_, day) in cadence.release_through(before, &closed_on) {
                take(day);
            }
        }
        take(cadence.day(date, today, &closed_on));
    }
    for (_, day) in cadence.release_through(until, &closed_on) {
        take(day);
    }
    (sent, deferred)
}
