//! The wire contract of the HTTP API: every JSON body the API answers with (and the request
//! bodies it parses into a shape of its own), as serde types, in this one module. The base of
//! a future OpenAPI document and of clients such as a web console.
//!
//! Conventions, for every type here and those it re-exports: money is a decimal string
//! (`"1200.50"`, never a float), dates are `YYYY-MM-DD` strings, timestamps RFC 3339 (UTC),
//! and an absent optional value is `null` unless the field says it is left out. On the wire
//! every object's keys are in alphabetical order, at every depth ([`Wire`]): the order the API
//! has always written, and the one the stored replies of idempotent writes are replayed in.
//!
//! Some bodies are records the engine, the store or the libraries already define (a write's
//! report, an outbox message, an agenda entry, a customer, an invoice, a case, the reports,
//! an import's changes); they are re-exported here under the name the API gives them, and
//! changing them changes the API. This module owns the shapes; it must not compute anything
//! (handlers fill these types) nor know the routes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::case_action::{CaseAction, CaseActionRecord};
use crate::health::DispatcherState;
use relance_core::domain::{Customer, Invoice};
use relance_core::runtime::Instance;
use relance_dsl::diagnostics::JsonDiagnostic;

/// A scenario set as text (`*.relance` files, templates, rules), in `POST /v1/scenarios`.
pub use super::super::catalog::Bundle;
/// What one day's run did (timers, transitions, cases opened, actions, batches, millis):
/// `POST /v1/run` lists one per day run.
pub use super::super::daily::DayReport;
/// The reply of `POST /v1/scenarios`: the deployment's number, whether the set changed, and
/// its scenarios as `[name, version]` pairs.
pub use super::super::engine::DeployReport;
/// The reply of every data write (customers, invoices, imports, events): how many records of
/// each kind were written and what the engine did because of them.
pub use super::super::engine::WriteReport;
/// A problem with a request's data (record path, field, message), in a 422's `problems`.
pub use super::super::error::InputProblem;
/// One entry of the agenda (a call, task or alert), and the reply of
/// `POST /v1/agenda/{id}/outcome`.
pub use super::super::model::AgendaEntry;
/// One line of an invoice's timeline.
pub use super::super::model::HistoryEntry;
/// An import batch as recorded (`imports` tree): its id, digest, day, files and counts.
pub use super::super::model::ImportRecord;
/// An outbox message as the outbox lists it, and the reply of `POST /v1/outbox/{id}/retry`.
pub use super::super::model::Message;
/// Where a message stands: `pending`, `retrying`, `dead` or `delivered`.
pub use super::super::model::MessageStatus;
/// What a file import changes (or would change): new and updated records, events, notes and
/// the bank transactions proposed for a person to match.
pub use relance_data::import::Changes;
/// What a camt.053 statement held and what became of its transactions.
pub use relance_data::import::camt053::CamtSummary;
/// What a FEC held (lines, entries, customer lines, encoding).
pub use relance_data::import::fec::FecSummary;
/// `GET /v1/reports/activity` (JSON): what the engine did over a period.
pub use relance_sim::reports::activity::Activity as ActivityReport;
/// `GET /v1/reports/aged` (JSON): the aged balance on a day.
pub use relance_sim::reports::aged::AgedBalance as AgedReport;
/// One customer's payment behaviour, a row of `GET /v1/reports/behaviour`.
pub use relance_sim::reports::behaviour::Behaviour;
/// `GET /v1/reports/dso` (JSON): days sales outstanding on a day.
pub use relance_sim::reports::dso::Dso as DsoReport;

// ----- the encoding -------------------------------------------------------------------------

/// A response body: `T` written as JSON (`application/json`), every object's keys in
/// alphabetical order at every depth (the value goes through [`serde_json::Value`], whose
/// maps are sorted), as the stored replies of idempotent writes are.
#[derive(Debug)]
pub struct Wire<T>(pub T);

impl<T: Serialize> IntoResponse for Wire<T> {
    fn into_response(self) -> Response {
        match serde_json::to_value(&self.0) {
            Ok(v) => Json(v).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "response not serializable");
                let body = ErrorBody::new(ErrorCode::Internal, e.to_string(), None);
                match serde_json::to_value(&body) {
                    Ok(v) => (StatusCode::INTERNAL_SERVER_ERROR, Json(v)).into_response(),
                    Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }
        }
    }
}

// ----- errors -------------------------------------------------------------------------------

/// The body of every error response (4xx and 5xx).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What kind of error (it goes with the status).
    pub error: ErrorCode,
    /// A readable explanation (several lines when several problems).
    pub message: String,
    /// The request field the error is about: a JSON key (`amount`), `[i].key` in a JSON array,
    /// a query parameter, a path parameter (`id`), the `Idempotency-Key` header, or a file's
    /// column; `null` when the error is not about one field.
    pub field: Option<String>,
    /// What some errors add (written at the top level, next to `error` and `message`).
    #[serde(flatten)]
    pub details: ErrorDetails,
}

impl ErrorBody {
    /// An error without details.
    pub fn new(error: ErrorCode, message: String, field: Option<String>) -> ErrorBody {
        ErrorBody {
            error,
            message,
            field,
            details: ErrorDetails::None,
        }
    }
}

/// The `error` code of an error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body, a parameter or a header is not of the expected shape.
    Malformed,
    /// 401: no valid bearer token.
    Unauthorized,
    /// 403: the token's role may not do this.
    Forbidden,
    /// 404: no such record.
    NotFound,
    /// 409: the request conflicts with the current state (e.g. re-queuing a message that is
    /// not dead, importing invoices with no scenario set deployed).
    Conflict,
    /// 422: well-formed but breaking a rule; nothing was written.
    Invalid,
    /// 422: the scenario set sent does not check.
    InvalidScenarios,
    /// 408: the request body did not arrive within `http.body_timeout_secs` (the connection
    /// is closed).
    Timeout,
    /// 500: the daemon failed.
    Internal,
}

/// The extra fields of an error body, by kind of error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ErrorDetails {
    /// None: the body is `error`, `message` and `field`.
    None,
    /// A rejected write (`error: invalid`).
    Invalid {
        /// Every problem found (the request is checked whole); `field` is the first's.
        problems: Vec<InputProblem>,
    },
    /// A scenario set that does not check (`error: invalid_scenarios`, `field: files`).
    Scenarios {
        /// The compiler's diagnostics (file, 1-based line and column, severity, code).
        diagnostics: Vec<JsonDiagnostic>,
    },
    /// A file import that was refused (`error: invalid`).
    File {
        /// The 1-based line of the first problem in the file, `null` when it is not about a
        /// line (a record of the data as it would be after the import).
        line: Option<u64>,
        /// The problems listed (a long list is cut; see `omitted`).
        problems: Vec<FileProblem>,
        /// How many more problems were found than are listed.
        omitted: usize,
    },
}

/// One problem of a refused file import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FileProblem {
    /// Where: `FILE:LINE` in the file, or the record (`invoices[2] (F-3)`) of the data as it
    /// would be after the import.
    pub path: String,
    /// The 1-based line in the file; left out when the problem is not on a line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The file's column (its header as written) or the record's field; left out when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

// ----- health and operations --------------------------------------------------------------

/// `GET /healthz` (no token): 200 when ready, 503 with the same body naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` (200) or `unavailable` (503).
    pub status: &'static str,
    /// The daemon's today (YYYY-MM-DD), on its clock (wall or virtual).
    pub today: NaiveDate,
    /// The last day whose daily run completed (YYYY-MM-DD); `null` before the first run or
    /// when the store cannot be read.
    pub run_through: Option<NaiveDate>,
    /// `ok`, or the store's last failure (a commit or flush failed and a probe write since
    /// failed too; the probe is made only after a failure).
    pub store: String,
    /// `alive`, `stalled` (its loop has not run within its limit), `stopped`, or `not_running`
    /// (the API embedded without a dispatcher).
    pub dispatcher: DispatcherState,
    /// What is wrong, one line each; empty when ready.
    pub problems: Vec<String>,
}

/// `POST /v1/run`: the days run to catch up with today.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunReply {
    /// The daemon's today (YYYY-MM-DD).
    pub today: NaiveDate,
    /// One report per day run, oldest first; empty when today was already run.
    pub days: Vec<DayReport>,
}

/// `GET /v1/clock` (virtual clock only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ClockReply {
    /// The virtual today (YYYY-MM-DD).
    pub today: NaiveDate,
    /// Always `true`: the endpoint exists only with `--clock virtual`.
    pub r#virtual: bool,
    /// The last day whose daily run completed (YYYY-MM-DD); `null` before the first run.
    pub run_through: Option<NaiveDate>,
}

/// The body of `POST /v1/clock/advance`: exactly one of `days` and `to`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceBody {
    /// How many days to move forward (0 runs nothing new).
    pub days: Option<u64>,
    /// The day to move to (YYYY-MM-DD), today or later.
    pub to: Option<NaiveDate>,
    /// `false`: run every day before the new today but hold the new today's run (a restart
    /// included) until the next advance or `POST /v1/run`, so that the day's facts can be
    /// sent first. Default `true`.
    #[serde(default)]
    pub run: Option<bool>,
}

/// `POST /v1/clock/advance`: where the clock stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AdvanceReply {
    /// The new virtual today (YYYY-MM-DD).
    pub today: NaiveDate,
    /// How many days were run on the way.
    pub days: usize,
}

// ----- invoice view -------------------------------------------------------------------------

/// `GET /v1/invoices/{id}`: an invoice, its case, what comes next and what happened.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceView {
    /// The invoice as imported (amounts as decimal strings, dates YYYY-MM-DD).
    pub invoice: Invoice,
    /// The case's state (`active`, `paused`, `waiting`, `closed`, `error`, `unassigned`);
    /// `new` before the case opens (an invoice issued after today, or recorded since the
    /// day's run: cases open only in a daily run).
    pub state: Option<&'static str>,
    /// The case as the engine keeps it (scenario and version, status, outstanding and paid
    /// amounts, dispute, promise, counters…); `null` before it opens.
    pub case: Option<Instance>,
    /// The deployment the case runs with (its scenario version, rules and templates); `null`
    /// before it opens, without a scenario, or for a case recorded before deployments were
    /// pinned (it runs with the latest deployment holding its version).
    pub deployment: Option<u64>,
    /// The next day the engine looks at the case (YYYY-MM-DD): before it opens, the day of
    /// the run that opens it (its issue date, or the next run); `null` when nothing is
    /// scheduled.
    pub next_tick: Option<NaiveDate>,
    /// The name of the scenario step to consider next; `null` when none is left or before
    /// the case opens.
    pub next_step: Option<String>,
    /// For an invoice with installments: each of them as it stands today (`number` from 1,
    /// `due`, `amount`, `unpaid`: what is left of it, payments paying the earliest first;
    /// `days_late`: days since its due date, negative before it; `overdue`: past its date and
    /// not paid in full), from the case's outstanding (the invoice's before the case opens).
    /// Absent for an invoice with one due date.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub installments: Vec<relance_core::runtime::installments::Standing>,
    /// Every recorded transition, oldest first.
    pub timeline: Vec<HistoryEntry>,
    /// The undelivered messages (pending, retrying, dead) about this invoice.
    pub outbox: Vec<PendingMessage>,
}

/// An undelivered message about an invoice, in its view.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PendingMessage {
    /// The message id (for `POST /v1/outbox/{id}/retry`).
    pub id: u64,
    /// The day the action was decided (YYYY-MM-DD).
    pub date: NaiveDate,
    /// The action in scenario syntax (`email reminder-1 to accounting`).
    pub action: String,
    /// `pending`, `retrying` or `dead`.
    pub status: MessageStatus,
    /// Why the last attempt failed; `null` when none has.
    pub last_error: Option<String>,
}

// ----- customer view ------------------------------------------------------------------------

/// `GET /v1/customers/{id}?limit=N&after=ID`: a customer, its totals, and one page of its
/// invoices (in invoice id order, bytewise) with their open cases, disputes, promises and what
/// comes next. `outstanding` and `counts` cover every invoice of the customer, on every page;
/// `invoices`, `open_invoices`, `disputes`, `promises` and `next_actions` cover only the
/// page's invoices (all of them when the customer has no more than `limit`, 100 by default).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerView {
    /// The customer as imported (its `credit_cover` with the deadlines imported with it).
    pub customer: Customer,
    /// The customer's credit cover as its cases run with it: its insurer's deadlines from the
    /// data folder's `insurers.csv` when the daemon has that file (an insurer the file does not
    /// list gets none), else as imported. Left out for a customer without cover.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub cover_in_force: Option<relance_core::insurance::CreditCover>,
    /// The sum of the open cases' outstanding amounts, over all the customer's invoices
    /// (decimal string; currencies are not converted, so a customer billed in two currencies
    /// gets a mixed sum).
    pub outstanding: Decimal,
    /// How many invoices, open cases, cases to open, disputes and promises the customer has
    /// (all its invoices, not only the page's).
    pub counts: CustomerCounts,
    /// The ids of the page's invoices, in id order, whatever their state (closed ones too).
    pub invoices: Vec<String>,
    /// The page's invoices whose case is open, in invoice id order (bytewise).
    pub open_invoices: Vec<OpenInvoice>,
    /// The disputes of the page's open cases.
    pub disputes: Vec<DisputeView>,
    /// The pending payment promises of the page's open cases.
    pub promises: Vec<PromiseView>,
    /// What happens next to the page's invoices and when, by date (cases to open, steps,
    /// ends of waits).
    pub next_actions: Vec<NextAction>,
    /// Messages to the customer waiting out the contact cadence's gap (all its invoices, not
    /// only the page's), in release order: when each goes out and for which invoice.
    pub waiting: Vec<WaitingMessage>,
    /// The customer's `per customer` accounts (one per scenario and currency) and the level
    /// each stands in.
    pub accounts: Vec<AccountView>,
    /// The cursor of the next page (the last id of `invoices`; send it as `after`); left out
    /// on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A customer's counts, over all its invoices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CustomerCounts {
    /// Every invoice of the customer, whatever its state.
    pub invoices: u64,
    /// Invoices whose case is open (`open_invoices`, page by page).
    pub open: u64,
    /// Invoices whose case has not opened yet (a `case opens` next action each).
    pub to_open: u64,
    /// Open cases with a dispute.
    pub disputes: u64,
    /// Open cases with a pending payment promise.
    pub promises: u64,
}

/// An invoice whose case is open, in a customer's view.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OpenInvoice {
    /// The invoice id.
    pub id: String,
    /// The invoice's amount, taxes included (decimal string).
    pub amount: Decimal,
    /// ISO 4217 code (`EUR`).
    pub currency: String,
    /// The due date (YYYY-MM-DD).
    pub due: NaiveDate,
    /// What remains to be paid (decimal string).
    pub outstanding: Decimal,
    /// The case's state (`active`, `paused`, `waiting`, `error`, `unassigned`).
    pub state: &'static str,
    /// The scenario the case follows.
    pub scenario: String,
    /// The next day the engine looks at the case (YYYY-MM-DD); `null` when none is scheduled.
    pub next_tick: Option<NaiveDate>,
    /// The name of the scenario step to consider next; `null` when none is left.
    pub next_step: Option<String>,
}

/// An open dispute, in a customer's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DisputeView {
    /// The disputed invoice.
    pub invoice: String,
    /// The dispute's code (`quality`, `logistics/missing-delivery-note`…).
    pub code: String,
    /// The day it was opened (YYYY-MM-DD).
    pub opened: NaiveDate,
    /// The disputed amount (decimal string); `null` when the whole invoice is disputed.
    pub amount: Option<Decimal>,
    /// The day it should be resolved by (YYYY-MM-DD); `null` when none was set.
    pub target_date: Option<NaiveDate>,
}

/// A pending payment promise, in a customer's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PromiseView {
    /// The invoice the promise is about.
    pub invoice: String,
    /// The promised payment day (YYYY-MM-DD).
    pub date: NaiveDate,
    /// The promised amount (decimal string); `null` for the whole outstanding amount.
    pub amount: Option<Decimal>,
}

/// A message held by the contact cadence until its gap ends (`cadence 5 days`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WaitingMessage {
    /// The day it goes out, merged with that day's messages (YYYY-MM-DD).
    pub until: NaiveDate,
    /// The day it was due, before the gap held it.
    pub due_on: Option<NaiveDate>,
    /// The invoice it is about.
    pub invoice: String,
    /// The step that decided it.
    pub step: String,
    /// The action in scenario syntax (`email "reminder-2" to accounting`).
    pub action: String,
}

/// A `per customer` account of the customer: its scenario, currency and level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    /// The `per customer` scenario.
    pub scenario: String,
    /// The account's currency.
    pub currency: String,
    /// The level it stands in; `null` when clear.
    pub level: Option<String>,
    /// Since when it stands there.
    pub since: Option<NaiveDate>,
    /// The overdue invoices at its last evaluation.
    pub invoices: Vec<String>,
}

/// Something that will happen to one of a customer's invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NextAction {
    /// When (YYYY-MM-DD).
    pub date: NaiveDate,
    /// The invoice.
    pub invoice: String,
    /// What: `case opens`, `step NAME`, `end of wait (REASON)` or `promise check`.
    pub what: String,
}

// ----- agenda, outbox, scenarios ------------------------------------------------------------

/// `GET /v1/agenda?from=&to=&assignee=&limit=N&after=DAY:ID`: one page of the calls, tasks
/// and alerts from `from` to `to` (at most `limit`, 100 by default, taken in day then entry id
/// order), by day and assignee.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgendaReply {
    /// The first day listed (YYYY-MM-DD; default today).
    pub from: NaiveDate,
    /// The last day listed (YYYY-MM-DD; default `from`).
    pub to: NaiveDate,
    /// Day (YYYY-MM-DD) → assignee (`unassigned` when none) → entries (by id); days and
    /// assignees without entries on the page are left out.
    pub days: BTreeMap<NaiveDate, BTreeMap<String, Vec<AgendaEntry>>>,
    /// The cursor of the next page (`DAY:ID`, the page's last entry in day then id order;
    /// send it as `after`); left out on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /v1/outbox`: counts by status and a page of messages.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutboxReply {
    /// How many messages stand in each status.
    pub counts: OutboxCounts,
    /// The messages asked for (`status`, `after`, `limit`), oldest first.
    pub messages: Vec<Message>,
}

/// The outbox's messages by status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OutboxCounts {
    /// Waiting for their first attempt.
    pub pending: usize,
    /// Failed transiently, to be tried again.
    pub retrying: usize,
    /// Given up: they need a person (`POST /v1/outbox/{id}/retry`).
    pub dead: usize,
    /// Delivered (the messages kept in the store's delivered tree).
    pub delivered: usize,
}

/// `GET /v1/scenarios`: every deployment of a scenario set, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeploymentsReply {
    /// The deployments.
    pub deployments: Vec<DeploymentView>,
}

/// One deployment of a scenario set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeploymentView {
    /// Its number (1 for the first; the highest is current).
    pub deployment: u64,
    /// Scenario name → version (a content hash; cases stay pinned to the version they
    /// started with).
    pub scenarios: BTreeMap<String, String>,
    /// The set's files, as their paths relative to the set's folder.
    pub files: Vec<String>,
}

/// The body of `POST /v1/agenda/{id}/outcome`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct OutcomeBody {
    /// What came of the call or task (free text, e.g. `reached`); not empty.
    pub outcome: String,
    /// The day the customer promised to pay (YYYY-MM-DD), if they did; not in the past.
    #[serde(default)]
    pub promised_date: Option<NaiveDate>,
}

/// The body of `POST /v1/scenarios` (besides `"migrate"`): the set's files as a map, a
/// folder on the daemon's machine (admin only), or the older lists. A body of none of these
/// forms is a 400 whose message names this type (`untagged enum DeployBody`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum DeployBody {
    /// `{"files": {PATH: TEXT}}`: each file of the set by its path relative to the set's
    /// folder (`std.relance`, `templates/reminder-1.fr.txt`, `rules/key_account.rhai`).
    Map {
        /// Relative path → text.
        files: BTreeMap<String, String>,
    },
    /// `{"path": DIR}`: the set's folder, read by the daemon.
    Path {
        /// The folder (absolute, or relative to the daemon's working directory).
        #[schema(value_type = String)]
        path: PathBuf,
    },
    /// `{"files": [{"path", "text"}], "templates": {NAME: TEXT}, "rules": [...]}`: the set as
    /// text (`templates` and `rules` may be left out).
    Bundle(Bundle),
}

// ----- reports ------------------------------------------------------------------------------

/// `GET /v1/reports/behaviour` (JSON): each customer's payment behaviour on a day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BehaviourReport {
    /// The day of the report (YYYY-MM-DD).
    pub at: NaiveDate,
    /// One row per customer.
    #[schema(value_type = Vec<Object>)]
    pub customers: Vec<Behaviour>,
}

// ----- file imports -------------------------------------------------------------------------

/// `POST /v1/import/csv/{kind}`, `/v1/import/events`, `/v1/import/fec` and
/// `/v1/import/camt053`: what the file held, what it changes, and what was written.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReply {
    /// Whether this was a dry run (`dry_run=true`: nothing written).
    pub dry_run: bool,
    /// Whether the file changes the data.
    pub changed: bool,
    /// Whether anything was written (changed and not a dry run).
    pub written: bool,
    /// The same bytes with the same options were imported before: this batch's record, and
    /// nothing was applied again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_imported: Option<ImportRecord>,
    /// The batch recorded by this import (when written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<ImportRecord>,
    /// What the file held.
    pub file: FileSummary,
    /// What the file changes (or would change).
    #[schema(value_type = Object)]
    pub changes: Changes,
    /// The write's report; `null` when nothing was written.
    pub write: Option<WriteReport>,
}

/// `POST /v1/import/batch`: several files imported as one atomic batch.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// The files, in any order (they are read customers first, then invoices, then facts).
    pub files: Vec<BatchFile>,
    /// Say what would change, write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// One file of a [`BatchRequest`].
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchFile {
    /// The file's name: problems name it, and a CSV's kind is guessed from it.
    pub name: String,
    /// `csv` (customers, contacts, invoices, payments), `events` (the data folder's
    /// `events.csv`), `fec` or `camt053`.
    pub format: String,
    /// The file's content as text …
    #[serde(default)]
    pub text: Option<String>,
    /// … or its bytes in base64 (a FEC in Windows-1252, say): exactly one of the two.
    #[serde(default)]
    pub base64: Option<String>,
    /// CSV only: `customers`, `contacts`, `invoices` or `payments` (else guessed).
    #[serde(default)]
    pub kind: Option<String>,
    /// CSV only: the file's column → the documented column.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// CSV only: `auto` (default), `fr` or `en`.
    #[serde(default)]
    pub decimals: Option<String>,
    /// CSV and FEC: payment terms in days when neither the file nor the customer gives a due date.
    #[serde(default)]
    pub default_terms: Option<u32>,
}

/// The reply of `POST /v1/import/batch`: [`ImportReply`] with every file's summary.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchReply {
    pub dry_run: bool,
    pub changed: bool,
    pub written: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_imported: Option<ImportRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<ImportRecord>,
    /// What each file held, in the order read.
    pub files: Vec<FileSummary>,
    #[schema(value_type = Object)]
    pub changes: Changes,
    pub write: Option<WriteReport>,
}

/// What an imported file held. Exactly one of `kind` (with `rows`), `fec` and `camt053` is
/// written, by the kind of file; the others are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FileSummary {
    /// The file's name (the `name` parameter, or `KIND.csv`, `fec.txt`, `statement.xml`).
    pub name: String,
    /// A CSV's kind: `customers`, `contacts`, `invoices`, `payments` or `events`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A CSV's data rows (the header not counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// A FEC's summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub fec: Option<FecSummary>,
    /// A camt.053 statement's summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub camt053: Option<CamtSummary>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire<T: Serialize>(t: T) -> String {
        serde_json::to_string(&serde_json::to_value(t).expect("value")).expect("text")
    }

    #[test]
    fn error_bodies_keep_their_fields_and_nulls() {
        let plain = ErrorBody::new(ErrorCode::NotFound, "no invoice F-9".into(), None);
        assert_eq!(
            wire(&plain),
            r#"{"error":"not_found","field":null,"message":"no invoice F-9"}"#
        );
        let file = ErrorBody {
            details: ErrorDetails::File {
                line: None,
                problems: vec![FileProblem {
                    path: "invoices[0] (F-1)".into(),
                    line: None,
                    field: None,
                    message: "bad".into(),
                }],
                omitted: 0,
            },
            ..ErrorBody::new(ErrorCode::Invalid, "nothing imported".into(), None)
        };
        assert_eq!(
            wire(&file),
            r#"{"error":"invalid","field":null,"line":null,"message":"nothing imported","omitted":0,"problems":[{"message":"bad","path":"invoices[0] (F-1)"}]}"#
        );
    }

    #[test]
    fn the_clock_writes_virtual_without_its_raw_prefix() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 5).expect("date");
        let c = ClockReply {
            today: day,
            r#virtual: true,
            run_through: None,
        };
        assert_eq!(
            wire(&c),
            r#"{"run_through":null,"today":"2026-01-05","virtual":true}"#
        );
    }
}

// ----- case actions -------------------------------------------------------------------------

/// What a person does to an invoice's case, outside its scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseActionKind {
    /// Holds the case (with `reason`; until `until`, or until resumed).
    Pause,
    /// Ends a pause or a wait: the case ticks at the next daily run.
    Resume,
    /// Postpones an active case's next step to `to`.
    Postpone,
    /// Adds a note (`text`) to the case's timeline; changes nothing else.
    Note,
}

/// The body of `POST /v1/invoices/{id}/actions`: `action` and the fields it takes (another
/// action's field is refused, 400 naming it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseActionBody {
    pub action: CaseActionKind,
    /// `pause`: why (required, not empty, at most 2000 characters).
    #[serde(default)]
    pub reason: Option<String>,
    /// `pause`: the day (YYYY-MM-DD, after today) the case resumes by itself; absent, it
    /// stays paused until resumed.
    #[serde(default)]
    pub until: Option<NaiveDate>,
    /// `postpone`: the day (YYYY-MM-DD, after today) of the next step (required).
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// `note`: the note (required, not empty, at most 2000 characters).
    #[serde(default)]
    pub text: Option<String>,
}

/// A case action as recorded: the reply of `POST /v1/invoices/{id}/actions` and an item of
/// `GET /v1/invoices/{id}/actions`. The fields of other actions are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CaseActionView {
    /// The action's id (increasing across the store).
    pub id: u64,
    /// The day it was recorded.
    pub date: NaiveDate,
    pub invoice: String,
    /// Who did it: the token's name, or the console user's.
    pub by: Option<String>,
    pub action: CaseActionKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl From<CaseActionRecord> for CaseActionView {
    fn from(r: CaseActionRecord) -> CaseActionView {
        let mut v = CaseActionView {
            id: r.id,
            date: r.date,
            invoice: r.invoice,
            by: r.by,
            action: CaseActionKind::Note,
            reason: None,
            until: None,
            to: None,
            text: None,
        };
        match r.action {
            CaseAction::Pause { until, reason } => {
                v.action = CaseActionKind::Pause;
                v.reason = Some(reason);
                v.until = until;
            }
            CaseAction::Resume => v.action = CaseActionKind::Resume,
            CaseAction::Reschedule { to } => {
                v.action = CaseActionKind::Postpone;
                v.to = Some(to);
            }
            CaseAction::Note { text } => v.text = Some(text),
        }
        v
    }
}

/// `GET /v1/invoices/{id}/actions`: the case actions recorded on an invoice, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CaseActionList {
    pub invoice: String,
    pub actions: Vec<CaseActionView>,
}
