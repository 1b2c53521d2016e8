//! Customers over plain HTTP: the list's amounts per currency (never added across
//! currencies) and overdue (days late of the oldest overdue invoice, then the amount) as its
//! default sort; the case actions of a customer's page (pause, resume, postpone, note), each
//! a typed fact, refused by role, CSRF, bad input or another customer's invoice.

use chrono::{Days, NaiveDate};
use relance_core::domain::{Customer, Invoice};
use relance_core::runtime::Status;
use relance_daemon::case_action::CaseAction;
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
