//! Payment terms as data (Code de commerce L441-10 I; CGI art. 289-I-3 for periodic invoices):
//! the typed [`PaymentTerms`] of a customer or an invoice, their compact text form, the due
//! date they give, and the latest due date the law allows for them.
//!
//! This module owns the grammar of the text form, the due-date arithmetic (month ends through
//! [`crate::calendar::end_of_month`]) and the legal caps. It must not read files, decide which
//! terms apply to an invoice (the importer does: the invoice's terms override the customer's),
//! nor change a due date written in a file: a cap is only ever *reported*.
//!
//! # Text form
//!
//! Words are separated by spaces and case-insensitive:
//!
//! - `net N` — N days after the base date;
//! - `N days end of month` (or `N days then end of month`) — N days after the base date, then
//!   the end of that month;
//! - `end of month + N days` (or `end of month then N days`) — the end of the base date's
//!   month, then N days;
//! - `periodic N` — a periodic invoice (CGI art. 289-I-3), N days after the invoice date;
//! - any of the first three may end with `from invoice` (the default) or `from delivery` (the
//!   date of receipt of the goods or services, the invoice's `delivered_on`).
//!
//! The French `45 jours fin de mois` is refused: it does not say which of the two lawful
//! methods applies, and the engine never picks one silently.

use std::fmt;
use std::str::FromStr;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::calendar::end_of_month;

/// How the due date is reached from the base date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TermsKind {
    /// Base date + N days.
    Net,
    /// Base date + N days, then the end of that month.
    DaysThenEndOfMonth,
    /// The end of the base date's month, then + N days.
    EndOfMonthThenDays,
    /// A periodic invoice (CGI art. 289-I-3): invoice date + N days, capped at 45 days.
    Periodic,
}

/// Which date the terms run from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TermsBase {
    /// The invoice date (`issued`).
    #[default]
    Invoice,
    /// The date the goods or services were received (`delivered_on`).
    Delivery,
}

/// Payment terms: a method, a number of days, and the date they run from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaymentTerms {
    pub kind: TermsKind,
    pub days: u32,
    pub from: TermsBase,
}

/// Why terms could not be read or applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TermsError {
    #[error(
        "invalid payment terms \"{text}\": {reason} (expected e.g. `net 30`, `45 days end of \
         month`, `end of month + 45 days`, `net 60 from delivery` or `periodic 45`)"
    )]
    Syntax { text: String, reason: String },
    #[error(
        "payment terms \"{text}\" do not say which method applies: write `{days} days end of \
         month` ({days} days, then the end of that month) or `end of month + {days} days` (the \
         end of the invoice's month, then {days} days); both are lawful and give different dates"
    )]
    AmbiguousEndOfMonth { text: String, days: u32 },
    #[error("the terms `{terms}` run from delivery but the invoice has no delivered_on date")]
    NoDeliveryDate { terms: PaymentTerms },
    #[error("the due date of `{terms}` is past the end of the calendar")]
    OutOfRange { terms: PaymentTerms },
}

/// The L441-10 cap a due date exceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapBreach {
    /// The latest lawful due date for this invoice date and kind of terms.
    pub latest: NaiveDate,
    /// The rule, for messages: `60 days from the invoice date (L441-10 I)` …
    pub rule: &'static str,
}

impl fmt::Display for CapBreach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the latest lawful due date is {} ({})",
            self.latest, self.rule
        )
    }
}

const RULE_NET: &str = "60 days from the invoice date, Code de commerce L441-10 I";
const RULE_EOM: &str =
    "60 days, or 45 days end of month, from the invoice date, Code de commerce L441-10 I";
const RULE_PERIODIC: &str =
    "45 days from the invoice date for a periodic invoice, Code de commerce L441-10 I";

impl PaymentTerms {
    /// `net N` from the invoice date (what the legacy `payment_terms_days` column means).
    pub const fn net(days: u32) -> PaymentTerms {
        PaymentTerms {
            kind: TermsKind::Net,
            days,
            from: TermsBase::Invoice,
        }
    }

    /// The due date these terms give an invoice issued on `issued` (and delivered on
    /// `delivered_on`, needed when the terms run from delivery).
    pub fn due_date(
        &self,
        issued: NaiveDate,
        delivered_on: Option<NaiveDate>,
    ) -> Result<NaiveDate, TermsError> {
        let base = match self.from {
            TermsBase::Invoice => issued,
            TermsBase::Delivery => {
                delivered_on.ok_or(TermsError::NoDeliveryDate { terms: *self })?
            }
        };
        let plus = |date: NaiveDate| {
            date.checked_add_days(Days::new(u64::from(self.days)))
                .ok_or(TermsError::OutOfRange { terms: *self })
        };
        match self.kind {
            TermsKind::Net | TermsKind::Periodic => plus(base),
            TermsKind::DaysThenEndOfMonth => plus(base).map(end_of_month),
            TermsKind::EndOfMonthThenDays => plus(end_of_month(base)),
        }
    }

    /// The latest due date L441-10 I allows an invoice issued on `issued` under terms of this
    /// kind (always counted from the invoice date, whatever the terms run from).
    pub fn latest_lawful_due(&self, issued: NaiveDate) -> CapBreach {
        latest_lawful_due(issued, Some(self.kind))
    }

    /// The cap `due` exceeds, if any, for an invoice issued on `issued` under these terms.
    pub fn check(&self, issued: NaiveDate, due: NaiveDate) -> Option<CapBreach> {
        check_due(issued, due, Some(self.kind))
    }
}

/// The latest lawful due date for an invoice issued on `issued` (in [`CapBreach::latest`], with
/// its rule). `kind` None (a due date written without terms) allows the most lenient of the
/// non-periodic rules: 60 days, or 45 days end of month under either method.
///
/// - net terms: invoice date + 60 days;
/// - `N days end of month`: the later of + 60 days and (invoice date + 45 days, then end of
///   month);
/// - `end of month + N days`: the later of + 60 days and (end of the invoice's month + 45 days);
/// - periodic: invoice date + 45 days.
pub fn latest_lawful_due(issued: NaiveDate, kind: Option<TermsKind>) -> CapBreach {
    let plus = |date: NaiveDate, days: u64| {
        date.checked_add_days(Days::new(days))
            .unwrap_or(NaiveDate::MAX)
    };
    let sixty = plus(issued, 60);
    let days_then_eom = end_of_month(plus(issued, 45));
    let eom_then_days = plus(end_of_month(issued), 45);
    let (latest, rule) = match kind {
        Some(TermsKind::Net) => (sixty, RULE_NET),
        Some(TermsKind::Periodic) => (plus(issued, 45), RULE_PERIODIC),
        Some(TermsKind::DaysThenEndOfMonth) => (sixty.max(days_then_eom), RULE_EOM),
        Some(TermsKind::EndOfMonthThenDays) => (sixty.max(eom_then_days), RULE_EOM),
        None => (sixty.max(days_then_eom).max(eom_then_days), RULE_EOM),
    };
    CapBreach { latest, rule }
}

/// The cap `due` exceeds for an invoice issued on `issued`, if any (see [`latest_lawful_due`]).
pub fn check_due(issued: NaiveDate, due: NaiveDate, kind: Option<TermsKind>) -> Option<CapBreach> {
    let cap = latest_lawful_due(issued, kind);
    (due > cap.latest).then_some(cap)
}

impl fmt::Display for PaymentTerms {
    /// The canonical text form, which [`PaymentTerms::from_str`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.days;
        match self.kind {
            TermsKind::Net => write!(f, "net {n}")?,
            TermsKind::DaysThenEndOfMonth => write!(f, "{n} days end of month")?,
            TermsKind::EndOfMonthThenDays => write!(f, "end of month + {n} days")?,
            TermsKind::Periodic => write!(f, "periodic {n}")?,
        }
        if self.from == TermsBase::Delivery {
            f.write_str(" from delivery")?;
        }
        Ok(())
    }
}

impl FromStr for PaymentTerms {
    type Err = TermsError;

    fn from_str(text: &str) -> Result<PaymentTerms, TermsError> {
        let lower = text.trim().to_lowercase().replace('+', " + ");
        let mut words: Vec<&str> = lower.split_whitespace().collect();
        let syntax = |reason: &str| TermsError::Syntax {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let days = |word: &str| {
            word.parse::<u32>()
                .ok()
                .filter(|d| *d <= 3650)
                .ok_or_else(|| syntax(&format!("`{word}` is not a number of days (0 to 3650)")))
        };
        if lower.contains("fin de mois") {
            let n = words.iter().find_map(|w| w.parse::<u32>().ok());
            return Err(match n {
                Some(days) => TermsError::AmbiguousEndOfMonth {
                    text: text.to_string(),
                    days,
                },
                None => syntax("the method of a `fin de mois` term must be stated"),
            });
        }
        let mut from = TermsBase::Invoice;
        if let [rest @ .., "from", base] = &words[..] {
            from = match *base {
                "invoice" => TermsBase::Invoice,
                "delivery" => TermsBase::Delivery,
                other => {
                    return Err(syntax(&format!(
                        "`from {other}`: terms run `from invoice` or `from delivery`"
                    )));
                }
            };
            words = rest.to_vec();
        }
        let (kind, n) = match words[..] {
            ["net", n] => (TermsKind::Net, days(n)?),
            ["periodic", n] => (TermsKind::Periodic, days(n)?),
            [n, "days", "end", "of", "month"] | [n, "days", "then", "end", "of", "month"] => {
                (TermsKind::DaysThenEndOfMonth, days(n)?)
            }
            ["end", "of", "month", "+" | "then", n, "days"] => {
                (TermsKind::EndOfMonthThenDays, days(n)?)
            }
            [n, "days", "end", "of", "month", ..] | ["end", "of", "month", .., n, "days"] => {
                days(n)?;
                return Err(syntax("unexpected words"));
            }
            [] => return Err(syntax("empty")),
            _ => return Err(syntax("unknown form")),
        };
        if kind == TermsKind::Periodic && from == TermsBase::Delivery {
            return Err(syntax("periodic terms run from the invoice date"));
        }
        Ok(PaymentTerms {
            kind,
            days: n,
            from,
        })
    }
}

impl Serialize for PaymentTerms {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PaymentTerms {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PaymentTerms, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
