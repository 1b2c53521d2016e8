//! The records the daemon keeps in its store: the event log's facts, import records, case
//! records, outbox messages (stored as a header and items apart), agenda entries, hand-offs
//! and history entries, as serde types with their JSON encoding.
//!
//! This module owns their shape (a schema change bumps `store::SCHEMA_VERSION`); it must not
//! decide anything: the driver fills them, the dispatcher moves messages through their states.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use relance_dsl::ir::{Action, Money};

use super::error::DaemonError;
use relance_core::domain::{Event, EventKind};
use relance_core::fact_order::{Arrival, FactKey, FileLine};
use relance_core::runtime::{Instance, installments};

/// One fact of the append-only event log: what happened (a typed [`Event`]), when the daemon
/// learnt it, from where, and under which idempotency key. Never rewritten once stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// The event id: its position in the log (strictly increasing).
    pub id: u64,
    /// The day the daemon recorded it (its clock's today).
    pub recorded_on: NaiveDate,
    pub source: EventSource,
    /// The caller's `Idempotency-Key` of the write that brought it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    pub event: Event,
}

/// Where a fact came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSource {
    /// `api` (a JSON write), `import` (a file batch), `agenda` (an outcome recorded on an
    /// agenda entry) or `migration` (rebuilt from a schema-1 store's history).
    pub via: String,
    /// The caller (token name) of the write, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// The import batch (its id in the `imports` tree), for imports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// The file of the batch the fact was read from, as the client named it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Where in the batch the fact was read (file kind, the file's place in the batch, line):
    /// with `batch`, its place in the canonical order of its day
    /// ([`StoredEvent::order_key`]). Absent for API writes and facts stored before it was
    /// kept (they count after the facts read from files, by event id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<FileLine>,
}

impl EventSource {
    pub fn api(caller: Option<&str>) -> EventSource {
        EventSource {
            via: "api".into(),
            caller: caller.map(str::to_string),
            batch: None,
            file: None,
            at: None,
        }
    }
}

impl StoredEvent {
    /// The fact's key in the canonical order of one day's facts
    /// (`relance_core::fact_order`): read from a file of an import batch, by its rank (file
    /// kind and whether it is a payment), batch, file and line; otherwise after those, by
    /// event id (its order of receipt).
    pub fn order_key(&self) -> FactKey {
        let arrival = match (self.source.batch, self.source.at) {
            (Some(import), Some(at)) => Arrival::File {
                import,
                at,
                payment: matches!(self.event.kind, EventKind::Payment { .. }),
            },
            _ => Arrival::Api,
        };
        FactKey::new(self.event.date, arrival, self.id)
    }
}

/// An import batch as recorded under its content hash: a second upload of the same bytes is
/// recognised (`already_imported`) and applies nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportRecord {
    pub batch: u64,
    pub sha256: String,
    pub recorded_on: NaiveDate,
    /// The files of the batch, as named by the client.
    pub files: Vec<String>,
    pub customers: usize,
    pub invoices: usize,
    pub events: usize,
}

/// One invoice's case as stored: the instance, the day of its next tick, and the deployment
/// it runs with (its scenario version, rules and templates; absent on cases recorded before
/// deployments were pinned, which run with the latest deployment holding their version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub case: Instance,
    pub wake: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<u64>,
}

/// One line of an invoice's history: a recorded transition with its cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub from: String,
    pub to: String,
    pub cause: String,
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Waiting for its first attempt (may still take more invoices while unsealed).
    Pending,
    /// Failed transiently; tried again at `next_attempt`.
    Retrying,
    /// Given up: needs a person (visible in `GET /v1/outbox?status=dead`).
    Dead,
    /// Done (moved to the `delivered` tree).
    Delivered,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Retrying => "retrying",
            MessageStatus::Dead => "dead",
            MessageStatus::Delivered => "delivered",
        }
    }
}

/// One invoice a message is about, as it stood when the engine decided the action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    pub invoice: String,
    /// The action's idempotency key.
    pub key: String,
    pub step: String,
    pub version: String,
    /// The deployment whose templates render it (the case's pinned deployment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<u64>,
    pub issued: NaiveDate,
    pub due: NaiveDate,
    pub amount: Decimal,
    pub outstanding: Decimal,
    /// Charges made on the invoice (in its currency) and not yet paid, after the action.
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub charges: Decimal,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub charge: Option<Money>,
    /// For an invoice with installments: the principal fallen due by the message's day, less
    /// what was paid (`invoice.amount_due` without the charges); `due` is then the chased
    /// installment's date. Absent for an invoice with one due date (all of `outstanding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_now: Option<Decimal>,
    /// For an invoice with installments: each of them on the message's day (date, amount,
    /// unpaid part, days late, overdue), which the templates list. Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub installments: Vec<installments::Standing>,
    /// The yearly late-interest rate (percent) that applies to the invoice on the message's
    /// day: its own, its customer's, the scenario's `late-interest`, else ECB + 10 points
    /// (`relance_core::runtime::charges::applied_rate`, the choice the charge makes). Absent
    /// on items sealed before it was kept, or when the table cannot give it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_interest_rate: Option<Decimal>,
    /// Whether `late_interest_rate` is a contractual rate (the invoice's, the customer's or
    /// the scenario's), not the default ECB + 10 points.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub late_interest_contractual: bool,
}

impl Item {
    /// The item of `planned` (decided for `invoice` by the transition that left `case`),
    /// rendered with the templates of `deployment`; a charge action's amount is kept. The
    /// late-interest rate is left unset ([`Item::with_rate`] sets it from the facts).
    pub fn of(
        planned: &relance_core::runtime::Planned,
        invoice: &relance_core::domain::Invoice,
        case: &Instance,
        deployment: Option<u64>,
    ) -> Item {
        let charge = match &planned.action {
            Action::Charge { amount, .. } => amount.clone(),
            _ => None,
        };
        Item {
            invoice: invoice.id.clone(),
            key: planned.key.clone(),
            step: planned.step.clone(),
            version: planned.version.clone(),
            deployment,
            issued: invoice.issued,
            due: installments::own_due(invoice, case),
            amount: invoice.amount,
            outstanding: case.outstanding,
            charges: case.charged.owed,
            currency: invoice.currency.clone(),
            charge,
            due_now: (!invoice.installments.is_empty())
                .then(|| installments::due_by(invoice, case.outstanding, planned.date)),
            installments: installments::standing(invoice, case.outstanding, planned.date),
            late_interest_rate: None,
            late_interest_contractual: false,
        }
    }
}

impl Item {
    /// This item with the late-interest rate the invoice runs at on the planned day, as the
    /// charge would compute it (`charges::applied_rate`).
    pub fn with_rate(
        mut self,
        facts: &relance_core::runtime::Facts<'_>,
        day: chrono::NaiveDate,
    ) -> Item {
        use relance_core::runtime::charges::{RateSource, applied_rate};
        if let Some(applied) = applied_rate(facts, day) {
            self.late_interest_rate = Some(applied.rate);
            self.late_interest_contractual = applied.source != RateSource::Default;
        }
        self
    }
}

/// A message rendered at sealing time: what is sent, byte for byte, on every attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct Rendered {
    /// Addresses (emails, phone numbers, postal address) of the primary recipients.
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    /// The contact roles `to` came from (a bounce raises `contact bounced` for them).
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Letters: what the PDF is laid out from at delivery (`body` is then the HTML form).
    /// Absent on letters sealed before PDF letters existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letter: Option<LetterText>,
}

/// A letter as rendered at sealing, apart from its HTML: the recipient's name and postal
/// address block, the template's text (after its `Subject:` line), the registered mention and
/// the language of the place-and-date line. The letter channel lays the PDF out from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct LetterText {
    /// The recipient's name, first line of the window block.
    pub name: String,
    /// The postal address block, one line per line (`postal::block`).
    pub address: Vec<String>,
    /// The rendered template text, without its `Subject:` line.
    pub text: String,
    /// Registered letter with acknowledgement of receipt.
    pub registered: bool,
    /// The customer's language (`fr`, `en`): the place-and-date line and the mentions.
    pub language: String,
}

/// An effect waiting in (or gone through) the outbox: one action, or several merged by
/// grouping (same day, customer, channel, template and recipients).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    pub id: u64,
    /// The idempotency key of the message: the key of its first action. Message-ID and
    /// `Idempotency-Key` derive from it, so a re-sent message carries the same one.
    pub key: String,
    /// The grouping key (`date|customer|action text`), or the action key when not grouped.
    pub group: String,
    pub date: NaiveDate,
    pub customer: String,
    pub channel: String,
    /// The action in scenario syntax.
    pub text: String,
    /// The action as the scenario language's IR (an object tagged by `kind`).
    #[schema(value_type = Object)]
    pub action: Action,
    pub scenario: String,
    pub items: Vec<Item>,
    pub status: MessageStatus,
    /// Sealed messages take no more invoices; they are rendered and being delivered.
    pub sealed: bool,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered: Option<Rendered>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// Where it went (SMTP reply, spool file, webhook status…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

impl Message {
    pub fn invoices(&self) -> Vec<String> {
        self.items.iter().map(|i| i.invoice.clone()).collect()
    }

    /// The message as stored in `outbox` or `delivered`: without its items, with their count
    /// (the items are stored apart, `message_items`).
    pub fn header(&self) -> MessageHeader {
        MessageHeader {
            id: self.id,
            key: self.key.clone(),
            group: self.group.clone(),
            date: self.date,
            customer: self.customer.clone(),
            channel: self.channel.clone(),
            text: self.text.clone(),
            action: self.action.clone(),
            scenario: self.scenario.clone(),
            item_count: u32::try_from(self.items.len()).unwrap_or(u32::MAX),
            status: self.status,
            sealed: self.sealed,
            attempts: self.attempts,
            next_attempt: self.next_attempt,
            last_error: self.last_error.clone(),
            rendered: self.rendered.clone(),
            delivered_at: self.delivered_at,
            receipt: self.receipt.clone(),
        }
    }
}

/// A [`Message`] as stored in the `outbox` and `delivered` trees (schema 5): every field but
/// its items, which are stored apart in `message_items` (one entry per item, keyed by the
/// message id and the item's place), and `item_count`, how many there are. Joining a group
/// writes one item and this header, never the items already there. A header does not decode
/// as a [`Message`] (no `items`), nor a whole message as a header (no `item_count`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageHeader {
    pub id: u64,
    pub key: String,
    pub group: String,
    pub date: NaiveDate,
    pub customer: String,
    pub channel: String,
    pub text: String,
    pub action: Action,
    pub scenario: String,
    /// How many items the message has (`message_items`, places 0 to `item_count − 1`).
    pub item_count: u32,
    pub status: MessageStatus,
    pub sealed: bool,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered: Option<Rendered>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

impl MessageHeader {
    /// The whole message: this header with its items (read from `message_items`).
    pub fn with_items(self, items: Vec<Item>) -> Message {
        Message {
            id: self.id,
            key: self.key,
            group: self.group,
            date: self.date,
            customer: self.customer,
            channel: self.channel,
            text: self.text,
            action: self.action,
            scenario: self.scenario,
            items,
            status: self.status,
            sealed: self.sealed,
            attempts: self.attempts,
            next_attempt: self.next_attempt,
            last_error: self.last_error,
            rendered: self.rendered,
            delivered_at: self.delivered_at,
            receipt: self.receipt,
        }
    }
}

/// A call, task or alert on someone's agenda.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgendaEntry {
    pub id: u64,
    pub date: NaiveDate,
    pub customer: String,
    pub invoices: Vec<String>,
    /// `call`, `task` or `alert`.
    pub kind: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// For calls: the contact role to call and how to reach them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_on: Option<NaiveDate>,
    pub key: String,
}

/// An escalation handed off (agency or litigation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    pub id: u64,
    pub date: NaiveDate,
    pub customer: String,
    pub invoices: Vec<String>,
    pub to: String,
    pub outstanding: Decimal,
    pub key: String,
}

/// The response of a write sent with an `Idempotency-Key`, stored in the write's own
/// transaction: a repeat of the same request gets it again and writes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredReply {
    /// What identifies the request (route and body), to refuse a reused key.
    pub fingerprint: String,
    /// The day the write was applied (the daily run deletes the reply once this is older
    /// than the retention, `idempotency_retention_days`).
    pub date: NaiveDate,
    pub status: u16,
    pub body: serde_json::Value,
}

/// Reads a stored JSON value.
pub fn decode<T: for<'de> Deserialize<'de>>(what: &str, bytes: &[u8]) -> Result<T, DaemonError> {
    serde_json::from_slice(bytes).map_err(|e| DaemonError::Corrupt(format!("{what}: {e}")))
}

/// Writes a value as JSON.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain types cannot fail (no maps with non-string keys).
    serde_json::to_vec(value).unwrap_or_default()
}
