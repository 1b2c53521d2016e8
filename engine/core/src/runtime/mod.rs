//! The runtime: per-invoice cases and the pure function that moves them.
//!
//! `assign` opens a case on the scenario the policy chooses; `transition` is the pure
//! `(state, input, today, facts) -> (state', outcome)` function; `eval` evaluates
//! conditions; `charges` prices charges; `fees` percentage fees, the not-late rule and payment
//! allocation; `state` is the serializable case; `context` the read-only facts; `behaviour` a
//! customer's payment behaviour as known on a day; `cadence` the contact cadence (one message per
//! customer, channel and day, and a gap between contacts). Drivers (simulator, daemon) own the
//! clock and the effects.

pub mod account;
pub mod assign;
pub mod behaviour;
pub mod cadence;
pub mod charges;
pub mod context;
pub mod eval;
pub mod fees;
pub mod installments;
pub mod repeat;
pub mod standing;
pub mod state;
pub mod transition;

pub use account::{AccountFacts, AccountOutcome, AccountState, Overdue, account_transition};
pub use assign::{Choice, Shared, choose_scenario, open_case, open_chosen, opens_open};
pub use behaviour::{KnownBehaviour, PaymentBehaviour, PaymentLog, Trend};
pub use context::{CustomerTotals, Facts};
pub use state::{CloseReason, Instance, Status};
pub use transition::{
    Input, Outcome, Planned, Record, Recording, next_wakeup, transition, transition_with,
};

/// What `event.tag` and `event.reason` read from the event being applied: the tag of a tag
/// event; the reason of a failed payment, a write-off or its reversal, the `because` of a
/// scenario change. `None` (absent) otherwise.
pub fn event_field(
    event: Option<&crate::domain::EventKind>,
    field: relance_dsl::ir::Field,
) -> Option<&str> {
    use crate::domain::EventKind as E;
    use relance_dsl::ir::Field as F;
    match (event?, field) {
        (E::TagAdded { tag, .. } | E::TagRemoved { tag, .. }, F::EventTag) => Some(tag),
        (E::PaymentFailed { reason, .. }, F::EventReason) => Some(reason),
        (E::WriteOff { reason, .. } | E::WriteOffReversed { reason, .. }, F::EventReason) => {
            reason.as_deref()
        }
        (E::ScenarioChanged { because, .. }, F::EventReason) => Some(because),
        (E::PaymentReversed { reason, .. }, F::EventReason) => Some(reason.as_str()),
        _ => None,
    }
}
