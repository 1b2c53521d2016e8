//! Account-level dunning in the daemon (`per customer` scenarios): the store's side of
//! `relance_core::runtime::account`, as the simulator's `simulator/accounts.rs` drives it.
//!
//! It owns the `accounts` tree: `s`, customer, 0, scenario, 0, currency → the account's
//! record ([`AccountRecord`]: core's `AccountState` and its next wake-up); `t`, day (4 bytes),
//! account → empty (its wake-up); `u`, day, account → empty (a case of the account was ticked
//! that day, see [`Work::touch_account`]). The daily run's account pass
//! ([`Work::account_pass`]), after the day's ticks and before the cadence, evaluates every
//! account touched or woken that day with `account_transition` and files its actions (one per
//! overdue invoice, grouped into one message) and its level change in the history. It also
//! computes the overdue figures (`customer.overdue` …) a set reads ([`Work::overdue`]), with
//! `relance_core::runtime::account::Overdue`'s definition.
//!
//! It must not decide a level itself (core does), nor deliver anything.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use relance_core::domain::Invoice;
use relance_core::runtime::account::{AccountFacts, AccountState, Overdue, is_overdue};
use relance_core::runtime::{CustomerTotals, Facts, Instance, Record, account_transition};

use super::driver::Work;
use super::error::DaemonError;
use super::keys;
use super::model::{Item, decode, encode};
use super::store::{Op, Tree};

const STATE: u8 = b's';
const TIMER: u8 = b't';
const TOUCHED: u8 = b'u';

/// One account's stored record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub state: AccountState,
    /// The next day it is evaluated without a touch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wake: Option<NaiveDate>,
}

/// An account: customer, `per customer` scenario, currency.
type Key = (String, String, String);

fn account_bytes((c, s, cur): &Key) -> Vec<u8> {
    let mut k = c.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(s.as_bytes());
    k.push(0);
    k.extend_from_slice(cur.as_bytes());
    k
}

fn parse_account(b: &[u8]) -> Option<Key> {
    let text = std::str::from_utf8(b).ok()?;
    let mut parts = text.split('\0');
    let (c, s, cur) = (parts.next()?, parts.next()?, parts.next()?);
    parts
        .next()
        .is_none()
        .then(|| (c.to_string(), s.to_string(), cur.to_string()))
}

fn state_key(a: &Key) -> Vec<u8> {
    let mut k = vec![STATE];
    k.extend(account_bytes(a));
    k
}

fn dated_key(kind: u8, day: NaiveDate, a: &Key) -> Vec<u8> {
    let mut k = vec![kind];
    k.extend_from_slice(&keys::date(day));
    k.extend(account_bytes(a));
    k
}

/// `verify`'s check of one entry of the `accounts` tree.
pub fn check_entry(k: &[u8], v: &[u8]) -> Result<(), String> {
    match k.first() {
        Some(&STATE) => {
            parse_account(&k[1..]).ok_or("key is not an account")?;
            serde_json::from_slice::<AccountRecord>(v)
                .map(drop)
                .map_err(|e| e.to_string())
        }
        Some(&TIMER | &TOUCHED) => {
            if k.len() < 5 || keys::parse_date(&k[1..]).is_none() {
                return Err("key is not a kind, a date and an account".into());
            }
            parse_account(&k[5..]).ok_or("key is not an account")?;
            if v.is_empty() {
                Ok(())
            } else {
                Err("value is not empty".into())
            }
        }
        _ => Err("unknown kind of account entry".into()),
    }
}

/// Every account's record, in key order (for views and tests).
pub fn accounts(
    store: &dyn super::store::Store,
) -> Result<Vec<(String, String, String, AccountRecord)>, DaemonError> {
    let mut out = Vec::new();
    for (k, v) in store.range(Tree::Accounts, &[STATE], Some(&[STATE + 1]), usize::MAX)? {
        if let Some((c, s, cur)) = parse_account(&k[1..]) {
            out.push((c, s, cur, decode("account", &v)?));
        }
    }
    Ok(out)
}

/// One customer's accounts (scenario, currency, record), read by its key prefix (not a scan
/// of every account): `GET /v1/customers/{id}`'s `accounts` and the console's customer page.
pub fn accounts_of(
    store: &dyn super::store::Store,
    customer: &str,
) -> Result<Vec<(String, String, AccountRecord)>, DaemonError> {
    let mut prefix = vec![STATE];
    prefix.extend_from_slice(customer.as_bytes());
    prefix.push(0);
    let mut out = Vec::new();
    for (k, v) in store.prefix(Tree::Accounts, &prefix, usize::MAX)? {
        if let Some((c, s, cur)) = parse_account(&k[1..])
            && c == customer
        {
            out.push((s, cur, decode("account", &v)?));
        }
    }
    Ok(out)
}

/// The name of level `index` of `scenario` in `set` (the current deployment's), if it has it.
pub fn level_name(
    set: Option<&relance_dsl::ir::ScenarioSet>,
    scenario: &str,
    index: usize,
) -> Option<String> {
    set.and_then(|s| s.scenarios.get(scenario))
        .and_then(|sc| sc.levels.get(index))
        .map(|l| l.name.clone())
}

/// Whether the current deployment's set needs the overdue figures.
fn reads_overdue(w: &Work<'_>) -> bool {
    w.catalog()
        .current()
        .is_some_and(|d| relance_core::runtime::account::reads_overdue(&d.set))
}

impl Work<'_> {
    /// A case was ticked on `day`: when its scenario is `per customer`, its account is
    /// evaluated by the day's account pass.
    pub(crate) fn touch_account(&mut self, id: &str, day: NaiveDate) -> Result<(), DaemonError> {
        let Some(case) = self.case(id)?.cloned() else {
            return Ok(());
        };
        let per_customer = self
            .catalog()
            .current()
            .and_then(|d| d.set.scenarios.get(&case.scenario))
            .is_some_and(|s| s.per_customer);
        if !per_customer {
            return Ok(());
        }
        let Some(inv) = self.invoice(id)?.cloned() else {
            return Ok(());
        };
        let key = (inv.customer, case.scenario, inv.currency);
        self.push_op(Op::Put(
            Tree::Accounts,
            dated_key(TOUCHED, day, &key),
            Vec::new(),
        ));
        Ok(())
    }

    /// `totals` with the customer's overdue figures in `currency` on `day`, when the set reads
    /// them (as the simulator's `with_overdue`: an invoice without a case counts with its
    /// opening outstanding once past due).
    pub(crate) fn with_overdue(
        &mut self,
        customer: &str,
        currency: &str,
        day: NaiveDate,
        totals: CustomerTotals,
    ) -> Result<CustomerTotals, DaemonError> {
        if !reads_overdue(self) {
            return Ok(totals);
        }
        let mut o = Overdue::default();
        for j in self.members(customer)? {
            let Some(inv) = self.invoice(&j)?.cloned() else {
                continue;
            };
            if inv.currency != currency || inv.issued > day {
                continue;
            }
            let case = self.case(&j)?;
            o.count(&inv, case, day);
        }
        Ok(o.into_totals(totals))
    }

    /// The daily run's account pass on `day`: every account touched or woken by then.
    /// False when there was none.
    pub fn account_pass(&mut self, day: NaiveDate) -> Result<bool, DaemonError> {
        let mut due: BTreeSet<Key> = BTreeSet::new();
        for kind in [TOUCHED, TIMER] {
            for (k, _) in self.store().range(
                Tree::Accounts,
                &[kind],
                Some(&keys::dated_through(kind, day)),
                usize::MAX,
            )? {
                if let Some(key) = k.get(5..).and_then(parse_account) {
                    due.insert(key);
                }
                self.push_op(Op::Delete(Tree::Accounts, k));
            }
        }
        if due.is_empty() {
            return Ok(false);
        }
        for key in due {
            self.run_account(key, day)?;
        }
        Ok(true)
    }

    fn run_account(&mut self, key: Key, day: NaiveDate) -> Result<(), DaemonError> {
        let catalog = self.catalog();
        let Some(deployment) = catalog.current() else {
            return Ok(());
        };
        let (customer, name, currency) = &key;
        let Some(scenario) = deployment.set.scenarios.get(name) else {
            return Ok(());
        };
        let Some(cust) = self.customer(customer)?.cloned() else {
            return Ok(());
        };
        // The account's invoices: the customer's, in this scenario and currency.
        let mut mine: Vec<(Invoice, Instance)> = Vec::new();
        for j in self.members(customer)? {
            let Some(inv) = self.invoice(&j)?.cloned() else {
                continue;
            };
            if inv.currency != *currency {
                continue;
            }
            if let Some(case) = self.case(&j)?.filter(|c| c.scenario == *name).cloned() {
                mine.push((inv, case));
            }
        }
        if mine.is_empty() {
            return Ok(());
        }
        let mut overdue: Vec<&(Invoice, Instance)> = mine
            .iter()
            .filter(|(inv, case)| is_overdue(inv, case, day))
            .collect();
        overdue.sort_by(|a, b| (a.0.due, &a.0.id).cmp(&(b.0.due, &b.0.id)));
        // The customer's totals in the account's currency, overdue figures included.
        let totals = self.totals(customer, currency, day, None)?;
        let facts = AccountFacts {
            scenario,
            customer: &cust,
            currency,
            overdue: overdue.iter().map(|(i, c)| (i, c)).collect(),
            totals,
            rules: &deployment.rules,
            rates: self.rates(),
        };
        let stored = match self.store().get(Tree::Accounts, &state_key(&key))? {
            Some(b) => decode::<AccountRecord>("account", &b)?,
            None => AccountRecord::default(),
        };
        // An earlier wake-up still filed stays (as in the simulator): evaluating an account
        // again on a day changes nothing unless its figures did.
        let (state, mut out) = account_transition(stored.state, day, &facts);
        if let Some(message) = out.error.take() {
            out.records.push(Record {
                date: day,
                invoice: facts
                    .overdue
                    .first()
                    .map(|(i, _)| i.id.clone())
                    .unwrap_or_default(),
                customer: cust.id.clone(),
                step: None,
                from: "level",
                to: "error",
                cause: format!("account {}/{currency}: {message}", cust.id),
                step_order: None,
                seq: 0,
                order: 0,
            });
        }
        // Each item carries the late-interest rate its invoice runs at, as the charge would
        // compute it with that invoice's facts (its own rate, the customer's, the scenario's,
        // else ECB + 10), as on the per-invoice path.
        let items: Vec<_> = std::mem::take(&mut out.actions)
            .into_iter()
            .filter_map(|p| {
                let (inv, case) = mine.iter().find(|(i, _)| i.id == p.invoice)?;
                let invoice_facts = Facts {
                    scenario,
                    invoice: inv,
                    customer: &cust,
                    totals: facts.totals,
                    rules: &deployment.rules,
                    rates: facts.rates,
                };
                let item = Item::of(&p, inv, case, Some(deployment.number))
                    .with_rate(&invoice_facts, p.date);
                Some((p, item))
            })
            .collect();
        for r in out.records {
            if !r.invoice.is_empty() {
                self.record(r);
            }
        }
        for (p, item) in items {
            self.plan(p, item);
        }
        // Next wake-up: tomorrow while something is overdue (its days late grow), else the
        // day after the earliest due date still ahead.
        let wake = if !overdue.is_empty() {
            day.succ_opt()
        } else {
            mine.iter()
                .filter(|(_, c)| c.is_open())
                .map(|(i, _)| i.due)
                .filter(|d| *d >= day)
                .min()
                .and_then(|d| d.succ_opt())
        };
        if let Some(w) = wake {
            self.push_op(Op::Put(
                Tree::Accounts,
                dated_key(TIMER, w, &key),
                Vec::new(),
            ));
        }
        let record = AccountRecord { state, wake };
        self.push_op(Op::Put(Tree::Accounts, state_key(&key), encode(&record)));
        Ok(())
    }
}
