//! The text form of an invoice's installments, as the `installments` column of
//! `invoices.csv` and the `installments` field of a test invoice write it:
//! `"2026-01-31 30%; 2026-03-31 rest"` or `"2026-01-31 300; 2026-03-31 700"`.
//!
//! It owns reading that text ([`Plan`]) and turning it into amounts for one invoice
//! ([`Plan::resolve`]: percentages of the invoice's amount, rounded to the cent, `rest` for
//! what is left). It lives here, not in relance-core, so the checker can refuse a bad test
//! field before anything runs. It must not decide how installments are chased
//! (`relance_core::runtime::installments` does).

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

/// How much of the invoice one installment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// An amount in the invoice's currency.
    Amount(Decimal),
    /// A percentage of the invoice's amount.
    Percent(Decimal),
    /// What the other installments leave (the last installment only).
    Rest,
}

/// The installments as written: due dates in increasing order, each with its share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan(pub Vec<(NaiveDate, Share)>);

impl std::str::FromStr for Plan {
    type Err = String;

    /// Reads `DATE SHARE; DATE SHARE …` where SHARE is an amount (`300`, `300.50`), a
    /// percentage (`30%`) or `rest` (last only). At least two installments, dates strictly
    /// increasing.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let items: Vec<&str> = s
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        for (i, item) in items.iter().enumerate() {
            let bad = || {
                format!(
                    "`{item}` is not an installment: expected a date and an amount, a percentage or `rest` (`2026-01-31 30%`)"
                )
            };
            let (date, share) = item.split_once(char::is_whitespace).ok_or_else(bad)?;
            let due = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| bad())?;
            let share = share.trim();
            let share = if share == "rest" {
                if i + 1 != items.len() {
                    return Err("only the last installment may be `rest`".into());
                }
                Share::Rest
            } else if let Some(p) = share.strip_suffix('%') {
                Share::Percent(p.trim().parse().map_err(|_| bad())?)
            } else {
                Share::Amount(share.parse().map_err(|_| bad())?)
            };
            if matches!(share, Share::Amount(a) | Share::Percent(a) if a <= Decimal::ZERO) {
                return Err(format!("installment `{item}` is not above zero"));
            }
            if let Some((prev, _)) = parts.last()
                && *prev >= due
            {
                return Err(format!(
                    "installment dates must increase: {due} comes after {prev}"
                ));
            }
            parts.push((due, share));
        }
        if parts.len() < 2 {
            return Err(format!(
                "`{}` has fewer than two installments: an invoice with one due date has no installments",
                s.trim()
            ));
        }
        Ok(Plan(parts))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (due, share)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match share {
                Share::Amount(a) => write!(f, "{due} {a}")?,
                Share::Percent(p) => write!(f, "{due} {p}%")?,
                Share::Rest => write!(f, "{due} rest")?,
            }
        }
        Ok(())
    }
}

impl Plan {
    /// The last due date (the invoice's own `due` must be it).
    pub fn last_due(&self) -> NaiveDate {
        self.0.last().map_or(NaiveDate::MIN, |(d, _)| *d)
    }

    /// The installments of an invoice of `total`: percentages rounded to the cent (half away
    /// from zero), `rest` for what the others leave. The amounts must add up to `total`
    /// exactly; a plan of percentages only gives its last installment the rounding
    /// difference.
    pub fn resolve(&self, total: Decimal) -> Result<Vec<(NaiveDate, Decimal)>, String> {
        let too_big =
            || format!("the installments of `{self}` overflow the amounts Relance can hold");
        let n = self.0.len();
        let all_percent = self.0.iter().all(|(_, s)| matches!(s, Share::Percent(_)));
        if all_percent {
            // Checked: rust_decimal's `+` and `*` panic on overflow, and the shares are input.
            let sum = self
                .0
                .iter()
                .map(|(_, s)| match s {
                    Share::Percent(p) => *p,
                    _ => Decimal::ZERO,
                })
                .try_fold(Decimal::ZERO, |a, p| a.checked_add(p))
                .ok_or_else(too_big)?;
            if sum != Decimal::ONE_HUNDRED {
                return Err(format!("the percentages add up to {sum} %, not 100 %"));
            }
        }
        let mut out = Vec::with_capacity(n);
        let mut so_far = Decimal::ZERO;
        for (i, (due, share)) in self.0.iter().enumerate() {
            let last = i + 1 == n;
            let amount = match share {
                Share::Percent(_) if last && all_percent => {
                    total.checked_sub(so_far).ok_or_else(too_big)?
                }
                Share::Percent(p) => (total.checked_mul(*p).ok_or_else(too_big)?
                    / Decimal::ONE_HUNDRED)
                    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
                Share::Amount(a) => *a,
                Share::Rest => total.checked_sub(so_far).ok_or_else(too_big)?,
            };
            if amount <= Decimal::ZERO {
                return Err(format!(
                    "the installment of {due} comes to {amount}: the ones before it already make the invoice's {total}"
                ));
            }
            so_far = so_far.checked_add(amount).ok_or_else(too_big)?;
            out.push((*due, amount));
        }
        if so_far != total {
            return Err(format!(
                "the installments add up to {so_far}, not the invoice's amount {total}"
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// Regression (review): a crafted share overflowed rust_decimal's `*` and `+`, which
    /// panic, before any bound on the invoice's amount was checked.
    #[test]
    fn overflowing_shares_are_errors_not_panics() {
        let huge = "79228162514264337593543950335";
        for (text, total) in [
            (
                "2026-01-31 10000000000000000000000000000%; 2026-03-31 rest",
                "10",
            ),
            ("2026-01-31 90%; 2026-03-31 10%", huge),
            (
                &format!("2026-01-31 {huge}; 2026-02-28 {huge}; 2026-03-31 rest"),
                "10",
            ),
        ] {
            let got = text.parse::<Plan>().and_then(|p| p.resolve(dec(total)));
            assert!(got.is_err(), "{text} of {total}: {got:?}");
        }
    }

    #[test]
    fn resolves_amounts_percentages_and_rest() {
        // (plan, invoice amount, the installments as (due, amount), or part of the error)
        type Case<'a> = (&'a str, &'a str, Result<Vec<(&'a str, &'a str)>, &'a str>);
        let cases: &[Case] = &[
            (
                "2026-01-31 30%; 2026-03-31 70%",
                "1000",
                Ok(vec![("2026-01-31", "300"), ("2026-03-31", "700")]),
            ),
            // Thirds of 100: 33.33, 33.33, and the last takes the cent left.
            (
                "2026-01-31 33.33%; 2026-02-28 33.33%; 2026-03-31 33.34%",
                "100",
                Ok(vec![
                    ("2026-01-31", "33.33"),
                    ("2026-02-28", "33.33"),
                    ("2026-03-31", "33.34"),
                ]),
            ),
            (
                "2026-01-31 30%; 2026-03-31 rest",
                "999.99",
                Ok(vec![("2026-01-31", "300.00"), ("2026-03-31", "699.99")]),
            ),
            (
                "2026-01-31 250; 2026-03-31 750",
                "1000",
                Ok(vec![("2026-01-31", "250"), ("2026-03-31", "750")]),
            ),
            (
                "2026-01-31 250; 2026-03-31 700",
                "1000",
                Err("add up to 950"),
            ),
            ("2026-01-31 30%; 2026-03-31 60%", "1000", Err("90 %")),
            (
                "2026-01-31 1200; 2026-03-31 rest",
                "1000",
                Err("comes to -200"),
            ),
        ];
        for (text, total, want) in cases {
            let plan: Plan = text.parse().unwrap();
            let got = plan.resolve(dec(total));
            match (got, want) {
                (Ok(got), Ok(want)) => {
                    let want: Vec<_> = want.iter().map(|(a, b)| (d(a), dec(b))).collect();
                    assert_eq!(got, want, "{text}");
                }
                (Err(e), Err(w)) => assert!(e.contains(w), "{text}: {e}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn refuses_bad_text() {
        let cases = [
            ("2026-01-31 30%", "fewer than two"),
            ("2026-03-31 30%; 2026-01-31 70%", "must increase"),
            ("2026-01-31 rest; 2026-03-31 70%", "only the last"),
            ("2026-01-31; 2026-03-31 70%", "not an installment"),
            ("31/01/2026 30%; 2026-03-31 70%", "not an installment"),
            ("2026-01-31 0; 2026-03-31 70%", "not above zero"),
        ];
        for (text, want) in cases {
            let e = text.parse::<Plan>().unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn prints_what_it_reads() {
        let text = "2026-01-31 30%; 2026-02-28 100.50; 2026-03-31 rest";
        assert_eq!(text.parse::<Plan>().unwrap().to_string(), text);
    }
}
