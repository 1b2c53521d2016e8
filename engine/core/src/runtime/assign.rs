//! Choosing an invoice's scenario and opening its case.
//!
//! A customer's `scenario` override wins; otherwise the set's default policy, whose first
//! `use` that matches wins (a `use` matches when its condition and the scenario's
//! `applies when` both hold); without a policy, the first scenario (by name) that applies.
//! It must not run any step: the first tick does.

use chrono::NaiveDate;

use relance_dsl::ir::{self, ScenarioSet};

use super::context::{CustomerTotals, Facts};
use super::eval::{Env, EvalError};
use super::state::{Counters, Instance, Status};
use crate::domain::{Customer, Invoice};
use crate::interest::RateTable;
use crate::rules::RuleSet;

/// Shared, read-only inputs of every case of a run.
#[derive(Clone, Copy)]
pub struct Shared<'a> {
    pub set: &'a ScenarioSet,
    pub rules: &'a RuleSet,
    pub rates: &'a RateTable,
}

/// The policy's verdict for an invoice entering the engine: its scenario, none, or the
/// error of a condition that could not be evaluated.
pub type Choice<'s> = Result<Option<&'s ir::Scenario>, EvalError>;

/// A fresh case for `invoice`, pinned to the scenario the policy chooses today. A case no
/// scenario applies to is `Unassigned`; a failing condition makes it `Error`.
pub fn open_case(
    shared: Shared<'_>,
    invoice: &Invoice,
    customer: &Customer,
    totals: CustomerTotals,
    today: NaiveDate,
) -> Instance {
    let inst = fresh(invoice, customer, today);
    let choice = choose(shared, &inst, invoice, customer, totals, today);
    pin(inst, choice, invoice, today)
}

/// The policy's choice alone, as [`open_case`] would make it: a driver may choose ahead (on
/// other threads) and open later with [`open_chosen`].
pub fn choose_scenario<'s>(
    shared: Shared<'s>,
    invoice: &Invoice,
    customer: &Customer,
    totals: CustomerTotals,
    today: NaiveDate,
) -> Choice<'s> {
    let inst = fresh(invoice, customer, today);
    choose(shared, &inst, invoice, customer, totals, today)
}

/// The case [`open_case`] opens when the policy made `choice`.
pub fn open_chosen(
    choice: Choice<'_>,
    invoice: &Invoice,
    customer: &Customer,
    today: NaiveDate,
) -> Instance {
    pin(fresh(invoice, customer, today), choice, invoice, today)
}

/// Whether a case opened with `choice` is open (not already settled at its opening).
pub fn opens_open(choice: &Choice<'_>, invoice: &Invoice) -> bool {
    match choice {
        // Never chase an invoice that is already paid (within the tolerance).
        Ok(Some(scenario)) => !settled(scenario, invoice, invoice.opening_outstanding()),
        Ok(None) | Err(_) => true,
    }
}

fn fresh(invoice: &Invoice, customer: &Customer, today: NaiveDate) -> Instance {
    Instance {
        invoice: invoice.id.clone(),
        customer: customer.id.clone(),
        scenario: String::new(),
        version: String::new(),
        status: Status::Active,
        outstanding: invoice.opening_outstanding(),
        paid: invoice.amount - invoice.opening_outstanding(),
        last_payment: None,
        next_step: 0,
        done_on: Vec::new(),
        fired_count: Vec::new(),
        handler_runs: Default::default(),
        dispute: None,
        promise: None,
        counters: Counters::default(),
        balances: Vec::new(),
        charged: Default::default(),
        escalated: None,
        last_failed_payment: None,
        started: today,
        repeating: None,
        catch_up_next: None,
        declaration: None,
        extended_due: None,
        allocations: Vec::new(),
        installment: super::installments::current(invoice, invoice.opening_outstanding()),
    }
}

fn pin(mut inst: Instance, choice: Choice<'_>, invoice: &Invoice, today: NaiveDate) -> Instance {
    let open = opens_open(&choice, invoice);
    match choice {
        Ok(Some(scenario)) => {
            inst.scenario = scenario.name.clone();
            inst.version = scenario.version.clone();
            inst.done_on = vec![None; scenario.steps.len()];
            inst.fired_count = vec![0; scenario.steps.len()];
            inst.repeating = None;
            if !open {
                inst.status = Status::Closed {
                    on: today,
                    reason: super::state::CloseReason::Paid,
                };
            } else if let Err(message) = super::standing::restore(&mut inst, scenario, invoice) {
                inst.status = Status::Error { on: today, message };
            }
        }
        Ok(None) => inst.status = Status::Unassigned { on: today },
        Err(e) => {
            inst.status = Status::Error {
                on: today,
                message: e.0,
            }
        }
    }
    inst
}

/// Whether `outstanding` is at or under the scenario's tolerance for this invoice (an amount
/// tolerance counts only for an invoice in its currency; a percentage for any).
pub fn settled(
    scenario: &ir::Scenario,
    invoice: &Invoice,
    outstanding: rust_decimal::Decimal,
) -> bool {
    let limit = match &scenario.tolerance {
        ir::Tolerance::Amount { amount, currency } if *currency == invoice.currency => *amount,
        // Currencies never mix: an amount in another currency is no tolerance for this one.
        ir::Tolerance::Amount { .. } => rust_decimal::Decimal::ZERO,
        ir::Tolerance::Percent(p) => invoice.amount * *p / rust_decimal::Decimal::ONE_HUNDRED,
    };
    outstanding <= limit
}

fn choose<'s>(
    shared: Shared<'s>,
    inst: &Instance,
    invoice: &Invoice,
    customer: &Customer,
    totals: CustomerTotals,
    today: NaiveDate,
) -> Choice<'s> {
    let set = shared.set;
    if let Some(name) = &customer.scenario {
        return set.scenarios.get(name).map(Some).ok_or_else(|| {
            EvalError(format!(
                "customer {} names unknown scenario `{name}`",
                customer.id
            ))
        });
    }
    let holds = |scenario: &ir::Scenario, cond: Option<&ir::Expr>| -> Result<bool, EvalError> {
        let facts = Facts {
            scenario,
            invoice,
            customer,
            totals,
            rules: shared.rules,
            rates: shared.rates,
        };
        let env = Env {
            inst,
            facts: &facts,
            today,
            totals,
            event: None,
        };
        Ok(cond.map(|c| env.condition(c)).transpose()?.unwrap_or(true)
            && scenario
                .applies
                .as_ref()
                .map(|c| env.condition(c))
                .transpose()?
                .unwrap_or(true))
    };
    if let Some(policy) = set.default_policy() {
        for (name, cond) in &policy.rules {
            let Some(scenario) = set.scenarios.get(name) else {
                continue;
            };
            if holds(scenario, cond.as_ref())? {
                return Ok(Some(scenario));
            }
        }
        return Ok(None);
    }
    for scenario in set.scenarios.values() {
        if holds(scenario, None)? {
            return Ok(Some(scenario));
        }
    }
    Ok(None)
}
