//! Fees that are owed: what a percentage fee costs, whether a charge may apply today (never to
//! an invoice that is not late), and how a payment splits between principal and charges.
//!
//! Pure arithmetic on the case and its facts. It must not change the case nor decide which
//! step fires: `transition` calls it and records what it says.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use relance_dsl::ir::Money;

use super::context::Facts;
use super::eval::EvalError;
use super::state::Instance;

/// Why no charge applies to the invoice today, or `None` when it is late: after its due date
/// and with principal outstanding.
pub fn not_late(inst: &Instance, facts: &Facts<'_>, today: NaiveDate) -> Option<String> {
    let due = super::installments::own_due(facts.invoice, inst);
    if today <= due {
        Some(format!(
            "charge not applied: the invoice is not late (due {due})"
        ))
    } else if inst.outstanding <= Decimal::ZERO {
        Some("charge not applied: nothing outstanding on the invoice".into())
    } else {
        None
    }
}

/// `rate`% of the outstanding principal, rounded to the cent half away from zero (as late
/// interest, and as EU Regulation 1103/97 art. 5 rounds to the cent), then raised to `min`
/// and lowered to `max`. The bounds must be in the invoice's currency: a bound in another
/// currency cannot be compared and is an error (visible, never silently ignored).
pub fn percent(
    rate: Decimal,
    min: Option<&Money>,
    max: Option<&Money>,
    inst: &Instance,
    facts: &Facts<'_>,
) -> Result<Money, EvalError> {
    let currency = &facts.invoice.currency;
    for (word, bound) in [("minimum", min), ("maximum", max)] {
        if let Some(b) = bound.filter(|b| &b.currency != currency) {
            return Err(EvalError(format!(
                "the fee's {word} is in {}, the invoice in {currency}: no fee is computed",
                b.currency
            )));
        }
    }
    let raw = inst.outstanding.max(Decimal::ZERO) * rate / Decimal::ONE_HUNDRED;
    let mut amount = raw.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    if let Some(m) = min {
        amount = amount.max(m.amount);
    }
    if let Some(m) = max {
        amount = amount.min(m.amount);
    }
    Ok(Money {
        amount: amount.normalize(),
        currency: currency.clone(),
    })
}

/// How a payment of `amount` splits: `(to principal, to charges)`. Principal first (the
/// default): the charges get only what the principal leaves; charges first: the principal
/// gets only what the unpaid charges leave. What exceeds both goes to the principal (an
/// overpayment shows as a negative outstanding, as without charges).
pub fn allocate(
    amount: Decimal,
    outstanding: Decimal,
    owed: Decimal,
    charges_first: bool,
) -> (Decimal, Decimal) {
    let owed = owed.max(Decimal::ZERO);
    let to_charges = if charges_first {
        amount.min(owed)
    } else {
        (amount - outstanding.max(Decimal::ZERO))
            .max(Decimal::ZERO)
            .min(owed)
    }
    .max(Decimal::ZERO);
    (amount - to_charges, to_charges)
}

#[cfg(test)]
mod tests {
    use super::allocate;
    use rust_decimal::Decimal;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn principal_first_gives_the_charges_only_the_rest() {
        assert_eq!(
            allocate(d("60"), d("100"), d("15"), false),
            (d("60"), d("0"))
        );
        assert_eq!(
            allocate(d("110"), d("100"), d("15"), false),
            (d("100"), d("10"))
        );
        assert_eq!(
            allocate(d("130"), d("100"), d("15"), false),
            (d("115"), d("15"))
        );
    }

    #[test]
    fn charges_first_pays_the_charges_before_the_principal() {
        assert_eq!(
            allocate(d("10"), d("100"), d("15"), true),
            (d("0"), d("10"))
        );
        assert_eq!(
            allocate(d("60"), d("100"), d("15"), true),
            (d("45"), d("15"))
        );
    }

    #[test]
    fn without_charges_everything_goes_to_the_principal() {
        assert_eq!(allocate(d("60"), d("100"), d("0"), true), (d("60"), d("0")));
        assert_eq!(
            allocate(d("60"), d("100"), d("0"), false),
            (d("60"), d("0"))
        );
    }
}
