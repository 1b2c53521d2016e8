//! The daemon's clocks: the company's day (what the scheduler and the transition function
//! see) and the instant (what retry delays are measured with).
//!
//! `WallClock` reads the system time in the company's time zone; `VirtualClock` holds a day
//! that only moves when told (`relance serve --clock virtual`, the admin-only
//! `POST /v1/clock/advance`, tests and the demo) while instants stay real. Time zones: no
//! tz database is linked, so [`Zone`] knows UTC, fixed offsets and the EU summer-time rule
//! (last Sunday of March to last Sunday of October, 01:00 UTC), which is exact for
//! Europe/Paris and the other EU zones it names. This module must not schedule anything.

use std::sync::Mutex;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, Utc, Weekday};

use super::error::DaemonError;

/// What the daemon asks the time.
pub trait Clock: Send + Sync {
    /// The company's current day.
    fn today(&self) -> NaiveDate;
    /// The current instant (retry delays).
    fn now(&self) -> DateTime<Utc>;
    /// The local hour of the day (the daily run waits for the configured hour).
    fn hour(&self) -> u32;
    /// The virtual clock, when this is one.
    fn as_virtual(&self) -> Option<&VirtualClock> {
        None
    }
}

/// A company time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Fixed(FixedOffset),
    /// Standard offset (hours east of UTC) with the EU summer-time rule.
    Eu(i32),
}

impl Zone {
    /// `Europe/Paris` (and the other EU zone names listed in `docs/DAEMON.md`), `UTC`, or a fixed
    /// offset such as `+01:00`.
    pub fn parse(name: &str) -> Result<Zone, DaemonError> {
        let cet = [
            "Europe/Paris",
            "Europe/Brussels",
            "Europe/Luxembourg",
            "Europe/Monaco",
            "Europe/Berlin",
            "Europe/Madrid",
            "Europe/Rome",
            "Europe/Amsterdam",
            "Europe/Vienna",
            "Europe/Zurich",
        ];
        let wet = ["Europe/London", "Europe/Lisbon", "Europe/Dublin"];
        if cet.contains(&name) {
            return Ok(Zone::Eu(1));
        }
        if wet.contains(&name) {
            return Ok(Zone::Eu(0));
        }
        if name == "Europe/Athens" || name == "Europe/Helsinki" {
            return Ok(Zone::Eu(2));
        }
        if name.eq_ignore_ascii_case("utc") || name == "Z" {
            return Ok(Zone::Fixed(
                FixedOffset::east_opt(0).ok_or_else(|| DaemonError::Config("offset".into()))?,
            ));
        }
        parse_offset(name).map(Zone::Fixed).ok_or_else(|| {
            DaemonError::Config(format!(
                "unknown time zone `{name}`: use Europe/Paris (or another EU zone), UTC, or a fixed offset like +01:00"
            ))
        })
    }

    /// The local date and time of `utc`.
    pub fn local(self, utc: DateTime<Utc>) -> NaiveDateTime {
        let offset = match self {
            Zone::Fixed(o) => o.local_minus_utc() as i64,
            Zone::Eu(base) => {
                let summer = eu_summer_time(utc);
                i64::from(base + i32::from(summer)) * 3600
            }
        };
        utc.naive_utc() + Duration::seconds(offset)
    }
}

fn parse_offset(text: &str) -> Option<FixedOffset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let secs = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
    FixedOffset::east_opt(sign * secs)
}

/// The last Sunday of `month` in `year`.
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let mut d = first_next.pred_opt()?;
    while d.weekday() != Weekday::Sun {
        d = d.pred_opt()?;
    }
    Some(d)
}

/// Whether EU summer time is in force at `utc` (from 01:00 UTC on the last Sunday of March to
/// 01:00 UTC on the last Sunday of October).
fn eu_summer_time(utc: DateTime<Utc>) -> bool {
    let year = utc.year();
    let (Some(start), Some(end)) = (last_sunday(year, 3), last_sunday(year, 10)) else {
        return false;
    };
    let at = |d: NaiveDate| d.and_hms_opt(1, 0, 0).map(|t| t.and_utc());
    match (at(start), at(end)) {
        (Some(s), Some(e)) => utc >= s && utc < e,
        _ => false,
    }
}

/// The system clock in the company's zone.
pub struct WallClock {
    pub zone: Zone,
}

impl Clock for WallClock {
    fn today(&self) -> NaiveDate {
        self.zone.local(Utc::now()).date()
    }
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn hour(&self) -> u32 {
        use chrono::Timelike;
        self.zone.local(Utc::now()).hour()
    }
}

/// A day that moves only when told; instants are real.
pub struct VirtualClock {
    day: Mutex<NaiveDate>,
}

impl VirtualClock {
    pub fn new(day: NaiveDate) -> VirtualClock {
        VirtualClock {
            day: Mutex::new(day),
        }
    }

    /// Moves the day (the engine persists it and runs the days in between).
    pub fn set(&self, day: NaiveDate) {
        if let Ok(mut d) = self.day.lock() {
            *d = day;
        }
    }
}

impl Clock for VirtualClock {
    fn today(&self) -> NaiveDate {
        self.day.lock().map(|d| *d).unwrap_or(NaiveDate::MIN)
    }
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn hour(&self) -> u32 {
        23
    }
    fn as_virtual(&self) -> Option<&VirtualClock> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("test instant")
    }

    #[test]
    fn paris_follows_the_eu_summer_time_rule() {
        let paris = Zone::parse("Europe/Paris").expect("zone");
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(
            paris.local(utc("2026-01-15T23:30:00Z")).to_string(),
            "2026-01-16 00:30:00"
        );
        assert_eq!(
            paris.local(utc("2026-03-29T00:59:00Z")).to_string(),
            "2026-03-29 01:59:00"
        );
        assert_eq!(
            paris.local(utc("2026-03-29T01:00:00Z")).to_string(),
            "2026-03-29 03:00:00"
        );
        assert_eq!(
            paris.local(utc("2026-07-01T22:30:00Z")).to_string(),
            "2026-07-02 00:30:00"
        );
        assert_eq!(
            paris.local(utc("2026-10-25T01:00:00Z")).to_string(),
            "2026-10-25 02:00:00"
        );
    }

    #[test]
    fn fixed_offsets_and_errors() {
        let z = Zone::parse("-05:30").expect("zone");
        assert_eq!(
            z.local(utc("2026-01-01T03:00:00Z")).to_string(),
            "2025-12-31 21:30:00"
        );
        assert!(Zone::parse("Mars/Olympus").is_err());
    }
}
