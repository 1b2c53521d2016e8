//! Scenarios (`/console/scenarios`, `/console/scenarios/{deployment}/{scenario}`): the
//! deployed sets (deployments) with their scenarios, versions and files, how many running
//! cases each version holds, each scenario's ladder (`relance_pictures::ladder`: its steps on
//! a time axis from the due date, branches, `goto`, handlers), and a what-if: an invoice of
//! the store, or an amount, a due date and a segment typed in, planned by
//! `relance_pictures::what_if` (the simulator: the same transition function as `relance plan`)
//! under this scenario (the customer's scenario set to it, as a customer override does).
//!
//! The what-if is a GET form: it reads, writes nothing. A stored invoice is planned from
//! today with its current outstanding amount; its logged events (promises, disputes) are not
//! replayed. The running counts scan the cases tree on each view of the list.
//! This module must not hold engine rules.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{Days, NaiveDate};
use minijinja::context;
use relance_core::domain::{Customer, Invoice, Segment};
use relance_core::interest::RateTable;
use relance_core::runtime::Shared;
use relance_daemon::api::auth::Family;
use relance_daemon::model::{CaseRecord, decode};
use relance_daemon::store::{StoreError, Tree};
use relance_daemon::{DaemonError, Engine};
use relance_pictures::{Lang, ladder, what_if};
use rust_decimal::Decimal;
use serde::Serialize;

use super::web::{Console, Query, Signed, blocking};

/// Running (open) cases by scenario version: one scan of the cases tree.
fn running_by_version(engine: &Engine) -> Result<HashMap<String, usize>, DaemonError> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut bad = None;
    engine.store().scan(Tree::Instances, &mut |_, v| {
        match decode::<CaseRecord>("case", v) {
            Ok(r) if r.case.is_open() && !r.case.version.is_empty() => {
                *counts.entry(r.case.version).or_default() += 1;
            }
            Ok(_) => {}
            Err(e) => bad = Some(e),
        }
        Ok::<(), StoreError>(())
    })?;
    match bad {
        Some(e) => Err(e),
        None => Ok(counts),
    }
}

#[derive(Serialize)]
struct ScenarioRow {
    name: String,
    title: Option<String>,
    version: String,
    running: usize,
}

#[derive(Serialize)]
struct DeploymentRow {
    number: u64,
    scenarios: Vec<ScenarioRow>,
    files: Vec<String>,
}

/// `GET /console/scenarios`.
pub async fn list(State(c): State<Arc<Console>>, s: Signed) -> Response {
    if let Err(f) = s.require(Family::Read) {
        return c.fail(s.lang, Some(&s.session), f);
    }
    let engine = c.app.engine.clone();
    let read = blocking(move || {
        let running = running_by_version(&engine)?;
        let catalog = engine.catalog();
        let rows: Vec<DeploymentRow> = catalog
            .deployments()
            .iter()
            .rev()
            .map(|d| DeploymentRow {
                number: d.number,
                scenarios: d
                    .set
                    .scenarios
                    .values()
                    .map(|x| ScenarioRow {
                        name: x.name.clone(),
                        title: x.title.clone(),
                        version: x.version.clone(),
                        running: running.get(&x.version).copied().unwrap_or(0),
                    })
                    .collect(),
                files: d.bundle.files.iter().map(|f| f.path.clone()).collect(),
            })
            .collect();
        Ok(rows)
    })
    .await;
    match read {
        Ok(deployments) => c.page(
            s.lang,
            Some(&s.session),
            "scenarios.html",
            context! { deployments },
        ),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}

#[derive(Serialize)]
struct StepRow {
    name: String,
    when: String,
    day: i64,
    required: bool,
    lines: Vec<String>,
}

#[derive(Serialize)]
struct ActionRow {
    date: String,
    day: i64,
    step: Option<String>,
    channel: &'static str,
    text: String,
}

/// The what-if's invoice and customer: a stored invoice (`invoice`), or one typed in
/// (`amount`, `due`, `segment`). `None` when the form was not filled.
fn what_if_input(
    engine: &Engine,
    q: &HashMap<String, String>,
) -> Result<Option<(Customer, Invoice)>, String> {
    let text = |e: DaemonError| e.to_string();
    let field = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(id) = field("invoice") {
        let mut inv = engine
            .invoice(id)
            .map_err(text)?
            .ok_or_else(|| format!("invoice {id}: not found"))?;
        let cust = engine
            .customer(&inv.customer)
            .map_err(text)?
            .ok_or_else(|| format!("customer {}: not found", inv.customer))?;
        if let Some(r) = engine.case(id).map_err(text)? {
            inv.outstanding = Some(r.case.outstanding);
        }
        return Ok(Some((cust, inv)));
    }
    let (Some(amount), Some(due)) = (field("amount"), field("due")) else {
        return Ok(None);
    };
    let amount: Decimal = amount
        .replace(',', ".")
        .parse()
        .map_err(|_| format!("amount: not a number: {amount}"))?;
    let due: NaiveDate = due
        .parse()
        .map_err(|_| format!("due: not a date (YYYY-MM-DD): {due}"))?;
    let segment = field("segment").map_or(Some(Segment::B2b), Segment::parse);
    let segment = segment.ok_or_else(|| "segment: b2b, b2c or public".to_string())?;
    let mut cust = Customer::new("WHAT-IF");
    cust.segment = segment;
    let inv = Invoice {
        id: "WHAT-IF".into(),
        customer: cust.id.clone(),
        amount,
        currency: "EUR".into(),
        issued: due.checked_sub_days(Days::new(30)).unwrap_or(due),
        due,
        outstanding: None,
        po_number: None,
        payment_terms: None,
        delivered_on: None,
        dunning: Default::default(),
        payment_means: None,
        late_interest_rate: None,
        installments: Vec::new(),
    };
    Ok(Some((cust, inv)))
}

/// `GET /console/scenarios/{deployment}/{scenario}`, with the what-if's fields as query.
pub async fn page(
    State(c): State<Arc<Console>>,
    s: Signed,
    Path((number, name)): Path<(u64, String)>,
    axum::extract::Query(q): Query,
) -> Response {
    if let Err(f) = s.require(Family::Read) {
        return c.fail(s.lang, Some(&s.session), f);
    }
    let engine = c.app.engine.clone();
    let lang = Lang::from_tag(s.lang.code());
    let form = q.clone();
    let read = blocking(move || {
        let input = what_if_input(&engine, &q);
        let catalog = engine.catalog();
        let not_found = || DaemonError::NotFound {
            what: "scenario",
            id: format!("{number}/{name}"),
        };
        let d = catalog
            .deployments()
            .iter()
            .find(|d| d.number == number)
            .ok_or_else(not_found)?;
        let scenario = d.set.scenarios.get(&name).ok_or_else(not_found)?;
        let l = ladder(scenario, lang);
        let steps: Vec<StepRow> = l
            .steps
            .into_iter()
            .map(|x| StepRow {
                name: x.name,
                when: x.when,
                day: x.day,
                required: x.required,
                lines: x.lines,
            })
            .collect();
        let plan = match input {
            Ok(Some((mut cust, inv))) => {
                cust.scenario = Some(scenario.name.clone());
                let shared = Shared {
                    set: &d.set,
                    rules: &d.rules,
                    rates: RateTable::builtin(),
                };
                let w = what_if(shared, &cust, &inv, &[], engine.today(), lang);
                let actions: Vec<ActionRow> = w
                    .actions
                    .into_iter()
                    .map(|a| ActionRow {
                        date: a.date.to_string(),
                        day: a.day,
                        step: a.step,
                        channel: a.channel,
                        text: a.text,
                    })
                    .collect();
                Ok(Some((inv.id, w.svg, actions)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        Ok((
            scenario.name.clone(),
            scenario.title.clone(),
            scenario.version.clone(),
            l.svg,
            steps,
            plan,
        ))
    })
    .await;
    match read {
        Ok((name, title, version, svg, steps, plan)) => {
            let (what_if_error, plan) = match plan {
                Ok(p) => (None, p),
                Err(e) => (Some(e), None),
            };
            let plan = plan.map(|(invoice, svg, actions)| context! { invoice, svg, actions });
            c.page(
                s.lang,
                Some(&s.session),
                "scenario.html",
                context! {
                    number, name, title, version, svg, steps, plan, what_if_error,
                    form => form,
                },
            )
        }
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}
