//! Step timing beyond the offset: where a step's date lands in its month (`end of month`,
//! `on day N`) and the schedule of a repeating step (`repeat every … times N until COND`).
//!
//! It owns the pure date and counting rules of a repetition: when the next one falls, when
//! the count is reached, what a repetition is called in a record. It must not evaluate
//! conditions, emit actions or record anything: the transition function does that, asking
//! this module only about dates and counts. Month arithmetic itself is `crate::calendar`'s.
//!
//! A repetition's dates are `first + k × every` for k = 1, 2 … (counted from the day the
//! step first fired, so 31 January + 1 month, + 2 months gives 28 February, 31 March, not
//! 28 March), moved into the month by the step's `end of month` / `on day N` if it has one.
//! Repetitions missed while the case was held (paused, waiting) are caught up once, as
//! catch-up does for steps: one firing the day the case is active again, then the first
//! date of the rhythm after that day.

use chrono::NaiveDate;

use relance_dsl::ir;

use super::eval::shift;
use super::state::{Instance, Repeating};
use crate::calendar::{self, Calendar};

/// A date moved into its month by `end of month` / `on day N`.
pub fn place(date: NaiveDate, day: Option<ir::DayOfMonth>) -> NaiveDate {
    match day {
        None => date,
        Some(ir::DayOfMonth::EndOfMonth) => calendar::end_of_month(date),
        Some(ir::DayOfMonth::Day(n)) => calendar::on_day_of_month(date, n),
    }
}

/// The repetition under way of step `i`, if it is one.
pub fn of_step(inst: &Instance, i: usize) -> Option<Repeating> {
    inst.repeating.filter(|r| r.step == i)
}

/// The date of repetition `slot` of a step that first fired on `first`.
fn slot_date(first: NaiveDate, slot: u32, step: &ir::Step, cal: Calendar) -> NaiveDate {
    let Some(r) = &step.repeat else {
        return first;
    };
    let k = i64::from(slot);
    let every = ir::Offset {
        days: r.every.days.saturating_mul(k),
        months: r.every.months.saturating_mul(k),
        business: r.every.business,
    };
    place(shift(first, every, cal), step.day_of_month)
}

/// The date of the next repetition of step `i`, when it is repeating.
pub fn next_date(inst: &Instance, step: &ir::Step, i: usize, cal: Calendar) -> Option<NaiveDate> {
    let rep = of_step(inst, i)?;
    Some(slot_date(rep.first, rep.slot, step, cal))
}

/// The first slot whose date is after `today` (the search is bounded: a zero interval,
/// refused by the checker, cannot loop).
fn slot_after(
    first: NaiveDate,
    from: u32,
    today: NaiveDate,
    step: &ir::Step,
    cal: Calendar,
) -> u32 {
    let mut slot = from;
    for _ in 0..10_000 {
        if slot_date(first, slot, step, cal) > today {
            return slot;
        }
        slot = slot.saturating_add(1);
    }
    slot
}

/// After step `i` ran today (`fired`: its actions were emitted, not skipped by `skip
/// when`), starts, continues or ends its repetition. Ending leaves `next_step` where the
/// caller put it (the next step); continuing puts it back on `i`.
pub fn after_run(
    inst: &mut Instance,
    step: &ir::Step,
    i: usize,
    today: NaiveDate,
    fired: bool,
    cal: Calendar,
) {
    let Some(r) = &step.repeat else {
        inst.repeating = None;
        return;
    };
    let rep = match of_step(inst, i) {
        Some(mut rep) => {
            rep.fired += u32::from(fired);
            rep
        }
        // A first run skipped by `skip when` starts no repetition.
        None if !fired => {
            inst.repeating = None;
            return;
        }
        None => Repeating {
            step: i,
            first: today,
            slot: 1,
            fired: 1,
        },
    };
    if r.times.is_some_and(|t| rep.fired >= t) || (r.every.days == 0 && r.every.months == 0) {
        inst.repeating = None;
        return;
    }
    let slot = slot_after(rep.first, rep.slot, today, step, cal);
    inst.repeating = Some(Repeating { slot, ..rep });
    inst.next_step = i;
}

/// Words for the record of a repetition's firing: `repetition 2 of 4`, `repetition 3`.
pub fn cause(inst: &Instance, step: &ir::Step, i: usize) -> Option<String> {
    let rep = of_step(inst, i)?;
    let n = rep.fired + 1;
    Some(match step.repeat.as_ref().and_then(|r| r.times) {
        Some(t) => format!("repetition {n} of {t}"),
        None => format!("repetition {n}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn step(every: ir::Offset, day: Option<ir::DayOfMonth>) -> ir::Step {
        ir::Step {
            name: "s".into(),
            anchor: ir::Anchor::Due,
            offset: ir::Offset::default(),
            day_of_month: day,
            repeat: Some(ir::Repeat {
                every,
                times: None,
                until: None,
            }),
            required: false,
            body: Vec::new(),
        }
    }

    fn months(n: i64) -> ir::Offset {
        ir::Offset {
            months: n,
            ..Default::default()
        }
    }

    #[test]
    fn monthly_repetitions_keep_the_day_of_the_first() {
        let s = step(months(1), None);
        let cal = Calendar::weekends_only();
        let first = d(2026, 1, 31);
        assert_eq!(slot_date(first, 1, &s, cal), d(2026, 2, 28));
        assert_eq!(slot_date(first, 2, &s, cal), d(2026, 3, 31));
        assert_eq!(slot_date(first, 3, &s, cal), d(2026, 4, 30));
    }

    #[test]
    fn end_of_month_applies_to_every_repetition() {
        let s = step(months(1), Some(ir::DayOfMonth::EndOfMonth));
        let cal = Calendar::weekends_only();
        assert_eq!(slot_date(d(2026, 2, 28), 1, &s, cal), d(2026, 3, 31));
    }

    #[test]
    fn the_next_slot_is_the_first_after_today() {
        let s = step(
            ir::Offset {
                days: 7,
                ..Default::default()
            },
            None,
        );
        let cal = Calendar::weekends_only();
        // First fired 1 March; caught up on 20 March: the next is 22 March (slot 3).
        assert_eq!(slot_after(d(2026, 3, 1), 1, d(2026, 3, 20), &s, cal), 3);
        assert_eq!(slot_after(d(2026, 3, 1), 1, d(2026, 3, 1), &s, cal), 1);
    }
}
