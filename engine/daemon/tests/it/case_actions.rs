//! The case actions through the HTTP API (`POST`/`GET /v1/invoices/{id}/actions`) against a
//! real server on 127.0.0.1: each action and the case's state it leaves, the roles (a note is
//! the sales side's, the rest data writers'), a case paused by a dispute that cannot be
//! resumed by hand (409), refusals naming their field with nothing written, and a keyed
//! retry replayed. Requests are tables of rows run by `support::run_rows`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    ADMIN, Body, CREDIT, INTEGRATION, METRICS, Row, SALES, TempDir, run_rows, serve,
};

/// Two customers' invoices, as `POST /v1/import` takes them (today is 2026-01-05).
fn portfolio() -> Value {
    json!({
        "customers": [
            {"id": "ACME", "segment": "b2b", "language": "fr",
             "contacts": {"accounting": {"email": "compta@acme.example"}}},
            {"id": "BETA", "segment": "b2b", "language": "en",
             "contacts": {"accounting": {"email": "ap@beta.example"}}}
        ],
        "invoices": [
            {"id": "F-1", "customer": "ACME", "amount": "1200.00", "currency": "EUR", "issued": "2025-12-01", "due": "2025-12-31"},
            {"id": "F-2", "customer": "BETA", "amount": "300.00", "currency": "EUR", "issued": "2025-12-10", "due": "2026-01-09"}
        ]
    })
}

const F1: &str = "/v1/invoices/F-1/actions";
const F2: &str = "/v1/invoices/F-2/actions";

fn act(path: &str, token: &'static str, body: Value, want: u16) -> Row {
    Row::new(Method::POST, path, Some(token), Body::Json(body), want)
}

fn state(invoice: &str, want: &str) -> Row {
    Row::new(
        Method::GET,
        format!("/v1/invoices/{invoice}"),
        Some(CREDIT),
        Body::None,
        200,
    )
    .with(json!({"state": want}))
}

/// A 400 naming `field`.
fn malformed(field: &str) -> Value {
    json!({"error": "malformed", "field": field})
}

/// A 422 naming `field`.
fn invalid(field: &str) -> Value {
    json!({"error": "invalid", "field": field, "problems": [{"field": field}]})
}

async fn started(tag: &str) -> (TempDir, String, reqwest::Client) {
    let dir = TempDir::new(tag);
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let setup = [
        Row::new(
            Method::POST,
            "/v1/import",
            Some(INTEGRATION),
            Body::Json(portfolio()),
            200,
        ),
        Row::new(Method::POST, "/v1/run", Some(ADMIN), Body::None, 200),
        state("F-1", "active"),
        state("F-2", "active"),
    ];
    run_rows(&client, &base, &setup).await;
    (dir, base, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_action_through_http_with_its_roles_and_refusals() {
    let (_dir, base, client) = started("case-actions").await;
    let long = "x".repeat(2001);
    let rows = [
        // ----- each action, and the state it leaves the case in -----
        act(
            F1,
            CREDIT,
            json!({"action": "pause", "reason": "customer on holiday"}),
            200,
        )
        .with(
            json!({"action": "pause", "reason": "customer on holiday", "invoice": "F-1",
                   "by": "credit", "date": "2026-01-05"}),
        ),
        state("F-1", "paused"),
        act(F1, INTEGRATION, json!({"action": "resume"}), 200)
            .with(json!({"action": "resume", "by": "erp"})),
        state("F-1", "active"),
        act(
            F1,
            CREDIT,
            json!({"action": "postpone", "to": "2026-01-20"}),
            200,
        )
        .with(json!({"action": "postpone", "to": "2026-01-20"})),
        state("F-1", "waiting").with(json!({"next_tick": "2026-01-20"})),
        act(
            F1,
            ADMIN,
            json!({"action": "pause", "reason": "waiting for a call", "until": "2026-02-01"}),
            200,
        )
        .with(json!({"action": "pause", "until": "2026-02-01", "by": "ops"})),
        state("F-1", "waiting").with(json!({"next_tick": "2026-02-01"})),
        act(F1, CREDIT, json!({"action": "resume"}), 200),
        state("F-1", "active"),
        act(
            F1,
            SALES,
            json!({"action": "note", "text": "called: pays Friday"}),
            200,
        )
        .with(json!({"action": "note", "text": "called: pays Friday", "by": "sales"})),
        state("F-1", "active"),
        // ----- roles: a note is the sales side's; the rest data writers' -----
        act(F1, SALES, json!({"action": "pause", "reason": "no"}), 403),
        act(F1, SALES, json!({"action": "resume"}), 403),
        act(
            F1,
            SALES,
            json!({"action": "postpone", "to": "2026-02-01"}),
            403,
        ),
        act(F1, METRICS, json!({"action": "note", "text": "no"}), 403),
        Row::new(
            Method::POST,
            F1,
            None,
            Body::Json(json!({"action": "resume"})),
            401,
        ),
        Row::new(Method::GET, F1, Some(INTEGRATION), Body::None, 403),
        Row::new(Method::GET, F1, Some(METRICS), Body::None, 403),
        // ----- a case paused by a dispute is not resumed by hand -----
        act(
            "/v1/invoices/F-2/disputes",
            INTEGRATION,
            json!({"code": "quality"}),
            200,
        ),
        state("F-2", "paused"),
        act(F2, CREDIT, json!({"action": "resume"}), 409).with(json!({"error": "conflict"})),
        state("F-2", "paused"),
        // Other states that refuse an action: postponing a paused case, resuming an active one.
        act(
            F2,
            CREDIT,
            json!({"action": "postpone", "to": "2026-02-01"}),
            409,
        ),
        act(F1, CREDIT, json!({"action": "resume"}), 409),
        // ----- malformed bodies: 400 naming the field -----
        act(F1, CREDIT, json!({}), 400).with(malformed("action")),
        act(F1, CREDIT, json!({"action": "fly"}), 400).with(malformed("action")),
        act(F1, CREDIT, json!({"action": "pause"}), 400).with(malformed("reason")),
        act(
            F1,
            CREDIT,
            json!({"action": "pause", "until": "2026-02-01"}),
            400,
        )
        .with(malformed("reason")),
        act(F1, CREDIT, json!({"action": "postpone"}), 400).with(malformed("to")),
        act(F1, CREDIT, json!({"action": "note"}), 400).with(malformed("text")),
        act(F1, CREDIT, json!({"action": "resume", "text": "hi"}), 400).with(malformed("text")),
        act(
            F1,
            CREDIT,
            json!({"action": "note", "text": "hi", "to": "2026-02-01"}),
            400,
        )
        .with(malformed("to")),
        act(
            F1,
            CREDIT,
            json!({"action": "note", "text": "hi", "colour": "red"}),
            400,
        )
        .with(malformed("colour")),
        act(
            F1,
            CREDIT,
            json!({"action": "postpone", "to": "tomorrow"}),
            400,
        )
        .with(malformed("to")),
        act(F1, CREDIT, json!(["resume"]), 400),
        Row::new(
            Method::POST,
            F1,
            Some(CREDIT),
            Body::Raw("{\"action\": "),
            400,
        ),
        // ----- values the engine refuses: 422 naming the field -----
        act(F1, CREDIT, json!({"action": "pause", "reason": "   "}), 422).with(invalid("reason")),
        act(F1, CREDIT, json!({"action": "note", "text": long}), 422).with(invalid("text")),
        act(
            F1,
            CREDIT,
            json!({"action": "postpone", "to": "2026-01-05"}),
            422,
        )
        .with(invalid("to")),
        act(
            F1,
            CREDIT,
            json!({"action": "pause", "reason": "x", "until": "2026-01-01"}),
            422,
        )
        .with(invalid("until")),
        // ----- no open case -----
        act(
            "/v1/invoices/NOPE/actions",
            CREDIT,
            json!({"action": "resume"}),
            404,
        )
        .with(json!({"error": "not_found"})),
        Row::new(
            Method::GET,
            "/v1/invoices/NOPE/actions",
            Some(CREDIT),
            Body::None,
            404,
        ),
        // ----- the list: what was recorded, oldest first -----
        Row::new(Method::GET, F1, Some(SALES), Body::None, 200).with(json!({
            "invoice": "F-1",
            "actions": [
                {"action": "pause", "by": "credit"},
                {"action": "resume", "by": "erp"},
                {"action": "postpone", "by": "credit"},
                {"action": "pause", "by": "ops"},
                {"action": "resume", "by": "credit"},
                {"action": "note", "by": "sales"},
            ]
        })),
        Row::new(Method::GET, F2, Some(CREDIT), Body::None, 200)
            .with(json!({"invoice": "F-2", "actions": []})),
    ];
    let answers = run_rows(&client, &base, &rows).await;
    let at = |method: Method, path: &str, want: u16| {
        rows.iter()
            .position(|r| r.method == method && r.path == path && r.want == want.into())
            .map(|i| &answers[i])
            .expect("row")
    };
    // The refusals wrote nothing: six actions on F-1, none on F-2.
    let list = at(Method::GET, F1, 200);
    assert_eq!(list["actions"].as_array().map(Vec::len), Some(6), "{list}");
    let ids: Vec<u64> = list["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["id"].as_u64().expect("id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    // A note keeps only its own fields.
    let note = &list["actions"][5];
    assert!(
        note.get("reason").is_none() && note.get("to").is_none(),
        "{note}"
    );
    // The dispute's refusal says why and what to do.
    let conflict = at(Method::POST, F2, 409);
    let message = conflict["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("open dispute") && message.contains("resolving the dispute"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_action_retried_is_replayed_not_recorded_twice() {
    let (_dir, base, client) = started("case-actions-idem").await;
    let post = |key: &str, body: Value| {
        client
            .post(format!("{base}{F1}"))
            .bearer_auth(CREDIT)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let pause = json!({"action": "pause", "reason": "holiday", "until": "2026-01-20"});
    let first = post("k-1", pause.clone()).await.expect("request");
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers().get("Idempotent-Replayed").is_none());
    let first: Value = first.json().await.expect("json");
    // The retry: the same reply, flagged, and nothing recorded again.
    let again = post("k-1", pause.clone()).await.expect("request");
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again
            .headers()
            .get("Idempotent-Replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let again: Value = again.json().await.expect("json");
    assert_eq!(first, again);
    // The key reused for another body: refused, naming the header.
    let other = post("k-1", json!({"action": "resume"}))
        .await
        .expect("request");
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let other: Value = other.json().await.expect("json");
    assert_eq!(other["field"], "Idempotency-Key", "{other}");
    // One action recorded, the one replied.
    let list: Value = client
        .get(format!("{base}{F1}"))
        .bearer_auth(CREDIT)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(list["actions"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["actions"][0], first);

    // A retry after its date has passed is still replayed (not refused as a past date).
    let postpone = |key: &'static str| {
        client
            .post(format!("{base}{F2}"))
            .bearer_auth(CREDIT)
            .header("Idempotency-Key", key)
            .json(&json!({"action": "postpone", "to": "2026-01-07"}))
            .send()
    };
    let first = postpone("k-2").await.expect("request");
    assert_eq!(first.status(), StatusCode::OK);
    let advanced = client
        .post(format!("{base}/v1/clock/advance"))
        .bearer_auth(ADMIN)
        .json(&json!({"to": "2026-01-08"}))
        .send()
        .await
        .expect("request");
    assert_eq!(advanced.status(), StatusCode::OK);
    let again = postpone("k-2").await.expect("request");
    assert_eq!(again.status(), StatusCode::OK);
    assert!(again.headers().get("Idempotent-Replayed").is_some());
    // A new key with that date is now refused, naming it.
    let fresh = postpone("k-3").await.expect("request");
    assert_eq!(fresh.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fresh: Value = fresh.json().await.expect("json");
    assert_eq!(fresh["field"], "to", "{fresh}");
}
