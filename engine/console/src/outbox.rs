//! Outbox (`/console/outbox`): the pending, retrying and dead messages with the reason of the
//! last failure, the latest sent ones, a preview of a message as rendered (email text, or the
//! letter's text and address block), and the retry of a dead letter (the operate family of
//! the API's matrix, the same `Engine::requeue` as `POST /v1/outbox/{id}/retry`).
//!
//! The rendered body is shown as text, escaped by the template: never as HTML of the page.
//! This module must not hold delivery rules.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use relance_daemon::api::auth::Family;
use relance_daemon::keys;
use relance_daemon::model::{Message, decode};
use relance_daemon::store::Tree;
use relance_daemon::{DaemonError, Engine};
use relance_templates::filters::{self, DateForm};
use serde::Serialize;

use super::web::{Console, Fail, Signed, blocking, durable};

/// The most sent messages listed.
const SENT: usize = 50;

#[derive(Serialize)]
struct Row {
    id: u64,
    date: String,
    customer: String,
    channel: String,
    text: String,
    status: String,
    attempts: u32,
    reason: Option<String>,
    dead: bool,
}

fn row(m: &Message, lang: &str) -> Row {
    Row {
        id: m.id,
        date: filters::date(m.date, DateForm::Short, lang),
        customer: m.customer.clone(),
        channel: m.channel.clone(),
        text: m.text.clone(),
        status: m.status.as_str().to_string(),
        attempts: m.attempts,
        reason: m.last_error.clone(),
        dead: m.status == relance_daemon::model::MessageStatus::Dead,
    }
}

/// The latest `n` delivered messages, newest first. The store has no reverse range: a binary
/// search over the id space finds the first id after which at most `n` are delivered (each
/// probe a forward range of at most `n + 1` entries, at most 64 probes), then reads those.
fn latest_sent(engine: &Engine, n: usize) -> Result<Vec<Message>, DaemonError> {
    let store = engine.store();
    let count = |from: u64| -> Result<usize, DaemonError> {
        Ok(store
            .range(Tree::Delivered, &keys::id(from), None, n + 1)?
            .len())
    };
    // Invariant: more than `n` from `lo` on (or `lo` is 0), at most `n` from `hi` on.
    let (mut lo, mut hi) = (0u64, u64::MAX);
    if count(0)? <= n {
        hi = 0;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if count(mid)? > n {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut all = store
        .range(Tree::Delivered, &keys::id(hi), None, n)?
        .iter()
        .map(|(_, v)| decode("message", v))
        .collect::<Result<Vec<Message>, DaemonError>>()?;
    all.reverse();
    Ok(all)
}

pub async fn page(State(c): State<Arc<Console>>, s: Signed) -> Response {
    if let Err(f) = s.require(Family::Read) {
        return c.fail(s.lang, Some(&s.session), f);
    }
    let engine = c.app.engine.clone();
    let lang = s.lang.code();
    let read = blocking(move || {
        let waiting: Vec<Row> = engine.outbox()?.iter().map(|m| row(m, lang)).collect();
        let sent: Vec<Row> = latest_sent(&engine, SENT)?
            .iter()
            .map(|m| row(m, lang))
            .collect();
        Ok((waiting, sent))
    })
    .await;
    match read {
        Ok((waiting, sent)) => c.page(
            s.lang,
            Some(&s.session),
            "outbox.html",
            context! { waiting, sent },
        ),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}

/// Message `id`, waiting or delivered.
fn find(engine: &Engine, id: u64) -> Result<Option<Message>, DaemonError> {
    if let Some(m) = engine.outbox()?.into_iter().find(|m| m.id == id) {
        return Ok(Some(m));
    }
    Ok(engine
        .delivered(id.saturating_sub(1), 1)?
        .into_iter()
        .find(|m| m.id == id))
}

pub async fn message(State(c): State<Arc<Console>>, s: Signed, Path(id): Path<u64>) -> Response {
    if let Err(f) = s.require(Family::Read) {
        return c.fail(s.lang, Some(&s.session), f);
    }
    let engine = c.app.engine.clone();
    let lang = s.lang.code();
    match blocking(move || find(&engine, id)).await {
        Ok(Some(m)) => {
            let r = m.rendered.clone().unwrap_or_default();
            let letter = r.letter.as_ref().map(|l| {
                context! { name => l.name, address => l.address, text => l.text, registered => l.registered }
            });
            c.page(
                s.lang,
                Some(&s.session),
                "message.html",
                context! {
                    m => row(&m, lang),
                    to => r.to, cc => r.cc, subject => r.subject,
                    body => (m.channel != "letter").then_some(r.body),
                    letter, rendered => m.rendered.is_some(),
                },
            )
        }
        Ok(None) => c.fail(s.lang, Some(&s.session), Fail::NotFound),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}

pub async fn retry(State(c): State<Arc<Console>>, s: Signed, Path(id): Path<u64>) -> Response {
    let run = async {
        s.require(Family::Operate)?;
        durable(&c, move |e| e.requeue(id)).await
    };
    match run.await {
        Ok(_) => Redirect::to("/console/outbox").into_response(),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}
