//! E0143: the bounds and rate of a percentage fee (`charge 5% "LABEL" min 15 EUR max 200 EUR`).
//!
//! Only the fee's own parts are checked here; where a charge may stand is `items`' business,
//! and the amount is the engine's (this module computes nothing).

use rust_decimal::Decimal;

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast::{MoneyLit, Span};

/// E0143 on a rate of 0% or above 100%, on bounds in two currencies, on `min` above `max`.
pub(super) fn percentage_fee(
    c: &mut Checker<'_>,
    span: Span,
    rate: Decimal,
    min: Option<&MoneyLit>,
    max: Option<&MoneyLit>,
) {
    if rate.is_zero() || rate > Decimal::ONE_HUNDRED {
        c.push(
            Diagnostic::new(
                Code::InvalidPercentageFee,
                span,
                format!("a fee of {rate}% of the outstanding"),
            )
            .with_label("the rate must be above 0% and at most 100%"),
        );
    }
    if let (Some(lo), Some(hi)) = (min, max) {
        if lo.currency != hi.currency {
            c.push(
                Diagnostic::new(
                    Code::InvalidPercentageFee,
                    hi.span,
                    "the bounds of this fee are in two currencies",
                )
                .with_label(format!(
                    "`min` is in {}, `max` in {}",
                    lo.currency, hi.currency
                ))
                .with_help("give both bounds in the currency of the invoices the scenario chases"),
            );
        } else if lo.amount > hi.amount {
            c.push(
                Diagnostic::new(
                    Code::InvalidPercentageFee,
                    hi.span,
                    "the maximum of this fee is under its minimum",
                )
                .with_label(format!(
                    "`max {} {}` is under `min {} {}`",
                    hi.amount, hi.currency, lo.amount, lo.currency
                )),
            );
        }
    }
}
