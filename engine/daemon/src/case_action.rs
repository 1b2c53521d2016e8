//! A person's hand on one case, outside its scenario: pause it (until a date, or until
//! resumed), resume it, postpone its next step, add a note. Each is a typed fact
//! ([`CaseAction`]) stored as data in its own key range of the `meta` tree
//! (`case_action/` + invoice id, 0, sequence: [`keys`]), together with the case's new status
//! and next tick and a line of its history, in one unit of work under the writer lock.
//!
//! What the case then does is the transition function's: a pause until a date or a
//! postponed step is the core's `Waiting` status (the case's tick on that date makes it active
//! and runs its due steps); a pause without a date is `Paused` (a payment still closes the
//! case; resolving a dispute releases it); resuming makes it active and ticks it at the next
//! daily run. This module must not run scenario steps nor parse the history's text.

use chrono::NaiveDate;
use relance_core::runtime::Status;
use serde::{Deserialize, Serialize};

use super::engine::{Engine, Idem, Keyed};
use super::error::DaemonError;
use super::keys;
use super::model::{HistoryEntry, decode, encode};
use super::store::{Op, Tree};

/// What a person did to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CaseAction {
    /// Holds the case: until `until` (it then resumes by itself), or until resumed.
    Pause {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<NaiveDate>,
        reason: String,
    },
    /// Ends a pause (or a wait): the case is active and ticks at the next daily run.
    Resume,
    /// Postpones the case's next step to `to` (an active case only).
    Reschedule { to: NaiveDate },
    /// A note on the case; changes nothing else.
    Note { text: String },
}

/// A case action as stored: when, on which invoice, by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseActionRecord {
    pub id: u64,
    pub date: NaiveDate,
    pub invoice: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub action: CaseAction,
}

/// The key prefix of an invoice's case actions in the `meta` tree.
fn prefix(invoice: &str) -> Vec<u8> {
    let mut k = b"case_action/".to_vec();
    k.extend(keys::owner_prefix(invoice));
    k
}

/// The longest note or reason kept.
pub const MAX_TEXT: usize = 2000;

fn text(field: &str, s: &str, required: bool) -> Result<String, DaemonError> {
    let s = s.trim();
    if required && s.is_empty() {
        return Err(DaemonError::field(field, "must not be empty"));
    }
    if s.chars().count() > MAX_TEXT {
        return Err(DaemonError::field(
            field,
            format!("longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(s.to_string())
}

impl Engine {
    /// Applies and records `action` on the open case of `invoice`, by `by` (a user or token
    /// name). Refused: an empty or too long text (422 naming `reason` or `text`), a date not
    /// after today (422 naming `until` or `to`), an unknown or closed case (404), a resume of a
    /// case neither paused nor waiting or with an open dispute, a reschedule of a case not
    /// active (409). Not flushed.
    pub fn case_action(
        &self,
        invoice: &str,
        action: CaseAction,
        by: Option<&str>,
    ) -> Result<CaseActionRecord, DaemonError> {
        match self.case_action_keyed(invoice, action, by, None, |r| r)? {
            Keyed::Fresh(r) => Ok(r),
            Keyed::Replay(_) => Err(DaemonError::Corrupt("a replay without a key".into())),
        }
    }

    /// [`Engine::case_action`] under an idempotency key (the HTTP API's): a repeat of the same
    /// request gets the stored reply and changes nothing. `reply` shapes the record into the
    /// body answered and stored under the key.
    pub fn case_action_keyed<R: Serialize>(
        &self,
        invoice: &str,
        action: CaseAction,
        by: Option<&str>,
        idem: Option<&Idem>,
        reply: impl FnOnce(CaseActionRecord) -> R,
    ) -> Result<Keyed<R>, DaemonError> {
        // A repeat gets its reply even once its dates are no longer after today.
        if let Some(r) = self.replay(idem)? {
            return Ok(Keyed::Replay(r));
        }
        let today = self.today();
        let action = match action {
            CaseAction::Pause { until, reason } => CaseAction::Pause {
                until,
                reason: text("reason", &reason, true)?,
            },
            CaseAction::Note { text: t } => CaseAction::Note {
                text: text("text", &t, true)?,
            },
            a => a,
        };
        let later = |field: &str, d: NaiveDate| {
            if d > today {
                Ok(())
            } else {
                Err(DaemonError::field(
                    field,
                    format!("{d} is not after today ({today})"),
                ))
            }
        };
        match &action {
            CaseAction::Pause { until: Some(d), .. } => later("until", *d)?,
            CaseAction::Reschedule { to } => later("to", *to)?,
            _ => {}
        }
        let who = by.unwrap_or("someone");
        self.write_keyed(
            idem,
            |w| {
            let (status, disputed) = w
                .case(invoice)?
                .filter(|c| c.is_open())
                .map(|c| (c.status.clone(), c.dispute.is_some()))
                .ok_or_else(|| DaemonError::NotFound {
                    what: "open case",
                    id: invoice.to_string(),
                })?;
            let next_run = today.succ_opt().unwrap_or(today);
            // A case frozen by a collective procedure, or in error, is not the user's to
            // pause: overwriting its status would unfreeze the claim (L622-21) or hide the
            // error.
            if matches!(action, CaseAction::Pause { .. })
                && !matches!(
                    status,
                    Status::Active | Status::Paused { .. } | Status::Waiting { .. }
                )
            {
                return Err(DaemonError::field(
                    "action",
                    format!("the case is {}: it cannot be paused", status.name()),
                ));
            }
            match &action {
                CaseAction::Pause {
                    until: Some(until),
                    reason,
                } => w.set_by_hand(
                    invoice,
                    Status::Waiting {
                        until: *until,
                        reason: reason.clone(),
                    },
                    Some(*until),
                    format!("paused by {who} until {until}: {reason}"),
                    today,
                )?,
                CaseAction::Pause {
                    until: None,
                    reason,
                } => w.set_by_hand(
                    invoice,
                    Status::Paused {
                        since: today,
                        reason: reason.clone(),
                    },
                    None,
                    format!("paused by {who}: {reason}"),
                    today,
                )?,
                CaseAction::Resume => {
                    if disputed {
                        return Err(DaemonError::Conflict(format!(
                            "invoice {invoice}'s case has an open dispute: it cannot be resumed \
                             by hand; resolving the dispute resumes it"
                        )));
                    }
                    if !matches!(status, Status::Paused { .. } | Status::Waiting { .. }) {
                        return Err(DaemonError::Conflict(format!(
                            "invoice {invoice}'s case is {}, not paused: there is nothing to resume",
                            status.name()
                        )));
                    }
                    w.set_by_hand(
                        invoice,
                        Status::Active,
                        Some(next_run),
                        format!("resumed by {who}"),
                        today,
                    )?
                }
                CaseAction::Reschedule { to } => {
                    if status != Status::Active {
                        return Err(DaemonError::Conflict(format!(
                            "invoice {invoice}'s case is {}, not active: only an active case's \
                             next step can be postponed",
                            status.name()
                        )));
                    }
                    w.set_by_hand(
                        invoice,
                        Status::Waiting {
                            until: *to,
                            reason: "rescheduled".into(),
                        },
                        Some(*to),
                        format!("next step postponed by {who} to {to}"),
                        today,
                    )?
                }
                CaseAction::Note { text } => w.note(
                    invoice,
                    HistoryEntry {
                        date: today,
                        step: None,
                        from: status.name().to_string(),
                        to: status.name().to_string(),
                        cause: format!("note by {who}: {text}"),
                    },
                ),
            }
            let id = self.store().next_id()?;
            let record = CaseActionRecord {
                id,
                date: today,
                invoice: invoice.to_string(),
                by: by.map(str::to_string),
                action: action.clone(),
            };
            let mut key = prefix(invoice);
            key.extend(keys::id(id));
            w.push_op(Op::Put(Tree::Meta, key, encode(&record)));
            Ok(reply(record))
            },
            |_, _| {},
        )
    }

    /// The case actions recorded on `invoice`, oldest first.
    pub fn case_actions(&self, invoice: &str) -> Result<Vec<CaseActionRecord>, DaemonError> {
        self.store()
            .prefix(Tree::Meta, &prefix(invoice), usize::MAX)?
            .iter()
            .map(|(_, v)| decode("case action", v))
            .collect()
    }
}
