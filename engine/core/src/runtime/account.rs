//! Account-level dunning (`per customer` scenarios): the pure function that moves a
//! customer's account between its levels, and the definition of what is overdue.
//!
//! An account is one customer's invoices under one `per customer` scenario in one currency.
//! Its state is the level it stands in (or clear). [`account_transition`] evaluates the
//! levels highest (last written) first against the customer's figures on the day and, when
//! the account changes level, runs the block of the level entered (or `on clear` when it
//! returns to clear). Each action is planned once per overdue invoice of the account, so the
//! timeline's grouping makes one message listing them all. The overdue figures
//! (`customer.overdue` …) are defined here ([`Overdue::over`]) for every driver.
//!
//! Like `transition`, it reads only its arguments and performs no effect; it must not touch
//! the invoices' cases (they are driven by `transition` as usual: their payments, disputes and
//! closings feed the figures the account reads).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use relance_dsl::ir::{self, Action, EventName, Expr, Stmt, Value};

use super::context::{CustomerTotals, Facts};
use super::eval::{Env, EvalError};
use super::state::Instance;
use super::transition::{Planned, Record};
use crate::domain::{Customer, Invoice};
use crate::interest::RateTable;
use crate::rules::RuleSet;

/// The customer's overdue figures in one currency (`customer.overdue`,
/// `customer.overdue_count`, `customer.oldest_overdue_days`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overdue {
    pub amount: Decimal,
    pub count: i64,
    pub oldest_days: i64,
}

/// Whether an invoice counts as overdue on `day`: its case is open, it is past its due date
/// (due before `day`), something is still owed, and no dispute is open on it (a disputed
/// invoice is not chased, as Odoo's blocked lines), nor is a collective procedure freezing it
/// (L622-21: no action on a prior claim).
///
/// An invoice with installments is overdue when an installment due before `day` is not paid
/// in full (`runtime::installments`).
pub fn is_overdue(invoice: &Invoice, case: &Instance, day: NaiveDate) -> bool {
    overdue_amount(invoice, case, day).is_some()
}

/// What an overdue invoice (see [`is_overdue`]) counts in `customer.overdue` on `day`: its
/// outstanding, or for an invoice with installments the part of it due before `day`.
pub fn overdue_amount(invoice: &Invoice, case: &Instance, day: NaiveDate) -> Option<Decimal> {
    let open = case.is_open()
        && !matches!(case.status, super::state::Status::Insolvency { .. })
        && invoice.issued <= day
        && case.dispute.is_none();
    if !open {
        return None;
    }
    let late = super::installments::due_by(invoice, case.outstanding, day.pred_opt()?);
    let late = if invoice.installments.is_empty() && invoice.due >= day {
        Decimal::ZERO
    } else {
        late
    };
    (late > Decimal::ZERO).then_some(late)
}

/// The due date an overdue invoice counts its days late from: the chased installment's (the
/// earliest not paid in full), else the invoice's.
pub fn overdue_since(invoice: &Invoice, case: &Instance) -> NaiveDate {
    invoice
        .installments
        .get(super::installments::current(invoice, case.outstanding))
        .map_or(invoice.due, |i| i.due)
}

impl Overdue {
    /// Counts one invoice of the customer in the figures on `day`, with its case (`None`: not
    /// opened yet, counted with its opening outstanding). The drivers' running figures go
    /// through here, so they count installments as [`Overdue::over`] does.
    pub fn count(&mut self, invoice: &Invoice, case: Option<&Instance>, day: NaiveDate) {
        let found = match case {
            Some(case) => {
                overdue_amount(invoice, case, day).map(|a| (a, overdue_since(invoice, case)))
            }
            None => {
                let owed = invoice.opening_outstanding();
                let late = if invoice.installments.is_empty() {
                    if invoice.due < day {
                        owed
                    } else {
                        Decimal::ZERO
                    }
                } else {
                    day.pred_opt().map_or(Decimal::ZERO, |d| {
                        super::installments::due_by(invoice, owed, d)
                    })
                };
                let since = invoice
                    .installments
                    .get(super::installments::current(invoice, owed))
                    .map_or(invoice.due, |i| i.due);
                (late > Decimal::ZERO).then_some((late, since))
            }
        };
        if let Some((amount, since)) = found {
            self.amount += amount;
            self.count += 1;
            self.oldest_days = self.oldest_days.max((day - since).num_days());
        }
    }

    /// The figures on `day` over a customer's invoices with their cases, counting those in
    /// `currency` only (currencies never mix). This is the definition every driver uses.
    pub fn over<'i>(
        invoices: impl IntoIterator<Item = (&'i Invoice, &'i Instance)>,
        day: NaiveDate,
        currency: &str,
    ) -> Overdue {
        let mut o = Overdue::default();
        for (inv, case) in invoices {
            if inv.currency != currency {
                continue;
            }
            let Some(amount) = overdue_amount(inv, case, day) else {
                continue;
            };
            o.amount += amount;
            o.count += 1;
            o.oldest_days = o
                .oldest_days
                .max((day - overdue_since(inv, case)).num_days());
        }
        o
    }

    /// `totals` with these figures.
    pub fn into_totals(self, totals: CustomerTotals) -> CustomerTotals {
        CustomerTotals {
            overdue: self.amount,
            overdue_count: self.count,
            oldest_overdue_days: self.oldest_days,
            ..totals
        }
    }
}

/// The durable state of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    /// The level the account stands in (index in the scenario's levels), `None` when clear.
    pub level: Option<usize>,
    /// Since when it stands there (`None` before the first evaluation).
    pub since: Option<NaiveDate>,
    /// The overdue invoices at the last evaluation (what `on clear` reports on).
    pub listed: Vec<String>,
    /// How many times a block ran (level entries and clears), for idempotency keys.
    pub runs: u32,
}

/// What an account transition reads.
pub struct AccountFacts<'a> {
    pub scenario: &'a ir::Scenario,
    pub customer: &'a Customer,
    /// The account's currency.
    pub currency: &'a str,
    /// The account's overdue invoices with their cases, oldest due date first.
    pub overdue: Vec<(&'a Invoice, &'a Instance)>,
    /// The customer's totals on the day in `currency`, overdue figures included.
    pub totals: CustomerTotals,
    pub rules: &'a RuleSet,
    pub rates: &'a RateTable,
}

impl<'a> AccountFacts<'a> {
    /// The facts conditions read, with `invoice` standing for the account (its oldest overdue).
    fn of_invoice(&self, invoice: &'a Invoice) -> Facts<'a> {
        Facts {
            scenario: self.scenario,
            invoice,
            customer: self.customer,
            totals: self.totals,
            rules: self.rules,
            rates: self.rates,
        }
    }

    /// An evaluation environment over `facts` (made by [`Self::of_invoice`]) and `case`.
    fn env<'e>(&self, case: &'e Instance, facts: &'e Facts<'e>, today: NaiveDate) -> Env<'e, 'e> {
        Env {
            inst: case,
            facts,
            today,
            totals: self.totals,
            event: None,
        }
    }
}

/// What an account transition decided.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AccountOutcome {
    /// One per action and overdue invoice (grouped into one message by the timeline).
    pub actions: Vec<Planned>,
    /// The level change, if any (`invoice` is the account's oldest overdue invoice, or the
    /// last one listed when it clears).
    pub records: Vec<Record>,
    /// Set when a condition could not be evaluated: the account stays where it was.
    pub error: Option<String>,
}

/// The account's name for records and keys: `customer/currency`.
fn account_id(facts: &AccountFacts<'_>) -> String {
    format!("{}/{}", facts.customer.id, facts.currency)
}

/// Whether `e` names an amount in a currency other than `currency` (such a level never
/// applies to this account: a USD debt never matches a EUR threshold).
fn other_currency(e: &Expr, currency: &str) -> bool {
    fn value(v: &Value, currency: &str) -> bool {
        match v {
            Value::Money(m) => m.currency != currency,
            Value::List(l) => l.iter().any(|v| value(v, currency)),
            _ => false,
        }
    }
    e.any(&|x| matches!(x, Expr::Lit(v) if value(v, currency)))
}

/// The level the account belongs in today: the highest (last written) whose condition holds;
/// `None` (clear) when nothing is overdue or no condition holds.
pub fn level_of(facts: &AccountFacts<'_>, today: NaiveDate) -> Result<Option<usize>, EvalError> {
    let Some(&(invoice, case)) = facts.overdue.first() else {
        return Ok(None);
    };
    let f = facts.of_invoice(invoice);
    let env = facts.env(case, &f, today);
    for (i, level) in facts.scenario.levels.iter().enumerate().rev() {
        if other_currency(&level.when, facts.currency) {
            continue;
        }
        if env.condition(&level.when)? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Moves the account to the level it belongs in today. Entering a level (up or down) runs
/// its block once; staying runs nothing; returning to clear runs `on clear`. A failing
/// condition leaves the state as it was and reports the error.
pub fn account_transition(
    state: AccountState,
    today: NaiveDate,
    facts: &AccountFacts<'_>,
) -> (AccountState, AccountOutcome) {
    let mut out = AccountOutcome::default();
    let target = match level_of(facts, today) {
        Ok(t) => t,
        Err(e) => {
            out.error = Some(e.0);
            return (state, out);
        }
    };
    let listed: Vec<String> = facts.overdue.iter().map(|(i, _)| i.id.clone()).collect();
    if target == state.level {
        let state = AccountState {
            listed: if listed.is_empty() {
                state.listed
            } else {
                listed
            },
            since: state.since.or(Some(today)),
            ..state
        };
        return (state, out);
    }
    let name = |l: Option<usize>| {
        l.map_or("clear".to_string(), |i| {
            format!("level {}", facts.scenario.levels[i].name)
        })
    };
    let (label, body, order): (String, &[Stmt], usize) = match target {
        Some(i) => (name(target), &facts.scenario.levels[i].body, i),
        None => (
            "on clear".into(),
            facts
                .scenario
                .handlers
                .get(&EventName::Clear)
                .map_or(&[][..], Vec::as_slice),
            facts.scenario.levels.len(),
        ),
    };
    // The invoices the block's messages list: today's overdue ones, or (clearing) those
    // listed last.
    let concerned = if target.is_some() {
        listed.clone()
    } else {
        state.listed.clone()
    };
    let mut buffer = Vec::new();
    let env_invoice = facts.overdue.first();
    let ran = match env_invoice {
        Some(&(invoice, case)) => {
            let f = facts.of_invoice(invoice);
            let env = facts.env(case, &f, today);
            exec(&env, body, &mut buffer)
        }
        // Clear: nothing is overdue, so conditions have no invoice to read; the block runs
        // its actions and the conditions that read only the customer.
        None => exec_without_invoice(body, &mut buffer),
    };
    if let Err(e) = ran {
        out.error = Some(e.0);
        return (state, out);
    }
    let runs = state.runs + 1;
    let account = account_id(facts);
    let mut seq = 0u32;
    let from = if state.level.is_some() {
        "level"
    } else {
        "clear"
    };
    out.records.push(Record {
        date: today,
        invoice: concerned.first().cloned().unwrap_or_default(),
        customer: facts.customer.id.clone(),
        step: Some(label.clone()),
        from,
        to: if target.is_some() { "level" } else { "clear" },
        cause: format!(
            "account {account}: {} → {}",
            name(state.level),
            name(target)
        ),
        step_order: Some(order),
        seq,
        order: 0,
    });
    seq += 1;
    // Each listed invoice's installments as they stand today, computed once (not per action);
    // empty for invoices with one due date, and without a lookup when none has installments.
    let standings: Vec<Vec<super::installments::Standing>> = if facts
        .overdue
        .iter()
        .any(|(inv, _)| !inv.installments.is_empty())
    {
        let by_id: std::collections::HashMap<&str, _> = facts
            .overdue
            .iter()
            .map(|(inv, case)| (inv.id.as_str(), (inv, case)))
            .collect();
        concerned
            .iter()
            .map(|invoice| {
                by_id
                    .get(invoice.as_str())
                    .map(|(inv, case)| super::installments::standing(inv, case.outstanding, today))
                    .unwrap_or_default()
            })
            .collect()
    } else {
        vec![Vec::new(); concerned.len()]
    };
    for (k, action) in buffer.into_iter().enumerate() {
        for (invoice, standing) in concerned.iter().zip(&standings) {
            out.actions.push(Planned {
                date: today,
                invoice: invoice.clone(),
                customer: facts.customer.id.clone(),
                scenario: facts.scenario.name.clone(),
                version: facts.scenario.version.clone(),
                step: label.clone(),
                step_order: order,
                action: action.clone(),
                rate_assumed: None,
                installments: standing.clone(),
                key: format!(
                    "{account}/{}/{label}/{runs}/{k}/{invoice}",
                    facts.scenario.version
                ),
                seq,
                order: 0,
            });
            seq += 1;
        }
    }
    let state = AccountState {
        level: target,
        since: Some(today),
        listed: if listed.is_empty() {
            state.listed
        } else {
            listed
        },
        runs,
    };
    (state, out)
}

/// Runs a level's statements: `if`, `skip when` and actions (the checker refuses the rest,
/// E0161; were one here, it is ignored).
fn exec(env: &Env<'_, '_>, stmts: &[Stmt], buffer: &mut Vec<Action>) -> Result<bool, EvalError> {
    for s in stmts {
        match s {
            Stmt::SkipWhen(c) if env.condition(c)? => {
                buffer.clear();
                return Ok(false);
            }
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                let branch = if env.condition(cond)? {
                    then
                } else {
                    otherwise
                };
                if !exec(env, branch, buffer)? {
                    return Ok(false);
                }
            }
            Stmt::Action(a) => buffer.push(a.clone()),
            _ => {}
        }
    }
    Ok(true)
}

/// `on clear` when nothing is overdue: its actions; an `if` or `skip when` has no invoice to
/// read, so it is an error (the checker documents that `on clear` holds actions).
fn exec_without_invoice(stmts: &[Stmt], buffer: &mut Vec<Action>) -> Result<bool, EvalError> {
    for s in stmts {
        match s {
            Stmt::Action(a) => buffer.push(a.clone()),
            Stmt::If { .. } | Stmt::SkipWhen(_) => {
                return Err(EvalError(
                    "`on clear` runs when nothing is overdue: it can hold only actions".into(),
                ));
            }
            _ => {}
        }
    }
    Ok(true)
}

/// Whether the set needs the overdue figures: it has a `per customer` scenario, or a
/// condition somewhere reads `customer.overdue`, `customer.overdue_count` or
/// `customer.oldest_overdue_days`. Drivers compute them only then (they cost a pass over the
/// customer's invoices).
pub fn reads_overdue(set: &ir::ScenarioSet) -> bool {
    fn expr(e: &Expr) -> bool {
        e.any(&|x| {
            matches!(
                x,
                Expr::Field(
                    ir::Field::CustomerOverdue
                        | ir::Field::CustomerOverdueCount
                        | ir::Field::CustomerOldestOverdueDays
                )
            )
        })
    }
    fn stmts(list: &[Stmt]) -> bool {
        list.iter().any(|s| match s {
            Stmt::SkipWhen(e) | Stmt::StopWhen(e) | Stmt::WaitUntil(e) => expr(e),
            Stmt::If {
                cond,
                then,
                otherwise,
            } => expr(cond) || stmts(then) || stmts(otherwise),
            _ => false,
        })
    }
    set.scenarios.values().any(|s| {
        s.per_customer
            || s.applies.as_ref().is_some_and(expr)
            || s.steps.iter().any(|st| stmts(&st.body))
            || s.handlers.values().any(|h| stmts(h))
    }) || set
        .policies
        .values()
        .any(|p| p.rules.iter().any(|(_, c)| c.as_ref().is_some_and(expr)))
}
