//! The checks of a step's timing clauses: `end of month` / `on day N` and `repeat every …`
//! (E0114–E0116, W0114), and how these clauses widen the range of days a step's date may
//! fall on (for W0111, steps out of date order).
//!
//! It only reads the syntax tree and pushes diagnostics; what the clauses do at run time is
//! `relance_core::calendar` and the transition function's business, not this module's.

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast::{DayOfMonthKind, Step};

impl Checker<'_> {
    /// E0114, E0115, E0116, W0114 and the type of the `until` condition.
    pub(super) fn step_timing(&mut self, st: &Step) {
        if let Some(d) = st.day_of_month
            && let DayOfMonthKind::Day(n) = d.kind
            && !(1..=31).contains(&n)
        {
            self.push(
                Diagnostic::new(
                    Code::DayOfMonthOutOfRange,
                    d.span,
                    format!("there is no day {n} in a month"),
                )
                .with_label("a day from 1 to 31")
                .with_help("`on day 31` is the last day of every month (30 in April, 28 or 29 in February)"),
            );
        }
        let Some(r) = &st.repeat else {
            return;
        };
        if r.every.count == 0 {
            self.push(
                Diagnostic::new(
                    Code::RepeatEveryZero,
                    r.every.span,
                    format!(
                        "step `{}` would fire again the same day, forever",
                        st.name.name
                    ),
                )
                .with_label("an interval of zero")
                .with_help("repeat every 1 day or more: `repeat every 7 days times 4`"),
            );
        }
        match r.times.map(|t| (t.count, t.span)) {
            Some((0, span)) => self.push(
                Diagnostic::new(
                    Code::RepeatZeroTimes,
                    span,
                    format!("step `{}` cannot fire zero times", st.name.name),
                )
                .with_label("counts the first firing too")
                .with_help("`times N` counts every firing, the first included: write 2 or more"),
            ),
            Some((1, span)) => self.push(
                Diagnostic::new(
                    Code::RepeatOnce,
                    span,
                    format!("step `{}` fires once: `times 1` repeats nothing", st.name.name),
                )
                .with_label("counts the first firing too")
                .with_help("`times N` counts every firing, the first included: write 2 or more, or remove `repeat`"),
            ),
            _ => {}
        }
        if let Some(e) = &r.until {
            self.condition(e);
        }
    }
}

/// The range of days `st`'s own date may fall on, given the range of its offset: `end of
/// month` moves a date forward by up to 30 days, `on day N` by up to 30 days either way.
pub(super) fn widen(st: &Step, (lo, hi): (i64, i64)) -> (i64, i64) {
    match st.day_of_month.map(|d| d.kind) {
        None => (lo, hi),
        Some(DayOfMonthKind::EndOfMonth) => (lo, hi + 30),
        Some(DayOfMonthKind::Day(_)) => (lo - 30, hi + 30),
    }
}
