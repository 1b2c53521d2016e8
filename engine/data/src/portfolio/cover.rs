//! Reading the credit-insurance and insolvency facts of a portfolio file, the same way for the
//! case JSON and the CSV folder: a customer's `insurer`, `credit_cover` and `credit_limit`, and
//! an event's `procedure`.
//!
//! Text to typed values and an error message naming the field; the place of the record is the
//! caller's. It must not decide anything about dunning (that is `relance_core`'s).

use relance_core::insolvency::Procedure;
use relance_core::insurance::{CoverStatus, CreditCover};
use rust_decimal::Decimal;

/// A customer's cover from its three fields (each optional): none without an insurer; the
/// status defaults to `covered` when an insurer is named. A status or a limit without an
/// insurer is an error `(field, message)`.
pub(crate) fn read(
    insurer: Option<&str>,
    status: Option<&str>,
    limit: Option<Decimal>,
) -> Result<Option<CreditCover>, (&'static str, String)> {
    let insurer = insurer.map(str::trim).filter(|i| !i.is_empty());
    let status = status.map(str::trim).filter(|s| !s.is_empty());
    let Some(insurer) = insurer else {
        if status.is_some() {
            return Err((
                "credit_cover",
                "a cover status needs an insurer (column \"insurer\")".into(),
            ));
        }
        if limit.is_some() {
            return Err((
                "credit_limit",
                "a credit limit needs an insurer (column \"insurer\")".into(),
            ));
        }
        return Ok(None);
    };
    let status = match status {
        None => CoverStatus::Covered,
        Some(text) => CoverStatus::parse(text).ok_or_else(|| {
            (
                "credit_cover",
                format!(
                    "unknown cover status \"{text}\" (expected covered, not_covered or cancelled)"
                ),
            )
        })?,
    };
    Ok(Some(CreditCover {
        insurer: insurer.to_string(),
        status,
        limit,
        threatened_risk: None,
        stop_cover: None,
        claim: None,
        procedure_declaration: None,
    }))
}

/// A collective procedure's name, or the message saying what is expected.
pub(crate) fn procedure(text: &str) -> Result<Procedure, String> {
    Procedure::parse(text).ok_or_else(|| {
        format!("unknown procedure \"{text}\" (expected sauvegarde, redressement or liquidation)")
    })
}
