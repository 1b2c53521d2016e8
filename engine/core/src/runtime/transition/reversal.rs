//! A payment that comes back (`EventKind::PaymentReversed`: a returned direct debit, an unpaid
//! LCR, a bounced cheque): the outstanding grows back, late interest counts the money as never
//! received, and a case closed as paid re-opens where it stood.
//!
//! A child of `transition.rs`, so it drives the same [`Machine`] (records, handlers, all or
//! nothing). It owns only this event. What re-opening means, precisely:
//!
//! - the reversed amount goes back where the payment went: each payment's split between
//!   principal and charges (`fees::allocate`) is recorded on the case when it is applied
//!   (`Instance::allocations`), and the reversal takes back that same split. The payment is
//!   found by its `reference`, else by `payment_date` and amount; a reversal of part of it
//!   takes back principal first within that payment. When no record matches (a payment made
//!   before the case existed, no reference and no date), the amount goes back to the principal
//!   first, up to what was paid to it (`history.paid` less what records paid to charges), then
//!   to the charges up to what payments paid to them, the rest to the principal. The amount
//!   is taken off `history.paid`; `history.reversals` counts one more;
//! - the case's balance history (what late interest reads) is raised by the principal part
//!   from the reversed payment's date (`payment_date`, else the reversal's date): the money
//!   never came (with the payment's date and no other payment since, interest is exactly what
//!   it would have been without the payment, charges part included: it is owed again as a
//!   charge, and bears no interest);
//! - a case **closed as paid** re-opens (unless it is still at or under the tolerance) as it
//!   would stand without the payment: held by an open dispute, waiting for a pending promise,
//!   else active; then, if its customer is under a collective procedure that freezes the
//!   claim, it is frozen at once (`sync_insolvency`: the declaration task, no handler, no
//!   message, L622-21); an open case stays as it is; a case closed otherwise (written off,
//!   credited, stopped) or in error only has its outstanding raised (a written-off case shows
//!   it when the write-off is reversed; the replay of `relance-sim` does the same);
//! - the schedule is untouched: the next step is the one after the last step that fired,
//!   steps already fired are not fired again, and the steps that fell due while the case was
//!   closed fire at the day's tick with the usual catch-up (the latest, plus every `required`
//!   one). `on payment reversed` runs first, and may `goto` a step to send it again.
//!
//! It must not read anything but the machine's arguments.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use relance_dsl::ir::EventName;

use super::super::state::{Allocation, CloseReason, Status};
use super::Machine;
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
        // Balances are kept from the first day anything can be late (the first installment's).
        let due = crate::runtime::installments::interest_from(self.facts.invoice);
        let from = payment_date.unwrap_or(self.today).min(self.today);
        if self.today > due && self.inst.balances.is_empty() {
            self.inst.balances.push((due, self.inst.outstanding));
        }
        let (to_principal, to_charges) = take_back(
            &mut self.inst.allocations,
            self.inst.paid,
            amount,
            reference,
            payment_date,
        );
        // Interest: from the reversed payment's day on, the principal never dropped.
        for (day, balance) in &mut self.inst.balances {
            if *day >= from {
                *balance += to_principal;
            }
        }
        self.inst.outstanding += to_principal;
        self.inst.charged.owed += to_charges;
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
        let cause = if to_charges.is_zero() {
            format!("{what}, outstanding {}", self.inst.outstanding)
        } else {
            format!(
                "{what}, {to_charges} back to charges, outstanding {}, charges owed {}",
                self.inst.outstanding, self.inst.charged.owed
            )
        };
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
                // A claim frozen by a collective procedure stays frozen: no handler runs.
                self.sync_insolvency(self.facts.customer.insolvency);
                if self.inst.is_open() && !matches!(self.inst.status, Status::Insolvency { .. }) {
                    self.handle(EventName::PaymentReversed, |_| {});
                }
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
}

/// Which split of a payment a reversal of `amount` takes back, `(to principal, to charges)`,
/// lowering the matching records (see the module documentation). `paid` is the case's
/// `history.paid` before the reversal.
fn take_back(
    records: &mut Vec<Allocation>,
    paid: Decimal,
    amount: Decimal,
    reference: Option<&str>,
    payment_date: Option<NaiveDate>,
) -> (Decimal, Decimal) {
    let by_reference = reference.and_then(|r| {
        records
            .iter()
            .position(|a| a.reference.as_deref() == Some(r) && a.amount() >= amount)
    });
    let matched = by_reference.or_else(|| {
        let day = payment_date?;
        records
            .iter()
            .position(|a| a.date == day && a.amount() == amount)
    });
    if let Some(i) = matched {
        let record = &mut records[i];
        let to_principal = amount.min(record.to_principal);
        let to_charges = amount - to_principal;
        record.to_principal -= to_principal;
        record.to_charges -= to_charges;
        if record.amount().is_zero() {
            records.remove(i);
        }
        return (to_principal, to_charges);
    }
    // No record: principal first, up to what was paid to it, then the charges.
    let charges_paid: Decimal = records.iter().map(|a| a.to_charges).sum();
    let principal_paid = (paid - charges_paid).max(Decimal::ZERO);
    let mut to_principal = amount.min(principal_paid).max(Decimal::ZERO);
    let to_charges = (amount - to_principal).min(charges_paid).max(Decimal::ZERO);
    to_principal = amount - to_charges;
    // The records give back what was taken, latest payment first.
    let (mut p, mut c) = (to_principal, to_charges);
    for record in records.iter_mut().rev() {
        let dp = p.min(record.to_principal).max(Decimal::ZERO);
        let dc = c.min(record.to_charges).max(Decimal::ZERO);
        record.to_principal -= dp;
        record.to_charges -= dc;
        p -= dp;
        c -= dc;
    }
    records.retain(|a| !a.amount().is_zero());
    (to_principal, to_charges)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn record(date: &str, reference: Option<&str>, p: &str, c: &str) -> Allocation {
        Allocation {
            date: day(date),
            reference: reference.map(str::to_string),
            to_principal: d(p),
            to_charges: d(c),
        }
    }

    /// Hand-computed splits: a payment of 1040 on 1000 principal and 40 of indemnity
    /// (Code de commerce D441-5) was applied principal first (`fees::allocate`), 1000 + 40.
    #[test]
    fn a_reversal_takes_back_the_split_its_payment_had() {
        // (case, reversal amount, reference, payment date, expected split, records left)
        type Row<'a> = (
            &'a str,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            (&'a str, &'a str),
            usize,
        );
        let rows: [Row; 5] = [
            (
                "by reference",
                "1040",
                Some("CHQ-7"),
                None,
                ("1000", "40"),
                1,
            ),
            (
                "by date and amount",
                "1040",
                None,
                Some("2026-02-10"),
                ("1000", "40"),
                1,
            ),
            (
                "part, by reference",
                "500",
                Some("CHQ-7"),
                None,
                ("500", "0"),
                2,
            ),
            // No match: principal first up to what was paid to it (1300 - 40 = 1260)...
            ("no match", "1200", None, None, ("1200", "0"), 2),
            // ... then the charges (1260 to principal, 40 to charges).
            ("no match, beyond", "1300", None, None, ("1260", "40"), 0),
        ];
        for (case, amount, reference, date, (p, c), left) in rows {
            let mut records = vec![
                record("2026-01-20", None, "260", "0"),
                record("2026-02-10", Some("CHQ-7"), "1000", "40"),
            ];
            let got = take_back(&mut records, d("1300"), d(amount), reference, date.map(day));
            assert_eq!(got, (d(p), d(c)), "{case}");
            assert_eq!(records.len(), left, "{case}: {records:?}");
            let standing: Decimal = records.iter().map(Allocation::amount).sum();
            assert_eq!(standing, d("1300") - d(amount), "{case}");
        }
    }
}
