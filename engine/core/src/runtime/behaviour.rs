//! A customer's payment behaviour as known on a day: average days late, share of invoices paid
//! on time, promises broken, disputes opened, and where its lateness is heading over the last
//! six months. These are the language's `customer.avg_days_late`, `customer.paid_on_time_pct`,
//! `customer.promises_broken`, `customer.disputes_opened` and `customer.payment_trend`.
//!
//! A [`PaymentLog`] keeps one customer's settlements and dispute openings in date order with
//! running sums, so "as known on day D" costs a binary search however long the history. The
//! definitions are those of the behaviour report (`docs/REPORTS.md`), which uses the same
//! functions: lateness on settled invoices (paid or credited in full, not written off) is
//! max(0, settling day − due date); the trend compares the invoices settled in the last three
//! calendar months with the three before. Drivers feed the log; this module reads no
//! portfolio and no store.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

/// Where a customer's lateness is heading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// Five days or more better on average in the last three months than in the three before.
    Improving,
    Stable,
    /// Five days or more worse.
    Worsening,
    /// No settled invoice in one of the two periods.
    #[default]
    Unknown,
}

impl Trend {
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Improving => "improving",
            Trend::Stable => "stable",
            Trend::Worsening => "worsening",
            Trend::Unknown => "unknown",
        }
    }

    /// The trend from the average days late of the older and the recent period.
    pub fn between(older: Option<Decimal>, recent: Option<Decimal>) -> Trend {
        let threshold = Decimal::from(5);
        match (older, recent) {
            (Some(o), Some(r)) if r - o >= threshold => Trend::Worsening,
            (Some(o), Some(r)) if o - r >= threshold => Trend::Improving,
            (Some(_), Some(_)) => Trend::Stable,
            _ => Trend::Unknown,
        }
    }
}

/// What policies and guards read of a customer's behaviour.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PaymentBehaviour {
    /// Mean days late of the settled invoices (one decimal); none settled yet: absent.
    pub avg_days_late: Option<Decimal>,
    /// Settled on or before the due date, in percent of the settled invoices (one decimal).
    pub paid_on_time_pct: Option<Decimal>,
    pub promises_broken: i64,
    pub disputes_opened: i64,
    pub trend: Trend,
}

/// The mean of `count` values summing to `sum`, to one decimal; none without values.
pub fn average(sum: i64, count: i64) -> Option<Decimal> {
    (count > 0).then(|| (Decimal::from(sum) / Decimal::from(count)).round_dp(1))
}

/// `part` in percent of `whole`, to one decimal; none when `whole` is zero.
pub fn percent(part: i64, whole: i64) -> Option<Decimal> {
    (whole > 0)
        .then(|| (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole)).round_dp(1))
}

/// Days late of an invoice due on `due` and settled on `on` (zero when on time).
pub fn days_late(due: NaiveDate, on: NaiveDate) -> i64 {
    (on - due).num_days().max(0)
}

/// The first day of the six-month window ending in `day`'s month, and the first day of its
/// recent half (the last three months).
pub fn trend_window(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = day
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(5)))
        .unwrap_or(day);
    let middle = first.checked_add_months(Months::new(3)).unwrap_or(first);
    (first, middle)
}

/// Running totals of the settlements up to and including one entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums {
    count: i64,
    late: i64,
    on_time: i64,
}

impl Sums {
    fn minus(self, other: Sums) -> Sums {
        Sums {
            count: self.count - other.count,
            late: self.late - other.late,
            on_time: self.on_time - other.on_time,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settled {
    on: NaiveDate,
    late: i64,
    sums: Sums,
}

/// One customer's settlements and dispute openings, in date order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentLog {
    settled: Vec<Settled>,
    disputes: Vec<NaiveDate>,
}

impl PaymentLog {
    /// An invoice settled on `on`, `late` days after its due date. Appending in date order
    /// costs O(1); an earlier date is inserted in place.
    pub fn settle(&mut self, on: NaiveDate, late: i64) {
        let at = self.settled.partition_point(|s| s.on <= on);
        self.settled.insert(
            at,
            Settled {
                on,
                late,
                sums: Sums::default(),
            },
        );
        let mut sums = at
            .checked_sub(1)
            .map_or(Sums::default(), |p| self.settled[p].sums);
        for s in &mut self.settled[at..] {
            sums.count += 1;
            sums.late += s.late;
            sums.on_time += i64::from(s.late == 0);
            s.sums = sums;
        }
    }

    /// A dispute opened on `on`.
    pub fn dispute(&mut self, on: NaiveDate) {
        let at = self.disputes.partition_point(|d| *d <= on);
        self.disputes.insert(at, on);
    }

    /// Every entry of `other` added to this log (a driver folding a unit of work's changes
    /// into the committed log).
    pub fn merge(&mut self, other: &PaymentLog) {
        for s in &other.settled {
            self.settle(s.on, s.late);
        }
        for d in &other.disputes {
            self.dispute(*d);
        }
    }

    /// The sums over the settlements dated on or before `day`.
    fn until(&self, day: NaiveDate) -> Sums {
        let n = self.settled.partition_point(|s| s.on <= day);
        n.checked_sub(1)
            .map_or(Sums::default(), |last| self.settled[last].sums)
    }

    /// What the log knows on `day` (later entries do not count yet), as sums that add up
    /// across logs.
    pub fn window(&self, day: NaiveDate) -> Window {
        let all = self.until(day);
        let (first, middle) = trend_window(day);
        let before_window = self.until(first.pred_opt().unwrap_or(first));
        let before_middle = self.until(middle.pred_opt().unwrap_or(middle));
        Window {
            all,
            older: before_middle.minus(before_window),
            recent: all.minus(before_middle),
            disputes: self.disputes.partition_point(|d| *d <= day) as i64,
        }
    }

    /// The behaviour as known on `day`, with the number of promises the engine judged broken
    /// so far (figures computed when read: [`KnownBehaviour::figures`]).
    pub fn on(&self, day: NaiveDate, promises_broken: i64) -> KnownBehaviour {
        KnownBehaviour {
            window: self.window(day),
            promises_broken,
        }
    }
}

/// What is known of a customer's behaviour on a day, as sums: cheap to pass to every
/// transition, turned into figures (decimal divisions) only when a condition reads one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KnownBehaviour {
    pub window: Window,
    pub promises_broken: i64,
}

impl KnownBehaviour {
    pub fn figures(self) -> PaymentBehaviour {
        self.window.behaviour(self.promises_broken)
    }
}

/// A log's sums as known on one day: every settlement, the two halves of the trend window,
/// and the disputes opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    all: Sums,
    older: Sums,
    recent: Sums,
    disputes: i64,
}

impl std::ops::Add for Window {
    type Output = Window;

    fn add(self, o: Window) -> Window {
        let plus = |a: Sums, b: Sums| Sums {
            count: a.count + b.count,
            late: a.late + b.late,
            on_time: a.on_time + b.on_time,
        };
        Window {
            all: plus(self.all, o.all),
            older: plus(self.older, o.older),
            recent: plus(self.recent, o.recent),
            disputes: self.disputes + o.disputes,
        }
    }
}

impl Window {
    pub fn behaviour(self, promises_broken: i64) -> PaymentBehaviour {
        let (all, older, recent) = (self.all, self.older, self.recent);
        PaymentBehaviour {
            avg_days_late: average(all.late, all.count),
            paid_on_time_pct: percent(all.on_time, all.count),
            promises_broken,
            disputes_opened: self.disputes,
            trend: Trend::between(
                average(older.late, older.count),
                average(recent.late, recent.count),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    fn dec(s: &str) -> Option<Decimal> {
        Some(s.parse().expect("a decimal"))
    }

    #[test]
    fn an_empty_log_has_nothing_to_say() {
        let b = PaymentLog::default().on(d("2026-06-15"), 0).figures();
        assert_eq!(b, PaymentBehaviour::default());
        assert_eq!(b.trend, Trend::Unknown);
    }

    #[test]
    fn averages_count_only_what_is_known_on_the_day() {
        let mut log = PaymentLog::default();
        log.settle(d("2026-03-10"), 0);
        log.settle(d("2026-04-20"), 12);
        log.settle(d("2026-05-02"), 3);
        log.dispute(d("2026-04-01"));
        let b = log.on(d("2026-04-30"), 1).figures();
        assert_eq!(b.avg_days_late, dec("6")); // (0 + 12) / 2
        assert_eq!(b.paid_on_time_pct, dec("50"));
        assert_eq!(b.disputes_opened, 1);
        assert_eq!(b.promises_broken, 1);
        let later = log.on(d("2026-05-02"), 1).figures();
        assert_eq!(later.avg_days_late, dec("5")); // (0 + 12 + 3) / 3
        assert_eq!(later.paid_on_time_pct, dec("33.3"));
        assert_eq!(log.on(d("2026-03-09"), 0).figures().avg_days_late, None);
    }

    #[test]
    fn settling_out_of_order_gives_the_same_sums() {
        let mut ordered = PaymentLog::default();
        let mut shuffled = PaymentLog::default();
        let entries = [("2026-01-05", 4), ("2026-02-10", 0), ("2026-03-15", 30)];
        for (on, late) in entries {
            ordered.settle(d(on), late);
        }
        for (on, late) in [entries[2], entries[0], entries[1]] {
            shuffled.settle(d(on), late);
        }
        assert_eq!(ordered, shuffled);
        assert_eq!(
            ordered.on(d("2026-02-28"), 0).figures().avg_days_late,
            dec("2")
        );
    }

    #[test]
    fn the_trend_compares_the_last_three_months_with_the_three_before() {
        // On 2026-06-15 the window is January to June: older January–March, recent April–June.
        let mut log = PaymentLog::default();
        log.settle(d("2025-12-31"), 90); // before the window: ignored by the trend
        log.settle(d("2026-01-15"), 2);
        log.settle(d("2026-03-31"), 4);
        log.settle(d("2026-04-01"), 10);
        log.settle(d("2026-06-15"), 8);
        log.settle(d("2026-06-16"), 100); // after the day: not known yet
        let b = log.on(d("2026-06-15"), 0).figures();
        assert_eq!(b.trend, Trend::Worsening); // 9 against 3
        assert_eq!(b.avg_days_late, dec("22.8")); // (90 + 2 + 4 + 10 + 8) / 5
        let mut better = PaymentLog::default();
        better.settle(d("2026-02-01"), 20);
        better.settle(d("2026-05-01"), 16);
        assert_eq!(better.on(d("2026-06-15"), 0).figures().trend, Trend::Stable);
        better.settle(d("2026-05-20"), 0);
        assert_eq!(
            better.on(d("2026-06-15"), 0).figures().trend,
            Trend::Improving
        ); // 8 against 20
        // On 2026-04-30 the older half is November to January: nothing settled then.
        assert_eq!(
            better.on(d("2026-04-30"), 0).figures().trend,
            Trend::Unknown
        );
    }

    #[test]
    fn two_logs_add_up_to_their_merge() {
        let mut a = PaymentLog::default();
        a.settle(d("2026-01-10"), 3);
        a.settle(d("2026-05-10"), 20);
        a.dispute(d("2026-02-01"));
        let mut b = PaymentLog::default();
        b.settle(d("2026-02-10"), 0);
        b.dispute(d("2026-06-01"));
        let day = d("2026-05-31");
        let mut merged = a.clone();
        merged.merge(&b);
        assert_eq!(a.window(day) + b.window(day), merged.window(day));
        let b = merged.on(day, 2).figures();
        assert_eq!(b.disputes_opened, 1);
        assert_eq!(b.avg_days_late, dec("7.7")); // (3 + 20 + 0) / 3
        assert_eq!(b.promises_broken, 2);
    }

    #[test]
    fn the_window_starts_five_months_before_the_days_month() {
        assert_eq!(
            trend_window(d("2026-06-15")),
            (d("2026-01-01"), d("2026-04-01"))
        );
        assert_eq!(
            trend_window(d("2026-02-28")),
            (d("2025-09-01"), d("2025-12-01"))
        );
    }

    #[test]
    fn days_late_are_never_negative() {
        assert_eq!(days_late(d("2026-04-01"), d("2026-03-20")), 0);
        assert_eq!(days_late(d("2026-04-01"), d("2026-04-11")), 10);
    }
}
