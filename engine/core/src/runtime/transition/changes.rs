//! Changes after the start: what the transition does with a customer's tag added or removed,
//! a write-off reversed, a failed payment attempt, and a person moving a case to another
//! scenario (OCA's policy changer).
//!
//! A child of `transition.rs`, so it drives the same [`Machine`] (records, handlers, all or
//! nothing). It owns only these five events; the customer record itself (its tags) is changed
//! by the driver through [`EventKind::apply_to_customer`], never here. It must not read
//! anything but the machine's arguments.

use relance_dsl::ir::EventName;

use super::super::eval::EvalError;
use super::super::state::{CloseReason, Status};
use super::Machine;
use crate::domain::EventKind;

impl Machine<'_, '_> {
    /// Applies one of the five events of this module; false for any other event.
    pub(super) fn change(&mut self, ev: &EventKind) -> bool {
        match ev {
            EventKind::TagAdded { tag, .. } => {
                self.record(None, self.inst.status.name(), format!("tag {tag} added"));
                self.handle(EventName::TagAdded, |_| {});
            }
            EventKind::TagRemoved { tag, .. } => {
                self.record(None, self.inst.status.name(), format!("tag {tag} removed"));
                self.handle(EventName::TagRemoved, |_| {});
            }
            EventKind::PaymentFailed { reason, .. } => {
                self.inst.last_failed_payment = Some(reason.clone());
                self.record(
                    None,
                    self.inst.status.name(),
                    format!("payment failed: {reason}"),
                );
                self.handle(EventName::PaymentFailed, |_| {});
            }
            EventKind::WriteOffReversed { reason, .. } => self.write_off_reversed(reason),
            EventKind::ScenarioChanged {
                scenario,
                step,
                by,
                because,
                ..
            } => self.moved(scenario, step.as_deref(), by, because),
            _ => return false,
        }
        true
    }

    /// Re-opens a written-off case where it stood: the same next step, its history kept. Steps
    /// that fell due while it was written off fire at the next tick, with the usual catch-up.
    fn write_off_reversed(&mut self, reason: &Option<String>) {
        let status = self.inst.status.name();
        if !matches!(
            self.inst.status,
            Status::Closed {
                reason: CloseReason::WrittenOff,
                ..
            }
        ) {
            self.record(
                None,
                status,
                format!("write_off_reversed ignored: case {status}, not written off"),
            );
            return;
        }
        let cause = match reason {
            Some(r) => format!("write off reversed: {r}"),
            None => "write off reversed".to_string(),
        };
        // The case comes back as it would stand without the write-off: held by an open
        // dispute, waiting for a pending promise, else active.
        let status = self.reopened_status();
        let cause = match &status {
            Status::Paused { .. } => format!("{cause}; the open dispute holds it"),
            Status::Waiting { until, .. } => format!("{cause}; the promise holds until {until}"),
            _ => cause,
        };
        self.set_status(status, None, cause);
        self.handle(EventName::WriteOffReversed, |_| {});
    }

    /// Moves the case to `scenario` (the facts the driver handed over are that scenario's) at
    /// `step`, else at its first step. The steps of the new scenario start unfired; counters,
    /// payments, promise and dispute are kept.
    fn moved(&mut self, scenario: &str, step: Option<&str>, by: &str, because: &str) {
        let target = self.facts.scenario;
        if target.name != scenario {
            return self.fail(
                None,
                EvalError(format!(
                    "cannot move to scenario {scenario}: the set has no such scenario"
                )),
            );
        }
        let at = match step {
            None => 0,
            Some(s) => match target.step_index(s) {
                Some(i) => i,
                None => {
                    return self.fail(
                        None,
                        EvalError(format!(
                            "cannot move to scenario {scenario}: it has no step {s}"
                        )),
                    );
                }
            },
        };
        let from = std::mem::replace(&mut self.inst.scenario, target.name.clone());
        self.inst.version = target.version.clone();
        self.inst.done_on = vec![None; target.steps.len()];
        self.inst.fired_count = vec![0; target.steps.len()];
        self.inst.next_step = at;
        // Nothing of the old scenario's schedule survives the move: its repetition and a
        // gradual catch-up's hold point at the old steps.
        self.inst.repeating = None;
        self.inst.catch_up_next = None;
        let step_name = target.steps.get(at).map(|s| s.name.as_str());
        let cause = format!(
            "moved from scenario {from} to {scenario}{} by {by}: {because}",
            step_name.map_or(String::new(), |s| format!(" at step {s}"))
        );
        self.record(step_name, self.inst.status.name(), cause);
        self.handle(EventName::ScenarioChanged, |_| {});
    }
}
