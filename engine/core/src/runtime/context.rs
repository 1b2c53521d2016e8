//! The read-only facts a transition may look at: the scenario, the invoice and its customer,
//! the customer's totals on the day, the rules, the rate table and the calendar.
//!
//! The driver (simulator, planner, daemon) builds one per call; the transition never reaches
//! outside it. Nothing here is mutable.

use rust_decimal::Decimal;

use super::behaviour::KnownBehaviour;
use crate::calendar::Calendar;
use crate::domain::{Customer, Invoice};
use crate::interest::RateTable;
use crate::rules::RuleSet;
use relance_dsl::ir;

/// The customer's totals on the day, over its open invoices already issued **in the currency of
/// the invoice they are given for** (currencies never mix), and its payment behaviour as known
/// on the day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CustomerTotals {
    pub outstanding: Decimal,
    pub open_invoices: i64,
    pub average_invoice: Decimal,
    pub behaviour: KnownBehaviour,
    /// Due and unpaid, on the invoices past their due date (`account::Overdue`): filled by
    /// drivers when the set reads it (`account::reads_overdue`), else zero.
    pub overdue: Decimal,
    pub overdue_count: i64,
    pub oldest_overdue_days: i64,
}

impl CustomerTotals {
    /// The totals on `day` for an invoice in `currency`, over a customer's invoices, each given
    /// with its case's `(open, outstanding)` when it has one (an invoice without a case counts
    /// as open with its opening outstanding). Invoices in another currency, or not yet issued on
    /// `day`, do not count; the average is over every invoice issued so far in `currency`, open
    /// or not. This is the definition the drivers' running sums must match.
    pub fn over<'i>(
        invoices: impl IntoIterator<Item = (&'i Invoice, Option<(bool, Decimal)>)>,
        day: chrono::NaiveDate,
        currency: &str,
    ) -> CustomerTotals {
        let mut t = CustomerTotals::default();
        let (mut issued_sum, mut issued_count) = (Decimal::ZERO, 0i64);
        for (inv, case) in invoices {
            if inv.issued > day || inv.currency != currency {
                continue;
            }
            issued_sum += inv.amount;
            issued_count += 1;
            let (open, outstanding) = case.unwrap_or((true, inv.opening_outstanding()));
            if open {
                t.outstanding += outstanding;
                t.open_invoices += 1;
            }
        }
        if issued_count > 0 {
            t.average_invoice = (issued_sum / Decimal::from(issued_count)).round_dp(2);
        }
        t
    }
}

/// Everything a transition reads besides the instance state.
pub struct Facts<'a> {
    pub scenario: &'a ir::Scenario,
    pub invoice: &'a Invoice,
    pub customer: &'a Customer,
    /// The customer's totals on the day in the invoice's currency, counting this invoice's
    /// case as it is given to the transition (open with its outstanding, or closed); the
    /// transition moves them with what it does to the case, so a handler sees its event.
    pub totals: CustomerTotals,
    pub rules: &'a RuleSet,
    pub rates: &'a RateTable,
}

impl Facts<'_> {
    /// The scenario's business-day calendar (French when the name is unknown; the checker
    /// rejects unknown names).
    pub fn calendar(&self) -> Calendar {
        Calendar::by_name(&self.scenario.calendar).unwrap_or_else(Calendar::french)
    }
}
