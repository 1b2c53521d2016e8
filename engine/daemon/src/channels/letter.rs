//! Letters: the HTML rendered at sealing, written to `spool/letters/DATE/CUSTOMER-KEY.html`
//! for printing or registered mail (the same file on every attempt).
//!
//! It must not render or retry: a failed write is transient, the dispatcher tries again.

use relance_dsl::ir::Action;

use super::super::model::{Message, Rendered};
use super::super::outbox::Delivery;
use super::spool::Spool;
use super::{Attempt, Channel};

pub struct LetterChannel {
    spool: Spool,
}

impl LetterChannel {
    pub fn new(spool: Spool) -> LetterChannel {
        LetterChannel { spool }
    }
}

impl Channel for LetterChannel {
    fn name(&self) -> &'static str {
        "letter"
    }

    fn handles(&self, action: &Action) -> bool {
        matches!(action, Action::Letter { .. })
    }

    fn deliver<'a>(&'a self, m: &'a Message, r: &'a Rendered) -> Attempt<'a> {
        Box::pin(async move {
            match self.spool.write("letters", m, "html", r.body.as_bytes()) {
                Ok(path) => Delivery::Delivered(path.display().to_string()),
                Err(e) => Delivery::Transient(e),
            }
        })
    }
}
