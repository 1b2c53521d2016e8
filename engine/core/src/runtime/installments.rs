//! Invoices with several due dates (`Invoice::installments`): which installment a case is
//! chasing, the date its steps count from, and what is due on a day.
//!
//! The semantics, as a credit manager expects them from ERPNext and Odoo:
//! - Payments (and credit notes) pay the earliest installment first. ERPNext allocates a
//!   payment against the Payment Schedule row by row in due-date order
//!   (`erpnext/accounts/doctype/payment_entry/payment_entry.py`, `allocate_payment_amount`
//!   with `payment_term` rows), and Odoo's reconciliation matches the receivable line with
//!   the earliest `date_maturity` first (`account_move_line._reconcile_plan`).
//! - The case chases the earliest installment not paid in full: the steps anchored on `due`
//!   count from its due date (`invoice.due`, `invoice.days_late` too). When a payment settles
//!   it, the case starts the scenario again on the next installment, on that one's dates
//!   (a late first installment does not make the second one late; ERPNext's dunning lists
//!   each overdue Payment Schedule row with its own `due_date`, `overdue_payments`).
//! - What is due on a day (`invoice.amount_due`, and what the overdue figures count) is the
//!   installments due by then, less what was paid, plus charges; `invoice.outstanding` stays
//!   the whole principal still owed. The case closes when the whole invoice is paid.
//! - A payment reversed does not move the chase back to an earlier installment: the amount
//!   due counts the installment it reopens.
//!
//! This module is pure and small; it must not fire steps or price charges (`transition`
//! restarts the steps through [`advance`]).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::state::Instance;
use crate::domain::Invoice;

/// The installment a case with `outstanding` principal left is chasing: the first one the
/// principal paid so far (earliest first) does not cover. 0 for an invoice without
/// installments.
pub fn current(invoice: &Invoice, outstanding: Decimal) -> usize {
    let paid = invoice.amount - outstanding;
    let mut covered = Decimal::ZERO;
    for (i, part) in invoice.installments.iter().enumerate() {
        covered += part.amount;
        if covered > paid {
            return i;
        }
    }
    invoice.installments.len().saturating_sub(1)
}

/// What each installment still owes when `outstanding` principal is left: payments pay the
/// earliest installment first (as [`current`] counts them). Empty for an invoice without
/// installments.
pub fn unpaid(invoice: &Invoice, outstanding: Decimal) -> Vec<Decimal> {
    let mut paid = (invoice.amount - outstanding).max(Decimal::ZERO);
    invoice
        .installments
        .iter()
        .map(|i| {
            let covered = paid.min(i.amount);
            paid -= covered;
            i.amount - covered
        })
        .collect()
}

/// The date the case's `due` anchor and `invoice.days_late` count from: the due date as
/// extended (`extended_due`), else the chased installment's, else the invoice's.
pub fn due(invoice: &Invoice, inst: &Instance) -> NaiveDate {
    inst.extended_due.unwrap_or_else(|| own_due(invoice, inst))
}

/// The chased installment's due date (the invoice's for one without installments), not
/// extended: `invoice.due`, and the day after which a charge may apply.
pub fn own_due(invoice: &Invoice, inst: &Instance) -> NaiveDate {
    invoice
        .installments
        .get(inst.installment)
        .map_or(invoice.due, |i| i.due)
}

/// The principal due on `day`: the whole outstanding for an invoice with one due date;
/// otherwise the installments due on or before `day` less the principal paid (never below
/// zero, never above the outstanding).
pub fn due_by(invoice: &Invoice, outstanding: Decimal, day: NaiveDate) -> Decimal {
    if invoice.installments.is_empty() {
        return outstanding;
    }
    let fallen: Decimal = invoice
        .installments
        .iter()
        .filter(|i| i.due <= day)
        .map(|i| i.amount)
        .sum();
    let paid = invoice.amount - outstanding;
    (fallen - paid).max(Decimal::ZERO).min(outstanding)
}

/// Moves an open case to the installment its outstanding now leaves first unpaid, when that
/// is a later one: the scenario starts again from its first step on that installment's dates
/// (steps done, a repetition and a gradual catch-up's hold are forgotten; counters and
/// charges stay). Returns the installment's index when it moved.
pub fn advance(inst: &mut Instance, invoice: &Invoice) -> Option<usize> {
    if invoice.installments.is_empty() || !inst.is_open() {
        return None;
    }
    let now = current(invoice, inst.outstanding);
    if now <= inst.installment {
        return None;
    }
    inst.installment = now;
    inst.next_step = 0;
    inst.done_on.iter_mut().for_each(|d| *d = None);
    inst.repeating = None;
    inst.catch_up_next = None;
    Some(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Installment;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn invoice(parts: &[(&str, i64)]) -> Invoice {
        let installments: Vec<Installment> = parts
            .iter()
            .map(|(due, a)| Installment {
                due: d(due),
                amount: Decimal::from(*a),
            })
            .collect();
        let amount: Decimal = installments.iter().map(|i| i.amount).sum();
        serde_json::from_value(serde_json::json!({
            "id": "F-1", "customer": "ACME", "amount": amount, "issued": "2026-01-01",
            "due": installments.last().map(|i| i.due),
            "installments": installments,
        }))
        .unwrap()
    }

    #[test]
    fn unpaid_per_installment_earliest_first() {
        // 300 on 01-31, 700 on 03-31.
        let inv = invoice(&[("2026-01-31", 300), ("2026-03-31", 700)]);
        // outstanding -> what each installment still owes
        let cases = [
            (1000, vec![300, 700]),
            (900, vec![200, 700]),
            (700, vec![0, 700]),
            (250, vec![0, 250]),
            (0, vec![0, 0]),
        ];
        for (outstanding, want) in cases {
            let want: Vec<Decimal> = want.into_iter().map(Decimal::from).collect();
            assert_eq!(
                unpaid(&inv, Decimal::from(outstanding)),
                want,
                "{outstanding}"
            );
        }
        let single: Invoice = serde_json::from_value(serde_json::json!({
            "id": "F-2", "customer": "ACME", "amount": "10", "issued": "2026-01-01",
            "due": "2026-01-31",
        }))
        .unwrap();
        assert!(unpaid(&single, Decimal::TEN).is_empty());
    }

    #[test]
    fn earliest_installment_first() {
        // 300 on 01-31, 700 on 03-31 (30 % / 70 %).
        let inv = invoice(&[("2026-01-31", 300), ("2026-03-31", 700)]);
        // (outstanding, day) -> (installment chased, principal due that day)
        let cases = [
            (1000, "2026-01-15", 0, 0),
            (1000, "2026-01-31", 0, 300),
            (1000, "2026-03-31", 0, 1000),
            (900, "2026-02-10", 0, 200),
            (700, "2026-02-10", 1, 0),
            (700, "2026-04-01", 1, 700),
            (500, "2026-04-01", 1, 500),
            (0, "2026-04-01", 1, 0),
        ];
        for (outstanding, day, index, due_now) in cases {
            let o = Decimal::from(outstanding);
            assert_eq!(current(&inv, o), index, "{outstanding} {day}");
            assert_eq!(
                due_by(&inv, o, d(day)),
                Decimal::from(due_now),
                "{outstanding} {day}"
            );
        }
    }

    #[test]
    fn an_invoice_without_installments_is_due_whole() {
        let mut inv = invoice(&[("2026-01-31", 300), ("2026-03-31", 700)]);
        inv.installments.clear();
        assert_eq!(current(&inv, Decimal::from(1000)), 0);
        assert_eq!(
            due_by(&inv, Decimal::from(400), d("2026-01-01")),
            Decimal::from(400)
        );
    }

    #[test]
    fn old_invoices_without_the_field_still_read() {
        let inv: Invoice = serde_json::from_str(
            r#"{"id":"F-1","customer":"ACME","amount":"10","issued":"2026-01-01","due":"2026-01-31"}"#,
        )
        .unwrap();
        assert!(inv.installments.is_empty());
        // And the field is left out when empty, so stores and exports do not change.
        assert!(
            !serde_json::to_string(&inv)
                .unwrap()
                .contains("installments")
        );
    }
}
