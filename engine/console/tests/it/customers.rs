//! The customer list over plain HTTP: amounts shown per currency (never added across
//! currencies), and overdue (days late of the oldest overdue invoice, then the amount) as the
//! default sort.

use chrono::{Days, NaiveDate};
use relance_core::domain::{Customer, Invoice};
use reqwest::StatusCode;
use rust_decimal::Decimal;

use super::support::{self, Http};

fn invoice(id: &str, customer: &str, amount: &str, currency: &str, due: NaiveDate) -> Invoice {
    serde_json::from_value(serde_json::json!({
        "id": id, "customer": customer, "amount": amount, "currency": currency,
        "issued": due.checked_sub_days(Days::new(30)).expect("issued"), "due": due,
    }))
    .expect("invoice")
}

/// The `<tr>` of customer `id` in a list page.
fn row<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!(">{id}</a>"))
        .unwrap_or_else(|| panic!("row {id}"));
    html[at..].split("</tr>").next().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_per_currency_sorted_by_overdue() {
    let d = support::start().await;
    let today = d.engine.today();
    let tomorrow = today.succ_opt().expect("tomorrow");
    let ago = |n: u64| tomorrow.checked_sub_days(Days::new(n)).expect("day");
    let mut two = Customer::new("ZZ-TWO-CURRENCIES");
    two.name = Some("Two Currencies Ltd".into());
    d.engine.put_customers(&[two]).expect("customer");
    d.engine
        .add_invoices(&[
            invoice("ZZ-EUR-1", "ZZ-TWO-CURRENCIES", "1000.00", "EUR", ago(400)),
            invoice("ZZ-USD-1", "ZZ-TWO-CURRENCIES", "250.00", "USD", ago(10)),
            invoice(
                "ZZ-USD-2",
                "ZZ-TWO-CURRENCIES",
                "50.00",
                "USD",
                tomorrow.checked_add_days(Days::new(5)).expect("day"),
            ),
        ])
        .expect("invoices");
    // The cases open at the next daily run.
    let e = d.engine.clone();
    tokio::task::spawn_blocking(move || e.advance_to(tomorrow))
        .await
        .expect("join")
        .expect("advance");
    d.engine.flush().expect("flush");
    assert_eq!(d.engine.today(), tomorrow);

    // The engine's per-currency sums: each currency apart, overdue only before today.
    let sums = d
        .engine
        .customer_currencies("ZZ-TWO-CURRENCIES")
        .expect("sums");
    let got: Vec<_> = sums
        .iter()
        .map(|c| {
            (
                c.currency.as_str(),
                c.sums.outstanding,
                c.overdue,
                c.oldest_due,
            )
        })
        .collect();
    let dec = |s: &str| s.parse::<Decimal>().expect("decimal");
    assert_eq!(
        got,
        vec![
            ("EUR", dec("1000.00"), dec("1000.00"), Some(ago(400))),
            ("USD", dec("300.00"), dec("250.00"), Some(ago(10))),
        ]
    );

    let h = Http::new(&d.base);
    let cm = &h.session("camille-cm").await;
    let (status, html) = h.page("/console/customers", cm).await;
    assert_eq!(status, StatusCode::OK);
    let r = row(&html, "ZZ-TWO-CURRENCIES");
    // English amounts: each currency on its own, never a sum (1,300 or 1,250 nowhere).
    for shown in ["€1,000.00", "$300.00", "$250.00", ">400<"] {
        assert!(r.contains(shown), "{shown} in {r}");
    }
    for sum in ["1,300", "1,250"] {
        assert!(!r.contains(sum), "{sum} in {r}");
    }
    // Overdue by default: the 400-day-old invoice comes first.
    let first = html.split("<tbody>").nth(1).expect("tbody");
    assert!(
        first
            .trim_start()
            .starts_with("<tr><td><a href=\"/console/customers/ZZ-TWO-CURRENCIES\""),
        "{first}"
    );
    // The customer's page: the balance and the aged buckets per currency.
    let (_, page) = h.page("/console/customers/ZZ-TWO-CURRENCIES", cm).await;
    assert!(page.contains("€1,000.00 · $300.00"), "{page}");
    assert!(
        page.contains("<th scope=\"col\">EUR</th><th scope=\"col\">USD</th>"),
        "{page}"
    );
    assert!(!page.contains("1,300"), "{page}");
    // Sorted by id it comes last: alone on the second page (50 a page, 50 examples before it).
    let (_, by_id) = h.page("/console/customers?sort=id", cm).await;
    assert!(!by_id.contains("ZZ-TWO-CURRENCIES"));
    let (_, second) = h.page("/console/customers?sort=id&page=1", cm).await;
    let body = second.split("<tbody>").nth(1).expect("tbody");
    assert_eq!(body.matches("<tr>").count(), 1, "{body}");
    assert!(body.contains("ZZ-TWO-CURRENCIES"), "{body}");
    assert!(
        second.contains("sort=id&amp;page=0\""),
        "the previous page's link"
    );
    d.stop().await;
}
