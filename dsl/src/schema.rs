//! The documented schema of what conditions can read: every field path, its type and meaning,
//! every event a handler can name, every contact role, and the fields a test block may set;
//! and which statement may stand in which body (step or handler).
//!
//! This table is the single source of truth: the checker validates paths against it, the IR
//! maps paths to [`Field`], the language server uses the docs for hover and completion, and
//! `docs/LANGUAGE.md` lists the same rows (a test keeps them in sync). It must not evaluate
//! anything.

use serde::{Deserialize, Serialize};

/// The static type of an expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Type {
    Bool,
    Number,
    Money,
    Percent,
    Text,
    Date,
    Duration,
    List(Box<Type>),
    /// A `rule(...)` result: a boolean or a number, known only when it runs.
    RuleResult,
    /// After an error: accepted everywhere so one mistake is reported once.
    Unknown,
}

impl Type {
    pub fn describe(&self) -> String {
        match self {
            Type::Bool => "a boolean".into(),
            Type::Number => "a number".into(),
            Type::Money => "an amount of money".into(),
            Type::Percent => "a percentage".into(),
            Type::Text => "text".into(),
            Type::Date => "a date".into(),
            Type::Duration => "a duration".into(),
            Type::List(t) => format!("a list of {}", t.describe_plural()),
            Type::RuleResult => "a rule result".into(),
            Type::Unknown => "an unknown value".into(),
        }
    }

    fn describe_plural(&self) -> String {
        match self {
            Type::Bool => "booleans".into(),
            Type::Number => "numbers".into(),
            Type::Money => "amounts".into(),
            Type::Percent => "percentages".into(),
            Type::Text => "texts".into(),
            Type::Date => "dates".into(),
            Type::Duration => "durations".into(),
            Type::List(_) => "lists".into(),
            Type::RuleResult => "rule results".into(),
            Type::Unknown => "values".into(),
        }
    }
}

/// A field a condition can read. The runtime evaluates each variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    InvoiceId,
    InvoiceAmount,
    InvoiceOutstanding,
    InvoiceCharges,
    InvoiceAmountDue,
    InvoiceCurrency,
    InvoiceIssued,
    InvoiceDue,
    InvoiceDaysLate,
    InvoicePoNumber,
    CustomerId,
    CustomerName,
    CustomerSegment,
    CustomerRiskScore,
    CustomerCreditInsured,
    CustomerTags,
    CustomerLanguage,
    CustomerPaymentTermsDays,
    CustomerOutstanding,
    CustomerOpenInvoices,
    CustomerAverageInvoice,
    CustomerAvgDaysLate,
    CustomerPaidOnTimePct,
    CustomerPromisesBroken,
    CustomerDisputesOpened,
    CustomerPaymentTrend,
    CustomerOverdue,
    CustomerOverdueCount,
    CustomerOldestOverdueDays,
    DisputeOpen,
    DisputeCode,
    DisputeSubCode,
    DisputeAmount,
    DisputeOpened,
    DisputeTargetDate,
    PromiseActive,
    PromiseDate,
    PromiseAmount,
    HistoryMessages,
    HistoryCalls,
    HistoryPromisesMade,
    HistoryPromisesBroken,
    HistoryDisputes,
    HistoryLastStep,
    HistoryPaid,
    PaymentAmount,
    PaymentDate,
    Today,
    InvoiceLastFailedPayment,
    EventTag,
    EventReason,
    CustomerInsolvency,
    CustomerCreditCover,
    CustomerInsurer,
    InvoiceExtendedDue,
    InvoicePaymentMeans,
    HistoryReversals,
}

/// One documented field: its path, type and meaning.
pub struct FieldDoc {
    pub path: &'static str,
    pub field: Field,
    pub ty: Type,
    pub doc: &'static str,
    /// For a text field whose values form a closed set: every value it can take (the empty
    /// text included when the field is empty without one). Empty for free text. This is the
    /// one home of these lists: the checker refuses a comparison with any other value
    /// (E0144), and the core types' parsers must accept exactly these names (a test in
    /// `engine/core/tests/it/schema_values.rs`).
    pub values: &'static [&'static str],
}

macro_rules! fields {
    ($( $path:literal => $field:ident : $ty:expr, $doc:literal $(, one_of [$($value:literal),* $(,)?])?; )*) => {
        /// Every readable field, in documentation order.
        pub fn fields() -> &'static [FieldDoc] {
            static FIELDS: std::sync::LazyLock<Vec<FieldDoc>> = std::sync::LazyLock::new(|| vec![
                $( FieldDoc { path: $path, field: Field::$field, ty: $ty, doc: $doc, values: &[$($($value),*)?] }, )*
            ]);
            &FIELDS
        }
    };
}

fields! {
    "invoice.id" => InvoiceId: Type::Text, "The invoice number.";
    "invoice.amount" => InvoiceAmount: Type::Money, "Amount including taxes, as issued.";
    "invoice.outstanding" => InvoiceOutstanding: Type::Money, "What is still owed today, after payments and credit notes.";
    "invoice.charges" => InvoiceCharges: Type::Money, "Charges made on the invoice in its currency and not yet paid.";
    "invoice.amount_due" => InvoiceAmountDue: Type::Money, "The outstanding plus the unpaid charges; for an invoice with installments, only the installments due by today (less what was paid) plus the charges.";
    "invoice.currency" => InvoiceCurrency: Type::Text, "ISO 4217 currency code (`EUR`).";
    "invoice.issued" => InvoiceIssued: Type::Date, "Issue date.";
    "invoice.due" => InvoiceDue: Type::Date, "Due date; for an invoice with installments, the due date of the installment being chased.";
    "invoice.days_late" => InvoiceDaysLate: Type::Number, "Days since the due date, the extended one after a `due_date_extended` event (negative before it).";
    "invoice.extended_due" => InvoiceExtendedDue: Type::Date, "The due date as extended (prorogation); absent without extension (a comparison with it is false). `invoice.due` stays the date on file.";
    "invoice.po_number" => InvoicePoNumber: Type::Text, "The customer's purchase-order number (empty when unknown).";
    "customer.id" => CustomerId: Type::Text, "The customer's id in the accounting system.";
    "customer.name" => CustomerName: Type::Text, "The customer's name.";
    "customer.segment" => CustomerSegment: Type::Text, "`b2b`, `b2c` or `public`.";
    "customer.risk_score" => CustomerRiskScore: Type::Number, "Risk score from 0 (safe) to 100.";
    "customer.credit_insured" => CustomerCreditInsured: Type::Bool, "Whether a credit insurer covers this customer.";
    "customer.insolvency" => CustomerInsolvency: Type::Text, "The collective procedure the customer is under: `sauvegarde`, `redressement` or `liquidation`; empty when none. The invoices it freezes stop anyway (LAW.md).", one_of ["sauvegarde", "redressement", "liquidation", ""];
    "customer.credit_cover" => CustomerCreditCover: Type::Text, "The customer's credit insurance cover: `covered`, `not_covered` or `cancelled`; empty without an insurer.", one_of ["covered", "not_covered", "cancelled", ""];
    "customer.insurer" => CustomerInsurer: Type::Text, "The customer's credit insurer (as the insurers file names it); empty without one.";
    "customer.tags" => CustomerTags: Type::List(Box::new(Type::Text)), "Free tags (`\"key-account\" in customer.tags`).";
    "customer.language" => CustomerLanguage: Type::Text, "Language of the customer's messages (`fr`, `en`).";
    "customer.payment_terms_days" => CustomerPaymentTermsDays: Type::Number, "Agreed payment terms in days (0 when not set).";
    "customer.outstanding" => CustomerOutstanding: Type::Money, "Total still owed by the customer on its open invoices issued so far.";
    "customer.open_invoices" => CustomerOpenInvoices: Type::Number, "Number of open invoices of the customer issued so far.";
    "customer.average_invoice" => CustomerAverageInvoice: Type::Money, "Average amount of the customer's invoices issued so far.";
    "customer.avg_days_late" => CustomerAvgDaysLate: Type::Number, "Mean days late (0 when on time) of the customer's invoices settled so far, one decimal; absent before the first (a comparison with it is false).";
    "customer.paid_on_time_pct" => CustomerPaidOnTimePct: Type::Number, "Share of the customer's settled invoices paid on or before the due date, in percent (one decimal); absent before the first.";
    "customer.promises_broken" => CustomerPromisesBroken: Type::Number, "Payment promises the customer broke so far, over all its invoices.";
    "customer.disputes_opened" => CustomerDisputesOpened: Type::Number, "Disputes opened so far on the customer's invoices.";
    "customer.payment_trend" => CustomerPaymentTrend: Type::Text, "`worsening`, `improving`, `stable` or `unknown`: the mean days late of the invoices settled in the last three calendar months against the three before (5 days or more apart).";
    "customer.overdue" => CustomerOverdue: Type::Money, "What the customer owes on its invoices past their due date (due and unpaid, not counting invoices not yet due nor those under dispute).";
    "customer.overdue_count" => CustomerOverdueCount: Type::Number, "Number of the customer's invoices past their due date and unpaid (not under dispute).";
    "customer.oldest_overdue_days" => CustomerOldestOverdueDays: Type::Number, "Days late of the customer's oldest overdue invoice (0 when nothing is overdue).";
    "dispute.open" => DisputeOpen: Type::Bool, "Whether a dispute is open on this invoice.";
    "dispute.code" => DisputeCode: Type::Text, "The dispute's code (`logistics`), empty without dispute.";
    "dispute.sub_code" => DisputeSubCode: Type::Text, "The part of the code after `/` (`missing-delivery-note`).";
    "dispute.amount" => DisputeAmount: Type::Money, "The disputed amount (the outstanding when not given).";
    "dispute.opened" => DisputeOpened: Type::Date, "The day the dispute was opened.";
    "dispute.target_date" => DisputeTargetDate: Type::Date, "Target resolution date.";
    "promise.active" => PromiseActive: Type::Bool, "Whether a payment promise is pending.";
    "promise.date" => PromiseDate: Type::Date, "The promised payment date.";
    "promise.amount" => PromiseAmount: Type::Money, "The promised amount (the outstanding when not given).";
    "history.messages" => HistoryMessages: Type::Number, "Emails, SMS and letters sent for this invoice so far.";
    "history.calls" => HistoryCalls: Type::Number, "Calls assigned for this invoice so far.";
    "history.promises_made" => HistoryPromisesMade: Type::Number, "Payment promises made on this invoice.";
    "history.promises_broken" => HistoryPromisesBroken: Type::Number, "Payment promises broken on this invoice.";
    "history.disputes" => HistoryDisputes: Type::Number, "Disputes opened on this invoice.";
    "history.last_step" => HistoryLastStep: Type::Text, "Name of the last step that fired (empty before the first).";
    "history.paid" => HistoryPaid: Type::Money, "Total received so far (payments and credit notes).";
    "payment.amount" => PaymentAmount: Type::Money, "The last payment's amount (zero without payment).";
    "payment.date" => PaymentDate: Type::Date, "The last payment's date.";
    "today" => Today: Type::Date, "The day being processed.";
    "invoice.last_failed_payment" => InvoiceLastFailedPayment: Type::Text, "The reason of the last failed payment attempt (`INSUFFICIENT_FUNDS`) until a payment arrives; absent before any (a comparison with it is false).";
    "event.tag" => EventTag: Type::Text, "In `on tag added` / `on tag removed`: the tag; absent elsewhere.";
    "event.reason" => EventReason: Type::Text, "The reason of the event being handled: a failed payment's, a write-off's or its reversal's, a payment reversal's (`returned_direct_debit`, `unpaid_lcr`, `bounced_cheque`, `other`), the `because` of a move to another scenario; absent elsewhere.";
    "invoice.payment_means" => InvoicePaymentMeans: Type::Text, "How the invoice is expected to be paid: `transfer`, `sepa_direct_debit_core`, `sepa_direct_debit_b2b`, `lcr`, `cheque` or `card`; absent when unknown (`==` with it is false, `!=` true).", one_of ["transfer", "sepa_direct_debit_core", "sepa_direct_debit_b2b", "lcr", "cheque", "card"];
    "history.reversals" => HistoryReversals: Type::Number, "Payments reversed on this invoice so far (returned direct debits, unpaid LCRs, bounced cheques …).";
}

/// Looks a dotted path up.
pub fn field(path: &str) -> Option<&'static FieldDoc> {
    fields().iter().find(|f| f.path == path)
}

/// The values `event.reason` takes in `on payment reversed` (elsewhere it is free text: a
/// failed payment's or a write-off's reason, a move's `because`).
pub const PAYMENT_REVERSED_REASONS: &[&str] = &[
    "returned_direct_debit",
    "unpaid_lcr",
    "bounced_cheque",
    "other",
];

/// The roots a path can start with.
pub const ROOTS: &[&str] = &[
    "invoice", "customer", "dispute", "promise", "history", "payment", "today", "event",
];

/// An event a handler can name (`on dispute opened { … }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum EventName {
    DisputeOpened,
    DisputeResolved,
    PromiseMade,
    PromiseKept,
    PromiseBroken,
    Payment,
    Paid,
    CreditNote,
    WriteOff,
    RiskChanged,
    ContactBounced,
    TaskOutcome,
    /// A `per customer` account returned to clear (nothing overdue any more).
    Clear,
    TagAdded,
    TagRemoved,
    WriteOffReversed,
    PaymentFailed,
    ScenarioChanged,
    PaymentReversed,
}

/// Every handler event: its words and meaning.
pub const EVENTS: &[(&str, EventName, &str)] = &[
    (
        "dispute opened",
        EventName::DisputeOpened,
        "A dispute was opened on the invoice. Default: pause this invoice.",
    ),
    (
        "dispute resolved",
        EventName::DisputeResolved,
        "The dispute was resolved. Default: resume.",
    ),
    (
        "promise made",
        EventName::PromiseMade,
        "The customer promised a payment date. Default: wait until the promised date plus grace.",
    ),
    (
        "promise kept",
        EventName::PromiseKept,
        "The promised payment arrived by the promised date plus grace. Default: resume.",
    ),
    (
        "promise broken",
        EventName::PromiseBroken,
        "The promised date plus grace passed without full payment. Default: resume.",
    ),
    (
        "payment",
        EventName::Payment,
        "A partial payment was received (the invoice stays open).",
    ),
    (
        "paid",
        EventName::Paid,
        "The invoice is paid (outstanding at or under the tolerance). Default: close.",
    ),
    (
        "credit note",
        EventName::CreditNote,
        "A credit note reduced the outstanding.",
    ),
    (
        "write off",
        EventName::WriteOff,
        "The invoice was written off. Default: close.",
    ),
    (
        "risk changed",
        EventName::RiskChanged,
        "The customer's risk score changed.",
    ),
    (
        "contact bounced",
        EventName::ContactBounced,
        "A message to one of the customer's contacts bounced.",
    ),
    (
        "task outcome",
        EventName::TaskOutcome,
        "A person recorded the outcome of a call or task.",
    ),
    (
        "clear",
        EventName::Clear,
        "A `per customer` account has nothing overdue any more (it leaves its level).",
    ),
    (
        "tag added",
        EventName::TagAdded,
        "The customer gained a tag (`event.tag`); conditions see it from this day.",
    ),
    (
        "tag removed",
        EventName::TagRemoved,
        "The customer lost a tag (`event.tag`); conditions no longer see it from this day.",
    ),
    (
        "write off reversed",
        EventName::WriteOffReversed,
        "A write-off was reversed: the case is active again at the step it stood at.",
    ),
    (
        "payment failed",
        EventName::PaymentFailed,
        "A payment attempt failed (`event.reason`, also `invoice.last_failed_payment`).",
    ),
    (
        "scenario changed",
        EventName::ScenarioChanged,
        "A person moved the case to this scenario (`event.reason` says why); runs in the new scenario.",
    ),
    (
        "payment reversed",
        EventName::PaymentReversed,
        "A payment came back (`event.reason`: `returned_direct_debit`, `unpaid_lcr`, `bounced_cheque`, `other`): the outstanding grew back; a case closed as paid is active again at the step it stood at.",
    ),
];

pub fn event(words: &str) -> Option<EventName> {
    EVENTS
        .iter()
        .find(|(w, _, _)| *w == words)
        .map(|(_, e, _)| *e)
}

impl EventName {
    pub fn words(self) -> &'static str {
        EVENTS
            .iter()
            .find(|(_, e, _)| *e == self)
            .map_or("", |(w, _, _)| w)
    }
}

/// Who a message, call or task can be addressed or assigned to. Customer-side roles are
/// resolved through the customer's contacts; internal roles through the engine's config.
pub const ROLES: &[(&str, &str)] = &[
    ("accounting", "The customer's accounts-payable contact."),
    (
        "operations",
        "The customer's operational contact (the buyer's team).",
    ),
    ("purchasing", "The customer's purchasing department."),
    (
        "legal",
        "The customer's legal representative (formal notices).",
    ),
    ("management", "The customer's management."),
    ("main", "The customer's main contact."),
    (
        "collector",
        "Our credit collector in charge of the account.",
    ),
    ("sales", "Our sales owner of the account."),
    ("credit-manager", "Our credit manager."),
    ("account-manager", "Our key-account manager."),
];

pub fn is_role(name: &str) -> bool {
    ROLES.iter().any(|(r, _)| *r == name)
}

/// Fields a `customer ID { … }` test line may set, with their types.
pub fn test_customer_fields() -> &'static [(&'static str, Type)] {
    static FIELDS: std::sync::LazyLock<Vec<(&'static str, Type)>> =
        std::sync::LazyLock::new(|| {
            vec![
                ("name", Type::Text),
                ("segment", Type::Text),
                ("risk_score", Type::Number),
                ("credit_insured", Type::Bool),
                ("tags", Type::List(Box::new(Type::Text))),
                ("language", Type::Text),
                ("payment_terms_days", Type::Number),
                ("scenario", Type::Text),
                // The contractual late-payment rate, yearly percent (`late_interest_rate 12.5`).
                ("late_interest_rate", Type::Number),
            ]
        });
    &FIELDS
}

/// Fields an `invoice ID { … }` test line may set (`customer`, `amount`, `issued`, `due` are
/// required).
pub const TEST_INVOICE_FIELDS: &[(&str, Type)] = &[
    ("customer", Type::Text),
    ("amount", Type::Money),
    ("issued", Type::Date),
    ("due", Type::Date),
    ("outstanding", Type::Money),
    ("po_number", Type::Text),
    // The invoice's own late-payment rate, yearly percent, over its customer's.
    ("late_interest_rate", Type::Number),
    // Starting mid-way and catching up (see LANGUAGE.md section 13).
    ("dunning_step", Type::Text),
    ("dunning_date", Type::Date),
    ("dunning_attempts", Type::Number),
    ("catch_up", Type::Text),
    // Several due dates (LANGUAGE.md, "Installments"): `"2026-01-31 30%; 2026-03-31 rest"`.
    ("installments", Type::Text),
];

/// Business-day calendars the `calendar` setting may name.
pub const CALENDARS: &[&str] = &["fr", "none"];

/// The body a statement stands in: a step's or an event handler's (with the `if` and `else`
/// blocks inside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Step,
    Handler,
}

/// Every statement and action, by the keywords it starts with (as `relance.pest` spells them,
/// and as [`StmtKind::keywords`](crate::syntax::ast::StmtKind::keywords) gives them), with the
/// body the checker refuses it in (E0113) and why. In the order completion offers them. A test
/// keeps the phrases equal to the grammar's `statement` rule.
pub const STATEMENTS: &[(&str, Option<(Body, &str)>)] = &[
    (
        "skip when",
        Some((
            Body::Handler,
            "`skip when` skips a step: it has no meaning in a handler",
        )),
    ),
    ("stop when", None),
    ("stop", None),
    ("if", None),
    ("goto", None),
    ("pause", None),
    (
        "resume",
        Some((
            Body::Step,
            "`resume` ends a pause: use it in an event handler",
        )),
    ),
    ("wait until", None),
    ("email", None),
    ("sms", None),
    ("letter", None),
    ("call", None),
    ("task", None),
    ("webhook", None),
    ("escalate", None),
    ("alert", None),
    ("block deliveries", None),
    ("unblock deliveries", None),
    ("charge", None),
    ("tag", None),
];

/// Why the statement starting with `keywords` may not stand in `body`; `None` when it may.
pub fn refused(keywords: &str, body: Body) -> Option<&'static str> {
    STATEMENTS.iter().find_map(|(k, refused)| match refused {
        Some((b, why)) if *k == keywords && *b == body => Some(*why),
        _ => None,
    })
}

/// The statements `body` may hold, by their leading keywords, in the order of [`STATEMENTS`].
pub fn statements_in(body: Body) -> impl Iterator<Item = &'static str> {
    STATEMENTS
        .iter()
        .map(|(k, _)| *k)
        .filter(move |k| refused(k, body).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_starts_with_a_known_root_and_is_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for f in fields() {
            let root = f.path.split('.').next().unwrap_or_default();
            assert!(ROOTS.contains(&root), "{}", f.path);
            assert!(seen.insert(f.path), "duplicate {}", f.path);
        }
    }

    #[test]
    fn events_round_trip_through_their_words() {
        for (words, ev, _) in EVENTS {
            assert_eq!(event(words), Some(*ev));
            assert_eq!(ev.words(), *words);
        }
    }
}
