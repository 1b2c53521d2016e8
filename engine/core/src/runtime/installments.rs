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
//!   Steps dated from the issue date belong to the invoice: done, they are not sent again
//!   ([`kept`]).
//! - What is due on a day (`invoice.amount_due`, and what the overdue figures count) is the
//!   installments due by then, less what was paid, plus charges; `invoice.outstanding` stays
//!   the whole principal still owed. The case closes when the whole invoice is paid.
//! - A payment reversed does not move the chase back to an earlier installment: the amount
//!   due counts the installment it reopens.
//! - Late interest runs per installment (French law: each installment is a debt with its own
//!   due date): each installment bears it from the day after its own due date on its own
//!   unpaid part ([`unpaid`], [`interest_from`]; the amounts are `charges::accrued`'s).
//! - What each installment stands at on a day (number, due date, amount, unpaid, days late,
//!   overdue: [`standing`]) is what plans, timelines, message items and the daemon's case
//!   view show.
//! - A credit insurer's deadlines count from the original due date of the first installment
//!   not paid in full ([`insured_due`]), not from the last installment's.
//!
//! This module is pure and small; it must not fire steps or price charges (`transition`
//! restarts the steps through [`advance`]).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use relance_dsl::ir;

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
/// earliest installment first ([`unpaid`] of each). Empty for an invoice without
/// installments.
pub fn unpaid_each(invoice: &Invoice, outstanding: Decimal) -> Vec<Decimal> {
    (0..invoice.installments.len())
        .map(|i| unpaid(invoice, i, outstanding))
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

/// The due date a credit insurer's deadlines count from when `outstanding` principal is left:
/// the ORIGINAL due date of the first installment not paid in full (payments pay the earliest
/// first), else the invoice's own. For an invoice with installments, `invoice.due` is the last
/// installment's date: counting from it would put every deadline after the unpaid first
/// installment's by the whole schedule. Never an extended date (`Instance::extended_due`).
pub fn insured_due(invoice: &Invoice, outstanding: Decimal) -> NaiveDate {
    invoice
        .installments
        .get(current(invoice, outstanding))
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

/// The unpaid part of installment `index` when `outstanding` principal is left (payments pay
/// the earliest installment first); for an invoice without installments, the outstanding
/// itself (index 0). Never below zero, never above the installment's amount.
pub fn unpaid(invoice: &Invoice, index: usize, outstanding: Decimal) -> Decimal {
    if invoice.installments.is_empty() {
        return outstanding.max(Decimal::ZERO);
    }
    let Some(part) = invoice.installments.get(index) else {
        return Decimal::ZERO;
    };
    let before: Decimal = invoice.installments[..index].iter().map(|i| i.amount).sum();
    let paid = invoice.amount - outstanding;
    (before + part.amount - paid)
        .max(Decimal::ZERO)
        .min(part.amount)
}

/// One installment as it stands on a day: what the templates list, the plan's timeline
/// shows and the daemon's case JSON gives (`overdue`: those past their date, not paid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Standing {
    /// Its rank, from 1.
    pub number: usize,
    pub due: NaiveDate,
    pub amount: Decimal,
    /// What is left to pay of it (payments pay the earliest installment first).
    pub unpaid: Decimal,
    /// Days since its due date on the day (negative before it).
    pub days_late: i64,
    /// Past its due date and not paid in full.
    pub overdue: bool,
}

/// Every installment of `invoice` on `day`, with `outstanding` principal left; empty for an
/// invoice with one due date.
pub fn standing(invoice: &Invoice, outstanding: Decimal, day: NaiveDate) -> Vec<Standing> {
    invoice
        .installments
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let unpaid = unpaid(invoice, i, outstanding);
            Standing {
                number: i + 1,
                due: part.due,
                amount: part.amount,
                unpaid,
                days_late: (day - part.due).num_days(),
                overdue: day > part.due && !unpaid.is_zero(),
            }
        })
        .collect()
}

/// The installments past their due date on `day` and not paid in full, earliest first.
pub fn overdue(invoice: &Invoice, outstanding: Decimal, day: NaiveDate) -> Vec<Standing> {
    let mut all = standing(invoice, outstanding, day);
    all.retain(|s| s.overdue);
    all
}

/// The due dates late interest runs from, one per part of the debt: each installment's, or
/// the invoice's own for an invoice with one due date.
pub fn parts(invoice: &Invoice) -> Vec<NaiveDate> {
    if invoice.installments.is_empty() {
        vec![invoice.due]
    } else {
        invoice.installments.iter().map(|i| i.due).collect()
    }
}

/// The first day after which anything of the invoice can be late: its first installment's
/// due date (the invoice's own without installments). From then on, the case keeps the
/// balance of each day (`Instance::balances`) for late interest.
pub fn interest_from(invoice: &Invoice) -> NaiveDate {
    invoice.installments.first().map_or(invoice.due, |i| i.due)
}

/// Moves an open case to the installment its outstanding now leaves first unpaid, when that
/// is a later one: the scenario starts again from its first step on that installment's dates
/// (steps done, a repetition and a gradual catch-up's hold are forgotten; counters and
/// charges stay). A step dated from the issue date (`at issued`, or chained to such a step)
/// belongs to the invoice, not to an installment: done, it stays done and is not sent again
/// ([`kept`]). Returns the installment's index when it moved.
pub fn advance(inst: &mut Instance, invoice: &Invoice, steps: &[ir::Step]) -> Option<usize> {
    if invoice.installments.is_empty() || !inst.is_open() {
        return None;
    }
    let now = current(invoice, inst.outstanding);
    if now <= inst.installment {
        return None;
    }
    inst.installment = now;
    for (i, done) in inst.done_on.iter_mut().enumerate() {
        if !from_issue(steps, i) {
            *done = None;
        }
    }
    inst.next_step = (0..steps.len())
        .find(|&i| !kept(inst, steps, i))
        .unwrap_or(steps.len());
    inst.repeating = None;
    inst.catch_up_next = None;
    Some(now)
}

/// Whether step `i` is dated from the invoice's issue date: `at issued`, or anchored on a
/// step that is. Its date does not move with the chased installment.
pub fn from_issue(steps: &[ir::Step], i: usize) -> bool {
    match steps.get(i).map(|s| s.anchor) {
        Some(ir::Anchor::Issued) => true,
        Some(ir::Anchor::Step(j)) if j < i => from_issue(steps, j),
        _ => false,
    }
}

/// Whether step `i` is one a restart on a later installment keeps as done: dated from the
/// issue date and already done. The firing loops pass over it.
pub fn kept(inst: &Instance, steps: &[ir::Step], i: usize) -> bool {
    inst.installment > 0 && inst.done_on.get(i).is_some_and(Option::is_some) && from_issue(steps, i)
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
                unpaid_each(&inv, Decimal::from(outstanding)),
                want,
                "{outstanding}"
            );
        }
        let single: Invoice = serde_json::from_value(serde_json::json!({
            "id": "F-2", "customer": "ACME", "amount": "10", "issued": "2026-01-01",
            "due": "2026-01-31",
        }))
        .unwrap();
        assert!(unpaid_each(&single, Decimal::TEN).is_empty());
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
    fn each_installment_unpaid_part() {
        let inv = invoice(&[("2026-01-31", 300), ("2026-03-31", 700)]);
        // outstanding -> (unpaid of installment 1, unpaid of installment 2)
        for (outstanding, first, second) in [
            (1000, 300, 700),
            (900, 200, 700),
            (700, 0, 700),
            (500, 0, 500),
            (0, 0, 0),
            (1100, 300, 700),
        ] {
            let o = Decimal::from(outstanding);
            assert_eq!(unpaid(&inv, 0, o), Decimal::from(first), "{outstanding}");
            assert_eq!(unpaid(&inv, 1, o), Decimal::from(second), "{outstanding}");
            assert_eq!(unpaid(&inv, 2, o), Decimal::ZERO, "{outstanding}");
        }
        assert_eq!(parts(&inv), [d("2026-01-31"), d("2026-03-31")]);
        assert_eq!(interest_from(&inv), d("2026-01-31"));
    }

    #[test]
    fn overdue_installments_on_a_day() {
        let inv = invoice(&[
            ("2026-01-31", 300),
            ("2026-02-28", 300),
            ("2026-03-31", 400),
        ]);
        // (outstanding, day) -> [(number, unpaid, days late)] of the overdue ones
        // (number, unpaid, days late) of each overdue installment.
        type Overdue = &'static [(usize, i64, i64)];
        let cases: [(i64, &str, Overdue); 6] = [
            (1000, "2026-01-31", &[]),
            (1000, "2026-02-01", &[(1, 300, 1)]),
            (1000, "2026-03-01", &[(1, 300, 29), (2, 300, 1)]),
            (850, "2026-03-01", &[(1, 150, 29), (2, 300, 1)]),
            (700, "2026-03-01", &[(2, 300, 1)]),
            (400, "2026-04-30", &[(3, 400, 30)]),
        ];
        for (outstanding, day, want) in cases {
            let got: Vec<(usize, i64, i64)> = overdue(&inv, Decimal::from(outstanding), d(day))
                .iter()
                .map(|s| (s.number, i64::try_from(s.unpaid).unwrap(), s.days_late))
                .collect();
            assert_eq!(got, want, "{outstanding} {day}");
        }
        // Every installment, paid or not: the first paid, the others not due.
        let all = standing(&inv, Decimal::from(700), d("2026-02-10"));
        assert_eq!(all.len(), 3);
        assert_eq!((all[0].unpaid, all[0].overdue), (Decimal::ZERO, false));
        assert_eq!((all[1].days_late, all[1].overdue), (-18, false));
        assert!(
            standing(
                &Invoice {
                    installments: vec![],
                    ..inv
                },
                Decimal::ONE,
                d("2026-05-01")
            )
            .is_empty()
        );
    }

    #[test]
    fn an_invoice_without_installments_is_due_whole() {
        let mut inv = invoice(&[("2026-01-31", 300), ("2026-03-31", 700)]);
        inv.installments.clear();
        assert_eq!(current(&inv, Decimal::from(1000)), 0);
        assert_eq!(unpaid(&inv, 0, Decimal::from(400)), Decimal::from(400));
        assert_eq!(parts(&inv), [inv.due]);
        assert_eq!(interest_from(&inv), inv.due);
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
