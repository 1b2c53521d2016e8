//! French B2B late-payment money (Code de commerce L441-10): the penalty-rate table, late
//! interest and the fixed recovery indemnity.
//!
//! This module owns the arithmetic of `charge late-interest` and the amount of `charge
//! indemnity`. The rate table is data, not code: `engine/core/data/ecb-rates.csv` (per
//! half-year since 2012, the ECB main refinancing rate in force on each 1 January and 1 July and
//! the *taux de l'intérêt légal* for professional creditors) is embedded at build time as the
//! default table and can be replaced by any text in the same format (a data folder's
//! `rates.csv`). It also owns the L441-10 floor: a penalty rate below three times the legal
//! rate of its half-year is reported ([`RateTable::floor_warnings`], [`RateTable::check_rate`]). This module must not decide
//! *whether* a debtor owes these sums (B2C debtors owe no indemnity, that is the runtime's call)
//! and must not read files or the clock. Money is `Decimal`; nothing here uses floating point.
//!
//! # Late interest
//!
//! Interest accrues on a constant outstanding amount from the day after `due` to the charge day
//! inclusive. The period is cut into half-year slices (1 January–30 June, 1 July–31 December);
//! each slice accrues `outstanding × rate / 100 × days / 365` at the penalty rate of its own
//! half-year (ECB rate + 10 points), always over 365 days, leap years included. The slices are
//! added exactly and the sum is rounded once, to the cent, half away from zero.
//!
//! # Past the end of the table
//!
//! One rule, never silent: a half-year the table does not hold yet (after its last row for the
//! ECB rate; after the last row giving a legal rate, for a multiple of the legal rate) is
//! charged at the **last known rate**, and the charge says so as data ([`AssumedRate`]: the
//! first half-year assumed and the half-year whose rate was used). A half-year *before* the
//! table, or a legal rate missing between two known ones, is still an error.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use thiserror::Error;

/// The fixed recovery indemnity per invoice owed by professional debtors (L441-10, D441-5): €40.
pub const RECOVERY_INDEMNITY_EUR: Decimal = Decimal::from_parts(40, 0, 0, false, 0);

/// The fixed recovery indemnity per invoice, €40 (see [`RECOVERY_INDEMNITY_EUR`]).
pub const fn recovery_indemnity() -> Decimal {
    RECOVERY_INDEMNITY_EUR
}

/// The points L441-10 adds to the ECB rate.
const PENALTY_POINTS: Decimal = Decimal::from_parts(10, 0, 0, false, 0);

/// 100 (percent) × 365 (days): the divisor of `outstanding × rate × days`.
const PERCENT_DAYS_PER_YEAR: Decimal = Decimal::from_parts(36_500, 0, 0, false, 0);

/// The built-in table, `engine/core/data/ecb-rates.csv`.
const BUILTIN_TABLE: &str = include_str!("../data/ecb-rates.csv");

/// The header of the first table format (ECB rate only), still read.
const HEADER: [&str; 2] = ["half_year_start", "ecb_rate_percent"];

/// The header of the table with the legal rate (`rates.csv`, the built-in table).
const HEADER_LEGAL: [&str; 3] = ["half_year", "ecb_rate", "legal_rate_professionals"];

/// The largest rate (in percent, either sign) a table row may hold: rates are percentages,
/// and with every rate this small no penalty rate, floor or interest overflows a decimal.
const MAX_TABLE_RATE: Decimal = Decimal::from_parts(100, 0, 0, false, 0);

/// L441-10 II: a contractual rate may not be below three times the legal rate.
const FLOOR_FACTOR: Decimal = Decimal::from_parts(3, 0, 0, false, 0);

/// Why a rate table could not be read. Every error names the 1-based line of the text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RateTableError {
    #[error(
        "line {line}: expected the header `half_year,ecb_rate,legal_rate_professionals` (or \
         `half_year_start,ecb_rate_percent`), found `{found}`"
    )]
    Header { line: usize, found: String },
    #[error("line {line}: expected {expected} fields, found {found}")]
    FieldCount {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error(
        "line {line}: invalid half-year `{text}` (expected YYYY-H1, YYYY-H2, YYYY-01-01 or \
         YYYY-07-01)"
    )]
    Date { line: usize, text: String },
    #[error("line {line}: {date} does not start a half-year (expected YYYY-01-01 or YYYY-07-01)")]
    NotHalfYearStart { line: usize, date: NaiveDate },
    #[error(
        "line {line}: invalid rate `{text}` (expected a percentage from -100 to 100 such as 3.15)"
    )]
    Rate { line: usize, text: String },
    #[error(
        "line {line}: half-year {found} follows {previous}; rows must be consecutive half-years, \
         oldest first (expected {expected})"
    )]
    Sequence {
        line: usize,
        previous: NaiveDate,
        expected: NaiveDate,
        found: NaiveDate,
    },
    #[error(
        "laid on the built-in table, the rows leave {} missing (between {} and {}): give every \
         half-year in between",
        half_year_name(*expected),
        half_year_name(*previous),
        half_year_name(*found)
    )]
    Gap {
        previous: NaiveDate,
        expected: NaiveDate,
        found: NaiveDate,
    },
    #[error("the rate table has no rows")]
    Empty,
}

impl RateTableError {
    /// The 1-based line of the text the error is on, when it is on one (a gap between two
    /// tables and an empty table are on none).
    pub fn line(&self) -> Option<usize> {
        match self {
            RateTableError::Header { line, .. }
            | RateTableError::FieldCount { line, .. }
            | RateTableError::Date { line, .. }
            | RateTableError::NotHalfYearStart { line, .. }
            | RateTableError::Rate { line, .. }
            | RateTableError::Sequence { line, .. } => Some(*line),
            RateTableError::Gap { .. } | RateTableError::Empty => None,
        }
    }
}

/// Why late interest could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InterestError {
    #[error(
        "no late-payment rate for {date} (half-year {}): the rate table starts on {first}",
        half_year_name(*date)
    )]
    NoRate { date: NaiveDate, first: NaiveDate },
    #[error(
        "no legal interest rate for {date} (half-year {}) in the rate table: add it to the \
         data folder's rates.csv",
        half_year_name(*date)
    )]
    NoLegalRate { date: NaiveDate },
    #[error("cannot charge interest on a negative outstanding amount ({outstanding})")]
    NegativeOutstanding { outstanding: Decimal },
    #[error("late interest on {outstanding} overflows the decimal range")]
    Overflow { outstanding: Decimal },
}

/// A half-year charged that the rate table does not hold yet, charged at the last known rate
/// (the module's rule "past the end of the table"): typed data on the charge, shown in the
/// history, the timeline and the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct AssumedRate {
    /// The first half-year charged that the table lacks (`2027-H1`).
    #[serde(
        serialize_with = "serialize_half_year",
        deserialize_with = "deserialize_half_year"
    )]
    pub half_year: NaiveDate,
    /// The half-year whose rate was used (the last one the table gives).
    #[serde(
        serialize_with = "serialize_half_year",
        deserialize_with = "deserialize_half_year"
    )]
    pub from: NaiveDate,
}

impl std::fmt::Display for AssumedRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rate assumed: the table has no rate for {}, the rate of {} is used",
            half_year_name(self.half_year),
            half_year_name(self.from)
        )
    }
}

fn deserialize_half_year<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    parse_half_year(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("invalid half-year `{text}`")))
}

/// A half-year the table lacks (`relance rates --today`): which rate is missing and which
/// half-year's rate is assumed for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MissingRate {
    #[serde(serialize_with = "serialize_half_year")]
    pub half_year: NaiveDate,
    /// The table has no row for it: its ECB rate (and legal rate) is assumed.
    pub ecb_missing: bool,
    /// The half-year whose ECB rate is assumed, when `ecb_missing`.
    #[serde(serialize_with = "serialize_opt_half_year")]
    pub ecb_from: Option<NaiveDate>,
    /// The half-year whose legal rate is assumed (`None` when the table gives this one's, or
    /// gives none at all).
    #[serde(serialize_with = "serialize_opt_half_year")]
    pub legal_from: Option<NaiveDate>,
}

fn serialize_opt_half_year<S: serde::Serializer>(
    d: &Option<NaiveDate>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(&half_year_name(*d)),
        None => s.serialize_none(),
    }
}

/// Which rate a late-interest charge uses (L441-10 II).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PenaltyRate {
    /// No contractual rate: the ECB rate of each half-year plus 10 points.
    Default,
    /// A contractual yearly percentage, for every half-year (needs no table row).
    Yearly(Decimal),
    /// A contractual multiple of the taux de l'intérêt légal of each half-year: every
    /// half-year charged needs its legal rate in the table (an error naming it otherwise).
    LegalTimes(Decimal),
}

/// The rates of consecutive half-years, oldest first (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateTable {
    /// (first day of the half-year, ECB rate in percent).
    rows: Vec<(NaiveDate, Decimal)>,
    /// The legal rate for professional creditors of each row, when known.
    legal: Vec<Option<Decimal>>,
}

/// One half-year of a [`RateTable`], as `relance rates` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RateRow {
    /// `2025-H1`.
    #[serde(serialize_with = "serialize_half_year")]
    pub half_year: NaiveDate,
    pub ecb_rate: Decimal,
    /// ECB + 10 points (L441-10 II).
    pub default_rate: Decimal,
    /// The taux de l'intérêt légal for professional creditors, when the table has it.
    pub legal_rate_professionals: Option<Decimal>,
    /// Three times the legal rate: the lowest lawful contractual rate.
    pub floor: Option<Decimal>,
}

fn serialize_half_year<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&half_year_name(*d))
}

/// A penalty rate below the floor of three times the legal rate of its half-year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FloorWarning {
    #[serde(serialize_with = "serialize_half_year")]
    pub half_year: NaiveDate,
    pub rate: Decimal,
    pub floor: Decimal,
}

impl std::fmt::Display for FloorWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the rate {} % is below three times the legal rate, {} % (L441-10 II)",
            half_year_name(self.half_year),
            self.rate,
            self.floor
        )
    }
}

/// `2025-H1` for any date of the first half of 2025.
pub fn half_year_name(date: NaiveDate) -> String {
    let half = if date.month() <= 6 { 1 } else { 2 };
    format!("{}-H{half}", date.year())
}

impl RateTable {
    /// Reads a table in the `ecb-rates.csv` format: `#` comment lines and blank lines anywhere,
    /// then the header `half_year,ecb_rate,legal_rate_professionals` (the legal rate may be
    /// left empty) or the older `half_year_start,ecb_rate_percent`, then one row per half-year
    /// (`2025-H1,3.15,3.71`; the half-year may also be written `2025-01-01`), consecutive and
    /// oldest first.
    pub fn parse(text: &str) -> Result<RateTable, RateTableError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rows: Vec<(NaiveDate, Decimal)> = Vec::new();
        let mut legal: Vec<Option<Decimal>> = Vec::new();
        let mut seen_header = false;
        let mut width = 2;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.trim();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = content.split(',').map(str::trim).collect();
            if !seen_header {
                width = if fields == HEADER {
                    2
                } else if fields == HEADER_LEGAL {
                    3
                } else {
                    return Err(RateTableError::Header {
                        line,
                        found: content.to_string(),
                    });
                };
                seen_header = true;
                continue;
            }
            if fields.len() != width {
                return Err(RateTableError::FieldCount {
                    line,
                    expected: width,
                    found: fields.len(),
                });
            }
            let (date_text, rate_text) = (fields[0], fields[1]);
            let legal_rate = match fields.get(2) {
                None | Some(&"") => None,
                Some(text) => Some(parse_rate(text).ok_or_else(|| RateTableError::Rate {
                    line,
                    text: text.to_string(),
                })?),
            };
            let date = parse_half_year(date_text).ok_or_else(|| RateTableError::Date {
                line,
                text: date_text.to_string(),
            })?;
            if half_year_start(date) != date {
                return Err(RateTableError::NotHalfYearStart { line, date });
            }
            let rate = parse_rate(rate_text).ok_or_else(|| RateTableError::Rate {
                line,
                text: rate_text.to_string(),
            })?;
            if let Some(&(previous, _)) = rows.last() {
                let expected = next_half_year(previous).ok_or(RateTableError::Date {
                    line,
                    text: date_text.to_string(),
                })?;
                if date != expected {
                    return Err(RateTableError::Sequence {
                        line,
                        previous,
                        expected,
                        found: date,
                    });
                }
            }
            rows.push((date, rate));
            legal.push(legal_rate);
        }
        if rows.is_empty() {
            return Err(RateTableError::Empty);
        }
        Ok(RateTable { rows, legal })
    }

    /// The taux de l'intérêt légal for professional creditors of the half-year containing
    /// `date`: `None` before the table or when the table leaves it empty. After the last row,
    /// the last row's.
    pub fn legal_rate_on(&self, date: NaiveDate) -> Option<Decimal> {
        let after = self.rows.partition_point(|&(start, _)| start <= date);
        after.checked_sub(1).and_then(|index| self.legal[index])
    }

    /// The legal rate of the table's own row for the half-year containing `date`: `None`
    /// before the first row, after the last one, or when the row leaves it empty (a rate
    /// charged must never be guessed from another half-year).
    pub fn legal_rate_of(&self, date: NaiveDate) -> Option<Decimal> {
        let index = self
            .rows
            .partition_point(|&(start, _)| start <= date)
            .checked_sub(1)?;
        let last = index + 1 == self.rows.len();
        if last && next_half_year(self.rows[index].0).is_some_and(|n| date >= n) {
            return None;
        }
        self.legal[index]
    }

    /// The lowest lawful contractual rate for the half-year containing `date`: three times the
    /// legal rate (L441-10 II), when known.
    pub fn floor_on(&self, date: NaiveDate) -> Option<Decimal> {
        self.legal_rate_on(date).map(|legal| legal * FLOOR_FACTOR)
    }

    /// A warning when `rate` (percent; a contractual rate, or the default ECB + 10) is below
    /// the floor of the half-year containing `date`. `None` when it is not, or the legal rate
    /// of that half-year is unknown.
    pub fn check_rate(&self, rate: Decimal, date: NaiveDate) -> Option<FloorWarning> {
        let floor = self.floor_on(date)?;
        (rate < floor).then(|| FloorWarning {
            half_year: half_year_start(date),
            rate,
            floor,
        })
    }

    /// The half-years whose default rate (ECB + 10 points) is below the floor of three times
    /// the legal rate: the default rate itself is then unlawful and a contract must set more.
    pub fn floor_warnings(&self) -> Vec<FloorWarning> {
        self.rows
            .iter()
            .filter_map(|&(start, ecb)| self.check_rate(ecb + PENALTY_POINTS, start))
            .collect()
    }

    /// A contractual `rate` (percent) against the floor of every half-year from the one
    /// containing `from` to the table's last: one warning per half-year whose floor (three times
    /// its legal rate, L441-10 II) is above it. Half-years without a legal rate are not judged.
    pub fn contract_warnings(&self, rate: Decimal, from: NaiveDate) -> Vec<FloorWarning> {
        let first = half_year_start(from);
        self.rows
            .iter()
            .filter(|&&(start, _)| start >= first)
            .filter_map(|&(start, _)| self.check_rate(rate, start))
            .collect()
    }

    /// The first day of the latest half-year whose legal rate the table gives, with its floor.
    pub fn latest_floor(&self) -> Option<(NaiveDate, Decimal)> {
        self.rows
            .iter()
            .zip(&self.legal)
            .rev()
            .find_map(|(&(start, _), legal)| legal.map(|l| (start, l * FLOOR_FACTOR)))
    }

    /// Every row with its default rate and floor, oldest first.
    pub fn table(&self) -> Vec<RateRow> {
        self.rows
            .iter()
            .zip(&self.legal)
            .map(|(&(start, ecb), &legal)| RateRow {
                half_year: start,
                ecb_rate: ecb,
                default_rate: ecb + PENALTY_POINTS,
                legal_rate_professionals: legal,
                floor: legal.map(|l| l * FLOOR_FACTOR),
            })
            .collect()
    }

    /// This table with the rows of `over` on top (a data folder's `rates.csv` over the
    /// built-in table): a half-year `over` lists takes its ECB rate, and its legal rate when
    /// `over` gives one (an empty legal rate there keeps this table's); half-years before or
    /// after this table extend it. The result must still be consecutive half-years: a gap
    /// between the two is an error naming where.
    pub fn overlay(&self, over: &RateTable) -> Result<RateTable, RateTableError> {
        let mut merged: std::collections::BTreeMap<NaiveDate, (Decimal, Option<Decimal>)> = self
            .rows
            .iter()
            .zip(&self.legal)
            .map(|(&(start, ecb), &legal)| (start, (ecb, legal)))
            .collect();
        for (&(start, ecb), &legal) in over.rows.iter().zip(&over.legal) {
            let kept = merged.get(&start).and_then(|&(_, l)| l);
            merged.insert(start, (ecb, legal.or(kept)));
        }
        let mut rows = Vec::with_capacity(merged.len());
        let mut legal = Vec::with_capacity(merged.len());
        for (start, (ecb, l)) in merged {
            if let Some(&(previous, _)) = rows.last() {
                let expected = next_half_year(previous).unwrap_or(previous);
                if start != expected {
                    return Err(RateTableError::Gap {
                        previous,
                        expected,
                        found: start,
                    });
                }
            }
            rows.push((start, ecb));
            legal.push(l);
        }
        Ok(RateTable { rows, legal })
    }

    /// The table shipped with the engine (`engine/core/data/ecb-rates.csv`), parsed once.
    pub fn builtin() -> &'static RateTable {
        static TABLE: OnceLock<RateTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            // The embedded file is checked by the `builtin_table_parses` test.
            RateTable::parse(BUILTIN_TABLE)
                .expect("engine/core/data/ecb-rates.csv is a valid table")
        })
    }

    /// The ECB rate of the half-year containing `date` with, past the table's last row, the
    /// half-year whose rate is assumed (the last row's): `None` before the first row.
    pub fn ecb_rate_for(&self, date: NaiveDate) -> Option<(Decimal, Option<NaiveDate>)> {
        let index = self
            .rows
            .partition_point(|&(start, _)| start <= date)
            .checked_sub(1)?;
        let (start, ecb) = self.rows[index];
        let past = index + 1 == self.rows.len() && half_year_start(date) != start;
        Some((ecb, past.then_some(start)))
    }

    /// The legal rate of the half-year containing `date` with, past the last row that gives
    /// one, the half-year whose legal rate is assumed (the module's rule). An error when
    /// `date` is before the table, the table gives no legal rate at all, or the row leaves it
    /// empty while a later row gives one (a hole in the table, never filled by a guess).
    pub fn legal_rate_for(
        &self,
        date: NaiveDate,
    ) -> Result<(Decimal, Option<NaiveDate>), InterestError> {
        let missing = InterestError::NoLegalRate { date };
        let index = self
            .rows
            .partition_point(|&(start, _)| start <= date)
            .checked_sub(1)
            .ok_or(missing.clone())?;
        let last_known = self
            .legal
            .iter()
            .rposition(Option::is_some)
            .ok_or(missing.clone())?;
        // Before the last known legal rate, rows are consecutive: `date` is in row `index`.
        let own = half_year_start(date) == self.rows[index].0;
        if index < last_known || (index == last_known && own) {
            return self.legal[index].map(|l| (l, None)).ok_or(missing);
        }
        let known = self.legal[last_known].ok_or(missing)?;
        Ok((known, Some(self.rows[last_known].0)))
    }

    /// The half-years from the one containing `from` to the one containing `to` that the
    /// table lacks (no row, or no legal rate after the last one it gives), each with the
    /// half-year whose rate the engine assumes for it. Empty when the table holds them all.
    pub fn missing(&self, from: NaiveDate, to: NaiveDate) -> Vec<MissingRate> {
        let first = half_year_start(from).max(self.first_half_year());
        std::iter::successors(Some(first), |d| next_half_year(*d))
            .take_while(|d| *d <= to)
            .filter_map(|day| {
                let (_, ecb_from) = self.ecb_rate_for(day)?;
                let legal_from = self.legal_rate_for(day).ok().and_then(|(_, f)| f);
                (ecb_from.is_some() || legal_from.is_some()).then_some(MissingRate {
                    half_year: day,
                    ecb_missing: ecb_from.is_some(),
                    ecb_from,
                    legal_from,
                })
            })
            .collect()
    }

    /// The rate a late-interest charge at `penalty` uses for the day `day`, with the
    /// half-year assumed when the table does not hold `day`'s (the one home of that rule).
    pub fn penalty_rate_for(
        &self,
        penalty: PenaltyRate,
        day: NaiveDate,
    ) -> Result<(Decimal, Option<AssumedRate>), InterestError> {
        let assumed = |from: Option<NaiveDate>| {
            from.map(|from| AssumedRate {
                half_year: half_year_start(day),
                from,
            })
        };
        match penalty {
            PenaltyRate::Yearly(rate) => Ok((rate, None)),
            PenaltyRate::LegalTimes(times) => {
                let (legal, from) = self.legal_rate_for(day)?;
                Ok((legal * times, assumed(from)))
            }
            PenaltyRate::Default => {
                let (ecb, from) = self.ecb_rate_for(day).ok_or(InterestError::NoRate {
                    date: day,
                    first: self.first_half_year(),
                })?;
                Ok((ecb + PENALTY_POINTS, assumed(from)))
            }
        }
    }

    /// The ECB main refinancing rate (percent) in force on the first day of the half-year
    /// containing `date`: `None` before the first row; after the last row, the last row's rate
    /// (assumed: [`RateTable::ecb_rate_for`] says from which half-year).
    pub fn ecb_rate_on(&self, date: NaiveDate) -> Option<Decimal> {
        let after = self.rows.partition_point(|&(start, _)| start <= date);
        after.checked_sub(1).map(|index| self.rows[index].1)
    }

    /// The L441-10 penalty rate (percent) for the half-year containing `date`: the ECB rate plus
    /// 10 points. `None` before the table's first row; after its last row, the last rate.
    pub fn rate_on(&self, date: NaiveDate) -> Option<Decimal> {
        self.ecb_rate_on(date).map(|ecb| ecb + PENALTY_POINTS)
    }

    /// The first day of the first half-year the table covers.
    pub fn first_half_year(&self) -> NaiveDate {
        self.rows[0].0
    }

    /// The first day of the last half-year the table lists (later dates reuse its rate; a
    /// caller may warn when the charge day is past its end).
    pub fn last_half_year(&self) -> NaiveDate {
        self.rows[self.rows.len() - 1].0
    }

    /// The rows: (first day of the half-year, ECB rate in percent), oldest first.
    pub fn rows(&self) -> impl Iterator<Item = (NaiveDate, Decimal)> + '_ {
        self.rows.iter().copied()
    }
}

/// L441-10 late interest on `outstanding`, from the day after `due` to `on` inclusive, each
/// half-year slice at its own penalty rate, actual days / 365, rounded to the cent (half away
/// from zero). Zero when `on <= due` or nothing is outstanding.
pub fn late_interest(
    outstanding: Decimal,
    due: NaiveDate,
    on: NaiveDate,
    table: &RateTable,
) -> Result<Decimal, InterestError> {
    late_interest_at(outstanding, due, on, table, None)
}

/// [`late_interest`] at a contractual yearly rate (percent) when one is given, for every
/// half-year slice (the table is then not read: a contractual rate needs no table row);
/// without one, the default rate of each slice's half-year.
pub fn late_interest_at(
    outstanding: Decimal,
    due: NaiveDate,
    on: NaiveDate,
    table: &RateTable,
    contractual: Option<Decimal>,
) -> Result<Decimal, InterestError> {
    let rate = contractual.map_or(PenaltyRate::Default, PenaltyRate::Yearly);
    late_interest_with(outstanding, due, on, table, rate)
}

/// [`late_interest`] at the given [`PenaltyRate`]: the default of each half-year, a yearly
/// contractual rate, or a multiple of each half-year's legal rate (an error naming the first
/// half-year whose legal rate the table does not give).
pub fn late_interest_with(
    outstanding: Decimal,
    due: NaiveDate,
    on: NaiveDate,
    table: &RateTable,
    penalty: PenaltyRate,
) -> Result<Decimal, InterestError> {
    late_interest_detail(outstanding, due, on, table, penalty).map(|i| i.amount)
}

/// Late interest with how it was computed: the amount, and the first half-year charged at an
/// assumed rate (past the end of the table), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    pub amount: Decimal,
    pub assumed: Option<AssumedRate>,
}

/// [`late_interest_with`], saying which half-year (if any) was charged at an assumed rate.
pub fn late_interest_detail(
    outstanding: Decimal,
    due: NaiveDate,
    on: NaiveDate,
    table: &RateTable,
    penalty: PenaltyRate,
) -> Result<Interest, InterestError> {
    if outstanding.is_sign_negative() && !outstanding.is_zero() {
        return Err(InterestError::NegativeOutstanding { outstanding });
    }
    let mut assumed = None;
    if on <= due || outstanding.is_zero() {
        return Ok(Interest {
            amount: Decimal::ZERO,
            assumed,
        });
    }
    let overflow = InterestError::Overflow { outstanding };
    // Σ outstanding × rate × days, exact; divided by 36,500 once at the end.
    let mut total = Decimal::ZERO;
    for slice in rate_slices(due, on, table, penalty)? {
        assumed = assumed.or(slice.assumed);
        total = outstanding
            .checked_mul(slice.rate)
            .and_then(|x| x.checked_mul(Decimal::from(slice.days)))
            .and_then(|x| total.checked_add(x))
            .ok_or(overflow.clone())?;
    }
    let interest = total.checked_div(PERCENT_DAYS_PER_YEAR).ok_or(overflow)?;
    Ok(Interest {
        amount: interest.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
        assumed,
    })
}

/// Days of a late-interest period charged at one rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RateSlice {
    /// Its number of days (its last day included).
    days: i64,
    rate: Decimal,
    /// Set when the slice's rate is past the end of the table (the module's rule).
    assumed: Option<AssumedRate>,
}

/// The period from the day after `due` to `on` inclusive (`due < on`), cut where the rate may
/// change: at each half-year while the table gives that half-year's rate, and nowhere once the
/// rate cannot change any more (a contractual yearly rate, or past the end of the table, where
/// every later half-year takes the same last known rate). Cutting a constant rate into
/// half-years would give the same exact sum, one slice per half-year up to year 9999.
fn rate_slices(
    due: NaiveDate,
    on: NaiveDate,
    table: &RateTable,
    penalty: PenaltyRate,
) -> Result<Vec<RateSlice>, InterestError> {
    let mut slices = Vec::new();
    let Some(mut start) = due.succ_opt() else {
        return Ok(slices);
    };
    while start <= on {
        let (rate, assumed) = table.penalty_rate_for(penalty, start)?;
        let constant_from_here = matches!(penalty, PenaltyRate::Yearly(_)) || assumed.is_some();
        let slice_end = match next_half_year(half_year_start(start)).and_then(|n| n.pred_opt()) {
            Some(end) if end < on && !constant_from_here => end,
            _ => on,
        };
        slices.push(RateSlice {
            days: (slice_end - start).num_days() + 1,
            rate,
            assumed,
        });
        match slice_end.succ_opt() {
            Some(next) => start = next,
            None => break,
        }
    }
    Ok(slices)
}

/// The first day of the half-year after the one containing `date`.
pub fn next_half_year_after(date: NaiveDate) -> Option<NaiveDate> {
    next_half_year(half_year_start(date))
}

/// 1 January or 1 July of the half-year containing `date`.
fn half_year_start(date: NaiveDate) -> NaiveDate {
    let month = if date.month() <= 6 { 1 } else { 7 };
    date.with_day(1)
        .and_then(|d| d.with_month(month))
        .unwrap_or(date)
}

/// The first day of the half-year after the one starting on `start`.
fn next_half_year(start: NaiveDate) -> Option<NaiveDate> {
    if start.month() <= 6 {
        NaiveDate::from_ymd_opt(start.year(), 7, 1)
    } else {
        NaiveDate::from_ymd_opt(start.year().checked_add(1)?, 1, 1)
    }
}

/// A half-year: `2025-H1`, `2025-H2` (any case) or a strict `YYYY-MM-DD` date.
fn parse_half_year(text: &str) -> Option<NaiveDate> {
    let upper = text.to_ascii_uppercase();
    if let Some((year, half)) = upper.split_once("-H") {
        let year: i32 = (year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()))
            .then(|| year.parse().ok())
            .flatten()?;
        let month = match half {
            "1" => 1,
            "2" => 7,
            _ => return None,
        };
        return NaiveDate::from_ymd_opt(year, month, 1);
    }
    parse_iso_date(text)
}

/// A strict `YYYY-MM-DD` date.
fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let year = text[0..4].parse().ok()?;
    let month = text[5..7].parse().ok()?;
    let day = text[8..10].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A plain decimal percentage (`3.15`, `-0.5`, `0`), no exponent, no thousands separator.
fn parse_rate(text: &str) -> Option<Decimal> {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-');
    if !plain {
        return None;
    }
    text.parse()
        .ok()
        .filter(|rate: &Decimal| rate.abs() <= MAX_TABLE_RATE)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).expect("valid test decimal")
    }

    fn interest(outstanding: &str, due: NaiveDate, on: NaiveDate) -> Decimal {
        late_interest(dec(outstanding), due, on, RateTable::builtin()).expect("computable")
    }

    /// A contractual multiple of the legal rate, per half-year. Legal rates "autres cas":
    /// 2025-H1 3.71 % (arrêté of 17 December 2024), 2025-H2 2.76 % (arrêté of 19 June 2025),
    /// 2026-H1 2.62 % (arrêté of 15 December 2025); L441-10 II for the floor of three times.
    #[test]
    fn three_times_the_legal_rate_by_half_year() {
        let table = RateTable::builtin();
        let three = PenaltyRate::LegalTimes(dec("3"));
        let cases = [
            // 10,000 € due 31 Dec 2025, to 31 Mar 2026: 90 days at 3 × 2.62 = 7.86 %:
            // 10,000 × 7.86 × 90 / 36,500 = 193.808… → 193.81.
            (d(2025, 12, 31), d(2026, 3, 31), "193.81"),
            // Due 15 Jun 2025, to 15 Jul 2025: 15 days at 3 × 3.71 = 11.13 % and 15 days at
            // 3 × 2.76 = 8.28 %: 10,000 × (11.13 × 15 + 8.28 × 15) / 36,500 = 79.767… → 79.77.
            (d(2025, 6, 15), d(2025, 7, 15), "79.77"),
        ];
        for (due, on, expected) in cases {
            let got = late_interest_with(dec("10000"), due, on, table, three).expect("computable");
            assert_eq!(got, dec(expected), "due {due}, to {on}");
        }
        // The multiple follows the legal rate, not the ECB rate: 2 × 2.62 = 5.24 % over 90 days
        // is two thirds of the above, 129.21 (10,000 × 5.24 × 90 / 36,500 = 129.205…).
        let two = PenaltyRate::LegalTimes(dec("2"));
        let got = late_interest_with(dec("10000"), d(2025, 12, 31), d(2026, 3, 31), table, two);
        assert_eq!(got, Ok(dec("129.21")));
    }

    /// The built-in table leaves the 2026-H2 legal rate empty: past the last legal rate it
    /// gives (2026-H1, 2.62 %, arrêté of 15 December 2025), a multiple of the legal rate is
    /// charged at that rate and the charge says so. 1,000 € due 15 Jun 2026, to 10 Jul 2026:
    /// 15 days at 3 × 2.62 = 7.86 % (2026-H1) and 10 days at 7.86 % assumed (2026-H2):
    /// 1,000 × 7.86 × 25 / 36,500 = 5.383… → 5.38.
    #[test]
    fn a_legal_multiple_past_the_last_legal_rate_assumes_it_and_says_so() {
        let table = RateTable::builtin();
        let three = PenaltyRate::LegalTimes(dec("3"));
        let got = late_interest_detail(dec("1000"), d(2026, 6, 15), d(2026, 7, 10), table, three);
        assert_eq!(
            got,
            Ok(Interest {
                amount: dec("5.38"),
                assumed: Some(AssumedRate {
                    half_year: d(2026, 7, 1),
                    from: d(2026, 1, 1)
                })
            })
        );
        // Wholly inside the table: nothing assumed.
        let inside =
            late_interest_detail(dec("1000"), d(2026, 1, 15), d(2026, 2, 10), table, three);
        assert_eq!(inside.map(|i| i.assumed), Ok(None));
    }

    /// A legal rate missing *between* two known ones is a hole, not the end of the table: an
    /// error naming the half-year, never a rate guessed from another one.
    #[test]
    fn a_hole_in_the_legal_rates_is_an_error_naming_the_half_year() {
        let table = RateTable::parse(
            "half_year,ecb_rate,legal_rate_professionals\n2025-H1,3.15,3.71\n2025-H2,2.15,\n\
             2026-H1,2.15,2.62\n",
        )
        .expect("parses");
        let three = PenaltyRate::LegalTimes(dec("3"));
        let err = late_interest_with(dec("1000"), d(2025, 6, 15), d(2025, 7, 10), &table, three)
            .unwrap_err();
        let date = d(2025, 7, 1);
        assert_eq!(err, InterestError::NoLegalRate { date });
        assert!(err.to_string().contains("2025-H2"), "{err}");
        // A table without any legal rate (the older two-column format): an error too.
        let ecb_only = RateTable::parse("half_year_start,ecb_rate_percent\n2025-01-01,3.15\n")
            .expect("parses");
        assert!(matches!(
            late_interest_with(
                dec("1000"),
                d(2025, 1, 15),
                d(2025, 2, 10),
                &ecb_only,
                three
            ),
            Err(InterestError::NoLegalRate { .. })
        ));
    }

    /// A table that ends early (2025-H1): the default rate of 2025-H2 and later is the last
    /// row's, assumed, and the charge names the first half-year assumed and its source.
    /// 1,000 € due 15 Jun 2025, to 20 Jul 2025: 15 days at 13.15 % (2025-H1) and 20 days at
    /// 13.15 % assumed: 1,000 × 13.15 × 35 / 36,500 = 12.609… → 12.61 (the full table gives
    /// 12.15 % from 1 July: 1,000 × (13.15 × 15 + 12.15 × 20) / 36,500 = 12.06).
    #[test]
    fn a_table_that_ends_early_assumes_its_last_rate_and_says_which() {
        let short =
            RateTable::parse("half_year,ecb_rate,legal_rate_professionals\n2025-H1,3.15,3.71\n")
                .expect("parses");
        let cases = [
            // (due, to, amount, first half-year assumed)
            (d(2025, 6, 15), d(2025, 7, 20), "12.61", Some(d(2025, 7, 1))),
            // 30 days of 2026-H1: 1,000 × 13.15 × 30 / 36,500 = 10.808… → 10.81.
            (d(2026, 1, 31), d(2026, 3, 2), "10.81", Some(d(2026, 1, 1))),
            // 30 days inside the table: nothing assumed (10.81 as well).
            (d(2025, 1, 31), d(2025, 3, 2), "10.81", None),
        ];
        for (due, on, amount, assumed) in cases {
            let got = late_interest_detail(dec("1000"), due, on, &short, PenaltyRate::Default)
                .expect("computable");
            assert_eq!(got.amount, dec(amount), "due {due}, to {on}");
            assert_eq!(
                got.assumed,
                assumed.map(|half_year| AssumedRate {
                    half_year,
                    from: d(2025, 1, 1)
                }),
                "due {due}, to {on}"
            );
        }
        let full = late_interest(
            dec("1000"),
            d(2025, 6, 15),
            d(2025, 7, 20),
            RateTable::builtin(),
        );
        assert_eq!(full, Ok(dec("12.06")));
        // A contractual yearly rate reads no table: never assumed.
        let yearly = late_interest_detail(
            dec("1000"),
            d(2026, 1, 31),
            d(2026, 3, 2),
            &short,
            PenaltyRate::Yearly(dec("12")),
        );
        assert_eq!(yearly.map(|i| i.assumed), Ok(None));
    }

    /// `relance rates --today`: the half-years the table lacks up to a date, with the half-year
    /// each rate is assumed from.
    #[test]
    fn the_half_years_a_table_lacks_up_to_a_date() {
        let table = RateTable::builtin();
        let missing = table.missing(d(2012, 1, 1), d(2027, 3, 1));
        assert_eq!(
            missing,
            [
                MissingRate {
                    half_year: d(2026, 7, 1),
                    ecb_missing: false,
                    ecb_from: None,
                    legal_from: Some(d(2026, 1, 1)),
                },
                MissingRate {
                    half_year: d(2027, 1, 1),
                    ecb_missing: true,
                    ecb_from: Some(d(2026, 7, 1)),
                    legal_from: Some(d(2026, 1, 1)),
                },
            ]
        );
        assert!(table.missing(d(2012, 1, 1), d(2026, 6, 30)).is_empty());
        let json = serde_json::to_string(&AssumedRate {
            half_year: d(2027, 1, 1),
            from: d(2026, 7, 1),
        })
        .expect("serializes");
        assert_eq!(json, r#"{"half_year":"2027-H1","from":"2026-H2"}"#);
        assert_eq!(
            serde_json::from_str::<AssumedRate>(&json).ok(),
            Some(AssumedRate {
                half_year: d(2027, 1, 1),
                from: d(2026, 7, 1)
            })
        );
    }

    /// A data folder's `rates.csv` on top of the built-in table: one row fills the 2026-H2
    /// legal rate (a made-up 9.99 here, so that no test pins an unverified figure) and keeps
    /// every other row; a next half-year extends the table; a gap is refused.
    #[test]
    fn a_rates_file_lays_its_rows_on_top_of_the_builtin_table() {
        let base = RateTable::builtin();
        let over = RateTable::parse(
            "half_year,ecb_rate,legal_rate_professionals\n2026-H2,2.15,9.99\n2027-H1,2.00,\n",
        )
        .expect("parses");
        let merged = base.overlay(&over).expect("consecutive");
        assert_eq!(merged.rows().count(), 31);
        assert_eq!(merged.legal_rate_of(d(2026, 9, 1)), Some(dec("9.99")));
        assert_eq!(merged.legal_rate_of(d(2026, 3, 1)), Some(dec("2.62")));
        assert_eq!(merged.legal_rate_of(d(2027, 2, 1)), None);
        assert_eq!(merged.ecb_rate_on(d(2027, 2, 1)), Some(dec("2.00")));
        assert_eq!(merged.first_half_year(), d(2012, 1, 1));
        // An empty legal rate on top keeps the table's.
        let blank =
            RateTable::parse("half_year,ecb_rate,legal_rate_professionals\n2026-H1,2.15,\n")
                .expect("parses");
        assert_eq!(
            base.overlay(&blank)
                .expect("same rows")
                .legal_rate_of(d(2026, 1, 1)),
            Some(dec("2.62"))
        );
        let gap = RateTable::parse("half_year,ecb_rate,legal_rate_professionals\n2027-H2,2.00,\n")
            .expect("parses");
        assert!(matches!(
            base.overlay(&gap),
            Err(RateTableError::Gap { .. })
        ));
    }

    /// The old loop, kept as the reference: one slice per half-year, whatever the rate.
    fn interest_by_half_years(
        outstanding: Decimal,
        due: NaiveDate,
        on: NaiveDate,
        table: &RateTable,
        penalty: PenaltyRate,
    ) -> Result<Interest, InterestError> {
        let (mut total, mut assumed) = (Decimal::ZERO, None);
        let mut start = due.succ_opt().expect("a successor");
        while start <= on {
            let end = next_half_year(half_year_start(start))
                .and_then(|n| n.pred_opt())
                .map_or(on, |end| end.min(on));
            let (rate, guess) = table.penalty_rate_for(penalty, start)?;
            assumed = assumed.or(guess);
            total += outstanding * rate * Decimal::from((end - start).num_days() + 1);
            match end.succ_opt() {
                Some(next) => start = next,
                None => break,
            }
        }
        Ok(Interest {
            amount: (total / PERCENT_DAYS_PER_YEAR)
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
            assumed,
        })
    }

    /// Regression (hostile-input run: planning a week of year 9999 took about 27 s for 14
    /// invoices): a rate that cannot change any more is one slice, not one per half-year up
    /// to the charge day.
    #[test]
    fn a_rate_that_cannot_change_is_one_slice_to_the_charge_day() {
        let table = RateTable::builtin();
        let last = table.last_half_year();
        let past_the_table = next_half_year(last).expect("a half-year after the table");
        let far = d(9999, 12, 31);
        let contractual = PenaltyRate::Yearly(dec("12"));
        // Past the end of the table, and a contractual rate from the start: one slice each.
        for (due, penalty) in [
            (past_the_table, PenaltyRate::Default),
            (d(2200, 1, 1), PenaltyRate::LegalTimes(dec("3"))),
            (d(2012, 1, 1), contractual),
        ] {
            let slices = rate_slices(due, far, table, penalty).expect("computable");
            assert_eq!(slices.len(), 1, "due {due}, {penalty:?}: {slices:?}");
        }
        // Inside the table: one slice per half-year it gives, then one for all the rest.
        let due = d(2024, 12, 31);
        let slices = rate_slices(due, far, table, PenaltyRate::Default).expect("computable");
        let given = std::iter::successors(Some(d(2025, 1, 1)), |h| next_half_year(*h))
            .take_while(|h| *h <= last)
            .count();
        assert_eq!(slices.len(), given + 1, "{slices:?}");
        assert_eq!(
            slices.iter().map(|s| s.days).sum::<i64>(),
            (far - due).num_days()
        );
        assert!(slices[given].assumed.is_some() && slices[given - 1].assumed.is_none());
    }

    /// Merging the slices of a constant rate changes no amount and no assumed half-year: the
    /// slices agree with the half-year-by-half-year sum on periods inside, across and past the
    /// end of the table, at each kind of rate.
    #[test]
    fn merged_slices_charge_what_half_year_slices_charge() {
        let table = RateTable::builtin();
        let dues = [
            d(2012, 1, 1),
            d(2019, 6, 30),
            d(2025, 11, 3),
            d(2026, 6, 15),
            d(2027, 2, 1),
        ];
        let ons = [
            d(2019, 7, 1),
            d(2026, 1, 1),
            d(2026, 7, 10),
            d(2031, 12, 31),
            d(2200, 2, 28),
        ];
        let penalties = [
            PenaltyRate::Default,
            PenaltyRate::Yearly(dec("7.5")),
            PenaltyRate::Yearly(dec("-100")),
            PenaltyRate::LegalTimes(dec("3")),
        ];
        for due in dues {
            for on in ons.iter().copied().filter(|on| *on > due) {
                for penalty in penalties {
                    for outstanding in [dec("0.01"), dec("1234.56"), dec("999999999999999.99")] {
                        assert_eq!(
                            late_interest_detail(outstanding, due, on, table, penalty),
                            interest_by_half_years(outstanding, due, on, table, penalty),
                            "{outstanding} due {due} to {on} at {penalty:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn builtin_table_parses() {
        let table = RateTable::parse(BUILTIN_TABLE).expect("the shipped table parses");
        assert_eq!(table.first_half_year(), d(2012, 1, 1));
        // Every half-year from 2012-H1 to 2026-H2.
        assert_eq!(table.rows().count(), 30);
        assert_eq!(&table, RateTable::builtin());
    }

    #[test]
    fn rates_by_half_year() {
        let table = RateTable::builtin();
        assert_eq!(table.rate_on(d(2011, 12, 31)), None);
        // ECB MRO 1.00 % on 1 July 2012 (cut to 0.75 on 11 July 2012).
        assert_eq!(table.rate_on(d(2012, 7, 1)), Some(dec("11.00")));
        // 0.05 % from 10 September 2014 to 15 March 2016.
        assert_eq!(table.rate_on(d(2016, 6, 30)), Some(dec("10.05")));
        assert_eq!(table.rate_on(d(2021, 12, 31)), Some(dec("10.00")));
        assert_eq!(table.rate_on(d(2022, 1, 1)), Some(dec("10.00")));
        assert_eq!(table.rate_on(d(2023, 6, 30)), Some(dec("12.50")));
        assert_eq!(table.rate_on(d(2023, 7, 1)), Some(dec("14.00")));
        assert_eq!(table.rate_on(d(2025, 3, 1)), Some(dec("13.15")));
        assert_eq!(table.rate_on(d(2025, 7, 1)), Some(dec("12.15")));
        assert_eq!(table.ecb_rate_on(d(2024, 8, 1)), Some(dec("4.25")));
        // After the last row, the last rate.
        assert_eq!(table.rate_on(d(2030, 2, 1)), Some(dec("12.15")));
    }

    #[test]
    fn one_rate() {
        // 1000.00 due 31 Jan 2025, charged 2 Mar 2025: 1 Feb..2 Mar = 28 + 2 = 30 days at
        // 3.15 + 10 = 13.15 %: 1000 × 13.15 / 100 × 30 / 365 = 3945 / 365 = 10.808… → 10.81.
        assert_eq!(
            interest("1000.00", d(2025, 1, 31), d(2025, 3, 2)),
            dec("10.81")
        );
        // 36500 for one day at 13.15 %: 36500 × 0.1315 / 365 = 13.15 exactly.
        assert_eq!(
            interest("36500", d(2025, 2, 1), d(2025, 2, 2)),
            dec("13.15")
        );
    }

    #[test]
    fn two_rates_across_1_july_2025() {
        // 1200.00 due 15 Jun 2025, charged 20 Jul 2025.
        // 16..30 Jun: 15 days at 13.15 %: 1200 × 0.1315 × 15 / 365 = 2367 / 365 = 6.4849…
        // 1..20 Jul: 20 days at 2.15 + 10 = 12.15 %: 1200 × 0.1215 × 20 / 365 = 2916 / 365
        // = 7.9890…; sum = 5283 / 365 = 14.4739… → 14.47 (rounding each slice first would also
        // give 6.48 + 7.99 = 14.47, but the sum is rounded once).
        assert_eq!(
            interest("1200.00", d(2025, 6, 15), d(2025, 7, 20)),
            dec("14.47")
        );
    }

    #[test]
    fn whole_year_2023() {
        // 10000 due 31 Dec 2022, charged 31 Dec 2023.
        // H1 2023: 181 days at 12.50 %: 10000 × 12.5 × 181 / 36500 = 22625000 / 36500
        // H2 2023: 184 days at 14.00 %: 10000 × 14 × 184 / 36500 = 25760000 / 36500
        // sum = 48385000 / 36500 = 1325.6164… → 1325.62
        assert_eq!(
            interest("10000", d(2022, 12, 31), d(2023, 12, 31)),
            dec("1325.62")
        );
    }

    #[test]
    fn leap_year_still_divides_by_365() {
        // 36500 due 31 Jan 2024, charged 29 Feb 2024: 29 days at 14.50 % (H1 2024):
        // 36500 × 14.5 × 29 / 36500 = 420.50 exactly.
        assert_eq!(
            interest("36500", d(2024, 1, 31), d(2024, 2, 29)),
            dec("420.50")
        );
    }

    #[test]
    fn rounds_half_away_from_zero() {
        // 18.25 for one day at 10 % (H1 2022): 18.25 × 10 × 1 / 36500 = 0.005 → 0.01
        // (banker's rounding would give 0.00).
        assert_eq!(interest("18.25", d(2022, 3, 1), d(2022, 3, 2)), dec("0.01"));
    }

    #[test]
    fn nothing_before_the_day_after_due() {
        assert_eq!(
            interest("1000", d(2025, 1, 31), d(2025, 1, 31)),
            Decimal::ZERO
        );
        assert_eq!(
            interest("1000", d(2025, 1, 31), d(2025, 1, 1)),
            Decimal::ZERO
        );
        assert_eq!(interest("0", d(2025, 1, 31), d(2025, 6, 1)), Decimal::ZERO);
    }

    #[test]
    fn after_the_table_uses_the_last_rate() {
        // 36500 due 31 Dec 2026, charged 10 Jan 2027: 10 days at 12.15 % (last row, assumed
        // for 2027-H1) = 121.50.
        assert_eq!(
            interest("36500", d(2026, 12, 31), d(2027, 1, 10)),
            dec("121.50")
        );
        let detail = late_interest_detail(
            dec("36500"),
            d(2026, 12, 31),
            d(2027, 1, 10),
            RateTable::builtin(),
            PenaltyRate::Default,
        );
        assert_eq!(
            detail.map(|i| i.assumed),
            Ok(Some(AssumedRate {
                half_year: d(2027, 1, 1),
                from: d(2026, 7, 1)
            }))
        );
    }

    #[test]
    fn errors() {
        let table = RateTable::builtin();
        assert_eq!(
            late_interest(dec("100"), d(2011, 12, 1), d(2012, 1, 10), table),
            Err(InterestError::NoRate {
                date: d(2011, 12, 2),
                first: d(2012, 1, 1)
            })
        );
        assert_eq!(
            late_interest(dec("100"), d(2011, 12, 1), d(2012, 1, 10), table)
                .map_err(|e| e.to_string()),
            Err(
                "no late-payment rate for 2011-12-02 (half-year 2011-H2): the rate table starts \
                 on 2012-01-01"
                    .to_string()
            )
        );
        assert!(matches!(
            late_interest(dec("-1"), d(2025, 1, 1), d(2025, 2, 1), table),
            Err(InterestError::NegativeOutstanding { .. })
        ));
        assert!(matches!(
            late_interest(Decimal::MAX, d(2025, 1, 1), d(2025, 2, 1), table),
            Err(InterestError::Overflow { .. })
        ));
    }

    #[test]
    fn a_contractual_rate_replaces_the_default_one() {
        // L441-10 II: the contractual rate applies instead of ECB + 10 points.
        // 1000.00 due 31 Jan 2025, charged 2 Mar 2025: 30 days at 12 % (contract):
        // 1000 × 12 × 30 / 36500 = 360000 / 36500 = 9.8630… → 9.86 (the default 13.15 % gives
        // 10.81, `one_rate`).
        let table = RateTable::builtin();
        let at = |rate: &str, due, on| {
            late_interest_at(dec("1000.00"), due, on, table, Some(dec(rate))).expect("computable")
        };
        assert_eq!(at("12", d(2025, 1, 31), d(2025, 3, 2)), dec("9.86"));
        // Across 1 July 2025 the contract rate does not change: 35 days at 12 %:
        // 1000 × 12 × 35 / 36500 = 11.5068… → 11.51.
        assert_eq!(at("12", d(2025, 6, 15), d(2025, 7, 20)), dec("11.51"));
        // A contractual rate needs no table row: before 2012 it still computes. 10 days at
        // 10 %: 1000 × 10 × 10 / 36500 = 2.7397… → 2.74.
        assert_eq!(at("10", d(2011, 12, 1), d(2011, 12, 11)), dec("2.74"));
        // Without a contract, the default rate (same as `late_interest`).
        assert_eq!(
            late_interest_at(dec("1000.00"), d(2025, 1, 31), d(2025, 3, 2), table, None),
            Ok(dec("10.81"))
        );
    }

    #[test]
    fn a_contractual_rate_is_checked_against_each_half_years_floor() {
        // Legal rates (autres cas), built-in table: 2024-H1 5.07 (floor 15.21), 2024-H2 4.92
        // (14.76), 2025-H1 3.71 (11.13), 2025-H2 2.76 (8.28), 2026-H1 2.62 (7.86), 2026-H2
        // unknown. A contract at 12 %: below the floor in 2024-H1 and 2024-H2 only.
        let table = RateTable::builtin();
        let below: Vec<(String, Decimal)> = table
            .contract_warnings(dec("12"), d(2024, 3, 1))
            .into_iter()
            .map(|w| (half_year_name(w.half_year), w.floor))
            .collect();
        assert_eq!(
            below,
            [
                ("2024-H1".to_string(), dec("15.21")),
                ("2024-H2".to_string(), dec("14.76"))
            ]
        );
        assert!(table.contract_warnings(dec("12"), d(2025, 1, 1)).is_empty());
        // 8 %: below 2025-H1 (11.13) and 2025-H2 (8.28), not 2026-H1 (7.86).
        assert_eq!(table.contract_warnings(dec("8"), d(2025, 1, 1)).len(), 2);
        assert_eq!(table.latest_floor(), Some((d(2026, 1, 1), dec("7.86"))));
    }

    #[test]
    fn indemnity_is_forty_euros() {
        assert_eq!(recovery_indemnity(), dec("40"));
        assert_eq!(RECOVERY_INDEMNITY_EUR, Decimal::from(40));
    }

    #[test]
    fn parse_a_custom_table() {
        let table = RateTable::parse(
            "\u{feff}# comment\n\n half_year_start , ecb_rate_percent \r\n2020-07-01, 0\n\
             # inside\n2021-01-01,1.5\n",
        )
        .expect("valid");
        assert_eq!(table.rate_on(d(2020, 12, 31)), Some(dec("10")));
        assert_eq!(table.rate_on(d(2021, 3, 1)), Some(dec("11.5")));
        assert_eq!(table.last_half_year(), d(2021, 1, 1));
    }

    #[test]
    fn parse_errors_name_the_line() {
        let head = "half_year_start,ecb_rate_percent\n";
        let cases: [(String, &str); 8] = [
            ("date,rate\n".to_string(), "line 1: expected the header"),
            (
                format!("# c\n{head}2025-01-01\n"),
                "line 3: expected 2 fields",
            ),
            (
                format!("{head}2025-1-01,3\n"),
                "line 2: invalid half-year `2025-1-01`",
            ),
            (
                format!("{head}2025-02-30,3\n"),
                "line 2: invalid half-year `2025-02-30`",
            ),
            (
                format!("{head}2025-02-01,3\n"),
                "line 2: 2025-02-01 does not start",
            ),
            (
                format!("{head}2025-01-01,3,15\n"),
                "line 2: expected 2 fields",
            ),
            (
                format!("{head}2025-01-01,3\n2025-01-01,3\n"),
                "line 3: half-year 2025-01-01 follows 2025-01-01",
            ),
            (
                format!("{head}2025-01-01,3\n\n2026-01-01,3\n"),
                "line 4: half-year 2026-01-01 follows 2025-01-01; rows must be consecutive \
                 half-years, oldest first (expected 2025-07-01)",
            ),
        ];
        for (text, expected) in cases {
            let message = RateTable::parse(&text).expect_err(&text).to_string();
            assert!(message.starts_with(expected), "{message:?} for {text:?}");
        }
        for rate in ["3,15", "1e2", "", "3.1.5", "abc"] {
            let text = format!("{head}2025-01-01,{rate}\n");
            assert!(
                matches!(
                    RateTable::parse(&text),
                    Err(RateTableError::Rate { line: 2, .. })
                        | Err(RateTableError::FieldCount { line: 2, .. })
                ),
                "{rate}"
            );
        }
        assert_eq!(RateTable::parse(head), Err(RateTableError::Empty));
        assert_eq!(
            RateTable::parse("# only a comment\n"),
            Err(RateTableError::Empty)
        );
    }
}
