//! Where every invoice stands on a given day, read from the portfolio's own events: what it
//! still owed (payments and credit notes deducted, written-off invoices at zero), what part of
//! it was disputed, and when it was settled.
//!
//! The one reading of a portfolio's money history that the simulator, the reports and the
//! daemon share. It must not run the engine and never uses floating point for money.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use relance_core::domain::{EventKind, Portfolio};

/// One invoice's money history, as known on a given day.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceAt {
    /// Index in `portfolio.invoices`.
    pub index: usize,
    /// Still owed on the day (never negative).
    pub open: Decimal,
    /// The part of `open` under an open dispute.
    pub disputed: Decimal,
    /// The day the invoice was paid, credited or written off in full, if it was by then.
    pub settled_on: Option<NaiveDate>,
    /// Whether it was closed by a write-off.
    pub written_off: bool,
    /// Payments received by the day: (date, amount).
    pub payments: Vec<(NaiveDate, Decimal)>,
    /// Disputes opened by the day: (opened, resolved if resolved by then).
    pub disputes: Vec<(NaiveDate, Option<NaiveDate>)>,
}

/// Replays the events dated up to `at` over every invoice issued by `at` (in portfolio
/// order; invoices issued later are left out).
pub fn replay(portfolio: &Portfolio, at: NaiveDate) -> Vec<InvoiceAt> {
    let mut slot = vec![usize::MAX; portfolio.invoices.len()];
    let mut out = Vec::new();
    let index: std::collections::HashMap<&str, usize> = portfolio
        .invoices
        .iter()
        .enumerate()
        .map(|(i, inv)| (inv.id.as_str(), i))
        .collect();
    for (i, inv) in portfolio.invoices.iter().enumerate() {
        if inv.issued <= at {
            slot[i] = out.len();
            out.push(InvoiceAt {
                index: i,
                open: inv.opening_outstanding(),
                disputed: Decimal::ZERO,
                settled_on: None,
                written_off: false,
                payments: Vec::new(),
                disputes: Vec::new(),
            });
        }
    }
    let mut order: Vec<usize> = (0..portfolio.events.len())
        .filter(|&e| portfolio.events[e].date <= at)
        .collect();
    order.sort_by_key(|&e| portfolio.events[e].date);
    let mut dispute_amount: Vec<Option<Option<Decimal>>> = vec![None; out.len()];
    // What the case owes, as `relance-core` keeps it: lowered by every payment and credit
    // note, raised by every reversal, negative when overpaid, kept through a write-off (a
    // write-off's reversal shows it again). `open` is its positive part, zero while written off.
    let mut balance: Vec<Decimal> = out.iter().map(|s| s.open).collect();
    for e in order {
        let event = &portfolio.events[e];
        let Some(&i) = event.kind.invoice().and_then(|id| index.get(id)) else {
            continue;
        };
        let Some(s) = slot.get(i).copied().filter(|s| *s != usize::MAX) else {
            continue;
        };
        let state = &mut out[s];
        match &event.kind {
            EventKind::Payment { amount, .. } | EventKind::CreditNote { amount, .. } => {
                if matches!(event.kind, EventKind::Payment { .. }) {
                    state.payments.push((event.date, *amount));
                }
                balance[s] -= *amount;
                if !state.written_off {
                    state.open = balance[s].max(Decimal::ZERO);
                }
                if state.settled_on.is_none() && state.open == Decimal::ZERO {
                    state.settled_on = Some(event.date);
                }
            }
            EventKind::WriteOff { .. } if state.settled_on.is_none() => {
                state.open = Decimal::ZERO;
                state.settled_on = Some(event.date);
                state.written_off = true;
            }
            EventKind::WriteOffReversed { .. } if state.written_off => {
                state.open = balance[s].max(Decimal::ZERO);
                state.written_off = false;
                if state.open > Decimal::ZERO {
                    state.settled_on = None;
                }
            }
            // A payment that came back: owed again (its amount stays among `payments`, dated
            // when it was received); a written-off invoice stays at zero until the write-off
            // is reversed, as its case stays closed (`transition/reversal.rs`).
            EventKind::PaymentReversed { amount, .. } => {
                balance[s] += *amount;
                if !state.written_off {
                    state.open = balance[s].max(Decimal::ZERO);
                    if state.open > Decimal::ZERO {
                        state.settled_on = None;
                    }
                }
            }
            EventKind::DisputeOpened { amount, .. } => {
                state.disputes.push((event.date, None));
                dispute_amount[s] = Some(*amount);
            }
            EventKind::DisputeResolved { .. } => {
                if let Some(last) = state.disputes.last_mut().filter(|d| d.1.is_none()) {
                    last.1 = Some(event.date);
                }
                dispute_amount[s] = None;
            }
            _ => {}
        }
    }
    for (s, state) in out.iter_mut().enumerate() {
        if let Some(amount) = dispute_amount[s] {
            state.disputed = amount
                .unwrap_or(state.open)
                .min(state.open)
                .max(Decimal::ZERO);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance_core::domain::{Customer, Event, Invoice};

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    /// Customer A with invoice F: 100 EUR issued 1 January 2026, due 31 January.
    fn one_invoice() -> Portfolio {
        let mut p = Portfolio::default();
        p.customers.push(Customer::new("A"));
        p.invoices.push(Invoice {
            id: "F".into(),
            customer: "A".into(),
            amount: Decimal::from(100),
            currency: "EUR".into(),
            issued: d("2026-01-01"),
            due: d("2026-01-31"),
            outstanding: None,
            po_number: None,
            payment_terms: None,
            delivered_on: None,
            dunning: Default::default(),
            payment_means: None,
            late_interest_rate: None,
            installments: Vec::new(),
        });
        p
    }

    #[test]
    fn replay_tracks_money_and_disputes() {
        let mut p = one_invoice();
        let ev = |date: &str, kind: EventKind| Event {
            date: d(date),
            kind,
        };
        p.events.push(ev(
            "2026-02-10",
            EventKind::Payment {
                invoice: "F".into(),
                amount: Decimal::from(60),
                reference: None,
                details: Default::default(),
            },
        ));
        p.events.push(ev(
            "2026-02-01",
            EventKind::DisputeOpened {
                invoice: "F".into(),
                code: "x".into(),
                amount: Some(Decimal::from(70)),
                target_date: None,
                comment: None,
            },
        ));
        p.events.push(ev(
            "2026-03-01",
            EventKind::Payment {
                invoice: "F".into(),
                amount: Decimal::from(40),
                reference: None,
                details: Default::default(),
            },
        ));
        let at_feb = replay(&p, d("2026-02-15"));
        assert_eq!(at_feb[0].open, Decimal::from(40));
        assert_eq!(
            at_feb[0].disputed,
            Decimal::from(40),
            "capped at what is open"
        );
        let at_mar = replay(&p, d("2026-03-01"));
        assert_eq!(
            (at_mar[0].open, at_mar[0].settled_on),
            (Decimal::ZERO, Some(d("2026-03-01")))
        );
        assert!(replay(&p, d("2025-12-31")).is_empty());
    }

    /// Payments that come back, replayed as `transition/reversal.rs` applies them to the case
    /// (the case is the truth): the outstanding grows by the reversed amount, never above
    /// what the payments left (an overpayment reversed re-opens the invoice's amount, not the
    /// payment's), and a written-off invoice only has its outstanding raised, shown when the
    /// write-off is reversed. Hand-computed on a 100 EUR invoice.
    #[test]
    fn reversals_replay_as_the_case_applies_them() {
        let pay = |n: i64| EventKind::Payment {
            invoice: "F".into(),
            amount: Decimal::from(n),
            reference: None,
            details: Default::default(),
        };
        let back = |n: i64| EventKind::PaymentReversed {
            invoice: "F".into(),
            amount: Decimal::from(n),
            reason: Default::default(),
            reference: None,
            payment_date: None,
        };
        let write_off = EventKind::WriteOff {
            invoice: "F".into(),
            reason: None,
        };
        let write_off_reversed = EventKind::WriteOffReversed {
            invoice: "F".into(),
            reason: None,
        };
        // (what, events from 02-01 one a day, expected (open, settled, written off))
        type Row = (&'static str, Vec<EventKind>, (i64, bool, bool));
        let rows: Vec<Row> = vec![
            (
                "part paid, reversed",
                vec![pay(60), back(60)],
                (100, false, false),
            ),
            // 120 paid on 100: outstanding -20; 120 back: 100, not 120.
            (
                "overpaid, reversed",
                vec![pay(120), back(120)],
                (100, false, false),
            ),
            (
                "paid twice, one back",
                vec![pay(100), pay(100), back(100)],
                (0, true, false),
            ),
            // 60 paid, 40 written off, the 60 comes back: still written off (0 owed)...
            (
                "written off, reversed",
                vec![pay(60), write_off.clone(), back(60)],
                (0, true, true),
            ),
            // ... and the write-off reversed shows the 100 the case owes, not 40.
            (
                "written off, reversed, write-off reversed",
                vec![
                    pay(60),
                    write_off.clone(),
                    back(60),
                    write_off_reversed.clone(),
                ],
                (100, false, false),
            ),
        ];
        for (what, kinds, (open, settled, written_off)) in rows {
            let mut p = one_invoice();
            for (i, kind) in kinds.into_iter().enumerate() {
                p.events.push(Event {
                    date: d("2026-02-01") + chrono::Days::new(i as u64),
                    kind,
                });
            }
            let at = &replay(&p, d("2026-03-01"))[0];
            assert_eq!(
                (at.open, at.settled_on.is_some(), at.written_off),
                (Decimal::from(open), settled, written_off),
                "{what}"
            );
        }
    }
}
