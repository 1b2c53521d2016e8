//! Payment means, payment details, reversals and the contractual late-interest rate, read
//! from the case JSON and the CSV data folder, written by `import::write::write_dir` and read
//! back unchanged.

use relance_core::domain::EventKind;
use relance_core::payment::{PaymentDetails, PaymentMeans, ReversalReason};
use relance_data::portfolio;
use rust_decimal::Decimal;

const CASE: &str = r#"{
  "customers": [{"id": "ACME", "late_interest_rate": "12.5"}, {"id": "BETA"}],
  "invoices": [
    {"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31", "payment_means": "lcr"},
    {"id": "F-2", "customer": "BETA", "amount": "500", "issued": "2026-01-01", "due": "2026-01-31"}
  ],
  "events": [
    {"date": "2026-02-02", "type": "payment", "invoice": "F-1", "amount": "1000", "reference": "LCR-1",
     "means": "lcr", "payer_iban": "FR7630006000011234567890189", "end_to_end_id": "E2E-1", "remittance_date": "2026-01-25"},
    {"date": "2026-02-10", "type": "payment_reversed", "invoice": "F-1", "amount": "1000", "reason": "unpaid_lcr",
     "reference": "LCR-1", "payment_date": "2026-02-02"},
    {"date": "2026-02-11", "type": "payment", "invoice": "F-2", "amount": "20"},
    {"date": "2026-02-11", "type": "payment_reversed", "invoice": "F-2", "amount": "20"}
  ]
}"#;

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().expect("date")
}

#[test]
fn the_new_fields_read_from_json_and_survive_the_data_folder() {
    let p = portfolio::from_json(CASE).expect("valid");
    assert_eq!(
        p.customers[0].late_interest_rate,
        Some(Decimal::new(125, 1))
    );
    assert_eq!(p.customers[1].late_interest_rate, None);
    assert_eq!(p.invoices[0].payment_means, Some(PaymentMeans::Lcr));
    assert_eq!(p.invoices[1].payment_means, None);
    assert_eq!(
        p.events[0].kind,
        EventKind::Payment {
            invoice: "F-1".into(),
            amount: Decimal::from(1000),
            reference: Some("LCR-1".into()),
            details: PaymentDetails {
                means: Some(PaymentMeans::Lcr),
                payer_iban: Some("FR7630006000011234567890189".into()),
                end_to_end_id: Some("E2E-1".into()),
                remittance_date: Some(d("2026-01-25")),
            },
        }
    );
    assert_eq!(
        p.events[1].kind,
        EventKind::PaymentReversed {
            invoice: "F-1".into(),
            amount: Decimal::from(1000),
            reason: ReversalReason::UnpaidLcr,
            reference: Some("LCR-1".into()),
            payment_date: Some(d("2026-02-02")),
        }
    );
    // No reason given: `other`.
    assert!(matches!(
        p.events[3].kind,
        EventKind::PaymentReversed {
            reason: ReversalReason::Other,
            reference: None,
            payment_date: None,
            ..
        }
    ));
    // The data folder: written (write_dir reads it back and checks it), then read again.
    let dir = std::env::temp_dir().join(format!("relance-payments-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    relance_data::import::write::write_dir(&dir, &p).expect("written and verified");
    let back = portfolio::load_dir(&dir).expect("reads back");
    assert_eq!(back.customers, p.customers);
    assert_eq!(back.invoices, p.invoices);
    assert_eq!(back.events, p.events);
    let _ = std::fs::remove_dir_all(&dir);
    // The serde form (the daemon's API and store) round-trips too, the details flattened.
    let json = serde_json::to_value(&p.events[0]).expect("json");
    assert_eq!(json["means"], "lcr");
    assert_eq!(json["remittance_date"], "2026-01-25");
    let again: relance_core::domain::Event = serde_json::from_value(json).expect("reads");
    assert_eq!(again, p.events[0]);
}

#[test]
fn wrong_values_are_errors_naming_the_field() {
    let cases = [
        (
            CASE.replace(r#""payment_means": "lcr""#, r#""payment_means": "sepa""#),
            "invoices[0] (F-1).payment_means: unknown payment means \"sepa\"; expected one of \
             transfer, sepa_direct_debit_core, sepa_direct_debit_b2b, lcr, cheque, card",
        ),
        (
            CASE.replace(r#""reason": "unpaid_lcr""#, r#""reason": "nsf""#),
            "events[1] (payment_reversed).reason: unknown reversal reason \"nsf\"; expected one \
             of returned_direct_debit, unpaid_lcr, bounced_cheque, other",
        ),
        (
            CASE.replace(
                r#""late_interest_rate": "12.5""#,
                r#""late_interest_rate": "120""#,
            ),
            "customers[0] (ACME).late_interest_rate: a yearly rate in percent between 0 and 100, \
             found 120",
        ),
    ];
    for (text, want) in cases {
        let e = portfolio::from_json(&text).expect_err(want).to_string();
        assert_eq!(e, want);
    }
}

/// A reversal cannot take back more than was paid on the invoice before it (payments net of
/// earlier reversals, in date order; an imported invoice's `outstanding` below its amount
/// counts as paid before the import).
#[test]
fn a_reversal_beyond_what_was_paid_is_refused() {
    let case = |events: &str, outstanding: &str| {
        format!(
            r#"{{
  "customers": [{{"id": "ACME"}}],
  "invoices": [{{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31"{outstanding}}}],
  "events": [{events}]
}}"#
        )
    };
    let pay = |date: &str, amount: &str| {
        format!(
            r#"{{"date": "{date}", "type": "payment", "invoice": "F-1", "amount": "{amount}"}}"#
        )
    };
    let back = |date: &str, amount: &str| {
        format!(
            r#"{{"date": "{date}", "type": "payment_reversed", "invoice": "F-1", "amount": "{amount}"}}"#
        )
    };
    // (events, outstanding field, expected error or None when valid)
    let rows: Vec<(Vec<String>, &str, Option<&str>)> = vec![
        (
            vec![pay("2026-02-01", "1200"), back("2026-02-05", "1200")],
            "",
            None,
        ),
        (
            vec![pay("2026-02-01", "400"), back("2026-02-05", "500")],
            "",
            Some(
                "events[1] (payment_reversed).amount: reverses 500, more than the 400 paid on \
                 invoice \"F-1\" before 2026-02-05 (payments net of earlier reversals)",
            ),
        ),
        (
            // The second reversal finds only 100 left.
            vec![
                pay("2026-02-01", "400"),
                back("2026-02-05", "300"),
                back("2026-02-06", "300"),
            ],
            "",
            Some(
                "events[2] (payment_reversed).amount: reverses 300, more than the 100 paid on \
                 invoice \"F-1\" before 2026-02-06 (payments net of earlier reversals)",
            ),
        ),
        (
            // In date order, not file order: the payment is later than the reversal.
            vec![back("2026-02-05", "10"), pay("2026-02-07", "400")],
            "",
            Some(
                "events[0] (payment_reversed).amount: reverses 10, more than the 0 paid on \
                 invoice \"F-1\" before 2026-02-05 (payments net of earlier reversals)",
            ),
        ),
        // Paid before the import: 1000 - 700 = 300 may come back.
        (
            vec![back("2026-02-05", "300")],
            r#", "outstanding": "700""#,
            None,
        ),
    ];
    for (events, outstanding, want) in rows {
        let text = case(&events.join(",\n"), outstanding);
        match (portfolio::from_json(&text), want) {
            (Ok(_), None) => {}
            (Err(e), Some(want)) => assert_eq!(e.to_string(), want),
            (got, want) => panic!("{events:?}: got {got:?}, want {want:?}"),
        }
    }
}
