//! The write endpoints: customers and invoices (one or a JSON array), whole imports, events
//! (generic and one route per kind under `/v1/invoices/{id}/…`), agenda outcomes, scenario
//! deployments. Each is checked whole (400/422 and nothing written on any problem) and
//! acknowledged once durable.
//!
//! Every data write accepts an `Idempotency-Key` header: the key (scoped to the caller) and
//! the write's reply are committed in the write's own transaction; a repeat with the same
//! route and body gets the original reply and writes nothing; a reuse for another request is
//! refused (422). This module turns the header into an [`Idem`]; the engine does the rest.
//!
//! A scenario set is deployed from the files in the request (`{"files": {PATH: TEXT}}`, with
//! an optional `"migrate"`: `"all"` or scenario names); from a folder of the daemon's machine
//! (`{"path": DIR}`) only by the admin role.
//!
//! Handlers shape requests into engine calls; they must not decide anything the engine does.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::super::catalog::Bundle;
use super::super::engine::{Idem, Keyed, Migrate};
use super::super::error::{DaemonError, InputProblem, Scope};
use super::super::input;
use super::super::keys;
use super::auth::{Caller, Family, role_name};
use super::error::{ApiError, malformed, parse};
use super::models::{
    AgendaEntry, DeployBody, DeployReport, ErrorBody, OutcomeBody, Wire, WriteReport,
};
use super::openapi::{CustomerOrList, EventOrList, InvoiceOrList};
use super::{AppState, Reply, blocking, durable};
use relance_core::domain::{Customer, Event, Invoice, Portfolio};

/// The answer of a write that takes an idempotency key: a [`Wire`] body of the model the
/// write returns, or the stored reply of the original request.
pub(super) type KeyedReply = Result<Response, ApiError>;

/// The header a client sends to make a write safe to retry.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The longest key accepted.
const MAX_KEY: usize = 255;

/// FNV-1a, 128 bits: a stable fingerprint of a request (not a secret: a collision only
/// confuses the client's own two requests under one key).
fn fnv128(parts: &[&[u8]]) -> u128 {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for part in parts {
        for b in part.iter().chain(b"\n") {
            h ^= u128::from(*b);
            h = h.wrapping_mul(0x0000000001000000000000000000013B);
        }
    }
    h
}

/// The request's idempotency key, if it sent one: scoped to the caller, with the
/// fingerprint of the route and body. A key that is empty, too long or not visible ASCII is
/// refused (400).
pub(super) fn idem(
    headers: &HeaderMap,
    caller: &Caller,
    uri: &Uri,
    body: &[u8],
) -> Result<Option<Idem>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                Some(IDEMPOTENCY_KEY.into()),
                format!("an idempotency key is 1 to {MAX_KEY} visible ASCII characters"),
            )
        })?;
    let fingerprint = format!("{:032x}", fnv128(&[b"POST", uri.path().as_bytes(), body]));
    Ok(Some(Idem {
        key: keys::idempotency(&caller.name, key),
        fingerprint,
    }))
}

/// The response of a keyed write: the fresh result, or the stored reply of the original (the
/// same model, stored as JSON with its keys in the same order as [`Wire`] writes them).
pub(super) fn keyed<T: serde::Serialize>(k: Keyed<T>) -> Response {
    match k {
        Keyed::Fresh(t) => Wire(t).into_response(),
        Keyed::Replay(r) => {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
            (status, [("Idempotent-Replayed", "true")], Json(r.body)).into_response()
        }
    }
}

/// A JSON object or an array of them, each `prepare`d then parsed as `T`; errors name
/// `[i].field`.
fn one_or_many<T: serde::de::DeserializeOwned>(
    body: &[u8],
    prepare: impl Fn(&mut Value) -> Result<(), ApiError>,
) -> Result<Vec<T>, ApiError> {
    let mut v: Value = serde_json::from_slice(body).map_err(|e| malformed(body, &e))?;
    let (items, many) = match &mut v {
        Value::Array(items) => (std::mem::take(items), true),
        other => (vec![std::mem::take(other)], false),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, mut item) in items.into_iter().enumerate() {
        let bytes =
            prepare(&mut item).map(|()| serde_json::to_vec_pretty(&item).unwrap_or_default());
        match bytes.and_then(|bytes| parse::<T>(&bytes)) {
            Ok(t) => out.push(t),
            Err(mut e) if many => {
                let field = match &e.body.field {
                    Some(f) => format!("[{i}].{f}"),
                    None => format!("[{i}]"),
                };
                e.body.field = Some(field);
                return Err(e);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn default_date(today: NaiveDate) -> impl Fn(&mut Value) -> Result<(), ApiError> {
    move |v: &mut Value| {
        if let Value::Object(m) = v {
            m.entry("date")
                .or_insert_with(|| Value::String(today.to_string()));
        }
        Ok(())
    }
}

/// An invoice's `installments` as the portfolio JSON of `relance simulate` takes them
/// (docs/DATA.md): in their text form (`"2026-01-31 30%; 2026-03-31 rest"`, the
/// `installments` column's) they become the array of `{"due", "amount"}` the record holds,
/// resolved against the invoice's `amount`, and without a `due` the invoice is due on its
/// last installment (a `null` due is an absent one). A text that does not read is a 400 naming
/// `installments` (the text shown up to 100 characters); anything else
/// is left for the record's own parsing to judge (an amount that does not read leaves the
/// text, refused there).
fn installments_from_text(invoice: &mut Value) -> Result<(), ApiError> {
    if let Some(Value::String(text)) = invoice.get("installments") {
        // Amounts are decimal strings (a number is refused by the record's own parsing).
        let amount = match invoice.get("amount") {
            Some(Value::String(a)) => a.parse::<rust_decimal::Decimal>().ok(),
            _ => None,
        };
        if let Some(amount) = amount {
            let plan =
                relance_core::domain::Installment::parse_plan(text, amount).map_err(|e| {
                    let shown: String = text.chars().take(100).collect();
                    let cut = if shown.len() < text.len() { "…" } else { "" };
                    ApiError::bad_request(
                        Some("installments".into()),
                        format!("installments \"{shown}{cut}\": {e}"),
                    )
                })?;
            invoice["installments"] = serde_json::to_value(plan).unwrap_or_default();
        }
    }
    let last_due = match invoice.get("installments") {
        Some(Value::Array(plan)) => plan.last().and_then(|i| i.get("due")).cloned(),
        _ => None,
    };
    if let (Value::Object(m), Some(due)) = (invoice, last_due)
        && m.get("due").is_none_or(Value::is_null)
    {
        m.insert("due".into(), due);
    }
    Ok(())
}

/// Writes customers (one object, or an array): new ones added, known ones replaced.
#[utoipa::path(post, path = "/v1/customers", tag = "data",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the write safe to retry: a repeat gets the original reply (1 to 255 visible ASCII characters)"),),
    request_body(content = CustomerOrList, description = "A customer or a list of customers"),
    responses(
        (status = 200, description = "Written (durable)", body = WriteReport),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 422, description = "Refused, nothing written (`invalid`, with `problems`)", body = ErrorBody),
    ))]
pub async fn customers(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> KeyedReply {
    caller.require(Family::DataWrite)?;
    let key = idem(&headers, &caller, &uri, &body)?;
    let list: Vec<Customer> = one_or_many(&body, |_| Ok(()))?;
    let report = durable(&s, move |e| e.put_customers_keyed(&list, key.as_ref())).await?;
    Ok(keyed(report))
}

/// Adds invoices (one object, or an array); an invoice sent again with the same values is
/// accepted and counted `unchanged`.
#[utoipa::path(post, path = "/v1/invoices", tag = "data",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the write safe to retry: a repeat gets the original reply (1 to 255 visible ASCII characters)"),),
    request_body(content = InvoiceOrList, description = "An invoice or a list of invoices"),
    responses(
        (status = 200, description = "Written (durable)", body = WriteReport),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state (`conflict`)", body = ErrorBody),
        (status = 422, description = "Refused, nothing written (`invalid`, with `problems`)", body = ErrorBody),
    ))]
pub async fn invoices(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> KeyedReply {
    caller.require(Family::DataWrite)?;
    let key = idem(&headers, &caller, &uri, &body)?;
    let list: Vec<Invoice> = one_or_many(&body, installments_from_text)?;
    let report = durable(&s, move |e| e.add_invoices_keyed(&list, key.as_ref())).await?;
    Ok(keyed(report))
}

/// Imports a whole portfolio (customers, invoices, events) as JSON, in one write.
#[utoipa::path(post, path = "/v1/import", tag = "data",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the write safe to retry: a repeat gets the original reply (1 to 255 visible ASCII characters)"),),
    request_body(content = Portfolio, description = "Customers, invoices and events"),
    responses(
        (status = 200, description = "Written (durable)", body = WriteReport),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state (`conflict`)", body = ErrorBody),
        (status = 422, description = "Refused, nothing written (`invalid`, with `problems`)", body = ErrorBody),
    ))]
pub async fn import(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> KeyedReply {
    caller.require(Family::DataWrite)?;
    let key = idem(&headers, &caller, &uri, &body)?;
    let today = s.engine.today();
    let mut v: Value = serde_json::from_slice(&body).map_err(|e| malformed(&body, &e))?;
    if let Some(Value::Array(events)) = v.get_mut("events") {
        events.iter_mut().try_for_each(default_date(today))?;
    }
    if let Some(Value::Array(invoices)) = v.get_mut("invoices") {
        for (i, invoice) in invoices.iter_mut().enumerate() {
            installments_from_text(invoice).map_err(|mut e| {
                e.body.field = Some(format!("invoices[{i}].installments"));
                e
            })?;
        }
    }
    let bytes = serde_json::to_vec_pretty(&v).unwrap_or_default();
    let p: Portfolio = parse(&bytes)?;
    let report = durable(&s, move |e| e.import_keyed(&p, key.as_ref())).await?;
    Ok(keyed(report))
}

/// Events dispute_resolved and task_outcome are the sales side's; the rest are data writes.
fn event_family(events: &[Event]) -> Family {
    let resolve_only = events
        .iter()
        .all(|e| matches!(e.kind.type_name(), "dispute_resolved" | "task_outcome"));
    if resolve_only && !events.is_empty() {
        Family::Resolve
    } else {
        Family::DataWrite
    }
}

/// Records events (one object, or an array; `date` defaults to today). A list of only
/// `dispute_resolved` and `task_outcome` events needs the `resolve disputes and record task
/// outcomes` family (the sales role may send it); any other event needs `write data`.
#[utoipa::path(post, path = "/v1/events", tag = "events",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the write safe to retry: a repeat gets the original reply (1 to 255 visible ASCII characters)"),),
    request_body(content = EventOrList, description = "An event or a list of events"),
    responses(
        (status = 200, description = "Written (durable)", body = WriteReport),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 422, description = "Refused, nothing written (`invalid`, with `problems`)", body = ErrorBody),
    ))]
pub async fn events(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> KeyedReply {
    let list: Vec<Event> = one_or_many(&body, default_date(s.engine.today()))?;
    caller.require(event_family(&list))?;
    let key = idem(&headers, &caller, &uri, &body)?;
    let report = durable(&s, move |e| e.apply_events_keyed(&list, key.as_ref())).await?;
    Ok(keyed(report))
}

/// The request of one invoice event.
struct EventRequest {
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    id: String,
    body: Bytes,
}

/// One event on invoice `id`: the body's fields plus `type` and `invoice`.
async fn invoice_event(s: Arc<AppState>, r: EventRequest, kind: &str) -> KeyedReply {
    let EventRequest {
        caller,
        headers,
        uri,
        id,
        body,
    } = r;
    let key = idem(&headers, &caller, &uri, &body)?;
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    let mut v: Value = serde_json::from_slice(&body).map_err(|e| malformed(&body, &e))?;
    let Value::Object(map) = &mut v else {
        return Err(ApiError::bad_request(
            None,
            "the body must be a JSON object",
        ));
    };
    let currency = match map.remove("currency") {
        None => None,
        Some(Value::String(c)) => Some(c),
        Some(_) => {
            return Err(ApiError::bad_request(
                Some("currency".into()),
                "must be a string",
            ));
        }
    };
    map.insert("type".into(), Value::String(kind.into()));
    map.insert("invoice".into(), Value::String(id.clone()));
    let today = s.engine.today();
    map.entry("date")
        .or_insert_with(|| Value::String(today.to_string()));
    let bytes = serde_json::to_vec_pretty(&v).unwrap_or_default();
    let event: Event = parse(&bytes)?;
    caller.require(event_family(std::slice::from_ref(&event)))?;
    if let Some(c) = currency {
        let engine = s.engine.clone();
        if let Some(inv) = blocking(move || engine.invoice(&id)).await?
            && c != inv.currency
        {
            // A fact about the stored invoice: told in full only to roles that may read it.
            let stored = InputProblem::new(
                String::new(),
                Some("currency".into()),
                format!("{c} does not match the invoice's currency {}", inv.currency),
            )
            .scoped(Scope::Stored);
            let p = Portfolio {
                events: vec![event],
                ..Portfolio::default()
            };
            let own = input::check_alone(&p, today);
            return Err(DaemonError::Invalid(input::accounts(vec![stored], own)).into());
        }
    }
    let report = durable(&s, move |e| e.apply_events_keyed(&[event], key.as_ref())).await?;
    Ok(keyed(report))
}

/// The route for one kind of invoice event (`POST /v1/invoices/{id}/payments` …): the body
/// is the event without `type` and `invoice`, which the route supplies.
pub fn invoice_event_route(kind: &'static str) -> axum::routing::MethodRouter<Arc<AppState>> {
    axum::routing::post(
        move |State(s): State<Arc<AppState>>,
              caller: Caller,
              headers: HeaderMap,
              uri: Uri,
              Path(id): Path<String>,
              body: Bytes| async move {
            let r = EventRequest {
                caller,
                headers,
                uri,
                id,
                body,
            };
            invoice_event(s, r, kind).await
        },
    )
}

/// Records what came of a call or task of the agenda (and the promise made, if any).
#[utoipa::path(post, path = "/v1/agenda/{id}/outcome", tag = "views",
    params(("id" = u64, Path, description = "The agenda entry id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes the write safe to retry: a repeat gets the original reply (1 to 255 visible ASCII characters)"),),
    request_body(content = OutcomeBody),
    responses(
        (status = 200, description = "The entry with its outcome", body = AgendaEntry),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 404, description = "No such record (`not_found`)", body = ErrorBody),
        (status = 422, description = "Refused, nothing written (`invalid`, with `problems`)", body = ErrorBody),
    ))]
pub async fn agenda_outcome(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> KeyedReply {
    caller.require(Family::Resolve)?;
    let key = idem(&headers, &caller, &uri, &body)?;
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(Some("id".into()), "an agenda entry id is a number"))?;
    let o: OutcomeBody = parse(&body)?;
    let entry = durable(&s, move |e| {
        e.record_outcome_keyed(id, &o.outcome, o.promised_date, key.as_ref())
    })
    .await?;
    Ok(keyed(entry))
}

/// `"migrate"` of a deployment: absent, `null` or `"none"`; `"all"`; or a list of scenario
/// names.
fn migrate_of(v: Option<Value>) -> Result<Migrate, ApiError> {
    let wrong = || {
        ApiError::bad_request(
            Some("migrate".into()),
            "`migrate` is \"all\", \"none\" or a list of scenario names",
        )
    };
    match v {
        None | Some(Value::Null) => Ok(Migrate::None),
        Some(Value::String(t)) if t == "none" => Ok(Migrate::None),
        Some(Value::String(t)) if t == "all" => Ok(Migrate::All),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|i| match i {
                Value::String(name) => Ok(name),
                _ => Err(wrong()),
            })
            .collect::<Result<_, _>>()
            .map(Migrate::Scenarios),
        Some(_) => Err(wrong()),
    }
}

/// Deploys a scenario set: `{"files": {PATH: TEXT}}` (optionally with `"migrate"`: `"all"`,
/// `"none"` or a list of scenario names), or `{"path": DIR}` (a folder of the daemon's
/// machine: admin only).
#[utoipa::path(post, path = "/v1/scenarios", tag = "scenarios",
    request_body(content = DeployBody),
    responses(
        (status = 200, description = "Deployed (or already current: `changed` is false)", body = DeployReport),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 422, description = "The set does not check (`invalid_scenarios`, with `diagnostics`)", body = ErrorBody),
    ))]
pub async fn deploy(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    body: Bytes,
) -> Reply<DeployReport> {
    caller.require(Family::Deploy)?;
    let mut v: Map<String, Value> = parse(&body)?;
    let migrate = migrate_of(v.remove("migrate"))?;
    let expected = "expected {\"files\": {PATH: TEXT, ...}} (`NAME.relance`, \
                    `templates/NAME.LANG.txt`, `rules/NAME.rhai`), optionally with \"migrate\"";
    let req = if let Some(Value::Object(_)) = v.get("files") {
        if let Some(other) = v.keys().find(|k| *k != "files") {
            return Err(ApiError::bad_request(
                Some(other.clone()),
                format!("unknown key `{other}`: {expected}"),
            ));
        }
        let files: BTreeMap<String, String> =
            serde_json::from_value(v.remove("files").unwrap_or_default()).map_err(|e| {
                ApiError::bad_request(Some("files".into()), format!("{expected}: {e}"))
            })?;
        DeployBody::Map { files }
    } else {
        serde_json::from_value(Value::Object(v)).map_err(|e| {
            ApiError::bad_request(
                Some("files".into()),
                format!("{expected} (or {{\"path\": DIR}}, admin only): {e}"),
            )
        })?
    };
    // Only the admin role may have the daemon read a folder of its machine: another role is
    // refused before the path is looked at, so it learns nothing about the server's files.
    if matches!(req, DeployBody::Path { .. }) {
        caller.require(Family::Admin).map_err(|_| {
            ApiError::forbidden(format!(
                "role {} may not deploy a folder of the daemon's machine: send the set's files \
                 ({{\"files\": {{PATH: TEXT}}}})",
                role_name(caller.role)
            ))
        })?;
    }
    let engine = s.engine.clone();
    let report = blocking(move || {
        let bundle = match req {
            DeployBody::Path { path } => Bundle::read_dir(&path)?,
            DeployBody::Map { files } => Bundle::from_map(files)?,
            DeployBody::Bundle(b) => b,
        };
        engine.deploy_with(bundle, &migrate)
    })
    .await?;
    s.wake.notify_one();
    Ok(Wire(report))
}
