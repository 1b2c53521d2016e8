//! Collective procedures (Code de commerce, livre VI): the typed fact that a customer is under
//! *sauvegarde*, *redressement* or *liquidation judiciaire*, which of its invoices the
//! procedure freezes, and the deadline to declare a claim to the *mandataire judiciaire*.
//!
//! Plain data and date arithmetic only: what the case does under a procedure (it is held, no
//! message or charge goes out, a declaration task is created) is the transition function's
//! (`runtime::transition::insolvency`). This module must not know about cases, scenarios or
//! drivers. See `docs/LAW.md` for the articles.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, add_months};
use crate::domain::Invoice;

/// The kind of collective procedure opened by the judgment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Procedure {
    /// Procédure de sauvegarde (L620-1).
    Sauvegarde,
    /// Redressement judiciaire (L631-1).
    Redressement,
    /// Liquidation judiciaire (L640-1).
    Liquidation,
}

impl Procedure {
    /// Every procedure, in documentation order.
    pub const ALL: [Procedure; 3] = [
        Procedure::Sauvegarde,
        Procedure::Redressement,
        Procedure::Liquidation,
    ];

    /// The name conditions compare (`customer.insolvency == "redressement"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Procedure::Sauvegarde => "sauvegarde",
            Procedure::Redressement => "redressement",
            Procedure::Liquidation => "liquidation",
        }
    }

    /// The procedure's full French name, for records and task texts.
    pub fn label(self) -> &'static str {
        match self {
            Procedure::Sauvegarde => "procédure de sauvegarde",
            Procedure::Redressement => "redressement judiciaire",
            Procedure::Liquidation => "liquidation judiciaire",
        }
    }

    /// Parses `sauvegarde`, `redressement` or `liquidation` (any case; `redressement
    /// judiciaire`, `liquidation judiciaire` and `procédure de sauvegarde` too).
    pub fn parse(text: &str) -> Option<Procedure> {
        let t = text.trim().to_lowercase();
        let t = t
            .trim_start_matches("procédure de ")
            .trim_start_matches("procedure de ")
            .trim_end_matches(" judiciaire");
        match t {
            "sauvegarde" => Some(Procedure::Sauvegarde),
            "redressement" => Some(Procedure::Redressement),
            "liquidation" => Some(Procedure::Liquidation),
            _ => None,
        }
    }
}

/// A collective procedure opened against a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Insolvency {
    pub procedure: Procedure,
    /// The day of the opening judgment (it takes effect from 0 h that day).
    pub judgment_on: NaiveDate,
    /// The day the judgment was published in the BODACC, when known: the declaration
    /// deadline runs from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_on: Option<NaiveDate>,
}

impl Insolvency {
    /// Whether the procedure freezes this invoice: a claim born before the opening judgment
    /// (L622-7: no payment of prior claims; L622-21: no action). The claim is born with the
    /// delivery when the invoice gives its date, else on the invoice date; a claim of the
    /// judgment day itself is posterior (the judgment takes effect at 0 h on its date).
    pub fn freezes(&self, invoice: &Invoice) -> bool {
        invoice.delivered_on.unwrap_or(invoice.issued) < self.judgment_on
    }

    /// The last day to declare the claim, when the BODACC publication is known
    /// ([`declaration_deadline`]).
    pub fn declare_by(&self, calendar: Calendar) -> Option<NaiveDate> {
        self.published_on.map(|p| declaration_deadline(p, calendar))
    }
}

/// The last day to declare a claim to the *mandataire judiciaire*: two months after the
/// publication of the opening judgment in the BODACC (Code de commerce R622-24, for a creditor
/// established in metropolitan France; four for one established abroad, not applied here).
///
/// Months count as Code de procédure civile art. 641 says: the deadline ends on the day of the
/// last month with the same number, else on that month's last day (31 December + 2 months =
/// 28 or 29 February); art. 642: a deadline ending on a Saturday, Sunday or public holiday is
/// extended to the next working day (`calendar`'s business days).
pub fn declaration_deadline(published_on: NaiveDate, calendar: Calendar) -> NaiveDate {
    calendar.next_business_day_on_or_after(add_months(published_on, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn procedures_parse_from_their_short_and_full_names() {
        for (text, want) in [
            ("sauvegarde", Some(Procedure::Sauvegarde)),
            ("Procédure de sauvegarde", Some(Procedure::Sauvegarde)),
            ("redressement judiciaire", Some(Procedure::Redressement)),
            ("LIQUIDATION", Some(Procedure::Liquidation)),
            ("faillite", None),
        ] {
            assert_eq!(Procedure::parse(text), want, "{text}");
        }
    }

    /// R622-24 Code de commerce (two months from the BODACC publication), with CPC 641 (same
    /// day number, else the month's last day) and 642 (next working day). Weekdays checked
    /// against the calendar: 20 May 2026 is a Wednesday, 28 February 2026 a Saturday,
    /// 14 July 2026 a Tuesday and a public holiday.
    #[test]
    fn the_declaration_deadline_is_two_months_after_the_bodacc_publication() {
        let fr = Calendar::french();
        for (published, want, why) in [
            ("2026-03-20", "2026-05-20", "same day number, a Wednesday"),
            (
                "2025-12-31",
                "2026-03-02",
                "no 31 February: 28 February, a Saturday, so Monday 2 March",
            ),
            ("2026-05-14", "2026-07-15", "14 July is a public holiday"),
            ("2026-04-30", "2026-06-30", "30 June, a Tuesday"),
        ] {
            assert_eq!(
                declaration_deadline(d(published), fr),
                d(want),
                "published {published}: {why}"
            );
        }
    }
}
