//! `relance deploy`: sends a scenario set read from a local folder (its `*.relance` files,
//! `templates/` and `rules/`) to a running daemon, as `POST /v1/scenarios` with
//! `{"files": {PATH: TEXT}}` and the optional `"migrate"`; the daemon never reads its own disk
//! for it. Prints the deployment, or the diagnostics of a refusal. Exit 0 deployed (or
//! unchanged), 1 refused (422), 2 usage, I/O or any other answer.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::exit;
use relance_daemon::catalog::Bundle;

fn fail(e: impl std::fmt::Display) -> u8 {
    eprintln!("error: {e}");
    exit::USAGE
}

/// `--migrate` as the API takes it: nothing, `"all"`, or the scenario names.
fn migrate_value(migrate: &[String]) -> Option<Value> {
    match migrate {
        [] => None,
        [all] if all == "all" || all == "none" => Some(json!(all)),
        names => Some(json!(names)),
    }
}

pub fn run(dir: &Path, server: &str, token: Option<&str>, migrate: &[String]) -> u8 {
    let Some(token) = token
        .map(String::from)
        .or_else(|| std::env::var("RELANCE_TOKEN").ok())
    else {
        return fail("give --token or RELANCE_TOKEN (admin or credit-manager role)");
    };
    let bundle = match Bundle::read_dir(dir) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let mut body = Map::new();
    body.insert("files".into(), json!(bundle.to_map()));
    if let Some(m) = migrate_value(migrate) {
        body.insert("migrate".into(), m);
    }
    let url = format!("{}/v1/scenarios", server.trim_end_matches('/'));
    let answer = super::remote::post_json(&url, &token, &Value::Object(body));
    let (status, text) = match answer {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    match status {
        200 => {
            let scenarios = value["scenarios"].as_array().map_or(0, Vec::len);
            println!(
                "deployment {} ({}): {scenarios} scenarios, {} cases assigned, {} migrated",
                value["deployment"],
                if value["changed"] == json!(true) {
                    "deployed"
                } else {
                    "unchanged: already the current set"
                },
                value["assigned"],
                value["migrated"],
            );
            exit::OK
        }
        422 => {
            let diagnostics = value["diagnostics"].as_array().cloned().unwrap_or_default();
            for d in &diagnostics {
                eprintln!(
                    "{}:{}:{}: {}: {}",
                    d["file"].as_str().unwrap_or(""),
                    d["line"],
                    d["column"],
                    d["code"].as_str().unwrap_or(""),
                    d["message"].as_str().unwrap_or(""),
                );
            }
            if diagnostics.is_empty() {
                eprintln!("refused: {text}");
            }
            exit::FINDINGS
        }
        _ => fail(format!("the daemon answered {status}: {text}")),
    }
}
