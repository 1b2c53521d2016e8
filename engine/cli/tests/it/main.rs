//! The `relance` command's integration tests: one binary that runs the real executable
//! (`CARGO_BIN_EXE_relance`) and, for the daemon, a real server on 127.0.0.1.
//!
//! - `check`: `relance check` exit statuses, and diagnostics of `rules/*.rhai` files;
//! - `commands`: `import fec`, `report`, `simulate` against what the libraries compute;
//! - `import_csv`: mapped CSV imports into a data folder;
//! - `plan`: `relance plan`, identical on any number of threads;
//! - `plan_formats`: `relance plan --format csv` and `--format parquet` against its JSON;
//! - `daemon_api_import`: imports and reports over HTTP, and their parity with the commands;
//! - `daemon_e2e`: `relance serve` as a process, with SMTP and webhooks on loopback;
//! - `crash`: the daemon–planner differential on `relance serve` processes killed with SIGKILL
//!   (sled, and PostgreSQL with a leader and a standby);
//! - `deploy`: `relance deploy` sending a local set to a real server;
//! - `import_batch`: imports as one batch (`/v1/import/batch`, `relance import --server`);
//! - `newcomer`: the README's Try-it commands, the embedded stdlib outside the checkout,
//!   `demo` leaving nothing behind, `serve` refusing to run without a token, plain logs in files;
//! - `integrity`: durable acknowledgements (strace), damaged stores refused, interrupted restores;
//! - `law`: `insurance` and the aged report with a customer under a collective procedure;
//! - `pg_standby`: a second `relance serve` on one PostgreSQL database waits, then takes over;
//! - `pg_ops`: `store verify` and `backup --data` on a PostgreSQL store, as on a sled folder;
//! - `store_copy`: `relance store copy` from sled to PostgreSQL and back;
//! - `templates`: `check` reporting template errors, `simulate` and `test` showing a fallback language.

mod check;
mod commands;
mod crash;
mod daemon_api_import;
mod daemon_e2e;
mod deploy;
mod import_batch;
mod import_csv;
mod integrity;
mod law;
mod newcomer;
#[path = "../../../daemon/tests/it/parity.rs"]
mod parity;
mod pg_ops;
mod pg_standby;
mod plan;
mod plan_formats;
mod store_copy;
#[path = "../../../daemon/tests/it/support.rs"]
mod support;
mod templates;

/// The workspace root (where `stdlib-scenarios/` and `examples/` are).
pub fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `engine/` folder, home of every crate and its fixtures.
pub fn engine_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
