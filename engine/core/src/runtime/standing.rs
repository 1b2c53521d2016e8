//! Starting mid-way and catching up gradually: an imported invoice's place in its chase
//! (`Invoice::dunning`: the last step reached, its date, how many times it was sent) restored
//! into a fresh case, and which catch-up applies to a case (the invoice's own, else its
//! scenario's) with the gradual pacing rule.
//!
//! It owns only these small pure decisions; the transition function (`transition.rs`) fires
//! the steps. It must not fire a step, plan an action or read anything but its arguments.

use chrono::NaiveDate;

use relance_dsl::ir::{self, CatchUp};

use super::state::Instance;
use crate::calendar::Calendar;
use crate::domain::Invoice;

/// Restores where `invoice` stands (its `dunning_step`, `dunning_date`, `dunning_attempts`)
/// into the fresh case `inst` of `scenario`, as if that step had fired on that date: the case
/// goes on with the step after it, steps anchored on it count from that date, and
/// `history.last_step`, `history.messages` and the step's fired count start from there. The
/// step is never sent again. An unknown step is an error naming the invoice and the field.
pub fn restore(
    inst: &mut Instance,
    scenario: &ir::Scenario,
    invoice: &Invoice,
) -> Result<(), String> {
    let standing = &invoice.dunning;
    let Some(step) = &standing.step else {
        return Ok(());
    };
    let Some(k) = scenario.step_index(step) else {
        let known: Vec<&str> = scenario.steps.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "invoice {}: dunning_step `{step}` is not a step of scenario `{}` (its steps: {})",
            invoice.id,
            scenario.name,
            known.join(", ")
        ));
    };
    let attempts = standing.attempts.unwrap_or(1).max(1);
    inst.next_step = k + 1;
    // Validation makes the date go with the step; without one, the issue date (a step
    // anchored on this one then counts from it).
    inst.done_on[k] = Some(standing.date.unwrap_or(invoice.issued));
    inst.fired_count[k] = attempts;
    inst.counters.last_step = Some(step.clone());
    inst.counters.messages = attempts;
    Ok(())
}

/// The catch-up a case follows: the invoice's `catch_up` when it has one, else its scenario's.
pub fn mode(scenario: &ir::Scenario, invoice: &Invoice) -> CatchUp {
    invoice.dunning.catch_up.unwrap_or(scenario.catch_up)
}

/// Whether a gradual catch-up holds the next due step on `today` (a late step fired less
/// than one interval ago and the case has not caught up yet).
pub fn held(inst: &Instance, today: NaiveDate) -> bool {
    inst.catch_up_next.is_some_and(|d| d > today)
}

/// After a late step fired on `today` under `every`: the day the next step may fire when it
/// is already due too (`next_date` on or before today), else `None` (the case caught up and
/// the next steps fire on their own dates).
pub fn next_allowed(
    today: NaiveDate,
    next_date: Option<NaiveDate>,
    every: ir::Offset,
    calendar: Calendar,
) -> Option<NaiveDate> {
    next_date
        .filter(|d| *d <= today)
        .map(|_| super::eval::shift(today, every, calendar))
}
