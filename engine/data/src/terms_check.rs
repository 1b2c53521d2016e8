//! The L441-10 review of a portfolio's payment terms (`relance terms check`): the customers
//! whose terms can give a due date past the legal caps, and the invoices whose due date is
//! past the cap for their invoice date.
//!
//! This module owns only the listing: the caps themselves are `relance_core::terms`'s. It must
//! not change a due date or a term (the law is the credit manager's to apply: a longer term may
//! be lawful under a sector agreement, L441-10 II), nor read files.

use chrono::NaiveDate;
use serde::Serialize;

use relance_core::domain::Portfolio;
use relance_core::terms::{PaymentTerms, TermsKind, check_due};

/// One record past a cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Finding {
    /// A customer's terms allow more days than the law for their kind.
    Customer {
        id: String,
        terms: String,
        /// The most days terms of this kind may give (60 net, 45 end of month or periodic).
        max_days: u32,
    },
    /// An invoice whose due date is past the latest lawful due date for its invoice date.
    Invoice {
        id: String,
        customer: String,
        /// The terms that apply (the invoice's, else the customer's), if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        terms: Option<String>,
        issued: NaiveDate,
        due: NaiveDate,
        latest_lawful_due: NaiveDate,
        rule: &'static str,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Customer {
                id,
                terms,
                max_days,
            } => write!(
                f,
                "customer {id}: terms `{terms}` exceed {max_days} days (Code de commerce L441-10 I)"
            ),
            Finding::Invoice {
                id,
                customer,
                terms,
                issued,
                due,
                latest_lawful_due,
                rule,
            } => {
                write!(f, "invoice {id} ({customer}): issued {issued}, due {due}")?;
                if let Some(t) = terms {
                    write!(f, " under `{t}`")?;
                }
                write!(
                    f,
                    "; the latest lawful due date is {latest_lawful_due} ({rule})"
                )
            }
        }
    }
}

/// The most days terms of `kind` may state: 60 days net, 45 days end of month (either method),
/// 45 days for a periodic invoice (L441-10 I).
pub fn max_days(kind: TermsKind) -> u32 {
    match kind {
        TermsKind::Net => 60,
        TermsKind::DaysThenEndOfMonth | TermsKind::EndOfMonthThenDays | TermsKind::Periodic => 45,
    }
}

/// Whether `terms` state more days than the law allows for their kind.
pub fn terms_exceed(terms: PaymentTerms) -> bool {
    terms.days > max_days(terms.kind)
}

/// Every customer then every invoice past a cap, in portfolio order.
pub fn check(portfolio: &Portfolio) -> Vec<Finding> {
    let mut findings: Vec<Finding> = portfolio
        .customers
        .iter()
        .filter_map(|c| {
            let terms = c.terms().filter(|t| terms_exceed(*t))?;
            Some(Finding::Customer {
                id: c.id.clone(),
                terms: terms.to_string(),
                max_days: max_days(terms.kind),
            })
        })
        .collect();
    let customer_terms: std::collections::HashMap<&str, PaymentTerms> = portfolio
        .customers
        .iter()
        .filter_map(|c| c.terms().map(|t| (c.id.as_str(), t)))
        .collect();
    for invoice in &portfolio.invoices {
        let terms = invoice
            .payment_terms
            .or_else(|| customer_terms.get(invoice.customer.as_str()).copied());
        if let Some(breach) = check_due(invoice.issued, invoice.due, terms.map(|t| t.kind)) {
            findings.push(Finding::Invoice {
                id: invoice.id.clone(),
                customer: invoice.customer.clone(),
                terms: terms.map(|t| t.to_string()),
                issued: invoice.issued,
                due: invoice.due,
                latest_lawful_due: breach.latest,
                rule: breach.rule,
            });
        }
    }
    findings
}
