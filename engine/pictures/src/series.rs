//! The typed series the portfolio charts draw: what the daemon computes from its store
//! (`relance_daemon::portfolio`) and a chart takes. Plain data, money in `Decimal`.
//!
//! It must not compute anything: the daemon fills these, the charts read them.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

pub use relance_sim::reports::aged::Buckets;

/// The aged balance on one day (one currency), the buckets of the aged report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgedPoint {
    pub date: NaiveDate,
    pub buckets: Buckets,
}

/// DSO (days) and CEI (percent) on one day, as the DSO report computes them; `None` where the
/// report has no figure (no sales in the period, nothing collectable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RatioPoint {
    pub date: NaiveDate,
    pub dso: Option<Decimal>,
    pub cei: Option<Decimal>,
}

/// What one period (`from` to `until`, both included) saw: amounts chased (owed on the
/// invoices messaged, called or charged), promised (payment promises recorded) and collected
/// (payments received), in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityPoint {
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub chased: Decimal,
    pub promised: Decimal,
    pub collected: Decimal,
}

/// The outbox's messages of one channel, by state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelCount {
    pub channel: String,
    pub sent: u64,
    pub pending: u64,
    pub dead: u64,
}

/// How many cases were in error on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorPoint {
    pub date: NaiveDate,
    pub cases: u64,
}
