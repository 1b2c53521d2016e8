//! Payment terms: due dates and the L441-10 caps, hand-computed.
//!
//! Sources: Code de commerce art. L441-10 I (Légifrance, version since ordonnance 2019-359):
//! "Le délai convenu entre les parties pour régler les sommes dues ne peut dépasser soixante
//! jours à compter de la date d'émission de la facture. Par dérogation, un délai maximal de
//! quarante-cinq jours fin de mois à compter de la date d'émission de la facture peut être
//! convenu [...]. En cas de facture périodique, au sens du 3 du I de l'article 289 du code
//! général des impôts, ce délai ne peut dépasser quarante-cinq jours à compter de la date
//! d'émission de la facture." The DGCCRF note on payment terms ("Délais de paiement entre
//! entreprises", economie.gouv.fr) accepts both ways of counting "45 jours fin de mois": adding
//! 45 days to the invoice date then going to the end of that month, or going to the end of the
//! invoice's month then adding 45 days.

use chrono::NaiveDate;
use relance_core::terms::{PaymentTerms, TermsBase, TermsError, TermsKind, check_due};

fn d(text: &str) -> NaiveDate {
    text.parse().expect("a test date")
}

fn terms(text: &str) -> PaymentTerms {
    text.parse().expect(text)
}

#[test]
fn due_dates_from_terms() {
    // (terms, issued, delivered_on, due): each computed by hand in the comment.
    let cases: &[(&str, &str, Option<&str>, &str)] = &[
        // 31 Jan 2025 + 30 days: 28 to 28 Feb, 2 more = 2 Mar.
        ("net 30", "2025-01-31", None, "2025-03-02"),
        // 2024 is a leap year: 31 Jan + 30 = 1 Mar (29 to 29 Feb, 1 more).
        ("net 30", "2024-01-31", None, "2024-03-01"),
        // 1 Jan 2025 + 60 = 2 Mar (30 to 31 Jan, 28 to 28 Feb, 2 more).
        ("NET 60", "2025-01-01", None, "2025-03-02"),
        // 45 days then end of month: 15 Jan + 45 = 1 Mar (16 to 31 Jan, 28, 1), end = 31 Mar.
        ("45 days end of month", "2025-01-15", None, "2025-03-31"),
        // End of month then 45 days: 31 Jan + 45 = 17 Mar (28 to 28 Feb, 17 more).
        ("end of month + 45 days", "2025-01-15", None, "2025-03-17"),
        (
            "end of month then 45 days",
            "2025-01-15",
            None,
            "2025-03-17",
        ),
        ("end of month+45 days", "2025-01-15", None, "2025-03-17"),
        // Invoice on the last day of the month: 31 Jan + 45 = 17 Mar, end = 31 Mar (both years).
        (
            "45 days then end of month",
            "2025-01-31",
            None,
            "2025-03-31",
        ),
        // 2024: 31 Jan + 45 = 16 Mar (29 to 29 Feb, 16 more), end = 31 Mar.
        ("45 days end of month", "2024-01-31", None, "2024-03-31"),
        ("end of month + 45 days", "2025-01-31", None, "2025-03-17"),
        // 2024: 31 Jan + 45 = 16 Mar.
        ("end of month + 45 days", "2024-01-31", None, "2024-03-16"),
        // Leap February: end of Feb 2024 is 29 Feb; + 45 = 14 Apr (31 to 31 Mar, 14 more).
        ("end of month + 45 days", "2024-02-10", None, "2024-04-14"),
        // 28 Feb 2025 (last day) + 45 = 14 Apr (31 to 31 Mar, 14), end = 30 Apr.
        ("45 days end of month", "2025-02-28", None, "2025-04-30"),
        ("end of month + 45 days", "2025-02-28", None, "2025-04-14"),
        // From delivery: 1 Mar + 60 = 30 Apr (30 to 31 Mar, 30 more).
        (
            "net 60 from delivery",
            "2025-03-10",
            Some("2025-03-01"),
            "2025-04-30",
        ),
        (
            "net 60 from invoice",
            "2025-03-10",
            Some("2025-03-01"),
            "2025-05-09",
        ),
        // Periodic (CGI 289-I-3): 31 Jan + 45 = 17 Mar.
        ("periodic 45", "2025-01-31", None, "2025-03-17"),
        ("net 0", "2025-01-31", None, "2025-01-31"),
    ];
    for &(text, issued, delivered, due) in cases {
        let t = terms(text);
        assert_eq!(
            t.due_date(d(issued), delivered.map(d)),
            Ok(d(due)),
            "{text} issued {issued}"
        );
        // The canonical form reads back to the same terms.
        assert_eq!(terms(&t.to_string()), t, "{text}");
    }
}

#[test]
fn the_two_end_of_month_methods_are_distinct_and_named() {
    assert_eq!(
        terms("45 days end of month"),
        PaymentTerms {
            kind: TermsKind::DaysThenEndOfMonth,
            days: 45,
            from: TermsBase::Invoice
        }
    );
    assert_eq!(
        terms("end of month + 30 days from delivery"),
        PaymentTerms {
            kind: TermsKind::EndOfMonthThenDays,
            days: 30,
            from: TermsBase::Delivery
        }
    );
    assert_eq!(
        terms("45 days end of month").to_string(),
        "45 days end of month"
    );
    assert_eq!(
        terms("end of month then 45 days").to_string(),
        "end of month + 45 days"
    );
}

#[test]
fn text_errors() {
    // The French form without its method is refused, naming both methods.
    let message = "45 jours fin de mois"
        .parse::<PaymentTerms>()
        .expect_err("ambiguous")
        .to_string();
    assert!(message.contains("`45 days end of month`"), "{message}");
    assert!(message.contains("`end of month + 45 days`"), "{message}");
    for bad in [
        "",
        "net",
        "net thirty",
        "net -5",
        "net 30 from shipping",
        "30",
        "45 days end of month please",
        "periodic 45 from delivery",
        "net 99999",
    ] {
        assert!(
            matches!(bad.parse::<PaymentTerms>(), Err(TermsError::Syntax { .. })),
            "{bad:?}"
        );
    }
    assert_eq!(
        terms("net 30 from delivery").due_date(d("2025-01-01"), None),
        Err(TermsError::NoDeliveryDate {
            terms: terms("net 30 from delivery")
        })
    );
}

#[test]
fn l441_10_caps() {
    // (terms, issued, delivered_on, latest lawful due, breach?)
    let cases: &[(&str, &str, Option<&str>, &str, bool)] = &[
        // 60 days from the invoice date: 1 Jan 2025 + 60 = 2 Mar.
        ("net 60", "2025-01-01", None, "2025-03-02", false),
        ("net 61", "2025-01-01", None, "2025-03-02", true),
        // 45 days end of month, days first: cap = max(15 Jan + 60 = 16 Mar, end(1 Mar) = 31 Mar).
        (
            "45 days end of month",
            "2025-01-15",
            None,
            "2025-03-31",
            false,
        ),
        // 60 days end of month still ends on 31 Mar (16 Mar, then end of month): lawful by date.
        (
            "60 days end of month",
            "2025-01-15",
            None,
            "2025-03-31",
            false,
        ),
        // 77 days: 2 Apr, end = 30 Apr > 31 Mar.
        (
            "77 days end of month",
            "2025-01-15",
            None,
            "2025-03-31",
            true,
        ),
        // End of month first: cap = max(16 Mar, 31 Jan + 45 = 17 Mar) = 17 Mar.
        (
            "end of month + 45 days",
            "2025-01-15",
            None,
            "2025-03-17",
            false,
        ),
        (
            "end of month + 46 days",
            "2025-01-15",
            None,
            "2025-03-17",
            true,
        ),
        // Periodic: 45 days. 31 Jan + 45 = 17 Mar; periodic 46 = 18 Mar.
        ("periodic 45", "2025-01-31", None, "2025-03-17", false),
        ("periodic 46", "2025-01-31", None, "2025-03-17", true),
        // From delivery, the cap still runs from the invoice date: delivered 20 Mar + 60 =
        // 19 May > 1 Mar + 60 = 30 Apr.
        (
            "net 60 from delivery",
            "2025-03-01",
            Some("2025-03-20"),
            "2025-04-30",
            true,
        ),
        // Delivered before the invoice: 20 Feb + 60 = 21 Apr <= 30 Apr.
        (
            "net 60 from delivery",
            "2025-03-01",
            Some("2025-02-20"),
            "2025-04-30",
            false,
        ),
    ];
    for &(text, issued, delivered, latest, breach) in cases {
        let t = terms(text);
        let due = t.due_date(d(issued), delivered.map(d)).expect(text);
        assert_eq!(t.latest_lawful_due(d(issued)).latest, d(latest), "{text}");
        assert_eq!(
            t.check(d(issued), due).is_some(),
            breach,
            "{text}: due {due}"
        );
    }
    // Judged under its own method: "45 days end of month" (31 Mar) would break the cap of the
    // other method (17 Mar), and is lawful under its own.
    let eom = terms("45 days end of month");
    let due = eom.due_date(d("2025-01-15"), None).expect("due");
    assert_eq!(
        check_due(d("2025-01-15"), due, Some(TermsKind::EndOfMonthThenDays)).map(|b| b.latest),
        Some(d("2025-03-17"))
    );
    assert_eq!(eom.check(d("2025-01-15"), due), None);
    // A due date written without terms: the most lenient rule, here end(1 Mar) = 31 Mar.
    assert_eq!(check_due(d("2025-01-15"), d("2025-03-31"), None), None);
    assert!(check_due(d("2025-01-15"), d("2025-04-01"), None).is_some());
}
