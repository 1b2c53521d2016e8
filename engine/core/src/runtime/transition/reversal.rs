//! A payment that comes back (`EventKind::PaymentReversed`: a returned direct debit, an unpaid
//! LCR, a bounced cheque): the outstanding grows back, late interest counts the money as never
//! received, and a case closed as paid re-opens where it stood.
//!
//! A child of `transition.rs`, so it drives the same [`Machine`] (records, handlers, all or
//! nothing). It owns only this event. What re-opening means, precisely:
//!
//! - the reversed amount is added back to the **principal** outstanding (never to the charges)
//!   and taken off `history.paid`; `history.reversals` counts one more;
//! - the case's balance history (what late interest reads) is raised by the amount from the
//!   reversed payment's date (`payment_date`, else the reversal's date): the money never came
//!   (with the payment's date and no other payment since, interest is exactly what it would
//!   have been without the payment);
//! - a case **closed as paid** re-opens (unless it is still at or under the tolerance) as it
//!   would stand without the payment: held by an open dispute, waiting for a pending promise,
//!   else active; an open case stays as it is; a case closed otherwise (written off, credited,
//!   stopped) or in error only has its outstanding raised;
//! - the schedule is untouched: the next step is the one after the last step that fired,
//!   steps already fired are not fired again, and the steps that fell due while the case was
//!   closed fire at the day's tick with the usual catch-up (the latest, plus every `required`
//!   one). `on payment reversed` runs first, and may `goto` a step to send it again.
//!
//! It must not read anything but the machine's arguments.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use relance_dsl::ir::EventName;

use super::super::state::{CloseReason, Status};
use super::{Machine, promise_decision_day};
use crate::payment::ReversalReason;

impl Machine<'_, '_> {
    /// Applies a payment reversal. See the module documentation.
    pub(super) fn payment_reversed(
        &mut self,
        amount: Decimal,
        reason: ReversalReason,
        reference: Option<&str>,
        payment_date: Option<NaiveDate>,
    ) {
        let due = self.facts.invoice.due;
        let from = payment_date.unwrap_or(self.today).min(self.today);
        if self.today > due && self.inst.balances.is_empty() {
            self.inst.balances.push((due, self.inst.outstanding));
        }
        // Interest: from the reversed payment's day on, the balance never dropped.
        for (day, balance) in &mut self.inst.balances {
            if *day >= from {
                *balance += amount;
            }
        }
        self.inst.outstanding += amount;
        self.inst.paid -= amount;
        self.inst.counters.reversals += 1;
        if self.today > due {
            self.inst.balances.push((self.today, self.inst.outstanding));
        }
        // A balance equal to the one before it is no change: dropped, so interest over a
        // payment that never came runs as one period, exactly as if it had never been
        // recorded (each period is rounded to the cent on its own).
        let mut last = None;
        self.inst.balances.retain(|&(_, balance)| {
            let keep = last != Some(balance);
            last = Some(balance);
            keep
        });
        let what = match reference {
            Some(r) => format!("payment {r} of {amount} reversed ({})", reason.as_str()),
            None => format!("payment of {amount} reversed ({})", reason.as_str()),
        };
        let cause = format!("{what}, outstanding {}", self.inst.outstanding);
        match self.inst.status {
            Status::Closed {
                reason: CloseReason::Paid,
                ..
            } if !self.settled() => {
                let status = self.reopened_status();
                let cause = match &status {
                    Status::Paused { .. } => {
                        format!("{cause}; re-opened, the open dispute holds it")
                    }
                    Status::Waiting { until, .. } => {
                        format!("{cause}; re-opened, the promise holds until {until}")
                    }
                    _ => format!("{cause}; re-opened"),
                };
                self.set_status(status, None, cause);
                self.handle(EventName::PaymentReversed, |_| {});
            }
            Status::Active | Status::Paused { .. } | Status::Waiting { .. } => {
                self.record(None, self.inst.status.name(), cause);
                self.handle(EventName::PaymentReversed, |_| {});
            }
            _ => {
                let status = self.inst.status.name();
                self.record(
                    None,
                    status,
                    format!("{cause}; case {status}, not re-opened"),
                );
            }
        }
    }

    /// The status a re-opened case takes: paused by an open dispute, waiting for a pending
    /// promise, else active.
    fn reopened_status(&self) -> Status {
        if self.inst.dispute.is_some() {
            return Status::Paused {
                since: self.today,
                reason: "dispute".into(),
            };
        }
        let mut probe = self.inst.clone();
        probe.status = Status::Active;
        match promise_decision_day(&probe, self.facts).filter(|d| *d > self.today) {
            Some(until) => Status::Waiting {
                until,
                reason: "promise".into(),
            },
            None => Status::Active,
        }
    }
}
