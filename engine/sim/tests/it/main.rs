//! relance-sim's integration tests: one binary, one module per concern. The semantics cases
//! (`semantics/*.relance`) and timeline cases (`timelines/`) are folders of data read by
//! their module; insta snapshots are in `snapshots/`. `test_errors`: a case in error always
//! fails its test unless the test says `expect error`; `test_snapshots`: a snapshot does not
//! churn with the path typed or the scenario's title.

mod insolvency;
mod insurance;
mod late_interest;
mod never_panics;
mod repeat;
mod reports_activity;
mod reports_aged_dso;
mod reversals;
mod semantics;
mod test_errors;
mod test_snapshots;
mod timelines;

/// The workspace root (where `stdlib-scenarios/` and `docs/` are).
pub fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
