//! The credit manager's web console (`/console/…`), served by `relance serve` beside the HTTP
//! API: server-rendered pages (minijinja templates embedded in the binary), htmx vendored and
//! embedded (pages work without it), sign-in by password (argon2) or API token, sessions by
//! cookie, CSRF tokens on every POST, the API's roles and access matrix.
//!
//! `web` is the plumbing (state, router, security headers, CSRF check, sign-in extractor,
//! rendering), `session` the sessions and the sign-in limiter, `password` the hashes, `i18n`
//! the French and English words; `signin`, `today`, `customers` (with `case`, its case actions), `outbox`, `imports`, `portfolio` and `scenarios` are the pages.
//! Pages call the same `Engine` methods as the API handlers (never HTTP) and write the same
//! typed events; they must not hold engine rules.

pub mod case;
pub mod customers;
pub mod i18n;
pub mod imports;
pub mod outbox;
pub mod password;
pub mod portfolio;
pub mod scenarios;
pub mod session;
pub mod signin;
pub mod today;
pub mod web;

pub use web::{Console, router};
