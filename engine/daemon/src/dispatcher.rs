//! The dispatcher drains the outbox: it seals the messages whose day has been run (renders
//! them once, closes their group), makes everything durable, then attempts each due message
//! through its channel (the first of the `channels` registry that handles its action) and
//! records the result (delivered, retry with backoff, dead letter,
//! bounce → `contact bounced` event through the transition function).
//!
//! Delivery guarantee (see `docs/DAEMON.md`): at least once. A message is sent only after its
//! sealed form is durable; its status is written after the attempt, so a crash between the two
//! sends it again, with the same Message-ID / Idempotency-Key and the same body. This module
//! owns that ordering; it must not decide actions.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::channels::Registry;
use super::config::{Company, Config};
use super::engine::Engine;
use super::error::DaemonError;
use super::health::{Heartbeat, StopOnDrop};
use super::keys;
use super::messages;
use super::metrics::Metrics;
use super::model::{
    AgendaEntry, EventSource, Handoff, Message, MessageHeader, MessageStatus, encode,
};
use super::outbox::{self, After, RetryPolicy};
use super::render;
use super::store::{Op, Tree};
use relance_core::domain::{Customer, Event, EventKind};
use relance_core::interest::RateTable;
use relance_dsl::ir::Action;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct DrainReport {
    pub sealed: usize,
    pub delivered: usize,
    pub retried: usize,
    pub dead: usize,
    pub bounced: usize,
}

impl DrainReport {
    pub fn is_idle(&self) -> bool {
        *self == DrainReport::default()
    }
}

pub struct Dispatcher {
    engine: Arc<Engine>,
    channels: Registry,
    policy: RetryPolicy,
    company: Company,
    domain: String,
    /// Beaten by [`Dispatcher::run`]'s loop (`/healthz`).
    heartbeat: Option<Arc<Heartbeat>>,
}

impl Dispatcher {
    pub fn new(engine: Arc<Engine>, config: &Config) -> Result<Dispatcher, DaemonError> {
        Ok(Dispatcher {
            channels: Registry::from_config(config, engine.shared_clock())
                .map_err(DaemonError::Config)?,
            policy: config.outbox.policy(),
            company: config.company.clone(),
            domain: config.email.domain(),
            heartbeat: None,
            engine,
        })
    }

    /// The heartbeat its loop beats, for `/healthz`.
    pub fn with_heartbeat(mut self, heartbeat: Arc<Heartbeat>) -> Dispatcher {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// Seals and renders every message whose day has been run; durable on return.
    pub fn seal(&self) -> Result<usize, DaemonError> {
        let run_through = self.engine.run_through()?;
        // Unsealed messages have no next attempt: they are at the head of the `due` index
        // (their headers only: the items of a message are read once it is sealed).
        let candidates: Vec<MessageHeader> = self
            .engine
            .due_headers(self.engine.clock().now())?
            .into_iter()
            .filter(|m| outbox::sealable(m, run_through))
            .collect();
        if candidates.is_empty() {
            return Ok(0);
        }
        let guard = self.engine.lock();
        let catalog = self.engine.catalog();
        let mut ops = Vec::new();
        let mut n = 0;
        for m in candidates {
            // Re-read under the lock: the message may have grown since.
            let Some(h) = messages::header(self.engine.store(), Tree::Outbox, m.id)? else {
                continue;
            };
            if !outbox::sealable(&h, run_through) {
                continue;
            }
            let mut m = messages::whole(self.engine.store(), h)?;
            let before = m.clone();
            let customer = self
                .engine
                .customer(&m.customer)?
                .unwrap_or_else(|| Customer::new(m.customer.clone()));
            let templates = m
                .items
                .first()
                .and_then(|i| catalog.scenario_in(&i.version, i.deployment))
                .map(|(_, d)| &d.bundle.templates);
            let empty = Default::default();
            let result = render::render(
                &m,
                &customer,
                templates.unwrap_or(&empty),
                &self.company,
                RateTable::builtin(),
                &self.domain,
            );
            m.sealed = true;
            match result {
                Ok(r) => m.rendered = Some(r),
                Err(e) => {
                    m.status = MessageStatus::Dead;
                    m.last_error = Some(e);
                    Metrics::add(&self.engine.metrics.dead, 1);
                }
            }
            if self
                .engine
                .store()
                .get(Tree::Groups, m.group.as_bytes())?
                .as_deref()
                == Some(&keys::id(m.id)[..])
            {
                ops.push(Op::Delete(Tree::Groups, m.group.as_bytes().to_vec()));
            }
            ops.extend(outbox::put_ops(Some(&before), &m));
            n += 1;
        }
        self.engine.store().commit(&ops)?;
        drop(catalog);
        drop(guard);
        self.engine.flush()?;
        Ok(n)
    }

    /// Attempts every sealed message that is due, and records the results (flushed).
    pub async fn deliver_due(&self, report: &mut DrainReport) -> Result<(), DaemonError> {
        let now = self.engine.clock().now();
        let due: Vec<MessageHeader> = self
            .engine
            .due_headers(now)?
            .into_iter()
            .filter(|m| outbox::due(m, now))
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        for h in due {
            let mut m = messages::whole(self.engine.store(), h)?;
            let before = m.clone();
            let result = self.channels.deliver(&m).await;
            if let outbox::Delivery::Transient(e) | outbox::Delivery::Permanent(e) = &result {
                tracing::warn!(id = m.id, key = %m.key, channel = %m.channel, error = %e, "delivery failed");
            }
            let after =
                outbox::record_attempt(&mut m, result, self.engine.clock().now(), &self.policy);
            self.settle(&before, &m, &after)?;
            match after {
                After::Delivered => report.delivered += 1,
                After::Retry => report.retried += 1,
                After::Dead => report.dead += 1,
                After::Bounced(_) => report.bounced += 1,
            }
        }
        self.engine.flush()?;
        Ok(())
    }

    /// Writes the result of an attempt on `before` (the message as stored; `m` after the
    /// attempt), and, for a bounce, the `contact bounced` event.
    fn settle(&self, before: &Message, m: &Message, after: &After) -> Result<(), DaemonError> {
        let metrics = &self.engine.metrics;
        let guard = self.engine.lock();
        match after {
            After::Delivered => {
                Metrics::add(&metrics.delivered, 1);
                let mut ops = outbox::delivered_ops(before, m);
                ops.extend(self.side_record(m)?);
                self.engine.store().commit(&ops).map_err(DaemonError::from)
            }
            After::Retry => {
                Metrics::add(&metrics.retries, 1);
                Ok(self
                    .engine
                    .store()
                    .commit(&outbox::put_ops(Some(before), m))?)
            }
            After::Dead => {
                Metrics::add(&metrics.dead, 1);
                Ok(self
                    .engine
                    .store()
                    .commit(&outbox::put_ops(Some(before), m))?)
            }
            After::Bounced(roles) => {
                Metrics::add(&metrics.dead, 1);
                Metrics::add(&metrics.bounces, 1);
                let today = self.engine.today();
                let roles: BTreeSet<String> = roles.iter().cloned().collect();
                let events: Vec<Event> = roles
                    .into_iter()
                    .map(|role| Event {
                        date: today,
                        kind: EventKind::ContactBounced {
                            customer: m.customer.clone(),
                            role,
                        },
                    })
                    .collect();
                let saved = m.clone();
                let writes = outbox::put_ops(Some(before), m);
                let run_done = self.engine.run_done()?;
                let source = EventSource {
                    via: "dispatcher".into(),
                    caller: None,
                    batch: None,
                    file: None,
                    at: None,
                };
                self.engine.work_locked(&guard, move |w| {
                    if w.customer(&saved.customer)?.is_some() {
                        let logged = w.record_events(&events, today, &|_| source.clone(), None)?;
                        w.apply_events(&logged, today, run_done)?;
                    }
                    for op in writes {
                        w.push_op(op);
                    }
                    Ok(())
                })?;
                Ok(())
            }
        }
    }

    /// The agenda entry of a call, task or alert, or the hand-off record of an escalation
    /// (never overwritten: an outcome recorded since is kept).
    fn side_record(&self, m: &Message) -> Result<Vec<Op>, DaemonError> {
        let store = self.engine.store();
        let (kind, text, assignee, contact) = match &m.action {
            Action::Call { who, assign } => {
                ("call", m.text.clone(), assign.clone(), Some(who.clone()))
            }
            Action::Task { text, assign } => ("task", text.clone(), assign.clone(), None),
            Action::Alert { text, to } => (
                "alert",
                text.clone(),
                (!to.is_empty()).then(|| to.join(", ")),
                None,
            ),
            Action::Escalate { .. } => {
                let key = keys::id(m.id).to_vec();
                if store.get(Tree::Handoffs, &key)?.is_some() {
                    return Ok(Vec::new());
                }
                let h = Handoff {
                    id: m.id,
                    date: m.date,
                    customer: m.customer.clone(),
                    invoices: m.invoices(),
                    to: render::webhook_payload(m)["target"]
                        .as_str()
                        .unwrap_or("agency")
                        .to_string(),
                    outstanding: m.items.iter().map(|i| i.outstanding).sum(),
                    key: m.key.clone(),
                };
                return Ok(vec![Op::Put(Tree::Handoffs, key, encode(&h))]);
            }
            _ => return Ok(Vec::new()),
        };
        let key = keys::agenda(m.date, m.id);
        if store.get(Tree::Agenda, &key)?.is_some() {
            return Ok(Vec::new());
        }
        let entry = AgendaEntry {
            id: m.id,
            date: m.date,
            customer: m.customer.clone(),
            invoices: m.invoices(),
            kind: kind.into(),
            text,
            assignee,
            contact,
            phone: m
                .rendered
                .as_ref()
                .and_then(|r| r.to.first().cloned())
                .filter(|_| kind == "call"),
            outcome: None,
            outcome_on: None,
            key: m.key.clone(),
        };
        Ok(vec![Op::Put(Tree::Agenda, key, encode(&entry))])
    }

    /// One pass: seal, then deliver what is due.
    pub async fn drain_once(&self) -> Result<DrainReport, DaemonError> {
        let mut report = DrainReport {
            sealed: self.seal()?,
            ..DrainReport::default()
        };
        self.deliver_due(&mut report).await?;
        Ok(report)
    }

    /// Passes until nothing is left to do now (messages waiting for a later retry stay).
    pub async fn drain(&self) -> Result<DrainReport, DaemonError> {
        let mut total = DrainReport::default();
        for _ in 0..1000 {
            let r = self.drain_once().await?;
            total.sealed += r.sealed;
            total.delivered += r.delivered;
            total.retried += r.retried;
            total.dead += r.dead;
            total.bounced += r.bounced;
            if r.is_idle() || (r.sealed == 0 && r.delivered == 0 && r.dead == 0 && r.bounced == 0) {
                break;
            }
        }
        Ok(total)
    }

    /// The background loop: a pass whenever woken, at least every `poll`, until shutdown.
    pub async fn run(
        self: Arc<Self>,
        wake: Arc<tokio::sync::Notify>,
        poll: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let _stopped = self.heartbeat.clone().map(StopOnDrop);
        loop {
            if let Some(h) = &self.heartbeat {
                h.beat();
            }
            if *stop.borrow() {
                return;
            }
            match self.drain_once().await {
                Ok(r) if !r.is_idle() => {
                    tracing::debug!(?r, "outbox pass");
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox pass failed"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
