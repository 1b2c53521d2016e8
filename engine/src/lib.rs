//! relance-engine: the Relance dunning engine.
//!
//! Data flows one way: `domain` values (read by `portfolio`) and a compiled scenario set
//! (`relance_dsl::ir`) go into the `runtime`, whose pure transition function yields new states
//! and actions; the simulator, the test runner, the planner and the daemon only differ in the
//! clock they inject and in what they do with the actions.

pub mod calendar;
pub mod cli;
pub mod daemon;
pub mod domain;
pub mod generator;
pub mod import;
pub mod interest;
pub mod lsp;
pub mod portfolio;
pub mod reports;
pub mod rules;
pub mod runtime;
pub mod scenario_set;
pub mod simulator;
pub mod testing;
pub mod timeline;
