//! The rate templates show as `late_interest_rate`: the one `charge late-interest` uses, from
//! the same choice (`charges::penalty_rate`, most specific first: the invoice's rate, the
//! customer's, the scenario's `late-interest`, else ECB + 10 points; L441-10 II) and the same
//! table lookup. Built-in table: 2026-H1 ECB 2.15 % (default 12.15 %), legal rate
//! "autres cas" 2.62 % (arrêté of 15 December 2025), so three times it is 7.86 %; 2026-H2 has
//! no legal rate in the table: 2026-H1's is assumed.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;

use relance_core::domain::{Customer, Invoice};
use relance_core::interest::{AssumedRate, RateTable};
use relance_core::rules::RuleSet;
use relance_core::runtime::charges::{RateSource, applied_rate};
use relance_core::runtime::{CustomerTotals, Facts};
use relance_dsl::{SetContext, SourceFile, compile};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

#[test]
fn the_rate_shown_is_the_one_the_charge_uses() {
    let source = r#"
scenario none { step n at due + 30 days { charge late-interest } }
scenario pct { late-interest 11% step n at due + 30 days { charge late-interest } }
scenario legal { late-interest 3 times legal rate step n at due + 30 days { charge late-interest } }
"#;
    let out = compile(
        &[SourceFile::new("s.relance", source)],
        &SetContext::default(),
    );
    let why = format!("{:?}", out.diagnostics);
    let set = out.set.expect(&why);
    let rules = RuleSet::default();
    // (scenario, invoice's rate, customer's rate, day, rate, source, assumed from)
    type Case = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
        &'static str,
        RateSource,
        Option<&'static str>,
    );
    let cases: [Case; 7] = [
        (
            "none",
            None,
            None,
            "2026-03-10",
            "12.15",
            RateSource::Default,
            None,
        ),
        (
            "pct",
            None,
            None,
            "2026-03-10",
            "11",
            RateSource::Scenario,
            None,
        ),
        (
            "legal",
            None,
            None,
            "2026-03-10",
            "7.86",
            RateSource::Scenario,
            None,
        ),
        // 2026-H2 lacks its legal rate: 3 × 2.62 assumed from 2026-H1.
        (
            "legal",
            None,
            None,
            "2026-08-10",
            "7.86",
            RateSource::Scenario,
            Some("2026-01-01"),
        ),
        (
            "legal",
            None,
            Some("13"),
            "2026-03-10",
            "13",
            RateSource::Customer,
            None,
        ),
        (
            "legal",
            Some("15"),
            Some("13"),
            "2026-03-10",
            "15",
            RateSource::Invoice,
            None,
        ),
        // Past the table's last row (2026-H2): its ECB rate, assumed.
        (
            "none",
            None,
            None,
            "2027-02-01",
            "12.15",
            RateSource::Default,
            Some("2026-07-01"),
        ),
    ];
    for (scenario, invoice_rate, customer_rate, on, rate, source, from) in cases {
        let mut invoice: Invoice = serde_json::from_value(json!({
            "id": "F-1", "customer": "ACME", "amount": "1000",
            "issued": "2026-01-01", "due": "2026-01-31"
        }))
        .expect("invoice");
        invoice.late_interest_rate = invoice_rate.map(dec);
        let mut customer = Customer::new("ACME");
        customer.late_interest_rate = customer_rate.map(dec);
        let facts = Facts {
            scenario: &set.scenarios[scenario],
            invoice: &invoice,
            customer: &customer,
            totals: CustomerTotals::default(),
            rules: &rules,
            rates: RateTable::builtin(),
        };
        let got = applied_rate(&facts, day(on)).expect("a rate");
        let case = format!("{scenario} {invoice_rate:?} {customer_rate:?} {on}");
        assert_eq!(got.rate, dec(rate), "{case}");
        assert_eq!(got.source, source, "{case}");
        assert_eq!(
            got.assumed.map(|a: AssumedRate| a.from),
            from.map(day),
            "{case}"
        );
    }
}
