//! The read-only facts a transition may look at: the scenario, the invoice and its customer,
//! the customer's totals on the day, the rules, the rate table and the calendar.
//!
//! The driver (simulator, planner, daemon) builds one per call; the transition never reaches
//! outside it. Nothing here is mutable.

use rust_decimal::Decimal;

use crate::calendar::Calendar;
use crate::domain::{Customer, Invoice};
use crate::interest::RateTable;
use crate::rules::RuleSet;
use relance_dsl::ir;

/// The customer's totals on the day, over its open invoices already issued.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CustomerTotals {
    pub outstanding: Decimal,
    pub open_invoices: i64,
    pub average_invoice: Decimal,
}

/// Everything a transition reads besides the instance state.
pub struct Facts<'a> {
    pub scenario: &'a ir::Scenario,
    pub invoice: &'a Invoice,
    pub customer: &'a Customer,
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
