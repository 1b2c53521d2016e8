//! The field table (`relance_dsl::schema`) is the one home of the values a closed-set text
//! field takes, and the checker refuses any other (E0144). These tests keep those lists equal
//! to the names the core types give (`as_str`) and accept (`parse`), so a value the checker
//! accepts is one the runtime can produce, and none it can produce is refused.

use relance_core::insolvency::Procedure;
use relance_core::insurance::CoverStatus;
use relance_core::payment::{PaymentMeans, ReversalReason};
use relance_dsl::schema::{self, Field};

fn values(field: Field) -> Vec<&'static str> {
    schema::fields()
        .iter()
        .find(|f| f.field == field)
        .expect("field in the table")
        .values
        .to_vec()
}

#[test]
fn schema_values_equal_the_core_names() {
    // (field, the core type's names, whether the field is empty without a value)
    let cases: [(Field, Vec<&str>, bool); 3] = [
        (
            Field::CustomerInsolvency,
            Procedure::ALL.map(Procedure::as_str).to_vec(),
            true,
        ),
        (
            Field::CustomerCreditCover,
            CoverStatus::ALL.map(CoverStatus::as_str).to_vec(),
            true,
        ),
        (
            Field::InvoicePaymentMeans,
            PaymentMeans::ALL.map(PaymentMeans::as_str).to_vec(),
            false,
        ),
    ];
    for (field, mut names, empty) in cases {
        if empty {
            names.push("");
        }
        assert_eq!(values(field), names, "{field:?}");
    }
    assert_eq!(
        schema::PAYMENT_REVERSED_REASONS.to_vec(),
        ReversalReason::ALL.map(ReversalReason::as_str).to_vec()
    );
}

#[test]
fn core_parsers_accept_every_schema_value() {
    for v in values(Field::CustomerInsolvency)
        .into_iter()
        .filter(|v| !v.is_empty())
    {
        assert_eq!(Procedure::parse(v).map(Procedure::as_str), Some(v));
    }
    for v in values(Field::CustomerCreditCover)
        .into_iter()
        .filter(|v| !v.is_empty())
    {
        assert_eq!(CoverStatus::parse(v).map(CoverStatus::as_str), Some(v));
    }
    for v in values(Field::InvoicePaymentMeans) {
        assert_eq!(PaymentMeans::parse(v).map(PaymentMeans::as_str), Ok(v));
    }
    for v in schema::PAYMENT_REVERSED_REASONS {
        assert_eq!(ReversalReason::parse(v).map(ReversalReason::as_str), Ok(*v));
    }
    // The misspellings of the dsl's E0144 case are refused by the parsers too.
    assert_eq!(CoverStatus::parse("coverd"), None);
    assert_eq!(Procedure::parse("redresement"), None);
    assert!(PaymentMeans::parse("lcrr").is_err());
    assert!(ReversalReason::parse("unpaid_lrc").is_err());
}
