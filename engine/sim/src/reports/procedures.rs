//! Which customers are under a collective procedure on a report date, for the reports that
//! show them apart (the aged balance).
//!
//! Read from the portfolio's `insolvency_opened` / `insolvency_closed` events dated on or
//! before the date (the last one wins); a customer without such events keeps the procedure
//! its record holds. It must not decide anything about cases (that is the transition's).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use relance_core::domain::{EventKind, Portfolio};
use relance_core::insolvency::Insolvency;

/// The procedure each customer is under on `at`, by customer id.
pub fn on(portfolio: &Portfolio, at: NaiveDate) -> BTreeMap<&str, Insolvency> {
    let mut out: BTreeMap<&str, Insolvency> = BTreeMap::new();
    let mut by_events: std::collections::HashSet<&str> = Default::default();
    let mut events: Vec<_> = portfolio.events.iter().filter(|e| e.date <= at).collect();
    events.sort_by_key(|e| e.date); // stable: the file's order on one day
    for e in events {
        match &e.kind {
            EventKind::InsolvencyOpened {
                customer,
                procedure,
                judgment_on,
                published_on,
            } => {
                by_events.insert(customer);
                out.insert(
                    customer,
                    Insolvency {
                        procedure: *procedure,
                        judgment_on: *judgment_on,
                        published_on: *published_on,
                    },
                );
            }
            EventKind::InsolvencyClosed { customer, .. } => {
                by_events.insert(customer);
                out.remove(customer.as_str());
            }
            _ => {}
        }
    }
    for c in &portfolio.customers {
        if let Some(i) = c.insolvency.filter(|i| i.judgment_on <= at)
            && !by_events.contains(c.id.as_str())
        {
            out.insert(&c.id, i);
        }
    }
    out
}
