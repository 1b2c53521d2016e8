//! Today (`/console/today`): the agenda entries (calls, tasks, alerts) of the signed-in
//! person's assignees, open or handled today, with the customer's name, contact and phone, the
//! invoices concerned (amounts, days late), the scenario step that asked for it; and the
//! outcome forms. An outcome is written with the API's engine calls: `record_outcome` (the
//! `task_outcome` event, with a promised date when given) and, for a promise with an amount or
//! a dispute, the `promise_made` / `dispute_opened` events of each invoice.
//!
//! Who an entry is for is read from the typed action of its message (`assign`, `to`), never
//! from the entry's display text. This module must not hold engine rules.

use std::str::FromStr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Days, NaiveDate};
use minijinja::context;
use relance_core::domain::{Event, EventKind};
use relance_daemon::api::auth::Family;
use relance_daemon::model::{AgendaEntry, Message};
use relance_daemon::{DaemonError, Engine};
use relance_dsl::ir::Action;
use relance_templates::filters::{self, DateForm};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::web::{Console, Fail, Signed, blocking, durable};

/// How far back open entries are still shown.
const LOOK_BACK_DAYS: u64 = 30;
/// The most entries one page shows.
const MAX_ENTRIES: usize = 200;

/// The assignees of an entry, from its message's action; `unassigned` when none.
pub fn assignees(m: Option<&Message>) -> Vec<String> {
    let list = match m.map(|m| &m.action) {
        Some(Action::Call { assign, .. }) | Some(Action::Task { assign, .. }) => {
            assign.iter().cloned().collect()
        }
        Some(Action::Alert { to, .. }) => to.clone(),
        _ => Vec::new(),
    };
    if list.is_empty() {
        vec!["unassigned".to_string()]
    } else {
        list
    }
}

/// Whether a person covering `agenda` (empty: everyone) sees an entry for `assignees`.
pub fn covers(agenda: &[String], assignees: &[String]) -> bool {
    agenda.is_empty() || assignees.iter().any(|a| agenda.contains(a))
}

#[derive(Serialize)]
struct InvoiceLine {
    id: String,
    amount: String,
    outstanding: String,
    due: String,
    days_late: i64,
}

#[derive(Serialize)]
struct Row {
    id: u64,
    date: String,
    kind: String,
    text: String,
    customer_id: String,
    customer: String,
    contact: Option<String>,
    phone: Option<String>,
    assignees: Vec<String>,
    scenario: Option<String>,
    step: Option<String>,
    invoices: Vec<InvoiceLine>,
    outcome: Option<String>,
    single: bool,
}

/// The message an agenda entry was made from (same id).
fn message_of(engine: &Engine, id: u64) -> Result<Option<Message>, DaemonError> {
    Ok(engine
        .delivered(id.saturating_sub(1), 1)?
        .into_iter()
        .find(|m| m.id == id))
}

fn rows(engine: &Engine, agenda: &[String], lang: &str) -> Result<Vec<Row>, DaemonError> {
    let today = engine.today();
    let from = today
        .checked_sub_days(Days::new(LOOK_BACK_DAYS))
        .unwrap_or(today);
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let (page, more) = engine.agenda_page(from, today, after, 500, |e: &AgendaEntry| {
            e.outcome.is_none() || e.outcome_on == Some(today)
        })?;
        after = page.last().map(|e| (e.date, e.id));
        for e in page {
            let m = message_of(engine, e.id)?;
            let who = assignees(m.as_ref());
            if !covers(agenda, &who) {
                continue;
            }
            let customer = engine.customer(&e.customer)?;
            let name = customer
                .as_ref()
                .and_then(|c| c.name.clone())
                .unwrap_or_else(|| e.customer.clone());
            let contact = e.contact.as_ref().map(|role| {
                let person = customer
                    .as_ref()
                    .and_then(|c| c.contacts.get(role))
                    .and_then(|c| c.name.clone());
                match person {
                    Some(p) => format!("{p} ({role})"),
                    None => role.clone(),
                }
            });
            let phone = e.phone.clone().or_else(|| {
                let role = e.contact.as_ref()?;
                customer.as_ref()?.contacts.get(role)?.phone.clone()
            });
            let items = m.as_ref().map(|m| m.items.clone()).unwrap_or_default();
            let invoices = items
                .iter()
                .map(|i| InvoiceLine {
                    id: i.invoice.clone(),
                    amount: filters::money(i.amount, &i.currency, lang),
                    outstanding: filters::money(i.outstanding, &i.currency, lang),
                    due: filters::date(i.due, DateForm::Short, lang),
                    days_late: (today - i.due).num_days().max(0),
                })
                .collect();
            out.push(Row {
                id: e.id,
                date: filters::date(e.date, DateForm::Short, lang),
                kind: e.kind.clone(),
                text: e.text.clone(),
                customer_id: e.customer.clone(),
                customer: name,
                contact,
                phone,
                assignees: who,
                scenario: m.as_ref().map(|m| m.scenario.clone()),
                step: items.first().map(|i| i.step.clone()),
                single: e.invoices.len() == 1,
                invoices,
                outcome: e.outcome.clone(),
            });
            if out.len() == MAX_ENTRIES {
                return Ok(out);
            }
        }
        if !more {
            return Ok(out);
        }
    }
}

/// Calls first, then tasks, then alerts; each by date (the agenda's order).
fn kind_rank(kind: &str) -> u8 {
    match kind {
        "call" => 0,
        "task" => 1,
        _ => 2,
    }
}

pub async fn page(State(c): State<Arc<Console>>, s: Signed) -> Response {
    if let Err(f) = s.require(Family::Read) {
        return c.fail(s.lang, Some(&s.session), f);
    }
    let engine = c.app.engine.clone();
    let agenda = s.session.agenda.clone();
    let lang = s.lang.code();
    let read = blocking(move || {
        let mut rows = rows(&engine, &agenda, lang)?;
        rows.sort_by_key(|r| kind_rank(&r.kind));
        Ok(rows)
    });
    match read.await {
        Ok(rows) => c.page(
            s.lang,
            Some(&s.session),
            "today.html",
            context! {
                rows,
                day => filters::date(c.app.engine.today(), DateForm::Long, lang),
                agenda => s.session.agenda.join(", "),
            },
        ),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}

/// The outcome form of an entry.
#[derive(Deserialize)]
pub struct Outcome {
    outcome: String,
    #[serde(default)]
    promise_date: String,
    #[serde(default)]
    promise_amount: String,
    #[serde(default)]
    dispute_code: String,
    #[serde(default)]
    dispute_amount: String,
    #[serde(default)]
    comment: String,
}

fn date_field(name: &str, v: &str) -> Result<Option<NaiveDate>, Fail> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| Fail::Bad(format!("{name}: `{v}` is not a date (YYYY-MM-DD)")))
}

/// An amount typed by a person: `1200.50` or `1200,50`.
pub fn amount_field(name: &str, v: &str) -> Result<Option<Decimal>, Fail> {
    let v = v
        .trim()
        .replace([' ', '\u{a0}', '\u{202f}'], "")
        .replace(',', ".");
    if v.is_empty() {
        return Ok(None);
    }
    match Decimal::from_str(&v) {
        Ok(d) if d > Decimal::ZERO => Ok(Some(d)),
        _ => Err(Fail::Bad(format!("{name}: `{v}` is not a positive amount"))),
    }
}

/// What an outcome form writes: the outcome name, its promised date, and the invoice events
/// that go with it (a promise with an amount, a dispute).
#[derive(Debug, PartialEq)]
pub struct Plan {
    pub outcome: &'static str,
    pub promised: Option<NaiveDate>,
    pub events: Vec<EventKind>,
}

/// Reads an outcome form for an entry on `invoices`. An amount applies only to an entry about
/// one invoice (refused otherwise).
pub fn plan(f: &Outcome, invoices: &[String]) -> Result<Plan, Fail> {
    let one = |what: &str| {
        if invoices.len() == 1 {
            Ok(())
        } else {
            Err(Fail::Bad(format!(
                "{what}: an amount applies to an entry about one invoice"
            )))
        }
    };
    Ok(match f.outcome.as_str() {
        "promise" => {
            let date = date_field("promise_date", &f.promise_date)?
                .ok_or_else(|| Fail::Bad("promise_date: a promise needs a date".into()))?;
            match amount_field("promise_amount", &f.promise_amount)? {
                None => Plan {
                    outcome: "promise",
                    promised: Some(date),
                    events: Vec::new(),
                },
                Some(amount) => {
                    one("promise_amount")?;
                    Plan {
                        outcome: "promise",
                        promised: None,
                        events: vec![EventKind::PromiseMade {
                            invoice: invoices[0].clone(),
                            promised_date: date,
                            amount: Some(amount),
                        }],
                    }
                }
            }
        }
        "dispute" => {
            let code = f.dispute_code.trim();
            if code.is_empty() {
                return Err(Fail::Bad("dispute_code: a dispute needs a code".into()));
            }
            let amount = amount_field("dispute_amount", &f.dispute_amount)?;
            if amount.is_some() {
                one("dispute_amount")?;
            }
            let comment = Some(f.comment.trim().to_string()).filter(|c| !c.is_empty());
            Plan {
                outcome: "dispute",
                promised: None,
                events: invoices
                    .iter()
                    .map(|inv| EventKind::DisputeOpened {
                        invoice: inv.clone(),
                        code: code.to_string(),
                        amount,
                        target_date: None,
                        comment: comment.clone(),
                    })
                    .collect(),
            }
        }
        "no_answer" => Plan {
            outcome: "no_answer",
            promised: None,
            events: Vec::new(),
        },
        "wrong_number" => Plan {
            outcome: "wrong_number",
            promised: None,
            events: Vec::new(),
        },
        "done" => Plan {
            outcome: "done",
            promised: None,
            events: Vec::new(),
        },
        other => return Err(Fail::Bad(format!("outcome: unknown `{other}`"))),
    })
}

pub async fn outcome(
    State(c): State<Arc<Console>>,
    s: Signed,
    Path(id): Path<u64>,
    Form(f): Form<Outcome>,
) -> Response {
    match record(&c, &s, id, &f).await {
        Ok(()) => Redirect::to("/console/today").into_response(),
        Err(fail) => c.fail(s.lang, Some(&s.session), fail),
    }
}

async fn record(c: &Console, s: &Signed, id: u64, f: &Outcome) -> Result<(), Fail> {
    s.require(Family::Resolve)?;
    let engine = c.app.engine.clone();
    let entry = blocking(move || {
        let today = engine.today();
        let from = today
            .checked_sub_days(Days::new(LOOK_BACK_DAYS))
            .unwrap_or(today);
        Ok(engine
            .agenda_page(from, today, None, 1, |e| e.id == id)?
            .0
            .pop())
    })
    .await?
    .ok_or(Fail::NotFound)?;
    let plan = plan(f, &entry.invoices)?;
    // Promises and disputes are data writes in the API's matrix.
    if !plan.events.is_empty() {
        s.require(Family::DataWrite)?;
    }
    durable(c, move |e| {
        let today = e.today();
        e.record_outcome(id, plan.outcome, plan.promised)?;
        if !plan.events.is_empty() {
            let events: Vec<Event> = plan
                .events
                .into_iter()
                .map(|kind| Event { date: today, kind })
                .collect();
            e.apply_events(&events)?;
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(outcome: &str, pairs: &[(&str, &str)]) -> Outcome {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map_or(String::new(), |(_, v)| v.to_string())
        };
        Outcome {
            outcome: outcome.into(),
            promise_date: get("promise_date"),
            promise_amount: get("promise_amount"),
            dispute_code: get("dispute_code"),
            dispute_amount: get("dispute_amount"),
            comment: get("comment"),
        }
    }

    #[test]
    fn outcome_forms_become_the_apis_events() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 4).unwrap();
        let one = vec!["F-1".to_string()];
        let two = vec!["F-1".to_string(), "F-2".to_string()];
        let p = plan(&form("promise", &[("promise_date", "2026-05-04")]), &two).unwrap();
        assert_eq!(
            (p.outcome, p.promised, p.events.len()),
            ("promise", Some(d), 0)
        );
        let p = plan(
            &form(
                "promise",
                &[
                    ("promise_date", "2026-05-04"),
                    ("promise_amount", "1 200,50"),
                ],
            ),
            &one,
        )
        .unwrap();
        assert_eq!(
            p.events,
            vec![EventKind::PromiseMade {
                invoice: "F-1".into(),
                promised_date: d,
                amount: Some(Decimal::new(120050, 2)),
            }]
        );
        let p = plan(&form("dispute", &[("dispute_code", "quality")]), &two).unwrap();
        assert_eq!(p.events.len(), 2);
        let refused = [
            form("promise", &[]),
            form("promise", &[("promise_date", "4/5/2026")]),
            form(
                "promise",
                &[("promise_date", "2026-05-04"), ("promise_amount", "-3")],
            ),
            form("dispute", &[]),
            form("teleport", &[]),
        ];
        for f in &refused {
            assert!(plan(f, &one).is_err(), "{}", f.outcome);
        }
        // An amount on an entry about two invoices is ambiguous.
        assert!(
            plan(
                &form(
                    "dispute",
                    &[("dispute_code", "q"), ("dispute_amount", "10")]
                ),
                &two
            )
            .is_err()
        );
        for o in ["no_answer", "wrong_number", "done"] {
            assert_eq!(plan(&form(o, &[]), &one).unwrap().outcome, o);
        }
    }

    #[test]
    fn an_alert_to_several_roles_is_on_each_agenda() {
        let who = vec!["sales".to_string(), "credit-manager".to_string()];
        let rows = [
            (vec![], true),
            (vec!["sales".to_string()], true),
            (vec!["credit-manager".to_string()], true),
            (vec!["collector".to_string()], false),
        ];
        for (agenda, want) in rows {
            assert_eq!(covers(&agenda, &who), want, "{agenda:?}");
        }
        assert_eq!(assignees(None), vec!["unassigned".to_string()]);
    }
}
