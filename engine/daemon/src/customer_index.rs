//! The customer list's index: per customer, what the console's list searches and sorts by
//! (name, risk score, scenario; per currency the outstanding amount and what the opened cases
//! owe by due date, hence the amount overdue on a day and the oldest overdue invoice), in
//! memory, so that a page of the list is a pass over this index and not over the store.
//!
//! Kept in step with the store by the store wrapper of `aggregates.rs` ([`crate::aggregates::Kept`]):
//! built on first use by one scan of the customers, invoices and cases, then changed by every
//! commit's writes to those trees, each read against the entry it replaces (an invoice and its
//! case count as the customer's ledger counts them: `driver::owed_by`). Dropped when the store
//! was reopened under the engine (its generation changed), and built again on the next use.
//! Nothing of it is stored.
//!
//! This module must not decide anything about a case, nor write to the store.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use relance_core::domain::{Customer, Invoice};
use rust_decimal::Decimal;

use crate::model::{CaseRecord, decode};
use crate::store::{Store, StoreError, Tree};

/// What the list shows of a customer's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: Option<String>,
    pub risk_score: i64,
    pub scenario: Option<String>,
}

/// A customer's money in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Money {
    /// Open cases' outstanding amounts and invoices without a case at their opening amount.
    pub outstanding: Decimal,
    /// Due date → what the opened cases owe (entries at zero dropped).
    pub owed_by_due: BTreeMap<NaiveDate, Decimal>,
}

/// One customer's row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// `None` while the store holds invoices of the customer but not the customer itself.
    pub customer: Option<Listed>,
    /// Currency → money (currencies at zero dropped).
    pub currencies: BTreeMap<String, Money>,
}

/// A currency's figures on a day, as `driver::Ledger::by_currency` reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnDay<'a> {
    pub currency: &'a str,
    pub outstanding: Decimal,
    /// What the opened cases owe on invoices due before the day.
    pub overdue: Decimal,
    /// The earliest due date among those.
    pub oldest_due: Option<NaiveDate>,
}

impl Row {
    /// The figures per currency (code order) on `day`.
    pub fn on(&self, day: NaiveDate) -> Vec<OnDay<'_>> {
        self.currencies
            .iter()
            .map(|(currency, m)| {
                let late = || m.owed_by_due.range(..day);
                OnDay {
                    currency,
                    outstanding: m.outstanding,
                    overdue: late().fold(Decimal::ZERO, |t, (_, a)| t.saturating_add(*a)),
                    oldest_due: late().find(|(_, a)| **a > Decimal::ZERO).map(|(d, _)| *d),
                }
            })
            .collect()
    }
}

/// What one invoice adds to the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Share {
    customer: String,
    currency: String,
    due: NaiveDate,
    outstanding: Decimal,
    owed: Decimal,
}

/// What `inv` with `case` adds (nothing without the invoice).
pub(crate) fn share(inv: Option<&Invoice>, case: Option<&CaseRecord>) -> Option<Share> {
    let inv = inv?;
    let (outstanding, owed) = crate::driver::owed_by(inv, case.map(|c| &c.case));
    Some(Share {
        customer: inv.customer.clone(),
        currency: inv.currency.clone(),
        due: inv.due,
        outstanding,
        owed,
    })
}

/// The index: customer id → row, in id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerIndex {
    rows: BTreeMap<String, Row>,
}

impl CustomerIndex {
    /// The index of what `store` holds (one scan of the customers, invoices and cases).
    pub fn build(store: &dyn Store) -> Result<CustomerIndex, StoreError> {
        let mut index = CustomerIndex::default();
        store.scan(Tree::Customers, &mut |_, v| {
            if let Ok(c) = decode::<Customer>("customer", v) {
                index.customer(&c.id, Some(&c));
            }
            Ok(())
        })?;
        let mut invoices: Vec<(Vec<u8>, Invoice)> = Vec::new();
        store.scan(Tree::Invoices, &mut |k, v| {
            if let Ok(inv) = decode::<Invoice>("invoice", v) {
                invoices.push((k.to_vec(), inv));
            }
            Ok(())
        })?;
        for (k, inv) in &invoices {
            let case = store
                .get(Tree::Instances, k)?
                .and_then(|b| decode::<CaseRecord>("case", &b).ok());
            index.add(share(Some(inv), case.as_ref()), Decimal::ONE);
        }
        Ok(index)
    }

    /// Sets (or, with `None`, forgets) what the list shows of customer `id`.
    pub(crate) fn customer(&mut self, id: &str, c: Option<&Customer>) {
        let row = self.rows.entry(id.to_string()).or_default();
        row.customer = c.map(|c| Listed {
            name: c.name.clone(),
            risk_score: c.risk_score,
            scenario: c.scenario.clone(),
        });
        if row.customer.is_none() && row.currencies.is_empty() {
            self.rows.remove(id);
        }
    }

    /// Adds `share` times `sign` (1 or -1).
    pub(crate) fn add(&mut self, share: Option<Share>, sign: Decimal) {
        let Some(s) = share else {
            return;
        };
        let row = self.rows.entry(s.customer.clone()).or_default();
        let m = row.currencies.entry(s.currency.clone()).or_default();
        m.outstanding = m.outstanding.saturating_add(s.outstanding * sign);
        if !s.owed.is_zero() {
            let owed = m.owed_by_due.entry(s.due).or_default();
            *owed = owed.saturating_add(s.owed * sign);
            if owed.is_zero() {
                m.owed_by_due.remove(&s.due);
            }
        }
        if m.outstanding.is_zero() && m.owed_by_due.is_empty() {
            row.currencies.remove(&s.currency);
        }
        if row.customer.is_none() && row.currencies.is_empty() {
            self.rows.remove(&s.customer);
        }
    }

    /// Every customer the store holds, in id order, with its row.
    pub fn customers(&self) -> impl Iterator<Item = (&str, &Listed, &Row)> {
        self.rows
            .iter()
            .filter_map(|(id, r)| r.customer.as_ref().map(|c| (id.as_str(), c, r)))
    }

    /// How many customers the store holds.
    pub fn len(&self) -> usize {
        self.customers().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
