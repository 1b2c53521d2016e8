//! The locale-aware filters templates use, in the message's language:
//!
//! | filter | French (`fr`) | English (`en`) |
//! | --- | --- | --- |
//! | `{{ amount \| money }}` | `1 761,59 €` | `€1,761.59` |
//! | `{{ date \| date }}` | `1er avril 2026` | `1 April 2026` |
//! | `{{ date \| date("short") }}` | `01/04/2026` | `01/04/2026` |
//! | `{{ rate \| number }}` | `12,15` | `12.15` |
//!
//! Digits, grouping, decimal separator and minus sign come from ICU4X (`icu_decimal`, CLDR
//! data): French groups thousands with a narrow no-break space (U+202F), as CLDR gives it.
//! Dates come from `icu_datetime` (CLDR's long and short Gregorian forms; English is British
//! English, day before month). Done here, because ICU4X's stable API lacks them: the currency
//! symbol and its place (French `1 761,59 €` with a no-break space U+00A0 before the symbol,
//! English `€1,761.59`; `€ $ £` for EUR, USD, GBP, the ISO code otherwise), and the French
//! ordinal `1er` for the first of the month. Amounts are rounded to the cent (half away from
//! zero) and always show two decimals. A language without CLDR data formats as CLDR's root.
//!
//! This module formats values; it must not pick the language (the caller gives the message's).

use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use icu_calendar::{Date, Gregorian};
use icu_datetime::FixedCalendarDateTimeFormatter;
use icu_datetime::fieldsets::{YM, YMD};
use icu_decimal::DecimalFormatter;
use icu_locale_core::Locale;
use rust_decimal::{Decimal, RoundingStrategy};

/// The ICU locale of a message language: `en` is read as British English (day month year),
/// any other tag as itself; an unreadable tag as the root locale.
pub fn locale(language: &str) -> Locale {
    let tag = if language == "en" { "en-GB" } else { language };
    Locale::try_from_str(tag).unwrap_or(Locale::UNKNOWN)
}

fn icu_decimal(d: Decimal) -> icu_decimal::input::Decimal {
    let mut out = icu_decimal::input::Decimal::from(d.mantissa());
    out.multiply_pow10(-(d.scale() as i16));
    out
}

/// A number in the language's digits and separators, with the decimals it has (`12,15`).
pub fn number(value: Decimal, language: &str) -> String {
    let f = DecimalFormatter::try_new(locale(language).into(), Default::default());
    match f {
        Ok(f) => f.format(&icu_decimal(value)).to_string(),
        Err(_) => value.to_string(),
    }
}

fn symbol(currency: &str) -> Option<&'static str> {
    match currency {
        "EUR" => Some("€"),
        "USD" => Some("$"),
        "GBP" => Some("£"),
        _ => None,
    }
}

/// An amount with its currency (`1 761,59 €`, `€1,761.59`), rounded to the cent.
pub fn money(value: Decimal, currency: &str, language: &str) -> String {
    let mut cents = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    cents.rescale(2);
    if language.starts_with("en") {
        // English puts the symbol before the digits and the sign before the symbol
        // (`-€12.00`); CLDR's English minus sign is the hyphen-minus.
        let minus = if cents.is_sign_negative() && !cents.is_zero() {
            "-"
        } else {
            ""
        };
        let digits = number(cents.abs(), language);
        match symbol(currency) {
            Some(sym) => format!("{minus}{sym}{digits}"),
            None => format!("{minus}{currency}\u{a0}{digits}"),
        }
    } else {
        // French and the others: the signed number as ICU writes it, then the symbol.
        let digits = number(cents, language);
        format!("{digits}\u{a0}{}", symbol(currency).unwrap_or(currency))
    }
}

/// The form of a date: `long` (`1er avril 2026`) or `short` (`01/04/2026`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateForm {
    Long,
    Short,
}

/// A calendar date in the language's long or short form.
pub fn date(value: NaiveDate, form: DateForm, language: &str) -> String {
    let Ok(day) = Date::try_new_gregorian(value.year(), value.month() as u8, value.day() as u8)
    else {
        return value.to_string();
    };
    let prefs = locale(language).into();
    let french_first = form == DateForm::Long && value.day() == 1 && language.starts_with("fr");
    let formatted = if french_first {
        // French writes the first of the month as an ordinal: `1er avril 2026`.
        FixedCalendarDateTimeFormatter::<Gregorian, _>::try_new(prefs, YM::long())
            .map(|f| format!("1er {}", f.format(&day)))
    } else {
        let fields = match form {
            DateForm::Long => YMD::long(),
            DateForm::Short => YMD::short(),
        };
        FixedCalendarDateTimeFormatter::<Gregorian, _>::try_new(prefs, fields)
            .map(|f| f.format(&day).to_string())
    };
    formatted.unwrap_or_else(|_| value.to_string())
}

/// A decimal from a template value: a decimal text (`"1200.00"`, how the context gives
/// amounts) or an integer.
pub(crate) fn decimal_of(value: &minijinja::Value) -> Option<Decimal> {
    if let Some(s) = value.as_str() {
        return Decimal::from_str(s.trim()).ok();
    }
    i64::try_from(value.clone()).ok().map(Decimal::from)
}

/// A date from a template value: an ISO date text (`"2026-04-01"`, how the context gives
/// dates).
pub(crate) fn date_of(value: &minijinja::Value) -> Option<NaiveDate> {
    value
        .as_str()
        .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
}

/// The filters [`register`] adds (besides minijinja's built-in ones): the one list the
/// checker's did-you-mean reads.
pub const NAMES: [&str; 3] = [MONEY, DATE, NUMBER];
const MONEY: &str = "money";
const DATE: &str = "date";
const NUMBER: &str = "number";

/// Registers `money`, `date` and `number` for messages in `language`.
pub fn register(env: &mut minijinja::Environment<'_>, language: &str) {
    use minijinja::{Error, ErrorKind, State, Value};
    fn invalid(filter: &str, value: &Value, want: &str) -> Error {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`{filter}` wants {want}, not `{value}`"),
        )
    }
    let lang = language.to_string();
    env.add_filter(
        MONEY,
        move |state: &State, value: Value, currency: Option<String>| -> Result<String, Error> {
            if value.is_undefined() || value.is_none() {
                return Ok(String::new());
            }
            let amount = decimal_of(&value).ok_or_else(|| invalid("money", &value, "an amount"))?;
            let currency = currency
                .or_else(|| {
                    state
                        .lookup("currency")
                        .and_then(|c| c.as_str().map(str::to_string))
                })
                .unwrap_or_else(|| "EUR".to_string());
            Ok(money(amount, &currency, &lang))
        },
    );
    let lang = language.to_string();
    env.add_filter(
        DATE,
        move |value: Value, form: Option<String>| -> Result<String, Error> {
            if value.is_undefined() || value.is_none() {
                return Ok(String::new());
            }
            let day = date_of(&value).ok_or_else(|| invalid("date", &value, "a date"))?;
            let form = match form.as_deref() {
                None | Some("long") => DateForm::Long,
                Some("short") => DateForm::Short,
                Some(other) => {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("`date` takes \"long\" or \"short\", not \"{other}\""),
                    ));
                }
            };
            Ok(date(day, form, &lang))
        },
    );
    let lang = language.to_string();
    env.add_filter(NUMBER, move |value: Value| -> Result<String, Error> {
        if value.is_undefined() || value.is_none() {
            return Ok(String::new());
        }
        let n = decimal_of(&value).ok_or_else(|| invalid("number", &value, "a number"))?;
        Ok(number(n, &lang))
    });
}
