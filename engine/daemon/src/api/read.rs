//! The read endpoints: an invoice's state and timeline, a customer's view, the agenda by day
//! and assignee, the outbox, deployed scenario versions, `/healthz` and `/metrics`.
//!
//! Views are assembled from the store; they must not write.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::error::DaemonError;
use super::super::model::MessageStatus;
use super::auth::{Caller, Family};
use super::error::ApiError;
use super::{AppState, blocking};
use relance_core::runtime::Status;

type Reply = Result<Json<Value>, ApiError>;

pub async fn healthz(State(s): State<Arc<AppState>>) -> Reply {
    let engine = s.engine.clone();
    let run_through = blocking(move || engine.run_through()).await?;
    Ok(Json(
        json!({"status": "ok", "today": s.engine.today(), "run_through": run_through}),
    ))
}

pub async fn metrics(State(s): State<Arc<AppState>>) -> impl IntoResponse {
    let text = s.engine.metrics.render(s.engine.gauges());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

pub async fn invoice(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Reply {
    caller.require(Family::Read)?;
    let engine = s.engine.clone();
    blocking(move || {
        let invoice = engine.invoice(&id)?.ok_or(DaemonError::NotFound { what: "invoice", id: id.clone() })?;
        let rec = engine.case(&id)?;
        let next_step = rec.as_ref().and_then(|r| engine.next_step(&r.case));
        let history = engine.history(&id)?;
        let pending: Vec<Value> = engine
            .outbox()?
            .into_iter()
            .filter(|m| m.items.iter().any(|i| i.invoice == id))
            .map(|m| json!({"id": m.id, "date": m.date, "action": m.text, "status": m.status, "last_error": m.last_error}))
            .collect();
        Ok(Json(json!({
            "invoice": invoice,
            "state": rec.as_ref().map(|r| r.case.status.name()),
            "case": rec.as_ref().map(|r| &r.case),
            "next_tick": rec.as_ref().map_or(Some(invoice.issued), |r| r.wake),
            "next_step": next_step,
            "timeline": history,
            "outbox": pending,
        })))
    })
    .await
}

pub async fn customer(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Reply {
    caller.require(Family::Read)?;
    let engine = s.engine.clone();
    blocking(move || {
        let customer = engine.customer(&id)?.ok_or(DaemonError::NotFound { what: "customer", id: id.clone() })?;
        let mut outstanding = Decimal::ZERO;
        let (mut open, mut disputes, mut promises, mut next) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for inv_id in engine.customer_invoices(&id)? {
            let Some(inv) = engine.invoice(&inv_id)? else { continue };
            let Some(rec) = engine.case(&inv_id)? else {
                next.push(json!({"date": inv.issued, "invoice": inv_id, "what": "case opens"}));
                continue;
            };
            let c = &rec.case;
            if !c.is_open() {
                continue;
            }
            outstanding += c.outstanding;
            let step = engine.next_step(c);
            open.push(json!({
                "id": inv_id, "amount": inv.amount, "currency": inv.currency, "due": inv.due,
                "outstanding": c.outstanding, "state": c.status.name(), "scenario": c.scenario,
                "next_tick": rec.wake, "next_step": step,
            }));
            if let Some(d) = &c.dispute {
                disputes.push(json!({"invoice": inv_id, "code": d.code, "opened": d.opened, "amount": d.amount, "target_date": d.target_date}));
            }
            if let Some(p) = &c.promise {
                promises.push(json!({"invoice": inv_id, "date": p.date, "amount": p.amount}));
            }
            if let Some(w) = rec.wake {
                let what = match (&c.status, &step) {
                    (Status::Waiting { reason, .. }, _) => format!("end of wait ({reason})"),
                    (_, Some(step)) => format!("step {step}"),
                    _ => "promise check".to_string(),
                };
                next.push(json!({"date": w, "invoice": inv_id, "what": what}));
            }
        }
        next.sort_by(|a, b| a["date"].as_str().cmp(&b["date"].as_str()));
        Ok(Json(json!({
            "customer": customer,
            "outstanding": outstanding,
            "open_invoices": open,
            "disputes": disputes,
            "promises": promises,
            "next_actions": next,
        })))
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
) -> Reply {
    caller.require(Family::Read)?;
    let today = s.engine.today();
    let from = q.from.unwrap_or(today);
    let to = q.to.unwrap_or(from);
    let engine = s.engine.clone();
    blocking(move || {
        let mut days: BTreeMap<NaiveDate, BTreeMap<String, Vec<Value>>> = BTreeMap::new();
        for e in engine.agenda(from, to)? {
            let who = e.assignee.clone().unwrap_or_else(|| "unassigned".into());
            if q.assignee.as_ref().is_some_and(|a| *a != who) {
                continue;
            }
            days.entry(e.date)
                .or_default()
                .entry(who)
                .or_default()
                .push(json!(e));
        }
        Ok(Json(json!({"from": from, "to": to, "days": days})))
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
) -> Reply {
    caller.require(Family::Read)?;
    let engine = s.engine.clone();
    blocking(move || {
        let limit = q.limit.unwrap_or(100).min(10_000);
        let undelivered = engine.outbox()?;
        let count = |st: MessageStatus| undelivered.iter().filter(|m| m.status == st).count();
        let counts = json!({
            "pending": count(MessageStatus::Pending),
            "retrying": count(MessageStatus::Retrying),
            "dead": count(MessageStatus::Dead),
            "delivered": engine.gauges().delivered,
        });
        let messages: Vec<Value> = match q.status.as_deref() {
            Some("delivered") => engine
                .delivered(q.after.unwrap_or(0), limit)?
                .into_iter()
                .map(|m| json!(m))
                .collect(),
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
                    .map(|m| json!(m))
                    .collect()
            }
            None => undelivered
                .into_iter()
                .take(limit)
                .map(|m| json!(m))
                .collect(),
        };
        Ok(Json(json!({"counts": counts, "messages": messages})))
    })
    .await
}

pub async fn scenarios(State(s): State<Arc<AppState>>, caller: Caller) -> Reply {
    caller.require(Family::Read)?;
    let catalog = s.engine.catalog();
    let list: Vec<Value> = catalog
        .deployments()
        .iter()
        .map(|d| {
            let scenarios: BTreeMap<&str, &str> = d.set.scenarios.values().map(|x| (x.name.as_str(), x.version.as_str())).collect();
            json!({"deployment": d.number, "scenarios": scenarios, "files": d.bundle.files.iter().map(|f| &f.path).collect::<Vec<_>>()})
        })
        .collect();
    Ok(Json(json!({"deployments": list})))
}
