//! The read endpoints: an invoice's state and timeline, a customer's view, the agenda by day
//! and assignee, the outbox, deployed scenario versions, `/healthz` and `/metrics`.
//!
//! Views are assembled from the store into the types of [`models`](super::models); they must
//! not write. The customer view and the agenda are paginated (`limit`, `after`, and the
//! reply's `next`): each reads one page by a range scan from its cursor, never the whole
//! customer or agenda.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use serde::Deserialize;

use super::super::error::DaemonError;
use super::super::health::DispatcherState;
use super::super::model::MessageStatus;
use super::auth::{Caller, Family};
use super::error::{ApiError, date_param};
use super::models::ErrorBody;
use super::models::{AccountView, WaitingMessage};
use super::models::{
    AgendaEntry, AgendaReply, CustomerCounts, CustomerView, DeploymentView, DeploymentsReply,
    DisputeView, Health, InvoiceView, NextAction, OpenInvoice, OutboxCounts, OutboxReply,
    PendingMessage, PromiseView, Wire,
};
use super::{AppState, Reply, blocking};
use relance_core::runtime::Status;

/// `GET /healthz`: ready (200) when the store's last commit or flush succeeded (after a
/// failure, a probe write and flush must succeed: a full disk that has room again recovers
/// here) and the dispatcher's loop is alive; else 503 with the same body naming what is wrong.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready: `problems` says why", body = Health),
    ))]
pub async fn healthz(State(s): State<Arc<AppState>>) -> axum::response::Response {
    let engine = s.engine.clone();
    let (store, run_through) = tokio::task::spawn_blocking(move || {
        let store = match engine.store().last_error() {
            None => Ok(()),
            Some(_) => engine.probe(),
        };
        (store, engine.run_through())
    })
    .await
    .unwrap_or_else(|e| (Err(DaemonError::Io(e.to_string())), Ok(None)));
    let dispatcher = s
        .heartbeat
        .as_ref()
        .map_or(DispatcherState::NotRunning, |h| h.state());
    let mut problems = Vec::new();
    let store = match (&store, &run_through) {
        (Ok(()), Ok(_)) => "ok".to_string(),
        (Err(e), _) | (Ok(()), Err(e)) => {
            problems.push(format!("store: {e}"));
            e.to_string()
        }
    };
    match dispatcher {
        DispatcherState::Stalled | DispatcherState::Stopped => {
            problems.push(format!(
                "dispatcher: {}",
                serde_json::to_string(&dispatcher)
                    .unwrap_or_default()
                    .trim_matches('"')
            ));
        }
        DispatcherState::Alive | DispatcherState::NotRunning => {}
    }
    let ready = problems.is_empty();
    let body = Health {
        status: if ready { "ok" } else { "unavailable" },
        today: s.engine.today(),
        run_through: run_through.ok().flatten(),
        store,
        dispatcher,
        problems,
    };
    let code = if ready {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Wire(body)).into_response()
}

/// `GET /metrics`: any valid token (the `metrics` role included), or none with
/// `metrics_public`. Counters and gauges are kept up to date by the writes, so a scrape costs
/// the same whatever the size of the store.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
pub async fn metrics(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if !s.tokens.metrics_public() {
        s.tokens.caller(&headers)?.require(Family::Metrics)?;
    }
    let text = s.engine.metrics.render(s.engine.gauges());
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}

/// An invoice, its case, what comes next and what happened.
#[utoipa::path(get, path = "/v1/invoices/{id}", tag = "views",
    params(("id" = String, Path, description = "The invoice id")),
    responses(
        (status = 200, description = "The invoice's view", body = InvoiceView),
        (status = 404, description = "No such record (`not_found`)", body = ErrorBody),
    ))]
pub async fn invoice(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Reply<InvoiceView> {
    caller.require(Family::Read)?;
    let engine = s.engine.clone();
    blocking(move || {
        let invoice = engine.invoice(&id)?.ok_or(DaemonError::NotFound {
            what: "invoice",
            id: id.clone(),
        })?;
        let rec = engine.case(&id)?;
        let next_step = rec.as_ref().and_then(|r| engine.next_step(&r.case));
        let history = engine.history(&id)?;
        let pending: Vec<PendingMessage> = engine
            .outbox()?
            .into_iter()
            .filter(|m| m.items.iter().any(|i| i.invoice == id))
            .map(|m| PendingMessage {
                id: m.id,
                date: m.date,
                action: m.text,
                status: m.status,
                last_error: m.last_error,
            })
            .collect();
        let outstanding = rec
            .as_ref()
            .map_or(invoice.opening_outstanding(), |r| r.case.outstanding);
        let installments =
            relance_core::runtime::installments::standing(&invoice, outstanding, engine.today());
        Ok(Wire(InvoiceView {
            installments,
            state: Some(rec.as_ref().map_or("new", |r| r.case.status.name())),
            next_tick: match &rec {
                Some(r) => r.wake,
                None => Some(invoice.issued.max(engine.next_run_day()?)),
            },
            deployment: rec.as_ref().and_then(|r| r.deployment),
            case: rec.map(|r| r.case),
            invoice,
            next_step,
            timeline: history,
            outbox: pending,
        }))
    })
    .await
}

/// Query parameters by name.
type Params = Query<HashMap<String, String>>;

/// A page's size when no `limit` is given, and the largest one may ask for.
pub const PAGE_DEFAULT: usize = 100;
pub const PAGE_MAX: usize = 1_000;

/// The `limit` parameter: 1 to [`PAGE_MAX`], [`PAGE_DEFAULT`] when absent.
fn limit(params: &HashMap<String, String>) -> Result<usize, ApiError> {
    let Some(v) = params.get("limit") else {
        return Ok(PAGE_DEFAULT);
    };
    match v.parse::<usize>() {
        Ok(n) if (1..=PAGE_MAX).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_request(
            Some("limit".into()),
            format!("limit is a whole number from 1 to {PAGE_MAX}, not \"{v}\""),
        )),
    }
}

/// A customer view's `after`: an invoice id (not empty, no control characters, as ids are).
fn invoice_cursor(params: &HashMap<String, String>) -> Result<Option<String>, ApiError> {
    match params.get("after") {
        Some(a) if a.is_empty() || a.chars().any(char::is_control) => Err(ApiError::bad_request(
            Some("after".into()),
            "after is an invoice id (the `next` of the previous page): not empty, without \
             control characters",
        )),
        other => Ok(other.cloned()),
    }
}

/// The agenda's `after`: `DAY:ID` (the `next` of the previous page).
fn agenda_cursor(params: &HashMap<String, String>) -> Result<Option<(NaiveDate, u64)>, ApiError> {
    let Some(a) = params.get("after") else {
        return Ok(None);
    };
    let parsed = a
        .split_once(':')
        .and_then(|(d, id)| Some((d.parse().ok()?, id.parse().ok()?)));
    parsed.map(Some).ok_or_else(|| {
        ApiError::bad_request(
            Some("after".into()),
            format!(
                "after is DAY:ID (YYYY-MM-DD:NUMBER, the `next` of the previous page), not \"{a}\""
            ),
        )
    })
}

/// `GET /v1/customers/{id}?limit=N&after=ID`: the customer, its totals (from the ledger the
/// engine keeps, see [`Engine::customer_sums`](super::super::engine::Engine::customer_sums)),
/// and one page of its invoices read by a range scan from the cursor.
#[utoipa::path(get, path = "/v1/customers/{id}", tag = "views",
    summary = "A customer, its totals and one page of its invoices",
    description = "The customer, its outstanding amount and counts (over all its invoices, from \
        the ledger the engine keeps), and one page of its invoices (in id order) with their open \
        cases, disputes, promises and what comes next.",
    params(
        ("id" = String, Path, description = "The customer id"),
        ("limit" = Option<usize>, Query, description = "Page size, 1 to 1000 (default 100)"),
        ("after" = Option<String>, Query, description = "The `next` of the previous page (an invoice id)"),
    ),
    responses(
        (status = 200, description = "The customer's view, one page of its invoices", body = CustomerView),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 404, description = "No such record (`not_found`)", body = ErrorBody),
    ))]
pub async fn customer(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Params,
) -> Reply<CustomerView> {
    caller.require(Family::Read)?;
    let limit = limit(&params)?;
    let after = invoice_cursor(&params)?;
    let engine = s.engine.clone();
    blocking(move || {
        let customer = engine.customer(&id)?.ok_or(DaemonError::NotFound {
            what: "customer",
            id: id.clone(),
        })?;
        let sums = engine.customer_sums(&id)?;
        let (page, more) = engine.customer_invoices_page(&id, after.as_deref(), limit)?;
        let (mut open, mut disputes, mut promises, mut next) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for inv_id in page.iter().cloned() {
            let Some(inv) = engine.invoice(&inv_id)? else {
                continue;
            };
            let Some(rec) = engine.case(&inv_id)? else {
                next.push(NextAction {
                    date: inv.issued.max(engine.next_run_day()?),
                    invoice: inv_id,
                    what: "case opens".into(),
                });
                continue;
            };
            let c = &rec.case;
            if !c.is_open() {
                continue;
            }
            let step = engine.next_step(c);
            open.push(OpenInvoice {
                id: inv_id.clone(),
                amount: inv.amount,
                currency: inv.currency.clone(),
                due: inv.due,
                outstanding: c.outstanding,
                state: c.status.name(),
                scenario: c.scenario.clone(),
                next_tick: rec.wake,
                next_step: step.clone(),
            });
            if let Some(d) = &c.dispute {
                disputes.push(DisputeView {
                    invoice: inv_id.clone(),
                    code: d.code.clone(),
                    opened: d.opened,
                    amount: d.amount,
                    target_date: d.target_date,
                });
            }
            if let Some(p) = &c.promise {
                promises.push(PromiseView {
                    invoice: inv_id.clone(),
                    date: p.date,
                    amount: p.amount,
                });
            }
            if let Some(w) = rec.wake {
                let what = match (&c.status, &step) {
                    (Status::Waiting { reason, .. }, _) => format!("end of wait ({reason})"),
                    (_, Some(step)) => format!("step {step}"),
                    _ => "promise check".to_string(),
                };
                next.push(NextAction {
                    date: w,
                    invoice: inv_id,
                    what,
                });
            }
        }
        next.sort_by_key(|a| a.date);
        let waiting = crate::cadence::waiting_for(engine.store(), &id)?
            .into_iter()
            .map(|m| WaitingMessage {
                until: m.date,
                due_on: m.due_on,
                action: m.action.to_string(),
                invoice: m.invoice,
                step: m.step,
            })
            .collect();
        let accounts = {
            let catalog = engine.catalog();
            let set = catalog.current().map(|d| &d.set);
            crate::account::accounts_of(engine.store(), &id)?
                .into_iter()
                .map(|(scenario, currency, rec)| AccountView {
                    level: rec
                        .state
                        .level
                        .and_then(|i| crate::account::level_name(set, &scenario, i)),
                    since: rec.state.since,
                    invoices: rec.state.listed,
                    scenario,
                    currency,
                })
                .collect()
        };
        Ok(Wire(CustomerView {
            cover_in_force: engine.cover_in_force(&customer),
            customer,
            outstanding: sums.outstanding,
            counts: CustomerCounts {
                invoices: sums.invoices,
                open: sums.open,
                to_open: sums.unopened,
                disputes: sums.disputes,
                promises: sums.promises,
            },
            next: if more { page.last().cloned() } else { None },
            invoices: page,
            open_invoices: open,
            disputes,
            promises,
            next_actions: next,
            waiting,
            accounts,
        }))
    })
    .await
}

/// Who an agenda entry is for (`unassigned` when no one).
fn assignee(e: &AgendaEntry) -> &str {
    e.assignee.as_deref().unwrap_or("unassigned")
}

/// `GET /v1/agenda?from=&to=&assignee=&limit=N&after=DAY:ID`: one page of the entries from
/// `from` to `to`, read by a range scan from the cursor.
#[utoipa::path(get, path = "/v1/agenda", tag = "views",
    params(
        ("from" = Option<chrono::NaiveDate>, Query, description = "First day (default today)"),
        ("to" = Option<chrono::NaiveDate>, Query, description = "Last day (default `from`)"),
        ("assignee" = Option<String>, Query, description = "Only this assignee's entries (`unassigned` for none)"),
        ("limit" = Option<usize>, Query, description = "Page size, 1 to 1000 (default 100)"),
        ("after" = Option<String>, Query, description = "The `next` of the previous page (`DAY:ID`)"),
    ),
    responses(
        (status = 200, description = "One page of the agenda, by day and assignee", body = AgendaReply),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
    ))]
pub async fn agenda(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Params,
) -> Reply<AgendaReply> {
    caller.require(Family::Read)?;
    let today = s.engine.today();
    let from = date_param(&params, "from")?.unwrap_or(today);
    let to = date_param(&params, "to")?.unwrap_or(from);
    let limit = limit(&params)?;
    let after = agenda_cursor(&params)?;
    let wanted = params.get("assignee").cloned();
    let engine = s.engine.clone();
    blocking(move || {
        let (page, more) = engine.agenda_page(from, to, after, limit, |e| {
            wanted.as_deref().is_none_or(|w| w == assignee(e))
        })?;
        let next = if more {
            page.last().map(|e| format!("{}:{}", e.date, e.id))
        } else {
            None
        };
        let mut days: BTreeMap<NaiveDate, BTreeMap<String, Vec<_>>> = BTreeMap::new();
        for e in page {
            days.entry(e.date)
                .or_default()
                .entry(assignee(&e).to_string())
                .or_default()
                .push(e);
        }
        Ok(Wire(AgendaReply {
            from,
            to,
            days,
            next,
        }))
    })
    .await
}

#[derive(Deserialize)]
pub struct OutboxQuery {
    status: Option<String>,
    after: Option<u64>,
    limit: Option<usize>,
}

/// The outbox: counts by status and a page of messages, oldest first.
#[utoipa::path(get, path = "/v1/outbox", tag = "views",
    params(
        ("status" = Option<MessageStatus>, Query, description = "Only messages in this status"),
        ("after" = Option<u64>, Query, description = "Delivered messages only: after this message id"),
        ("limit" = Option<usize>, Query, description = "How many messages (default 100, at most 10000)"),
    ),
    responses(
        (status = 200, description = "Counts and messages", body = OutboxReply),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
    ))]
pub async fn outbox(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<OutboxQuery>,
) -> Reply<OutboxReply> {
    caller.require(Family::Read)?;
    let engine = s.engine.clone();
    blocking(move || {
        let limit = q.limit.unwrap_or(100).min(10_000);
        let undelivered = engine.outbox()?;
        let count = |st: MessageStatus| undelivered.iter().filter(|m| m.status == st).count();
        let counts = OutboxCounts {
            pending: count(MessageStatus::Pending),
            retrying: count(MessageStatus::Retrying),
            dead: count(MessageStatus::Dead),
            delivered: engine.gauges().delivered,
        };
        let messages = match q.status.as_deref() {
            Some("delivered") => engine.delivered(q.after.unwrap_or(0), limit)?,
            Some(st) => {
                let wanted = [
                    MessageStatus::Pending,
                    MessageStatus::Retrying,
                    MessageStatus::Dead,
                ]
                .into_iter()
                .find(|x| x.as_str() == st)
                .ok_or_else(|| DaemonError::Malformed {
                    field: Some("status".into()),
                    message: format!("unknown status `{st}`: pending, retrying, dead or delivered"),
                })?;
                undelivered
                    .into_iter()
                    .filter(|m| m.status == wanted)
                    .take(limit)
                    .collect()
            }
            None => undelivered.into_iter().take(limit).collect(),
        };
        Ok(Wire(OutboxReply { counts, messages }))
    })
    .await
}

/// Every deployment of a scenario set, oldest first.
#[utoipa::path(get, path = "/v1/scenarios", tag = "scenarios",
    responses((status = 200, description = "The deployments", body = DeploymentsReply)))]
pub async fn scenarios(State(s): State<Arc<AppState>>, caller: Caller) -> Reply<DeploymentsReply> {
    caller.require(Family::Read)?;
    let catalog = s.engine.catalog();
    let deployments = catalog
        .deployments()
        .iter()
        .map(|d| DeploymentView {
            deployment: d.number,
            scenarios: d
                .set
                .scenarios
                .values()
                .map(|x| (x.name.clone(), x.version.clone()))
                .collect(),
            files: d.bundle.files.iter().map(|f| f.path.clone()).collect(),
        })
        .collect();
    Ok(Wire(DeploymentsReply { deployments }))
}
