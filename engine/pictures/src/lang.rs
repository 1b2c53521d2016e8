//! The two languages of the pictures (English, French) and the few locale rules they need:
//! choosing a language from a browser tag, and writing amounts and counts for people.
//!
//! It owns the words' choice between two strings, not the words themselves (each picture keeps
//! its own labels beside its drawing). It must not format money through floating point.

use rust_decimal::{Decimal, RoundingStrategy};

const HALF_UP: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// The language of a picture's labels, title and table headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    /// The language of a tag such as `fr`, `fr-FR` or an `Accept-Language` value (the first
    /// one listed wins); English for anything else.
    pub fn from_tag(tag: &str) -> Lang {
        let first = tag
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if first == "fr" || first.starts_with("fr-") || first.starts_with("fr;") {
            Lang::Fr
        } else {
            Lang::En
        }
    }

    /// `en` or `fr`, for the SVG's `xml:lang`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The English or the French text.
    pub(crate) fn pick(self, en: &'static str, fr: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }

    /// An amount with two decimals and grouped thousands: `12,345.60` or `12 345,60` (narrow
    /// no-break space), computed on the decimal itself (halves
    /// rounded away from zero, as people do).
    pub fn money(self, amount: Decimal) -> String {
        let text = format!("{:.2}", amount.round_dp_with_strategy(2, HALF_UP));
        self.grouped(&text)
    }

    /// A decimal with one decimal place (a number of days, a percentage).
    pub fn number(self, value: Decimal) -> String {
        let text = format!("{:.1}", value.round_dp_with_strategy(1, HALF_UP));
        self.grouped(&text)
    }

    /// A count with grouped thousands.
    pub fn count(self, n: u64) -> String {
        self.grouped(&n.to_string())
    }

    fn grouped(self, text: &str) -> String {
        let (sign, digits) = text.strip_prefix('-').map_or(("", text), |d| ("-", d));
        let (int, frac) = digits
            .split_once('.')
            .map_or((digits, None), |(i, f)| (i, Some(f)));
        let (sep, point) = match self {
            Lang::En => (",", "."),
            Lang::Fr => ("\u{202f}", ","),
        };
        let mut out = String::from(sign);
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push_str(sep);
            }
            out.push(c);
        }
        if let Some(f) = frac {
            out.push_str(point);
            out.push_str(f);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_read_in_each_language() {
        let cases = [
            (Lang::En, dec!(1234567.5), "1,234,567.50"),
            (Lang::Fr, dec!(1234567.5), "1\u{202f}234\u{202f}567,50"),
            (Lang::En, dec!(-950), "-950.00"),
            (Lang::Fr, dec!(0.005), "0,01"),
        ];
        for (lang, amount, want) in cases {
            assert_eq!(lang.money(amount), want, "{lang:?} {amount}");
        }
    }

    #[test]
    fn the_language_follows_the_tag() {
        for (tag, want) in [
            ("fr-FR,fr;q=0.9,en;q=0.8", Lang::Fr),
            ("fr", Lang::Fr),
            ("en-GB,fr;q=0.5", Lang::En),
            ("", Lang::En),
            ("frisian", Lang::En),
        ] {
            assert_eq!(Lang::from_tag(tag), want, "{tag}");
        }
    }
}
