//! The report endpoints: `GET /v1/reports/aged`, `/v1/reports/dso`, `/v1/reports/activity` and
//! `/v1/reports/behaviour`, as JSON (default), CSV or text (`format=json|csv|text`).
//!
//! Each reads the store once ([`snapshot`](super::super::snapshot): customers, invoices, the
//! money events rebuilt from the history, the history itself and the decided actions) and calls
//! the reports library (`relance_sim::reports`), the functions `relance report` calls: the same data
//! gives the same numbers. `aged` and `dso` read the data; `activity` and `behaviour` read what
//! this engine actually did (its history and messages) rather than a fresh simulation.
//!
//! The JSON forms are the reports' own types, named in [`models`](super::models).
//! Handlers translate query parameters into library calls; they must not compute figures and
//! must not write.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::super::snapshot::{self, Snapshot};
use super::auth::{Caller, Family};
use super::error::{ApiError, date_param};
use super::models::{BehaviourReport, ErrorBody, Wire};
use super::{AppState, blocking};
use relance_sim::reports::{activity, aged, behaviour, dso};

type Params = Query<HashMap<String, String>>;

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Text,
}

/// A report in its three forms (each is small: rendering the two not asked for costs little).
struct Rendered<T> {
    json: T,
    csv: String,
    text: String,
}

fn format(params: &HashMap<String, String>) -> Result<Format, ApiError> {
    match params.get("format").map(String::as_str) {
        None | Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some("text") => Ok(Format::Text),
        Some(other) => Err(ApiError::bad_request(
            Some("format".into()),
            format!("format is json, csv or text, not \"{other}\""),
        )),
    }
}

fn number(params: &HashMap<String, String>, key: &str, default: u32) -> Result<u32, ApiError> {
    params.get(key).map_or(Ok(default), |v| {
        v.parse().map_err(|_| {
            ApiError::bad_request(
                Some(key.into()),
                format!("{key} is a whole number, not \"{v}\""),
            )
        })
    })
}

/// Checks the role, reads the store and renders the report `make` builds from it.
async fn report<T: Serialize + Send + 'static>(
    s: Arc<AppState>,
    caller: Caller,
    format: Format,
    make: impl FnOnce(Snapshot) -> Rendered<T> + Send + 'static,
) -> Result<Response, ApiError> {
    caller.require(Family::Read)?;
    let engine = s.engine.clone();
    let r = blocking(move || Ok(make(snapshot::take(&engine)?))).await?;
    Ok(match format {
        Format::Json => Wire(r.json).into_response(),
        Format::Csv => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], r.csv).into_response(),
        Format::Text => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            r.text,
        )
            .into_response(),
    })
}

/// `GET /v1/reports/aged?at=DATE&format=…`: the aged balance on `at` (default today).
#[utoipa::path(get, path = "/v1/reports/aged", tag = "reports", params(("at" = Option<chrono::NaiveDate>, Query, description = "The day of the report (default today)"),("format" = Option<String>, Query, description = "`json` (default), `csv` or `text`"),), responses(
        (status = 200, description = "The aged balance by bucket", content(
            (Object = "application/json"),
            (String = "text/csv"),
            (String = "text/plain"),
        )),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
    ))]
pub async fn aged(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let at = date_param(&params, "at")?.unwrap_or_else(|| s.engine.today());
    let format = format(&params)?;
    report(s, caller, format, move |snap| {
        let r = aged::aged_balance(&snap.portfolio, at);
        Rendered {
            csv: r.to_csv(),
            text: r.to_text(),
            json: r,
        }
    })
    .await
}

/// `GET /v1/reports/dso?at=DATE&period_days=90&currency=EUR&format=…`.
#[utoipa::path(get, path = "/v1/reports/dso", tag = "reports", params(("at" = Option<chrono::NaiveDate>, Query, description = "The day of the report (default today)"),
        ("period_days" = Option<u32>, Query, description = "The period DSO is computed over (default 90)"),
        ("currency" = Option<String>, Query, description = "The currency (default EUR)"),
        ("countback_months" = Option<String>, Query, description = "`calendar` (default) or `30-day`: how the countback counts a month"),
        ("cei_months" = Option<u32>, Query, description = "The CEI over this many calendar months (default 3; 0: none)"),
        ("format" = Option<String>, Query, description = "`json` (default), `csv` or `text`"),), responses(
        (status = 200, description = "Days sales outstanding", content(
            (Object = "application/json"),
            (String = "text/csv"),
            (String = "text/plain"),
        )),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
    ))]
pub async fn dso(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let at = date_param(&params, "at")?.unwrap_or_else(|| s.engine.today());
    let defaults = dso::DsoOptions::default();
    let options = dso::DsoOptions {
        period_days: number(&params, "period_days", defaults.period_days)?,
        currency: params
            .get("currency")
            .map_or(defaults.currency.clone(), |c| c.to_uppercase()),
        month_convention: match params.get("countback_months").map(String::as_str) {
            None | Some("calendar") => dso::MonthConvention::Calendar,
            Some("30-day") => dso::MonthConvention::ThirtyDay,
            Some(other) => {
                return Err(ApiError::bad_request(
                    Some("countback_months".into()),
                    format!("countback_months is calendar or 30-day, not \"{other}\""),
                ));
            }
        },
        cei_months: number(&params, "cei_months", defaults.cei_months)?,
        ..defaults
    };
    let format = format(&params)?;
    report(s, caller, format, move |snap| {
        let r = dso::dso(&snap.portfolio, at, &options);
        Rendered {
            csv: r.to_csv(),
            text: r.to_text(),
            json: r,
        }
    })
    .await
}

/// `GET /v1/reports/activity?from=DATE&to=DATE&format=…`: what the engine did from `from`
/// (default: the beginning) to `to` (default today).
#[utoipa::path(get, path = "/v1/reports/activity", tag = "reports", params(
        ("from" = Option<chrono::NaiveDate>, Query, description = "First day (default: the beginning)"),
        ("to" = Option<chrono::NaiveDate>, Query, description = "Last day (default today)"),
        ("format" = Option<String>, Query, description = "`json` (default), `csv` or `text`"),), responses(
        (status = 200, description = "What the engine did over the period", content(
            (Object = "application/json"),
            (String = "text/csv"),
            (String = "text/plain"),
        )),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
    ))]
pub async fn activity(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let to = date_param(&params, "to")?
        .or(date_param(&params, "at")?)
        .unwrap_or_else(|| s.engine.today());
    let from = date_param(&params, "from")?;
    if let Some(from) = from.filter(|f| *f > to) {
        return Err(ApiError::bad_request(
            Some("from".into()),
            format!("from ({from}) is after to ({to})"),
        ));
    }
    let format = format(&params)?;
    report(s, caller, format, move |snap| {
        let r = activity::activity_between(&snap.actions, &snap.records, from, to);
        Rendered {
            csv: r.to_csv(),
            text: r.to_text(),
            json: r,
        }
    })
    .await
}

/// `GET /v1/reports/behaviour?at=DATE&format=…`: each customer's payment behaviour on `at`.
#[utoipa::path(get, path = "/v1/reports/behaviour", tag = "reports", params(("at" = Option<chrono::NaiveDate>, Query, description = "The day of the report (default today)"),("format" = Option<String>, Query, description = "`json` (default), `csv` or `text`"),), responses(
        (status = 200, description = "Each customer's payment behaviour", content(
            (BehaviourReport = "application/json"),
            (String = "text/csv"),
            (String = "text/plain"),
        )),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
    ))]
pub async fn behaviour(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let at = date_param(&params, "at")?.unwrap_or_else(|| s.engine.today());
    let format = format(&params)?;
    report(s, caller, format, move |snap| {
        let rows = behaviour::behaviour(&snap.portfolio, &snap.records, at);
        Rendered {
            csv: behaviour::to_csv(&rows),
            text: behaviour::to_text(&rows, at),
            json: BehaviourReport {
                at,
                customers: rows,
            },
        }
    })
    .await
}
