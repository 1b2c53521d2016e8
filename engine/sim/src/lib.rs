//! relance-sim: the engine on a virtual clock.
//!
//! Modules:
//! - [`cadence`]: the contact cadence of core fed a run's actions day by day;
//! - [`simulator`]: runs a whole portfolio through the transition function from a start day
//!   to an end day (with its look-ahead and its shards by customer);
//! - [`replay`]: where every invoice stands on a date (outstanding, disputes), from the
//!   portfolio's own events; read by the simulator, the reports and the daemon;
//! - [`timeline`]: a run's actions as dated entries (text and JSON), the format of `simulate`
//!   and `plan`;
//! - [`testing`]: the `test` blocks of a set (`relance test`) and their snapshots;
//! - [`reports`]: aged balance, DSO, activity and payment behaviour.
//!
//! It performs no effect and reads no wall clock: the start and end days are arguments.

pub mod cadence;
pub mod replay;
pub mod reports;
pub mod simulator;
pub mod testing;
pub mod timeline;
