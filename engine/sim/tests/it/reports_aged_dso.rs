//! The aged balance and the DSO family on a small portfolio whose figures are worked out by
//! hand in the comments (see `docs/REPORTS.md` for the formulas).

use std::path::Path;

use chrono::NaiveDate;
use relance_sim::reports::aged::aged_balance;
use relance_sim::reports::dso::{DsoOptions, MonthConvention, cei_over_months, dso};
use rust_decimal::Decimal;

fn portfolio() -> relance_core::domain::Portfolio {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/tests-data/import/reports");
    relance_data::portfolio::load_dir(&dir).expect("fixture")
}

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

#[test]
fn aged_balance_by_customer_with_disputes_apart() {
    let r = aged_balance(&portfolio(), d("2026-04-30"));
    assert_eq!(
        r.rows.len(),
        2,
        "B1 paid, B3 written off, B4 paid: B keeps only B2"
    );
    let a = &r.rows[0].buckets;
    // A1: 1000 - 400 paid, 89 days late; A2 not due; A3 30 days late, 100 disputed.
    assert_eq!(
        (
            a.not_due,
            a.days_1_30,
            a.days_31_60,
            a.days_61_90,
            a.over_90,
            a.disputed,
            a.total
        ),
        (
            dec("500"),
            dec("200"),
            dec("0"),
            dec("600"),
            dec("0"),
            dec("100"),
            dec("1400")
        )
    );
    let b = &r.rows[1].buckets;
    assert_eq!((b.days_31_60, b.total), (dec("800"), dec("800")));
    let total = &r.totals["EUR"];
    assert_eq!(total.total, dec("2200"));
    assert_eq!(total.disputed, dec("100"));
    let csv = r.to_csv();
    // A3 (300 open, 100 of it disputed) is the one disputed invoice: 1400 - 300 = 1100.
    assert!(
        csv.contains(
            "A,Alpha SA,EUR,3,500.00,200.00,0,600.00,0,100.00,1400.00,1,300.00,1100.00,0,0.00,\n"
        ),
        "{csv}"
    );
    assert!(csv.contains("TOTAL,,EUR,4,"), "{csv}");
    assert!(r.to_text().contains("A (Alpha SA)"));
    // Before anything was issued, nothing is owed.
    assert!(aged_balance(&portfolio(), d("2025-11-30")).rows.is_empty());
}

#[test]
fn dso_countback_best_possible_add_and_cei() {
    let r = dso(&portfolio(), d("2026-04-30"), &DsoOptions::default());
    // Period 2026-01-31..2026-04-30 (90 days): sales A2 500 + A3 300 + B2 800 + B4 400.
    assert_eq!(r.sales, dec("2000"));
    assert_eq!(r.receivables, dec("2200"));
    assert_eq!(r.current_receivables, dec("500"));
    // At 2026-01-30: A1 1000, B1 2000, B3 100.
    assert_eq!(r.beginning_receivables, dec("3100"));
    assert_eq!(r.simple_dso, Some(dec("99.0")), "2200 / 2000 x 90");
    assert_eq!(r.best_possible_dso, Some(dec("22.5")), "500 / 2000 x 90");
    assert_eq!(r.average_days_delinquent, Some(dec("76.5")));
    // April 500 (30 d) + March 700 (31 d) + February 800 (28 d) + 200/1100 of January (31 d).
    assert_eq!(r.countback_dso, Some(dec("94.6")));
    assert_eq!(r.countback.len(), 4);
    // (3100 + 2000 - 2200) / (3100 + 2000 - 500) = 63.04 %
    assert_eq!(r.cei, Some(dec("63.0")));
    assert!(!r.countback_truncated);
    let empty = dso(
        &relance_core::domain::Portfolio::default(),
        d("2026-04-30"),
        &DsoOptions::default(),
    );
    assert_eq!(
        (empty.simple_dso, empty.countback_dso, empty.cei),
        (None, None, None)
    );
}

/// The aged balance discloses what it must not hide (article D441-6 IV Code de commerce, as
/// modified by décret n° 2021-211: the number and total amount of the disputed invoices left
/// out; credit notes and customer credits never silently netted). Figures by hand, at
/// 2026-04-30:
/// - C1 1000, due 31 Mar (30 days late), credit note 200 on 10 Apr: 800 in 1-30, credit notes 200.
/// - C2 500, due 3 Mar (58 days late), dispute of 100 opened 1 Apr: 400 in 31-60, 100
///   disputed; one disputed invoice of 500.
/// - C3 300 paid 350: settled, 50 unallocated. C4 200 paid 200, then a credit note of 80: 80
///   unallocated. C: total 1300, excluding disputed invoices 800, unallocated 130.
/// - D1 400 paid 450: nothing owed, but the line stays with 50 unallocated (never dropped).
#[test]
fn aged_balance_discloses_disputed_invoices_credit_notes_and_unallocated_credits() {
    use relance_core::domain::{Customer, Event, EventKind, Invoice, Portfolio};
    use relance_sim::reports::aged::Disclosure;
    let mut p = Portfolio::default();
    p.customers.push(Customer::new("C"));
    p.customers.push(Customer::new("D"));
    for (id, customer, amount, issued, due) in [
        ("C1", "C", "1000", "2026-03-01", "2026-03-31"),
        ("C2", "C", "500", "2026-02-01", "2026-03-03"),
        ("C3", "C", "300", "2026-01-01", "2026-01-31"),
        ("C4", "C", "200", "2026-01-15", "2026-02-14"),
        ("D1", "D", "400", "2026-03-01", "2026-03-31"),
    ] {
        p.invoices.push(Invoice {
            id: id.into(),
            customer: customer.into(),
            amount: dec(amount),
            currency: "EUR".into(),
            issued: d(issued),
            due: d(due),
            outstanding: None,
            po_number: None,
            payment_terms: None,
            delivered_on: None,
            dunning: Default::default(),
            payment_means: None,
            late_interest_rate: None,
            installments: Vec::new(),
        });
    }
    let pay = |date: &str, invoice: &str, amount: &str| Event {
        date: d(date),
        kind: EventKind::Payment {
            invoice: invoice.into(),
            amount: dec(amount),
            reference: None,
            details: Default::default(),
        },
    };
    let note = |date: &str, invoice: &str, amount: &str| Event {
        date: d(date),
        kind: EventKind::CreditNote {
            invoice: invoice.into(),
            amount: dec(amount),
        },
    };
    p.events = vec![
        note("2026-04-10", "C1", "200"),
        Event {
            date: d("2026-04-01"),
            kind: EventKind::DisputeOpened {
                invoice: "C2".into(),
                code: "pricing".into(),
                amount: Some(dec("100")),
                target_date: None,
                comment: None,
            },
        },
        pay("2026-02-10", "C3", "350"),
        pay("2026-02-20", "C4", "200"),
        note("2026-03-01", "C4", "80"),
        pay("2026-03-20", "D1", "450"),
        // After the report date: not known yet.
        pay("2026-05-02", "C1", "800"),
    ];
    let r = aged_balance(&p, d("2026-04-30"));
    let disclosure =
        |n: usize, amount: &str, excl: &str, notes: &str, unallocated: &str| Disclosure {
            disputed_invoices: n,
            disputed_invoices_amount: dec(amount),
            total_excluding_disputed: dec(excl),
            credit_notes: dec(notes),
            unallocated_credits: dec(unallocated),
        };
    let cases = [
        // (customer, open invoices, total, disclosure)
        ("C", 2, "1300", disclosure(1, "500", "800", "200", "130")),
        ("D", 0, "0", disclosure(0, "0", "0", "0", "50")),
    ];
    assert_eq!(r.rows.len(), cases.len());
    for (row, (customer, invoices, total, expected)) in r.rows.iter().zip(cases) {
        assert_eq!(row.customer, customer);
        assert_eq!(
            (row.invoices, row.buckets.total),
            (invoices, dec(total)),
            "{customer}"
        );
        assert_eq!(row.disclosure, expected, "{customer}");
    }
    let c = &r.rows[0].buckets;
    assert_eq!(
        (c.days_1_30, c.days_31_60, c.disputed),
        (dec("800"), dec("400"), dec("100"))
    );
    assert_eq!(
        r.disclosure_totals["EUR"],
        disclosure(1, "500", "800", "200", "180")
    );
    assert_eq!(r.totals["EUR"].total, dec("1300"), "credits not netted");
    let csv = r.to_csv();
    assert!(
        csv.contains(",total_excluding_disputed,credit_notes,unallocated_credits,procedure\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\nD,,EUR,0,0,0,0,0,0,0,0,0,0,0,0,50,\n"),
        "{csv}"
    );
    assert!(csv.contains("\nTOTAL,,EUR,2,"), "{csv}");
    assert!(csv.ends_with(",1,500,800,200,180,\n"), "{csv}");
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["rows"][0]["unallocated_credits"], "130", "{json}");
    assert_eq!(
        json["disclosure_totals"]["EUR"]["disputed_invoices"], 1,
        "{json}"
    );
    let text = r.to_text();
    assert!(text.contains("unallocated credits"), "{text}");
    assert!(text.contains("article D441-6 IV"), "{text}");
}

/// The countback under each month convention, on the report fixture at 2026-04-30: receivables
/// 2200 consume April 500, March 700 and February 800, then 200 of January's 1100. Calendar
/// months: 30 + 31 + 28 + 200/1100 × 31 = 94.64 → 94.6 days. 30-day months: 30 + 30 + 30 +
/// 200/1100 × 30 = 95.45 → 95.5 days.
#[test]
fn countback_states_its_month_convention() {
    let cases = [
        (
            MonthConvention::Calendar,
            "94.6",
            "calendar",
            "calendar months",
        ),
        (
            MonthConvention::ThirtyDay,
            "95.5",
            "30-day",
            "30-day months",
        ),
    ];
    for (convention, expected, csv_name, text_label) in cases {
        let options = DsoOptions {
            month_convention: convention,
            ..DsoOptions::default()
        };
        let r = dso(&portfolio(), d("2026-04-30"), &options);
        assert_eq!(r.countback_dso, Some(dec(expected)), "{convention:?}");
        assert_eq!(r.countback_months, convention);
        assert!(
            r.to_csv()
                .contains(&format!("\ncountback_months,{csv_name}\n")),
            "{}",
            r.to_csv()
        );
        assert!(r.to_text().contains(text_label), "{}", r.to_text());
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["countback_months"], csv_name);
    }
    assert_eq!(
        DsoOptions::default().month_convention,
        MonthConvention::Calendar,
        "the default stays calendar months"
    );
}

/// The CEI over 3 calendar months (February to April 2026) on the report fixture, by hand:
///
/// | month | beginning | sales | ending | ending current | BR+S−ETR | BR+S−ECR |
/// | Feb | 3100 (A1 1000, B1 2000, B3 100) | 800 (B2) | 1900 (B1 paid 15 Feb) | 800 (B2, due 3 Mar) | 2000 | 3100 |
/// | Mar | 1900 | 700 (A3, B4) | 2100 (A1 600, A3 300, B2 800, B4 400; B3 written off) | 700 (A3 due 31 Mar, B4) | 500 | 1900 |
/// | Apr | 2100 | 500 (A2) | 2200 | 500 (A2) | 400 | 2100 |
///
/// Monthly CEIs 2000/3100 = 64.5 %, 500/1900 = 26.3 %, 400/2100 = 19.0 %; their sum form
/// 2900/7100 = 40.8 %. The Credit Research Foundation's form: (3100 + 2000/3 − 2200) /
/// (3100 + 2000/3 − 500) = 4700/9800 = 47.96 → 48.0 %.
#[test]
fn cei_over_three_months_crf_and_monthly() {
    let c = cei_over_months(&portfolio(), d("2026-04-30"), "EUR", 3);
    let rows: Vec<_> = c
        .months
        .iter()
        .map(|m| {
            (
                m.from.to_string(),
                m.to.to_string(),
                m.beginning_receivables,
                m.sales,
                m.ending_receivables,
                m.ending_current_receivables,
                m.cei,
            )
        })
        .collect();
    let expected = [
        (
            "2026-02-01",
            "2026-02-28",
            "3100",
            "800",
            "1900",
            "800",
            "64.5",
        ),
        (
            "2026-03-01",
            "2026-03-31",
            "1900",
            "700",
            "2100",
            "700",
            "26.3",
        ),
        (
            "2026-04-01",
            "2026-04-30",
            "2100",
            "500",
            "2200",
            "500",
            "19.0",
        ),
    ]
    .map(|(f, t, b, s, e, ec, cei)| {
        (
            f.to_string(),
            t.to_string(),
            dec(b),
            dec(s),
            dec(e),
            dec(ec),
            Some(dec(cei)),
        )
    });
    assert_eq!(rows, expected);
    assert_eq!(c.months_count, 3);
    assert_eq!(c.monthly_sum, Some(dec("40.8")));
    assert_eq!(c.crf, Some(dec("48.0")));
    // The report carries it beside the one-period CEI (63.0 %, unchanged).
    let r = dso(&portfolio(), d("2026-04-30"), &DsoOptions::default());
    assert_eq!(r.cei, Some(dec("63.0")));
    assert_eq!(r.cei_over_months.as_ref(), Some(&c));
    assert!(
        r.to_csv()
            .contains("\ncei_crf,48.0\ncei_monthly_sum,40.8\n"),
        "{}",
        r.to_csv()
    );
    let off = dso(
        &portfolio(),
        d("2026-04-30"),
        &DsoOptions {
            cei_months: 0,
            ..DsoOptions::default()
        },
    );
    assert_eq!(off.cei_over_months, None);
}

/// A payment that came back is owed again, not a credit of the customer: E1 300, due 31 March,
/// paid 300 on 5 April, the cheque bounced on 12 April (`payment_reversed` 300). At 30 April
/// 300 is open 30 days late (1-30) and nothing is unallocated (before the fix, the reversal
/// was ignored by the disclosure and the whole 300 showed as a credit owed to the customer).
#[test]
fn a_reversed_payment_is_owed_again_not_an_unallocated_credit() {
    use relance_core::domain::{Customer, Event, EventKind, Invoice, Portfolio};
    use relance_core::payment::ReversalReason;
    let mut p = Portfolio::default();
    p.customers.push(Customer::new("E"));
    p.invoices.push(Invoice {
        id: "E1".into(),
        customer: "E".into(),
        amount: dec("300"),
        currency: "EUR".into(),
        issued: d("2026-03-01"),
        due: d("2026-03-31"),
        outstanding: None,
        po_number: None,
        payment_terms: None,
        delivered_on: None,
        dunning: Default::default(),
        payment_means: None,
        late_interest_rate: None,
        installments: Vec::new(),
    });
    p.events = vec![
        Event {
            date: d("2026-04-05"),
            kind: EventKind::Payment {
                invoice: "E1".into(),
                amount: dec("300"),
                reference: None,
                details: Default::default(),
            },
        },
        Event {
            date: d("2026-04-12"),
            kind: EventKind::PaymentReversed {
                invoice: "E1".into(),
                amount: dec("300"),
                reason: ReversalReason::BouncedCheque,
                reference: None,
                payment_date: None,
            },
        },
    ];
    let r = aged_balance(&p, d("2026-04-30"));
    assert_eq!(r.rows.len(), 1);
    let row = &r.rows[0];
    assert_eq!(
        (row.invoices, row.buckets.days_1_30, row.buckets.total),
        (1, dec("300"), dec("300"))
    );
    assert_eq!(row.disclosure.unallocated_credits, Decimal::ZERO);
    assert_eq!(row.disclosure.total_excluding_disputed, dec("300"));
}
