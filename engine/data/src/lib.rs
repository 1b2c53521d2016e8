//! relance-data: portfolios in and out of files.
//!
//! Modules:
//! - [`portfolio`]: reading a portfolio folder (JSON or CSV files), validating it, with
//!   errors naming file, line and field;
//! - [`import`]: accounting imports (mapped CSV, FEC, camt.053 bank statements) merged into a
//!   portfolio, and writing the portfolio back as files;
//! - [`rate_check`]: contractual late-payment rates below the L441-10 II floor;
//! - [`rates`]: the rate table of a data folder (`rates.csv`) or the built-in one;
//! - [`terms_check`]: the customers and invoices whose payment terms pass the L441-10 caps;
//! - [`generator`]: seeded synthetic portfolios for benchmarks and differential tests.
//!
//! It builds [`relance_core::domain`] values and never runs the engine: no transition, no
//! clock, no store.

pub mod generator;
pub mod import;
pub mod insurers;
pub mod portfolio;
pub mod rate_check;
pub mod rates;
pub mod terms_check;
