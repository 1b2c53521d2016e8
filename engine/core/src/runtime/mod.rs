//! The runtime: per-invoice cases and the pure function that moves them.
//!
//! `assign` opens a case on the scenario the policy chooses; `transition` is the pure
//! `(state, input, today, facts) -> (state', outcome)` function; `eval` evaluates
//! conditions; `charges` prices charges; `state` is the serializable case; `context` the
//! read-only facts; `behaviour` a customer's payment behaviour as known on a day; `cadence` the contact
//! cadence (one message per customer, channel and day, and a gap between contacts). Drivers (simulator, daemon) own the clock and the effects.

pub mod assign;
pub mod behaviour;
pub mod cadence;
pub mod charges;
pub mod context;
pub mod eval;
pub mod state;
pub mod transition;

pub use assign::{Choice, Shared, choose_scenario, open_case, open_chosen, opens_open};
pub use behaviour::{KnownBehaviour, PaymentBehaviour, PaymentLog, Trend};
pub use context::{CustomerTotals, Facts};
pub use state::{CloseReason, Instance, Status};
pub use transition::{
    Input, Outcome, Planned, Record, Recording, next_wakeup, transition, transition_with,
};
