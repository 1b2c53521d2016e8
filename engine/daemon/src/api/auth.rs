//! Access control: bearer tokens from the configuration, each with a role, and the matrix of
//! what each role may do (endpoint families). 401 without a valid token, 403 outside the role.
//!
//! This module owns the matrix (documented in `docs/DAEMON.md`, tested by
//! `tests/it/daemon_api.rs`); it must not know what the endpoints do.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::super::config::{Role, Token};
use super::super::metrics::Metrics;
use super::AppState;
use super::error::ApiError;

/// What an endpoint does, for access control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Every `GET /v1/...` view, the reports (`/v1/reports/...`) included.
    Read,
    /// Customers, invoices, imports (JSON, and CSV, FEC and camt.053 files) and events.
    DataWrite,
    /// Resolving a dispute and recording a task outcome (the sales side's part).
    Resolve,
    /// Deploying a scenario set.
    Deploy,
    /// `POST /v1/run`, re-queuing dead letters.
    Operate,
    /// The virtual clock and backups.
    Admin,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Read => "read",
            Family::DataWrite => "write data",
            Family::Resolve => "resolve disputes and record task outcomes",
            Family::Deploy => "deploy scenarios",
            Family::Operate => "operate the scheduler and outbox",
            Family::Admin => "administer",
        }
    }
}

/// The access matrix.
pub fn allowed(role: Role, family: Family) -> bool {
    use Family::*;
    match role {
        Role::Admin => true,
        Role::CreditManager => matches!(family, Read | DataWrite | Resolve | Deploy | Operate),
        Role::Sales => matches!(family, Read | Resolve),
        Role::Integration => matches!(family, DataWrite | Resolve),
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::CreditManager => "credit-manager",
        Role::Sales => "sales",
        Role::Integration => "integration",
    }
}

/// Token → (holder, role).
pub type Tokens = HashMap<String, (String, Role)>;

pub fn tokens(list: &[Token]) -> Tokens {
    list.iter()
        .map(|t| (t.token.clone(), (t.name.clone(), t.role)))
        .collect()
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

impl Caller {
    pub fn require(&self, family: Family) -> Result<(), ApiError> {
        if allowed(self.role, family) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "role {} may not {}",
                role_name(self.role),
                family.name()
            )))
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Metrics::add(&state.engine.metrics.api_requests, 1);
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Some(token) = header.strip_prefix("Bearer ").map(str::trim) else {
            Metrics::add(&state.engine.metrics.api_errors, 1);
            return Err(ApiError::unauthorized());
        };
        match state.tokens.get(token) {
            Some((name, role)) => Ok(Caller {
                name: name.clone(),
                role: *role,
            }),
            None => {
                Metrics::add(&state.engine.metrics.api_errors, 1);
                Err(ApiError::unauthorized())
            }
        }
    }
}
