//! The read endpoints: an invoice's state and timeline, a customer's view, the agenda by day
//! and assignee, the outbox, deployed scenario versions, `/healthz` and `/metrics`.
//!
//! Views are assembled from the store into the types of [`models`](super::models); they must
//! not write.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::super::error::DaemonError;
use super::super::health::DispatcherState;
use super::super::model::MessageStatus;
use super::auth::{Caller, Family};
use super::error::ApiError;
use super::models::{
    AgendaReply, CustomerView, DeploymentView, DeploymentsReply, DisputeView, Health, InvoiceView,
    NextAction, OpenInvoice, OutboxCounts, OutboxReply, PendingMessage, PromiseView, Wire,
};
use super::{AppState, Reply, blocking};
use relance_core::runtime::Status;

/// `GET /healthz`: ready (200) when the store's last commit or flush succeeded (after a
/// failure, a probe write and flush must succeed: a full disk that has room again recovers
/// here) and the dispatcher's loop is alive; else 503 with the same body naming what is wrong.
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
        Ok(Wire(InvoiceView {
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

pub async fn customer(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Reply<CustomerView> {
    caller.require(Family::Read)?;
    let engine = s.engine.clone();
    blocking(move || {
        let customer = engine.customer(&id)?.ok_or(DaemonError::NotFound {
            what: "customer",
            id: id.clone(),
        })?;
        let mut outstanding = Decimal::ZERO;
        let (mut open, mut disputes, mut promises, mut next) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for inv_id in engine.customer_invoices(&id)? {
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
            outstanding += c.outstanding;
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
        Ok(Wire(CustomerView {
            customer,
            outstanding,
            open_invoices: open,
            disputes,
            promises,
            next_actions: next,
        }))
    })
    .await
}

#[derive(Deserialize)]
pub struct AgendaQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    assignee: Option<String>,
}

pub async fn agenda(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<AgendaQuery>,
) -> Reply<AgendaReply> {
    caller.require(Family::Read)?;
    let today = s.engine.today();
    let from = q.from.unwrap_or(today);
    let to = q.to.unwrap_or(from);
    let engine = s.engine.clone();
    blocking(move || {
        let mut days: BTreeMap<NaiveDate, BTreeMap<String, Vec<_>>> = BTreeMap::new();
        for e in engine.agenda(from, to)? {
            let who = e.assignee.clone().unwrap_or_else(|| "unassigned".into());
            if q.assignee.as_ref().is_some_and(|a| *a != who) {
                continue;
            }
            days.entry(e.date)
                .or_default()
                .entry(who)
                .or_default()
                .push(e);
        }
        Ok(Wire(AgendaReply { from, to, days }))
    })
    .await
}

#[derive(Deserialize)]
pub struct OutboxQuery {
    status: Option<String>,
    after: Option<u64>,
    limit: Option<usize>,
}

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
