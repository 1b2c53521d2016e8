//! Deployments through the real API, one table per property: a set without a scenario, or
//! whose policy would leave an open invoice unassigned, is refused with 422 and diagnostics
//! naming the file, line and column (and nothing is deployed); the set comes in the request as
//! a map of relative path → text; a running case keeps the deployment (scenario, rules,
//! templates) it started with unless a deployment migrates it (`"migrate"`); invoices left
//! unassigned by an earlier deployment are assigned by the next one that covers them, with the
//! facts that arrived meanwhile.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ADMIN, Body, CREDIT, Row, TempDir, run_rows, serve};

/// A scenario for small invoices only.
const SMALL: &str = "scenario small {\n  applies when invoice.amount < 100 EUR\n\n  step reminder-1 at due + 3 days {\n    email \"reminder-1\" to accounting\n  }\n}\n";

/// A scenario for every invoice.
const ALL: &str = "scenario all {\n  step reminder-1 at due + 3 days {\n    email \"reminder-1\" to accounting\n  }\n  step reminder-2 at due + 20 days {\n    email \"reminder-1\" to accounting\n  }\n}\n";

fn post(path: &str, body: Value, want: u16) -> Row {
    Row::new(Method::POST, path, Some(CREDIT), Body::Json(body), want)
}

fn get(path: &str, want: u16) -> Row {
    Row::new(Method::GET, path, Some(CREDIT), Body::None, want)
}

fn advance(days: u32) -> Row {
    Row::new(
        Method::POST,
        "/v1/clock/advance",
        Some(ADMIN),
        Body::Json(json!({"days": days})),
        200,
    )
}

fn acme(invoices: Value) -> Value {
    json!({
        "customers": [{"id": "ACME", "segment": "b2b", "language": "fr",
                       "contacts": {"accounting": {"email": "compta@acme.example"}}}],
        "invoices": invoices
    })
}

fn invoice(id: &str, amount: &str) -> Value {
    json!({"id": id, "customer": "ACME", "amount": amount, "currency": "EUR",
           "issued": "2025-12-01", "due": "2025-12-31"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sets_without_scenario_or_leaving_invoices_unassigned_are_refused() {
    let dir = TempDir::new("deploy-refused");
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let rows = [
        // No scenario at all.
        post("/v1/scenarios", json!({"files": {}}), 422)
            .with(json!({"error": "invalid_scenarios", "diagnostics": [{"code": "no_scenario"}]})),
        post("/v1/scenarios", json!({"files": {"notes.relance": "# nothing here\n"}}), 422)
            .with(json!({"error": "invalid_scenarios",
                         "diagnostics": [{"code": "no_scenario", "file": "notes.relance", "line": 1}]})),
        // A file that is neither a scenario, a template nor a rule.
        post("/v1/scenarios", json!({"files": {"small.relance": SMALL, "../etc/passwd": "x"}}), 422)
            .with(json!({"error": "invalid_scenarios", "diagnostics": [{"file": "../etc/passwd"}]})),
        post("/v1/import", acme(json!([invoice("F-1", "1200.00"), invoice("F-2", "50.00")])), 200),
        advance(1),
        // F-1 (1,200 EUR) would match no scenario of this set: refused, naming the scenario
        // file's `applies` line and the invoice.
        post("/v1/scenarios", json!({"files": {"small.relance": SMALL}}), 422).with(json!({
            "error": "invalid_scenarios",
            "diagnostics": [{"code": "unassigned", "file": "small.relance", "line": 2, "column": 3}]
        })),
        // Nothing was deployed: the stdlib set is still the only deployment.
        get("/v1/scenarios", 200).with(json!({"deployments": [{"deployment": 1}]})),
        // Migrating a scenario the set does not have is refused too.
        post(
            "/v1/scenarios",
            json!({"files": {"all.relance": ALL}, "migrate": ["standard-b2b"]}),
            422,
        )
        .with(json!({"error": "invalid_scenarios", "diagnostics": [{"code": "migrate"}]})),
        // A set covering both is accepted.
        post("/v1/scenarios", json!({"files": {"all.relance": ALL, "small.relance": SMALL}}), 200)
            .with(json!({"deployment": 2, "changed": true})),
    ];
    let answers = run_rows(&client, &base, &rows).await;
    let message = answers[5]["diagnostics"][0]["message"]
        .as_str()
        .unwrap_or("");
    assert!(
        message.contains("F-1"),
        "the diagnostic names the invoice: {message}"
    );
    let last = answers[6]["deployments"].as_array().map_or(0, Vec::len);
    assert_eq!(last, 1, "a refused set is not deployed: {}", answers[6]);
}

/// Templates are part of the checked set: one that does not parse, reads an undocumented
/// variable, or lacks a language the set declares is refused like a scenario error; the
/// settings file `templates/templates.toml` is deployed with the templates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sets_with_template_errors_are_refused() {
    let dir = TempDir::new("deploy-templates");
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let set = |template: &str, settings: &str| {
        let mut files = json!({"all.relance": ALL, "templates/reminder-1.fr.txt": template});
        if !settings.is_empty() {
            files["templates/templates.toml"] = json!(settings);
        }
        json!({"files": files})
    };
    let rows = [
        post("/v1/scenarios", set("Bonjour\n{{ customer.name }", "languages = [\"fr\"]\n"), 422).with(json!({
            "error": "invalid_scenarios",
            "diagnostics": [{"code": "E0501", "file": "templates/reminder-1.fr.txt", "line": 2}]
        })),
        post("/v1/scenarios", set("Bonjour {{ customer.nme }}", "languages = [\"fr\"]\n"), 422).with(json!({
            "error": "invalid_scenarios",
            "diagnostics": [{"code": "E0502", "file": "templates/reminder-1.fr.txt", "line": 1, "column": 12,
                             "help": "did you mean `customer.name`?"}]
        })),
        post("/v1/scenarios", set("Bonjour", "languages = [\"fr\", \"en\"]\n"), 422).with(json!({
            "error": "invalid_scenarios",
            "diagnostics": [{"code": "E0503", "file": "all.relance", "line": 3}]
        })),
        post("/v1/scenarios", set("Bonjour", "fallback = [\"en\"]\n"), 422).with(json!({
            "error": "invalid_scenarios",
            "diagnostics": [{"code": "E0504", "file": "templates/templates.toml", "line": 1}]
        })),
        get("/v1/scenarios", 200).with(json!({"deployments": [{"deployment": 1}]})),
        post("/v1/scenarios", set("Bonjour", "languages = [\"fr\"]\n"), 200)
            .with(json!({"deployment": 2, "changed": true})),
    ];
    run_rows(&client, &base, &rows).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_keep_their_deployment_until_migrated_and_unassigned_ones_are_assigned() {
    let dir = TempDir::new("deploy-pinned");
    let (base, client) = serve(&dir.0, "2026-01-05", Duration::from_secs(20)).await;
    let small = |text: &str| json!({"files": {"small.relance": SMALL, "templates/reminder-1.fr.txt": text}});
    let both = |text: &str, migrate: Value| {
        json!({"files": {"small.relance": SMALL, "all.relance": ALL,
                         "templates/reminder-1.fr.txt": text},
               "migrate": migrate})
    };
    let rows = [
        // Deployment 2 covers every stored invoice (there is none).
        post("/v1/scenarios", small("v2"), 200).with(json!({"deployment": 2})),
        post(
            "/v1/import",
            acme(json!([invoice("F-1", "1200.00"), invoice("F-2", "50.00")])),
            200,
        ),
        advance(1),
        // F-1 matched no scenario when its case opened.
        get("/v1/invoices/F-1", 200).with(json!({"state": "unassigned"})),
        get("/v1/invoices/F-2", 200)
            .with(json!({"state": "active", "deployment": 2, "case": {"scenario": "small"}})),
        // A fact on the unassigned invoice is kept for when it gets a scenario.
        post(
            "/v1/invoices/F-1/payments",
            json!({"amount": "200.00"}),
            200,
        ),
        // Deployment 3 covers it: F-1 is assigned now, with the payment; F-2 keeps deployment
        // 2 (its scenario, rules and templates).
        post("/v1/scenarios", both("v3", json!(null)), 200).with(json!({"deployment": 3})),
        get("/v1/invoices/F-1", 200).with(json!({
            "state": "active", "deployment": 3,
            "case": {"scenario": "all", "outstanding": "1000.00"}
        })),
        get("/v1/invoices/F-2", 200).with(json!({"deployment": 2, "case": {"scenario": "small"}})),
        // Deployment 4 migrates the cases of `small` explicitly: F-2 runs with it from now on.
        post("/v1/scenarios", both("v4", json!(["small"])), 200)
            .with(json!({"deployment": 4, "migrated": 1})),
        get("/v1/invoices/F-2", 200).with(json!({"deployment": 4, "case": {"scenario": "small"}})),
        get("/v1/invoices/F-1", 200).with(json!({"deployment": 3})),
        // `"migrate": "all"` moves every running case.
        post("/v1/scenarios", both("v5", json!("all")), 200)
            .with(json!({"deployment": 5, "migrated": 2})),
        get("/v1/invoices/F-1", 200).with(json!({"deployment": 5})),
        // The cases run on: the next days tick them.
        advance(30),
        get("/v1/invoices/F-1", 200).with(json!({"deployment": 5, "state": "active"})),
    ];
    run_rows(&client, &base, &rows).await;
}
