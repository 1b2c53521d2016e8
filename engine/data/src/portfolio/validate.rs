//! The invariants a loaded portfolio must satisfy before the engine runs on it.
//!
//! This module owns the checks (unique ids, references that resolve, positive amounts, ISO
//! currencies, ISO country codes of postal addresses, coherent dates, risk scores in 0..=100,
//! at most [`MAX_DUNNING_ATTEMPTS`] sends of a step) and the limits every reader and writer
//! shares ([`check_amount`]: no more decimals than the currency's minor units, at most
//! [`MAX_AMOUNT`] so that no sum of the engine overflows; [`check_year`]: dates from 1900 to
//! 2200), and the wording of their messages; the readers only tell it *where* each record came
//! from (a [`Locate`]), so the same check names `invoices[2] (F-3)` for a case JSON and
//! `data/invoices.csv:4 (F-3)` for a CSV folder. It must not parse anything or read files, and
//! stays linear in the size of the portfolio.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::suggest::{did_you_mean, hint};
use super::{MAX_PROBLEMS, Place, PortfolioError, Problem};
use relance_core::domain::{EventKind, Portfolio, PostalAddress};

/// The largest amount accepted anywhere (10^15 units of any currency). A decimal holds about
/// 7.9 × 10^28: with every amount under this bound, no customer total, outstanding balance or
/// interest the engine computes can overflow.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x0003_8D7E, 0, false, 0);

/// The most times a step may have been sent before the import (`dunning_attempts`): the
/// engine counts every send of a case in `u32`, and no real dunning sends one step more.
pub const MAX_DUNNING_ATTEMPTS: u32 = 10_000;

/// The first and last years a date may fall in.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// How many decimals an amount in `currency` may have: its ISO 4217 minor units (2 unless
/// listed).
pub fn minor_units(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// What is wrong with `amount` (in `currency` when known), if anything: beyond
/// [`MAX_AMOUNT`], or more decimals than the currency has (trailing zeros do not count).
pub fn check_amount(amount: Decimal, currency: Option<&str>) -> Option<String> {
    if amount.abs() > MAX_AMOUNT {
        return Some(format!(
            "too large: at most {MAX_AMOUNT} (so that no total overflows), found {amount}"
        ));
    }
    let currency = currency?;
    let units = minor_units(currency);
    let decimals = amount.normalize().scale();
    (decimals > units)
        .then(|| format!("{amount} has {decimals} decimals, more than {currency} has ({units})"))
}

/// What is wrong with `date`, if anything: a year outside [`YEARS`].
pub fn check_year(date: chrono::NaiveDate) -> Option<String> {
    use chrono::Datelike;
    (!YEARS.contains(&date.year())).then(|| {
        format!(
            "{date} is out of range (years {} to {})",
            YEARS.start(),
            YEARS.end()
        )
    })
}

/// How many candidate comparisons "did you mean" may spend in one validation, so that a
/// million-invoice portfolio full of unknown references still validates quickly.
const SUGGESTION_BUDGET: usize = 2_000_000;

/// Where each record of a portfolio came from.
pub(crate) trait Locate {
    fn customer(&self, index: usize, id: &str) -> Place;
    fn invoice(&self, index: usize, id: &str) -> Place;
    fn event(&self, index: usize, type_name: &str) -> Place;
    /// How a part of a contact's postal address (`country`) is named: the JSON key path.
    fn address_field(&self, role: &str, part: &str) -> String {
        format!("contacts.{role}.address.{part}")
    }
}

/// Records named by their position in the portfolio's vectors, as in the case JSON.
pub(crate) struct JsonPlaces;

impl Locate for JsonPlaces {
    fn customer(&self, index: usize, id: &str) -> Place {
        Place::json("customers", index, Some(id))
    }
    fn invoice(&self, index: usize, id: &str) -> Place {
        Place::json("invoices", index, Some(id))
    }
    fn event(&self, index: usize, type_name: &str) -> Place {
        Place::json("events", index, Some(type_name))
    }
}

/// Problems found so far: the first [`MAX_PROBLEMS`] in full, the rest counted.
pub(crate) struct Problems {
    list: Vec<Problem>,
    omitted: usize,
    suggestion_budget: usize,
}

impl Problems {
    pub(crate) fn new() -> Problems {
        Problems {
            list: Vec::new(),
            omitted: 0,
            suggestion_budget: SUGGESTION_BUDGET,
        }
    }

    /// Records a problem; `make` only runs (and may spend the suggestion budget) when the
    /// problem is kept.
    pub(crate) fn push(&mut self, make: impl FnOnce(&mut usize) -> Problem) {
        if self.list.len() < MAX_PROBLEMS {
            let problem = make(&mut self.suggestion_budget);
            self.list.push(problem);
        } else {
            self.omitted += 1;
        }
    }

    pub(crate) fn finish(self) -> Result<(), PortfolioError> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(PortfolioError::Invalid {
                problems: self.list,
                omitted: self.omitted,
            })
        }
    }
}

/// Checks a portfolio built in memory or read from a case JSON; problems are named after the
/// records' positions (`invoices[2] (F-3).customer: unknown customer "ACM" (did you mean
/// "ACME"?)`). Reports every problem (up to [`MAX_PROBLEMS`]), not only the first.
pub fn validate(portfolio: &Portfolio) -> Result<(), PortfolioError> {
    validate_at(portfolio, &JsonPlaces)
}

/// [`validate`] for events arriving on invoices that already have a history elsewhere (the
/// daemon's store): `paid_before(invoice)` is what was paid on that invoice before the
/// portfolio's events (payments net of reversals), `None` to count from the invoice itself
/// (its amount less its `outstanding`). Used for the reversal check only.
pub fn validate_with_paid(
    portfolio: &Portfolio,
    paid_before: &dyn Fn(&str) -> Option<Decimal>,
) -> Result<(), PortfolioError> {
    let mut problems = Problems::new();
    check_with(portfolio, &JsonPlaces, paid_before, &mut problems);
    problems.finish()
}

/// [`validate`], naming records through `at`.
fn validate_at(portfolio: &Portfolio, at: &dyn Locate) -> Result<(), PortfolioError> {
    let mut problems = Problems::new();
    check_into(portfolio, at, &mut problems);
    problems.finish()
}

/// Adds every broken invariant of `portfolio` to `problems`, naming records through `at`.
pub(crate) fn check_into(portfolio: &Portfolio, at: &dyn Locate, problems: &mut Problems) {
    check_with(portfolio, at, &|_| None, problems);
}

fn check_with(
    portfolio: &Portfolio,
    at: &dyn Locate,
    paid_before: &dyn Fn(&str) -> Option<Decimal>,
    problems: &mut Problems,
) {
    let customers = check_customers(portfolio, at, problems);
    let invoices = check_invoices(portfolio, at, &customers, problems);
    check_events(portfolio, at, &customers, &invoices, problems);
    check_reversals(portfolio, at, &invoices, paid_before, problems);
}

/// A `payment_reversed` takes back at most what was paid on its invoice before it: payments
/// net of earlier reversals, in date order (file order within a day), starting from
/// `paid_before` else from what the invoice's `outstanding` says was paid before the import.
/// Credit notes are not payments and never come back this way.
fn check_reversals(
    portfolio: &Portfolio,
    at: &dyn Locate,
    invoices: &HashMap<&str, usize>,
    paid_before: &dyn Fn(&str) -> Option<Decimal>,
    problems: &mut Problems,
) {
    let mut order: Vec<usize> = (0..portfolio.events.len())
        .filter(|&e| {
            matches!(
                portfolio.events[e].kind,
                EventKind::Payment { .. } | EventKind::PaymentReversed { .. }
            )
        })
        .collect();
    if !order
        .iter()
        .any(|&e| matches!(portfolio.events[e].kind, EventKind::PaymentReversed { .. }))
    {
        return;
    }
    order.sort_by_key(|&e| portfolio.events[e].date);
    let mut paid: HashMap<&str, Decimal> = HashMap::new();
    for e in order {
        let event = &portfolio.events[e];
        let (invoice, amount, reversal) = match &event.kind {
            EventKind::Payment {
                invoice, amount, ..
            } => (invoice.as_str(), *amount, false),
            EventKind::PaymentReversed {
                invoice, amount, ..
            } => (invoice.as_str(), *amount, true),
            _ => continue,
        };
        let net = paid.entry(invoice).or_insert_with(|| {
            paid_before(invoice).unwrap_or_else(|| {
                invoices.get(invoice).map_or(Decimal::ZERO, |&i| {
                    let inv = &portfolio.invoices[i];
                    (inv.amount - inv.opening_outstanding()).max(Decimal::ZERO)
                })
            })
        });
        if !reversal {
            // Saturating: an amount past MAX_AMOUNT is already a problem of its own.
            *net = net.saturating_add(amount.max(Decimal::ZERO));
        } else if amount > *net {
            let before = *net;
            problems.push(|_| {
                Problem::new(
                    at.event(e, event.kind.type_name()),
                    Some("amount"),
                    format!(
                        "reverses {amount}, more than the {before} paid on invoice \"{invoice}\" \
                         before {} (payments net of earlier reversals)",
                        event.date
                    ),
                )
            });
            *net = Decimal::ZERO;
        } else if amount > Decimal::ZERO {
            *net -= amount;
        }
    }
}

/// Checks that `id` is non-empty, trimmed and unique, recording its first occurrence in `seen`.
fn check_id<'a>(
    what: &str,
    id: &'a str,
    seen: &mut HashMap<&'a str, usize>,
    index: usize,
    place: impl Fn(usize) -> Place,
    problems: &mut Problems,
) {
    if id.trim().is_empty() {
        problems.push(|_| Problem::new(place(index), Some("id"), "must not be empty"));
    } else if id.trim() != id {
        problems.push(|_| {
            Problem::new(
                place(index),
                Some("id"),
                format!("{what} id \"{id}\" has leading or trailing spaces"),
            )
        });
    }
    match seen.get(id) {
        Some(&first) => problems.push(|_| {
            Problem::new(
                place(index),
                Some("id"),
                format!(
                    "duplicate {what} id \"{id}\" (first defined at {})",
                    place(first)
                ),
            )
        }),
        None => {
            seen.insert(id, index);
        }
    }
}

fn check_customers<'a>(
    portfolio: &'a Portfolio,
    at: &dyn Locate,
    problems: &mut Problems,
) -> HashMap<&'a str, usize> {
    let mut seen = HashMap::with_capacity(portfolio.customers.len());
    let place = |index: usize| at.customer(index, &portfolio.customers[index].id);
    for (index, customer) in portfolio.customers.iter().enumerate() {
        check_id("customer", &customer.id, &mut seen, index, place, problems);
        if !(0..=100).contains(&customer.risk_score) {
            problems.push(|_| {
                Problem::new(
                    place(index),
                    Some("risk_score"),
                    format!("must be between 0 and 100, found {}", customer.risk_score),
                )
            });
        }
        if let Some(insolvency) = &customer.insolvency {
            for (field, date) in [
                ("judgment_on", Some(insolvency.judgment_on)),
                ("published_on", insolvency.published_on),
            ] {
                if let Some(message) = date.and_then(check_year) {
                    problems.push(|_| Problem::new(place(index), Some(field), message));
                }
            }
        }
        let language = customer.language.as_bytes();
        if language.len() != 2 || !language.iter().all(u8::is_ascii_lowercase) {
            problems.push(|_| {
                Problem::new(
                    place(index),
                    Some("language"),
                    format!(
                        "must be a two-letter lower-case ISO 639-1 code such as \"fr\", found \"{}\"",
                        customer.language
                    ),
                )
            });
        }
        for (role, contact) in &customer.contacts {
            let Some(country) = contact.address.as_ref().and_then(|a| a.country.as_deref()) else {
                continue;
            };
            if let Err(message) = PostalAddress::check_country(country) {
                problems.push(|_| {
                    Problem::new(
                        place(index),
                        Some(&at.address_field(role, "country")),
                        message,
                    )
                });
            }
        }
    }
    seen
}

fn check_invoices<'a>(
    portfolio: &'a Portfolio,
    at: &dyn Locate,
    customers: &HashMap<&str, usize>,
    problems: &mut Problems,
) -> HashMap<&'a str, usize> {
    let mut seen = HashMap::with_capacity(portfolio.invoices.len());
    let place = |index: usize| at.invoice(index, &portfolio.invoices[index].id);
    for (index, invoice) in portfolio.invoices.iter().enumerate() {
        check_id("invoice", &invoice.id, &mut seen, index, place, problems);
        if !customers.contains_key(invoice.customer.as_str()) {
            problems.push(|budget| {
                unknown(
                    place(index),
                    "customer",
                    &invoice.customer,
                    customer_ids(portfolio),
                    budget,
                )
            });
        }
        if invoice.amount <= Decimal::ZERO {
            problems.push(|_| {
                Problem::new(
                    place(index),
                    Some("amount"),
                    format!("must be positive, found {}", invoice.amount),
                )
            });
        }
        let currency = invoice.currency.as_bytes();
        if currency.len() != 3 || !currency.iter().all(u8::is_ascii_uppercase) {
            problems.push(|_| {
                Problem::new(
                    place(index),
                    Some("currency"),
                    format!(
                        "must be three upper-case letters (ISO 4217) such as \"EUR\", found \"{}\"",
                        invoice.currency
                    ),
                )
            });
        }
        for (field, amount) in [
            ("amount", Some(invoice.amount)),
            ("outstanding", invoice.outstanding),
        ] {
            if let Some(message) = amount.and_then(|a| check_amount(a, Some(&invoice.currency))) {
                problems.push(|_| Problem::new(place(index), Some(field), message));
            }
        }
        for (field, date) in [("issued", invoice.issued), ("due", invoice.due)] {
            if let Some(message) = check_year(date) {
                problems.push(|_| Problem::new(place(index), Some(field), message));
            }
        }
        // Installments that do not make the invoice (an API client's array form).
        if let Err(message) = relance_core::domain::Installment::check_plan_opt(
            &invoice.installments,
            invoice.amount,
            invoice.due,
        ) {
            problems.push(|_| Problem::new(place(index), Some("installments"), message));
        }
        if invoice.due < invoice.issued {
            problems.push(|_| {
                Problem::new(
                    place(index),
                    Some("due"),
                    format!(
                        "due date {} is before the issue date {}",
                        invoice.due, invoice.issued
                    ),
                )
            });
        }
        if let Some(outstanding) = invoice.outstanding {
            let message = if outstanding < Decimal::ZERO {
                Some(format!("must not be negative, found {outstanding}"))
            } else if outstanding > invoice.amount {
                Some(format!(
                    "{outstanding} exceeds the invoice amount {}",
                    invoice.amount
                ))
            } else {
                None
            };
            if let Some(message) = message {
                problems.push(|_| Problem::new(place(index), Some("outstanding"), message));
            }
        }
        if let Some((field, message)) = check_standing(invoice) {
            problems.push(|_| Problem::new(place(index), Some(field), message));
        }
    }
    seen
}

/// Where an imported invoice stands (`dunning_step`, `dunning_date`, `dunning_attempts`): the
/// step and its date go together, the date is not before the issue date, attempts are from 1
/// to [`MAX_DUNNING_ATTEMPTS`]. Whether the step exists is the engine's to say (the policy
/// picks the scenario).
fn check_standing(invoice: &relance_core::domain::Invoice) -> Option<(&'static str, String)> {
    let d = &invoice.dunning;
    match (&d.step, d.date) {
        (Some(step), None) => Some((
            "dunning_date",
            format!("missing: the day step \"{step}\" was sent goes with dunning_step"),
        )),
        (None, Some(_)) => Some((
            "dunning_step",
            "missing: dunning_date needs the step it dates".to_string(),
        )),
        (None, None) if d.attempts.is_some() => Some((
            "dunning_step",
            "missing: dunning_attempts counts the sends of a step".to_string(),
        )),
        (Some(step), _) if step.trim().is_empty() => {
            Some(("dunning_step", "must not be empty".to_string()))
        }
        (_, Some(date)) if date < invoice.issued => Some((
            "dunning_date",
            format!("{date} is before the issue date {}", invoice.issued),
        )),
        _ if d.attempts == Some(0) => Some((
            "dunning_attempts",
            "must be at least 1 (leave it out when the step was sent once)".to_string(),
        )),
        _ => d
            .attempts
            .filter(|&attempts| attempts > MAX_DUNNING_ATTEMPTS)
            .map(|attempts| {
                (
                    "dunning_attempts",
                    format!("{attempts} sends of one step: at most {MAX_DUNNING_ATTEMPTS}"),
                )
            }),
    }
}

fn check_events(
    portfolio: &Portfolio,
    at: &dyn Locate,
    customers: &HashMap<&str, usize>,
    invoices: &HashMap<&str, usize>,
    problems: &mut Problems,
) {
    for (index, event) in portfolio.events.iter().enumerate() {
        let kind = &event.kind;
        let place = || at.event(index, kind.type_name());
        if let Some(invoice) = kind.invoice().filter(|id| !invoices.contains_key(id)) {
            problems.push(|budget| {
                let ids = portfolio.invoices.iter().map(|i| i.id.as_str());
                unknown(place(), "invoice", invoice, ids, budget)
            });
        }
        if let Some(customer) = kind.customer().filter(|id| !customers.contains_key(id)) {
            problems.push(|budget| {
                unknown(
                    place(),
                    "customer",
                    customer,
                    customer_ids(portfolio),
                    budget,
                )
            });
        }
        let mut not_negative = |field: &str, amount: Option<&Decimal>| {
            if let Some(amount) = amount.filter(|a| a.is_sign_negative() && !a.is_zero()) {
                problems.push(|_| {
                    Problem::new(
                        place(),
                        Some(field),
                        format!("must not be negative, found {amount}"),
                    )
                });
            }
        };
        let amount = match kind {
            EventKind::Payment { amount, .. } | EventKind::CreditNote { amount, .. } => {
                Some(amount)
            }
            EventKind::PaymentReversed { amount, .. } => Some(amount),
            EventKind::DisputeOpened { amount, .. } | EventKind::PromiseMade { amount, .. } => {
                amount.as_ref()
            }
            _ => None,
        };
        not_negative("amount", amount);
        // The invoice's currency, when the portfolio holds the invoice.
        let currency = kind
            .invoice()
            .and_then(|id| invoices.get(id))
            .map(|&i| portfolio.invoices[i].currency.as_str());
        if let Some(message) = amount.and_then(|a| check_amount(*a, currency)) {
            problems.push(|_| Problem::new(place(), Some("amount"), message));
        }
        let dates = [
            ("date", Some(event.date)),
            (
                "promised_date",
                match kind {
                    EventKind::PromiseMade { promised_date, .. } => Some(*promised_date),
                    EventKind::TaskOutcome { promised_date, .. } => *promised_date,
                    _ => None,
                },
            ),
            (
                "target_date",
                match kind {
                    EventKind::DisputeOpened { target_date, .. } => *target_date,
                    _ => None,
                },
            ),
            (
                "judgment_on",
                match kind {
                    EventKind::InsolvencyOpened { judgment_on, .. } => Some(*judgment_on),
                    _ => None,
                },
            ),
            (
                "published_on",
                match kind {
                    EventKind::InsolvencyOpened { published_on, .. } => *published_on,
                    _ => None,
                },
            ),
            (
                "to",
                match kind {
                    EventKind::DueDateExtended { to, .. } => Some(*to),
                    _ => None,
                },
            ),
            (
                "payment_date",
                match kind {
                    EventKind::PaymentReversed { payment_date, .. } => *payment_date,
                    _ => None,
                },
            ),
            (
                "remittance_date",
                match kind {
                    EventKind::Payment { details, .. } => details.remittance_date,
                    _ => None,
                },
            ),
        ];
        for (field, date) in dates {
            if let Some(message) = date.and_then(check_year) {
                problems.push(|_| Problem::new(place(), Some(field), message));
            }
        }
        let required_text = match kind {
            EventKind::DisputeOpened { code, .. } => Some(("code", code)),
            EventKind::TaskOutcome { outcome, .. } => Some(("outcome", outcome)),
            EventKind::ContactBounced { role, .. } => Some(("role", role)),
            _ => None,
        };
        if let Some((field, _)) = required_text.filter(|(_, text)| text.trim().is_empty()) {
            problems.push(|_| Problem::new(place(), Some(field), "must not be empty"));
        }
        if let EventKind::RiskChanged { risk_score, .. } = kind {
            let risk_score = *risk_score;
            let in_range = (0..=100).contains(&risk_score);
            if !in_range {
                problems.push(|_| {
                    Problem::new(
                        place(),
                        Some("risk_score"),
                        format!("must be between 0 and 100, found {risk_score}"),
                    )
                });
            }
        }
    }
}

fn customer_ids(portfolio: &Portfolio) -> impl Iterator<Item = &str> {
    portfolio.customers.iter().map(|c| c.id.as_str())
}

/// `unknown customer "ACM" (did you mean "ACME"?)` on `field`.
fn unknown<'a>(
    place: Place,
    field: &str,
    id: &str,
    candidates: impl Iterator<Item = &'a str>,
    budget: &mut usize,
) -> Problem {
    let suggestion = did_you_mean(id, candidates, budget);
    Problem::new(
        place,
        Some(field),
        format!("unknown {field} \"{id}\"{}", hint(suggestion)),
    )
    .about_stored_data()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use relance_core::domain::{Customer, Event, Invoice};

    fn d(text: &str) -> NaiveDate {
        text.parse().expect("valid test date")
    }

    fn dec(text: &str) -> Decimal {
        text.parse().expect("valid test decimal")
    }

    fn invoice(id: &str, customer: &str) -> Invoice {
        Invoice {
            id: id.into(),
            customer: customer.into(),
            amount: dec("100.00"),
            currency: "EUR".into(),
            issued: d("2026-01-01"),
            due: d("2026-01-31"),
            outstanding: None,
            po_number: None,
            payment_terms: None,
            delivered_on: None,
            dunning: Default::default(),
            payment_means: None,
            late_interest_rate: None,
            installments: Vec::new(),
        }
    }

    fn event(date: &str, kind: EventKind) -> Event {
        Event {
            date: d(date),
            kind,
        }
    }

    #[test]
    fn amounts_and_dates_are_bounded() {
        assert_eq!(MAX_AMOUNT, dec("1000000000000000"));
        assert_eq!(check_amount(dec("1000000000000000.00"), Some("EUR")), None);
        assert!(check_amount(dec("1000000000000000.01"), None).is_some());
        assert!(check_amount(dec("-1000000000000001"), None).is_some());
        assert_eq!(check_amount(dec("5.010"), Some("EUR")), None);
        assert!(check_amount(dec("5.001"), Some("EUR")).is_some());
        assert!(check_amount(dec("0.5"), Some("JPY")).is_some());
        assert_eq!(check_amount(dec("0.125"), Some("KWD")), None);
        assert_eq!(check_amount(dec("0.001"), None), None);
        assert_eq!(check_year(d("1900-01-01")), None);
        assert_eq!(check_year(d("2200-12-31")), None);
        assert!(check_year(d("1899-12-31")).is_some());
        assert!(check_year(d("2201-01-01")).is_some());
    }

    fn valid() -> Portfolio {
        Portfolio {
            from: None,
            customers: vec![Customer::new("ACME"), Customer::new("BETA")],
            invoices: vec![invoice("F-1", "ACME"), invoice("F-2", "BETA")],
            events: vec![event(
                "2026-02-01",
                EventKind::Payment {
                    invoice: "F-1".into(),
                    amount: dec("100.00"),
                    reference: None,
                    details: Default::default(),
                },
            )],
        }
    }

    fn messages(portfolio: &Portfolio) -> Vec<String> {
        match validate(portfolio) {
            Ok(()) => Vec::new(),
            Err(error) => error.problems().iter().map(Problem::to_string).collect(),
        }
    }

    #[test]
    fn a_valid_portfolio_passes() {
        assert!(validate(&valid()).is_ok());
        assert!(validate(&Portfolio::default()).is_ok());
    }

    #[test]
    fn unknown_customer_with_suggestion() {
        let mut p = valid();
        p.invoices.push(invoice("F-3", "ACM"));
        assert_eq!(
            messages(&p),
            ["invoices[2] (F-3).customer: unknown customer \"ACM\" (did you mean \"ACME\"?)"]
        );
    }

    #[test]
    fn duplicates() {
        let mut p = valid();
        p.customers.push(Customer::new("ACME"));
        p.invoices.push(invoice("F-1", "BETA"));
        assert_eq!(
            messages(&p),
            [
                "customers[2] (ACME).id: duplicate customer id \"ACME\" (first defined at customers[0] (ACME))",
                "invoices[2] (F-1).id: duplicate invoice id \"F-1\" (first defined at invoices[0] (F-1))",
            ]
        );
    }

    #[test]
    fn a_bad_country_code_names_the_contact_and_field() {
        let mut p = valid();
        let address = |country: &str| relance_core::domain::Contact {
            address: Some(PostalAddress {
                lines: vec!["1 rue A".into()],
                country: Some(country.into()),
                ..PostalAddress::default()
            }),
            ..Default::default()
        };
        p.customers[0]
            .contacts
            .insert("accounting".into(), address("FR"));
        p.customers[1]
            .contacts
            .insert("legal".into(), address("Fr"));
        assert_eq!(
            messages(&p),
            [
                "customers[1] (BETA).contacts.legal.address.country: must be two upper-case letters (ISO 3166-1 alpha-2) such as \"FR\", found \"Fr\""
            ]
        );
    }

    #[test]
    fn customer_fields() {
        let mut p = valid();
        p.customers[0].risk_score = 101;
        p.customers[1].risk_score = -1;
        p.customers[1].language = "FR".into();
        p.customers.push(Customer::new(" "));
        assert_eq!(
            messages(&p),
            [
                "customers[0] (ACME).risk_score: must be between 0 and 100, found 101",
                "customers[1] (BETA).risk_score: must be between 0 and 100, found -1",
                "customers[1] (BETA).language: must be a two-letter lower-case ISO 639-1 code such as \"fr\", found \"FR\"",
                "customers[2].id: must not be empty",
            ]
        );
    }

    #[test]
    fn invoice_fields() {
        let mut p = valid();
        p.invoices[0].amount = Decimal::ZERO;
        p.invoices[0].currency = "eur".into();
        p.invoices[1].due = d("2025-12-31");
        p.invoices[1].outstanding = Some(dec("150"));
        let mut negative = invoice("F-3", "ACME");
        negative.amount = dec("-5");
        negative.outstanding = Some(dec("-1"));
        negative.currency = "EURO".into();
        p.invoices.push(negative);
        assert_eq!(
            messages(&p),
            [
                "invoices[0] (F-1).amount: must be positive, found 0",
                "invoices[0] (F-1).currency: must be three upper-case letters (ISO 4217) such as \"EUR\", found \"eur\"",
                "invoices[1] (F-2).due: due date 2025-12-31 is before the issue date 2026-01-01",
                "invoices[1] (F-2).outstanding: 150 exceeds the invoice amount 100.00",
                "invoices[2] (F-3).amount: must be positive, found -5",
                "invoices[2] (F-3).currency: must be three upper-case letters (ISO 4217) such as \"EUR\", found \"EURO\"",
                "invoices[2] (F-3).outstanding: must not be negative, found -1",
            ]
        );
    }

    #[test]
    fn event_fields() {
        let mut p = valid();
        p.events = vec![
            event(
                "2026-02-01",
                EventKind::Payment {
                    invoice: "F-9".into(),
                    amount: dec("-1"),
                    reference: None,
                    details: Default::default(),
                },
            ),
            event(
                "2026-02-01",
                EventKind::CreditNote {
                    invoice: "F-1".into(),
                    amount: dec("-2"),
                },
            ),
            event(
                "2026-02-01",
                EventKind::RiskChanged {
                    customer: "BETTA".into(),
                    risk_score: 200,
                },
            ),
            event(
                "2026-02-01",
                EventKind::DisputeOpened {
                    invoice: "F-2".into(),
                    code: "".into(),
                    amount: Some(dec("-3")),
                    target_date: None,
                    comment: None,
                },
            ),
            event(
                "2026-02-01",
                EventKind::ContactBounced {
                    customer: "ACME".into(),
                    role: "accounting".into(),
                },
            ),
        ];
        assert_eq!(
            messages(&p),
            [
                "events[0] (payment).invoice: unknown invoice \"F-9\" (did you mean \"F-1\"?)",
                "events[0] (payment).amount: must not be negative, found -1",
                "events[1] (credit_note).amount: must not be negative, found -2",
                "events[2] (risk_changed).customer: unknown customer \"BETTA\" (did you mean \"BETA\"?)",
                "events[2] (risk_changed).risk_score: must be between 0 and 100, found 200",
                "events[3] (dispute_opened).amount: must not be negative, found -3",
                "events[3] (dispute_opened).code: must not be empty",
            ]
        );
    }

    /// Every date an event or a customer's procedure carries is bounded like an invoice's
    /// (hostile-input run: `judgment_on`, `published_on`, an extension's `to`, a reversal's
    /// `payment_date` and a payment's `remittance_date` took 0001-01-01 and 9999-12-31).
    #[test]
    fn every_date_of_an_event_or_a_procedure_is_bounded() {
        let mut p = valid();
        p.customers[0].insolvency = Some(relance_core::insolvency::Insolvency {
            procedure: relance_core::insolvency::Procedure::Sauvegarde,
            judgment_on: d("0001-01-01"),
            published_on: Some(d("9999-12-31")),
        });
        p.events = vec![
            event(
                "2026-02-01",
                EventKind::InsolvencyOpened {
                    customer: "BETA".into(),
                    procedure: relance_core::insolvency::Procedure::Redressement,
                    judgment_on: d("9999-12-31"),
                    published_on: Some(d("0001-01-01")),
                },
            ),
            event(
                "2026-02-01",
                EventKind::DueDateExtended {
                    invoice: "F-1".into(),
                    to: d("9999-12-31"),
                },
            ),
            event(
                "2026-02-01",
                EventKind::Payment {
                    invoice: "F-2".into(),
                    amount: dec("10"),
                    reference: None,
                    details: relance_core::payment::PaymentDetails {
                        remittance_date: Some(d("0001-01-01")),
                        ..Default::default()
                    },
                },
            ),
            event(
                "2026-02-02",
                EventKind::PaymentReversed {
                    invoice: "F-2".into(),
                    amount: dec("10"),
                    reason: Default::default(),
                    reference: None,
                    payment_date: Some(d("9999-12-31")),
                },
            ),
        ];
        let got = messages(&p);
        for field in [
            "customers[0] (ACME).judgment_on",
            "customers[0] (ACME).published_on",
            "events[0] (insolvency_opened).judgment_on",
            "events[0] (insolvency_opened).published_on",
            "events[1] (due_date_extended).to",
            "events[2] (payment).remittance_date",
            "events[3] (payment_reversed).payment_date",
        ] {
            assert!(
                got.iter()
                    .any(|m| m.starts_with(field) && m.contains("out of range")),
                "{field}: {got:?}"
            );
        }
    }

    #[test]
    fn problems_beyond_the_cap_are_counted() {
        let mut p = valid();
        for n in 0..MAX_PROBLEMS + 7 {
            p.invoices.push(invoice(&format!("X-{n}"), "NOBODY"));
        }
        let error = validate(&p).expect_err("invalid");
        assert!(
            matches!(error, PortfolioError::Invalid { ref problems, omitted: 7 }
            if problems.len() == MAX_PROBLEMS)
        );
        assert!(error.to_string().ends_with("… and 7 more problems"));
    }
}
