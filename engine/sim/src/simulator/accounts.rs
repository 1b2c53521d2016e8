//! The simulator's side of account-level dunning (`per customer` scenarios): each customer's
//! overdue figures on a day (`customer.overdue` …, for every scenario when the set reads
//! them), the accounts' states, which accounts to re-evaluate on a day (those whose customer's
//! invoices were touched, and those whose timer fell due), and their wake-ups.
//!
//! The decisions are `relance_core::runtime::account_transition`'s; this module only gathers
//! its facts and files its outcome in the run. It must not decide a level itself.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::{Run, Simulator};
use relance_core::runtime::account::{AccountFacts, AccountState, Overdue, is_overdue};
use relance_core::runtime::{CustomerTotals, Instance, Recording, account_transition};

/// An account: a customer (its position), a `per customer` scenario and a currency.
pub(super) type Key = (usize, String, String);

/// The accounts of a run.
#[derive(Debug, Default)]
pub(super) struct Accounts {
    /// Whether the set reads the overdue figures (`account::reads_overdue`).
    pub(super) reads_overdue: bool,
    pub(super) states: BTreeMap<Key, AccountState>,
    /// Accounts to evaluate today (their customer's invoices were touched).
    pub(super) touched: BTreeSet<Key>,
    /// Wake-ups by day.
    pub(super) timers: BTreeMap<NaiveDate, BTreeSet<Key>>,
}

impl Accounts {
    /// The first day an account needs evaluating, if any.
    pub(super) fn next_timer(&self) -> Option<NaiveDate> {
        self.timers.first_key_value().map(|t| *t.0)
    }
}

impl Simulator<'_> {
    /// `totals` with the customer's overdue figures in invoice `i`'s currency, when the set
    /// reads them. An invoice entering today (no case yet) counts with its opening
    /// outstanding; `own` is invoice `i`'s case when the caller holds it out of `cases`.
    pub(super) fn with_overdue(
        &self,
        i: usize,
        day: NaiveDate,
        cases: &[Option<Instance>],
        own: Option<&Instance>,
        totals: CustomerTotals,
    ) -> CustomerTotals {
        if !self.accounts.reads_overdue {
            return totals;
        }
        let c = self.invoice_customer[i];
        let currency = self.invoices[i].currency.as_str();
        let mut o = Overdue::default();
        for &j in &self.customer_invoices[c] {
            let inv = self.invoices[j];
            if inv.currency != currency || inv.issued > day {
                continue;
            }
            let case = if j == i {
                own.or(cases[j].as_ref())
            } else {
                cases[j].as_ref()
            };
            o.count(inv, case, day);
        }
        o.into_totals(totals)
    }

    /// Notes that invoice `i`'s case was touched today: its account (if its scenario is
    /// `per customer`) is evaluated at the end of the day.
    pub(super) fn touch_account(&mut self, i: usize, case: Option<&Instance>) {
        let Some(case) = case else { return };
        let per_customer = self
            .shared
            .set
            .scenarios
            .get(&case.scenario)
            .is_some_and(|s| s.per_customer);
        if per_customer {
            let key = (
                self.invoice_customer[i],
                case.scenario.clone(),
                self.invoices[i].currency.clone(),
            );
            self.accounts.touched.insert(key);
        }
    }

    /// Evaluates every account touched today or due today, files the actions and records,
    /// and sets each one's next wake-up.
    pub(super) fn run_accounts(&mut self, day: NaiveDate, run: &mut Run) {
        let mut keys = std::mem::take(&mut self.accounts.touched);
        if let Some(due) = self.accounts.timers.remove(&day) {
            keys.extend(due);
        }
        for key in keys {
            self.run_account(key, day, run);
        }
    }

    fn run_account(&mut self, key: Key, day: NaiveDate, run: &mut Run) {
        let (c, scenario_name, currency) = &key;
        let Some(scenario) = self.shared.set.scenarios.get(scenario_name) else {
            return;
        };
        // The account's invoices: the customer's, in this scenario and currency.
        let mine: Vec<usize> = self.customer_invoices[*c]
            .iter()
            .copied()
            .filter(|&j| {
                self.invoices[j].currency == *currency
                    && run.cases[j]
                        .as_ref()
                        .is_some_and(|case| case.scenario == *scenario_name)
            })
            .collect();
        let Some(&first) = mine.first() else { return };
        let mut overdue: Vec<usize> = mine
            .iter()
            .copied()
            .filter(|&j| {
                run.cases[j]
                    .as_ref()
                    .is_some_and(|case| is_overdue(self.invoices[j], case, day))
            })
            .collect();
        overdue.sort_by(|&a, &b| {
            (self.invoices[a].due, &self.invoices[a].id)
                .cmp(&(self.invoices[b].due, &self.invoices[b].id))
        });
        let totals = self.totals(first, day);
        let totals = self.with_overdue(first, day, &run.cases, None, totals);
        let facts = AccountFacts {
            scenario,
            customer: &self.customers[*c],
            currency,
            overdue: overdue
                .iter()
                .filter_map(|&j| Some((self.invoices[j], run.cases[j].as_ref()?)))
                .collect(),
            totals,
            rules: self.shared.rules,
            rates: self.shared.rates,
        };
        let state = self.accounts.states.remove(&key).unwrap_or_default();
        let (state, mut out) = account_transition(state, day, &facts);
        if let Some(message) = out.error.take() {
            out.records.push(relance_core::runtime::Record {
                date: day,
                invoice: facts
                    .overdue
                    .first()
                    .map(|(i, _)| i.id.clone())
                    .unwrap_or_default(),
                customer: facts.customer.id.clone(),
                step: None,
                from: "level",
                to: "error",
                cause: format!("account {}/{currency}: {message}", facts.customer.id),
                step_order: None,
                seq: 0,
                order: 0,
            });
        }
        let base = run.seq;
        let decisions = (out.actions.len() + out.records.len()) as u64;
        run.seq += decisions;
        for a in &mut out.actions {
            a.order = base + u64::from(a.seq);
        }
        for r in &mut out.records {
            r.order = base + u64::from(r.seq);
        }
        run.actions.extend(out.actions);
        if self.recording == Recording::Causes {
            run.records.extend(out.records);
        }
        // Next wake-up: tomorrow while something is overdue (its days late grow), else the
        // day after the earliest due date still ahead.
        let wake = if !overdue.is_empty() {
            day.succ_opt()
        } else {
            mine.iter()
                .filter(|&&j| run.cases[j].as_ref().is_some_and(Instance::is_open))
                .map(|&j| self.invoices[j].due)
                .filter(|d| *d >= day)
                .min()
                .and_then(|d| d.succ_opt())
        };
        if let Some(w) = wake {
            self.accounts
                .timers
                .entry(w)
                .or_default()
                .insert(key.clone());
        }
        self.accounts.states.insert(key, state);
    }
}
