//! Late interest as the contract says (a customer's `late_interest_rate`), through the
//! simulator as `relance simulate` runs it. Expected amounts are computed by hand in the
//! comments: Code de commerce L441-10 II (the contractual rate, else the ECB rate + 10 points of
//! the half-year), actual days over 365, rounded to the cent; the built-in rate table (Banque de
//! France / ECB): 2026-H1 ECB 2.15 %, so a default rate of 12.15 %.

use super::timelines::{simulate_inline, simulate_inline_with};

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

#[test]
fn on_paid_charges_the_interest_up_to_the_payment_date() {
    // L441-10 II: penalties run from the day after the due date until payment. `on paid`
    // charges them on the day the invoice is paid, on the balance of each day.
    let set = r#"
scenario s {
  step reminder at due + 10 days { email "reminder-1" to accounting }
  on paid { charge late-interest }
}
"#;
    let case = r#"{
  "customers": [{"id": "ACME", "segment": "b2b"}],
  "invoices": [{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01", "due": "2026-01-31"}],
  "events": [
    {"date": "2026-02-10", "type": "payment", "invoice": "F-1", "amount": "400"},
    {"date": "2026-03-02", "type": "payment", "invoice": "F-1", "amount": "600"}
  ]
}"#;
    let t = simulate_inline(set, case, date("2026-03-31"));
    let text = t.to_text();
    // 02-01..02-10, 10 days on 1000 at 12.15 %: 121500 / 36500 = 3.3287… → 3.33;
    // 02-11..03-02, 20 days on 600: 145800 / 36500 = 3.9945… → 3.99; 3.33 + 3.99 = 7.32 EUR,
    // charged on 03-02 (the day of the payment bears interest on the balance before it).
    let interest: Vec<String> = text
        .lines()
        .filter(|l| l.contains("late interest") || l.contains("charge late-interest"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        interest,
        [
            "2026-03-02 ACME F-1 on paid · late interest 7.32 EUR: 30 days late; 30 days \
             charged, 2026-02-01 to 2026-03-02, at 12.15 % (2026-H1, ECB 2.15 + 10 points)",
            "2026-03-02 ACME F-1 on paid charge late-interest 7.32 EUR",
        ],
        "\n{text}"
    );
    // Paid on time: nothing is charged, the history says why.
    let on_time = case
        .replace("2026-02-10", "2026-01-20")
        .replace("2026-03-02", "2026-01-30");
    let text = simulate_inline(set, &on_time, date("2026-03-31")).to_text();
    assert!(!text.contains("charge late-interest"), "{text}");
    assert!(
        text.contains("charge not applied: the invoice is not late (due 2026-01-31)"),
        "{text}"
    );
}

/// The interest lines of a timeline (history and charges), whitespace folded.
fn interest_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains("late interest") || l.contains("charge late-interest"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// A formal notice charging late interest 89 days after the (chased installment's) due date.
const NOTICE_AT_89_DAYS: &str = r#"
scenario s {
  step notice at due + 89 days {
    letter "formal-notice" to legal registered
    charge late-interest
  }
}
"#;

/// A 1,000 EUR invoice in two installments, 300 due 2026-01-31 and 700 due 2026-03-31, for a
/// professional customer; `events` is the JSON of its events.
fn installments_case(events: &str) -> String {
    format!(
        r#"{{
  "customers": [{{"id": "ACME", "segment": "b2b"}}],
  "invoices": [{{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01",
    "due": "2026-03-31", "installments": "2026-01-31 300; 2026-03-31 700"}}],
  "events": [{events}]
}}"#
    )
}

#[test]
fn each_installment_bears_interest_from_its_own_due_date_on_its_own_unpaid_part() {
    // French law: interest runs per installment. The step fires on 04-30, 89 days after the
    // chased installment's date (01-31; February has 28 days in 2026), at 12.15 % (2026-H1,
    // ECB 2.15 + 10 points), actual days / 365, each period rounded to the cent.
    let set = NOTICE_AT_89_DAYS;
    // (events, expected history line's amount and per-installment shares, expected charge)
    let cases = [
        // Nothing paid.
        // Installment 1: 300 from 02-01 to 04-30, 89 days: 300 × 12.15 × 89 / 36500
        //   = 324405 / 36500 = 8.8878… → 8.89.
        // Installment 2: 700 from 04-01 to 04-30, 30 days: 700 × 12.15 × 30 / 36500
        //   = 255150 / 36500 = 6.9904… → 6.99.
        // 8.89 + 6.99 = 15.88 (the whole 1,000 from the last due date would be 9.99).
        (
            "",
            "late interest 15.88 EUR: 89 days late; 89 days charged, 2026-02-01 to 2026-04-30, \
             at 12.15 % (2026-H1, ECB 2.15 + 10 points); installment 1 of 2, due 2026-01-31: \
             2026-02-01 to 2026-04-30, 8.89; installment 2 of 2, due 2026-03-31: 2026-04-01 to \
             2026-04-30, 6.99",
            "charge late-interest 15.88 EUR",
        ),
        // 200 paid on 02-20: it pays installment 1 first (100 of it left).
        // Installment 1: 300 from 02-01 to 02-20, 20 days: 300 × 12.15 × 20 / 36500
        //   = 72900 / 36500 = 1.9972… → 2.00; then 100 from 02-21 to 04-30, 69 days
        //   (8 + 31 + 30): 100 × 12.15 × 69 / 36500 = 83835 / 36500 = 2.2968… → 2.30.
        //   2.00 + 2.30 = 4.30.
        // Installment 2: untouched by the payment, 700 for 30 days: 6.99.
        // 4.30 + 6.99 = 11.29.
        (
            r#"{"date": "2026-02-20", "type": "payment", "invoice": "F-1", "amount": "200"}"#,
            "late interest 11.29 EUR: 89 days late; 89 days charged, 2026-02-01 to 2026-04-30, \
             at 12.15 % (2026-H1, ECB 2.15 + 10 points); installment 1 of 2, due 2026-01-31: \
             2026-02-01 to 2026-04-30, 4.30; installment 2 of 2, due 2026-03-31: 2026-04-01 to \
             2026-04-30, 6.99",
            "charge late-interest 11.29 EUR",
        ),
    ];
    for (events, history, charge) in cases {
        let text = simulate_inline(set, &installments_case(events), date("2026-05-31")).to_text();
        let lines = interest_lines(&text);
        assert_eq!(lines.len(), 2, "{events}: {text}");
        assert!(lines[0].ends_with(history), "{events}: {}", lines[0]);
        // The action line then lists the overdue installments (both are on 30 April).
        let (action, overdue) = lines[1].split_once(" (overdue: ").expect("overdue listed");
        assert!(action.ends_with(charge), "{events}: {}", lines[1]);
        assert!(
            overdue.starts_with("F-1 installment 1 due 2026-01-31: ")
                && overdue.contains(
                    "; F-1 installment 2 due 2026-03-31: 700 unpaid of 700, 30 days late)"
                ),
            "{events}: {}",
            lines[1]
        );
        assert!(
            lines[0].starts_with("2026-04-30 ACME F-1 notice"),
            "{}",
            lines[0]
        );
    }
}

#[test]
fn a_late_first_installment_bears_interest_when_the_second_is_paid_on_time() {
    // 300 paid on 02-15, 15 days late; 700 paid on 03-31, its own due date. `on paid` on 03-31
    // charges installment 1's 15 days: 300 × 12.15 × 15 / 36500 = 54675 / 36500 = 1.4979…
    // → 1.50. Installment 2 is not late: nothing. (Before interest ran per installment, the
    // invoice was not late on 03-31 and nothing was charged.)
    let set = r#"
scenario s {
  step reminder at due + 10 days { email "reminder-1" to accounting }
  on paid { charge late-interest }
}
"#;
    let events = r#"{"date": "2026-02-15", "type": "payment", "invoice": "F-1", "amount": "300"},
    {"date": "2026-03-31", "type": "payment", "invoice": "F-1", "amount": "700"}"#;
    let text = simulate_inline(set, &installments_case(events), date("2026-04-30")).to_text();
    assert_eq!(
        interest_lines(&text),
        [
            "2026-03-31 ACME F-1 on paid · late interest 1.50 EUR: 59 days late; 59 days \
             charged, 2026-02-01 to 2026-03-31, at 12.15 % (2026-H1, ECB 2.15 + 10 points); \
             installment 1 of 2, due 2026-01-31: 2026-02-01 to 2026-03-31, 1.50",
            "2026-03-31 ACME F-1 on paid charge late-interest 1.50 EUR",
        ],
        "\n{text}"
    );
}

/// A rate table that ends early (its last row 2025-H2, ECB 2.15 %): late interest charged in
/// 2026-H1 assumes the last known rate, 12.15 %, and says so on the charge, as data (the
/// timeline's JSON `rate_assumed`) and in the history and the text form. The amount is the one
/// the full table gives (2026-H1 is also 2.15 % there): 1000 × 12.15 × 30 / 36500 = 9.9863… →
/// 9.99 EUR. With the full table, nothing is marked.
#[test]
fn a_rate_past_the_end_of_the_table_is_assumed_and_marked() {
    let short = relance_core::interest::RateTable::parse(
        "half_year,ecb_rate,legal_rate_professionals\n2025-H1,3.15,3.71\n2025-H2,2.15,2.76\n",
    )
    .expect("a valid table");
    let t = simulate_inline_with(SET, &case(""), date("2026-03-31"), &short);
    let text = t.to_text();
    assert!(
        text.contains(
            "charge late-interest 9.99 EUR  (rate assumed: the table has no rate for 2026-H1, \
             the rate of 2025-H2 is used)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "at 12.15 % (2026-H1, ECB 2.15 + 10 points); rate assumed: the table has no rate \
             for 2026-H1, the rate of 2025-H2 is used"
        ),
        "{text}"
    );
    let json = serde_json::to_value(&t).expect("serializes");
    let charges: Vec<&serde_json::Value> = json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "charge")
        .collect();
    assert_eq!(charges.len(), 1, "{json}");
    assert_eq!(charges[0]["rate_assumed"], true);
    assert_eq!(charges[0]["rate_assumed_for"], "2026-H1");
    assert_eq!(charges[0]["rate_assumed_from"], "2025-H2");
    // The full table holds 2026-H1: the same charge, nothing assumed.
    let full = simulate_inline(SET, &case(""), date("2026-03-31"));
    assert!(!full.to_text().contains("rate assumed"));
    let json = serde_json::to_string(&full).expect("serializes");
    assert!(!json.contains("rate_assumed"), "{json}");
}

/// Per-installment interest past the end of the rate table: each installment's share is
/// charged at the last known rate (the table below ends with 2025-H2, ECB 2.15 %, the rate
/// 2026-H1 has in the full table, so the amounts are those of
/// `each_installment_bears_interest_from_its_own_due_date_on_its_own_unpaid_part`: 8.89 +
/// 6.99 = 15.88 EUR), and the charge says once, as text and as data, which half-year was
/// assumed.
#[test]
fn installments_past_the_end_of_the_table_are_charged_at_the_assumed_rate_and_marked() {
    let set = NOTICE_AT_89_DAYS;
    let short = relance_core::interest::RateTable::parse(
        "half_year,ecb_rate,legal_rate_professionals\n2025-H1,3.15,3.71\n2025-H2,2.15,2.76\n",
    )
    .expect("a valid table");
    let t = simulate_inline_with(set, &installments_case(""), date("2026-05-31"), &short);
    let text = t.to_text();
    let lines = interest_lines(&text);
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].ends_with(
            "installment 1 of 2, due 2026-01-31: 2026-02-01 to 2026-04-30, 8.89; installment 2 \
             of 2, due 2026-03-31: 2026-04-01 to 2026-04-30, 6.99; rate assumed: the table has \
             no rate for 2026-H1, the rate of 2025-H2 is used"
        ),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("late interest 15.88 EUR"), "{}", lines[0]);
    let json = serde_json::to_value(&t).expect("serializes");
    let charges: Vec<&serde_json::Value> = json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "charge")
        .collect();
    assert_eq!(charges.len(), 1, "{json}");
    assert_eq!(charges[0]["rate_assumed_for"], "2026-H1");
    assert_eq!(charges[0]["rate_assumed_from"], "2025-H2");
}

/// Past the end of the table every half-year takes the last known rate, so the basis names
/// those half-years once, as a span, instead of once each (regression: charging from 2200 to
/// year 9999 listed 15,600 half-years and planning a week took about 27 s). The table below
/// ends with 2025-H1 (ECB 3.15 %); 1,000 € due 2025-05-31, notice at due + 400 days
/// (2026-07-05): 400 days at 13.15 %, 1000 × 13.15 × 400 / 36500 = 144.109… → 144.11 EUR.
#[test]
fn half_years_past_the_end_of_the_table_are_named_once_as_a_span() {
    let set = r#"
scenario s {
  step notice at due + 400 days {
    letter "formal-notice" to legal registered
    charge late-interest
  }
}
"#;
    let short = relance_core::interest::RateTable::parse(
        "half_year,ecb_rate,legal_rate_professionals\n2025-H1,3.15,3.71\n",
    )
    .expect("a valid table");
    let case = r#"{
  "customers": [{"id": "ACME", "segment": "b2b"}],
  "invoices": [{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2025-05-01", "due": "2025-05-31"}]
}"#;
    let t = simulate_inline_with(set, case, date("2026-07-31"), &short);
    let text = t.to_text();
    assert!(
        text.contains(
            "late interest 144.11 EUR: 400 days late; 400 days charged, 2025-06-01 to \
             2026-07-05, at 13.15 % (2025-H1, ECB 3.15 + 10 points), 13.15 % (2025-H2 to \
             2026-H2, ECB 3.15 + 10 points); rate assumed: the table has no rate for 2025-H2, \
             the rate of 2025-H1 is used"
        ),
        "{text}"
    );
}
