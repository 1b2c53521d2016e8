//! The credit insurer's threatened-risk declaration in the transition: when a covered
//! customer's invoice is still open on the day its policy's declaration deadline (counted from
//! the ORIGINAL due date, minus the policy's notice) arrives, one task "declare the threatened
//! risk to INSURER by DATE" is created, once per case.
//!
//! A child of `transition.rs`, driving the same [`Machine`], so the simulator, the planner and
//! the daemon all create it. The deadline's arithmetic is `crate::insurance`'s; the policy
//! comes with the customer record (`CreditCover::threatened_risk`), never from a file read
//! here. It must not change the case's status nor its steps: the dunning goes on.

use relance_dsl::ir::Action;
use rust_decimal::Decimal;

use chrono::NaiveDate;

use super::super::context::Facts;
use super::super::state::{Instance, Status};
use super::Machine;
use crate::insurance::CoverStatus;

/// The `handler_runs` key marking the task as created (it is created once per case).
const KEY: &str = "threatened_risk";

/// The day the threatened-risk task is created for this case, while it is still to create:
/// a covered customer whose cover carries the policy's deadline, an open case with something
/// outstanding, no such task yet. `next_wakeup` wakes the case that day.
pub(in crate::runtime) fn threatened_risk_day(
    inst: &Instance,
    facts: &Facts<'_>,
) -> Option<NaiveDate> {
    let cover = facts.customer.credit_cover.as_ref()?;
    let policy = cover.threatened_risk?;
    let open = matches!(
        inst.status,
        Status::Active | Status::Paused { .. } | Status::Waiting { .. }
    );
    (cover.status == CoverStatus::Covered
        && open
        && inst.outstanding > Decimal::ZERO
        && !inst.handler_runs.contains_key(KEY))
    .then(|| policy.dates(facts.invoice.due).1)
}

impl Machine<'_, '_> {
    /// Creates the threatened-risk declaration task when its day has come.
    pub(super) fn threatened_risk_task(&mut self) {
        let Some(from) = threatened_risk_day(&self.inst, self.facts) else {
            return;
        };
        if self.today < from {
            return;
        }
        let Some(cover) = self.facts.customer.credit_cover.as_ref() else {
            return;
        };
        let Some(policy) = cover.threatened_risk else {
            return;
        };
        let original_due = self.facts.invoice.due;
        let (by, _) = policy.dates(original_due);
        self.inst.handler_runs.insert(KEY.to_string(), 1);
        let text = format!(
            "declare the threatened risk to {} by {by}: invoice {} unpaid, {} {} outstanding \
             (original due date {original_due}; the policy counts {} from it)",
            cover.insurer,
            self.inst.invoice,
            self.inst.outstanding,
            self.facts.invoice.currency,
            policy.after,
        );
        let key = format!("{}/{}/{KEY}/1/0", self.inst.invoice, self.inst.version);
        let order = self.steps().len();
        self.plan(KEY, order, Action::Task { text, assign: None }, key);
    }
}
