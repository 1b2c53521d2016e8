//! Operating endpoints: `POST /v1/run` (the daily run now), re-queuing a dead letter, the
//! virtual clock (`GET /v1/clock`, `POST /v1/clock/advance`: routed only with `--clock
//! virtual`) and `GET /v1/backup` (the JSON-lines export while the daemon runs).
//!
//! They call the engine; they must not hold scheduling rules of their own.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::Days;

use super::super::backup;
use super::super::error::DaemonError;
use super::super::model::Message;
use super::auth::{Caller, Family};
use super::error::{ApiError, parse};
use super::models::{AdvanceBody, AdvanceReply, ClockReply, ErrorBody, RunReply, Wire};
use super::{AppState, Reply, blocking, durable, stream};

/// Runs every day owed up to today (whatever the hour), then wakes the dispatcher.
#[utoipa::path(post, path = "/v1/run", tag = "operations",
    responses((status = 200, description = "The days run (durable)", body = RunReply)))]
pub async fn run(State(s): State<Arc<AppState>>, caller: Caller) -> Reply<RunReply> {
    caller.require(Family::Operate)?;
    let today = s.engine.today();
    let days = durable(&s, move |e| e.run_now()).await?;
    Ok(Wire(RunReply { today, days }))
}

/// Re-queues a dead message for delivery.
#[utoipa::path(post, path = "/v1/outbox/{id}/retry", tag = "operations",
    params(("id" = u64, Path, description = "The message id")),
    responses(
        (status = 200, description = "The message, pending again", body = Message),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 404, description = "No such record (`not_found`)", body = ErrorBody),
        (status = 409, description = "The message is not dead (`conflict`)", body = ErrorBody),
    ))]
pub async fn retry(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Reply<Message> {
    caller.require(Family::Operate)?;
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(Some("id".into()), "a message id is a number"))?;
    let m = durable(&s, move |e| e.requeue(id)).await?;
    Ok(Wire(m))
}

/// The virtual clock (routed only with `--clock virtual`).
#[utoipa::path(get, path = "/v1/clock", tag = "operations",
    responses((status = 200, description = "Where the virtual clock stands", body = ClockReply)))]
pub async fn clock(State(s): State<Arc<AppState>>, caller: Caller) -> Reply<ClockReply> {
    caller.require(Family::Admin)?;
    let engine = s.engine.clone();
    let run_through = blocking(move || engine.run_through()).await?;
    Ok(Wire(ClockReply {
        today: s.engine.today(),
        r#virtual: true,
        run_through,
    }))
}

/// Moves the virtual clock (`{"days": N}` or `{"to": DATE}`) and runs each day on the way
/// (with `"run": false`, each day but the new today, whose run is held).
/// Answers once every day is run and durable; the outbox drains in the background.
#[utoipa::path(post, path = "/v1/clock/advance", tag = "operations",
    request_body(content = AdvanceBody),
    responses(
        (status = 200, description = "Where the clock stands now (every day on the way run)", body = AdvanceReply),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 422, description = "A day before today (`invalid`)", body = ErrorBody),
    ))]
pub async fn advance(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    body: Bytes,
) -> Reply<AdvanceReply> {
    caller.require(Family::Admin)?;
    let a: AdvanceBody = parse(&body)?;
    let today = s.engine.today();
    let to = match (a.days, a.to) {
        (Some(n), None) => today.checked_add_days(Days::new(n)).unwrap_or(today),
        (None, Some(d)) => d,
        _ => {
            return Err(ApiError::bad_request(
                Some("days".into()),
                "give either `days` or `to`",
            ));
        }
    };
    if to < today {
        return Err(DaemonError::field(
            "to",
            format!("{to} is before today ({today}): the clock only moves forward"),
        )
        .into());
    }
    let days = if a.run == Some(false) {
        durable(&s, move |e| e.advance_and_hold(to)).await?
    } else {
        durable(&s, move |e| e.advance_to(to)).await?
    };
    Ok(Wire(AdvanceReply {
        today: s.engine.today(),
        days: days.len(),
    }))
}

/// The JSON-lines export (admin), streamed: a snapshot of the store taken between two writes
/// (`backup::export_live`); writes go on while it is sent.
#[utoipa::path(get, path = "/v1/backup", tag = "operations",
    responses((status = 200, description = "The store as JSON lines (`relance restore` reads it), streamed: a body without its end line was cut short", body = String, content_type = "application/x-ndjson")))]
pub async fn backup(
    State(s): State<Arc<AppState>>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Family::Admin)?;
    let engine = s.engine.clone();
    let body = stream::streamed(s.send_timeout, move |out| {
        backup::export_live(&engine, out)?;
        Ok(())
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body))
}
