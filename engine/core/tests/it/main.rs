//! relance-core's integration tests: one binary, one module per concern.

mod applied_rate;
mod dependencies;
mod insolvency;
mod insurer;
mod rates;
mod runtime;
mod schema_values;
mod set_diagnostics;
mod standing;
mod terms;
