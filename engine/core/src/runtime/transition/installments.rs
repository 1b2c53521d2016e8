//! The case of an invoice with installments moving on to the next one when a payment (or a
//! credit note) settles the installment it was chasing: the scenario starts again on that
//! installment's dates, and the history says so.
//!
//! A child of `transition.rs`, run after every input. It must not decide which installment
//! is chased nor what is due (`runtime::installments` does).

use super::Machine;
use crate::runtime::installments;

impl Machine<'_, '_> {
    /// After an input: when the case now chases a later installment, restart its steps there
    /// and record it.
    pub(super) fn next_installment(&mut self) {
        let Some(i) = installments::advance(
            &mut self.inst,
            self.facts.invoice,
            &self.facts.scenario.steps,
        ) else {
            return;
        };
        let of = self.facts.invoice.installments.len();
        let due = self.facts.invoice.installments[i].due;
        self.record(
            None,
            self.inst.status.name(),
            format!(
                "installment {} of {of} settled: chasing installment {} of {of}, due {due}, from the first step",
                i, i + 1
            ),
        );
    }
}
