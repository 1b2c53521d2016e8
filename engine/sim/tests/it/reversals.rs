//! Payments that come back (`payment_reversed`): the timeline of a paid then reversed invoice,
//! through the simulator exactly as `relance simulate` runs it (`timelines::simulate_inline`).
//!
//! The expected lines are written by hand from the semantics of `transition/reversal.rs`
//! (docs/LANGUAGE.md, "Payments that come back"); the interest from Code de commerce L441-10 II
//! and the built-in rate table (2026-H1: ECB 2.15 % on 1 January 2026, so 12.15 %).

use super::timelines::simulate_inline;

fn date(s: &str) -> chrono::NaiveDate {
    s.parse().expect("a valid date")
}

const SET: &str = r#"
scenario s {
  step reminder-1 at due + 3 days { email "reminder-1" to accounting }
  step reminder-2 at due + 15 days { email "reminder-2" to accounting }
  step notice at due + 30 days {
    letter "formal-notice" to legal registered
    charge late-interest
  }
  on payment reversed {
    if event.reason == "bounced_cheque" and history.reversals == 1 {
      alert "Cheque bounced" to collector
    }
  }
}
"#;

/// F-1: 1000 EUR due 2026-01-31, paid in full on 02-10 by cheque, which bounces on 02-25.
fn case(reversal: &str) -> String {
    format!(
        r#"{{
  "customers": [{{"id": "ACME", "segment": "b2b"}}],
  "invoices": [
    {{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31", "payment_means": "cheque"}}
  ],
  "events": [
    {{"date": "2026-02-10", "type": "payment", "invoice": "F-1", "amount": "1000", "reference": "CHQ-7", "means": "cheque"}},
    {reversal}
  ]
}}"#
    )
}

#[test]
fn a_paid_then_reversed_invoice_reopens_where_it_stood() {
    let reversal = r#"{"date": "2026-02-25", "type": "payment_reversed", "invoice": "F-1", "amount": "1000", "reason": "bounced_cheque", "reference": "CHQ-7", "payment_date": "2026-02-10"}"#;
    let t = simulate_inline(SET, &case(reversal), date("2026-03-31"));
    let text = t.to_text();
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.contains("opened with scenario"))
        .collect();
    // reminder-1 on 02-03 (due + 3); paid 02-10, closed; the cheque bounces on 02-25: the case
    // re-opens, `on payment reversed` runs, and reminder-2 (due + 15 = 02-15, fallen due while
    // closed) fires at that day's tick: it is the next step, nothing already sent is sent again.
    // (The timeline lists a day's step entries before the handler's, by step order.)
    // notice on 03-02 (due + 30) charges interest on 1000 EUR from 02-01 to 03-02: the payment
    // never came (payment_date 02-10), so 30 days at 12.15 %:
    // 1000 × 12.15 × 30 / 36500 = 364500 / 36500 = 9.9863… → 9.99 EUR.
    let expected = [
        "2026-02-03 ACME F-1 reminder-1 · step fired (scheduled)",
        "2026-02-03 ACME F-1 reminder-1 email \"reminder-1\" to accounting",
        "2026-02-10 ACME F-1 - · payment of 1000, outstanding 0",
        "2026-02-10 ACME F-1 - · active → closed: paid",
        "2026-02-25 ACME F-1 - · closed → active: payment CHQ-7 of 1000 reversed (bounced_cheque), outstanding 1000; re-opened",
        "2026-02-25 ACME F-1 reminder-2 · step fired (catch-up: due 2026-02-15)",
        "2026-02-25 ACME F-1 reminder-2 email \"reminder-2\" to accounting",
        "2026-02-25 ACME F-1 on payment reversed alert \"Cheque bounced\" to collector",
        "2026-03-02 ACME F-1 notice · step fired (scheduled)",
        "2026-03-02 ACME F-1 notice letter \"formal-notice\" to legal registered",
        "2026-03-02 ACME F-1 notice · late interest 9.99 EUR: 30 days late; 30 days charged, 2026-02-01 to 2026-03-02, at 12.15 % (2026-H1, ECB 2.15 + 10 points)",
        "2026-03-02 ACME F-1 notice charge late-interest 9.99 EUR",
    ];
    assert_eq!(lines, expected, "\n{text}");
}

#[test]
fn without_the_payment_date_interest_counts_the_money_gone_until_the_reversal() {
    // The same bounce without `payment_date`: the balance was 0 from 02-10 to 02-25. Each
    // balance period is rounded on its own (charges.rs), at 12.15 %:
    // 02-01..02-10, 10 days on 1000: 121500 / 36500 = 3.3287… → 3.33;
    // 02-11..02-25 on 0: 0; 02-26..03-02, 5 days on 1000: 60750 / 36500 = 1.6643… → 1.66;
    // 3.33 + 1.66 = 4.99 EUR.
    let reversal = r#"{"date": "2026-02-25", "type": "payment_reversed", "invoice": "F-1", "amount": "1000", "reason": "other"}"#;
    let t = simulate_inline(SET, &case(reversal), date("2026-03-31"));
    let text = t.to_text();
    assert!(
        text.contains("payment of 1000 reversed (other), outstanding 1000; re-opened"),
        "{text}"
    );
    assert!(
        !text.contains("Cheque bounced"),
        "the handler's condition reads event.reason: {text}"
    );
    assert!(text.contains("charge late-interest 4.99 EUR"), "{text}");
}

#[test]
fn a_reversal_on_an_open_case_only_raises_the_outstanding() {
    // A reversal on a case still open (part paid) only raises the outstanding; no re-opening.
    let case = r#"{
  "customers": [{"id": "ACME", "segment": "b2b"}],
  "invoices": [{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31"}],
  "events": [
    {"date": "2026-02-05", "type": "payment", "invoice": "F-1", "amount": "400", "means": "sepa_direct_debit_core"},
    {"date": "2026-02-12", "type": "payment_reversed", "invoice": "F-1", "amount": "400", "reason": "returned_direct_debit"}
  ]
}"#;
    let t = simulate_inline(SET, case, date("2026-02-20"));
    let text = t.to_text();
    assert!(
        text.contains("payment of 400 reversed (returned_direct_debit), outstanding 1000"),
        "{text}"
    );
    assert!(!text.contains("re-opened"), "{text}");
    assert!(!text.contains("Cheque bounced"), "{text}");
}

#[test]
fn the_expected_payment_means_is_read_by_conditions() {
    // `invoice.payment_means` compares as text; absent (unknown), `==` is false.
    let set = r#"
scenario s {
  step reminder at due + 3 days {
    if invoice.payment_means == "lcr" {
      task "Check the LCR was presented" assign collector
    } else if invoice.payment_means == "transfer" {
      email "reminder-1" to accounting
    } else {
      alert "Payment means unknown" to collector
    }
  }
}
"#;
    let case = r#"{
  "customers": [{"id": "ACME", "segment": "b2b"}],
  "invoices": [
    {"id": "F-1", "customer": "ACME", "amount": "100", "issued": "2026-01-01", "due": "2026-01-31", "payment_means": "lcr"},
    {"id": "F-2", "customer": "ACME", "amount": "100", "issued": "2026-01-01", "due": "2026-01-31", "payment_means": "transfer"},
    {"id": "F-3", "customer": "ACME", "amount": "100", "issued": "2026-01-01", "due": "2026-01-31"}
  ]
}"#;
    let t = simulate_inline(set, case, date("2026-02-10"));
    let text = t.to_text();
    let actions: Vec<String> = text
        .lines()
        .filter(|l| !l.contains('·'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        actions,
        [
            "2026-02-03 ACME F-1 reminder task \"Check the LCR was presented\" assign collector",
            "2026-02-03 ACME F-2 reminder email \"reminder-1\" to accounting",
            "2026-02-03 ACME F-3 reminder alert \"Payment means unknown\" to collector",
        ],
        "\n{}",
        t.to_text()
    );
}

/// A scenario charging the €40 indemnity (Code de commerce L441-10 II, D441-5) at the notice.
const CHARGING: &str = r#"
scenario s {
  step reminder at due + 3 days { email "reminder-1" to accounting }
  step notice at due + 30 days {
    letter "formal-notice" to legal registered
    charge indemnity
  }
  step final at due + 60 days {
    letter "final" to legal registered
    charge late-interest
  }
  on payment reversed { alert "Payment came back" to collector }
}
"#;

#[test]
fn a_reversal_takes_back_what_the_payment_paid_to_the_charges() {
    // 1000 EUR due 2026-01-31; the indemnity of 40 EUR is charged on 03-02 (due + 30); a
    // cheque of 1040 on 03-05 pays the principal first (`fees::allocate`): 1000 to the
    // principal, 40 to the charges. It bounces on 03-10: 1000 goes back to the principal and
    // 40 to the charges (not 1040 to the principal).
    // The final step on 04-01 (due + 60) charges interest on 1000 from 02-01 (the payment
    // never came): 02-01..04-01 is 28 + 31 + 1 = 60 days at 12.15 % (2026-H1, ECB 2.15 + 10):
    // 1000 × 12.15 × 60 / 36500 = 729000 / 36500 = 19.9726… → 19.97 EUR.
    let case = r#"{
  "customers": [{"id": "ACME", "segment": "b2b"}],
  "invoices": [{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31"}],
  "events": [
    {"date": "2026-03-05", "type": "payment", "invoice": "F-1", "amount": "1040", "reference": "CHQ-9", "means": "cheque"},
    {"date": "2026-03-10", "type": "payment_reversed", "invoice": "F-1", "amount": "1040", "reason": "bounced_cheque", "reference": "CHQ-9", "payment_date": "2026-03-05"}
  ]
}"#;
    let t = simulate_inline(CHARGING, case, date("2026-04-10"));
    let text = t.to_text();
    let flat: String = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        flat.contains(
            "payment CHQ-9 of 1040 reversed (bounced_cheque), 40 back to charges, \
             outstanding 1000, charges owed 40; re-opened"
        ),
        "{text}"
    );
    assert!(
        flat.contains("charge late-interest 19.97 EUR"),
        "interest on the principal only: {text}"
    );
}

#[test]
fn a_reversal_under_insolvency_leaves_the_claim_frozen_and_sends_nothing() {
    // Paid 02-10, the customer's redressement judgment on 03-10 (learnt 03-12, published
    // 03-20), the cheque bounces on 03-25: the claim is prior to the judgment, so it is frozen
    // (L622-21: no dunning, no handler) with its declaration task due two months after the
    // BODACC publication (R622-24): 2026-05-20.
    let case = r#"{
  "customers": [{"id": "ACME", "segment": "b2b"}],
  "invoices": [{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31"}],
  "events": [
    {"date": "2026-02-10", "type": "payment", "invoice": "F-1", "amount": "1000", "reference": "CHQ-7", "means": "cheque"},
    {"date": "2026-03-12", "type": "insolvency_opened", "customer": "ACME", "procedure": "redressement", "judgment_on": "2026-03-10", "published_on": "2026-03-20"},
    {"date": "2026-03-25", "type": "payment_reversed", "invoice": "F-1", "amount": "1000", "reason": "bounced_cheque", "reference": "CHQ-7", "payment_date": "2026-02-10"}
  ]
}"#;
    let t = simulate_inline(CHARGING, case, date("2026-04-30"));
    let text = t.to_text();
    let after: Vec<&str> = text
        .lines()
        .filter(|l| l.get(..10).is_some_and(|day| day >= "2026-03-25"))
        .filter(|l| !l.contains('·'))
        .collect();
    assert_eq!(after.len(), 1, "only the declaration task:\n{text}");
    assert!(after[0].contains("task"), "{text}");
    assert!(after[0].contains("2026-05-20"), "{text}");
    assert!(!text.contains("Payment came back"), "{text}");
    assert!(text.contains("→ insolvency"), "the case is frozen: {text}");
}
