//! The credit insurer's deadlines in the transition: when a covered customer's invoice is still
//! open on the day one of its policy's deadlines (counted from the ORIGINAL due date, minus the
//! deadline's notice) arrives, one task is created, once per case and per deadline:
//! "declare the threatened risk to INSURER by DATE", "stop-cover with INSURER from DATE", "file
//! the claim with INSURER by DATE".
//!
//! A child of `transition.rs`, driving the same [`Machine`], so the simulator, the planner and
//! the daemon all create them. The deadlines' arithmetic is `crate::insurance`'s; the policy
//! comes with the customer record (`CreditCover::threatened_risk`, `stop_cover`, `claim`),
//! never from a file read here. It must not change the case's status nor its steps: the
//! dunning goes on.

use relance_dsl::ir::Action;
use rust_decimal::Decimal;

use chrono::NaiveDate;

use super::super::context::Facts;
use super::super::state::{Instance, Status};
use super::Machine;
use crate::insurance::{CoverStatus, CreditCover, InsurerDeadline};

/// One of the insurer's deadlines that becomes a task, in the order they are created on a
/// same day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ThreatenedRisk,
    StopCover,
    Claim,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::ThreatenedRisk, Kind::StopCover, Kind::Claim];

    /// The `handler_runs` key marking the task as created, and the planned action's step.
    fn key(self) -> &'static str {
        match self {
            Kind::ThreatenedRisk => "threatened_risk",
            Kind::StopCover => "stop_cover",
            Kind::Claim => "insurance_claim",
        }
    }

    fn deadline(self, cover: &CreditCover) -> Option<InsurerDeadline> {
        match self {
            Kind::ThreatenedRisk => cover.threatened_risk,
            Kind::StopCover => cover.stop_cover,
            Kind::Claim => cover.claim,
        }
    }

    /// What the credit manager must do, and by when.
    fn what(self, insurer: &str, by: NaiveDate) -> String {
        match self {
            Kind::ThreatenedRisk => format!("declare the threatened risk to {insurer} by {by}"),
            Kind::StopCover => format!(
                "stop-cover with {insurer} from {by}: deliveries to this customer after that day \
                 are not insured (stop them or agree with the insurer)"
            ),
            Kind::Claim => format!("file the claim with {insurer} by {by}"),
        }
    }
}

/// The day the task of `kind` is created for this case, while it is still to create: a
/// covered customer whose cover carries that deadline, an open case with something
/// outstanding, no such task yet.
fn task_day(kind: Kind, inst: &Instance, facts: &Facts<'_>) -> Option<NaiveDate> {
    let cover = facts.customer.credit_cover.as_ref()?;
    let deadline = kind.deadline(cover)?;
    let open = matches!(
        inst.status,
        Status::Active | Status::Paused { .. } | Status::Waiting { .. }
    );
    (cover.status == CoverStatus::Covered
        && open
        && inst.outstanding > Decimal::ZERO
        && !inst.handler_runs.contains_key(kind.key()))
    .then(|| deadline.dates(facts.invoice.due).1)
}

/// The earliest day an insurer task is still to be created for this case. `next_wakeup`
/// wakes the case that day.
pub(in crate::runtime) fn next_task_day(inst: &Instance, facts: &Facts<'_>) -> Option<NaiveDate> {
    Kind::ALL
        .into_iter()
        .filter_map(|k| task_day(k, inst, facts))
        .min()
}

impl Machine<'_, '_> {
    /// Creates each insurer task whose day has come (threatened risk, stop-cover, claim).
    pub(super) fn insurer_tasks(&mut self) {
        for kind in Kind::ALL {
            self.insurer_task(kind);
        }
    }

    fn insurer_task(&mut self, kind: Kind) {
        let Some(from) = task_day(kind, &self.inst, self.facts) else {
            return;
        };
        if self.today < from {
            return;
        }
        let Some(cover) = self.facts.customer.credit_cover.as_ref() else {
            return;
        };
        let Some(deadline) = kind.deadline(cover) else {
            return;
        };
        let original_due = self.facts.invoice.due;
        let (by, _) = deadline.dates(original_due);
        let key_name = kind.key();
        self.inst.handler_runs.insert(key_name.to_string(), 1);
        let text = format!(
            "{}: invoice {} unpaid, {} {} outstanding (original due date {original_due}; the \
             policy counts {} from it)",
            kind.what(&cover.insurer, by),
            self.inst.invoice,
            self.inst.outstanding,
            self.facts.invoice.currency,
            deadline.after,
        );
        let key = format!("{}/{}/{key_name}/1/0", self.inst.invoice, self.inst.version);
        let order = self.steps().len();
        self.plan(key_name, order, Action::Task { text, assign: None }, key);
    }
}
