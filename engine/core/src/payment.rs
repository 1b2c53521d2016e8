//! How money comes in and how it comes back: the payment means (transfer, SEPA direct debit
//! CORE or B2B, LCR, cheque, card), the details a payment fact may carry (the payer's IBAN, the
//! bank's EndToEndId, an LCR's remittance date) and why a payment was reversed (a returned
//! direct debit, an unpaid LCR, a bounced cheque).
//!
//! Plain data with their names as scenarios compare them (`invoice.payment_means == "lcr"`) and
//! as files spell them. This module must not decide what a reversal does to a case (that is
//! `runtime::transition`'s, in `transition/reversal.rs`), and must not read files or the clock.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A payment means, as the invoice expects it or as a payment arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentMeans {
    /// A credit transfer (virement, SEPA SCT).
    Transfer,
    /// A SEPA direct debit under the CORE scheme (the debtor may ask for a refund for 8 weeks).
    SepaDirectDebitCore,
    /// A SEPA direct debit under the B2B scheme (no refund once debited).
    SepaDirectDebitB2b,
    /// A lettre de change relevé (LCR), paper or magnetic, accepted or not.
    Lcr,
    /// A cheque.
    Cheque,
    /// A card payment.
    Card,
}

impl PaymentMeans {
    /// Every means, in documentation order.
    pub const ALL: [PaymentMeans; 6] = [
        PaymentMeans::Transfer,
        PaymentMeans::SepaDirectDebitCore,
        PaymentMeans::SepaDirectDebitB2b,
        PaymentMeans::Lcr,
        PaymentMeans::Cheque,
        PaymentMeans::Card,
    ];

    /// The name files and scenarios use (`sepa_direct_debit_core`).
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMeans::Transfer => "transfer",
            PaymentMeans::SepaDirectDebitCore => "sepa_direct_debit_core",
            PaymentMeans::SepaDirectDebitB2b => "sepa_direct_debit_b2b",
            PaymentMeans::Lcr => "lcr",
            PaymentMeans::Cheque => "cheque",
            PaymentMeans::Card => "card",
        }
    }

    /// Parses a name of [`PaymentMeans::as_str`] (any case, surrounding spaces ignored).
    pub fn parse(text: &str) -> Result<PaymentMeans, String> {
        let wanted = text.trim().to_ascii_lowercase();
        PaymentMeans::ALL
            .into_iter()
            .find(|m| m.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown payment means \"{text}\"; expected one of {}",
                    PaymentMeans::ALL.map(PaymentMeans::as_str).join(", ")
                )
            })
    }
}

/// Why a payment came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReversalReason {
    /// A SEPA direct debit returned or refunded (R-transaction).
    ReturnedDirectDebit,
    /// An LCR unpaid at maturity (impayé).
    UnpaidLcr,
    /// A cheque returned unpaid.
    BouncedCheque,
    /// Anything else (a transfer recalled, a card chargeback …).
    #[default]
    Other,
}

impl ReversalReason {
    /// Every reason, in documentation order.
    pub const ALL: [ReversalReason; 4] = [
        ReversalReason::ReturnedDirectDebit,
        ReversalReason::UnpaidLcr,
        ReversalReason::BouncedCheque,
        ReversalReason::Other,
    ];

    /// The name files and scenarios use (`event.reason == "unpaid_lcr"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReversalReason::ReturnedDirectDebit => "returned_direct_debit",
            ReversalReason::UnpaidLcr => "unpaid_lcr",
            ReversalReason::BouncedCheque => "bounced_cheque",
            ReversalReason::Other => "other",
        }
    }

    /// Parses a name of [`ReversalReason::as_str`] (any case).
    pub fn parse(text: &str) -> Result<ReversalReason, String> {
        let wanted = text.trim().to_ascii_lowercase();
        ReversalReason::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown reversal reason \"{text}\"; expected one of {}",
                    ReversalReason::ALL.map(ReversalReason::as_str).join(", ")
                )
            })
    }
}

impl std::fmt::Display for PaymentMeans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for ReversalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a payment fact may say besides its amount: every part optional (`None` when unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentDetails {
    /// How the money came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub means: Option<PaymentMeans>,
    /// The payer's IBAN, as the bank statement gives it (camt.053 `DbtrAcct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_iban: Option<String>,
    /// The end-to-end identification the payer gave (camt.053 `EndToEndId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<String>,
    /// For an LCR: the day it was remitted to the bank (the payment's date is its value date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance_date: Option<NaiveDate>,
}

impl PaymentDetails {
    /// Whether nothing is known beyond the amount.
    pub fn is_empty(&self) -> bool {
        *self == PaymentDetails::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_parse_and_serde() {
        for m in PaymentMeans::ALL {
            assert_eq!(PaymentMeans::parse(m.as_str()), Ok(m));
            let json = serde_json::to_string(&m).expect("json");
            assert_eq!(json, format!("\"{}\"", m.as_str()));
        }
        for r in ReversalReason::ALL {
            assert_eq!(ReversalReason::parse(r.as_str()), Ok(r));
            let json = serde_json::to_string(&r).expect("json");
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert_eq!(PaymentMeans::parse(" LCR "), Ok(PaymentMeans::Lcr));
        assert_eq!(
            PaymentMeans::parse("sepa"),
            Err("unknown payment means \"sepa\"; expected one of transfer, \
                 sepa_direct_debit_core, sepa_direct_debit_b2b, lcr, cheque, card"
                .to_string())
        );
        assert!(ReversalReason::parse("nsf").is_err());
    }
}
