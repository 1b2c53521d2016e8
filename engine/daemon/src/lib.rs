//! The daemon: the durable driver of the transition function (`relance serve`).
//!
//! `store` is the storage trait and its sled engine; `driver` runs the transition function
//! over stored cases as one atomic unit of work; `engine` holds the store, the deployed sets
//! (`catalog`), the clock and the writer lock; `daily` processes due timers in batches (and prunes expired idempotency keys),
//! then `per customer` accounts (`account`) and the contact cadence (`cadence`);
//! `outbox` + `dispatcher` + `channels` (a registry of transports) + `render` (with `postal`,
//! the letters' address block) deliver effects at least once; `api` is the HTTP interface with
//! its access control, `http` the server under it (timeouts, connection limit); `config` reads
//! `relance.toml`; `backup` exports and restores the store as JSON lines; `migrate` brings an
//! older store to the current schema; `snapshot` is the read-only picture imports and reports
//! take; `verify` is the full scan of a store (on open and `relance store verify`); `health`
//! the readiness `/healthz` reports; `server` wires it all on tokio. See `docs/DAEMON.md`.

pub mod account;
pub mod aggregates;
pub mod api;
pub mod backup;
pub mod cadence;
pub mod case_action;
pub mod catalog;
pub mod channels;
pub mod clock;
pub mod config;
pub mod customer_index;
pub mod daily;
pub mod dispatcher;
pub mod driver;
pub mod engine;
pub mod error;
pub mod foresight;
pub mod health;
pub mod http;
pub mod input;
pub mod insurers;
pub mod keys;
pub mod messages;
pub mod metrics;
pub mod migrate;
pub mod model;
pub mod outbox;
pub mod portfolio;
pub mod postal;
pub mod rates;
pub mod render;
pub mod server;
pub mod snapshot;
pub mod store;
pub mod verify;

pub use engine::Engine;
pub use error::DaemonError;
