//! The daemon's error type: what went wrong, in terms the HTTP layer maps to status codes
//! (400 malformed, 422 invalid, 404, 409, 500) and the CLI prints.
//!
//! It owns the wording of input problems (`InputProblem`: path, field, message, and the
//! [`Scope`] telling which account of a refusal lists it); it must not know about HTTP.

use serde::Serialize;

use relance_dsl::diagnostics::JsonDiagnostic;

use super::store::StoreError;

/// One thing wrong with a request, naming where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InputProblem {
    /// The record (`invoices[2] (F-3)`), empty for the top level.
    pub path: String,
    /// The JSON key (`amount`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
    /// Which account of the refusal lists it (not written out).
    #[serde(skip)]
    pub scope: Scope,
}

/// A refused write is told in two accounts: the full one (the request checked against the
/// store) for roles that may read the data, and the request's own one (the request checked on
/// its own, which says nothing about what is stored) for roles that may not (`api::error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Found in the request itself: in both accounts.
    #[default]
    Request,
    /// Found by comparing the request with stored records (an unknown customer or invoice, a
    /// stored invoice with other values): in the full account only.
    Stored,
    /// Found in the request itself, but left out of the full account (which lists at most
    /// `MAX_PROBLEMS` problems): in the request's own account only.
    Alone,
}

impl InputProblem {
    /// A problem found in the request itself.
    pub fn new(path: String, field: Option<String>, message: impl Into<String>) -> InputProblem {
        InputProblem {
            path,
            field,
            message: message.into(),
            scope: Scope::Request,
        }
    }

    /// The same problem, in `scope`.
    pub fn scoped(self, scope: Scope) -> InputProblem {
        InputProblem { scope, ..self }
    }

    /// Whether the full account lists it.
    pub fn in_full(&self) -> bool {
        self.scope != Scope::Alone
    }

    /// Whether the request's own account lists it.
    pub fn in_own(&self) -> bool {
        self.scope != Scope::Stored
    }
}

impl std::fmt::Display for InputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.path[..], &self.field) {
            ("", Some(field)) => write!(f, "{field}: {}", self.message),
            (path, Some(field)) => write!(f, "{path}.{field}: {}", self.message),
            ("", None) => f.write_str(&self.message),
            (path, None) => write!(f, "{path}: {}", self.message),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request is not well-formed JSON of the expected shape (400).
    #[error("{message}")]
    Malformed {
        field: Option<String>,
        message: String,
    },
    /// The request is well-formed but breaks a rule (422); nothing was written. The message is
    /// the full account ([`Scope`]).
    #[error("{}", .0.iter().filter(|p| p.in_full()).map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<InputProblem>),
    /// The scenario set does not check (422).
    #[error("the scenario set has {} error(s)", .0.iter().filter(|d| d.severity == relance_dsl::Severity::Error).count())]
    Diagnostics(Vec<JsonDiagnostic>),
    #[error("no {what} {id}")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("corrupt record in the store: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Io(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("no scenario set is deployed: start with --scenarios DIR or POST /v1/scenarios")]
    NoScenarios,
}

impl DaemonError {
    /// A 422 with one problem on a top-level field.
    pub fn field(field: &str, message: impl Into<String>) -> DaemonError {
        DaemonError::Invalid(vec![InputProblem::new(
            String::new(),
            Some(field.into()),
            message,
        )])
    }
}
