//! What the daemon checks in written data, through the real API: one table, one row per case
//! (the request, the status it must answer, the field the refusal must name, and for records
//! the record's path or a file's line). Events dated before their invoice's issue date,
//! amounts with more decimals than their currency has minor units, amounts beyond
//! `MAX_AMOUNT` (which no sum of the engine can overflow), negative amounts, empty ids and
//! absurd dates (year before 1900 or after 2200) are each refused with 422 naming the field;
//! nothing of a refused request is written, and the server never answers 500. Another test
//! opens a store holding a customer whose total is already at the limit of a decimal (written
//! before these checks existed): one more invoice for it answers 422, not a 500 or a panic.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ADMIN, Body, CREDIT, Row, TempDir, run_rows, serve};
use relance_core::domain::{Customer, Invoice};
use relance_daemon::keys;
use relance_daemon::store::{Op, SledStore, Store, Tree};

/// The largest `rust_decimal` value: any sum of two of them overflows.
const DECIMAL_MAX: &str = "79228162514264337593543950335";

fn portfolio() -> Value {
    json!({
        "customers": [
            {"id": "ACME", "segment": "b2b", "language": "fr",
             "contacts": {"accounting": {"email": "compta@acme.example"}}},
            {"id": "NIPPON", "segment": "b2b", "language": "en",
             "contacts": {"accounting": {"email": "ap@nippon.example"}}},
            {"id": "BIG", "segment": "b2b", "language": "fr",
             "contacts": {"accounting": {"email": "ap@big.example"}}}
        ],
        "invoices": [
            {"id": "F-1", "customer": "ACME", "amount": "1200.00", "currency": "EUR", "issued": "2025-12-01", "due": "2025-12-31"},
            {"id": "J-1", "customer": "NIPPON", "amount": "150000", "currency": "JPY", "issued": "2025-12-01", "due": "2025-12-31"}
        ]
    })
}

fn invoice(id: &str, customer: &str, amount: &str, currency: &str) -> Value {
    json!({"id": id, "customer": customer, "amount": amount, "currency": currency,
           "issued": "2026-01-02", "due": "2026-02-01"})
}

fn dated(id: &str, issued: &str, due: &str) -> Value {
    json!({"id": id, "customer": "ACME", "amount": "10.00", "issued": issued, "due": due})
}

fn post(path: &str, body: Value, want: u16) -> Row {
    Row::new(Method::POST, path, Some(CREDIT), Body::Json(body), want)
}

fn get(path: &str, want: u16) -> Row {
    Row::new(Method::GET, path, Some(CREDIT), Body::None, want)
}

/// A CSV file posted as it is.
fn file(path: &str, text: &'static str, want: u16) -> Row {
    Row::new(Method::POST, path, Some(CREDIT), Body::Raw(text), want)
}

/// The answer of a refusal naming `field` of the record at `path`.
fn refused(field: &str, path: &str) -> Value {
    json!({"error": "invalid", "field": field, "problems": [{"path": path, "field": field}]})
}

fn event(kind: &str) -> String {
    format!("events[0] ({kind})")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_value_names_its_field_and_writes_nothing() {
    let dir = TempDir::new("api-validation");
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let pay = "/v1/invoices/F-1/payments";
    let promise = "/v1/invoices/F-1/promises";
    let rows = [
        post("/v1/import", portfolio(), 200),
        // The next day: the cases of the import are open.
        Row::new(Method::POST, "/v1/clock/advance", Some(ADMIN), Body::Json(json!({"days": 1})), 200),
        // ----- events dated before the invoice's issue date (2025-12-01) -----
        post(pay, json!({"amount": "5.00", "date": "2025-11-30"}), 422)
            .with(refused("date", &event("payment"))),
        post(
            "/v1/events",
            json!([{"type": "dispute_opened", "invoice": "F-1", "code": "quality", "date": "2025-06-01"}]),
            422,
        )
        .with(refused("date", &event("dispute_opened"))),
        post(promise, json!({"promised_date": "2026-01-20", "date": "2025-11-01"}), 422)
            .with(refused("date", &event("promise_made"))),
        // An invoice and an event on it in one import: the event is checked against it, and
        // nothing of the import is written.
        post(
            "/v1/import",
            json!({"invoices": [invoice("F-2", "ACME", "10.00", "EUR")],
                   "events": [{"type": "payment", "invoice": "F-2", "amount": "1.00", "date": "2026-01-01"}]}),
            422,
        )
        .with(refused("date", &event("payment"))),
        get("/v1/invoices/F-2", 404),
        // On the issue date itself: accepted.
        post(pay, json!({"amount": "1.00", "date": "2025-12-01"}), 200).with(json!({"events": 1})),
        // ----- more decimals than the currency has -----
        post(pay, json!({"amount": "5.001"}), 422).with(refused("amount", &event("payment"))),
        // Trailing zeros are not sub-cent.
        post(pay, json!({"amount": "5.010"}), 200).with(json!({"events": 1})),
        post("/v1/invoices/F-1/credit-notes", json!({"amount": "0.005"}), 422)
            .with(refused("amount", &event("credit_note"))),
        post(promise, json!({"promised_date": "2026-01-20", "amount": "10.125"}), 422)
            .with(refused("amount", &event("promise_made"))),
        post("/v1/invoices/F-1/disputes", json!({"code": "quality", "amount": "0.001"}), 422)
            .with(refused("amount", &event("dispute_opened"))),
        post("/v1/invoices", invoice("F-3", "ACME", "10.005", "EUR"), 422)
            .with(refused("amount", "invoices[0] (F-3)")),
        post(
            "/v1/invoices",
            json!({"id": "F-3", "customer": "ACME", "amount": "10.00", "outstanding": "5.001",
                   "issued": "2026-01-02", "due": "2026-02-01"}),
            422,
        )
        .with(refused("outstanding", "invoices[0] (F-3)")),
        // Yen have no minor unit.
        post("/v1/invoices", invoice("J-2", "NIPPON", "1000.5", "JPY"), 422)
            .with(refused("amount", "invoices[0] (J-2)")),
        post("/v1/invoices/J-1/payments", json!({"amount": "0.50"}), 422)
            .with(refused("amount", &event("payment"))),
        post("/v1/invoices", invoice("J-2", "NIPPON", "1000", "JPY"), 200).with(json!({"invoices": 1})),
        get("/v1/invoices/F-3", 404),
        // A file names the line and the column.
        file("/v1/import/csv/payments", "date,invoice,amount\n2026-01-02,F-1,1.005\n", 422)
            .with(json!({"error": "invalid", "field": "amount", "line": 2,
                         "problems": [{"line": 2, "field": "amount"}]})),
        // ----- amounts too large for the engine's sums: 422, never a 500 -----
        post("/v1/invoices", invoice("B-1", "BIG", DECIMAL_MAX, "EUR"), 422)
            .with(refused("amount", "invoices[0] (B-1)")),
        post(
            "/v1/invoices",
            json!([invoice("B-1", "BIG", DECIMAL_MAX, "EUR"), invoice("B-2", "BIG", DECIMAL_MAX, "EUR")]),
            422,
        )
        .with(json!({"field": "amount", "problems": [{"path": "invoices[0] (B-1)"}, {"path": "invoices[1] (B-2)"}]})),
        post(pay, json!({"amount": DECIMAL_MAX}), 422).with(refused("amount", &event("payment"))),
        post(
            "/v1/events",
            json!([{"type": "payment", "invoice": "F-1", "amount": DECIMAL_MAX},
                   {"type": "payment", "invoice": "F-1", "amount": DECIMAL_MAX}]),
            422,
        )
        .with(json!({"field": "amount", "problems": [{"path": "events[0] (payment)"}, {"path": "events[1] (payment)"}]})),
        post(promise, json!({"promised_date": "2026-01-20", "amount": DECIMAL_MAX}), 422)
            .with(refused("amount", &event("promise_made"))),
        // Beyond what a decimal holds at all: 400 naming the field.
        post(pay, json!({"amount": "79228162514264337593543950336"}), 400)
            .with(json!({"error": "malformed", "field": "amount"})),
        post("/v1/invoices", invoice("B-1", "BIG", "1000000000000000.01", "EUR"), 422)
            .with(refused("amount", "invoices[0] (B-1)")),
        get("/v1/invoices/B-1", 404),
        // The bound itself is accepted, and a customer's totals over several such invoices
        // add up without overflow.
        post(
            "/v1/invoices",
            json!([invoice("B-1", "BIG", "1000000000000000", "EUR"), invoice("B-2", "BIG", "1000000000000000.00", "EUR")]),
            200,
        )
        .with(json!({"invoices": 2})),
        // ----- negative amounts -----
        post("/v1/invoices", invoice("N-1", "ACME", "-100", "EUR"), 422)
            .with(refused("amount", "invoices[0] (N-1)")),
        post(
            "/v1/invoices",
            json!({"id": "N-1", "customer": "ACME", "amount": "10.00", "outstanding": "-1",
                   "issued": "2026-01-02", "due": "2026-02-01"}),
            422,
        )
        .with(refused("outstanding", "invoices[0] (N-1)")),
        post(pay, json!({"amount": "-5"}), 422).with(refused("amount", &event("payment"))),
        post("/v1/invoices/F-1/credit-notes", json!({"amount": "-1.00"}), 422)
            .with(refused("amount", &event("credit_note"))),
        post(promise, json!({"promised_date": "2026-01-20", "amount": "-3"}), 422)
            .with(refused("amount", &event("promise_made"))),
        post("/v1/invoices/F-1/disputes", json!({"code": "quality", "amount": "-3"}), 422)
            .with(refused("amount", &event("dispute_opened"))),
        file("/v1/import/csv/payments", "date,invoice,amount\n2026-01-02,F-1,-4\n", 422)
            .with(json!({"field": "amount", "line": 2})),
        get("/v1/invoices/N-1", 404),
        // ----- empty ids -----
        post("/v1/customers", json!({"id": "", "contacts": {}}), 422)
            .with(json!({"field": "id", "problems": [{"field": "id"}]})),
        post("/v1/customers", json!({"id": "  ", "contacts": {}}), 422)
            .with(json!({"field": "id", "problems": [{"field": "id"}]})),
        post("/v1/invoices", invoice("", "ACME", "10.00", "EUR"), 422)
            .with(json!({"field": "id", "problems": [{"path": "invoices[0]", "field": "id"}]})),
        post("/v1/invoices", invoice("E-1", "", "10.00", "EUR"), 422)
            .with(refused("customer", "invoices[0] (E-1)")),
        post("/v1/events", json!({"type": "payment", "invoice": "", "amount": "5"}), 422)
            .with(refused("invoice", &event("payment"))),
        post("/v1/events", json!({"type": "risk_changed", "customer": "", "risk_score": 5}), 422)
            .with(refused("customer", &event("risk_changed"))),
        // ----- absurd dates -----
        post("/v1/invoices", dated("Y-1", "1899-12-31", "1900-01-30"), 422)
            .with(refused("issued", "invoices[0] (Y-1)")),
        post("/v1/invoices", dated("Y-1", "0000-01-01", "2026-01-30"), 422)
            .with(refused("issued", "invoices[0] (Y-1)")),
        post("/v1/invoices", dated("Y-1", "2026-01-02", "2201-01-01"), 422)
            .with(refused("due", "invoices[0] (Y-1)")),
        post("/v1/invoices", dated("Y-1", "2026-01-02", "9999-12-31"), 422)
            .with(refused("due", "invoices[0] (Y-1)")),
        post(pay, json!({"amount": "1.00", "date": "1850-01-01"}), 422)
            .with(json!({"field": "date", "problems": [{"path": event("payment"), "field": "date"}]})),
        post(promise, json!({"promised_date": "9999-12-31"}), 422)
            .with(refused("promised_date", &event("promise_made"))),
        post("/v1/invoices/F-1/disputes", json!({"code": "quality", "target_date": "2201-01-01"}), 422)
            .with(refused("target_date", &event("dispute_opened"))),
        post(
            "/v1/invoices/F-1/task-outcomes",
            json!({"outcome": "reached", "promised_date": "2300-01-01"}),
            422,
        )
        .with(refused("promised_date", &event("task_outcome"))),
        file("/v1/import/csv/payments", "date,invoice,amount\n1812-01-02,F-1,4\n", 422)
            .with(json!({"field": "date", "line": 2})),
        get("/v1/invoices/Y-1", 404),
        // Every refusal above wrote nothing: F-1 holds the two payments accepted (1.00, 5.010).
        get("/v1/invoices/F-1", 200).with(json!({"case": {"outstanding": "1193.990"}})),
        // The next day B-1 and B-2 are open cases: their customer's total adds up.
        Row::new(
            Method::POST,
            "/v1/clock/advance",
            Some(ADMIN),
            Body::Json(json!({"days": 1})),
            200,
        ),
        get("/v1/customers/BIG", 200).with(json!({"outstanding": "2000000000000000.00"})),
    ];
    run_rows(&client, &base, &rows).await;
}

/// A store written before the amounts were bounded may hold a customer whose total is already
/// at a decimal's limit: one more invoice for it would overflow the customer's total. It is
/// refused with 422 naming the amount, and neither the write, the customer's view nor the
/// daily run answers 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overflowing_customer_total_answers_422_not_500() {
    let dir = TempDir::new("api-overflow");
    {
        let store = SledStore::open(&dir.0.join("data")).expect("store");
        let customer = Customer::new("BIG");
        let legacy = Invoice {
            id: "L-1".into(),
            customer: "BIG".into(),
            amount: DECIMAL_MAX.parse().expect("decimal"),
            currency: "EUR".into(),
            issued: "2025-12-01".parse().expect("date"),
            due: "2025-12-31".parse().expect("date"),
            outstanding: None,
            po_number: None,
            payment_terms: None,
            delivered_on: None,
            dunning: Default::default(),
            payment_means: None,
            late_interest_rate: None,
            installments: Vec::new(),
        };
        store
            .commit(&[
                Op::Put(
                    Tree::Customers,
                    b"BIG".to_vec(),
                    serde_json::to_vec(&customer).expect("json"),
                ),
                Op::Put(
                    Tree::Invoices,
                    b"L-1".to_vec(),
                    serde_json::to_vec(&legacy).expect("json"),
                ),
                Op::Put(
                    Tree::ByCustomer,
                    keys::by_customer("BIG", "L-1"),
                    Vec::new(),
                ),
            ])
            .expect("commit");
        store.flush().expect("flush");
    }
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let rows = [
        post("/v1/invoices", invoice("B-1", "BIG", "1.00", "EUR"), 422)
            .with(refused("amount", "invoices[0] (B-1)")),
        get("/v1/invoices/B-1", 404),
        get("/v1/customers/BIG", 200),
        post("/v1/run", json!({}), 200),
    ];
    run_rows(&client, &base, &rows).await;
}

/// An invoice's installments in their text form (`"2026-02-01 30%; 2026-03-03 rest"`, the
/// `installments` column's and the portfolio JSON's) are taken by `POST /v1/invoices` and
/// `POST /v1/import` as the array they stand for, resolved against the invoice's amount; the
/// view shows the array; without a `due` (or with a `null` one), the invoice is due on its
/// last installment, as docs/DATA.md says of the portfolio JSON. A text that does not read,
/// or whose shares do not resolve (120 %), is a 400 naming `installments` (with the record's
/// place in a list or an import); one that resolves but whose last date is not the invoice's
/// due date gets the same 422 as the array would. Nothing of a refused request is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installments_in_their_text_form_are_taken_as_the_array() {
    let dir = TempDir::new("api-installments-text");
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let with_plan = |id: &str, plan: &str| {
        json!({"id": id, "customer": "ACME", "amount": "1000.00", "issued": "2026-01-02",
               "due": "2026-03-03", "installments": plan})
    };
    let malformed = |field: &str| json!({"error": "malformed", "field": field});
    let plan = "2026-02-01 30%; 2026-03-03 rest";
    let rows = [
        post("/v1/import", portfolio(), 200),
        post("/v1/invoices", with_plan("T-1", plan), 200),
        get("/v1/invoices/T-1", 200).with(json!({"invoice": {"installments": [
            {"due": "2026-02-01", "amount": "300.00"},
            {"due": "2026-03-03", "amount": "700.00"}
        ]}})),
        post("/v1/import", json!({"invoices": [with_plan("T-2", "2026-02-01 400; 2026-03-03 rest")]}), 200),
        get("/v1/invoices/T-2", 200).with(json!({"invoice": {"installments": [
            {"due": "2026-02-01", "amount": "400"},
            {"due": "2026-03-03", "amount": "600.00"}
        ]}})),
        // Without a due date, the invoice is due on its last installment (either form).
        post("/v1/invoices", json!([
            {"id": "T-8", "customer": "ACME", "amount": "10.00", "issued": "2026-01-02", "due": null, "installments": "2026-02-01 4; 2026-03-01 rest"},
            {"id": "T-9", "customer": "ACME", "amount": "10.00", "issued": "2026-01-02",
             "installments": [{"due": "2026-02-01", "amount": "4.00"}, {"due": "2026-04-01", "amount": "6.00"}]}
        ]), 200),
        get("/v1/invoices/T-8", 200).with(json!({"invoice": {"due": "2026-03-01"}})),
        get("/v1/invoices/T-9", 200).with(json!({"invoice": {"due": "2026-04-01"}})),
        // Texts that do not read.
        post("/v1/invoices", with_plan("T-3", "2026-02-01 thirty"), 400).with(malformed("installments")),
        post("/v1/invoices", json!([with_plan("T-3", plan), with_plan("T-4", "soon 30%")]), 400)
            .with(malformed("[1].installments")),
        post("/v1/import", json!({"invoices": [with_plan("T-5", plan), with_plan("T-6", "2026-02-01 120%; 2026-03-03 rest")]}), 400)
            .with(malformed("invoices[1].installments")),
        // A text that reads but whose last date is not the invoice's due date: the array's 422.
        post("/v1/invoices", with_plan("T-7", "2026-02-01 30%; 2026-03-31 rest"), 422)
            .with(refused("installments", "invoices[0] (T-7)")),
        // Nothing of the refused requests was written.
        get("/v1/invoices/T-3", 404),
        get("/v1/invoices/T-5", 404),
        get("/v1/invoices/T-7", 404),
    ];
    run_rows(&client, &base, &rows).await;
}
