//! The Portfolio page's series: the aged balance at each period end, DSO and CEI at each
//! period end, amounts chased, promised and collected per period, the outbox's messages by
//! channel and state, and the number of cases in error each day. Typed data
//! (`relance_pictures::series`), money in `Decimal`; the charts are drawn by
//! `relance_pictures::charts`.
//!
//! [`series`] folds the counters the engine keeps up to date with every commit
//! (`aggregates.rs`): its cost is the number of distinct due dates, days and channels, not of
//! invoices. The aged balance and receivables of a past period end count each fact on its
//! own date (an invoice from its issue date, a payment or a dispute from the event's date,
//! even when imported later; see `aggregates.rs`); the engine's own changes (a case opened, a
//! charge) on the day it made them.
//!
//! [`series_from_snapshot`] is the former computation, kept as the reference the reports
//! agree with: the reports' own functions (`relance_sim::reports::{aged, dso}`) run on the
//! store's [`snapshot`](crate::snapshot) at each date, restating the past from the event log;
//! it reads the whole store and replays it once per period end. This module must not write.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use relance_core::domain::{EventKind, Portfolio};
use relance_core::runtime::Record;
use relance_pictures::series::{ActivityPoint, AgedPoint, ChannelCount, ErrorPoint, RatioPoint};
use relance_sim::reports::{aged, dso};

use crate::aggregates::Counters;
use crate::engine::Engine;
use crate::error::DaemonError;
use crate::model::{Message, MessageStatus};
use crate::snapshot;
use crate::store::{Store, Tree};

/// What the Portfolio page asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioOptions {
    /// The one currency of the amounts (invoices in other currencies are left out).
    pub currency: String,
    /// How many calendar months, the current one included.
    pub months: u32,
    /// How many days of the cases-in-error series, today included.
    pub error_days: u32,
    /// The DSO report's period (`period_days`).
    pub dso_period_days: u32,
}

impl Default for PortfolioOptions {
    fn default() -> Self {
        PortfolioOptions {
            currency: "EUR".into(),
            months: 6,
            error_days: 30,
            dso_period_days: dso::DsoOptions::default().period_days,
        }
    }
}

/// Every series of the Portfolio page, on `at` (the engine's today).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortfolioSeries {
    pub at: NaiveDate,
    pub currency: String,
    pub aged: Vec<AgedPoint>,
    pub ratios: Vec<RatioPoint>,
    pub activity: Vec<ActivityPoint>,
    pub channels: Vec<ChannelCount>,
    pub errors: Vec<ErrorPoint>,
}

/// The Portfolio page's series on the engine's today, folded from the kept counters.
pub fn series(engine: &Engine, options: &PortfolioOptions) -> Result<PortfolioSeries, DaemonError> {
    let at = engine.today();
    Ok(engine.kept().read(|c| from_counters(c, at, options)))
}

/// The series on `at` from kept counters.
pub fn from_counters(c: &Counters, at: NaiveDate, options: &PortfolioOptions) -> PortfolioSeries {
    let currency = options.currency.as_str();
    let periods = months(at, options.months);
    PortfolioSeries {
        at,
        currency: currency.to_string(),
        aged: periods
            .iter()
            .map(|&(_, end)| c.aged_point(currency, end))
            .collect(),
        ratios: periods
            .iter()
            .map(|&(_, end)| {
                let (dso, cei) = c.ratios(currency, end, options.dso_period_days);
                RatioPoint {
                    date: end,
                    dso,
                    cei,
                }
            })
            .collect(),
        activity: periods
            .iter()
            .map(|&(from, until)| c.activity(currency, from, until))
            .collect(),
        channels: c.channels(),
        errors: c.errors(at, options.error_days),
    }
}

/// The series recomputed from the whole store (the reports' restated figures; slow: see the
/// module's comment).
pub fn series_from_snapshot(
    engine: &Engine,
    options: &PortfolioOptions,
) -> Result<PortfolioSeries, DaemonError> {
    let snap = snapshot::take(engine)?;
    let messages = messages(engine.store())?;
    Ok(compute(
        &snap.portfolio,
        &snap.records,
        &messages,
        engine.today(),
        options,
    ))
}

/// The series from what the store holds (the pure part of [`series`]).
fn compute(
    portfolio: &Portfolio,
    records: &[Record],
    messages: &[Message],
    at: NaiveDate,
    options: &PortfolioOptions,
) -> PortfolioSeries {
    let currency = options.currency.as_str();
    let periods = months(at, options.months);
    let aged = periods
        .iter()
        .map(|&(_, end)| AgedPoint {
            date: end,
            buckets: aged::aged_balance(portfolio, end)
                .totals
                .remove(currency)
                .unwrap_or_default(),
        })
        .collect();
    let dso_options = dso::DsoOptions {
        period_days: options.dso_period_days,
        currency: currency.to_string(),
        ..dso::DsoOptions::default()
    };
    let ratios = periods
        .iter()
        .map(|&(_, end)| {
            let r = dso::dso(portfolio, end, &dso_options);
            RatioPoint {
                date: end,
                dso: r.simple_dso,
                cei: r.cei,
            }
        })
        .collect();
    PortfolioSeries {
        at,
        currency: currency.to_string(),
        aged,
        ratios,
        activity: activity(portfolio, messages, &periods, currency),
        channels: channels(messages),
        errors: errors(records, at, options.error_days),
    }
}

/// The calendar months ending on `at` (the current one cut at `at`), oldest first.
fn months(at: NaiveDate, n: u32) -> Vec<(NaiveDate, NaiveDate)> {
    let first = at.with_day(1).unwrap_or(at);
    (0..n.max(1))
        .rev()
        .filter_map(|k| {
            let start = first.checked_sub_months(Months::new(k))?;
            let end = start
                .checked_add_months(Months::new(1))?
                .pred_opt()?
                .min(at);
            Some((start, end))
        })
        .collect()
}

/// Per period: the outstanding of each invoice chased (as it stood at the first message of the
/// period that carries it), the amounts promised (a promise without an amount counts the
/// invoice's amount) and the payments received.
fn activity(
    portfolio: &Portfolio,
    messages: &[Message],
    periods: &[(NaiveDate, NaiveDate)],
    currency: &str,
) -> Vec<ActivityPoint> {
    let currency_of: HashMap<&str, (&str, Decimal)> = portfolio
        .invoices
        .iter()
        .map(|i| (i.id.as_str(), (i.currency.as_str(), i.amount)))
        .collect();
    let in_currency = |invoice: &str| {
        currency_of
            .get(invoice)
            .is_some_and(|(c, _)| *c == currency)
    };
    let period_of = |date: NaiveDate| {
        periods
            .iter()
            .position(|&(start, end)| start <= date && date <= end)
    };
    let mut points: Vec<ActivityPoint> = periods
        .iter()
        .map(|&(from, until)| ActivityPoint {
            from,
            until,
            chased: Decimal::ZERO,
            promised: Decimal::ZERO,
            collected: Decimal::ZERO,
        })
        .collect();
    let mut chased: HashSet<(usize, &str)> = HashSet::new();
    let mut ordered: Vec<&Message> = messages.iter().collect();
    ordered.sort_by_key(|m| (m.date, m.id));
    for m in ordered {
        let Some(p) = period_of(m.date) else { continue };
        for item in &m.items {
            if item.currency == currency && chased.insert((p, item.invoice.as_str())) {
                points[p].chased += item.outstanding;
            }
        }
    }
    for e in &portfolio.events {
        let Some(p) = period_of(e.date) else { continue };
        match &e.kind {
            EventKind::Payment {
                invoice, amount, ..
            } if in_currency(invoice) => points[p].collected += *amount,
            EventKind::PromiseMade {
                invoice, amount, ..
            } if in_currency(invoice) => {
                let whole = currency_of
                    .get(invoice.as_str())
                    .map_or(Decimal::ZERO, |c| c.1);
                points[p].promised += amount.unwrap_or(whole);
            }
            _ => {}
        }
    }
    points
}

/// The outbox's messages by channel: delivered ones as sent, pending and retrying ones as
/// pending, dead ones as dead. Channels in name order.
fn channels(messages: &[Message]) -> Vec<ChannelCount> {
    let mut by: BTreeMap<&str, ChannelCount> = BTreeMap::new();
    for m in messages {
        let c = by
            .entry(m.channel.as_str())
            .or_insert_with(|| ChannelCount {
                channel: m.channel.clone(),
                sent: 0,
                pending: 0,
                dead: 0,
            });
        match m.status {
            MessageStatus::Delivered => c.sent += 1,
            MessageStatus::Pending | MessageStatus::Retrying => c.pending += 1,
            MessageStatus::Dead => c.dead += 1,
        }
    }
    by.into_values().collect()
}

/// How many cases were in error at the end of each of the `days` days up to `at`, from the
/// history's state changes (the last change of a case on or before a day is its state).
fn errors(records: &[Record], at: NaiveDate, days: u32) -> Vec<ErrorPoint> {
    let first = at
        .checked_sub_days(Days::new(u64::from(days.max(1)) - 1))
        .unwrap_or(at);
    let mut ordered: Vec<&Record> = records.iter().filter(|r| r.date <= at).collect();
    ordered.sort_by_key(|r| (r.date, r.order));
    let mut state: HashMap<&str, bool> = HashMap::new();
    let mut in_error = 0u64;
    let mut next = ordered.iter().peekable();
    let mut out = Vec::with_capacity(days as usize);
    for day in first.iter_days().take_while(|d| *d <= at) {
        while let Some(r) = next.next_if(|r| r.date <= day) {
            let now = r.to == "error";
            let was = state.insert(r.invoice.as_str(), now).unwrap_or(false);
            match (was, now) {
                (false, true) => in_error += 1,
                (true, false) => in_error -= 1,
                _ => {}
            }
        }
        out.push(ErrorPoint {
            date: day,
            cases: in_error,
        });
    }
    out
}

/// Every message of the outbox and of the delivered tree.
fn messages(store: &dyn Store) -> Result<Vec<Message>, DaemonError> {
    let mut all = crate::messages::all(store, Tree::Outbox)?;
    all.extend(crate::messages::all(store, Tree::Delivered)?);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn months_end_on_the_day() {
        let cases = [
            (
                "2026-05-30",
                3,
                vec![
                    ("2026-03-01", "2026-03-31"),
                    ("2026-04-01", "2026-04-30"),
                    ("2026-05-01", "2026-05-30"),
                ],
            ),
            ("2026-01-01", 1, vec![("2026-01-01", "2026-01-01")]),
            (
                "2026-03-31",
                2,
                vec![("2026-02-01", "2026-02-28"), ("2026-03-01", "2026-03-31")],
            ),
            ("2026-07-15", 0, vec![("2026-07-01", "2026-07-15")]),
        ];
        for (at, n, want) in cases {
            let want: Vec<(NaiveDate, NaiveDate)> =
                want.into_iter().map(|(a, b)| (d(a), d(b))).collect();
            assert_eq!(months(d(at), n), want, "{at} × {n}");
        }
    }

    fn record(date: &str, invoice: &str, to: &'static str, order: u64) -> Record {
        Record {
            date: d(date),
            invoice: invoice.into(),
            customer: "C".into(),
            step: None,
            from: "active",
            to,
            cause: String::new(),
            step_order: None,
            seq: 0,
            order,
        }
    }

    /// A case counts from the day it enters error to the day it leaves it; two changes on one
    /// day count as the last.
    #[test]
    fn cases_in_error_follow_the_history() {
        let records = [
            record("2026-04-02", "F-1", "error", 1),
            record("2026-04-03", "F-2", "error", 2),
            record("2026-04-03", "F-2", "active", 3),
            record("2026-04-04", "F-3", "error", 4),
            record("2026-04-05", "F-1", "active", 5),
            record("2026-04-05", "F-3", "error", 6),
            record("2026-04-09", "F-1", "error", 7),
        ];
        let got: Vec<u64> = errors(&records, d("2026-04-06"), 6)
            .iter()
            .map(|p| p.cases)
            .collect();
        assert_eq!(got, [0, 1, 1, 2, 1, 1]);
        let first = errors(&records, d("2026-04-06"), 6)[0].date;
        assert_eq!(first, d("2026-04-01"));
    }
}
