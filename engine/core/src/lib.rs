//! relance-core: what an invoice is and what happens to it, with no I/O.
//!
//! Data flows one way: [`domain`] values and a compiled scenario set (`relance_dsl::ir`, read
//! from disk by [`scenario_set`]) go into the [`runtime`], whose pure transition function
//! yields new states and actions. The simulator, the test runner, the planner and the daemon
//! (other crates) only differ in the clock they inject and in what they do with the actions.
//!
//! Modules:
//! - [`domain`]: customers, contacts, invoices, events, the portfolio; money is `Decimal`;
//! - [`calendar`]: French business days and public holidays;
//! - [`fact_order`]: the canonical order of one day's facts (file kind, import, line, receipt);
//! - [`interest`]: the ECB rate table and late-interest arithmetic (L441-10 C. com.);
//! - [`payment`]: payment means, payment details, why a payment came back;
//! - [`rules`]: the rhai sandbox for `rule(...)` calls, compiled once per set;
//! - [`runtime`]: case state, scenario assignment, condition evaluation, the transition
//!   function;
//! - [`insolvency`]: collective procedures, frozen invoices, the claim declaration deadline;
//! - [`insurance`]: credit insurance cover, insurer policies, deadlines from the original due
//!   date;
//! - [`terms`]: payment terms as data, due dates from terms, the L441-10 caps;
//! - [`scenario_set`]: reading a set folder (`*.relance`, `rules/`, `templates/`) from disk.
//!
//! This crate must not depend, even transitively, on an async runtime, a store, an HTTP stack,
//! a mail transport or the language server (tokio, sled, axum, hyper, lettre, reqwest,
//! tower-lsp-server): the test `core_has_no_io_dependencies` checks it with `cargo tree`.

pub mod calendar;
pub mod domain;
pub mod fact_order;
pub mod insolvency;
pub mod insurance;
pub mod interest;
pub mod payment;
pub mod rate_floor;
pub mod rules;
pub mod runtime;
pub mod scenario_set;
pub mod terms;
