//! The accounts-receivable domain: customers, contacts, invoices and dated events.
//!
//! These are plain data, read from a case JSON file, CSV files or the HTTP API. This module owns
//! their shape and their validation invariants; it must not know about scenarios, schedules or
//! storage. Money is `rust_decimal::Decimal` (never float), dates are calendar dates.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::payment::{PaymentDetails, PaymentMeans, ReversalReason};
use crate::terms::PaymentTerms;

/// A customer identifier, as the accounting system spells it (`ACME`, `411ACME`).
pub type CustomerId = String;
/// An invoice identifier: its number (`F-2026-0001`).
pub type InvoiceId = String;

/// The debtor's segment: professional debtors (`b2b`, `public`) owe the €40 recovery indemnity,
/// consumers (`b2c`) never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Segment {
    #[default]
    B2b,
    B2c,
    Public,
}

impl Segment {
    /// The segment's name as scenarios compare it (`customer.segment == "b2b"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::B2b => "b2b",
            Segment::B2c => "b2c",
            Segment::Public => "public",
        }
    }

    /// Professional debtors (companies, public bodies) owe the L441-10 indemnity.
    pub fn is_professional(self) -> bool {
        !matches!(self, Segment::B2c)
    }

    /// Parses `b2b`, `b2c` or `public` (any case).
    pub fn parse(text: &str) -> Option<Segment> {
        match text.trim().to_ascii_lowercase().as_str() {
            "b2b" => Some(Segment::B2b),
            "b2c" => Some(Segment::B2c),
            "public" => Some(Segment::Public),
            _ => None,
        }
    }
}

/// One way to reach a person at the customer (or the internal owner of the account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Postal address. In JSON an object (`{"lines", "postcode", "city", "country"}`) or, as
    /// older data wrote it, a string of lines separated by `\n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<PostalAddress>,
}

/// A postal address: street lines, then postcode, city and country, each optional.
///
/// Older data held the whole address as one text; read as [`PostalAddress::from_text`], its
/// lines become `lines` and postcode, city and country stay empty (never guessed from the text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostalAddress {
    /// Street lines (recipient details, number and street, building, PO box…), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 code, two upper-case letters (`FR`, `BE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl PostalAddress {
    /// The legacy one-text form: lines separated by `\n`, each trimmed, empty ones dropped.
    /// Postcode, city and country stay empty.
    pub fn from_text(text: &str) -> PostalAddress {
        PostalAddress {
            lines: text
                .split('\n')
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_string)
                .collect(),
            ..PostalAddress::default()
        }
    }

    /// Whether every part is empty.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
            && self.postcode.is_none()
            && self.city.is_none()
            && self.country.is_none()
    }

    /// `None` for an empty address.
    pub fn non_empty(self) -> Option<PostalAddress> {
        (!self.is_empty()).then_some(self)
    }

    /// Checks an ISO 3166-1 alpha-2 country code: two upper-case ASCII letters.
    pub fn check_country(code: &str) -> Result<(), String> {
        let b = code.as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(())
        } else {
            Err(format!(
                "must be two upper-case letters (ISO 3166-1 alpha-2) such as \"FR\", found \"{code}\""
            ))
        }
    }
}

/// The object form of a postal address, as read (unknown keys refused).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddressFields {
    #[serde(default)]
    lines: Vec<String>,
    #[serde(default)]
    postcode: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    country: Option<String>,
}

impl<'de> Deserialize<'de> for PostalAddress {
    /// An object `{"lines", "postcode", "city", "country"}`, or a legacy string of lines.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PostalAddress, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = PostalAddress;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a postal address: an object with lines, postcode, city and country, \
                     or a string of lines separated by \\n",
                )
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<PostalAddress, E> {
                Ok(PostalAddress::from_text(text))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<PostalAddress, A::Error> {
                let f =
                    AddressFields::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(PostalAddress {
                    lines: f.lines,
                    postcode: f.postcode,
                    city: f.city,
                    country: f.country,
                })
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A debtor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub segment: Segment,
    /// 0 (safe) to 100 (about to default).
    #[serde(default)]
    pub risk_score: i64,
    #[serde(default)]
    pub credit_insured: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// ISO 639-1 language of the customer's messages (`fr`, `en`).
    #[serde(default = "default_language")]
    pub language: String,
    /// Payment terms in days from the invoice date, when the customer has specific terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms_days: Option<u32>,
    /// The customer's payment terms (`45 days end of month` …, see [`crate::terms`]); when
    /// absent, `payment_terms_days` is read as `net N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "45 days end of month"))]
    pub payment_terms: Option<PaymentTerms>,
    /// Contacts by role (`accounting`, `operations`, `legal`, `sales` …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contacts: BTreeMap<String, Contact>,
    /// A scenario name that overrides the policy for this customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// The collective procedure the customer is under, if any (set by the
    /// `insolvency_opened` event, cleared by `insolvency_closed`; see [`crate::insolvency`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insolvency: Option<crate::insolvency::Insolvency>,
    /// The customer's credit insurance cover, if any (see [`crate::insurance`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_cover: Option<crate::insurance::CreditCover>,
    /// The contractual late-payment rate, yearly, in percent (`12.5`), used by `charge
    /// late-interest` instead of the default ECB rate + 10 points (L441-10 II).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "12.5"))]
    pub late_interest_rate: Option<Decimal>,
}

fn default_language() -> String {
    "fr".to_string()
}

impl Customer {
    /// A customer with defaults everywhere but its id (handy in tests and importers).
    pub fn new(id: impl Into<String>) -> Customer {
        Customer {
            id: id.into(),
            name: None,
            segment: Segment::default(),
            risk_score: 0,
            credit_insured: false,
            tags: Vec::new(),
            language: default_language(),
            payment_terms_days: None,
            payment_terms: None,
            contacts: BTreeMap::new(),
            scenario: None,
            insolvency: None,
            credit_cover: None,
            late_interest_rate: None,
        }
    }

    /// The customer's terms: `payment_terms`, else `payment_terms_days` as `net N`.
    pub fn terms(&self) -> Option<PaymentTerms> {
        self.payment_terms
            .or(self.payment_terms_days.map(PaymentTerms::net))
    }
}

/// An invoice as issued (its amounts at issue; the engine tracks what is still outstanding).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invoice {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: InvoiceId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub customer: CustomerId,
    /// Amount including taxes, in `currency`.
    #[cfg_attr(feature = "openapi", schema(example = "1200.50"))]
    pub amount: Decimal,
    /// ISO 4217 code, three upper-case letters.
    #[serde(default = "default_currency")]
    #[cfg_attr(feature = "openapi", schema(example = "EUR"))]
    pub currency: String,
    pub issued: NaiveDate,
    pub due: NaiveDate,
    /// What was still owed when the invoice entered Relance, if already partly paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outstanding: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    /// The invoice's own payment terms, overriding its customer's (see [`crate::terms`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "45 days end of month"))]
    pub payment_terms: Option<PaymentTerms>,
    /// The day the goods or services were received (terms `from delivery` run from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_on: Option<NaiveDate>,
    /// How the invoice is expected to be paid (`lcr`, `sepa_direct_debit_b2b` …), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_means: Option<PaymentMeans>,
    /// The contract's late-payment rate for this invoice, yearly percent, overriding its
    /// customer's `late_interest_rate` and the scenario's `late-interest` (L441-10 II).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "12.5"))]
    pub late_interest_rate: Option<Decimal>,
    /// Where the invoice stands when it enters Relance (imported from another tool) and how
    /// it catches up: `dunning_step`, `dunning_date`, `dunning_attempts`, `catch_up`.
    #[serde(flatten)]
    pub dunning: Standing,
    /// Several due dates for one invoice (30 % now, 70 % in 60 days), in increasing order,
    /// adding up to `amount`, the last one on `due`; empty for an invoice with one due date.
    /// Each is chased on its own date (`runtime::installments`). The daemon's API also takes
    /// their text form (`"2026-01-31 30%; 2026-03-31 rest"`) and stores this array.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installments: Vec<Installment>,
}

/// One due date of an invoice paid in several parts (ERPNext's Payment Schedule row, one of
/// the receivable lines Odoo's payment terms make).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Installment {
    pub due: NaiveDate,
    #[cfg_attr(feature = "openapi", schema(example = "300.00"))]
    pub amount: Decimal,
}

impl Installment {
    /// The installments of an invoice of `total` from their text form (the `installments`
    /// column and test field: `"2026-01-31 30%; 2026-03-31 rest"`).
    pub fn parse_plan(text: &str, total: Decimal) -> Result<Vec<Installment>, String> {
        let plan: relance_dsl::installments::Plan = text.parse()?;
        Ok(plan
            .resolve(total)?
            .into_iter()
            .map(|(due, amount)| Installment { due, amount })
            .collect())
    }

    /// The text form of `plan` (the `installments` column): `"2026-01-31 300; 2026-03-31 700"`.
    pub fn plan_text(plan: &[Installment]) -> String {
        use relance_dsl::installments::{Plan, Share};
        Plan(
            plan.iter()
                .map(|i| (i.due, Share::Amount(i.amount)))
                .collect(),
        )
        .to_string()
    }

    /// [`Installment::check_plan`] when there are installments (none is fine).
    pub fn check_plan_opt(
        plan: &[Installment],
        amount: Decimal,
        due: NaiveDate,
    ) -> Result<(), String> {
        if plan.is_empty() {
            Ok(())
        } else {
            Self::check_plan(plan, amount, due)
        }
    }

    /// Why `plan` cannot be the installments of an invoice of `amount` due on `due`, if it
    /// cannot: at least two, dates increasing, amounts above zero adding up to `amount`, the
    /// last on `due` (ERPNext and Odoo both give an invoice its schedule's last date as its
    /// due date).
    pub fn check_plan(plan: &[Installment], amount: Decimal, due: NaiveDate) -> Result<(), String> {
        if plan.len() < 2 {
            return Err(
                "fewer than two installments: an invoice with one due date has none".into(),
            );
        }
        for pair in plan.windows(2) {
            if pair[0].due >= pair[1].due {
                return Err(format!(
                    "installment dates must increase: {} comes after {}",
                    pair[1].due, pair[0].due
                ));
            }
        }
        if let Some(bad) = plan.iter().find(|i| i.amount <= Decimal::ZERO) {
            return Err(format!("the installment of {} is not above zero", bad.due));
        }
        // Checked: rust_decimal's `+` panics on overflow, and the amounts are input.
        let sum = plan
            .iter()
            .try_fold(Decimal::ZERO, |a, i| a.checked_add(i.amount))
            .ok_or("the installments overflow the amounts Relance can hold")?;
        if sum != amount {
            return Err(format!(
                "the installments add up to {sum}, not the invoice's amount {amount}"
            ));
        }
        let last = plan[plan.len() - 1].due;
        if last != due {
            return Err(format!(
                "the last installment is due {last}, the invoice on {due}: an invoice's due date is its last installment's"
            ));
        }
        Ok(())
    }
}

/// An imported invoice's place in its chase, and its own catch-up (see
/// `runtime::standing`). Empty for an invoice that starts from the beginning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Standing {
    /// The last step the other tool reached (a step name of the scenario).
    #[serde(
        default,
        rename = "dunning_step",
        skip_serializing_if = "Option::is_none"
    )]
    pub step: Option<String>,
    /// The day that step was sent.
    #[serde(
        default,
        rename = "dunning_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub date: Option<NaiveDate>,
    /// How many times that step was sent (default 1): also the `history.messages` the case
    /// starts with.
    #[serde(
        default,
        rename = "dunning_attempts",
        skip_serializing_if = "Option::is_none"
    )]
    pub attempts: Option<u32>,
    /// Overrides the scenario's `catch up` setting for this invoice.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "catch_up_text"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "gradual 7 days"))]
    pub catch_up: Option<relance_dsl::ir::CatchUp>,
}

impl Standing {
    pub fn is_empty(&self) -> bool {
        *self == Standing::default()
    }
}

/// `catch_up` as its text (`latest`, `gradual 7 days`) in JSON.
mod catch_up_text {
    use relance_dsl::ir::CatchUp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<CatchUp>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(c) => s.serialize_str(&c.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CatchUp>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| t.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

fn default_currency() -> String {
    "EUR".to_string()
}

impl Invoice {
    /// The amount owed when the invoice entered Relance.
    pub fn opening_outstanding(&self) -> Decimal {
        self.outstanding.unwrap_or(self.amount)
    }
}

/// Something that happened to an invoice or a customer on a given day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. The JSON form is tagged by `type`, as the case contract says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// Money received for one invoice (partial or full).
    Payment {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        amount: Decimal,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// Means, payer's IBAN, EndToEndId, LCR remittance date: each optional.
        #[serde(flatten)]
        details: PaymentDetails,
    },
    /// The customer contests the invoice: `code` may carry a sub-code after a `/`.
    DisputeOpened {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<Decimal>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_date: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    DisputeResolved {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// The customer promised to pay by `promised_date` (optionally only `amount`).
    PromiseMade {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        promised_date: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<Decimal>,
    },
    CreditNote {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        amount: Decimal,
    },
    WriteOff {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    RiskChanged {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        customer: CustomerId,
        risk_score: i64,
    },
    /// The outcome of a call or task, recorded by a person.
    TaskOutcome {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        outcome: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        promised_date: Option<NaiveDate>,
    },
    /// A message to this contact role bounced.
    ContactBounced {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        customer: CustomerId,
        role: String,
    },
    /// The customer gained a tag (conditions see it from this day on).
    TagAdded {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        customer: CustomerId,
        tag: String,
    },
    /// The customer lost a tag (conditions no longer see it from this day on).
    TagRemoved {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        customer: CustomerId,
        tag: String,
    },
    /// A write-off was reversed: the case re-opens at the step it stood at.
    WriteOffReversed {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A payment attempt (direct debit, card) failed, with the processor's reason
    /// (`INSUFFICIENT_FUNDS`).
    PaymentFailed {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        reason: String,
    },
    /// A person moved the case to another scenario (at a named step, else its first), saying
    /// who and why (OCA's policy changer).
    ScenarioChanged {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        scenario: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<String>,
        by: String,
        because: String,
    },
    /// A collective procedure was opened against the customer (Code de commerce L620-1,
    /// L631-1, L640-1): the event's `date` is the day it was learnt, `judgment_on` the day of
    /// the judgment. Sent again with `published_on` once the BODACC publication is known.
    InsolvencyOpened {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        customer: CustomerId,
        procedure: crate::insolvency::Procedure,
        judgment_on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        published_on: Option<NaiveDate>,
    },
    /// The collective procedure ended (a plan adopted, the procedure closed): dunning of the
    /// frozen invoices resumes.
    InsolvencyClosed {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        customer: CustomerId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The due date was extended (prorogation) to `to`: dunning runs from the new date, the
    /// insurer's deadlines from the original one.
    DueDateExtended {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        to: NaiveDate,
    },
    /// A payment came back (a returned direct debit, an unpaid LCR, a bounced cheque): the
    /// outstanding grows by `amount` and a case closed as paid re-opens where it stood
    /// (`runtime::transition`, `transition/reversal.rs`).
    PaymentReversed {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        invoice: InvoiceId,
        /// The amount that came back.
        amount: Decimal,
        #[serde(default)]
        reason: ReversalReason,
        /// The reference of the payment reversed, when known (kept for the history).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// The date of the payment reversed: late interest counts the amount as never paid
        /// from that day. Without it, from the reversal's date.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payment_date: Option<NaiveDate>,
    },
}

impl EventKind {
    /// The invoice this event concerns, if it concerns one invoice.
    pub fn invoice(&self) -> Option<&str> {
        match self {
            EventKind::Payment { invoice, .. }
            | EventKind::DisputeOpened { invoice, .. }
            | EventKind::DisputeResolved { invoice, .. }
            | EventKind::PromiseMade { invoice, .. }
            | EventKind::CreditNote { invoice, .. }
            | EventKind::WriteOff { invoice, .. }
            | EventKind::TaskOutcome { invoice, .. }
            | EventKind::WriteOffReversed { invoice, .. }
            | EventKind::PaymentFailed { invoice, .. }
            | EventKind::ScenarioChanged { invoice, .. } => Some(invoice),
            EventKind::DueDateExtended { invoice, .. } => Some(invoice),
            EventKind::InsolvencyOpened { .. } | EventKind::InsolvencyClosed { .. } => None,
            EventKind::PaymentReversed { invoice, .. } => Some(invoice),
            EventKind::RiskChanged { .. }
            | EventKind::ContactBounced { .. }
            | EventKind::TagAdded { .. }
            | EventKind::TagRemoved { .. } => None,
        }
    }

    /// The customer this event concerns, if it names a customer rather than an invoice.
    pub fn customer(&self) -> Option<&str> {
        match self {
            EventKind::RiskChanged { customer, .. }
            | EventKind::ContactBounced { customer, .. }
            | EventKind::TagAdded { customer, .. }
            | EventKind::TagRemoved { customer, .. } => Some(customer),
            EventKind::InsolvencyOpened { customer, .. }
            | EventKind::InsolvencyClosed { customer, .. } => Some(customer),
            _ => None,
        }
    }

    /// The `type` tag of the JSON form (`payment`, `dispute_opened` …).
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::Payment { .. } => "payment",
            EventKind::DisputeOpened { .. } => "dispute_opened",
            EventKind::DisputeResolved { .. } => "dispute_resolved",
            EventKind::PromiseMade { .. } => "promise_made",
            EventKind::CreditNote { .. } => "credit_note",
            EventKind::WriteOff { .. } => "write_off",
            EventKind::RiskChanged { .. } => "risk_changed",
            EventKind::TaskOutcome { .. } => "task_outcome",
            EventKind::ContactBounced { .. } => "contact_bounced",
            EventKind::TagAdded { .. } => "tag_added",
            EventKind::TagRemoved { .. } => "tag_removed",
            EventKind::WriteOffReversed { .. } => "write_off_reversed",
            EventKind::PaymentFailed { .. } => "payment_failed",
            EventKind::ScenarioChanged { .. } => "scenario_changed",
            EventKind::InsolvencyOpened { .. } => "insolvency_opened",
            EventKind::InsolvencyClosed { .. } => "insolvency_closed",
            EventKind::DueDateExtended { .. } => "due_date_extended",
            EventKind::PaymentReversed { .. } => "payment_reversed",
        }
    }

    /// What a customer event changes in the customer's record (its risk score, its tags), the
    /// same for every driver. Returns whether the customer changed.
    pub fn apply_to_customer(&self, customer: &mut Customer) -> bool {
        match self {
            EventKind::RiskChanged { risk_score, .. } => {
                let changed = customer.risk_score != *risk_score;
                customer.risk_score = *risk_score;
                changed
            }
            EventKind::TagAdded { tag, .. } if !customer.tags.contains(tag) => {
                customer.tags.push(tag.clone());
                true
            }
            EventKind::TagRemoved { tag, .. } if customer.tags.contains(tag) => {
                customer.tags.retain(|t| t != tag);
                true
            }
            EventKind::InsolvencyOpened {
                procedure,
                judgment_on,
                published_on,
                ..
            } => {
                let now = Some(crate::insolvency::Insolvency {
                    procedure: *procedure,
                    judgment_on: *judgment_on,
                    published_on: *published_on,
                });
                let changed = customer.insolvency != now;
                customer.insolvency = now;
                changed
            }
            EventKind::InsolvencyClosed { .. } => customer.insolvency.take().is_some(),
            _ => false,
        }
    }
}

/// A whole portfolio, or one simulation case: customers, their invoices and what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Portfolio {
    /// The first day the engine runs on this portfolio (defaults to the earliest `issued`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub customers: Vec<Customer>,
    #[serde(default)]
    pub invoices: Vec<Invoice>,
    #[serde(default)]
    pub events: Vec<Event>,
}

impl Portfolio {
    /// The first day the engine runs: `from`, else the earliest issue date.
    pub fn start(&self) -> Option<NaiveDate> {
        self.from
            .or_else(|| self.invoices.iter().map(|i| i.issued).min())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (review): two huge installments given as an array (the API's form)
    /// overflowed the sum, and rust_decimal's `+` panics.
    #[test]
    fn overflowing_installments_are_an_error_not_a_panic() {
        let due = |s: &str| s.parse::<NaiveDate>().expect("date");
        let plan = vec![
            Installment {
                due: due("2026-01-31"),
                amount: Decimal::MAX,
            },
            Installment {
                due: due("2026-03-31"),
                amount: Decimal::MAX,
            },
        ];
        let got = Installment::check_plan(&plan, Decimal::ONE, due("2026-03-31"));
        assert!(got.is_err(), "{got:?}");
    }

    #[test]
    fn a_postal_address_reads_from_an_object_or_a_legacy_string() {
        let legacy: Contact =
            serde_json::from_str(r#"{"address": "1 rue A\n75001 Paris"}"#).expect("legacy");
        assert_eq!(
            legacy.address,
            Some(PostalAddress {
                lines: vec!["1 rue A".into(), "75001 Paris".into()],
                ..PostalAddress::default()
            }),
            "a legacy text gives lines only: postcode and city are not guessed"
        );
        let object: Contact = serde_json::from_str(
            r#"{"address": {"lines": ["1 rue A"], "postcode": "75001", "city": "Paris", "country": "FR"}}"#,
        )
        .expect("object");
        let address = object.address.expect("an address");
        assert_eq!(address.lines, ["1 rue A"]);
        assert_eq!(
            (
                address.postcode.as_deref(),
                address.city.as_deref(),
                address.country.as_deref()
            ),
            (Some("75001"), Some("Paris"), Some("FR"))
        );
        // Written back as the object, which reads the same.
        let text = serde_json::to_string(&address).expect("json");
        assert_eq!(
            serde_json::from_str::<PostalAddress>(&text).expect("again"),
            address
        );
        assert!(
            serde_json::from_str::<PostalAddress>(r#"{"zip": "75001"}"#).is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn country_codes_are_two_upper_case_letters() {
        assert!(PostalAddress::check_country("FR").is_ok());
        for bad in ["fr", "FRA", "F", "F1", ""] {
            assert!(PostalAddress::check_country(bad).is_err(), "{bad}");
        }
    }
}
