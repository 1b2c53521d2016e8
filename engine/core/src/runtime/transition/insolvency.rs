//! Collective procedures and due date extensions in the transition: a case whose customer is under
//! *sauvegarde*, *redressement* or *liquidation judiciaire* and whose claim is prior to the
//! judgment is frozen (`Status::Insolvency`: no step, no message, no charge; L622-7, L622-21,
//! L622-28), with one task to declare the claim to the *mandataire judiciaire* by its deadline
//! (R622-24) and the amount to declare, and, for an insured customer, one task to declare the
//! procedure to the credit insurer (`transition/insurer.rs`); the procedure's end brings the case
//! back as it stood. A `due_date_extended` event (prorogation) moves the dunning due date only.
//!
//! A child of `transition.rs`, driving the same [`Machine`]. The customer record itself is changed
//! by the driver through [`EventKind::apply_to_customer`], never here; the law's arithmetic is
//! `crate::insolvency`'s. Scenarios cannot override the freeze (no handler runs on a frozen case):
//! it is the law, not a dunning policy.

use chrono::Days;
use relance_dsl::ir::Action;
use rust_decimal::Decimal;

use super::super::charges;
use super::super::eval::EvalError;
use super::super::state::{Declaration, Status};
use super::Machine;
use crate::domain::EventKind;
use crate::insolvency::Insolvency;

impl Machine<'_, '_> {
    /// Applies `insolvency_opened`, `insolvency_closed` or `due_date_extended`.
    pub(super) fn insolvency_event(&mut self, ev: &EventKind) {
        match ev {
            EventKind::InsolvencyOpened {
                procedure,
                judgment_on,
                published_on,
                ..
            } => self.sync_insolvency(Some(Insolvency {
                procedure: *procedure,
                judgment_on: *judgment_on,
                published_on: *published_on,
            })),
            EventKind::InsolvencyClosed { reason, .. } => {
                if matches!(self.inst.status, Status::Insolvency { .. }) {
                    let cause = match reason {
                        Some(r) => format!("insolvency procedure closed ({r})"),
                        None => "insolvency procedure closed".to_string(),
                    };
                    self.thaw(&cause);
                }
            }
            EventKind::DueDateExtended { to, .. } => {
                let due = self.facts.invoice.due;
                self.inst.extended_due = (*to != due).then_some(*to);
                self.record(
                    None,
                    self.inst.status.name(),
                    format!("due date extended to {to} (original due date {due} kept)"),
                );
            }
            _ => {}
        }
    }

    /// Brings the case in line with the procedure its customer is under (`None`: none): a
    /// frozen claim enters `Status::Insolvency`, a newly known publication date gives the
    /// declaration its deadline, and the end of the procedure thaws the case. Runs at every
    /// tick (a case opened after the judgment is frozen on its first day) and on the events.
    pub(super) fn sync_insolvency(&mut self, under: Option<Insolvency>) {
        let frozen = matches!(self.inst.status, Status::Insolvency { .. });
        let under = under.filter(|i| i.freezes(self.facts.invoice));
        match under {
            None if frozen => self.thaw("insolvency procedure closed"),
            None => {}
            Some(ins) if frozen => {
                if let Status::Insolvency { since, procedure } = self.inst.status
                    && procedure != ins.procedure
                {
                    // A conversion (redressement to liquidation, L631-15): the claims declared
                    // stand, no new declaration is asked.
                    if let Some(d) = self.inst.declaration.as_mut() {
                        d.procedure = ins.procedure;
                    }
                    self.set_status(
                        Status::Insolvency {
                            since,
                            procedure: ins.procedure,
                        },
                        None,
                        format!(
                            "{} converted to {} on {}",
                            procedure.label(),
                            ins.procedure.label(),
                            ins.judgment_on
                        ),
                    );
                    return;
                }
                let declare_by = ins.declare_by(self.facts.calendar());
                let known = self.inst.declaration.as_ref().and_then(|d| d.declare_by);
                // The publication becomes known: the deadline is set once (a later judgment,
                // a conversion, does not move it).
                if known.is_none() && declare_by.is_some() {
                    if let Some(d) = self.inst.declaration.as_mut() {
                        d.declare_by = declare_by;
                    }
                    self.declaration_task();
                }
            }
            Some(ins) => {
                if !matches!(
                    self.inst.status,
                    Status::Active | Status::Paused { .. } | Status::Waiting { .. }
                ) {
                    return;
                }
                if let Err(e) = self.freeze(ins) {
                    self.fail(None, e);
                }
            }
        }
    }

    fn freeze(&mut self, ins: Insolvency) -> Result<(), EvalError> {
        // L622-28: the opening judgment stops interest; it runs up to the day before (the
        // judgment takes effect at 0 h on its date). Consumers owe no L441-10 interest.
        let until = ins.judgment_on - Days::new(1);
        let interest =
            if self.facts.customer.segment.is_professional() && until > self.facts.invoice.due {
                charges::accrued(&self.inst, self.facts, until)?
            } else {
                Decimal::ZERO
            };
        self.inst.declaration = Some(Declaration {
            procedure: ins.procedure,
            judgment_on: ins.judgment_on,
            declare_by: ins.declare_by(self.facts.calendar()),
            outstanding: self.inst.outstanding,
            charges: self.inst.charged.owed,
            interest,
        });
        self.set_status(
            Status::Insolvency {
                since: ins.judgment_on,
                procedure: ins.procedure,
            },
            None,
            format!(
                "{} opened on {}: dunning and charges stop for this prior claim \
                 (L622-7, L622-21, L622-28)",
                ins.procedure.label(),
                ins.judgment_on
            ),
        );
        self.declaration_task();
        self.insurer_procedure_task(&ins);
        Ok(())
    }

    /// Emits the task to declare the claim, with its deadline and amount (an action, keyed
    /// like a handler's: `INVOICE/VERSION/insolvency/N/0`).
    fn declaration_task(&mut self) {
        let Some(d) = self.inst.declaration.clone() else {
            return;
        };
        let cur = &self.facts.invoice.currency;
        let when = match d.declare_by {
            Some(by) => format!("by {by} (R622-24: two months after the BODACC publication)"),
            None => format!(
                "within two months of the BODACC publication of the judgment of {} \
                 (R622-24; publication date not known yet)",
                d.judgment_on
            ),
        };
        let text = format!(
            "declare the claim on invoice {} to the mandataire judiciaire ({}) {when}: \
             {} {cur} (outstanding {}, charges {}, interest to {} {})",
            self.inst.invoice,
            d.procedure.label(),
            d.total(),
            d.outstanding,
            d.charges,
            d.judgment_on - Days::new(1),
            d.interest,
        );
        let runs = self
            .inst
            .handler_runs
            .entry("insolvency".to_string())
            .or_insert(0);
        *runs += 1;
        let occurrence = *runs;
        let key = format!(
            "{}/{}/insolvency/{occurrence}/0",
            self.inst.invoice, self.inst.version
        );
        let order = self.steps().len();
        self.plan(
            "insolvency",
            order,
            Action::Task { text, assign: None },
            key,
        );
    }

    /// Ends the freeze: the case comes back as it would stand without it (held by an open
    /// dispute, waiting for a pending promise, else active; steps that fell due meanwhile
    /// fire at the next tick with the usual catch-up).
    /// No late interest is charged for the frozen time (L622-28 stopped it; what had accrued
    /// before the judgment was declared).
    fn thaw(&mut self, cause: &str) {
        self.inst.declaration = None;
        self.inst.charged.interest_until = Some(
            self.inst
                .charged
                .interest_until
                .map_or(self.today, |d| d.max(self.today)),
        );
        let status = self.reopened_status();
        self.set_status(status, None, format!("{cause}: dunning resumes"));
    }
}
