//! Credit insurance as data: a customer's cover (insurer, status, limit), an insurer's policy
//! parameters (maximum extension of a due date, the deadlines to declare a threatened risk, to
//! stop the cover of new deliveries and to file a claim, and to declare a collective procedure
//! from its judgment's date: `procedure_declaration`), and the deadlines of one invoice
//! computed from its **original** due date.
//!
//! Plain data and date arithmetic only; a deadline or extension limit past the end of the
//! calendar saturates at its last day (`insurers.csv` accepts any count). Reading an insurers file is `relance-data`'s; a due
//! date extension (prorogation) is an event the transition keeps apart from the invoice's due
//! date (`Instance::extended_due`). This module must not know about cases or drivers, and it
//! never moves a date on file. See `docs/LAW.md`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::add_months;

/// Whether the insurer covers the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CoverStatus {
    /// A credit limit is granted: invoices within it are insured.
    Covered,
    /// The insurer refused or never granted a limit.
    NotCovered,
    /// The limit was withdrawn (*résiliation* of the limit): invoices delivered after the
    /// withdrawal are not insured.
    Cancelled,
}

impl CoverStatus {
    /// Every status, in documentation order.
    pub const ALL: [CoverStatus; 3] = [
        CoverStatus::Covered,
        CoverStatus::NotCovered,
        CoverStatus::Cancelled,
    ];

    /// The name conditions compare (`customer.credit_cover == "covered"`).
    pub fn as_str(self) -> &'static str {
        match self {
            CoverStatus::Covered => "covered",
            CoverStatus::NotCovered => "not_covered",
            CoverStatus::Cancelled => "cancelled",
        }
    }

    /// Parses `covered`, `not_covered` (or `not covered`) and `cancelled`, any case.
    pub fn parse(text: &str) -> Option<CoverStatus> {
        match text.trim().to_lowercase().replace([' ', '-'], "_").as_str() {
            "covered" => Some(CoverStatus::Covered),
            "not_covered" => Some(CoverStatus::NotCovered),
            "cancelled" | "canceled" => Some(CoverStatus::Cancelled),
            _ => None,
        }
    }
}

/// A customer's credit insurance cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditCover {
    /// The insurer's name, as the insurers file spells it (`allianz-trade`, `coface`).
    pub insurer: String,
    pub status: CoverStatus,
    /// The credit limit granted, in euros, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Decimal>,
    /// The policy's threatened-risk declaration deadline, when the customer's record carries
    /// it: the transition then creates the task to declare it (see [`InsurerDeadline`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threatened_risk: Option<ThreatenedRisk>,
    /// The policy's stop-cover deadline (the day from which the insurer no longer covers new
    /// deliveries to a customer with an invoice still unpaid), when the record carries it: the
    /// transition creates the task to stop deliveries or agree with the insurer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_cover: Option<InsurerDeadline>,
    /// The policy's claim-filing deadline (*demande d'indemnisation*), when the record carries
    /// it: the transition creates the task to file the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<InsurerDeadline>,
    /// The policy's deadline to declare a collective procedure opened against the customer,
    /// counted from the opening judgment's date, when the record carries it: the transition
    /// creates the task to declare it when the procedure freezes a case (see
    /// `runtime::transition::insurer`). A policy without it still gets the task, with no date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure_declaration: Option<Period>,
}

impl CreditCover {
    /// Whether the record carries any of its insurer's policy parameters (an insurer listed in
    /// `insurers.csv`, or deadlines given with the customer): only then does the transition
    /// create insurer tasks.
    pub fn has_policy(&self) -> bool {
        self.threatened_risk.is_some()
            || self.stop_cover.is_some()
            || self.claim.is_some()
            || self.procedure_declaration.is_some()
    }
}

/// One of the insurer's deadlines for an unpaid invoice of a covered customer (threatened
/// risk, *menace de sinistre*; stop-cover; claim filing), and how many days before it the
/// task is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InsurerDeadline {
    /// The deadline, counted from the invoice's ORIGINAL due date (an extension never moves it).
    pub after: Period,
    /// The task is created this many days before the deadline (0: on the deadline).
    #[serde(default)]
    pub notice_days: u32,
}

/// The threatened-risk declaration deadline (the first of the insurer deadlines to become
/// a task; the name is kept for the API's `credit_cover.threatened_risk`).
pub type ThreatenedRisk = InsurerDeadline;

impl InsurerDeadline {
    /// The declaration deadline of an invoice originally due on `original_due`, and the day its
    /// task is created.
    pub fn dates(self, original_due: NaiveDate) -> (NaiveDate, NaiveDate) {
        let by = self.after.after(original_due);
        let notice = chrono::Days::new(u64::from(self.notice_days));
        (by, by.checked_sub_days(notice).unwrap_or(NaiveDate::MIN))
    }
}

/// A deadline in days or in calendar months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Days(u32),
    Months(u32),
}

impl Period {
    /// `date` moved by this period (months keep the day number, clamped to the month's end).
    pub fn after(self, date: NaiveDate) -> NaiveDate {
        match self {
            // Saturates: a deadline past the calendar's end (any day count of a file is
            // accepted) is never reached rather than a panic.
            Period::Days(n) => date
                .checked_add_days(chrono::Days::new(u64::from(n)))
                .unwrap_or(NaiveDate::MAX),
            Period::Months(n) => add_months(date, i64::from(n)),
        }
    }

    /// Parses `30 days`, `1 day`, `6 months`, `1 month` (`jours`, `mois` too).
    pub fn parse(text: &str) -> Option<Period> {
        let mut words = text.split_whitespace();
        let n: u32 = words.next()?.parse().ok()?;
        let unit = words.next()?.to_lowercase();
        if words.next().is_some() {
            return None;
        }
        match unit.as_str() {
            "day" | "days" | "jour" | "jours" => Some(Period::Days(n)),
            "month" | "months" | "mois" => Some(Period::Months(n)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Days(1) => f.write_str("1 day"),
            Period::Days(n) => write!(f, "{n} days"),
            Period::Months(1) => f.write_str("1 month"),
            Period::Months(n) => write!(f, "{n} months"),
        }
    }
}

/// One insurer's policy parameters, all counted from the invoice's original due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsurerPolicy {
    pub insurer: String,
    /// The longest extension (prorogation) of a due date the policy allows, in days after the
    /// original due date.
    pub max_extension_days: u32,
    /// The threatened-risk declaration (*déclaration de menace de sinistre*) is due this long
    /// after the original due date when the invoice is still unpaid.
    pub threatened_risk: Period,
    /// The claim (*demande d'indemnisation*) must be filed within this long after the
    /// original due date.
    pub claim: Period,
    /// The task to declare the threatened risk is created this many days before its deadline.
    #[serde(default)]
    pub notice_days: u32,
    /// From this long after the original due date, an invoice still unpaid stops the cover of
    /// new deliveries to its customer (*arrêt de garantie*), when the policy says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_cover: Option<Period>,
    /// The stop-cover task is created this many days before its date.
    #[serde(default)]
    pub stop_cover_notice_days: u32,
    /// The claim-filing task is created this many days before its deadline.
    #[serde(default)]
    pub claim_notice_days: u32,
    /// The opening of a collective procedure against the customer is to be declared to the
    /// insurer within this long after the judgment, when the policy says (a parameter of each
    /// policy: the engine assumes none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure_declaration: Option<Period>,
}

/// An invoice's insurer deadlines and the extension check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadlines {
    pub original_due: NaiveDate,
    /// The extended due date, when an extension was granted.
    pub extended_due: Option<NaiveDate>,
    pub threatened_risk_by: NaiveDate,
    /// The day new deliveries stop being covered, when the policy has a stop-cover rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_cover_from: Option<NaiveDate>,
    pub claim_by: NaiveDate,
    /// Set when the extension goes past the policy's maximum.
    pub extension_warning: Option<String>,
}

impl InsurerPolicy {
    /// What a covered customer's record carries so that the transition creates the
    /// threatened-risk declaration task.
    pub fn threatened_risk_task(&self) -> ThreatenedRisk {
        ThreatenedRisk {
            after: self.threatened_risk,
            notice_days: self.notice_days,
        }
    }

    /// What a covered customer's record carries so that the transition creates the
    /// stop-cover task (`None` when the policy has no stop-cover rule).
    pub fn stop_cover_task(&self) -> Option<InsurerDeadline> {
        self.stop_cover.map(|after| InsurerDeadline {
            after,
            notice_days: self.stop_cover_notice_days,
        })
    }

    /// What a covered customer's record carries so that the transition creates the
    /// claim-filing task.
    pub fn claim_task(&self) -> InsurerDeadline {
        InsurerDeadline {
            after: self.claim,
            notice_days: self.claim_notice_days,
        }
    }

    /// The deadlines of an invoice due on `original_due`, possibly extended to `extended_due`:
    /// the insurer's deadlines run from the original due date whatever the extension.
    pub fn deadlines(&self, original_due: NaiveDate, extended_due: Option<NaiveDate>) -> Deadlines {
        // Saturating, as the other deadlines: a limit past the calendar's end lets any
        // extension through.
        let latest = original_due
            .checked_add_days(chrono::Days::new(u64::from(self.max_extension_days)))
            .unwrap_or(NaiveDate::MAX);
        let extension_warning = extended_due.filter(|e| *e > latest).map(|e| {
            format!(
                "extension to {e} is {} days after the original due date {original_due}: \
                 the {} policy allows {} days (until {latest})",
                (e - original_due).num_days(),
                self.insurer,
                self.max_extension_days
            )
        });
        Deadlines {
            original_due,
            extended_due,
            threatened_risk_by: self.threatened_risk.after(original_due),
            stop_cover_from: self.stop_cover.map(|p| p.after(original_due)),
            claim_by: self.claim.after(original_due),
            extension_warning,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    /// Review regression: `insurers.csv` accepts any day count, and a deadline past the
    /// calendar's end panicked the transition (`NaiveDate + Days`); it saturates now.
    #[test]
    fn a_deadline_past_the_calendars_end_saturates() {
        let due = d("2026-01-31");
        assert_eq!(Period::Days(u32::MAX).after(due), NaiveDate::MAX);
        assert_eq!(Period::Months(u32::MAX).after(due), NaiveDate::MAX);
        let far = InsurerDeadline {
            after: Period::Days(u32::MAX),
            notice_days: 15,
        };
        let (by, task) = far.dates(due);
        assert_eq!(by, NaiveDate::MAX);
        assert!(task < by);
        let long_notice = InsurerDeadline {
            after: Period::Days(30),
            notice_days: u32::MAX,
        };
        assert_eq!(long_notice.dates(due), (d("2026-03-02"), NaiveDate::MIN));
    }

    #[test]
    fn periods_and_statuses_parse() {
        assert_eq!(Period::parse("30 days"), Some(Period::Days(30)));
        assert_eq!(Period::parse("6 mois"), Some(Period::Months(6)));
        assert_eq!(Period::parse("1 month"), Some(Period::Months(1)));
        assert_eq!(Period::parse("six months"), None);
        assert_eq!(Period::parse("30 days late"), None);
        assert_eq!(
            CoverStatus::parse("Not covered"),
            Some(CoverStatus::NotCovered)
        );
        assert_eq!(
            CoverStatus::parse("cancelled"),
            Some(CoverStatus::Cancelled)
        );
        assert_eq!(CoverStatus::parse("maybe"), None);
    }

    /// Hand-computed: due 31 January 2026; a policy of 60 days' maximum extension, a
    /// threatened-risk declaration 60 days after the original due date (1 April 2026) and a
    /// claim within 6 months (31 July 2026). An extension to 15 March (43 days) is within the
    /// policy; to 15 April (74 days, past the 1 April limit) it is a warning, and the
    /// deadlines do not move with it.
    #[test]
    fn insurer_deadlines_run_from_the_original_due_date() {
        let policy = InsurerPolicy {
            insurer: "acme-credit".into(),
            max_extension_days: 60,
            threatened_risk: Period::Days(60),
            claim: Period::Months(6),
            notice_days: 0,
            stop_cover: None,
            stop_cover_notice_days: 0,
            claim_notice_days: 0,
            procedure_declaration: None,
        };
        let within = policy.deadlines(d("2026-01-31"), Some(d("2026-03-15")));
        assert_eq!(within.threatened_risk_by, d("2026-04-01"));
        assert_eq!(within.claim_by, d("2026-07-31"));
        assert_eq!(within.extension_warning, None);
        let beyond = policy.deadlines(d("2026-01-31"), Some(d("2026-04-15")));
        assert_eq!(
            (beyond.threatened_risk_by, beyond.claim_by),
            (d("2026-04-01"), d("2026-07-31")),
            "the extension does not move the insurer's deadlines"
        );
        assert_eq!(
            beyond.extension_warning.as_deref(),
            Some(
                "extension to 2026-04-15 is 74 days after the original due date 2026-01-31: \
                 the acme-credit policy allows 60 days (until 2026-04-01)"
            )
        );
        // Months clamp to the month's end: due 31 August + 6 months = 28 February.
        assert_eq!(
            policy.deadlines(d("2025-08-31"), None).claim_by,
            d("2026-02-28")
        );
    }
}
