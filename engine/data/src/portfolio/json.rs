//! The case JSON of `relance simulate --case FILE`: `{"from", "customers", "invoices", "events"}`.
//!
//! This module owns reading that document into a [`Portfolio`] (the contract is in
//! `docs/DATA.md` and the design brief): it is strict, so a typo never silently drops data —
//! unknown keys are errors at every level, with a "did you mean"; amounts are decimal strings
//! (whole JSON numbers are accepted too, fractional ones are refused because they went through
//! binary floating point); `risk_score` and `payment_terms_days` may be JSON numbers or numeric
//! strings; a contact's `address` is an object (`lines`, `postcode`, `city`, `country`) or, as
//! older data wrote it, a string of lines (postcode and city then stay empty). Errors name the record and field (`invoices[2] (F-3).due: invalid date …`), syntax
//! errors the line and column. It must not interpret the data beyond its shape; the invariants
//! are [`validate`]'s, which [`from_json`] calls.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::scalar::{parse_date, parse_days, parse_decimal, parse_integer};
use super::suggest::{did_you_mean, hint};
use super::{Place, PortfolioError, Problem, validate};
use relance_core::domain::{
    Contact, Customer, Event, EventKind, Invoice, Portfolio, PostalAddress, Segment, Standing,
};
use relance_core::payment::{PaymentDetails, PaymentMeans, ReversalReason};

const TOP_KEYS: &[&str] = &["from", "customers", "invoices", "events"];
const CUSTOMER_KEYS: &[&str] = &[
    "id",
    "name",
    "segment",
    "risk_score",
    "credit_insured",
    "tags",
    "language",
    "payment_terms_days",
    "contacts",
    "scenario",
    "payment_terms",
    "insurer",
    "credit_cover",
    "credit_limit",
    "late_interest_rate",
];
const CONTACT_KEYS: &[&str] = &["name", "email", "phone", "address"];
const ADDRESS_KEYS: &[&str] = &["lines", "postcode", "city", "country"];
const INVOICE_KEYS: &[&str] = &[
    "id",
    "customer",
    "amount",
    "currency",
    "issued",
    "due",
    "outstanding",
    "po_number",
    "dunning_step",
    "dunning_date",
    "dunning_attempts",
    "catch_up",
    "payment_terms",
    "delivered_on",
    "payment_means",
    "late_interest_rate",
    "installments",
];

/// The event types and the keys each accepts besides `date` and `type`.
const EVENT_TYPES: &[(&str, &[&str])] = &[
    (
        "payment",
        &[
            "invoice",
            "amount",
            "reference",
            "means",
            "payer_iban",
            "end_to_end_id",
            "remittance_date",
        ],
    ),
    (
        "dispute_opened",
        &["invoice", "code", "amount", "target_date", "comment"],
    ),
    ("dispute_resolved", &["invoice", "comment"]),
    ("promise_made", &["invoice", "promised_date", "amount"]),
    ("credit_note", &["invoice", "amount"]),
    ("write_off", &["invoice", "reason"]),
    ("risk_changed", &["customer", "risk_score"]),
    ("task_outcome", &["invoice", "outcome", "promised_date"]),
    ("contact_bounced", &["customer", "role"]),
    ("tag_added", &["customer", "tag"]),
    ("tag_removed", &["customer", "tag"]),
    ("write_off_reversed", &["invoice", "reason"]),
    ("payment_failed", &["invoice", "reason"]),
    (
        "scenario_changed",
        &["invoice", "scenario", "step", "by", "because"],
    ),
    (
        "insolvency_opened",
        &["customer", "procedure", "judgment_on", "published_on"],
    ),
    ("insolvency_closed", &["customer", "reason"]),
    ("due_date_extended", &["invoice", "to"]),
    (
        "payment_reversed",
        &["invoice", "amount", "reason", "reference", "payment_date"],
    ),
];

/// Reads and validates a case JSON.
///
/// Errors: [`PortfolioError::JsonSyntax`] with the line and column when the text is not JSON;
/// [`PortfolioError::Invalid`] naming the record and field for a wrong shape (the first one) or
/// for broken invariants (all of them, see [`validate`]).
pub fn from_json(text: &str) -> Result<Portfolio, PortfolioError> {
    let value: Value = serde_json::from_str(text).map_err(|error| {
        let message = error.to_string();
        // serde_json appends " at line L column C"; the variant carries them separately.
        let message = match message.rfind(" at line ") {
            Some(cut) => message[..cut].to_string(),
            None => message,
        };
        PortfolioError::JsonSyntax {
            line: error.line(),
            column: error.column(),
            message,
        }
    })?;
    let portfolio = read_portfolio(&value)?;
    validate(&portfolio)?;
    Ok(portfolio)
}

fn read_portfolio(value: &Value) -> Result<Portfolio, PortfolioError> {
    let Value::Object(map) = value else {
        return Err(PortfolioError::one(Problem::new(
            Place::json_top(),
            None,
            format!(
                "the case must be a JSON object with \"customers\", \"invoices\" and \"events\", found {}",
                describe(value)
            ),
        )));
    };
    let top = Record::new(
        map,
        Place::json_top(),
        String::new(),
        TOP_KEYS,
        Keys::TopLevel,
    )?;
    let from = top.date_opt("from")?;
    let customers = top
        .array("customers")?
        .iter()
        .enumerate()
        .map(|(index, value)| read_customer(index, value))
        .collect::<Result<Vec<_>, _>>()?;
    let invoices = top
        .array("invoices")?
        .iter()
        .enumerate()
        .map(|(index, value)| read_invoice(index, value))
        .collect::<Result<Vec<_>, _>>()?;
    let events = top
        .array("events")?
        .iter()
        .enumerate()
        .map(|(index, value)| read_event(index, value))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Portfolio {
        from,
        customers,
        invoices,
        events,
    })
}

/// The object of record `index` in `collection`, labelled by its `label_key` when that is a
/// string.
fn element<'a>(
    collection: &'static str,
    index: usize,
    value: &'a Value,
    label_key: &str,
) -> Result<(&'a Map<String, Value>, Place), PortfolioError> {
    match value {
        Value::Object(map) => {
            let label = map.get(label_key).and_then(Value::as_str);
            Ok((map, Place::json(collection, index, label)))
        }
        other => Err(PortfolioError::one(Problem::new(
            Place::json(collection, index, None),
            None,
            format!("expected an object, found {}", describe(other)),
        ))),
    }
}

fn read_customer(index: usize, value: &Value) -> Result<Customer, PortfolioError> {
    let (map, place) = element("customers", index, value, "id")?;
    let r = Record::new(map, place, String::new(), CUSTOMER_KEYS, Keys::Field)?;
    let mut customer = Customer::new(r.string("id")?);
    customer.name = r.string_opt("name")?.map(str::to_string);
    if let Some(text) = r.string_opt("segment")? {
        customer.segment = Segment::parse(text).ok_or_else(|| {
            r.error(
                "segment",
                format!("unknown segment \"{text}\" (expected b2b, b2c or public)"),
            )
        })?;
    }
    if let Some(score) = r.integer_opt("risk_score")? {
        customer.risk_score = score;
    }
    if let Some(insured) = r.bool_opt("credit_insured")? {
        customer.credit_insured = insured;
    }
    if let Some(tags) = r.get("tags") {
        let Value::Array(items) = tags else {
            return Err(r.error("tags", expected("an array of strings", tags)));
        };
        customer.tags = items
            .iter()
            .enumerate()
            .map(|(i, tag)| {
                tag.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| r.error(&format!("tags[{i}]"), expected("a string", tag)))
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(language) = r.string_opt("language")? {
        customer.language = language.to_string();
    }
    customer.payment_terms_days = r.days_opt("payment_terms_days")?;
    customer.payment_terms = r.terms_opt("payment_terms")?;
    if let Some(contacts) = r.get("contacts") {
        customer.contacts = read_contacts(&r, contacts)?;
    }
    customer.scenario = r.string_opt("scenario")?.map(str::to_string);
    customer.credit_cover = super::cover::read(
        r.string_opt("insurer")?,
        r.string_opt("credit_cover")?,
        r.amount_opt("credit_limit")?,
    )
    .map_err(|(field, message)| r.error(field, message))?;
    customer.late_interest_rate = r.rate_opt("late_interest_rate")?;
    Ok(customer)
}

fn read_contacts(
    customer: &Record<'_>,
    value: &Value,
) -> Result<BTreeMap<String, Contact>, PortfolioError> {
    let Value::Object(roles) = value else {
        return Err(customer.error(
            "contacts",
            expected(
                "an object of contacts by role, such as {\"accounting\": {\"email\": …}}",
                value,
            ),
        ));
    };
    let mut contacts = BTreeMap::new();
    for (role, value) in roles {
        let path = format!("contacts.{role}");
        let Value::Object(map) = value else {
            return Err(customer.error(&path, expected("an object", value)));
        };
        let r = Record::new(
            map,
            customer.place.clone(),
            path,
            CONTACT_KEYS,
            Keys::Contact,
        )?;
        let text = |key: &str| r.string_opt(key).map(|v| v.map(str::to_string));
        let contact = Contact {
            name: text("name")?,
            email: text("email")?,
            phone: text("phone")?,
            address: read_address(&r)?,
        };
        contacts.insert(role.clone(), contact);
    }
    Ok(contacts)
}

/// A contact's `address`: an object `{"lines", "postcode", "city", "country"}`, or (older
/// data) a string of lines separated by `\n`, whose postcode and city are left empty.
fn read_address(contact: &Record<'_>) -> Result<Option<PostalAddress>, PortfolioError> {
    let address = match contact.get("address") {
        None => return Ok(None),
        Some(Value::String(text)) => PostalAddress::from_text(text),
        Some(Value::Object(map)) => {
            let r = Record::new(
                map,
                contact.place.clone(),
                format!("{}.address", contact.prefix),
                ADDRESS_KEYS,
                Keys::Address,
            )?;
            let lines = match r.get("lines") {
                None => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, line)| {
                        line.as_str().map(str::to_string).ok_or_else(|| {
                            r.error(&format!("lines[{i}]"), expected("a string", line))
                        })
                    })
                    .collect::<Result<_, _>>()?,
                Some(other) => {
                    return Err(r.error("lines", expected("an array of strings", other)));
                }
            };
            let text = |key: &str| r.string_opt(key).map(|v| v.map(str::to_string));
            PostalAddress {
                lines,
                postcode: text("postcode")?,
                city: text("city")?,
                country: text("country")?,
            }
        }
        Some(other) => {
            return Err(contact.error(
                "address",
                expected(
                    "an object {\"lines\": […], \"postcode\", \"city\", \"country\"} or a string",
                    other,
                ),
            ));
        }
    };
    Ok(address.non_empty())
}

fn read_invoice(index: usize, value: &Value) -> Result<Invoice, PortfolioError> {
    let (map, place) = element("invoices", index, value, "id")?;
    let r = Record::new(map, place, String::new(), INVOICE_KEYS, Keys::Field)?;
    let issued = r.date("issued")?;
    let payment_terms = r.terms_opt("payment_terms")?;
    let delivered_on = r.date_opt("delivered_on")?;
    // Without a due date, the invoice's own terms give it. A case JSON's customer terms are
    // not a fallback here (only the CSV data folder has one): the due date is then required,
    // as before terms existed.
    let amount = r.amount("amount")?;
    let installments = r.installments_opt("installments", amount)?;
    let due = match (r.date_opt("due")?, payment_terms) {
        (Some(due), _) => due,
        // Without a due date, an invoice with installments is due on the last one.
        (None, _) if !installments.is_empty() => installments[installments.len() - 1].due,
        (None, Some(t)) => t
            .due_date(issued, delivered_on)
            .map_err(|e| r.error("payment_terms", e.to_string()))?,
        (None, None) => r.date("due")?,
    };
    Ok(Invoice {
        id: r.string("id")?.to_string(),
        customer: r.string("customer")?.to_string(),
        amount,
        currency: r.string_opt("currency")?.unwrap_or("EUR").to_string(),
        issued,
        due,
        outstanding: r.amount_opt("outstanding")?,
        po_number: r.string_opt("po_number")?.map(str::to_string),
        payment_terms,
        delivered_on,
        dunning: Standing {
            step: r.string_opt("dunning_step")?.map(str::to_string),
            date: r.date_opt("dunning_date")?,
            attempts: r.days_opt("dunning_attempts")?,
            catch_up: r
                .string_opt("catch_up")?
                .map(|t| t.parse().map_err(|e: String| r.error("catch_up", e)))
                .transpose()?,
        },
        payment_means: r.means_opt("payment_means")?,
        late_interest_rate: r.rate_opt("late_interest_rate")?,
        installments: {
            relance_core::domain::Installment::check_plan_opt(&installments, amount, due)
                .map_err(|e| r.error("installments", e))?;
            installments
        },
    })
}

fn read_event(index: usize, value: &Value) -> Result<Event, PortfolioError> {
    let (map, place) = element("events", index, value, "type")?;
    let untyped = || Place::json("events", index, None);
    let type_name = match map.get("type") {
        Some(Value::String(text)) => text.as_str(),
        None | Some(Value::Null) => {
            return Err(PortfolioError::one(Problem::new(
                untyped(),
                Some("type"),
                "missing (every event has a type such as \"payment\")",
            )));
        }
        Some(other) => {
            return Err(PortfolioError::one(Problem::new(
                untyped(),
                Some("type"),
                expected("a string", other),
            )));
        }
    };
    let Some(&(_, specific)) = EVENT_TYPES.iter().find(|(name, _)| *name == type_name) else {
        let mut budget = usize::MAX;
        let suggestion = did_you_mean(type_name, EVENT_TYPES.iter().map(|(n, _)| *n), &mut budget);
        return Err(PortfolioError::one(Problem::new(
            untyped(),
            Some("type"),
            format!(
                "unknown event type \"{type_name}\"{}; expected one of {}",
                hint(suggestion),
                EVENT_TYPES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )));
    };
    let keys: Vec<&str> = ["date", "type"].iter().chain(specific).copied().collect();
    let r = Record::new(map, place, String::new(), &keys, Keys::Event(type_name))?;
    let date = r.date("date")?;
    let invoice = || r.string("invoice").map(str::to_string);
    let customer = || r.string("customer").map(str::to_string);
    let text_opt = |key: &str| r.string_opt(key).map(|v| v.map(str::to_string));
    let kind = match type_name {
        "payment" => EventKind::Payment {
            invoice: invoice()?,
            amount: r.amount("amount")?,
            reference: text_opt("reference")?,
            details: PaymentDetails {
                means: r.means_opt("means")?,
                payer_iban: text_opt("payer_iban")?,
                end_to_end_id: text_opt("end_to_end_id")?,
                remittance_date: r.date_opt("remittance_date")?,
            },
        },
        "dispute_opened" => EventKind::DisputeOpened {
            invoice: invoice()?,
            code: r.string("code")?.to_string(),
            amount: r.amount_opt("amount")?,
            target_date: r.date_opt("target_date")?,
            comment: text_opt("comment")?,
        },
        "dispute_resolved" => EventKind::DisputeResolved {
            invoice: invoice()?,
            comment: text_opt("comment")?,
        },
        "promise_made" => EventKind::PromiseMade {
            invoice: invoice()?,
            promised_date: r.date("promised_date")?,
            amount: r.amount_opt("amount")?,
        },
        "credit_note" => EventKind::CreditNote {
            invoice: invoice()?,
            amount: r.amount("amount")?,
        },
        "write_off" => EventKind::WriteOff {
            invoice: invoice()?,
            reason: text_opt("reason")?,
        },
        "risk_changed" => EventKind::RiskChanged {
            customer: customer()?,
            risk_score: r
                .integer_opt("risk_score")?
                .ok_or_else(|| r.missing("risk_score"))?,
        },
        "task_outcome" => EventKind::TaskOutcome {
            invoice: invoice()?,
            outcome: r.string("outcome")?.to_string(),
            promised_date: r.date_opt("promised_date")?,
        },
        "tag_added" => EventKind::TagAdded {
            customer: customer()?,
            tag: r.string("tag")?.to_string(),
        },
        "tag_removed" => EventKind::TagRemoved {
            customer: customer()?,
            tag: r.string("tag")?.to_string(),
        },
        "write_off_reversed" => EventKind::WriteOffReversed {
            invoice: invoice()?,
            reason: text_opt("reason")?,
        },
        "payment_failed" => EventKind::PaymentFailed {
            invoice: invoice()?,
            reason: r.string("reason")?.to_string(),
        },
        "scenario_changed" => EventKind::ScenarioChanged {
            invoice: invoice()?,
            scenario: r.string("scenario")?.to_string(),
            step: text_opt("step")?,
            by: r.string("by")?.to_string(),
            because: r.string("because")?.to_string(),
        },
        "insolvency_opened" => {
            let text = r.string("procedure")?;
            EventKind::InsolvencyOpened {
                customer: customer()?,
                procedure: super::cover::procedure(text)
                    .map_err(|message| r.error("procedure", message))?,
                judgment_on: r.date("judgment_on")?,
                published_on: r.date_opt("published_on")?,
            }
        }
        "insolvency_closed" => EventKind::InsolvencyClosed {
            customer: customer()?,
            reason: text_opt("reason")?,
        },
        "due_date_extended" => EventKind::DueDateExtended {
            invoice: invoice()?,
            to: r.date("to")?,
        },
        "payment_reversed" => EventKind::PaymentReversed {
            invoice: invoice()?,
            amount: r.amount("amount")?,
            reason: r
                .string_opt("reason")?
                .map(|t| ReversalReason::parse(t).map_err(|e| r.error("reason", e)))
                .transpose()?
                .unwrap_or_default(),
            reference: text_opt("reference")?,
            payment_date: r.date_opt("payment_date")?,
        },
        _ => EventKind::ContactBounced {
            customer: customer()?,
            role: r.string("role")?.to_string(),
        },
    };
    Ok(Event { date, kind })
}

/// What the keys of an object are, for the unknown-key message.
#[derive(Clone, Copy)]
enum Keys<'t> {
    TopLevel,
    Field,
    Contact,
    Address,
    /// The keys of an event of this type.
    Event(&'t str),
}

/// Whether `key` is a key of some event type.
fn is_event_key(key: &str) -> bool {
    key == "date" || key == "type" || EVENT_TYPES.iter().any(|(_, keys)| keys.contains(&key))
}

/// One JSON object being read, with the place and key prefix its errors name.
struct Record<'a> {
    map: &'a Map<String, Value>,
    place: Place,
    /// The path of this object inside its record (`contacts.accounting`), or empty.
    prefix: String,
}

impl<'a> Record<'a> {
    /// Wraps `map`, refusing any key outside `known`; `what` says what a key is in the message.
    fn new(
        map: &'a Map<String, Value>,
        place: Place,
        prefix: String,
        known: &[&str],
        what: Keys<'_>,
    ) -> Result<Record<'a>, PortfolioError> {
        let record = Record { map, place, prefix };
        if let Some(key) = map.keys().find(|key| !known.contains(&key.as_str())) {
            let mut budget = usize::MAX;
            let suggestion = hint(did_you_mean(key, known.iter().copied(), &mut budget));
            let expected = known.join(", ");
            let message = match what {
                Keys::Event(type_name) if is_event_key(key) => format!(
                    "field \"{key}\" does not apply to a {type_name} event; expected {expected}"
                ),
                Keys::Event(_) | Keys::Field => {
                    format!("unknown field \"{key}\"{suggestion}; expected {expected}")
                }
                Keys::TopLevel => {
                    format!("unknown top-level key \"{key}\"{suggestion}; expected {expected}")
                }
                Keys::Contact => {
                    format!("unknown contact field \"{key}\"{suggestion}; expected {expected}")
                }
                Keys::Address => {
                    format!("unknown address field \"{key}\"{suggestion}; expected {expected}")
                }
            };
            let field = (!record.prefix.is_empty()).then_some(record.prefix.as_str());
            return Err(PortfolioError::one(Problem::new(
                record.place.clone(),
                field,
                message,
            )));
        }
        Ok(record)
    }

    fn error(&self, field: &str, message: impl Into<String>) -> PortfolioError {
        let path = if self.prefix.is_empty() {
            field.to_string()
        } else {
            format!("{}.{field}", self.prefix)
        };
        PortfolioError::one(Problem::new(self.place.clone(), Some(&path), message))
    }

    fn missing(&self, field: &str) -> PortfolioError {
        self.error(field, "missing (required)")
    }

    /// The value of `field`, treating `null` as absent.
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    fn string_opt(&self, field: &str) -> Result<Option<&'a str>, PortfolioError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.error(field, expected("a string", other))),
        }
    }

    fn string(&self, field: &str) -> Result<&'a str, PortfolioError> {
        self.string_opt(field)?.ok_or_else(|| self.missing(field))
    }

    fn date_opt(&self, field: &str) -> Result<Option<chrono::NaiveDate>, PortfolioError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => parse_date(text)
                .map(Some)
                .map_err(|message| self.error(field, message)),
            Some(other) => Err(self.error(field, expected("a date string \"YYYY-MM-DD\"", other))),
        }
    }

    /// An invoice's installments: their text form (`"2026-01-31 30%; 2026-03-31 rest"`) or
    /// an array of `{"due", "amount"}`; empty when absent.
    fn installments_opt(
        &self,
        field: &str,
        amount: Decimal,
    ) -> Result<Vec<relance_core::domain::Installment>, PortfolioError> {
        use relance_core::domain::Installment;
        match self.get(field) {
            None => Ok(Vec::new()),
            Some(Value::String(text)) => {
                Installment::parse_plan(text, amount).map_err(|e| self.error(field, e))
            }
            Some(v @ Value::Array(_)) => serde_json::from_value::<Vec<Installment>>(v.clone())
                .map_err(|e| {
                    self.error(field, format!("expected [{{\"due\", \"amount\"}}, …]: {e}"))
                }),
            Some(other) => Err(self.error(
                field,
                expected(
                    "a string \"2026-01-31 30%; 2026-03-31 rest\" or an array",
                    other,
                ),
            )),
        }
    }

    fn date(&self, field: &str) -> Result<chrono::NaiveDate, PortfolioError> {
        self.date_opt(field)?.ok_or_else(|| self.missing(field))
    }

    fn amount_opt(&self, field: &str) -> Result<Option<Decimal>, PortfolioError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => parse_decimal(text, false)
                .map(Some)
                .map_err(|message| self.error(field, message)),
            Some(Value::Number(number)) => {
                if let Some(whole) = number.as_i64() {
                    Ok(Some(Decimal::from(whole)))
                } else if let Some(whole) = number.as_u64() {
                    Ok(Some(Decimal::from(whole)))
                } else {
                    Err(self.error(
                        field,
                        format!(
                            "amounts are decimal strings: write \"{number}\" in quotes \
                             (a JSON number with a fraction is binary floating point)"
                        ),
                    ))
                }
            }
            Some(other) => Err(self.error(
                field,
                expected("a decimal string such as \"1200.00\"", other),
            )),
        }
    }

    fn amount(&self, field: &str) -> Result<Decimal, PortfolioError> {
        self.amount_opt(field)?.ok_or_else(|| self.missing(field))
    }

    /// A JSON integer (`20`, `20.0`) or a numeric string (`"20"`).
    fn integer_opt(&self, field: &str) -> Result<Option<i64>, PortfolioError> {
        let wrong = |value: &Value| self.error(field, expected("a whole number such as 20", value));
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => parse_integer(text.trim())
                .map(Some)
                .map_err(|message| self.error(field, message)),
            Some(value @ Value::Number(number)) => match number.as_i64() {
                Some(whole) => Ok(Some(whole)),
                None => match number.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(Some(f as i64)),
                    _ => Err(wrong(value)),
                },
            },
            Some(other) => Err(wrong(other)),
        }
    }

    fn terms_opt(
        &self,
        field: &str,
    ) -> Result<Option<relance_core::terms::PaymentTerms>, PortfolioError> {
        self.string_opt(field)?
            .map(|t| {
                t.parse()
                    .map_err(|e: relance_core::terms::TermsError| self.error(field, e.to_string()))
            })
            .transpose()
    }

    /// A payment means by name (`lcr`, `sepa_direct_debit_b2b` …).
    fn means_opt(&self, field: &str) -> Result<Option<PaymentMeans>, PortfolioError> {
        self.string_opt(field)?
            .map(|t| PaymentMeans::parse(t).map_err(|e| self.error(field, e)))
            .transpose()
    }

    /// A yearly rate in percent, a decimal string (`"12.5"`) or a whole number, 0 to 100.
    fn rate_opt(&self, field: &str) -> Result<Option<Decimal>, PortfolioError> {
        self.amount_opt(field)?
            .map(super::scalar::yearly_rate)
            .transpose()
            .map_err(|message| self.error(field, message))
    }

    fn days_opt(&self, field: &str) -> Result<Option<u32>, PortfolioError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => parse_days(text.trim())
                .map(Some)
                .map_err(|message| self.error(field, message)),
            Some(value @ Value::Number(number)) => number
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| self.error(field, expected("a number of days such as 30", value))),
            Some(other) => Err(self.error(field, expected("a number of days such as 30", other))),
        }
    }

    fn bool_opt(&self, field: &str) -> Result<Option<bool>, PortfolioError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(self.error(field, expected("true or false", other))),
        }
    }

    /// The array under `field` (absent or `null` reads as empty).
    fn array(&self, field: &str) -> Result<&'a [Value], PortfolioError> {
        match self.get(field) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.error(field, expected("an array", other))),
        }
    }
}

/// `expected a string, found the number 12`.
fn expected(what: &str, found: &Value) -> String {
    format!("expected {what}, found {}", describe(found))
}

/// A short description of a JSON value for messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => format!("the boolean {flag}"),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) => format!("the string \"{text}\""),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().expect("valid test date")
    }

    fn dec(text: &str) -> Decimal {
        text.parse().expect("valid test decimal")
    }

    /// The error message of a case that must fail.
    fn error_of(text: &str) -> String {
        from_json(text).expect_err(text).to_string()
    }

    const BRIEF_CASE: &str = r#"{
      "customers": [{"id": "ACME", "segment": "b2b", "risk_score": 20, "credit_insured": false,
                     "language": "fr"}],
      "invoices":  [{"id": "F-1", "customer": "ACME", "amount": "1200.00", "currency": "EUR",
                     "issued": "2026-01-01", "due": "2026-01-31"}],
      "events": [
        {"date": "2026-02-05", "type": "dispute_opened", "invoice": "F-1", "code": "logistics"},
        {"date": "2026-02-20", "type": "dispute_resolved", "invoice": "F-1"},
        {"date": "2026-03-01", "type": "payment", "invoice": "F-1", "amount": "1200.00"}
      ]
    }"#;

    #[test]
    fn reads_the_brief_case() {
        let p = from_json(BRIEF_CASE).expect("the brief's case is valid");
        assert_eq!(p.from, None);
        assert_eq!(p.customers.len(), 1);
        let acme = &p.customers[0];
        assert_eq!(acme.id, "ACME");
        assert_eq!(acme.segment, Segment::B2b);
        assert_eq!(acme.risk_score, 20);
        assert_eq!(acme.language, "fr");
        let f1 = &p.invoices[0];
        assert_eq!(f1.amount, dec("1200.00"));
        assert_eq!(f1.amount.to_string(), "1200.00");
        assert_eq!((f1.issued, f1.due), (d("2026-01-01"), d("2026-01-31")));
        assert_eq!(
            p.events[0].kind,
            EventKind::DisputeOpened {
                invoice: "F-1".into(),
                code: "logistics".into(),
                amount: None,
                target_date: None,
                comment: None
            }
        );
        assert_eq!(p.events[2].date, d("2026-03-01"));
        assert_eq!(
            p.events[2].kind,
            EventKind::Payment {
                invoice: "F-1".into(),
                amount: dec("1200.00"),
                reference: None,
                details: Default::default(),
            }
        );
    }

    #[test]
    fn an_address_is_an_object_or_a_legacy_string() {
        let case = |address: &str| {
            format!(
                r#"{{"customers": [{{"id": "ACME", "contacts": {{"legal": {{"address": {address}}}}}}}]}}"#
            )
        };
        let p = from_json(&case(
            r#"{"lines": ["Service juridique", "1 rue A"], "postcode": "75001", "city": "Paris", "country": "FR"}"#,
        ))
        .expect("object");
        assert_eq!(
            p.customers[0].contacts["legal"].address,
            Some(PostalAddress {
                lines: vec!["Service juridique".into(), "1 rue A".into()],
                postcode: Some("75001".into()),
                city: Some("Paris".into()),
                country: Some("FR".into()),
            })
        );
        let p = from_json(&case(r#""1 rue A\n75001 Paris""#)).expect("legacy string");
        assert_eq!(
            p.customers[0].contacts["legal"].address,
            Some(PostalAddress::from_text("1 rue A\n75001 Paris"))
        );
        let err = |address: &str| from_json(&case(address)).expect_err("refused").to_string();
        assert_eq!(
            err(r#"{"lines": [], "country": "France"}"#),
            "customers[0] (ACME).contacts.legal.address.country: must be two upper-case letters (ISO 3166-1 alpha-2) such as \"FR\", found \"France\""
        );
        assert!(
            err(r#"{"zip": "75001"}"#).starts_with(
                "customers[0] (ACME).contacts.legal.address: unknown address field \"zip\""
            ),
            "{}",
            err(r#"{"zip": "75001"}"#)
        );
        assert!(
            err(r#"{"lines": [1]}"#).starts_with(
                "customers[0] (ACME).contacts.legal.address.lines[0]: expected a string"
            ),
            "{}",
            err(r#"{"lines": [1]}"#)
        );
    }

    #[test]
    fn reads_the_changes_after_the_start_and_writes_them_back_the_same() {
        let text = r#"{
          "customers": [{"id": "ACME"}],
          "invoices": [{"id": "F-1", "customer": "ACME", "amount": "100", "issued": "2026-01-01", "due": "2026-01-31"}],
          "events": [
            {"date": "2026-02-01", "type": "tag_added", "customer": "ACME", "tag": "vip"},
            {"date": "2026-02-02", "type": "tag_removed", "customer": "ACME", "tag": "vip"},
            {"date": "2026-02-03", "type": "payment_failed", "invoice": "F-1", "reason": "DO_NOT_HONOR"},
            {"date": "2026-02-04", "type": "write_off_reversed", "invoice": "F-1"},
            {"date": "2026-02-05", "type": "scenario_changed", "invoice": "F-1", "scenario": "strict",
             "step": "notice", "by": "marie", "because": "key account"}
          ]
        }"#;
        let p = from_json(text).expect("valid");
        let types: Vec<&str> = p.events.iter().map(|e| e.kind.type_name()).collect();
        assert_eq!(
            types,
            [
                "tag_added",
                "tag_removed",
                "payment_failed",
                "write_off_reversed",
                "scenario_changed"
            ]
        );
        // The serde form (the daemon's event log and API) reads back the same.
        let json = serde_json::to_string(&p).expect("json");
        assert_eq!(from_json(&json).expect("again"), p);
        let err = from_json(
            r#"{"customers": [{"id": "ACME"}],
                "invoices": [{"id": "F-1", "customer": "ACME", "amount": "100", "issued": "2026-01-01", "due": "2026-01-31"}],
                "events": [{"date": "2026-02-05", "type": "scenario_changed", "invoice": "F-1", "scenario": "strict", "by": "marie"}]}"#,
        )
        .expect_err("no because")
        .to_string();
        assert!(
            err.contains("events[0] (scenario_changed).because: missing"),
            "{err}"
        );
    }

    #[test]
    fn reads_every_field_and_event_type() {
        let text = r#"{
          "from": "2026-02-01",
          "customers": [{
            "id": "ACME", "name": "Acme SA", "segment": "public", "risk_score": "35",
            "credit_insured": true, "tags": ["strategic", "export"], "language": "en",
            "payment_terms_days": 45, "scenario": "high-risk",
            "contacts": {"accounting": {"name": "Ana", "email": "ap@acme.test",
                                        "phone": "+33 1 00 00 00 00", "address": "1 rue A\n75001 Paris"}}
          }],
          "invoices": [{"id": "F-1", "customer": "ACME", "amount": 1500, "currency": "USD",
                        "issued": "2026-01-01", "due": "2026-01-31", "outstanding": "700.50",
                        "po_number": "PO-9"}],
          "events": [
            {"date": "2026-02-01", "type": "payment", "invoice": "F-1", "amount": "10", "reference": "VIR-1"},
            {"date": "2026-02-02", "type": "dispute_opened", "invoice": "F-1", "code": "logistics/missing-delivery-note",
             "amount": "100.00", "target_date": "2026-03-01", "comment": "no POD"},
            {"date": "2026-02-03", "type": "dispute_resolved", "invoice": "F-1", "comment": "ok"},
            {"date": "2026-02-04", "type": "promise_made", "invoice": "F-1", "promised_date": "2026-02-20", "amount": "200"},
            {"date": "2026-02-05", "type": "credit_note", "invoice": "F-1", "amount": "5.5"},
            {"date": "2026-02-06", "type": "write_off", "invoice": "F-1", "reason": "too small"},
            {"date": "2026-02-07", "type": "risk_changed", "customer": "ACME", "risk_score": 80},
            {"date": "2026-02-08", "type": "task_outcome", "invoice": "F-1", "outcome": "promise", "promised_date": "2026-02-28"},
            {"date": "2026-02-09", "type": "contact_bounced", "customer": "ACME", "role": "accounting"}
          ]
        }"#;
        let p = from_json(text).expect("valid");
        assert_eq!(p.from, Some(d("2026-02-01")));
        let acme = &p.customers[0];
        assert_eq!(acme.name.as_deref(), Some("Acme SA"));
        assert_eq!(acme.segment, Segment::Public);
        assert_eq!(acme.risk_score, 35);
        assert!(acme.credit_insured);
        assert_eq!(acme.tags, ["strategic", "export"]);
        assert_eq!(acme.payment_terms_days, Some(45));
        assert_eq!(acme.scenario.as_deref(), Some("high-risk"));
        let accounting = &acme.contacts["accounting"];
        assert_eq!(accounting.email.as_deref(), Some("ap@acme.test"));
        // The legacy string form: lines only, postcode and city not guessed.
        let address = accounting.address.as_ref().expect("an address");
        assert_eq!(address.lines, ["1 rue A", "75001 Paris"]);
        assert_eq!((&address.postcode, &address.city), (&None, &None));
        let f1 = &p.invoices[0];
        assert_eq!((f1.amount, f1.currency.as_str()), (dec("1500"), "USD"));
        assert_eq!(f1.outstanding, Some(dec("700.50")));
        assert_eq!(f1.po_number.as_deref(), Some("PO-9"));
        let types: Vec<&str> = p.events.iter().map(|e| e.kind.type_name()).collect();
        assert_eq!(
            types,
            [
                "payment",
                "dispute_opened",
                "dispute_resolved",
                "promise_made",
                "credit_note",
                "write_off",
                "risk_changed",
                "task_outcome",
                "contact_bounced"
            ]
        );
        assert_eq!(
            p.events[5].kind,
            EventKind::WriteOff {
                invoice: "F-1".into(),
                reason: Some("too small".into())
            }
        );
        assert_eq!(
            p.events[6].kind,
            EventKind::RiskChanged {
                customer: "ACME".into(),
                risk_score: 80
            }
        );
    }

    #[test]
    fn defaults_and_nulls() {
        let p = from_json(
            r#"{"customers": [{"id": "A", "name": null}],
                "invoices": [{"id": "F", "customer": "A", "amount": "1", "issued": "2026-01-01",
                              "due": "2026-01-01", "outstanding": null}]}"#,
        )
        .expect("valid");
        let a = &p.customers[0];
        assert_eq!(a, &Customer::new("A"));
        assert_eq!(p.invoices[0].currency, "EUR");
        assert_eq!(p.invoices[0].outstanding, None);
        assert!(p.events.is_empty());
        assert_eq!(from_json("{}").expect("empty case"), Portfolio::default());
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let error =
            from_json("{\n  \"customers\": [\n    {\"id\": \"A\",}\n  ]\n}").expect_err("bad");
        match error {
            PortfolioError::JsonSyntax {
                line,
                column,
                ref message,
            } => {
                assert_eq!((line, column), (3, 16));
                assert_eq!(message, "trailing comma");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            error.to_string(),
            "invalid JSON at line 3, column 16: trailing comma"
        );
        assert!(matches!(
            from_json(""),
            Err(PortfolioError::JsonSyntax {
                line: 1,
                column: 0,
                ..
            })
        ));
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert_eq!(
            error_of(r#"{"invoice": []}"#),
            "unknown top-level key \"invoice\" (did you mean \"invoices\"?); \
             expected from, customers, invoices, events"
        );
        assert_eq!(
            error_of(r#"{"invoices": [{"id": "F-1", "outstandng": "1"}]}"#),
            "invoices[0] (F-1): unknown field \"outstandng\" (did you mean \"outstanding\"?); \
             expected id, customer, amount, currency, issued, due, outstanding, po_number, \
             dunning_step, dunning_date, dunning_attempts, catch_up, payment_terms, delivered_on, \
             payment_means, late_interest_rate, installments"
        );
        assert_eq!(
            error_of(r#"{"customers": [{"id": "A", "contacts": {"accounting": {"mail": "x"}}}]}"#),
            "customers[0] (A).contacts.accounting: unknown contact field \"mail\" \
             (did you mean \"email\"?); expected name, email, phone, address"
        );
        assert_eq!(
            error_of(
                r#"{"events": [{"date": "2026-01-01", "type": "payment", "invoice": "F", "amount": "1", "promised_date": "2026-01-02"}]}"#
            ),
            "events[0] (payment): field \"promised_date\" does not apply to a payment event; \
             expected date, type, invoice, amount, reference, means, payer_iban, end_to_end_id, \
             remittance_date"
        );
    }

    #[test]
    fn a_misspelt_event_key_gets_a_suggestion() {
        assert_eq!(
            error_of(
                r#"{"events": [{"date": "2026-01-01", "type": "promise_made", "invoice": "F", "promised_dat": "2026-01-02"}]}"#
            ),
            "events[0] (promise_made): unknown field \"promised_dat\" (did you mean \"promised_date\"?); \
             expected date, type, invoice, promised_date, amount"
        );
    }

    #[test]
    fn shape_errors_name_record_and_field() {
        let case = |invoice: &str| {
            format!(
                r#"{{"customers": [{{"id": "ACME"}}], "invoices": [{{"id": "F-0", "customer": "ACME", "amount": "1", "issued": "2026-01-01", "due": "2026-01-02"}}, {invoice}]}}"#
            )
        };
        let cases = [
            (
                r#"{"id": "F-1", "customer": "ACME", "amount": "1", "issued": "2026-01-01", "due": "2026-02-30"}"#,
                "invoices[1] (F-1).due: invalid date \"2026-02-30\" (expected YYYY-MM-DD)",
            ),
            (
                r#"{"id": "F-1", "customer": "ACME", "amount": "1", "issued": "2026-01-01"}"#,
                "invoices[1] (F-1).due: missing (required)",
            ),
            (
                r#"{"id": "F-1", "customer": "ACME", "amount": 12.5, "issued": "2026-01-01", "due": "2026-01-02"}"#,
                "invoices[1] (F-1).amount: amounts are decimal strings: write \"12.5\" in quotes \
                 (a JSON number with a fraction is binary floating point)",
            ),
            (
                r#"{"id": "F-1", "customer": "ACME", "amount": "1,5", "issued": "2026-01-01", "due": "2026-01-02"}"#,
                "invoices[1] (F-1).amount: invalid amount \"1,5\" (expected a decimal such as 1200.50)",
            ),
            (
                r#"{"id": 7, "customer": "ACME", "amount": "1", "issued": "2026-01-01", "due": "2026-01-02"}"#,
                "invoices[1].id: expected a string, found the number 7",
            ),
            (r#"[1]"#, "invoices[1]: expected an object, found an array"),
        ];
        for (invoice, expected) in cases {
            assert_eq!(error_of(&case(invoice)), expected, "{invoice}");
        }
    }

    #[test]
    fn customer_and_event_shape_errors() {
        let cases = [
            (
                r#"{"customers": [{"id": "A", "segment": "b2x"}]}"#,
                "customers[0] (A).segment: unknown segment \"b2x\" (expected b2b, b2c or public)",
            ),
            (
                r#"{"customers": [{"id": "A", "risk_score": 20.5}]}"#,
                "customers[0] (A).risk_score: expected a whole number such as 20, found the number 20.5",
            ),
            (
                r#"{"customers": [{"id": "A", "credit_insured": "yes"}]}"#,
                "customers[0] (A).credit_insured: expected true or false, found the string \"yes\"",
            ),
            (
                r#"{"customers": [{"id": "A", "tags": ["x", 1]}]}"#,
                "customers[0] (A).tags[1]: expected a string, found the number 1",
            ),
            (
                r#"{"events": [{"date": "2026-01-01", "type": "paymnet"}]}"#,
                "events[0].type: unknown event type \"paymnet\" (did you mean \"payment\"?); expected one of \
                 payment, dispute_opened, dispute_resolved, promise_made, credit_note, write_off, \
                 risk_changed, task_outcome, contact_bounced, tag_added, tag_removed, \
                 write_off_reversed, payment_failed, scenario_changed, insolvency_opened, \
                 insolvency_closed, due_date_extended, payment_reversed",
            ),
            (
                r#"{"events": [{"date": "2026-01-01", "invoice": "F"}]}"#,
                "events[0].type: missing (every event has a type such as \"payment\")",
            ),
            (
                r#"{"events": [{"type": "write_off", "invoice": "F"}]}"#,
                "events[0] (write_off).date: missing (required)",
            ),
            (
                r#"{"events": [{"date": "2026-01-01", "type": "risk_changed", "customer": "A"}]}"#,
                "events[0] (risk_changed).risk_score: missing (required)",
            ),
            (
                r#"[]"#,
                "the case must be a JSON object with \"customers\", \"invoices\" and \"events\", found an array",
            ),
            (
                r#"{"from": "2026-13-01"}"#,
                "from: invalid date \"2026-13-01\" (expected YYYY-MM-DD)",
            ),
            (
                r#"{"customers": {}}"#,
                "customers: expected an array, found an object",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(error_of(text), expected, "{text}");
        }
    }

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests-data/portfolio")
            .join(name);
        std::fs::read_to_string(&path).expect("fixture exists")
    }

    #[test]
    fn fixture_case_reads() {
        let p = from_json(&fixture("case.json")).expect("valid fixture");
        assert_eq!(p.start(), Some(d("2026-02-01")));
        assert_eq!(p.customers.len(), 2);
        assert_eq!(
            p.customers[0].contacts["sales"].email.as_deref(),
            Some("sales@example.test")
        );
        assert_eq!(p.customers[1].segment, Segment::B2c);
        assert_eq!(p.invoices[1].opening_outstanding(), dec("400.25"));
        assert_eq!(p.events.len(), 5);
    }

    #[test]
    fn fixture_problems_are_all_reported() {
        assert_eq!(
            error_of(&fixture("case-invalid.json")),
            [
                "customers[1] (ACME).id: duplicate customer id \"ACME\" (first defined at customers[0] (ACME))",
                "customers[1] (ACME).risk_score: must be between 0 and 100, found 150",
                "invoices[1] (F-2).amount: must be positive, found 0",
                "invoices[2] (F-3).customer: unknown customer \"ACM\" (did you mean \"ACME\"?)",
                "invoices[2] (F-3).currency: must be three upper-case letters (ISO 4217) such as \"EUR\", found \"euro\"",
                "invoices[2] (F-3).due: due date 2026-01-31 is before the issue date 2026-02-01",
                "invoices[2] (F-3).outstanding: 12.00 exceeds the invoice amount 10.00",
                "events[0] (payment).invoice: unknown invoice \"F-4\" (did you mean \"F-1\"?)",
                "events[0] (payment).amount: must not be negative, found -10.00",
                "events[1] (credit_note).amount: must not be negative, found -1",
                "events[2] (risk_changed).customer: unknown customer \"ACMEE\" (did you mean \"ACME\"?)",
            ]
            .join("\n")
        );
        assert_eq!(
            error_of(&fixture("case-syntax-error.json")),
            "invalid JSON at line 3, column 19: expected `,` or `}`"
        );
    }

    #[test]
    fn validation_runs_after_reading() {
        let text = BRIEF_CASE.replace(r#""customer": "ACME""#, r#""customer": "ACM""#);
        assert_eq!(
            error_of(&text),
            "invoices[0] (F-1).customer: unknown customer \"ACM\" (did you mean \"ACME\"?)"
        );
        let text = BRIEF_CASE.replace(r#""risk_score": 20"#, r#""risk_score": 120"#);
        assert_eq!(
            error_of(&text),
            "customers[0] (ACME).risk_score: must be between 0 and 100, found 120"
        );
    }
}
