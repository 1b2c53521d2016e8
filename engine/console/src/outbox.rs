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
use relance_daemon::messages;
use relance_daemon::model::{MessageHeader, decode};
use relance_daemon::store::Tree;
use relance_daemon::{DaemonError, Engine};
use relance_templates::filters::{self, DateForm};
use serde::Serialize;

use super::web::{Console, Fail, Query, Signed, blocking, durable};

/// The most sent messages listed.
const SENT: usize = 50;
/// Messages not yet delivered shown a page.
const WAITING: usize = 100;

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

fn row(m: &MessageHeader, lang: &str) -> Row {
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
fn latest_sent(engine: &Engine, n: usize) -> Result<Vec<MessageHeader>, DaemonError> {
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
        .collect::<Result<Vec<MessageHeader>, DaemonError>>()?;
    all.reverse();
    Ok(all)
}

/// One page of the messages not yet delivered (pending, retrying, dead), in id order from
/// the one after `after`: a bounded range of the outbox tree, and the id to continue from
/// when there are more.
fn waiting_page(
    engine: &Engine,
    after: Option<u64>,
    n: usize,
) -> Result<(Vec<MessageHeader>, Option<u64>), DaemonError> {
    let from = keys::id(after.map_or(0, |a| a.saturating_add(1)));
    let mut page = engine
        .store()
        .range(Tree::Outbox, &from, None, n + 1)?
        .iter()
        .map(|(_, v)| decode("message", v))
        .collect::<Result<Vec<MessageHeader>, DaemonError>>()?;
    let more = page.len() > n;
    page.truncate(n);
    let next = more.then(|| page.last().map(|m| m.id)).flatten();
    Ok((page, next))
}

/// The messages by state over every channel, from the engine's kept counters.
fn counts(engine: &Engine) -> [u64; 3] {
    engine
        .kept()
        .read(|c| c.channels())
        .iter()
        .fold([0; 3], |[p, d, s], c| {
            [p + c.pending, d + c.dead, s + c.sent]
        })
}

pub async fn page(State(c): State<Arc<Console>>, s: Signed, query: Query) -> Response {
    if let Err(f) = s.require(Family::Read) {
        return c.fail(s.lang, Some(&s.session), f);
    }
    let engine = c.app.engine.clone();
    let lang = s.lang.code();
    let after: Option<u64> = query.get("after").and_then(|a| a.parse().ok());
    let read = blocking(move || {
        let (page, next) = waiting_page(&engine, after, WAITING)?;
        let waiting: Vec<Row> = page.iter().map(|m| row(m, lang)).collect();
        let sent: Vec<Row> = latest_sent(&engine, SENT)?
            .iter()
            .map(|m| row(m, lang))
            .collect();
        Ok((waiting, next, sent, counts(&engine)))
    })
    .await;
    match read {
        Ok((waiting, next, sent, [pending, dead, delivered])) => c.page(
            s.lang,
            Some(&s.session),
            "outbox.html",
            context! { waiting, next, sent, pending, dead, delivered, paged => after.is_some() },
        ),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}

/// Message `id`, waiting or delivered.
fn find(engine: &Engine, id: u64) -> Result<Option<MessageHeader>, DaemonError> {
    for tree in [Tree::Outbox, Tree::Delivered] {
        if let Some(h) = messages::header(engine.store(), tree, id)? {
            return Ok(Some(h));
        }
    }
    Ok(None)
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

#[cfg(test)]
mod tests {
    use super::*;
    use relance_daemon::model::{Message, MessageStatus, encode};
    use relance_daemon::store::{Op, SledStore, Store};
    use relance_dsl::ir::Action;

    fn message(id: u64, status: MessageStatus) -> Message {
        Message {
            id,
            key: format!("F-{id}/v/reminder-1/1/0"),
            group: format!("g{id}"),
            date: "2026-02-03".parse().expect("date"),
            customer: "ACME".into(),
            channel: "email".into(),
            text: "email \"reminder-1\" to accounting".into(),
            action: Action::Email {
                template: "reminder-1".into(),
                to: vec!["accounting".into()],
                cc: vec![],
            },
            scenario: "s".into(),
            items: vec![],
            status,
            sealed: true,
            attempts: 0,
            next_attempt: None,
            last_error: None,
            rendered: None,
            delivered_at: None,
            receipt: None,
        }
    }

    /// The latest sent messages and the pages of waiting ones, on sparse ids (ids are shared
    /// with other records), for counts around the page sizes.
    #[test]
    fn the_latest_sent_and_the_waiting_pages_read_bounded_ranges() {
        for (delivered, waiting) in [(0usize, 0usize), (3, 1), (50, 100), (51, 101), (400, 250)] {
            let dir = tempfile::tempdir().expect("dir");
            let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).expect("store"));
            let day = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("day");
            let clock = Arc::new(relance_daemon::clock::VirtualClock::new(day));
            let engine = Engine::open(store, clock).expect("engine");
            let mut ops = Vec::new();
            let sent_ids: Vec<u64> = (0..delivered as u64).map(|i| 7 + i * 3).collect();
            for &id in &sent_ids {
                let m = message(id, MessageStatus::Delivered);
                ops.push(Op::Put(
                    Tree::Delivered,
                    keys::id(id).to_vec(),
                    encode(&m.header()),
                ));
            }
            let waiting_ids: Vec<u64> = (0..waiting as u64).map(|i| 8 + i * 5).collect();
            for &id in &waiting_ids {
                let status = if id % 2 == 0 {
                    MessageStatus::Dead
                } else {
                    MessageStatus::Pending
                };
                let m = message(id, status);
                ops.push(Op::Put(
                    Tree::Outbox,
                    keys::id(id).to_vec(),
                    encode(&m.header()),
                ));
            }
            engine.store().commit(&ops).expect("commit");

            let latest: Vec<u64> = latest_sent(&engine, SENT)
                .expect("latest")
                .iter()
                .map(|m| m.id)
                .collect();
            let want: Vec<u64> = sent_ids.iter().rev().take(SENT).copied().collect();
            assert_eq!(latest, want, "{delivered} delivered");

            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let (page, next) = waiting_page(&engine, after, WAITING).expect("page");
                assert!(page.len() <= WAITING);
                seen.extend(page.iter().map(|m| m.id));
                match next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            assert_eq!(seen, waiting_ids, "{waiting} waiting");
            let [pending, dead, sent] = counts(&engine);
            assert_eq!(
                (pending + dead, sent),
                (waiting as u64, delivered as u64),
                "the kept counts"
            );
        }
    }
}
