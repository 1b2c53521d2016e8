//! The OpenAPI document (`GET /v1/openapi.json`), through the real API: it is an OpenAPI 3.1
//! document (`oas3` reads it, every `$ref` resolves, every component schema is a valid JSON
//! Schema 2020-12); its operations are exactly the router's routes and the route table's
//! (`api::openapi::ROUTES`: a route added without documentation fails here), each route
//! answers the methods documented and 405 for the others, and each role is refused (403)
//! exactly where the document says; real answers (a customer, an invoice, the agenda, the
//! outbox, a write, a 422 and a 404) validate against the schema the document gives for their
//! route and status, with no undocumented key.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN, CREDIT, INTEGRATION, METRICS, SALES, TempDir, serve};
use relance_daemon::api::auth::allowed;
use relance_daemon::api::openapi::{self, ROUTES};
use relance_daemon::config::Role;
use relance_daemon::keys;
use relance_daemon::model::{AgendaEntry, encode};
use relance_daemon::store::{Op, SledStore, Store, Tree};

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

async fn document(base: &str, client: &reqwest::Client) -> Value {
    let r = client
        .get(format!("{base}/v1/openapi.json"))
        .send()
        .await
        .expect("GET openapi.json");
    assert_eq!(r.status(), StatusCode::OK, "the document needs no token");
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    r.json().await.expect("JSON")
}

/// Every `$ref` of `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_openapi_3_1() {
    let dir = TempDir::new("openapi-valid");
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let doc = document(&base, &client).await;
    if let Ok(path) = std::env::var("RELANCE_OPENAPI_DUMP") {
        std::fs::write(path, format!("{doc:#}")).expect("dump");
    }
    let spec = oas3::from_json(doc.to_string()).expect("an OpenAPI 3.1 document");
    let version = spec.validate_version().expect("a supported version");
    assert_eq!((version.major, version.minor), (3, 1));
    assert!(spec.operations().count() >= ROUTES.len());
    for (path, method, op) in spec.operations() {
        let responses = op.responses(&spec);
        assert!(
            responses.contains_key("200"),
            "{method} {path} documents its success"
        );
        for (status, r) in responses {
            for (media, content) in &r.content {
                if let Some(schema) = &content.schema {
                    schema
                        .resolve(&spec)
                        .unwrap_or_else(|e| panic!("{method} {path} {status} {media}: {e}"));
                }
            }
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a local schema reference: {r}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} resolves"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for (name, schema) in schemas {
        jsonschema::meta::validate(schema)
            .unwrap_or_else(|e| panic!("{name} is not a JSON Schema: {e}"));
    }
    assert_eq!(
        doc["components"]["securitySchemes"][openapi::BEARER],
        json!({"type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"][openapi::BEARER]["description"]})
    );
    // Money is a decimal string, dates are calendar dates, ids are strings (no `String`
    // schema of their own).
    let schemas = &doc["components"]["schemas"];
    assert!(schemas.get("String").is_none());
    for (schema, key, want) in [
        ("Invoice", "amount", json!({"type": "string"})),
        (
            "Invoice",
            "due",
            json!({"type": "string", "format": "date"}),
        ),
        ("Invoice", "id", json!({"type": "string"})),
        ("OpenInvoice", "outstanding", json!({"type": "string"})),
        ("Item", "amount", json!({"type": "string"})),
        ("Message", "next_attempt", json!({"format": "date-time"})),
    ] {
        let p = property(&schemas[schema], key).unwrap_or_else(|| panic!("{schema}.{key}"));
        for (k, v) in want.as_object().expect("object") {
            assert_eq!(&p[k], v, "{schema}.{key}: {p}");
        }
    }
}

/// The schema of property `key` of `schema`, in its own properties or its `allOf` parts'.
fn property<'a>(schema: &'a Value, key: &str) -> Option<&'a Value> {
    schema["properties"].get(key).or_else(|| {
        schema["allOf"]
            .as_array()?
            .iter()
            .find_map(|part| part["properties"].get(key))
    })
}

/// A concrete request path for a route's template.
fn concrete(path: &str) -> String {
    path.replace("{id}", "X-1").replace("{kind}", "customers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_documented_with_its_methods_and_roles() {
    let dir = TempDir::new("openapi-routes");
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let doc = document(&base, &client).await;

    // The router's paths, the table's and the document's are the same.
    let routed: BTreeSet<&str> = relance_daemon::api::route_paths(true).into_iter().collect();
    let table: BTreeSet<&str> = ROUTES.iter().map(|r| r.path).collect();
    let documented: BTreeSet<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(routed, table, "the router's paths and the route table's");
    assert_eq!(
        documented, table,
        "the document's paths and the route table's"
    );

    // Their methods: the document's are the table's, and the server answers those (never
    // 405) and refuses the others (405).
    let table: BTreeSet<(&str, &str)> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                documented.insert((m, path.as_str()));
            }
        }
    }
    assert_eq!(
        documented, table,
        "the document's operations and the table's"
    );
    for path in &routed {
        for m in METHODS {
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).expect("method");
            let status = client
                .request(method, format!("{base}{}", concrete(path)))
                .send()
                .await
                .expect("request")
                .status();
            let want_405 = !table.contains(&(m, *path));
            assert_eq!(
                status == StatusCode::METHOD_NOT_ALLOWED,
                want_405,
                "{m} {path}: {status}"
            );
        }
    }

    // The roles: every documented operation names the roles the access matrix allows, and
    // asks for the bearer scheme unless it is public; a role outside them is refused.
    let tokens = [
        (Role::Admin, ADMIN),
        (Role::CreditManager, CREDIT),
        (Role::Sales, SALES),
        (Role::Integration, INTEGRATION),
        (Role::Metrics, METRICS),
    ];
    for r in ROUTES {
        let op = &doc["paths"][r.path][r.method];
        let description = op["description"].as_str().unwrap_or_default();
        match r.family {
            None => {
                assert!(op.get("security").is_none(), "{} {}", r.method, r.path);
                assert!(description.contains("no token"), "{description}");
            }
            Some(family) => {
                assert_eq!(op["security"][0], json!({openapi::BEARER: []}));
                assert!(op["responses"].get("401").is_some());
                assert!(
                    description.contains(&openapi::roles(family).join(", ")),
                    "{} {}: {description}",
                    r.method,
                    r.path
                );
                // The GET routes check the role before anything else: each role gets a 403
                // exactly where the matrix refuses it.
                if r.method == "get" {
                    for (role, token) in tokens {
                        let status = client
                            .get(format!("{base}{}", concrete(r.path)))
                            .bearer_auth(token)
                            .send()
                            .await
                            .expect("request")
                            .status();
                        assert_eq!(
                            status == StatusCode::FORBIDDEN,
                            !allowed(role, family),
                            "{role:?} GET {}: {status}",
                            r.path
                        );
                    }
                }
            }
        }
    }
}

/// `schema` with every object that lists its properties closed to others
/// (`unevaluatedProperties: false`), except the parts of an `allOf` (a flattened field's
/// properties are evaluated by a sibling) and the schemas they refer to.
fn closed(schema: &mut Value, in_all_of: bool, open: &BTreeSet<String>) {
    if let Value::Object(m) = schema {
        let composed = m.contains_key("allOf");
        if (m.contains_key("properties") || composed) && !in_all_of {
            m.insert("unevaluatedProperties".into(), Value::Bool(false));
        }
        for (k, v) in m.iter_mut() {
            match (k.as_str(), v) {
                ("allOf", Value::Array(parts)) => {
                    parts.iter_mut().for_each(|p| closed(p, true, open));
                }
                ("schemas", Value::Object(named)) => {
                    for (name, s) in named.iter_mut() {
                        closed(s, open.contains(name), open);
                    }
                }
                (_, v) => closed(v, false, open),
            }
        }
    } else if let Value::Array(a) = schema {
        a.iter_mut().for_each(|x| closed(x, false, open));
    }
}

/// The names of the schemas an `allOf` refers to.
fn in_all_of(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(parts) = m.get("allOf") {
                let mut r = Vec::new();
                refs(parts, &mut r);
                out.extend(
                    r.iter()
                        .filter_map(|r| r.strip_prefix("#/components/schemas/"))
                        .map(str::to_string),
                );
            }
            m.values().for_each(|x| in_all_of(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| in_all_of(x, out)),
        _ => {}
    }
}

/// Checks `body`, answered with `status` by `method path`, against the document's schema
/// for it (the components closed to undocumented keys).
fn check(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} documents a JSON answer for {status}"
    );
    let mut open = BTreeSet::new();
    in_all_of(&doc["components"], &mut open);
    let mut components = doc["components"].clone();
    closed(&mut components, false, &open);
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": components,
    });
    let validator = jsonschema::validator_for(&root).expect("a schema");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:#?}\n{body:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_validate_against_their_route_s_schema() {
    let dir = TempDir::new("openapi-answers");
    // A call on the agenda (the agenda channel fills it when a dispatcher delivers; none runs
    // here), written to the store before the server opens it.
    let store = SledStore::open(&dir.0.join("data")).expect("store");
    let date: NaiveDate = "2026-02-02".parse().expect("date");
    let call = AgendaEntry {
        id: 7,
        date,
        customer: "ACME".into(),
        invoices: vec!["F-4".into()],
        kind: "call".into(),
        text: "call accounting assign collector".into(),
        assignee: Some("collector".into()),
        contact: Some("accounting".into()),
        phone: Some("+33 1 23 45 67 89".into()),
        outcome: None,
        outcome_on: None,
        key: "k7".into(),
    };
    let put = Op::Put(Tree::Agenda, keys::agenda(date, 7), encode(&call));
    store.commit(&[put]).expect("commit");
    store.flush().expect("flush");
    drop(store);
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(60)).await;
    let doc = document(&base, &client).await;
    let send = |method: Method, path: &str, body: Option<Value>| {
        let mut r = client
            .request(method, format!("{base}{path}"))
            .bearer_auth(ADMIN);
        if let Some(b) = body {
            r = r.json(&b);
        }
        async move {
            let r = r.send().await.expect("request");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.expect("JSON"))
        }
    };
    let portfolio = json!({
        "customers": [{"id": "ACME", "name": "Acme", "segment": "b2b", "language": "fr",
            "contacts": {"accounting": {"email": "compta@acme.example", "phone": "+33 1 23 45 67 89",
                "address": {"lines": ["1 rue de la Paix"], "postcode": "75002", "city": "Paris", "country": "FR"}}}}],
        "invoices": [
            {"id": "F-1", "customer": "ACME", "amount": "1200.00", "currency": "EUR",
             "issued": "2026-01-05", "due": "2026-01-10", "po_number": "PO-7"},
            {"id": "F-2", "customer": "ACME", "amount": "2500.50", "currency": "EUR",
             "issued": "2026-01-05", "due": "2026-01-10"},
            {"id": "F-4", "customer": "ACME", "amount": "1500.00", "currency": "EUR",
             "issued": "2026-01-05", "due": "2026-01-10"}
        ]
    });
    // Writes: each answer is the route's.
    let rows: [(&str, Value); 3] = [
        ("/v1/import", portfolio),
        (
            "/v1/customers",
            json!([{"id": "NIPPON", "segment": "b2b", "language": "en"}]),
        ),
        (
            "/v1/invoices",
            json!({"id": "F-3", "customer": "ACME", "amount": "99.90", "issued": "2026-01-05", "due": "2026-02-04"}),
        ),
    ];
    for (path, body) in rows {
        let (status, answer) = send(Method::POST, path, Some(body)).await;
        assert_eq!(status, 200, "{path}: {answer}");
        check(&doc, "post", path, status, &answer);
    }
    // A month on: cases open, reminders wait in the outbox (no dispatcher runs here), a call
    // is on the agenda, F-2 is disputed and F-1 promised.
    let advance = "/v1/clock/advance";
    let (status, answer) = send(Method::POST, advance, Some(json!({"to": "2026-01-20"}))).await;
    check(&doc, "post", advance, status, &answer);
    let events = [
        (
            "/v1/invoices/{id}/disputes",
            "/v1/invoices/F-2/disputes",
            json!({"code": "quality", "amount": "500.00", "comment": "broken parts"}),
        ),
        (
            "/v1/invoices/{id}/promises",
            "/v1/invoices/F-1/promises",
            json!({"promised_date": "2026-01-30", "amount": "600.00"}),
        ),
    ];
    for (route, path, body) in events {
        let (status, answer) = send(Method::POST, path, Some(body)).await;
        assert_eq!(status, 200, "{path}: {answer}");
        check(&doc, "post", route, status, &answer);
    }
    // Case actions: a pause with its date and a note (each answer keeps its own fields).
    let actions = [
        json!({"action": "pause", "reason": "on holiday", "until": "2026-01-25"}),
        json!({"action": "note", "text": "called: pays on the 30th"}),
    ];
    for body in actions {
        let path = "/v1/invoices/F-3/actions";
        let (status, answer) = send(Method::POST, path, Some(body)).await;
        assert_eq!(status, 200, "{path}: {answer}");
        check(&doc, "post", "/v1/invoices/{id}/actions", status, &answer);
    }
    let (status, answer) = send(Method::POST, advance, Some(json!({"to": "2026-02-20"}))).await;
    assert_eq!(status, 200, "{answer}");

    // Reads.
    let reads = [
        ("/v1/customers/{id}", "/v1/customers/ACME"),
        ("/v1/invoices/{id}", "/v1/invoices/F-1"),
        ("/v1/invoices/{id}", "/v1/invoices/F-2"),
        ("/v1/invoices/{id}/actions", "/v1/invoices/F-3/actions"),
        ("/v1/agenda", "/v1/agenda?from=2026-01-01&to=2026-02-28"),
        ("/v1/outbox", "/v1/outbox"),
        ("/v1/scenarios", "/v1/scenarios"),
        ("/v1/reports/behaviour", "/v1/reports/behaviour"),
        ("/v1/clock", "/v1/clock"),
        ("/healthz", "/healthz"),
    ];
    for (route, path) in reads {
        let (status, answer) = send(Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {answer}");
        check(&doc, "get", route, status, &answer);
    }
    // What the answers hold, so the checks above were not vacuous.
    let (_, agenda) = send(
        Method::GET,
        "/v1/agenda?from=2026-01-01&to=2026-02-28",
        None,
    )
    .await;
    assert!(
        agenda["days"].as_object().is_some_and(|d| !d.is_empty()),
        "a call on the agenda: {agenda}"
    );
    let (_, outbox) = send(Method::GET, "/v1/outbox", None).await;
    assert!(
        outbox["messages"].as_array().is_some_and(|m| !m.is_empty()),
        "messages in the outbox: {outbox}"
    );
    let (_, customer) = send(Method::GET, "/v1/customers/ACME", None).await;
    assert!(
        customer["disputes"]
            .as_array()
            .is_some_and(|d| !d.is_empty()),
        "{customer}"
    );
    let (_, invoice) = send(Method::GET, "/v1/invoices/F-2", None).await;
    assert!(!invoice["case"].is_null(), "{invoice}");

    // Errors: a refused write (422 with its problems), an unknown record (404), a malformed
    // body (400).
    let errors = [
        (
            Method::POST,
            "/v1/invoices",
            "/v1/invoices",
            Some(
                json!({"id": "F-9", "customer": "ACME", "amount": "-5", "issued": "2026-02-20", "due": "2026-03-20"}),
            ),
            422,
        ),
        (
            Method::POST,
            "/v1/invoices/{id}/payments",
            "/v1/invoices/F-404/payments",
            Some(json!({"amount": "10.00"})),
            422,
        ),
        (
            Method::GET,
            "/v1/invoices/{id}",
            "/v1/invoices/F-404",
            None,
            404,
        ),
        (
            Method::POST,
            "/v1/agenda/{id}/outcome",
            "/v1/agenda/999/outcome",
            Some(json!({"outcome": "reached"})),
            404,
        ),
        (
            Method::POST,
            "/v1/customers",
            "/v1/customers",
            Some(json!({"segment": "b2b"})),
            400,
        ),
        (
            Method::POST,
            "/v1/invoices/{id}/actions",
            "/v1/invoices/F-2/actions",
            Some(json!({"action": "resume"})),
            409,
        ),
        (
            Method::POST,
            "/v1/invoices/{id}/actions",
            "/v1/invoices/F-2/actions",
            Some(json!({"action": "postpone"})),
            400,
        ),
    ];
    for (method, route, path, body, want) in errors {
        let m = method.as_str().to_lowercase();
        let (status, answer) = send(method, path, body).await;
        assert_eq!(status, want, "{path}: {answer}");
        check(&doc, &m, route, status, &answer);
        if status == 422 {
            assert!(
                answer["problems"].as_array().is_some_and(|p| !p.is_empty()),
                "{answer}"
            );
        }
    }
}

/// The closing of schemas catches an undocumented key (the strict check above can fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undocumented_key_fails_the_check() {
    let dir = TempDir::new("openapi-strict");
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let doc = document(&base, &client).await;
    let body = json!({"error": "not_found", "message": "no invoice F-9", "field": null});
    check(&doc, "get", "/v1/invoices/{id}", 404, &body);
    let extra = json!({"error": "not_found", "message": "no", "field": null, "secret": 1});
    let result = std::panic::catch_unwind(|| check(&doc, "get", "/v1/invoices/{id}", 404, &extra));
    assert!(result.is_err(), "an undocumented key is refused");
    let wrong = json!({"error": "no_such_code", "message": "no", "field": null});
    let result = std::panic::catch_unwind(|| check(&doc, "get", "/v1/invoices/{id}", 404, &wrong));
    assert!(result.is_err(), "an undocumented error code is refused");
}
