//! Paginated reads through the real API (issue 15, "Scale"): a customer's view and the agenda
//! are read a page at a time (`limit`, `after`, and the reply's `next` cursor). A customer of
//! 250 invoices in every state, walked with several page sizes, gives each invoice exactly
//! once, in id order, its customer's totals the same on every page and equal to the sums of
//! the pages, and no `next` on the last page; the agenda, written to the store before the
//! server starts, is walked the same way (with and without an assignee). Bad `limit`, `after`
//! and `from` parameters are refused with 400 naming the parameter.

use std::time::Duration;

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::{ADMIN, Body, CREDIT, Row, TempDir, run_rows, send, serve};
use relance_daemon::keys;
use relance_daemon::model::{AgendaEntry, encode};
use relance_daemon::store::{Op, SledStore, Store, Tree};

/// How many invoices the big customer has; those from `FUTURE` on are issued after today
/// (their cases are not open yet).
const INVOICES: usize = 250;
const FUTURE: usize = 220;

fn inv_id(i: usize) -> String {
    format!("P-{i:03}")
}

fn amount(i: usize) -> Decimal {
    Decimal::from(100 + i as i64)
}

/// BIGCO and its 250 invoices, and BIGCO2 (whose key range follows BIGCO's) with two.
fn portfolio() -> Value {
    let mut invoices: Vec<Value> = (0..INVOICES)
        .map(|i| {
            let (issued, due) = if i < FUTURE {
                ("2025-12-01", "2025-12-31")
            } else {
                ("2026-03-01", "2026-03-31")
            };
            json!({"id": inv_id(i), "customer": "BIGCO", "amount": format!("{}.00", amount(i)),
                   "currency": "EUR", "issued": issued, "due": due})
        })
        .collect();
    for id in ["Q-1", "Q-2"] {
        invoices.push(
            json!({"id": id, "customer": "BIGCO2", "amount": "50.00", "currency": "EUR",
                             "issued": "2025-12-01", "due": "2025-12-31"}),
        );
    }
    let customer = |id: &str| {
        json!({"id": id, "segment": "b2b", "language": "fr",
               "contacts": {"accounting": {"email": "compta@bigco.example"}}})
    };
    json!({"customers": [customer("BIGCO"), customer("BIGCO2")], "invoices": invoices})
}

/// The facts: every tenth invoice paid in full (closed), others partly paid, disputed or
/// promised.
fn events() -> Value {
    let mut out = Vec::new();
    for i in 0..FUTURE {
        let id = inv_id(i);
        match i % 10 {
            0 => out.push(
                json!({"type": "payment", "invoice": id, "amount": format!("{}.00", amount(i))}),
            ),
            1 => out.push(json!({"type": "dispute_opened", "invoice": id, "code": "quality"})),
            2 => out.push(
                json!({"type": "promise_made", "invoice": id, "promised_date": "2026-02-20"}),
            ),
            3 => out.push(json!({"type": "payment", "invoice": id, "amount": "10.00"})),
            _ => {}
        }
    }
    Value::Array(out)
}

/// What BIGCO's totals must be, by the definitions of the view.
fn expected_totals() -> (Decimal, Value) {
    let mut outstanding = Decimal::ZERO;
    for i in (0..FUTURE).filter(|i| i % 10 != 0) {
        outstanding += amount(i);
        if i % 10 == 3 {
            outstanding -= Decimal::from(10);
        }
    }
    let tenth = (FUTURE / 10) as u64;
    let counts = json!({
        "invoices": INVOICES,
        "open": FUTURE as u64 - tenth,
        "to_open": INVOICES - FUTURE,
        "disputes": tenth,
        "promises": tenth,
    });
    (outstanding, counts)
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> Value {
    let row = Row::new(Method::GET, path, Some(CREDIT), Body::None, 200);
    let (status, value, text) = send(client, base, &row).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
    value
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|x| x.as_str().expect("a string").to_string())
        .collect()
}

fn decimal(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("a decimal string: {v}"))
        .parse()
        .expect("decimal")
}

async fn customer_server(tag: &str) -> (String, reqwest::Client, TempDir) {
    let dir = TempDir::new(tag);
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(30)).await;
    let ok = |method, path: &str, token, body| Row::new(method, path, Some(token), body, 200);
    run_rows(
        &client,
        &base,
        &[
            ok(Method::POST, "/v1/import", CREDIT, Body::Json(portfolio())),
            // The cases open at the next run.
            ok(
                Method::POST,
                "/v1/clock/advance",
                ADMIN,
                Body::Json(json!({"days": 1})),
            ),
            ok(Method::POST, "/v1/events", CREDIT, Body::Json(events())),
        ],
    )
    .await;
    (base, client, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_walked_page_by_page_gives_every_invoice_once_and_the_same_totals() {
    let (base, client, _dir) = customer_server("pages-customer").await;
    let (outstanding, counts) = expected_totals();
    let all: Vec<String> = (0..INVOICES).map(inv_id).collect();

    // Page sizes: the default, an exact divisor (no empty last page), one page, small pages.
    for limit in [None, Some(125), Some(250), Some(1000), Some(7)] {
        let size = limit.unwrap_or(100);
        let (mut seen, mut pages) = (Vec::new(), 0);
        let (mut open, mut to_open) = (Vec::new(), 0);
        let (mut disputes, mut promises, mut sum) = (0, 0, Decimal::ZERO);
        let mut after: Option<String> = None;
        loop {
            let mut query = Vec::new();
            if let Some(l) = limit {
                query.push(format!("limit={l}"));
            }
            if let Some(a) = &after {
                query.push(format!("after={a}"));
            }
            let path = format!("/v1/customers/BIGCO?{}", query.join("&"));
            let page = get(&client, &base, &path).await;
            pages += 1;
            assert_eq!(page["customer"]["id"], json!("BIGCO"), "{path}");
            assert_eq!(decimal(&page["outstanding"]), outstanding, "{path}");
            assert_eq!(page["counts"], counts, "{path}");
            let ids = strings(&page["invoices"]);
            for o in page["open_invoices"].as_array().expect("open invoices") {
                let id = o["id"].as_str().expect("id").to_string();
                assert!(ids.contains(&id), "{path}: {id} is not of the page");
                sum += decimal(&o["outstanding"]);
                open.push(id);
            }
            for a in page["next_actions"].as_array().expect("next actions") {
                let id = a["invoice"].as_str().expect("invoice").to_string();
                assert!(ids.contains(&id), "{path}: {id} is not of the page");
                to_open += usize::from(a["what"] == json!("case opens"));
            }
            disputes += page["disputes"].as_array().expect("disputes").len();
            promises += page["promises"].as_array().expect("promises").len();
            seen.extend(ids.iter().cloned());
            match page.get("next") {
                Some(next) => {
                    assert_eq!(ids.len(), size, "{path}: a page before the last is full");
                    assert_eq!(
                        Some(next),
                        page["invoices"].as_array().and_then(|a| a.last())
                    );
                    after = Some(next.as_str().expect("a cursor").to_string());
                }
                None => {
                    assert!(!ids.is_empty() && ids.len() <= size, "{path}: {ids:?}");
                    break;
                }
            }
            assert!(pages <= INVOICES, "{path}: the walk does not end");
        }
        assert_eq!(
            seen, all,
            "limit {limit:?}: every invoice once, in id order"
        );
        assert_eq!(pages, INVOICES.div_ceil(size), "limit {limit:?}");
        assert_eq!(
            sum, outstanding,
            "limit {limit:?}: the pages add up to the total"
        );
        assert_eq!(json!(open.len()), counts["open"], "limit {limit:?}");
        assert_eq!(json!(to_open), counts["to_open"], "limit {limit:?}");
        assert_eq!(json!(disputes), counts["disputes"], "limit {limit:?}");
        assert_eq!(json!(promises), counts["promises"], "limit {limit:?}");
        let mut sorted = open.clone();
        sorted.sort();
        assert_eq!(open, sorted, "limit {limit:?}: open invoices in id order");
    }

    // A customer whose ids follow BIGCO's in the key order: its own two invoices, no cursor.
    let small = get(&client, &base, "/v1/customers/BIGCO2").await;
    assert_eq!(strings(&small["invoices"]), ["Q-1", "Q-2"]);
    assert_eq!(small["counts"]["invoices"], json!(2));
    assert!(small.get("next").is_none(), "{small}");
    // A cursor after the last invoice: an empty page, the totals still there.
    let end = get(&client, &base, "/v1/customers/BIGCO?after=P-249").await;
    assert_eq!(strings(&end["invoices"]), Vec::<String>::new());
    assert_eq!(end["counts"], counts);
    assert!(end.get("next").is_none(), "{end}");
    // A cursor need not be an invoice of the customer: the page starts after it.
    let mid = get(&client, &base, "/v1/customers/BIGCO?after=P-0995&limit=2").await;
    assert_eq!(strings(&mid["invoices"]), ["P-100", "P-101"]);
    assert_eq!(mid["next"], json!("P-101"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_page_parameters_are_refused_naming_the_parameter() {
    let (base, client, _dir) = customer_server("pages-bad").await;
    let get = |path: &str, want: u16| Row::new(Method::GET, path, Some(CREDIT), Body::None, want);
    let field = |f: &str| json!({"error": "malformed", "field": f});
    let c = "/v1/customers/BIGCO";
    let a = "/v1/agenda";
    let mut rows = Vec::new();
    for bad in ["0", "1001", "ten", "-5", "", "1.5"] {
        rows.push(get(&format!("{c}?limit={bad}"), 400).with(field("limit")));
        rows.push(get(&format!("{a}?limit={bad}"), 400).with(field("limit")));
    }
    for bad in ["", "P%01"] {
        rows.push(get(&format!("{c}?after={bad}"), 400).with(field("after")));
    }
    for bad in [
        "",
        "x",
        "2026-01-05",
        "2026-01-05:",
        "2026-02-30:1",
        "2026-01-05:-1",
        "2026-01-05:x",
    ] {
        rows.push(get(&format!("{a}?after={bad}"), 400).with(field("after")));
    }
    rows.push(get(&format!("{a}?from=tomorrow"), 400).with(field("from")));
    rows.push(get(&format!("{a}?to=2026-01-32"), 400).with(field("to")));
    // Within bounds: answered.
    rows.push(get(&format!("{c}?limit=1"), 200).with(json!({"next": "P-000"})));
    rows.push(get(&format!("{c}?limit=1000"), 200));
    rows.push(get(&format!("{a}?limit=1000&after=2026-01-05:7"), 200));
    rows.push(get("/v1/customers/NOBODY?limit=5", 404));
    run_rows(&client, &base, &rows).await;
}

/// The agenda's days in the test, with how many entries each holds.
const DAYS: [(&str, usize); 3] = [("2026-01-05", 120), ("2026-01-06", 60), ("2026-01-08", 70)];

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn entry(date: NaiveDate, id: u64, assignee: Option<&str>) -> AgendaEntry {
    AgendaEntry {
        id,
        date,
        customer: "BIGCO".into(),
        invoices: vec![format!("P-{id}")],
        kind: "call".into(),
        text: format!("call {id}"),
        assignee: assignee.map(str::to_string),
        contact: None,
        phone: None,
        outcome: None,
        outcome_on: None,
        key: format!("k{id}"),
    }
}

/// Writes the agenda of [`DAYS`] (ids falling from day to day, so that the day comes first in
/// the order) and one entry on each side of January; returns the January entries as (day,
/// id, assignee).
fn write_agenda(dir: &std::path::Path) -> Vec<(NaiveDate, u64, String)> {
    let store = SledStore::open(&dir.join("data")).expect("store");
    let mut ops = Vec::new();
    let mut january = Vec::new();
    for (k, (d, n)) in DAYS.iter().enumerate() {
        let date = day(d);
        for j in 0..*n {
            let id = 10_000 / (k as u64 + 1) + 3 * j as u64;
            let who = match j % 3 {
                0 => Some("alice"),
                1 => Some("bob"),
                _ => None,
            };
            ops.push(Op::Put(
                Tree::Agenda,
                keys::agenda(date, id),
                encode(&entry(date, id, who)),
            ));
            january.push((date, id, who.unwrap_or("unassigned").to_string()));
        }
    }
    for (d, id) in [("2025-12-31", 1), ("2026-02-01", 2)] {
        ops.push(Op::Put(
            Tree::Agenda,
            keys::agenda(day(d), id),
            encode(&entry(day(d), id, Some("alice"))),
        ));
    }
    store.commit(&ops).expect("commit");
    store.flush().expect("flush");
    january.sort();
    january
}

/// The entries of an agenda reply as (day, id, assignee), in the reply's order.
fn agenda_entries(reply: &Value) -> Vec<(NaiveDate, u64, String)> {
    let mut out = Vec::new();
    for (d, by_who) in reply["days"].as_object().expect("days") {
        for (who, entries) in by_who.as_object().expect("assignees") {
            for e in entries.as_array().expect("entries") {
                assert_eq!(e["date"], json!(d), "{e}");
                out.push((day(d), e["id"].as_u64().expect("id"), who.clone()));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agenda_walked_page_by_page_gives_every_entry_once() {
    let dir = TempDir::new("pages-agenda");
    let january = write_agenda(&dir.0);
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(30)).await;

    // (assignee, limit): the default, an exact fit, small pages, one assignee.
    let walks = [
        (None, None),
        (None, Some(250)),
        (None, Some(7)),
        (Some("alice"), Some(30)),
        (Some("unassigned"), Some(1000)),
    ];
    for (assignee, limit) in walks {
        let size = limit.unwrap_or(100);
        let want: Vec<_> = january
            .iter()
            .filter(|e| assignee.is_none_or(|a| e.2 == a))
            .cloned()
            .collect();
        let (mut seen, mut after) = (Vec::new(), None::<String>);
        let mut pages = 0;
        loop {
            let mut path = "/v1/agenda?from=2026-01-01&to=2026-01-31".to_string();
            if let Some(a) = assignee {
                path.push_str(&format!("&assignee={a}"));
            }
            if let Some(l) = limit {
                path.push_str(&format!("&limit={l}"));
            }
            if let Some(a) = &after {
                path.push_str(&format!("&after={a}"));
            }
            let page = get(&client, &base, &path).await;
            pages += 1;
            let mut entries = agenda_entries(&page);
            entries.sort();
            if let (Some(last), Some(first)) = (seen.last(), entries.first()) {
                assert!(last < first, "{path}: pages follow each other");
            }
            match page.get("next") {
                Some(next) => {
                    assert_eq!(
                        entries.len(),
                        size,
                        "{path}: a page before the last is full"
                    );
                    let (d, id, _) = entries.last().expect("a full page");
                    assert_eq!(next, &json!(format!("{d}:{id}")), "{path}");
                    after = Some(next.as_str().expect("cursor").to_string());
                    seen.extend(entries);
                }
                None => {
                    assert!(entries.len() <= size, "{path}");
                    seen.extend(entries);
                    break;
                }
            }
            assert!(pages <= january.len(), "{path}: the walk does not end");
        }
        assert_eq!(
            seen, want,
            "{assignee:?} by {limit:?}: every entry once, in order"
        );
        assert_eq!(
            pages,
            want.len().div_ceil(size).max(1),
            "{assignee:?} by {limit:?}"
        );
    }

    // The default range is today: 120 entries, the first 100 of them on the first page.
    let today = get(&client, &base, "/v1/agenda").await;
    let first = agenda_entries(&today);
    assert_eq!(first.len(), 100);
    assert_eq!(today["next"], json!("2026-01-05:10297"));
    let rest = get(&client, &base, "/v1/agenda?after=2026-01-05:10297").await;
    assert_eq!(agenda_entries(&rest).len(), 20);
    assert!(rest.get("next").is_none(), "{rest}");
}
