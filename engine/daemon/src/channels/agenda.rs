//! Agenda: calls, tasks and alerts are for people, not transports. Delivering one succeeds at
//! once with the receipt `agenda`; the dispatcher then writes its agenda entry (assignee,
//! contact role and phone for calls) in the same commit as the delivered status.
//!
//! It must not write the entry itself: channels do not touch the store.

use relance_dsl::ir::Action;

use super::super::model::{Message, Rendered};
use super::super::outbox::Delivery;
use super::{Attempt, Channel};

pub struct AgendaChannel;

impl Channel for AgendaChannel {
    fn name(&self) -> &'static str {
        "agenda"
    }

    fn handles(&self, action: &Action) -> bool {
        matches!(
            action,
            Action::Call { .. } | Action::Task { .. } | Action::Alert { .. }
        )
    }

    fn deliver<'a>(&'a self, _: &'a Message, _: &'a Rendered) -> Attempt<'a> {
        Box::pin(async { Delivery::Delivered("agenda".into()) })
    }
}
