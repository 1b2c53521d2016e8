//! The daemon's error type: what went wrong, in terms the HTTP layer maps to status codes
//! (400 malformed, 422 invalid, 404, 409, 500) and the CLI prints.
//!
//! It owns the wording of input problems (`InputProblem`: path, field, message); it must not
//! know about HTTP.

use serde::Serialize;

use relance_dsl::diagnostics::JsonDiagnostic;

use super::store::StoreError;

/// One thing wrong with a request, naming where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputProblem {
    /// The record (`invoices[2] (F-3)`), empty for the top level.
    pub path: String,
    /// The JSON key (`amount`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
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
    /// The request is well-formed but breaks a rule (422); nothing was written.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
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
        DaemonError::Invalid(vec![InputProblem {
            path: String::new(),
            field: Some(field.into()),
            message: message.into(),
        }])
    }
}
