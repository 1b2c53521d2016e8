//! PgStore against a real PostgreSQL server: the store conformance suite, the pg-only
//! behaviour (migrations under a lock, a newer SQL schema refused, a failed commit leaves
//! nothing), and the daemon's differential test with its engine on PostgreSQL.
//!
//! The server is `RELANCE_TEST_PG` (a connection URL to a database the user may create
//! databases from); each test makes its own database and drops it. Without the variable the
//! tests print a notice and pass, except under CI (`CI` set), where they fail.

/// The daemon's differential test (issue 15: the daemon decides what the planner decides, fed
/// in random batches, restarted at random), run on PostgreSQL: the same file, its `TempDir`
/// and store from `support` here.
#[path = "../../../daemon/tests/it/differential.rs"]
mod differential;
#[path = "../../../daemon/tests/it/parity.rs"]
mod parity;
mod plans;
mod store;
mod support;

pub fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
