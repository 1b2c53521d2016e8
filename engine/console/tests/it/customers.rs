//! Customers over plain HTTP: the list's amounts per currency (never added across
//! currencies) and overdue (days late of the oldest overdue invoice, then the amount) as its
//! default sort; the case actions of a customer's page (pause, resume, postpone, note), each
//! a typed fact, refused by role, CSRF, bad input or another customer's invoice.

use chrono::{Days, NaiveDate};
use relance_core::domain::{Customer, Invoice};
use relance_core::runtime::Status;
use relance_daemon::case_action::CaseAction;
use relance_templates::filters::DateForm;
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

/// An open, active case of the example portfolio: (customer, invoice), and another
/// customer's invoice.
fn active_case(engine: &relance_daemon::Engine) -> (String, String, String) {
    let mut found: Option<(String, String)> = None;
    let mut other = None;
    for n in 0..50 {
        let customer = format!("C{n:06}");
        for inv in engine.customer_invoices(&customer).expect("invoices") {
            let active = engine
                .case(&inv)
                .expect("case")
                .is_some_and(|r| r.case.status == Status::Active);
            match &found {
                None if active => found = Some((customer.clone(), inv)),
                Some((c, _)) if *c != customer && other.is_none() => other = Some(inv),
                _ => {}
            }
        }
    }
    let (c, i) = found.expect("an active case");
    (c, i, other.expect("another customer's invoice"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_actions_from_the_customer_page() {
    let d = support::start().await;
    let h = Http::new(&d.base);
    let cm = h.session("camille-cm").await;
    let sales = h.session("sam-sales").await;
    let (customer, invoice, foreign) = active_case(&d.engine);
    let today = d.engine.today();
    let later = |n: u64| (today + Days::new(n)).to_string();
    let (until, to, past) = (later(10), later(5), today.to_string());
    let path = format!("/console/customers/{customer}/case");
    let csrf_of = |html: &str| support::csrf_of(html);
    let (_, page) = h.page(&format!("/console/customers/{customer}"), &cm).await;
    assert!(page.contains(&format!("action=\"{path}\"")), "the forms");
    let cm_csrf = csrf_of(&page);
    let (_, page) = h
        .page(&format!("/console/customers/{customer}"), &sales)
        .await;
    assert!(page.contains("value=\"note\""), "sales may add a note");
    assert!(!page.contains("value=\"pause\""), "sales may not pause");
    let sales_csrf = csrf_of(&page);

    // (who, fields, status, the case's status after, the last recorded action's type)
    let ok = StatusCode::SEE_OTHER;
    let bad = StatusCode::BAD_REQUEST;
    type Row<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        StatusCode,
        &'a str,
        Option<&'a str>,
    );
    let rows: Vec<Row> = vec![
        (
            "cm",
            vec![
                ("action", "pause"),
                ("reason", "on holiday"),
                ("until", &until),
            ],
            ok,
            "waiting",
            Some("pause"),
        ),
        (
            "cm",
            vec![("action", "resume")],
            ok,
            "active",
            Some("resume"),
        ),
        (
            "cm",
            vec![("action", "reschedule"), ("to", &to)],
            ok,
            "waiting",
            Some("reschedule"),
        ),
        (
            "cm",
            vec![("action", "resume")],
            ok,
            "active",
            Some("resume"),
        ),
        (
            "cm",
            vec![("action", "pause"), ("reason", "lawyer asked")],
            ok,
            "paused",
            Some("pause"),
        ),
        (
            "sales",
            vec![("action", "note"), ("text", "called, will check")],
            ok,
            "paused",
            Some("note"),
        ),
        (
            "sales",
            vec![("action", "pause"), ("reason", "x")],
            StatusCode::FORBIDDEN,
            "paused",
            Some("note"),
        ),
        (
            "sales",
            vec![("action", "resume")],
            StatusCode::FORBIDDEN,
            "paused",
            Some("note"),
        ),
        (
            "cm",
            vec![("action", "reschedule"), ("to", &to)],
            bad,
            "paused",
            Some("note"),
        ),
        (
            "cm",
            vec![("action", "pause"), ("reason", "x"), ("until", &past)],
            bad,
            "paused",
            Some("note"),
        ),
        (
            "cm",
            vec![("action", "pause"), ("reason", "  ")],
            bad,
            "paused",
            Some("note"),
        ),
        (
            "cm",
            vec![("action", "note"), ("text", "")],
            bad,
            "paused",
            Some("note"),
        ),
        (
            "cm",
            vec![("action", "reschedule"), ("to", "soon")],
            bad,
            "paused",
            Some("note"),
        ),
        (
            "cm",
            vec![("action", "explode")],
            bad,
            "paused",
            Some("note"),
        ),
        (
            "cm",
            vec![("action", "resume"), ("invoice", &foreign)],
            StatusCode::NOT_FOUND,
            "paused",
            Some("note"),
        ),
        (
            "cm",
            vec![("action", "resume"), ("csrf", "forged")],
            StatusCode::FORBIDDEN,
            "paused",
            Some("note"),
        ),
        (
            "cm",
            vec![("action", "resume")],
            ok,
            "active",
            Some("resume"),
        ),
        (
            "cm",
            vec![("action", "resume")],
            bad,
            "active",
            Some("resume"),
        ),
    ];
    for (n, (who, fields, status, after, last)) in rows.into_iter().enumerate() {
        let (session, csrf) = match who {
            "cm" => (&cm, &cm_csrf),
            _ => (&sales, &sales_csrf),
        };
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf), ("invoice", &invoice)];
        for (k, v) in fields {
            form.retain(|(f, _)| *f != k);
            form.push((k, v));
        }
        let resp = h.post_form(&path, session, &form).await;
        assert_eq!(resp.status(), status, "row {n}: {form:?}");
        let rec = d.engine.case(&invoice).expect("case").expect("a case");
        assert_eq!(rec.case.status.name(), after, "row {n}: {form:?}");
        let actions = d.engine.case_actions(&invoice).expect("actions");
        let got = actions.last().map(|a| {
            serde_json::to_value(&a.action).expect("json")["type"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        });
        assert_eq!(got.as_deref(), last, "row {n}: {form:?}");
    }

    // Typed facts, in order, with who did them; the waits carry their dates.
    let actions = d.engine.case_actions(&invoice).expect("actions");
    assert_eq!(actions.len(), 7);
    assert_eq!(
        actions[0].action,
        CaseAction::Pause {
            until: Some(today + Days::new(10)),
            reason: "on holiday".into()
        }
    );
    assert_eq!(actions[0].by.as_deref(), Some("camille-cm"));
    assert_eq!(
        actions[5].action,
        CaseAction::Note {
            text: "called, will check".into()
        }
    );
    assert_eq!(actions[5].by.as_deref(), Some("sam-sales"));
    // Resumed: ticks at the next daily run.
    let rec = d.engine.case(&invoice).expect("case").expect("a case");
    assert_eq!(rec.wake, today.succ_opt());

    // Paused by a dispute: not resumed by hand (resolving the dispute resumes it).
    let dispute = relance_core::domain::Event {
        date: today,
        kind: relance_core::domain::EventKind::DisputeOpened {
            invoice: invoice.clone(),
            code: "quality".into(),
            amount: None,
            target_date: None,
            comment: None,
        },
    };
    d.engine.apply_events(&[dispute]).expect("dispute");
    let form = [
        ("csrf", cm_csrf.as_str()),
        ("invoice", invoice.as_str()),
        ("action", "resume"),
    ];
    let resp = h.post_form(&path, &cm, &form).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let rec = d.engine.case(&invoice).expect("case").expect("a case");
    assert_eq!(rec.case.status.name(), "paused");
    assert_eq!(d.engine.case_actions(&invoice).expect("actions").len(), 7);

    // Shown in the case's history on the customer page.
    let (_, page) = h.page(&format!("/console/customers/{customer}"), &cm).await;
    for line in [
        format!("paused by camille-cm until {until}: on holiday"),
        format!("next step postponed by camille-cm to {to}"),
        "note by sam-sales: called, will check".to_string(),
        "resumed by camille-cm".to_string(),
    ] {
        assert!(page.contains(&line), "{line}");
    }
    d.stop().await;
}

/// A `per customer` scenario for the page's account-level table, beside the stdlib set.
const ACCOUNT_SET: &str = r#"
scenario account-watch {
  per customer
  level watch when customer.oldest_overdue_days >= 3 {
    alert "account overdue" to credit-manager
  }
  level blocked when customer.oldest_overdue_days >= 30 {
    alert "account blocked" to credit-manager
  }
  on clear {
    alert "account clear" to credit-manager
  }
}
"#;

/// The rows of the table `id="{id}"` of a page, each as its cells' text.
fn table_rows(html: &str, id: &str) -> Vec<Vec<String>> {
    let Some(at) = html.find(&format!("<table id=\"{id}\">")) else {
        return Vec::new();
    };
    let table = html[at..].split("</table>").next().unwrap_or_default();
    let body = table.split("<tbody>").nth(1).unwrap_or_default();
    body.split("<tr>")
        .skip(1)
        .map(|tr| {
            tr.split("<td")
                .skip(1)
                .map(|td| {
                    let inner = td.split_once('>').map_or("", |x| x.1);
                    inner.split("</td>").next().unwrap_or_default().to_string()
                })
                .collect()
        })
        .collect()
}

/// What the engine holds for a customer, on its page: a message the contact cadence holds
/// back (with the day it goes), the account's level and since when under a `per customer`
/// scenario, and the installments of an open invoice with what each still owes. One row per
/// table and customer, each also checked against the engine's own records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_page_shows_what_waits() {
    let d = support::start_with(&[("account-watch.relance", ACCOUNT_SET)]).await;
    let start = d.engine.today();
    let day = move |n: u64| start + Days::new(n);
    let customer = |id: &str, scenario: &str| -> Customer {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": format!("{id} Ltd"), "segment": "b2b", "scenario": scenario,
            "contacts": {"accounting": {"email": format!("ap@{}.example", id.to_lowercase())}},
        }))
        .expect("customer")
    };
    d.engine
        .put_customers(&[
            customer("ZZ-CADENCE", "standard-b2b"),
            customer("ZZ-ACCOUNT", "account-watch"),
            customer("ZZ-PLAN", "standard-b2b"),
        ])
        .expect("customers");
    let planned: Invoice = serde_json::from_value(serde_json::json!({
        "id": "ZZ-PLAN-1", "customer": "ZZ-PLAN", "amount": "1000.00", "currency": "EUR",
        "issued": start - Days::new(40), "due": day(20),
        "installments": [
            {"due": start - Days::new(10), "amount": "300.00"},
            {"due": day(20), "amount": "700.00"},
        ],
    }))
    .expect("invoice with installments");
    // standard-b2b: reminder-1 at due + 5 days, a cadence of 5 days. ZZ-CADENCE-1's goes on
    // day 6; ZZ-CADENCE-2's, due on day 8, falls inside the gap and waits until day 11.
    d.engine
        .add_invoices(&[
            invoice("ZZ-CADENCE-1", "ZZ-CADENCE", "500.00", "EUR", day(1)),
            invoice("ZZ-CADENCE-2", "ZZ-CADENCE", "400.00", "EUR", day(3)),
            invoice("ZZ-ACCOUNT-1", "ZZ-ACCOUNT", "800.00", "EUR", day(1)),
            planned,
        ])
        .expect("invoices");
    let e = d.engine.clone();
    tokio::task::spawn_blocking(move || -> Result<(), relance_daemon::DaemonError> {
        e.advance_to(day(1))?;
        e.apply_events(&[relance_core::domain::Event {
            date: day(1),
            kind: relance_core::domain::EventKind::Payment {
                invoice: "ZZ-PLAN-1".into(),
                amount: "100.00".parse().expect("amount"),
                reference: None,
                details: Default::default(),
            },
        }])?;
        e.advance_to(day(8))?;
        Ok(())
    })
    .await
    .expect("join")
    .expect("advance");
    assert_eq!(d.engine.today(), day(8));

    // The engine's own records, which the page must show.
    let waits = relance_daemon::cadence::waiting_for(d.engine.store(), "ZZ-CADENCE").expect("w");
    let got: Vec<_> = waits
        .iter()
        .map(|m| (m.invoice.as_str(), m.step.as_str(), m.date, m.due_on))
        .collect();
    assert_eq!(
        got,
        vec![("ZZ-CADENCE-2", "reminder-1", day(11), Some(day(8)))]
    );
    let accounts = relance_daemon::account::accounts_of(d.engine.store(), "ZZ-ACCOUNT").expect("a");
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    let (scenario, currency, rec) = &accounts[0];
    assert_eq!(
        (scenario.as_str(), currency.as_str()),
        ("account-watch", "EUR")
    );
    assert_eq!(rec.state.level, Some(0), "{rec:?}");
    let since = rec.state.since.expect("since");
    // Three days late on day 4: the level is entered at that day's account pass.
    assert_eq!(since, day(4));

    let h = Http::new(&d.base);
    let cm = h.session("camille-cm").await;
    let date = |d: NaiveDate| relance_templates::filters::date(d, DateForm::Short, "en");
    let eur = |s: &str| relance_templates::filters::money(s.parse().expect("amount"), "EUR", "en");
    // (customer, table, its rows)
    let rows: Vec<(&str, &str, Vec<Vec<String>>)> = vec![
        (
            "ZZ-CADENCE",
            "cadence-waits",
            vec![vec![
                date(day(11)),
                "ZZ-CADENCE-2".into(),
                "standard-b2b".into(),
                "reminder-1".into(),
                waits[0].action.to_string(),
                date(day(8)),
            ]],
        ),
        (
            "ZZ-ACCOUNT",
            "accounts",
            vec![vec![
                "account-watch".into(),
                "EUR".into(),
                "watch".into(),
                date(day(4)),
                "ZZ-ACCOUNT-1".into(),
            ]],
        ),
        (
            "ZZ-PLAN",
            "installments",
            vec![
                vec![
                    "ZZ-PLAN-1".into(),
                    date(start - Days::new(10)),
                    eur("300.00"),
                    eur("200.00"),
                ],
                vec![
                    "ZZ-PLAN-1".into(),
                    date(day(20)),
                    eur("700.00"),
                    eur("700.00"),
                ],
            ],
        ),
        // A customer with nothing held shows none of the tables.
        ("ZZ-CADENCE", "accounts", vec![]),
        ("ZZ-ACCOUNT", "installments", vec![]),
        ("ZZ-PLAN", "cadence-waits", vec![]),
    ];
    for (customer, table, want) in rows {
        let (status, page) = h.page(&format!("/console/customers/{customer}"), &cm).await;
        assert_eq!(status, StatusCode::OK, "{customer}");
        let got = table_rows(&page, table);
        // Minijinja escapes what it shows; the expected cells are plain text.
        let want: Vec<Vec<String>> = want
            .into_iter()
            .map(|r| r.into_iter().map(|c| escape(&c)).collect())
            .collect();
        assert_eq!(got, want, "{customer} {table}");
    }
    d.stop().await;
}

/// Text as minijinja's HTML escaping writes it.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}
