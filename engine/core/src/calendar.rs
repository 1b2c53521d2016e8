//! Business-day calendars: which days count as `business days` in scenario offsets.
//!
//! This module owns the list of public holidays of each built-in calendar (the French one and a
//! weekends-only one) and the arithmetic `date ± n business days`. It must not know about
//! scenarios, invoices or time zones: it works on calendar dates only, and it must stay cheap
//! (the runtime asks it millions of times), so nothing here allocates except [`Calendar::holidays`].
//!
//! # The French calendar
//!
//! Saturdays, Sundays and the eleven national public holidays (jours fériés) of the Code du
//! travail (L3133-1): 1 January, Easter Monday, 1 May, 8 May, Ascension Thursday, Whit Monday,
//! 14 July, 15 August, 1 November, 11 November and 25 December. Easter Sunday is computed with the
//! anonymous Gregorian computus (Meeus/Jones/Butcher). Whit Monday is kept as a holiday even
//! though many companies work it as the "journée de solidarité". The two extra holidays of
//! Alsace-Moselle (Good Friday, 26 December) are not included.
//!
//! # Adding business days
//!
//! [`Calendar::add_business_days`] with `n > 0` returns the `n`-th business day strictly after
//! the date; with `n < 0`, the `|n|`-th business day strictly before it (the starting date itself
//! never counts, whether it is a business day or not); with `n == 0`, the date itself when it is a
//! business day, else the next business day (the same as
//! [`Calendar::next_business_day_on_or_after`]).
//!
//! # Months and days of the month
//!
//! [`add_months`] moves a date by whole calendar months and clamps the day to the last day of
//! the target month (31 January + 1 month = 28 February, or 29 in a leap year; 31 March - 1
//! month = 28 or 29 February). [`end_of_month`] and [`on_day_of_month`] place a date in its own
//! month (`end of month`, `on day N`). They are the only month arithmetic of the engine.

use chrono::{Datelike, NaiveDate, Weekday};

/// Which holidays a [`Calendar`] knows on top of weekends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Holidays {
    /// No public holiday: only Saturdays and Sundays are closed.
    None,
    /// The French national public holidays.
    French,
}

/// A business-day calendar: weekends are always closed, plus the calendar's public holidays.
///
/// Cheap to copy; every query is computed on the fly without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Calendar {
    holidays: Holidays,
}

impl Default for Calendar {
    /// The French calendar, the engine's default.
    fn default() -> Calendar {
        Calendar::french()
    }
}

/// Fixed-date French public holidays, as (month, day).
const FRENCH_FIXED: [(u32, u32); 8] = [
    (1, 1),
    (5, 1),
    (5, 8),
    (7, 14),
    (8, 15),
    (11, 1),
    (11, 11),
    (12, 25),
];

/// Movable French public holidays, as days after Easter Sunday: Easter Monday, Ascension
/// Thursday, Whit Monday.
const FRENCH_MOVABLE: [i64; 3] = [1, 39, 50];

impl Calendar {
    /// Weekends and the French national public holidays.
    pub const fn french() -> Calendar {
        Calendar {
            holidays: Holidays::French,
        }
    }

    /// Weekends only: every Monday to Friday is a business day.
    pub const fn weekends_only() -> Calendar {
        Calendar {
            holidays: Holidays::None,
        }
    }

    /// The calendar a configuration names: `"fr"` (French) or `"none"` (weekends only).
    /// Case-insensitive, surrounding spaces ignored; any other name gives `None`.
    pub fn by_name(name: &str) -> Option<Calendar> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("fr") {
            Some(Calendar::french())
        } else if name.eq_ignore_ascii_case("none") {
            Some(Calendar::weekends_only())
        } else {
            None
        }
    }

    /// The name [`Calendar::by_name`] accepts for this calendar (`"fr"` or `"none"`).
    pub fn name(self) -> &'static str {
        match self.holidays {
            Holidays::None => "none",
            Holidays::French => "fr",
        }
    }

    /// Whether `date` is a public holiday of this calendar (whatever its weekday).
    pub fn is_holiday(self, date: NaiveDate) -> bool {
        match self.holidays {
            Holidays::None => false,
            Holidays::French => is_french_holiday(date),
        }
    }

    /// Whether `date` is a business day: not a Saturday, not a Sunday, not a public holiday.
    pub fn is_business_day(self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(date)
    }

    /// The public holidays of `year`, sorted, including those falling on a weekend.
    /// Empty for the weekends-only calendar or a year chrono cannot represent.
    pub fn holidays(self, year: i32) -> Vec<NaiveDate> {
        match self.holidays {
            Holidays::None => Vec::new(),
            Holidays::French => {
                let mut days: Vec<NaiveDate> = FRENCH_FIXED
                    .iter()
                    .filter_map(|&(month, day)| NaiveDate::from_ymd_opt(year, month, day))
                    .collect();
                if let Some(easter) = easter_sunday(year) {
                    days.extend(
                        FRENCH_MOVABLE
                            .iter()
                            .filter_map(|&offset| easter.checked_add_days(days_of(offset))),
                    );
                }
                days.sort_unstable();
                days
            }
        }
    }

    /// `date` itself when it is a business day, else the first business day after it.
    /// Saturates at the last date chrono can represent.
    pub fn next_business_day_on_or_after(self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        while !self.is_business_day(day) {
            match day.succ_opt() {
                Some(next) => day = next,
                None => return day,
            }
        }
        day
    }

    /// `date` moved by `n` business days (see the module documentation for the exact rule),
    /// or `None` when the result would fall outside the dates chrono can represent.
    ///
    /// Walks day by day: O(|n|) with a few integer operations per day; `None` at once when
    /// chrono's calendar has fewer than |n| days left in that direction.
    pub fn checked_add_business_days(self, date: NaiveDate, n: i64) -> Option<NaiveDate> {
        if n == 0 {
            let day = self.next_business_day_on_or_after(date);
            return self.is_business_day(day).then_some(day);
        }
        let forward = n > 0;
        let mut remaining = n.unsigned_abs();
        // N business days are at least N days: past the calendar's end there is no answer,
        // and walking there day by day would take minutes.
        let bound = chrono::Days::new(remaining);
        if forward && date.checked_add_days(bound).is_none()
            || !forward && date.checked_sub_days(bound).is_none()
        {
            return None;
        }
        let mut day = date;
        while remaining > 0 {
            day = if forward {
                day.succ_opt()?
            } else {
                day.pred_opt()?
            };
            if self.is_business_day(day) {
                remaining -= 1;
            }
        }
        Some(day)
    }

    /// `date` moved by `n` business days: for `n > 0` the `n`-th business day strictly after
    /// `date`, for `n < 0` the `|n|`-th business day strictly before it, for `n == 0` `date`
    /// itself if it is a business day, else the next business day.
    ///
    /// Saturates at the first or last date chrono can represent (years ±262,143); use
    /// [`Calendar::checked_add_business_days`] to detect that.
    pub fn add_business_days(self, date: NaiveDate, n: i64) -> NaiveDate {
        self.checked_add_business_days(date, n).unwrap_or(if n < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
    }
}

/// Easter Sunday of a Gregorian `year`, by the anonymous Gregorian computus
/// (Meeus/Jones/Butcher). `None` only for years chrono cannot represent.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let (month, day) = easter_month_day(year);
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The computus itself: (month, day) of Easter Sunday. Euclidean division keeps it correct for
/// the proleptic years before 1 AD as well (the cycle repeats every 5,700,000 years).
fn easter_month_day(year: i32) -> (u32, u32) {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    // n / 31 is 3 or 4 and n % 31 + 1 is 1..=31: both fit a u32.
    ((n / 31) as u32, (n % 31 + 1) as u32)
}

fn days_of(offset: i64) -> chrono::Days {
    chrono::Days::new(offset.unsigned_abs())
}

/// Whether `date` is a French public holiday, without allocating: the fixed dates are compared
/// directly, and Easter is only computed for dates in the window where a movable holiday can
/// fall (Easter Monday is on 23 March at the earliest, Whit Monday on 14 June at the latest).
fn is_french_holiday(date: NaiveDate) -> bool {
    let (month, day) = (date.month(), date.day());
    if FRENCH_FIXED.contains(&(month, day)) {
        return true;
    }
    if !(3..=6).contains(&month) {
        return false;
    }
    let Some(easter) = easter_ordinal(date.year()) else {
        return false;
    };
    let after_easter = i64::from(date.ordinal()) - i64::from(easter);
    FRENCH_MOVABLE.contains(&after_easter)
}

/// The years whose Easter is computed once and kept (a planner asks millions of times).
const KEPT_EASTERS: std::ops::Range<i32> = 1900..2300;

/// The day of the year of Easter Sunday in `year`.
fn easter_ordinal(year: i32) -> Option<u32> {
    static KEPT: std::sync::LazyLock<Vec<Option<u32>>> = std::sync::LazyLock::new(|| {
        KEPT_EASTERS
            .map(|year| easter_sunday(year).map(|d| d.ordinal()))
            .collect()
    });
    match usize::try_from(year - KEPT_EASTERS.start) {
        Ok(i) if KEPT_EASTERS.contains(&year) => KEPT[i],
        _ => easter_sunday(year).map(|d| d.ordinal()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn kept_easters_are_the_published_ones() {
        // Easter Sundays from published tables, at the kept range's edges and just outside.
        for easter in [
            d(1899, 4, 2),
            d(1900, 4, 15),
            d(2026, 4, 5),
            d(2299, 4, 16),
            d(2300, 4, 8),
        ] {
            assert_eq!(
                easter_ordinal(easter.year()),
                Some(easter.ordinal()),
                "{easter}"
            );
        }
    }

    #[test]
    fn easter_sundays() {
        assert_eq!(easter_sunday(2024), Some(d(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(d(2025, 4, 20)));
        assert_eq!(easter_sunday(2026), Some(d(2026, 4, 5)));
        assert_eq!(easter_sunday(2027), Some(d(2027, 3, 28)));
        // Extremes of the Gregorian range of Easter: 22 March and 25 April.
        assert_eq!(easter_sunday(2285), Some(d(2285, 3, 22)));
        assert_eq!(easter_sunday(2038), Some(d(2038, 4, 25)));
        assert_eq!(easter_sunday(2000), Some(d(2000, 4, 23)));
    }

    #[test]
    fn easter_is_always_a_sunday_in_its_window() {
        for year in 1583..=4099 {
            let easter = easter_sunday(year).expect("representable year");
            assert_eq!(easter.weekday(), Weekday::Sun, "{year}");
            assert!(
                easter >= d(year, 3, 22) && easter <= d(year, 4, 25),
                "{year}"
            );
        }
    }

    #[test]
    fn french_holidays_2026() {
        let days = Calendar::french().holidays(2026);
        assert_eq!(
            days,
            vec![
                d(2026, 1, 1),
                d(2026, 4, 6), // Easter Monday
                d(2026, 5, 1),
                d(2026, 5, 8),
                d(2026, 5, 14), // Ascension
                d(2026, 5, 25), // Whit Monday
                d(2026, 7, 14),
                d(2026, 8, 15),
                d(2026, 11, 1),
                d(2026, 11, 11),
                d(2026, 12, 25),
            ]
        );
        assert!(Calendar::weekends_only().holidays(2026).is_empty());
    }

    #[test]
    fn holidays_list_agrees_with_is_holiday() {
        let fr = Calendar::french();
        for year in [1999, 2024, 2025, 2026, 2027, 2038, 2285] {
            let listed = fr.holidays(year);
            let mut day = d(year, 1, 1);
            while day.year() == year {
                assert_eq!(fr.is_holiday(day), listed.contains(&day), "{day}");
                day = day.succ_opt().expect("in range");
            }
        }
    }

    #[test]
    fn business_days() {
        let fr = Calendar::french();
        let none = Calendar::weekends_only();
        assert!(fr.is_business_day(d(2026, 5, 4))); // Monday
        assert!(!fr.is_business_day(d(2026, 5, 2))); // Saturday
        assert!(!fr.is_business_day(d(2026, 5, 3))); // Sunday
        assert!(!fr.is_business_day(d(2026, 5, 1))); // Friday, Labour Day
        assert!(none.is_business_day(d(2026, 5, 1)));
        assert!(!fr.is_business_day(d(2026, 5, 14))); // Ascension Thursday
        assert!(!fr.is_business_day(d(2026, 5, 25))); // Whit Monday
        assert!(!fr.is_business_day(d(2026, 4, 6))); // Easter Monday
        assert!(fr.is_business_day(d(2026, 4, 3))); // Good Friday is not a national holiday
        assert!(!none.is_business_day(d(2026, 5, 2)));
    }

    #[test]
    fn adding_business_days_across_may_2026() {
        let fr = Calendar::french();
        // Thu 30 Apr + 1 skips Fri 1 May (holiday) and the weekend: Mon 4 May.
        assert_eq!(fr.add_business_days(d(2026, 4, 30), 1), d(2026, 5, 4));
        // Thu 7 May + 1 skips Fri 8 May and the weekend: Mon 11 May.
        assert_eq!(fr.add_business_days(d(2026, 5, 7), 1), d(2026, 5, 11));
        // Mon 11 May + 5: Tue 12, Wed 13, (Thu 14 Ascension), Fri 15, Mon 18, Tue 19.
        assert_eq!(fr.add_business_days(d(2026, 5, 11), 5), d(2026, 5, 19));
        // Fri 22 May + 1 skips the weekend and Whit Monday 25 May: Tue 26 May.
        assert_eq!(fr.add_business_days(d(2026, 5, 22), 1), d(2026, 5, 26));
        // Thu 30 Apr + 20 over the whole month. May 2026 has 21 weekdays, 4 of them holidays
        // (1, 8, 14, 25), so 17 business days: all of May, then Mon 1, Tue 2, Wed 3 June.
        assert_eq!(fr.add_business_days(d(2026, 4, 30), 20), d(2026, 6, 3));
        // Weekends only: Thu 30 Apr + 1 is Fri 1 May.
        let none = Calendar::weekends_only();
        assert_eq!(none.add_business_days(d(2026, 4, 30), 1), d(2026, 5, 1));
        assert_eq!(none.add_business_days(d(2026, 4, 30), 20), d(2026, 5, 28));
    }

    #[test]
    fn negative_offsets() {
        let fr = Calendar::french();
        // Mon 4 May - 1: Sun 3, Sat 2, Fri 1 May (holiday), Thu 30 April.
        assert_eq!(fr.add_business_days(d(2026, 5, 4), -1), d(2026, 4, 30));
        // Tue 26 May - 1 skips Whit Monday and the weekend: Fri 22 May.
        assert_eq!(fr.add_business_days(d(2026, 5, 26), -1), d(2026, 5, 22));
        // Tue 19 May - 5 is Mon 11 May (the inverse of the forward case above).
        assert_eq!(fr.add_business_days(d(2026, 5, 19), -5), d(2026, 5, 11));
        // From a non-business day: Sat 16 May - 1 is Fri 15 May.
        assert_eq!(fr.add_business_days(d(2026, 5, 16), -1), d(2026, 5, 15));
        assert_eq!(fr.add_business_days(d(2026, 6, 3), -20), d(2026, 4, 30));
    }

    #[test]
    fn zero_offset_rolls_forward_only_when_needed() {
        let fr = Calendar::french();
        assert_eq!(fr.add_business_days(d(2026, 5, 12), 0), d(2026, 5, 12));
        // Fri 8 May (holiday) rolls to Mon 11 May.
        assert_eq!(fr.add_business_days(d(2026, 5, 8), 0), d(2026, 5, 11));
        assert_eq!(
            fr.next_business_day_on_or_after(d(2026, 5, 23)),
            d(2026, 5, 26)
        );
        assert_eq!(
            fr.next_business_day_on_or_after(d(2026, 5, 26)),
            d(2026, 5, 26)
        );
    }

    #[test]
    fn positive_start_on_a_non_business_day() {
        // Sat 2 May + 1 is the first business day after it: Mon 4 May.
        let fr = Calendar::french();
        assert_eq!(fr.add_business_days(d(2026, 5, 2), 1), d(2026, 5, 4));
    }

    #[test]
    fn saturates_at_the_edges_of_chrono() {
        let fr = Calendar::french();
        assert_eq!(fr.checked_add_business_days(NaiveDate::MAX, 1), None);
        assert_eq!(fr.add_business_days(NaiveDate::MAX, 3), NaiveDate::MAX);
        assert_eq!(fr.checked_add_business_days(NaiveDate::MIN, -1), None);
        assert_eq!(fr.add_business_days(NaiveDate::MIN, -1), NaiveDate::MIN);
    }

    /// `add_business_days(1900-01-31, 4294967295)` (a catch-up of `gradual 4294967295
    /// business days`) walked day by day to the end of chrono's calendar, minutes per call:
    /// more business days than the calendar has days left is known at once.
    #[test]
    fn more_business_days_than_the_calendar_holds_saturate_at_once() {
        let fr = Calendar::french();
        let started = std::time::Instant::now();
        assert_eq!(
            fr.checked_add_business_days(d(1900, 1, 31), i64::from(u32::MAX)),
            None
        );
        assert_eq!(
            fr.add_business_days(d(1900, 1, 31), i64::MAX),
            NaiveDate::MAX
        );
        assert_eq!(
            fr.add_business_days(d(1900, 1, 31), i64::MIN),
            NaiveDate::MIN
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn names() {
        assert_eq!(Calendar::by_name("fr"), Some(Calendar::french()));
        assert_eq!(Calendar::by_name(" FR "), Some(Calendar::french()));
        assert_eq!(Calendar::by_name("none"), Some(Calendar::weekends_only()));
        assert_eq!(Calendar::by_name("de"), None);
        assert_eq!(Calendar::french().name(), "fr");
        assert_eq!(Calendar::weekends_only().name(), "none");
        assert_eq!(Calendar::default(), Calendar::french());
    }
}

/// `date` moved by `n` calendar months (negative: back), the day clamped to the last day of
/// the target month. Saturates at the ends of the calendar instead of failing.
pub fn add_months(date: NaiveDate, n: i64) -> NaiveDate {
    let index = i64::from(date.year()) * 12 + i64::from(date.month0()) + n;
    let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
    let Ok(year) = i32::try_from(year) else {
        return if n < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        };
    };
    // `month0` is in 0..12, so the cast cannot truncate.
    let month = month0 as u32 + 1;
    let last = last_day_of(year, month);
    match last {
        Some(last) => NaiveDate::from_ymd_opt(year, month, date.day().min(last)).unwrap_or(date),
        None if n < 0 => NaiveDate::MIN,
        None => NaiveDate::MAX,
    }
}

/// The last day of the month `date` falls in (OCA `account_credit_control`'s `end_of_month`
/// computation mode: `date_trunc('MONTH', d) + INTERVAL '1 MONTH - 1 day'`).
pub fn end_of_month(date: NaiveDate) -> NaiveDate {
    last_day_of(date.year(), date.month())
        .and_then(|last| date.with_day(last))
        .unwrap_or(date)
}

/// Day `day` (1–31) of the month `date` falls in, clamped to that month's last day (`on day
/// 31` in April is 30 April; a day of 0 counts as 1).
pub fn on_day_of_month(date: NaiveDate, day: u32) -> NaiveDate {
    let last = last_day_of(date.year(), date.month()).unwrap_or(28);
    date.with_day(day.clamp(1, last)).unwrap_or(date)
}

/// The number of days of a month, if the month is in chrono's range.
fn last_day_of(year: i32, month: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    Some(match next {
        Some(next) => (next - first).num_days() as u32,
        None => 31,
    })
}

#[cfg(test)]
mod month_tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn the_31st_clamps_to_the_last_day_of_the_target_month() {
        assert_eq!(add_months(d(2026, 1, 31), 1), d(2026, 2, 28));
        assert_eq!(add_months(d(2026, 1, 31), 2), d(2026, 3, 31));
        assert_eq!(add_months(d(2026, 3, 31), 1), d(2026, 4, 30));
        assert_eq!(add_months(d(2026, 1, 30), 1), d(2026, 2, 28));
        assert_eq!(add_months(d(2026, 1, 15), 1), d(2026, 2, 15));
    }

    #[test]
    fn leap_years() {
        assert_eq!(add_months(d(2028, 1, 31), 1), d(2028, 2, 29));
        assert_eq!(add_months(d(2028, 2, 29), 12), d(2029, 2, 28));
        assert_eq!(add_months(d(2027, 2, 28), 12), d(2028, 2, 28));
        // 2100 is not a leap year, 2000 was.
        assert_eq!(add_months(d(2100, 1, 31), 1), d(2100, 2, 28));
        assert_eq!(add_months(d(2000, 1, 31), 1), d(2000, 2, 29));
    }

    #[test]
    fn december_to_january_and_back() {
        assert_eq!(add_months(d(2026, 12, 15), 1), d(2027, 1, 15));
        assert_eq!(add_months(d(2026, 11, 30), 2), d(2027, 1, 30));
        assert_eq!(add_months(d(2027, 1, 31), -1), d(2026, 12, 31));
        assert_eq!(add_months(d(2026, 12, 31), 14), d(2028, 2, 29));
    }

    #[test]
    fn negative_offsets_clamp_too() {
        assert_eq!(add_months(d(2026, 3, 31), -1), d(2026, 2, 28));
        assert_eq!(add_months(d(2028, 3, 31), -1), d(2028, 2, 29));
        assert_eq!(add_months(d(2026, 5, 31), -3), d(2026, 2, 28));
        assert_eq!(add_months(d(2026, 1, 10), -13), d(2024, 12, 10));
        assert_eq!(add_months(d(2026, 1, 10), 0), d(2026, 1, 10));
    }

    #[test]
    fn saturates_at_the_ends_of_the_calendar() {
        assert_eq!(add_months(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(add_months(NaiveDate::MIN, -1), NaiveDate::MIN);
        assert_eq!(add_months(d(2026, 1, 1), i64::MAX / 2), NaiveDate::MAX);
    }

    #[test]
    fn end_of_month_is_the_last_day_of_the_same_month() {
        assert_eq!(end_of_month(d(2026, 1, 1)), d(2026, 1, 31));
        assert_eq!(end_of_month(d(2026, 2, 10)), d(2026, 2, 28));
        assert_eq!(end_of_month(d(2028, 2, 10)), d(2028, 2, 29));
        assert_eq!(end_of_month(d(2026, 4, 30)), d(2026, 4, 30));
        assert_eq!(end_of_month(d(2026, 12, 31)), d(2026, 12, 31));
    }

    #[test]
    fn on_day_clamps_to_the_month() {
        assert_eq!(on_day_of_month(d(2026, 2, 20), 10), d(2026, 2, 10));
        assert_eq!(on_day_of_month(d(2026, 2, 5), 31), d(2026, 2, 28));
        assert_eq!(on_day_of_month(d(2028, 2, 5), 30), d(2028, 2, 29));
        assert_eq!(on_day_of_month(d(2026, 4, 1), 31), d(2026, 4, 30));
        assert_eq!(on_day_of_month(d(2026, 4, 1), 1), d(2026, 4, 1));
    }
}
