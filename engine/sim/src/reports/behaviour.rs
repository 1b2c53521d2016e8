//! Each customer's payment behaviour from its history: average days late, share of invoices
//! paid on time, promises made and broken, disputes opened, invoices open past due, and the
//! trend over the last six months.
//!
//! Lateness is measured on *settled* invoices (paid or credited in full, not written off): the days
//! from the due date to the settling day, zero when on time. Promises are those the engine judged
//! in a run (`promise to pay by …` / `promise broken` records, each counted once as the activity
//! report counts them: [`Kind::of`]). The trend compares the average lateness of the invoices
//! settled in the last three months with the three months before: five days or more worse is
//! `worsening`, five or more better is `improving`. The definitions are the runtime's
//! (`runtime::behaviour`), which exposes the same figures to policies and guards as
//! `customer.avg_days_late`, …; this module only reports them.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use super::activity::Kind;
use super::replay;
use relance_core::domain::Portfolio;
use relance_core::runtime::Record;
use relance_core::runtime::behaviour;

pub use relance_core::runtime::behaviour::Trend;

/// One month of the last six.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    pub settled: usize,
    pub average_days_late: Option<Decimal>,
}

/// One customer's behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Behaviour {
    pub customer: String,
    pub settled_invoices: usize,
    pub average_days_late: Option<Decimal>,
    /// Settled on or before the due date, in percent of the settled invoices.
    pub paid_on_time_pct: Option<Decimal>,
    pub open_overdue: usize,
    pub promises_made: usize,
    pub promises_broken: usize,
    pub disputes_opened: usize,
    pub trend: Trend,
    /// The last six months, oldest first.
    pub months: Vec<Month>,
}

fn average(values: &[i64]) -> Option<Decimal> {
    behaviour::average(values.iter().sum(), values.len() as i64)
}

/// The behaviour of every customer of `portfolio` on `at`, from its events and the engine's
/// `records` (promises).
pub fn behaviour(portfolio: &Portfolio, records: &[Record], at: NaiveDate) -> Vec<Behaviour> {
    let (first_month, _) = behaviour::trend_window(at);
    let month_of = |d: NaiveDate| {
        (d.year() - first_month.year()) * 12 + d.month() as i32 - first_month.month() as i32
    };
    #[derive(Default)]
    struct Acc {
        late: Vec<i64>,
        on_time: usize,
        open_overdue: usize,
        disputes: usize,
        made: usize,
        broken: usize,
        months: [Vec<i64>; 6],
    }
    let mut acc: BTreeMap<&str, Acc> = portfolio
        .customers
        .iter()
        .map(|c| (c.id.as_str(), Acc::default()))
        .collect();
    for s in replay(portfolio, at) {
        let inv = &portfolio.invoices[s.index];
        let Some(a) = acc.get_mut(inv.customer.as_str()) else {
            continue;
        };
        a.disputes += s.disputes.len();
        match s.settled_on {
            Some(on) if !s.written_off => {
                let late = behaviour::days_late(inv.due, on);
                a.late.push(late);
                if late == 0 {
                    a.on_time += 1;
                }
                if let Ok(m) = usize::try_from(month_of(on))
                    && m < 6
                {
                    a.months[m].push(late);
                }
            }
            Some(_) => {}
            None if inv.due < at && s.open > Decimal::ZERO => a.open_overdue += 1,
            None => {}
        }
    }
    for r in records.iter().filter(|r| r.date <= at) {
        let Some(a) = acc.get_mut(r.customer.as_str()) else {
            continue;
        };
        match Kind::of(r) {
            Kind::PromiseMade => a.made += 1,
            Kind::PromiseBroken => a.broken += 1,
            _ => {}
        }
    }
    acc.into_iter()
        .map(|(customer, a)| {
            let older: Vec<i64> = a.months[..3].concat();
            let recent: Vec<i64> = a.months[3..].concat();
            let trend = Trend::between(average(&older), average(&recent));
            let months = a
                .months
                .iter()
                .enumerate()
                .map(|(k, late)| {
                    let start = first_month
                        .checked_add_months(Months::new(k as u32))
                        .unwrap_or(first_month);
                    Month {
                        month: format!("{:04}-{:02}", start.year(), start.month()),
                        settled: late.len(),
                        average_days_late: average(late),
                    }
                })
                .collect();
            Behaviour {
                customer: customer.to_string(),
                settled_invoices: a.late.len(),
                average_days_late: average(&a.late),
                paid_on_time_pct: behaviour::percent(a.on_time as i64, a.late.len() as i64),
                open_overdue: a.open_overdue,
                promises_made: a.made,
                promises_broken: a.broken,
                disputes_opened: a.disputes,
                trend,
                months,
            }
        })
        .collect()
}

const CSV_HEADER: &str = "customer,settled_invoices,average_days_late,paid_on_time_pct,open_overdue,promises_made,promises_broken,disputes_opened,trend";

/// CSV, one line per customer.
pub fn to_csv(rows: &[Behaviour]) -> String {
    let opt = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
    let mut out = format!("{CSV_HEADER}\n");
    for b in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            super::csv_cell(&b.customer),
            b.settled_invoices,
            opt(b.average_days_late),
            opt(b.paid_on_time_pct),
            b.open_overdue,
            b.promises_made,
            b.promises_broken,
            b.disputes_opened,
            b.trend.as_str()
        ));
    }
    out
}

/// A readable table.
pub fn to_text(rows: &[Behaviour], at: NaiveDate) -> String {
    let opt = |d: Option<Decimal>| d.map_or_else(|| "-".to_string(), |d| d.to_string());
    let width = rows
        .iter()
        .map(|b| b.customer.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = format!(
        "Payment behaviour at {at}\n{:<width$}  settled  avg late  on time %  overdue  promises  broken  disputes  trend\n",
        "customer"
    );
    for b in rows {
        out.push_str(&format!(
            "{:<width$}  {:>7}  {:>8}  {:>9}  {:>7}  {:>8}  {:>6}  {:>8}  {}\n",
            b.customer,
            b.settled_invoices,
            opt(b.average_days_late),
            opt(b.paid_on_time_pct),
            b.open_overdue,
            b.promises_made,
            b.promises_broken,
            b.disputes_opened,
            b.trend.as_str()
        ));
    }
    out
}
