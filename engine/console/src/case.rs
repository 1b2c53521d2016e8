//! The case actions of a customer's page (`POST /console/customers/{id}/case`): pause a case
//! (a reason, an optional until date), resume it, postpone its next step, add a note. Each
//! goes through `Engine::case_action` (the daemon's typed `CaseAction` fact, its history line
//! and the case's new status), on an invoice of that customer only.
//!
//! This module parses the form and checks the role; it must not change a case itself.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::NaiveDate;
use relance_daemon::api::auth::Family;
use relance_daemon::case_action::CaseAction;
use serde::Deserialize;

use super::customers::back;
use super::web::{Console, Fail, Signed, blocking, durable};

#[derive(Deserialize)]
pub struct CaseForm {
    invoice: String,
    action: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    text: String,
}

fn date(field: &str, s: &str) -> Result<Option<NaiveDate>, Fail> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| Fail::Bad(format!("{field}: `{s}` is not a date (YYYY-MM-DD)")))
}

/// The typed action a form asks for, and the access family it needs (a note is the sales
/// side's, like an outcome; the rest changes the chase: data writers only).
pub fn parse(f: &CaseForm) -> Result<(CaseAction, Family), Fail> {
    Ok(match f.action.as_str() {
        "pause" => (
            CaseAction::Pause {
                until: date("until", &f.until)?,
                reason: f.reason.clone(),
            },
            Family::DataWrite,
        ),
        "resume" => (CaseAction::Resume, Family::DataWrite),
        "reschedule" => (
            CaseAction::Reschedule {
                to: date("to", &f.to)?.ok_or_else(|| Fail::Bad("to: a date is needed".into()))?,
            },
            Family::DataWrite,
        ),
        "note" => (
            CaseAction::Note {
                text: f.text.clone(),
            },
            Family::Resolve,
        ),
        other => return Err(Fail::Bad(format!("action: `{other}` is not one"))),
    })
}

pub async fn submit(
    State(c): State<Arc<Console>>,
    s: Signed,
    Path(id): Path<String>,
    Form(f): Form<CaseForm>,
) -> Response {
    let run = async {
        let (action, family) = parse(&f)?;
        s.require(family)?;
        let engine = c.app.engine.clone();
        let invoice = f.invoice.clone();
        let owner = blocking(move || engine.invoice(&invoice)).await?;
        if owner.is_none_or(|inv| inv.customer != id) {
            return Err(Fail::NotFound);
        }
        let invoice = f.invoice.clone();
        let by = s.session.user.clone();
        durable(&c, move |e| e.case_action(&invoice, action, Some(&by))).await
    };
    match run.await {
        Ok(_) => back(&id),
        Err(fail) => c.fail(s.lang, Some(&s.session), fail),
    }
}
