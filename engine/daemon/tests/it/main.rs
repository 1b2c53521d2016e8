//! relance-daemon's integration tests: one binary. `support` starts a real server on
//! 127.0.0.1 with role tokens; the modules test the engine (store, restarts, backups), the
//! backup taken while writes go on (`backup_live`), the HTTP API and its security properties (`security`), `/healthz` readiness (`health`), and the
//! pruning of idempotency keys after their retention (`idempotency`), paginated reads
//! (`pages`), the outbox's due index (`outbox_due`), and PDF letters, dead letters without an
//! address and email dates on the engine's clock (`letters`), the contact cadence (`cadence`) and
//! account-level dunning (`accounts`) in the daily run, the case actions of the API
//! (`case_actions`), hostile request bodies (`hostile_http`), the canonical order of a day's facts against the planner (`same_day`) and
//! one import against the same data in pieces (`import_pieces`).

mod accounts;
mod aggregates;
mod backup_live;
mod cadence;
mod case_actions;
mod case_view;
mod daemon_api;
mod daemon_engine;
mod deploy;
mod differential;
mod health;
mod hostile_http;
mod idempotency;
mod import_pieces;
mod insolvency;
mod law;
mod letters;
mod message_items;
mod migration;
mod openapi;
mod opening_history;
mod outbox_due;
mod pages;
mod parity;
mod portfolio;
mod restore_ids;
mod same_day;
mod security;
mod support;
mod validation;

/// The workspace root (where `stdlib-scenarios/` and `examples/` are).
pub fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
