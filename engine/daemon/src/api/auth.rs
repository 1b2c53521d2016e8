//! Access control: bearer tokens from the configuration, each with a role, and the matrix of
//! what each role may do (endpoint families). 401 without a valid token, 403 outside the role.
//!
//! A presented token is found in constant time: its SHA-256 digest is compared with every
//! configured token's digest (`subtle`'s constant-time equality), all of them, whichever
//! matches, so the time taken tells neither how much of a token was right nor which token
//! matched. Only the digests are kept.
//!
//! It also tells each caller what its role may know of an error ([`tell`], the restricted
//! bodies of `api::error`).
//!
//! This module owns the matrix (documented in `docs/DAEMON.md`, tested by
//! `tests/it/daemon_api.rs` and `tests/it/security.rs`) and whether `/metrics` needs a token;
//! it must not know what the endpoints do.

use std::sync::{Arc, OnceLock};

use axum::extract::{FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::super::config::{Role, Token};
use super::super::metrics::Metrics;
use super::AppState;
use super::error::{ApiError, Restricted};
use super::models::Wire;

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
    /// `GET /metrics` (unless `metrics_public`).
    Metrics,
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
            Family::Metrics => "read the metrics",
        }
    }
}

/// The access matrix.
pub fn allowed(role: Role, family: Family) -> bool {
    use Family::*;
    match role {
        Role::Admin => true,
        Role::CreditManager => {
            matches!(
                family,
                Read | DataWrite | Resolve | Deploy | Operate | Metrics
            )
        }
        Role::Sales => matches!(family, Read | Resolve | Metrics),
        Role::Integration => matches!(family, DataWrite | Resolve | Metrics),
        Role::Metrics => matches!(family, Metrics),
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::CreditManager => "credit-manager",
        Role::Sales => "sales",
        Role::Integration => "integration",
        Role::Metrics => "metrics",
    }
}

/// A configured token: its digest, holder and role.
struct Held {
    digest: [u8; 32],
    name: String,
    role: Role,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The configured tokens (digests only), and whether `/metrics` is public.
pub struct Tokens {
    held: Vec<Held>,
    metrics_public: bool,
}

/// The tokens of the configuration; `/metrics` needs one (see [`Tokens::public_metrics`]).
pub fn tokens(list: &[Token]) -> Tokens {
    Tokens {
        held: list
            .iter()
            .map(|t| Held {
                digest: digest(&t.token),
                name: t.name.clone(),
                role: t.role,
            })
            .collect(),
        metrics_public: false,
    }
}

impl Tokens {
    /// The same tokens, `/metrics` served without a token when `public` (`metrics_public`).
    pub fn public_metrics(self, public: bool) -> Tokens {
        Tokens {
            metrics_public: public,
            ..self
        }
    }

    pub fn metrics_public(&self) -> bool {
        self.metrics_public
    }

    /// The holder of `token`: compared with every configured token in constant time, no
    /// early exit.
    pub fn find(&self, token: &str) -> Option<Caller> {
        let presented = digest(token);
        let mut found = Choice::from(0);
        let mut index = 0u64;
        for (i, h) in self.held.iter().enumerate() {
            let same = h.digest.ct_eq(&presented);
            index.conditional_assign(&(i as u64), same);
            found |= same;
        }
        bool::from(found).then(|| {
            let h = &self.held[index as usize];
            Caller {
                name: h.name.clone(),
                role: h.role,
            }
        })
    }

    /// The caller a request's `Authorization: Bearer TOKEN` header names (401 otherwise).
    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .and_then(|t| self.find(t.trim()))
            .ok_or_else(ApiError::unauthorized)
    }
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
        let caller = state.tokens.caller(&parts.headers);
        match &caller {
            Ok(c) => {
                if let Some(seen) = parts.extensions.get::<Seen>() {
                    let _ = seen.0.set(c.role);
                }
            }
            Err(_) => Metrics::add(&state.engine.metrics.api_errors, 1),
        }
        caller
    }
}

/// The role of a request's caller, once [`Caller`] has found it (for [`tell`]).
#[derive(Debug, Clone, Default)]
struct Seen(Arc<OnceLock<Role>>);

/// Middleware over every route: an error answer carrying a [`Restricted`] body gets that body
/// instead of its own when its caller's role (none without a valid token) is outside the
/// restricted body's family: a role that may not read the data is not told what is stored, and
/// only the admin role is told why the daemon failed.
pub async fn tell(mut req: Request, next: Next) -> Response {
    let seen = Seen::default();
    req.extensions_mut().insert(seen.clone());
    let mut resp = next.run(req).await;
    if let Some(r) = resp.extensions_mut().remove::<Restricted>()
        && !seen.0.get().is_some_and(|role| allowed(*role, r.family))
    {
        let status = resp.status();
        resp = (status, Wire(r.body)).into_response();
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_by_their_digest_only() {
        let token = |name: &str, token: &str, role| Token {
            name: name.into(),
            token: token.into(),
            role,
        };
        let t = tokens(&[
            token("ops", "admin-token-0000000001", Role::Admin),
            token("erp", "integration-token-0004", Role::Integration),
            token("prom", "metrics-token-00000005", Role::Metrics),
        ]);
        let rows = [
            ("admin-token-0000000001", Some(("ops", Role::Admin))),
            ("integration-token-0004", Some(("erp", Role::Integration))),
            ("metrics-token-00000005", Some(("prom", Role::Metrics))),
            ("admin-token-000000000", None),
            ("admin-token-00000000011", None),
            ("", None),
        ];
        for (presented, want) in rows {
            let got = t.find(presented).map(|c| (c.name, c.role));
            assert_eq!(got, want.map(|(n, r)| (n.to_string(), r)), "{presented:?}");
        }
        assert!(!t.metrics_public());
        assert!(t.public_metrics(true).metrics_public());
    }
}
