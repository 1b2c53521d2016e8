//! Checking written data against the store before anything is written: the portfolio
//! invariants of `portfolio::validate` (reused as is, with the stored customers and invoices a
//! request refers to added as context, which also bounds amounts, their decimals and dates),
//! plus what only the daemon knows (a reversal is bounded by what the stored case was paid,
//! `Instance::reversible`, through `portfolio::validate_with_paid`): an invoice already stored, an event dated in the future,
//! before its invoice's issue date or on an invoice not issued yet, a customer whose invoices
//! would total more than [`max_customer_total`].
//!
//! A refusal is told in two accounts ([`Scope`]): the request checked against the store (for
//! roles that may read the data) and the request checked on its own (for roles that may not:
//! it is the same whatever the store holds, so it tells nothing about stored records).
//!
//! It owns the rule "a write is checked whole and rejected whole"; it must not write.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::driver::Work;
use super::error::{DaemonError, InputProblem, Scope};
use relance_core::domain::{Customer, Invoice, Portfolio};
use relance_data::portfolio::{self, Place};

/// What a checked write will do.
#[derive(Debug, Default)]
pub struct Plan {
    /// Invoices already stored with the same content: accepted, not written again.
    pub unchanged: BTreeSet<String>,
}

/// The most a customer's invoices may total (10^20: a hundred thousand invoices of
/// `portfolio::MAX_AMOUNT`), so that its totals, and reports summing customers, stay far from
/// a decimal's limit (about 7.9 × 10^28). Only a store written before amounts were bounded can
/// come near it.
pub fn max_customer_total() -> Decimal {
    portfolio::MAX_AMOUNT * Decimal::from(100_000)
}

fn problem(path: String, field: &str, message: impl Into<String>) -> InputProblem {
    InputProblem::new(path, Some(field.into()), message)
}

fn has_control(id: &str) -> bool {
    id.chars().any(char::is_control)
}

/// Whether `problem` says a record the request names is unknown (`unknown invoice "F-9"`, the
/// wording of `portfolio::validate`): a fact about the store, not about the request.
pub fn names_unknown_record(field: Option<&str>, message: &str) -> bool {
    field.is_some_and(|f| {
        matches!(f, "customer" | "invoice") && message.starts_with(&format!("unknown {f} \""))
    })
}

/// Checks a write of customers, invoices and events made on `today`. A refusal carries both
/// accounts of it ([`Scope`]): the request checked against the store, and on its own.
pub fn check(w: &mut Work<'_>, p: &Portfolio, today: NaiveDate) -> Result<Plan, DaemonError> {
    let (plan, full) = findings(Some(w), p, today)?;
    if full.is_empty() {
        return Ok(plan);
    }
    let (_, own) = findings(None, p, today)?;
    Err(DaemonError::Invalid(accounts(full, own)))
}

/// The problems of a write's request on its own, whatever the store holds: the request's own
/// account of a refusal (see [`check`]).
pub fn check_alone(p: &Portfolio, today: NaiveDate) -> Vec<InputProblem> {
    findings(None, p, today).map_or_else(|_| Vec::new(), |(_, own)| own)
}

/// The two accounts in one list: each problem of the full one is `Request` when the request's
/// own account has it too, else `Stored`; the own account's problems the full one left out
/// follow as `Alone`.
pub fn accounts(full: Vec<InputProblem>, own: Vec<InputProblem>) -> Vec<InputProblem> {
    type Key = (String, Option<String>, String);
    let key = |p: &InputProblem| -> Key { (p.path.clone(), p.field.clone(), p.message.clone()) };
    let own_keys: HashSet<Key> = own.iter().map(key).collect();
    let full_keys: HashSet<Key> = full.iter().map(key).collect();
    let mut out: Vec<InputProblem> = full
        .into_iter()
        .map(|p| {
            let scope = if own_keys.contains(&key(&p)) {
                Scope::Request
            } else {
                Scope::Stored
            };
            p.scoped(scope)
        })
        .collect();
    out.extend(
        own.into_iter()
            .filter(|p| !full_keys.contains(&key(p)))
            .map(|p| p.scoped(Scope::Alone)),
    );
    out
}

/// The problems of a write made on `today`: against the store when `w` is given, else of the
/// request on its own (then references outside the request are not judged).
fn findings(
    mut w: Option<&mut Work<'_>>,
    p: &Portfolio,
    today: NaiveDate,
) -> Result<(Plan, Vec<InputProblem>), DaemonError> {
    let mut problems = Vec::new();
    let mut plan = Plan::default();
    // The stored records the request refers to, as context for `portfolio::validate`.
    let mut context = p.clone();
    context.events.clear();
    if let Some(w) = w.as_deref_mut() {
        let mut known_customers: HashSet<String> =
            p.customers.iter().map(|c| c.id.clone()).collect();
        let mut known_invoices: HashSet<String> = p.invoices.iter().map(|i| i.id.clone()).collect();
        let mut add_customer =
            |w: &mut Work<'_>, id: &str, context: &mut Portfolio| -> Result<(), DaemonError> {
                if known_customers.insert(id.to_string())
                    && let Some(c) = w.customer(id)?
                {
                    context.customers.push(c.clone());
                }
                Ok(())
            };
        for inv in &p.invoices {
            add_customer(w, &inv.customer, &mut context)?;
        }
        let mut stored_invoices: Vec<Invoice> = Vec::new();
        for ev in &p.events {
            if let Some(id) = ev.kind.invoice()
                && known_invoices.insert(id.to_string())
                && let Some(inv) = w.invoice(id)?.cloned()
            {
                add_customer(w, &inv.customer, &mut context)?;
                stored_invoices.push(inv);
            }
            if let Some(c) = ev.kind.customer() {
                add_customer(w, c, &mut context)?;
            }
        }
        context.invoices.extend(stored_invoices);
    }
    context.events = p.events.clone();
    // What was paid on each stored invoice a reversal names: the same check as a file's.
    let mut paid_before: BTreeMap<String, Decimal> = BTreeMap::new();
    if let Some(w) = w.as_deref_mut() {
        for ev in &p.events {
            if let relance_core::domain::EventKind::PaymentReversed { invoice, .. } = &ev.kind
                && let Some(stored) = w.invoice(invoice)?.cloned()
                && let Some(case) = w.case(invoice)?
            {
                paid_before.insert(invoice.clone(), case.reversible(&stored));
            }
        }
    }
    if let Err(e) = portfolio::validate_with_paid(&context, &|id| paid_before.get(id).copied()) {
        for pr in e.problems() {
            let outside = match &pr.place {
                Place::Json {
                    collection: "customers",
                    index: Some(i),
                    ..
                } => *i >= p.customers.len(),
                Place::Json {
                    collection: "invoices",
                    index: Some(i),
                    ..
                } => *i >= p.invoices.len(),
                _ => false,
            };
            // On its own, a request cannot tell an unknown record from a stored one.
            let unjudged = w.is_none() && names_unknown_record(pr.field.as_deref(), &pr.message);
            if !outside && !unjudged {
                problems.push(InputProblem::new(
                    pr.place.to_string(),
                    pr.field.clone(),
                    pr.message.clone(),
                ));
            }
        }
    }
    for (i, c) in p.customers.iter().enumerate() {
        if has_control(&c.id) {
            problems.push(problem(
                Place::json("customers", i, None).to_string(),
                "id",
                "must not contain control characters",
            ));
        }
    }
    // Each customer's total so far (stored invoices), then with the request's new ones.
    let mut totals: BTreeMap<String, Option<Decimal>> = BTreeMap::new();
    for (i, inv) in p.invoices.iter().enumerate() {
        let path = Place::json("invoices", i, Some(&inv.id)).to_string();
        if has_control(&inv.id) {
            problems.push(problem(
                path.clone(),
                "id",
                "must not contain control characters",
            ));
        }
        let Some(w) = w.as_deref_mut() else {
            continue;
        };
        if let Some(stored) = w.invoice(&inv.id)? {
            if same_invoice(stored, inv) {
                plan.unchanged.insert(inv.id.clone());
            } else {
                problems.push(problem(
                    path,
                    "id",
                    format!("invoice \"{}\" already exists with other values (invoices do not change: send events)", inv.id),
                ));
            }
            continue;
        }
        if inv.amount <= Decimal::ZERO || inv.amount > portfolio::MAX_AMOUNT {
            continue; // refused by `portfolio::validate`
        }
        let total = match totals.get(&inv.customer) {
            Some(t) => *t,
            None => Some(w.issued_total(&inv.customer)?),
        };
        let limit = max_customer_total();
        let next = total
            .and_then(|t| t.checked_add(inv.amount))
            .filter(|t| *t <= limit);
        if total.is_some() && next.is_none() {
            problems.push(problem(
                path,
                "amount",
                format!(
                    "customer \"{}\"'s invoices would total more than {limit} (the engine's sums \
                     must not overflow)",
                    inv.customer
                ),
            ));
        }
        totals.insert(inv.customer.clone(), next);
    }
    for (i, ev) in p.events.iter().enumerate() {
        let path = Place::json("events", i, Some(ev.kind.type_name())).to_string();
        if ev.date > today {
            problems.push(problem(
                path.clone(),
                "date",
                format!("{} is in the future (today is {today})", ev.date),
            ));
        }
        if let Some(id) = ev.kind.invoice() {
            let issued = match (p.invoices.iter().find(|x| x.id == id), w.as_deref_mut()) {
                (Some(x), _) => Some(x.issued),
                (None, Some(w)) => w.invoice(id)?.map(|x| x.issued),
                (None, None) => None,
            };
            if let Some(issued) = issued.filter(|d| *d > today) {
                problems.push(problem(
                    path.clone(),
                    "invoice",
                    format!(
                        "invoice \"{id}\" is issued on {issued}: it has no case before that day"
                    ),
                ));
            }
            if let Some(issued) = issued.filter(|d| ev.date < *d) {
                problems.push(problem(
                    path,
                    "date",
                    format!(
                        "{} is before the issue date of invoice \"{id}\" ({issued})",
                        ev.date
                    ),
                ));
            }
        }
    }
    Ok((plan, problems))
}

fn same_invoice(a: &Invoice, b: &Invoice) -> bool {
    a == b
}

/// Customers only: the portfolio checks on their own.
pub fn check_customers(customers: &[Customer]) -> Result<(), DaemonError> {
    let p = Portfolio {
        customers: customers.to_vec(),
        ..Portfolio::default()
    };
    let mut problems: Vec<InputProblem> = match portfolio::validate(&p) {
        Ok(()) => Vec::new(),
        Err(e) => e
            .problems()
            .iter()
            .map(|pr| InputProblem::new(pr.place.to_string(), pr.field.clone(), &pr.message))
            .collect(),
    };
    for (i, c) in customers.iter().enumerate() {
        if has_control(&c.id) {
            problems.push(problem(
                Place::json("customers", i, None).to_string(),
                "id",
                "must not contain control characters",
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DaemonError::Invalid(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(address: serde_json::Value) -> Customer {
        serde_json::from_value(serde_json::json!({
            "id": "ACME", "contacts": {"legal": {"address": address}}
        }))
        .expect("a customer as the API parses it")
    }

    #[test]
    fn an_address_is_an_object_or_a_legacy_string_and_its_country_is_checked() {
        let legacy = customer(serde_json::json!("1 rue A\n75001 Paris"));
        assert_eq!(
            legacy.contacts["legal"]
                .address
                .as_ref()
                .map(|a| (a.lines.clone(), a.postcode.clone())),
            Some((vec!["1 rue A".to_string(), "75001 Paris".to_string()], None))
        );
        let object = customer(serde_json::json!({
            "lines": ["1 rue A"], "postcode": "75001", "city": "Paris", "country": "FR"
        }));
        assert!(check_customers(&[legacy]).is_ok());
        assert!(check_customers(&[object]).is_ok());
        let bad = customer(serde_json::json!({"lines": ["1 rue A"], "country": "France"}));
        let Err(DaemonError::Invalid(problems)) = check_customers(&[bad]) else {
            panic!("a bad country is refused");
        };
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "customers[0] (ACME)");
        assert_eq!(
            problems[0].field.as_deref(),
            Some("contacts.legal.address.country")
        );
    }
}
