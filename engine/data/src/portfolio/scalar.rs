//! Scalar cell and value parsers shared by the JSON and CSV readers: ISO dates, decimal amounts,
//! booleans and integers.
//!
//! Each parser returns the value or a human message describing what was expected (the caller
//! adds the place). This module must not know about records, files or validation rules.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// A yearly late-payment rate in percent, between 0 and 100 (an invoice's or a customer's
/// `late_interest_rate`, in every reader).
pub(crate) fn yearly_rate(rate: Decimal) -> Result<Decimal, String> {
    if rate < Decimal::ZERO || rate > Decimal::ONE_HUNDRED {
        return Err(format!(
            "a yearly rate in percent between 0 and 100, found {rate}"
        ));
    }
    Ok(rate)
}

/// A strict `YYYY-MM-DD` date (four-digit year, two-digit month and day, a real calendar day).
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let parsed = if shape_ok {
        let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
        match (number(0..4), number(5..7), number(8..10)) {
            (Some(year), Some(month), Some(day)) => i32::try_from(year)
                .ok()
                .and_then(|year| NaiveDate::from_ymd_opt(year, month, day)),
            _ => None,
        }
    } else {
        None
    };
    parsed.ok_or_else(|| format!("invalid date \"{text}\" (expected YYYY-MM-DD)"))
}

/// A decimal amount written with a `.` (`1200.50`, `-3`, `+7.5`). With `french_comma`, a value
/// without any `.` may use one `,` as its decimal separator (`1200,50`). No exponent, no
/// thousands separator, no currency sign.
pub(crate) fn parse_decimal(text: &str, french_comma: bool) -> Result<Decimal, String> {
    let error = || format!("invalid amount \"{text}\" (expected a decimal such as 1200.50)");
    let normalized;
    let mut candidate = text;
    if french_comma && !text.contains('.') && text.matches(',').count() == 1 {
        normalized = text.replace(',', ".");
        candidate = &normalized;
    }
    let digits = candidate
        .strip_prefix('-')
        .or_else(|| candidate.strip_prefix('+'))
        .unwrap_or(candidate);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let shape_ok = all_digits(whole)
        && fraction.is_none_or(|f| all_digits(f) && !f.is_empty())
        && !whole.is_empty();
    if !shape_ok {
        return Err(error());
    }
    let plain = candidate.strip_prefix('+').unwrap_or(candidate);
    plain.parse::<Decimal>().map_err(|_| error())
}

/// `true/false`, `yes/no`, `oui/non`, `1/0` (any case).
pub(crate) fn parse_bool(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "oui" | "1" => Ok(true),
        "false" | "no" | "non" | "0" => Ok(false),
        _ => Err(format!(
            "invalid boolean \"{text}\" (expected true/false, yes/no or 1/0)"
        )),
    }
}

/// A whole number (`20`, `-3`), no decimal point.
pub(crate) fn parse_integer(text: &str) -> Result<i64, String> {
    let plain = text.strip_prefix('+').unwrap_or(text);
    plain
        .parse::<i64>()
        .map_err(|_| format!("invalid integer \"{text}\" (expected a whole number such as 20)"))
}

/// A number of days, 0 or more (`30`).
pub(crate) fn parse_days(text: &str) -> Result<u32, String> {
    text.parse::<u32>().map_err(|_| {
        format!("invalid number of days \"{text}\" (expected a whole number such as 30)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().expect("valid test decimal")
    }

    #[test]
    fn dates_are_strict_iso() {
        assert_eq!(
            parse_date("2026-02-28"),
            Ok(NaiveDate::from_ymd_opt(2026, 2, 28).expect("ok"))
        );
        for bad in [
            "2026-02-30",
            "2026-2-28",
            "28/02/2026",
            "2026-02-28T00:00",
            "",
            "２026-02-28",
        ] {
            let message = parse_date(bad).expect_err(bad);
            assert_eq!(
                message,
                format!("invalid date \"{bad}\" (expected YYYY-MM-DD)")
            );
        }
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_decimal("1200.50", false), Ok(dec("1200.50")));
        assert_eq!(parse_decimal("-3", false), Ok(dec("-3")));
        assert_eq!(parse_decimal("+7.5", false), Ok(dec("7.5")));
        assert_eq!(parse_decimal("1200,50", true), Ok(dec("1200.50")));
        assert!(parse_decimal("1200,50", false).is_err());
        // A comma next to a dot is a thousands separator: refused rather than guessed.
        assert!(parse_decimal("1,200.50", true).is_err());
        for bad in [
            "", "1 200,50", "1e3", "12.", ".5", "EUR 12", "12 EUR", "--1", "1.2.3", "NaN",
        ] {
            assert_eq!(
                parse_decimal(bad, true),
                Err(format!(
                    "invalid amount \"{bad}\" (expected a decimal such as 1200.50)"
                )),
                "{bad}"
            );
        }
    }

    #[test]
    fn booleans_and_integers() {
        for yes in ["true", "TRUE", "yes", "1", "Oui"] {
            assert_eq!(parse_bool(yes), Ok(true));
        }
        for no in ["false", "No", "0", "non"] {
            assert_eq!(parse_bool(no), Ok(false));
        }
        assert!(parse_bool("maybe").is_err());
        assert_eq!(parse_integer("20"), Ok(20));
        assert_eq!(parse_integer("-3"), Ok(-3));
        assert!(parse_integer("20.5").is_err());
        assert_eq!(parse_days("45"), Ok(45));
        assert!(parse_days("-1").is_err());
    }
}
