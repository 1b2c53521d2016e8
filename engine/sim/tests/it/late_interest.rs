//! Late interest as the contract says (a customer's `late_interest_rate`), through the
//! simulator as `relance simulate` runs it. Expected amounts are computed by hand in the
//! comments: Code de commerce L441-10 II (the contractual rate, else the ECB rate + 10 points of
//! the half-year), actual days over 365, rounded to the cent; the built-in rate table (Banque de
//! France / ECB): 2026-H1 ECB 2.15 %, so a default rate of 12.15 %.

use super::timelines::simulate_inline;

fn date(s: &str) -> chrono::NaiveDate {
    s.parse().expect("a valid date")
}

const SET: &str = r#"
scenario s {
  step notice at due + 30 days {
    letter "formal-notice" to legal registered
    charge late-interest
  }
}
"#;

fn case(rate: &str) -> String {
    format!(
        r#"{{
  "customers": [{{"id": "ACME", "segment": "b2b"{rate}}}],
  "invoices": [{{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31"}}]
}}"#
    )
}

#[test]
fn a_contractual_rate_replaces_ecb_plus_ten_points() {
    // notice on 03-02 (due + 30): 30 days late, 02-01..03-02.
    // Contract 15 %: 1000 × 15 × 30 / 36500 = 450000 / 36500 = 12.3287… → 12.33 EUR.
    // Default 12.15 %: 1000 × 12.15 × 30 / 36500 = 364500 / 36500 = 9.9863… → 9.99 EUR.
    for (rate, charged) in [
        (
            r#", "late_interest_rate": "15""#,
            "charge late-interest 12.33 EUR",
        ),
        ("", "charge late-interest 9.99 EUR"),
    ] {
        let t = simulate_inline(SET, &case(rate), date("2026-03-31"));
        let text = t.to_text();
        assert!(text.contains(charged), "{rate}: {text}");
    }
}
