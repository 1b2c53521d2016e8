//! relance-data's integration tests: one binary, one module per import format. Fixtures are
//! in `engine/data/tests-data/`.

mod import_camt053;
mod import_fec;
mod insolvency;
mod installments;
mod never_panics;
mod payments;
mod standing;
mod terms;
