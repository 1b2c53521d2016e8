//! What a `charge` costs: the €40 recovery indemnity and L441-10 late interest (both for
//! professional debtors only), or a fixed fee.
//!
//! Amounts only: whether to charge is the scenario's decision, how to bill it the channels'.

use chrono::NaiveDate;

use relance_dsl::ir::{ChargeKind, Money};

use super::context::Facts;
use super::eval::EvalError;
use super::state::Instance;
use crate::interest::{late_interest, recovery_indemnity};

/// The amount of a charge today, or `None` when nothing is owed (a consumer debtor for the
/// indemnity, no interest accrued yet).
pub fn amount(kind: &ChargeKind, inst: &Instance, facts: &Facts<'_>, today: NaiveDate) -> Result<Option<Money>, EvalError> {
    match kind {
        ChargeKind::Indemnity => Ok(facts
            .customer
            .segment
            .is_professional()
            .then(|| Money { amount: recovery_indemnity(), currency: "EUR".into() })),
        // L441-10 governs professional debtors only; consumers owe the legal rate after a
        // formal notice (Code civil 1231-6), which is not an automatic charge.
        ChargeKind::LateInterest if !facts.customer.segment.is_professional() => Ok(None),
        ChargeKind::LateInterest => {
            let base = inst.outstanding.max(rust_decimal::Decimal::ZERO);
            let amount = late_interest(base, facts.invoice.due, today, facts.rates).map_err(|e| EvalError(e.to_string()))?;
            Ok((!amount.is_zero()).then(|| Money { amount, currency: facts.invoice.currency.clone() }))
        }
        // A fixed fee's amount is in the IR action itself; the transition keeps it.
        ChargeKind::Fixed { .. } => Ok(None),
    }
}

/// Why a charge produced nothing (for the history).
pub fn why_not(kind: &ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Indemnity => "indemnity not charged: consumer debtor (L441-10 applies to professionals only)",
        ChargeKind::LateInterest => "late interest not charged: consumer debtor, or nothing accrued",
        ChargeKind::Fixed { .. } => "fixed fee without amount",
    }
}
