//! Counters the daemon exposes at `GET /metrics` in the Prometheus text format.
//!
//! Plain atomics, bumped by the engine, the dispatcher and the API; this module owns their
//! names and the text rendering, and must not read the store itself (gauges are passed in).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    pub transitions: AtomicU64,
    pub cases_opened: AtomicU64,
    pub actions_planned: AtomicU64,
    pub daily_runs: AtomicU64,
    pub timers_processed: AtomicU64,
    pub api_requests: AtomicU64,
    pub api_writes: AtomicU64,
    pub api_errors: AtomicU64,
    pub delivered: AtomicU64,
    pub retries: AtomicU64,
    pub dead: AtomicU64,
    pub bounces: AtomicU64,
}

/// Gauges read from the store when `/metrics` is scraped.
#[derive(Debug, Default, Clone, Copy)]
pub struct Gauges {
    pub outbox: usize,
    pub delivered: usize,
    pub cases: usize,
    pub timers: usize,
    pub invoices: usize,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, g: Gauges) -> String {
        let mut out = String::new();
        let counters: [(&str, &str, &AtomicU64); 12] = [
            (
                "relance_transitions_total",
                "Calls of the transition function.",
                &self.transitions,
            ),
            (
                "relance_cases_opened_total",
                "Cases opened.",
                &self.cases_opened,
            ),
            (
                "relance_actions_planned_total",
                "Actions decided (before grouping).",
                &self.actions_planned,
            ),
            (
                "relance_daily_runs_total",
                "Days processed by the scheduler.",
                &self.daily_runs,
            ),
            (
                "relance_timers_processed_total",
                "Due timers processed.",
                &self.timers_processed,
            ),
            (
                "relance_api_requests_total",
                "HTTP API requests.",
                &self.api_requests,
            ),
            (
                "relance_api_writes_total",
                "Durable API writes acknowledged.",
                &self.api_writes,
            ),
            (
                "relance_api_errors_total",
                "API requests answered with an error.",
                &self.api_errors,
            ),
            (
                "relance_outbox_delivered_total",
                "Messages delivered.",
                &self.delivered,
            ),
            (
                "relance_outbox_retries_total",
                "Failed attempts scheduled for a retry.",
                &self.retries,
            ),
            (
                "relance_outbox_dead_total",
                "Messages moved to the dead-letter state.",
                &self.dead,
            ),
            (
                "relance_outbox_bounces_total",
                "Bounced addresses (contact bounced raised).",
                &self.bounces,
            ),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let gauges = [
            (
                "relance_outbox_undelivered",
                "Messages in the outbox (pending, retrying, dead).",
                g.outbox,
            ),
            (
                "relance_delivered_messages",
                "Messages delivered, kept in the store.",
                g.delivered,
            ),
            ("relance_cases", "Cases in the store.", g.cases),
            ("relance_timers", "Timers waiting.", g.timers),
            ("relance_invoices", "Invoices in the store.", g.invoices),
        ];
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}
