//! The credit insurer's deadlines in the transition: when a covered customer's invoice is still
//! open on the day one of its policy's deadlines (counted from the ORIGINAL due date, minus the
//! deadline's notice; for an invoice with installments, the original due date of the first
//! installment not paid in full: `installments::insured_due`) arrives, one task is created, once
//! per case and per deadline: "declare the threatened risk to INSURER by DATE", "stop-cover with
//! INSURER from DATE", "file the claim with INSURER by DATE".
//!
//! A child of `transition.rs`, driving the same [`Machine`], so the simulator, the planner and the
//! daemon all create them. The deadlines' arithmetic is `crate::insurance`'s; the policy comes with
//! the customer record (`CreditCover::threatened_risk`, `stop_cover`, `claim`), never from a file
//! read here. It must not change the case's status nor its steps: the dunning goes on.
//!
//! A case frozen by a collective procedure (`transition/insolvency.rs`) no longer gets these tasks;
//! instead, once per frozen case of a covered customer whose cover carries its insurer's policy,
//! one task to declare the procedure to the insurer ([`Machine::insurer_procedure_task`]): under a
//! French credit insurance policy the opening judgment is itself a claim event (the *insolvabilité
//! constatée* the policy covers) that the insured must declare within the policy's deadline. That
//! deadline is each policy's parameter (`procedure_declaration` in `insurers.csv`, counted from the
//! judgment's date); the engine assumes none: without it, the task says the deadline is the
//! policy's.

use relance_dsl::ir::Action;
use rust_decimal::Decimal;

use chrono::NaiveDate;

use super::super::context::Facts;
use super::super::installments;
use super::super::state::{Instance, Status};
use super::Machine;
use crate::insolvency::Insolvency;
use crate::insurance::{CoverStatus, CreditCover, InsurerDeadline};

/// The `handler_runs` key marking the procedure's declaration to the insurer as created, and
/// the planned action's step.
const PROCEDURE_KEY: &str = "insurer_procedure";

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

/// A task of one kind still to create for this case: the cover and deadline it comes from,
/// the original due date the deadline counts from, the deadline itself and the day the task
/// is created.
struct Due<'f> {
    cover: &'f CreditCover,
    deadline: InsurerDeadline,
    original_due: NaiveDate,
    by: NaiveDate,
    day: NaiveDate,
}

/// The task of `kind`, while it is still to create: a covered customer whose cover carries
/// that deadline, an open case with something outstanding, no such task yet.
fn due_task<'f>(kind: Kind, inst: &Instance, facts: &Facts<'f>) -> Option<Due<'f>> {
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
    .then(|| {
        let original_due = installments::insured_due(facts.invoice, inst.outstanding);
        let (by, day) = deadline.dates(original_due);
        Due {
            cover,
            deadline,
            original_due,
            by,
            day,
        }
    })
}

/// The earliest day an insurer task is still to be created for this case. `next_wakeup`
/// wakes the case that day.
pub(in crate::runtime) fn next_task_day(inst: &Instance, facts: &Facts<'_>) -> Option<NaiveDate> {
    Kind::ALL
        .into_iter()
        .filter_map(|k| due_task(k, inst, facts).map(|t| t.day))
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
        let Some(Due {
            cover,
            deadline,
            original_due,
            by,
            day,
        }) = due_task(kind, &self.inst, self.facts)
        else {
            return;
        };
        if self.today < day {
            return;
        }
        let invoice = self.facts.invoice;
        // An invoice with installments: the deadlines run from the first unpaid one's date.
        let of_installment = if invoice.installments.is_empty() {
            String::new()
        } else {
            let n = installments::current(invoice, self.inst.outstanding) + 1;
            format!(" of installment {n}, the first unpaid")
        };
        let key_name = kind.key();
        self.inst.handler_runs.insert(key_name.to_string(), 1);
        let text = format!(
            "{}: invoice {} unpaid, {} {} outstanding (original due date {original_due}\
             {of_installment}; the policy counts {} from it)",
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

impl Machine<'_, '_> {
    /// Creates, once per case, the task to declare to the credit insurer the collective
    /// procedure that has just frozen the case (called by the freeze): for a customer whose
    /// cover is `covered` and carries its insurer's policy. The deadline is the policy's
    /// `procedure_declaration` from the judgment's date, when given.
    pub(super) fn insurer_procedure_task(&mut self, ins: &Insolvency) {
        let Some(cover) = self.facts.customer.credit_cover.as_ref() else {
            return;
        };
        if cover.status != CoverStatus::Covered
            || !cover.has_policy()
            || self.inst.handler_runs.contains_key(PROCEDURE_KEY)
        {
            return;
        }
        let when = match cover.procedure_declaration {
            Some(after) => format!(
                "by {} (the policy counts {after} from the judgment)",
                after.after(ins.judgment_on)
            ),
            None => "within the policy's deadline (insurers.csv gives no \
                     procedure_declaration for this insurer)"
                .to_string(),
        };
        let text = format!(
            "declare the {} opened on {} to {} {when}: invoice {}, {} {} outstanding (the \
             opening of a collective procedure is a claim event under the credit insurance \
             policy)",
            ins.procedure.label(),
            ins.judgment_on,
            cover.insurer,
            self.inst.invoice,
            self.inst.outstanding,
            self.facts.invoice.currency,
        );
        self.inst.handler_runs.insert(PROCEDURE_KEY.to_string(), 1);
        let key = format!(
            "{}/{}/{PROCEDURE_KEY}/1/0",
            self.inst.invoice, self.inst.version
        );
        let order = self.steps().len();
        self.plan(
            PROCEDURE_KEY,
            order,
            Action::Task { text, assign: None },
            key,
        );
    }
}
