//! What a `charge` costs: the €40 recovery indemnity and L441-10 late interest (both for
//! professional debtors only; interest per installment for an invoice with installments), a
//! fixed fee, or a percentage fee (computed in `fees`).
//!
//! Amounts only: whether to charge is the scenario's decision, how to bill it the channels'.
//! A late-interest charge that runs past the end of the rate table carries the
//! [`AssumedRate`] it used (`relance_core::interest`'s rule: the last known rate), as data.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use relance_dsl::ir::{ChargeKind, Money};

use super::context::Facts;
use super::eval::EvalError;
use super::installments;
use super::state::Instance;
use crate::interest::{AssumedRate, PenaltyRate, late_interest_detail, recovery_indemnity};
use relance_dsl::ir::LateInterestRate;

/// Where the rate of a late-interest charge comes from, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateSource {
    /// The invoice's own `late_interest_rate`.
    Invoice,
    /// The customer's `late_interest_rate`.
    Customer,
    /// The scenario's `late-interest` setting.
    Scenario,
    /// None of them: ECB + 10 points (L441-10 II).
    Default,
}

/// The rate late interest uses for this invoice (L441-10 II, "sauf disposition contraire"):
/// the invoice's own rate, else its customer's, else the scenario's `late-interest`, else
/// ECB + 10 points of each half-year.
pub fn penalty_rate(facts: &Facts<'_>) -> (PenaltyRate, RateSource) {
    if let Some(rate) = facts.invoice.late_interest_rate {
        return (PenaltyRate::Yearly(rate), RateSource::Invoice);
    }
    if let Some(rate) = facts.customer.late_interest_rate {
        return (PenaltyRate::Yearly(rate), RateSource::Customer);
    }
    match facts.scenario.late_interest {
        Some(LateInterestRate::Percent(rate)) => (PenaltyRate::Yearly(rate), RateSource::Scenario),
        Some(LateInterestRate::LegalTimes(n)) => (PenaltyRate::LegalTimes(n), RateSource::Scenario),
        None => (PenaltyRate::Default, RateSource::Default),
    }
}

/// A charge computed today: its amount and, for late interest past the end of the rate
/// table, the half-year assumed and the one whose rate was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Computed {
    pub money: Money,
    pub assumed: Option<AssumedRate>,
}

/// The yearly rate late interest on this invoice runs at on `day`, in percent, as
/// [`penalty_rate`] chooses it and the charge computes it ([`RateTable::penalty_rate_for`]):
/// what templates show as `late_interest_rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedRate {
    pub rate: rust_decimal::Decimal,
    pub source: RateSource,
    /// Set when `day`'s half-year is past the end of the table (the last known rate).
    pub assumed: Option<AssumedRate>,
}

/// The rate of [`AppliedRate`] for this invoice on `day`; `None` when the table cannot give
/// it (before its first half-year, or a hole in its legal rates: the charge is then an error).
///
/// [`RateTable::penalty_rate_for`]: crate::interest::RateTable::penalty_rate_for
pub fn applied_rate(facts: &Facts<'_>, day: NaiveDate) -> Option<AppliedRate> {
    let (penalty, source) = penalty_rate(facts);
    let (rate, assumed) = facts.rates.penalty_rate_for(penalty, day).ok()?;
    Some(AppliedRate {
        rate,
        source,
        assumed,
    })
}

/// The amount of a charge today, or `None` when nothing is owed (a consumer debtor for the
/// indemnity, no interest accrued yet).
pub fn amount(
    kind: &ChargeKind,
    inst: &Instance,
    facts: &Facts<'_>,
    today: NaiveDate,
) -> Result<Option<Computed>, EvalError> {
    let plain = |money: Option<Money>| {
        money.map(|money| Computed {
            money,
            assumed: None,
        })
    };
    match kind {
        ChargeKind::Indemnity => Ok(plain(facts.customer.segment.is_professional().then(|| {
            Money {
                amount: recovery_indemnity(),
                currency: "EUR".into(),
            }
        }))),
        // L441-10 governs professional debtors only; consumers owe the legal rate after a
        // formal notice (Code civil 1231-6), which is not an automatic charge.
        ChargeKind::LateInterest if !facts.customer.segment.is_professional() => Ok(None),
        ChargeKind::LateInterest => {
            let (amount, assumed) = accrued_detail(inst, facts, today)?;
            Ok((!amount.is_zero()).then(|| Computed {
                money: Money {
                    amount,
                    currency: facts.invoice.currency.clone(),
                },
                assumed,
            }))
        }
        // A fixed fee's amount is in the IR action itself; the transition keeps it.
        ChargeKind::Fixed { .. } => Ok(None),
        ChargeKind::Percent { rate, min, max, .. } => Ok(plain(Some(super::fees::percent(
            *rate,
            min.as_ref(),
            max.as_ref(),
            inst,
            facts,
        )?))),
    }
}

/// Interest from the day after the due date (or after the last interest charge) to `today`,
/// on the balance of each day: the period is cut at every payment or credit note. For an
/// invoice with installments, each installment bears it from the day after its own due date
/// on its own unpaid part (see [`accrued_parts`]).
pub(crate) fn accrued(
    inst: &Instance,
    facts: &Facts<'_>,
    today: NaiveDate,
) -> Result<Decimal, EvalError> {
    accrued_detail(inst, facts, today).map(|(amount, _)| amount)
}

/// [`accrued`], with the first half-year charged at an assumed rate (past the table's end),
/// over all the parts.
fn accrued_detail(
    inst: &Instance,
    facts: &Facts<'_>,
    today: NaiveDate,
) -> Result<(Decimal, Option<AssumedRate>), EvalError> {
    let parts = accrued_parts(inst, facts, today)?;
    let total = parts.iter().map(|p| p.amount).sum();
    let assumed = parts.iter().find_map(|p| p.assumed);
    Ok((total, assumed))
}

/// The late interest one part of the debt bears (an installment, or the whole invoice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInterest {
    /// The part's due date.
    pub due: NaiveDate,
    /// The first day charged (the day after the due date or after the last interest charge).
    pub first: NaiveDate,
    /// The interest, rounded to the cent for each period of constant balance.
    pub amount: Decimal,
    /// The first half-year charged at an assumed rate (past the end of the table), if any.
    pub assumed: Option<AssumedRate>,
}

/// [`accrued`] part by part: one entry per installment (per the invoice without
/// installments) whose due date is before `today`, in date order. Each installment's unpaid
/// part on a day follows the balance of that day (payments pay the earliest installment
/// first, `installments::unpaid`); each period of constant unpaid part is rounded to the cent
/// on its own, as for an invoice with one due date.
pub(crate) fn accrued_parts(
    inst: &Instance,
    facts: &Facts<'_>,
    today: NaiveDate,
) -> Result<Vec<PartInterest>, EvalError> {
    // The contractual rate (invoice, customer, scenario), else the default of each
    // half-year (L441-10 II).
    let (rate, _) = penalty_rate(facts);
    let invoice = facts.invoice;
    let mut out = Vec::new();
    for (index, due) in installments::parts(invoice).into_iter().enumerate() {
        if due >= today {
            break;
        }
        let start = inst.charged.interest_until.unwrap_or(due).max(due);
        // The balance in force on `start`: `balances` starts with the balance on the first
        // due date once anything changed after it; without changes, today's outstanding
        // held all along.
        let mut balance = inst
            .balances
            .iter()
            .rev()
            .find(|(d, _)| *d <= start)
            .map_or(inst.outstanding, |(_, b)| *b);
        let mut from = start;
        let mut total = Decimal::ZERO;
        let mut assumed = None;
        let mut add = |balance: Decimal, from, to| {
            let part = installments::unpaid(invoice, index, balance).max(Decimal::ZERO);
            let interest = late_interest_detail(part, from, to, facts.rates, rate)
                .map_err(|e| EvalError(e.to_string()))?;
            total += interest.amount;
            assumed = assumed.or(interest.assumed);
            Ok::<(), EvalError>(())
        };
        for &(day, after) in inst
            .balances
            .iter()
            .filter(|(d, _)| *d > start && *d <= today)
        {
            // The day a payment arrives still bears interest on the old balance.
            add(balance, from, day)?;
            balance = after;
            from = day;
        }
        add(balance, from, today)?;
        out.push(PartInterest {
            due,
            first: start.succ_opt().unwrap_or(start),
            amount: total,
            assumed,
        });
    }
    Ok(out)
}

/// Whether `charge` is late interest on an invoice past its (first) due date: it may be
/// charged with the principal paid (in `on paid`, or with `charges keep the case open`), or
/// while a later installment is not yet due, up to the day of the action, on the balance of
/// each day (nothing accrues on a zero balance).
pub fn interest_after_payment(charge: &ChargeKind, facts: &Facts<'_>, today: NaiveDate) -> bool {
    matches!(charge, ChargeKind::LateInterest) && today > installments::interest_from(facts.invoice)
}

/// How a late-interest charge today is computed, for the history and the timeline: the days
/// charged (from the day after the due date or the last interest charge, to today), the days
/// late, and each rate used with its half-year (`30 days late; 30 days charged, 2026-02-01 to
/// 2026-03-02, at 12.15 % (2026-H1, ECB 2.15 + 10 points)`), or the contractual rate. For an
/// invoice with installments, the days late count from the first installment's date and the
/// share of each installment follows (`; installment 1 of 2, due 2026-01-31: 2026-02-01 to
/// 2026-04-30, 8.99`). A rate assumed past the end of the table is said once for all the
/// half-years that take it (`12.15 % (2027-H1 to 2028-H2, ECB 2.15 + 10 points); rate assumed:
/// the table has no rate for 2027-H1, the rate of 2026-H2 is used`).
pub fn interest_basis(
    inst: &Instance,
    facts: &Facts<'_>,
    today: NaiveDate,
    assumed: Option<AssumedRate>,
) -> String {
    let due = installments::interest_from(facts.invoice);
    let start = inst.charged.interest_until.unwrap_or(due).max(due);
    let first = start.succ_opt().unwrap_or(start);
    let days = (today - start).num_days();
    let late = (today - due).num_days();
    let (penalty, source) = penalty_rate(facts);
    let whose = match source {
        RateSource::Invoice => "contractual, the invoice's",
        RateSource::Customer => "contractual",
        RateSource::Scenario | RateSource::Default => "contractual, the scenario's",
    };
    let rates = match penalty {
        PenaltyRate::Yearly(rate) => format!("{rate} % ({whose})"),
        PenaltyRate::LegalTimes(times) => {
            let mut parts: Vec<String> = Vec::new();
            for day in half_years(first, today) {
                if let Ok((legal, from)) = facts.rates.legal_rate_for(day) {
                    let half = half_year_span(day, today, from.is_some());
                    parts.push(format!(
                        "{} % ({half}, {times} times the legal rate {legal})",
                        legal * times
                    ));
                    if from.is_some() {
                        break;
                    }
                }
            }
            parts.join(", ")
        }
        PenaltyRate::Default => {
            let mut parts: Vec<String> = Vec::new();
            for day in half_years(first, today) {
                if let Some((ecb, from)) = facts.rates.ecb_rate_for(day) {
                    let half = half_year_span(day, today, from.is_some());
                    parts.push(format!(
                        "{} % ({half}, ECB {ecb} + 10 points)",
                        ecb + Decimal::TEN
                    ));
                    if from.is_some() {
                        break;
                    }
                }
            }
            parts.join(", ")
        }
    };
    let mut basis =
        format!("{late} days late; {days} days charged, {first} to {today}, at {rates}");
    if !facts.invoice.installments.is_empty() {
        let of = facts.invoice.installments.len();
        // The amounts were computed a moment before by `amount`; an error cannot happen here.
        for (i, part) in accrued_parts(inst, facts, today)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            basis.push_str(&format!(
                "; installment {} of {of}, due {}: {} to {today}, {}",
                i + 1,
                part.due,
                part.first,
                part.amount
            ));
        }
    }
    match assumed {
        Some(a) => format!("{basis}; {a}"),
        None => basis,
    }
}

/// The half-year of `day` (`2026-H1`) or, for a rate assumed past the end of the table, the
/// half-years from `day`'s to `today`'s (`2027-H1 to 2031-H2`): they all take the last known
/// rate, so the basis names them once instead of once per half-year up to year 9999.
fn half_year_span(day: NaiveDate, today: NaiveDate, assumed: bool) -> String {
    let (half, last) = (
        crate::interest::half_year_name(day),
        crate::interest::half_year_name(today),
    );
    if assumed && half != last {
        format!("{half} to {last}")
    } else {
        half
    }
}

/// `first`, then the first day of each following half-year, up to `today` (one day per
/// half-year slice of an interest period).
fn half_years(first: NaiveDate, today: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    std::iter::successors(Some(first), |d| crate::interest::next_half_year_after(*d))
        .take_while(move |d| *d <= today)
}

/// Why a charge produced nothing (for the history).
pub fn why_not(kind: &ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Indemnity => {
            "indemnity not charged: consumer debtor (L441-10 applies to professionals only)"
        }
        ChargeKind::LateInterest => {
            "late interest not charged: consumer debtor, or nothing accrued"
        }
        ChargeKind::Fixed { .. } => "fixed fee without amount",
        ChargeKind::Percent { .. } => "percentage fee: nothing computed",
    }
}
