//! The durable state of one invoice's case: where it stands in its scenario, what it still
//! owes, its dispute and promise, and the counters conditions read.
//!
//! It is plain, serializable data: the daemon stores it, the simulator keeps it in memory.
//! Only `transition` changes it; this module must not hold behaviour beyond small queries.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{CustomerId, InvoiceId};

/// Where the case stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Status {
    /// Waiting for its next step's date.
    Active,
    /// Held until something resumes it (an open dispute, or a `pause`).
    Paused { since: NaiveDate, reason: String },
    /// Held until a date (a promise, `wait until`, `resume after`).
    Waiting { until: NaiveDate, reason: String },
    /// Finished: paid, written off, credited, stopped.
    Closed { on: NaiveDate, reason: CloseReason },
    /// A condition could not be evaluated (a failing rule…): visible, never silent.
    Error { on: NaiveDate, message: String },
    /// No scenario of the set applies to this invoice.
    Unassigned { on: NaiveDate },
    /// Frozen by a collective procedure opened against the customer (L622-7, L622-21): no
    /// message, no charge, no step until the procedure ends (`runtime::transition::insolvency`).
    Insolvency {
        since: NaiveDate,
        procedure: crate::insolvency::Procedure,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Paid,
    Credited,
    WrittenOff,
    Stopped,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Paid => "paid",
            CloseReason::Credited => "credited",
            CloseReason::WrittenOff => "written off",
            CloseReason::Stopped => "stopped",
        }
    }
}

impl Status {
    /// The day from which nothing may go out for this case any more: the day it closed, or
    /// the day a collective procedure froze it (L622-21). A message waiting out a contact
    /// cadence's gap is dropped from then (`runtime::cadence`).
    pub fn silenced_since(&self) -> Option<NaiveDate> {
        match self {
            Status::Closed { on, .. } => Some(*on),
            Status::Insolvency { since, .. } => Some(*since),
            _ => None,
        }
    }

    /// A short name for timelines and reports (`active`, `paused` …).
    pub fn name(&self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Paused { .. } => "paused",
            Status::Waiting { .. } => "waiting",
            Status::Closed { .. } => "closed",
            Status::Error { .. } => "error",
            Status::Unassigned { .. } => "unassigned",
            Status::Insolvency { .. } => "insolvency",
        }
    }

    /// Whether nothing will ever happen to this case again.
    pub fn is_final(&self) -> bool {
        matches!(self, Status::Closed { .. })
    }

    /// Whether the case was closed by a write-off (which settles nothing: the payment
    /// behaviour does not count it as paid).
    pub fn is_written_off(&self) -> bool {
        matches!(
            self,
            Status::Closed {
                reason: CloseReason::WrittenOff,
                ..
            }
        )
    }
}

/// An open dispute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dispute {
    pub code: String,
    pub amount: Option<Decimal>,
    pub opened: NaiveDate,
    pub target_date: Option<NaiveDate>,
}

/// A pending payment promise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Promise {
    pub date: NaiveDate,
    pub amount: Option<Decimal>,
    /// What had been paid when the promise was made (a promise of an amount is kept when
    /// that much more arrives).
    pub paid_at_promise: Decimal,
}

/// Counters conditions read through `history.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counters {
    pub messages: u32,
    pub calls: u32,
    pub promises_made: u32,
    pub promises_broken: u32,
    pub disputes: u32,
    pub last_step: Option<String>,
    /// Payments reversed on the invoice (`history.reversals`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reversals: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Charges already made on the invoice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Charged {
    /// The €40 indemnity is due once per invoice.
    pub indemnity: bool,
    /// Late interest was charged up to this day (inclusive); the next charge starts after it.
    pub interest_until: Option<NaiveDate>,
    /// Charged in the invoice's currency and not yet paid (`invoice.charges`).
    #[serde(default)]
    pub owed: Decimal,
}

/// One invoice's case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Instance {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub invoice: InvoiceId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub customer: CustomerId,
    pub scenario: String,
    /// The scenario version (content hash) this case is pinned to.
    pub version: String,
    pub status: Status,
    pub outstanding: Decimal,
    /// Received so far (payments and credit notes).
    pub paid: Decimal,
    pub last_payment: Option<(NaiveDate, Decimal)>,
    /// The index of the next step to consider, in source order.
    pub next_step: usize,
    /// When each step was last processed (fired or skipped), by step index.
    pub done_on: Vec<Option<NaiveDate>>,
    /// How many times each step fired (a `goto` can fire a step again), for idempotency keys.
    pub fired_count: Vec<u32>,
    /// How many times each handler ran, by event name, for idempotency keys.
    pub handler_runs: std::collections::BTreeMap<String, u32>,
    pub dispute: Option<Dispute>,
    pub promise: Option<Promise>,
    pub counters: Counters,
    /// Outstanding after each change dated after the due date (the first installment's for an
    /// invoice with installments), in order: late interest accrues on the balance of each day.
    #[serde(default)]
    pub balances: Vec<(NaiveDate, Decimal)>,
    /// What was already charged, so nothing is charged twice.
    #[serde(default)]
    pub charged: Charged,
    /// Set by `escalate`: to whom the case was handed (`agency default`, `litigation`).
    pub escalated: Option<(NaiveDate, String)>,
    /// The first day the engine acts on this invoice.
    pub started: NaiveDate,
    /// The repetition under way of a `repeat` step (see `runtime::repeat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeating: Option<Repeating>,
    /// Under a gradual catch-up, the first day the next late step may fire (set when a late
    /// step fired and the next one was already due, else set to `None`; a day already past
    /// holds nothing, see `standing::held`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_up_next: Option<NaiveDate>,
    /// The reason of the last failed payment attempt (`INSUFFICIENT_FUNDS`), until a payment
    /// arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failed_payment: Option<String>,
    /// The claim to declare under a collective procedure, while the case is frozen by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration: Option<Declaration>,
    /// The due date as extended (prorogation, `due_date_extended`): the `due` anchor of the
    /// steps and `invoice.days_late` run from it; the invoice's own `due` is never changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_due: Option<NaiveDate>,
    /// How each payment received on the case was split between principal and charges, in
    /// order, net of what reversals took back: a `payment_reversed` takes back the same split
    /// (`transition/reversal.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<Allocation>,
    /// For an invoice with installments, the one the case is chasing (its index): the steps
    /// count from its due date (`runtime::installments`). 0 otherwise.
    #[serde(default, skip_serializing_if = "is_zero_usize")]
    pub installment: usize,
}

fn is_zero_usize(n: &usize) -> bool {
    *n == 0
}

/// One payment as it was applied (`fees::allocate`): typed, so a reversal takes back exactly
/// what the payment paid to the principal and to the charges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Allocation {
    /// The day the payment was applied.
    pub date: NaiveDate,
    /// The payment's reference, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// What went to the principal (net of reversals).
    pub to_principal: Decimal,
    /// What went to the charges owed (net of reversals).
    pub to_charges: Decimal,
}

impl Allocation {
    /// The payment's amount still standing (net of reversals).
    pub fn amount(&self) -> Decimal {
        self.to_principal + self.to_charges
    }
}

/// The claim to declare to the *mandataire judiciaire* for one frozen invoice (typed, so
/// reports read it without parsing the task's text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Declaration {
    pub procedure: crate::insolvency::Procedure,
    pub judgment_on: NaiveDate,
    /// Two months after the BODACC publication (R622-24), when the publication is known.
    pub declare_by: Option<NaiveDate>,
    /// The principal still owed on the judgment day.
    pub outstanding: Decimal,
    /// Charges made and unpaid (indemnity, interest charged before).
    pub charges: Decimal,
    /// Late interest not yet charged, accrued up to the day before the judgment (L622-28).
    pub interest: Decimal,
}

impl Declaration {
    /// The amount to declare: outstanding, unpaid charges and accrued interest.
    pub fn total(&self) -> Decimal {
        self.outstanding + self.charges + self.interest
    }
}

/// A `repeat` step that fired and will fire again: `next_step` stays on it meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Repeating {
    /// The step's index.
    pub step: usize,
    /// The day it first fired: repetitions fall on `first + slot × every` (no drift across
    /// short months).
    pub first: NaiveDate,
    /// The index of the next repetition's date (missed dates are skipped, never fired late).
    pub slot: u32,
    /// How many times it fired in this repetition, the first time included (for `times`).
    pub fired: u32,
}

impl Instance {
    /// What a `payment_reversed` may still take back: what was paid before the case opened
    /// (the invoice's amount less its imported `outstanding`) plus the payments recorded
    /// since, net of reversals. A case stored before payments were recorded
    /// (`allocations` empty) counts all it received (`paid`, credit notes included).
    pub fn reversible(&self, invoice: &crate::domain::Invoice) -> Decimal {
        if self.allocations.is_empty() {
            return self.paid.max(Decimal::ZERO);
        }
        let since: Decimal = self.allocations.iter().map(Allocation::amount).sum();
        let before = invoice.amount - invoice.opening_outstanding();
        (before + since).max(Decimal::ZERO)
    }

    pub fn is_open(&self) -> bool {
        !self.status.is_final()
    }
}
