//! The case actions of the HTTP API: `POST /v1/invoices/{id}/actions` (pause, resume,
//! postpone, note) and `GET /v1/invoices/{id}/actions`, the same hand on a case as the
//! console's customer page, through the same `Engine::case_action_keyed` /
//! `Engine::case_actions` (the daemon's `case_action` module).
//!
//! A note needs the `resolve` family (the sales side's, like a task outcome); pause, resume
//! and postpone change the chase and need `write data`. The write takes an
//! `Idempotency-Key` like the other writes and is acknowledged once durable.
//!
//! This module shapes requests into engine calls; it must not change a case itself nor hold
//! the rules of what an action may do (those are the engine's).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use serde_json::Value;

use super::super::case_action::CaseAction;
use super::super::config::Role;
use super::super::error::DaemonError;
use super::auth::{Caller, Family, allowed, role_name};
use super::error::{ApiError, malformed, parse};
use super::models::{
    CaseActionBody, CaseActionKind, CaseActionList, CaseActionView, ErrorBody, Wire,
};
use super::write::{KeyedReply, idem, keyed};
use super::{AppState, Reply, blocking, durable};

/// The typed action a body asks for and the family it needs; a field the action does not
/// take, or one it needs that is missing, is a 400 naming it.
pub fn typed(b: CaseActionBody) -> Result<(CaseAction, Family), ApiError> {
    let name = match b.action {
        CaseActionKind::Pause => "pause",
        CaseActionKind::Resume => "resume",
        CaseActionKind::Postpone => "postpone",
        CaseActionKind::Note => "note",
    };
    let takes: &[&str] = match b.action {
        CaseActionKind::Pause => &["reason", "until"],
        CaseActionKind::Resume => &[],
        CaseActionKind::Postpone => &["to"],
        CaseActionKind::Note => &["text"],
    };
    let given = [
        ("reason", b.reason.is_some()),
        ("until", b.until.is_some()),
        ("to", b.to.is_some()),
        ("text", b.text.is_some()),
    ];
    if let Some((field, _)) = given.iter().find(|(f, g)| *g && !takes.contains(f)) {
        return Err(ApiError::bad_request(
            Some((*field).into()),
            format!(
                "`{field}` is not a field of a {name} (it takes: {})",
                list(takes)
            ),
        ));
    }
    let needed = |field: &str| {
        ApiError::bad_request(
            Some(field.into()),
            format!("missing field `{field}`: a {name} needs it"),
        )
    };
    Ok(match b.action {
        CaseActionKind::Pause => (
            CaseAction::Pause {
                until: b.until,
                reason: b.reason.ok_or_else(|| needed("reason"))?,
            },
            Family::DataWrite,
        ),
        CaseActionKind::Resume => (CaseAction::Resume, Family::DataWrite),
        CaseActionKind::Postpone => (
            CaseAction::Reschedule {
                to: b.to.ok_or_else(|| needed("to"))?,
            },
            Family::DataWrite,
        ),
        CaseActionKind::Note => (
            CaseAction::Note {
                text: b.text.ok_or_else(|| needed("text"))?,
            },
            Family::Resolve,
        ),
    })
}

fn list(fields: &[&str]) -> String {
    if fields.is_empty() {
        "nothing besides `action`".into()
    } else {
        fields
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A role that may do none of the actions is refused before its body is read.
fn may_act(caller: &Caller) -> Result<(), ApiError> {
    let role: Role = caller.role;
    if allowed(role, Family::DataWrite) || allowed(role, Family::Resolve) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "role {} may not act on a case (pause, resume and postpone need the family `{}`, \
             a note `{}`)",
            role_name(role),
            Family::DataWrite.name(),
            Family::Resolve.name()
        )))
    }
}

/// The body as a [`CaseActionBody`]: a JSON object, laid out one key a line so that a
/// refusal names the field at fault.
fn body_of(body: &[u8]) -> Result<CaseActionBody, ApiError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| malformed(body, &e))?;
    if !v.is_object() {
        return Err(ApiError::bad_request(
            None,
            "the body must be a JSON object with an `action`",
        ));
    }
    let bytes = serde_json::to_vec_pretty(&v).unwrap_or_default();
    parse(&bytes)
}

/// Pauses, resumes or postpones an invoice's case, or adds a note to it.
///
/// The body is `{"action": "pause", "reason": TEXT, "until": DAY?}`, `{"action": "resume"}`,
/// `{"action": "postpone", "to": DAY}` or `{"action": "note", "text": TEXT}`. A pause with
/// `until` (and a postpone) makes the case wait until that day, when it runs its due steps; a
/// pause without is held until resumed (a payment still closes it). A case paused by an open
/// dispute cannot be resumed by hand (409): resolving the dispute resumes it. A note needs
/// only the family `resolve disputes and record task outcomes` (the sales role may add one);
/// the other actions need `write data`. An `Idempotency-Key` header makes it safe to retry.
#[utoipa::path(post, path = "/v1/invoices/{id}/actions", tag = "events",
    params(("id" = String, Path, description = "The invoice id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes the write safe to retry: a repeat gets the original reply (1 to 255 visible ASCII characters)"),),
    request_body(content = CaseActionBody),
    responses(
        (status = 200, description = "Recorded (durable)", body = CaseActionView),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 404, description = "No open case on that invoice (`not_found`)", body = ErrorBody),
        (status = 409, description = "The case's state refuses it (`conflict`): a resume of a case that is not paused or has an open dispute, a postpone of a case that is not active", body = ErrorBody),
        (status = 422, description = "Refused, nothing written (`invalid`, with `problems` naming the field: an empty text, a date not after today, a reused key)", body = ErrorBody),
    ))]
pub async fn act(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> KeyedReply {
    may_act(&caller)?;
    let (action, family) = typed(body_of(&body)?)?;
    caller.require(family)?;
    let key = idem(&headers, &caller, &uri, &body)?;
    let by = caller.name.clone();
    let out = durable(&s, move |e| {
        e.case_action_keyed(&id, action, Some(&by), key.as_ref(), CaseActionView::from)
    })
    .await?;
    Ok(keyed(out))
}

/// The case actions recorded on an invoice (pauses, resumes, postponements, notes), oldest
/// first, by the API and the console alike.
#[utoipa::path(get, path = "/v1/invoices/{id}/actions", tag = "views",
    params(("id" = String, Path, description = "The invoice id")),
    responses(
        (status = 200, description = "The invoice's case actions", body = CaseActionList),
        (status = 404, description = "No such invoice (`not_found`)", body = ErrorBody),
    ))]
pub async fn list_actions(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Reply<CaseActionList> {
    caller.require(Family::Read)?;
    let engine = s.engine.clone();
    let out = blocking(move || {
        if engine.invoice(&id)?.is_none() {
            return Err(DaemonError::NotFound {
                what: "invoice",
                id,
            });
        }
        let actions = engine
            .case_actions(&id)?
            .into_iter()
            .map(CaseActionView::from)
            .collect();
        Ok(CaseActionList {
            invoice: id,
            actions,
        })
    })
    .await?;
    Ok(Wire(out))
}
