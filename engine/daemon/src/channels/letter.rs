//! Letters: the PDF laid out from the text rendered at sealing (`letter_pdf`: window-envelope
//! layout, our sender block from `company` in the configuration), written to
//! `spool/letters/DATE/CUSTOMER-KEY.pdf` for printing or a registered-mail service, with the
//! HTML rendered at sealing beside it (`.html`). The same bytes on every attempt.
//!
//! A letter without a postal address is a permanent failure (a dead letter), never delivered:
//! rendering already refuses it, this channel checks again. A letter sealed before PDF letters
//! existed (no `letter` text) is written as HTML only. It must not render templates or retry:
//! a failed write is transient, the dispatcher tries again.

use relance_dsl::ir::Action;

use super::super::config::Company;
use super::super::model::{Message, Rendered};
use super::super::outbox::Delivery;
use super::letter_pdf::letter_pdf;
use super::spool::Spool;
use super::{Attempt, Channel};

pub struct LetterChannel {
    spool: Spool,
    company: Company,
}

impl LetterChannel {
    pub fn new(spool: Spool, company: Company) -> LetterChannel {
        LetterChannel { spool, company }
    }

    fn write(&self, m: &Message, r: &Rendered) -> Delivery {
        let Some(letter) = &r.letter else {
            return match self.spool.write("letters", m, "html", r.body.as_bytes()) {
                Ok(path) => Delivery::Delivered(path.display().to_string()),
                Err(e) => Delivery::Transient(e),
            };
        };
        if letter.address.is_empty() {
            return Delivery::Permanent(format!(
                "customer {} has no postal address for this letter",
                m.customer
            ));
        }
        let pdf = match letter_pdf(&self.company, letter, r.subject.as_deref(), m.date) {
            Ok(pdf) => pdf,
            Err(e) => return Delivery::Permanent(e),
        };
        let written = self.spool.write("letters", m, "pdf", &pdf).and_then(|pdf| {
            self.spool
                .write("letters", m, "html", r.body.as_bytes())
                .map(|_| pdf)
        });
        match written {
            Ok(path) => Delivery::Delivered(path.display().to_string()),
            Err(e) => Delivery::Transient(e),
        }
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
        Box::pin(async move { self.write(m, r) })
    }
}
