//! The L441-10 II review of contractual late-payment rates: the customers whose
//! `late_interest_rate` is below the floor of three times the legal rate, half-year by
//! half-year (`relance rates --data DIR`, and a note of `relance import` for a customer
//! imported with such a rate).
//!
//! This module owns only the listing: the floor itself is `relance_core::interest`'s. It must
//! not change a rate (the contract is the credit manager's to correct), nor read files.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use relance_core::domain::Portfolio;
use relance_core::interest::{FloorWarning, RateTable, half_year_name};

/// A customer whose contractual rate is below the floor in some half-years.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractRateFinding {
    pub customer: String,
    /// The invoice whose own rate this is; `None` for the customer's rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice: Option<String>,
    /// The contractual rate, yearly percent.
    pub rate: Decimal,
    /// Each half-year whose floor is above the rate, oldest first.
    pub below: Vec<FloorWarning>,
}

impl std::fmt::Display for ContractRateFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let halves: Vec<String> = self
            .below
            .iter()
            .map(|w| format!("{} (floor {} %)", half_year_name(w.half_year), w.floor))
            .collect();
        if let Some(invoice) = &self.invoice {
            write!(f, "invoice {invoice} of ")?;
        }
        write!(
            f,
            "customer {}: the contractual late-payment rate {} % is below three times the \
             legal rate in {} (Code de commerce L441-10 II)",
            self.customer,
            self.rate,
            halves.join(", ")
        )
    }
}

/// Every customer with a contractual rate below the floor of a half-year its invoices can be
/// late in: from the half-year of its earliest due date (or the latest half-year whose legal
/// rate the table gives, for a customer without invoices) to the table's last. In customer
/// order.
pub fn check(portfolio: &Portfolio, table: &RateTable) -> Vec<ContractRateFinding> {
    let latest = table
        .latest_floor()
        .map_or(table.last_half_year(), |(start, _)| start);
    let mut earliest: std::collections::HashMap<&str, NaiveDate> = Default::default();
    for i in &portfolio.invoices {
        earliest
            .entry(i.customer.as_str())
            .and_modify(|d| *d = (*d).min(i.due))
            .or_insert(i.due);
    }
    portfolio
        .customers
        .iter()
        .filter_map(|c| {
            let rate = c.late_interest_rate?;
            let from = earliest.get(c.id.as_str()).copied().unwrap_or(latest);
            let below = table.contract_warnings(rate, from);
            (!below.is_empty()).then(|| ContractRateFinding {
                customer: c.id.clone(),
                invoice: None,
                rate,
                below,
            })
        })
        .chain(portfolio.invoices.iter().filter_map(|i| {
            // An invoice's own rate, from the half-year of its due date on.
            let rate = i.late_interest_rate?;
            let below = table.contract_warnings(rate, i.due);
            (!below.is_empty()).then(|| ContractRateFinding {
                customer: i.customer.clone(),
                invoice: Some(i.id.clone()),
                rate,
                below,
            })
        }))
        .collect()
}

/// The note of an import for a customer given `rate`: `None` when the rate is not below the
/// floor of the latest half-year whose legal rate the table gives.
pub fn import_note(customer: &str, rate: Decimal, table: &RateTable) -> Option<String> {
    let (start, _) = table.latest_floor()?;
    let below = table.contract_warnings(rate, start);
    let first = below.first()?;
    (first.half_year == start).then(|| {
        ContractRateFinding {
            customer: customer.to_string(),
            invoice: None,
            rate,
            below: vec![*first],
        }
        .to_string()
    })
}

/// [`import_note`] for an invoice's own rate.
pub fn invoice_import_note(
    invoice: &str,
    customer: &str,
    rate: Decimal,
    table: &RateTable,
) -> Option<String> {
    import_note(customer, rate, table).map(|note| format!("invoice {invoice} of {note}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance_core::domain::{Customer, Invoice};

    fn invoice(id: &str, customer: &str, due: &str) -> Invoice {
        let mut p = relance_core::domain::Portfolio::default();
        p.invoices.push(
            serde_json::from_value(serde_json::json!({
                "id": id, "customer": customer, "amount": "100", "issued": "2024-01-01", "due": due
            }))
            .expect("invoice"),
        );
        p.invoices.remove(0)
    }

    #[test]
    fn customers_below_the_floor_are_listed_by_half_year() {
        // Built-in table (Banque de France, legal rate "autres cas"): floors 2024-H1 15.21,
        // 2024-H2 14.76, 2025-H1 11.13, 2025-H2 8.28, 2026-H1 7.86.
        let mut acme = Customer::new("ACME");
        acme.late_interest_rate = Some(Decimal::from(12));
        let mut beta = Customer::new("BETA");
        beta.late_interest_rate = Some(Decimal::from(7));
        let mut gamma = Customer::new("GAMMA");
        gamma.late_interest_rate = Some(Decimal::from(20));
        let p = Portfolio {
            customers: vec![acme, beta, gamma, Customer::new("NONE")],
            invoices: vec![
                invoice("F-1", "ACME", "2024-12-31"),
                invoice("F-2", "ACME", "2025-03-31"),
                invoice("F-3", "GAMMA", "2024-01-31"),
            ],
            ..Portfolio::default()
        };
        let found = check(&p, RateTable::builtin());
        let summary: Vec<(String, Vec<String>)> = found
            .iter()
            .map(|f| {
                (
                    f.customer.clone(),
                    f.below
                        .iter()
                        .map(|w| half_year_name(w.half_year))
                        .collect(),
                )
            })
            .collect();
        // ACME from 2024-H2 (its earliest due date): 12 < 14.76 only there. BETA, without
        // invoices, against the latest known floor: 7 < 7.86 in 2026-H1. GAMMA at 20 %: never.
        assert_eq!(
            summary,
            [
                ("ACME".to_string(), vec!["2024-H2".to_string()]),
                ("BETA".to_string(), vec!["2026-H1".to_string()]),
            ]
        );
        assert_eq!(
            found[0].to_string(),
            "customer ACME: the contractual late-payment rate 12 % is below three times the \
             legal rate in 2024-H2 (floor 14.76 %) (Code de commerce L441-10 II)"
        );
        assert_eq!(
            import_note("BETA", Decimal::from(7), RateTable::builtin()).as_deref(),
            Some(
                "customer BETA: the contractual late-payment rate 7 % is below three times the \
                 legal rate in 2026-H1 (floor 7.86 %) (Code de commerce L441-10 II)"
            )
        );
        assert_eq!(
            import_note("ACME", Decimal::from(12), RateTable::builtin()),
            None
        );
    }

    /// An invoice's own rate is judged from the half-year of its due date: 7.5 % due
    /// 31 December 2025 is below 3 × 2.76 = 8.28 % (2025-H2, arrêté of 19 June 2025) and
    /// 3 × 2.62 = 7.86 % (2026-H1, arrêté of 15 December 2025); 8 % due in 2026 is not.
    #[test]
    fn invoices_with_their_own_rate_are_judged_from_their_due_date() {
        let mut low = invoice("F-7", "ACME", "2025-12-31");
        low.late_interest_rate = Some(Decimal::new(75, 1));
        let mut fine = invoice("F-8", "ACME", "2026-01-31");
        fine.late_interest_rate = Some(Decimal::from(8));
        let p = Portfolio {
            customers: vec![Customer::new("ACME")],
            invoices: vec![low, fine],
            ..Portfolio::default()
        };
        let found = check(&p, RateTable::builtin());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].to_string(),
            "invoice F-7 of customer ACME: the contractual late-payment rate 7.5 % is below three \
             times the legal rate in 2025-H2 (floor 8.28 %), 2026-H1 (floor 7.86 %) (Code de \
             commerce L441-10 II)"
        );
    }
}
