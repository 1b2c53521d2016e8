//! The credit-insurance report at a date: for every invoice still open of a customer with an
//! insurer, its original due date (for an invoice with installments, the first unpaid
//! installment's: `installments::insured_due`), its extension if any, and the insurer's deadlines
//! (declare the threatened risk by, stop-cover from when the policy has one, file the claim by)
//! computed from the **original** due date (`relance_core::insurance`); with warnings for an
//! extension past the policy's maximum, an insurer missing from the policies, and a customer owing
//! more than its cover limit.
//!
//! It reads the portfolio through [`replay`](super::replay) and the policies it is given (the data
//! folder's `insurers.csv`, read by `relance-data`). It must not move any date.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{csv_cell, replay};
use relance_core::domain::{EventKind, Portfolio};
use relance_core::insurance::InsurerPolicy;
use relance_core::runtime::installments;

/// One open invoice of an insured customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InsuredInvoice {
    pub customer: String,
    pub insurer: String,
    /// `covered`, `not_covered` or `cancelled`.
    pub cover: String,
    pub invoice: String,
    pub currency: String,
    pub open: Decimal,
    /// The original due date the deadlines count from: the invoice's, or for an invoice with
    /// installments the first unpaid installment's (numbered in `installment`).
    pub original_due: NaiveDate,
    /// The installment (from 1) whose due date `original_due` is; `None` for an invoice with
    /// one due date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installment: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_due: Option<NaiveDate>,
    /// `None` when the insurer has no policy in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threatened_risk_by: Option<NaiveDate>,
    /// The day new deliveries stop being covered (*arrêt de garantie*), when the policy has a
    /// stop-cover rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_cover_from: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_by: Option<NaiveDate>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InsuranceReport {
    pub at: NaiveDate,
    pub invoices: Vec<InsuredInvoice>,
    /// What the credit manager should look at, one sentence each.
    pub warnings: Vec<String>,
}

/// The report on `at` for `portfolio` under `policies`.
pub fn insurance(
    portfolio: &Portfolio,
    policies: &[InsurerPolicy],
    at: NaiveDate,
) -> InsuranceReport {
    let mut extended: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    let mut events: Vec<_> = portfolio.events.iter().filter(|e| e.date <= at).collect();
    events.sort_by_key(|e| e.date);
    for e in events {
        if let EventKind::DueDateExtended { invoice, to } = &e.kind {
            extended.insert(invoice, *to);
        }
    }
    let customers: BTreeMap<&str, _> = portfolio
        .customers
        .iter()
        .filter_map(|c| c.credit_cover.as_ref().map(|k| (c.id.as_str(), k)))
        .collect();
    let mut invoices = Vec::new();
    let mut warnings = Vec::new();
    let mut owed: BTreeMap<&str, Decimal> = BTreeMap::new();
    for state in replay(portfolio, at) {
        if state.open <= Decimal::ZERO {
            continue;
        }
        let inv = &portfolio.invoices[state.index];
        let Some(cover) = customers.get(inv.customer.as_str()) else {
            continue;
        };
        if inv.currency == "EUR" {
            *owed.entry(inv.customer.as_str()).or_default() += state.open;
        }
        let policy = policies.iter().find(|p| p.insurer == cover.insurer);
        let extended_due = extended
            .get(inv.id.as_str())
            .copied()
            .filter(|e| *e != inv.due);
        let original_due = installments::insured_due(inv, state.open);
        let installment =
            (!inv.installments.is_empty()).then(|| installments::current(inv, state.open) + 1);
        let deadlines = policy.map(|p| p.deadlines(original_due, extended_due));
        if let Some(w) = deadlines.as_ref().and_then(|d| d.extension_warning.clone()) {
            warnings.push(format!("invoice {}: {w}", inv.id));
        }
        invoices.push(InsuredInvoice {
            customer: inv.customer.clone(),
            insurer: cover.insurer.clone(),
            cover: cover.status.as_str().to_string(),
            invoice: inv.id.clone(),
            currency: inv.currency.clone(),
            open: state.open,
            original_due,
            installment,
            extended_due,
            threatened_risk_by: deadlines.as_ref().map(|d| d.threatened_risk_by),
            stop_cover_from: deadlines.as_ref().and_then(|d| d.stop_cover_from),
            claim_by: deadlines.as_ref().map(|d| d.claim_by),
        });
    }
    for (id, cover) in &customers {
        if !policies.iter().any(|p| p.insurer == cover.insurer) {
            warnings.push(format!(
                "customer {id}: insurer \"{}\" has no policy in insurers.csv: no deadline computed",
                cover.insurer
            ));
        }
        if let (Some(limit), Some(o)) = (cover.limit, owed.get(id))
            && *o > limit
        {
            warnings.push(format!(
                "customer {id}: owes {o} EUR, over its cover limit of {limit} EUR"
            ));
        }
    }
    InsuranceReport {
        at,
        invoices,
        warnings,
    }
}

impl InsuranceReport {
    /// CSV: one line per invoice (the warnings are in the text and JSON forms).
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "customer,insurer,cover,invoice,currency,open,original_due,extended_due,threatened_risk_by,claim_by,stop_cover_from,installment\n",
        );
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        for r in &self.invoices {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{}\n",
                csv_cell(&r.customer),
                csv_cell(&r.insurer),
                r.cover,
                csv_cell(&r.invoice),
                csv_cell(&r.currency),
                r.open,
                r.original_due,
                date(r.extended_due),
                date(r.threatened_risk_by),
                date(r.claim_by),
                date(r.stop_cover_from),
                r.installment.map(|n| n.to_string()).unwrap_or_default(),
            ));
        }
        out
    }

    /// One line per invoice, then the warnings.
    pub fn to_text(&self) -> String {
        let mut out = format!("Credit insurance at {}\n", self.at);
        for r in &self.invoices {
            let ext = r
                .extended_due
                .map(|e| format!(", extended to {e}"))
                .unwrap_or_default();
            let deadlines = match (r.threatened_risk_by, r.claim_by) {
                (Some(t), Some(c)) => {
                    let late = |d: NaiveDate| if d < self.at { " (passed)" } else { "" };
                    let stop = r
                        .stop_cover_from
                        .map(|s| format!(", stop-cover from {s}{}", late(s)))
                        .unwrap_or_default();
                    format!(
                        "declare threatened risk by {t}{}{stop}, file claim by {c}{}",
                        late(t),
                        late(c)
                    )
                }
                _ => "no policy: deadlines unknown".to_string(),
            };
            let installment = r
                .installment
                .map(|n| format!(" (installment {n})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "{} {} [{} {}] {} {} due {}{installment}{ext}: {deadlines}\n",
                r.customer, r.invoice, r.insurer, r.cover, r.open, r.currency, r.original_due
            ));
        }
        if self.invoices.is_empty() {
            out.push_str("no open invoice of an insured customer\n");
        }
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out
    }
}
