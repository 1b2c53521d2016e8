//! Imports as one batch (`POST /v1/import/batch`, `relance import --server`) against a real
//! server on 127.0.0.1 with a virtual clock, on the bundled example data: no message for an
//! invoice its payments settled; the same files sent one by one, in seeded random orders
//! (a refused file sent again later), end in the same state and outbox as the one batch; a
//! batch sent again is recognised and applies nothing; a bad line anywhere writes nothing of
//! the batch; the command sends the same batch.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ADMIN, CREDIT, INTEGRATION, TempDir, serve};
use crate::workspace;

/// The day: the examples' invoices are between 0 and 4 months old.
const TODAY: &str = "2026-04-01";

/// The example files, as (format, name, text).
fn examples() -> Vec<(&'static str, &'static str, String)> {
    let dir = workspace().join("examples");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("example file");
    vec![
        ("csv", "customers.csv", read("customers.csv")),
        ("csv", "invoices.csv", read("invoices.csv")),
        ("csv", "payments.csv", read("payments.csv")),
        ("events", "events.csv", read("events.csv")),
    ]
}

fn batch(files: &[(&str, &str, String)]) -> Value {
    let files: Vec<Value> = files
        .iter()
        .map(|(format, name, text)| json!({"format": format, "name": name, "text": text}))
        .collect();
    json!({ "files": files })
}

struct Server {
    base: String,
    client: reqwest::Client,
    _dir: TempDir,
}

impl Server {
    async fn start(tag: &str) -> Server {
        let dir = TempDir::new(tag);
        let (base, client) = serve(&dir.0, TODAY, Duration::from_secs(60)).await;
        Server {
            base,
            client,
            _dir: dir,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        self.send(self.client.post(url).bearer_auth(token).json(body))
            .await
    }

    /// One file to its own endpoint (`/v1/import/csv/{kind}` or `/v1/import/events`).
    async fn upload(&self, format: &str, name: &str, text: &str) -> (StatusCode, Value) {
        let path = match format {
            "events" => "/v1/import/events".to_string(),
            _ => format!("/v1/import/csv/{}", name.trim_end_matches(".csv")),
        };
        let url = format!("{}{path}", self.base);
        let req = self
            .client
            .post(url)
            .bearer_auth(INTEGRATION)
            .body(text.to_string());
        self.send(req).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        self.send(self.client.get(url).bearer_auth(ADMIN)).await
    }

    /// The day's run (it opens the cases of what the imports recorded).
    async fn run(&self) {
        let (st, v) = self.post("/v1/run", ADMIN, &json!({})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }

    /// Every undelivered message's items as (date, invoice, action key), sorted.
    async fn outbox(&self) -> Vec<(String, String, String)> {
        let (st, v) = self.get("/v1/outbox?limit=10000").await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let mut out: Vec<(String, String, String)> = v["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .flat_map(|m| {
                let date = m["date"].as_str().unwrap_or_default().to_string();
                m["items"].as_array().into_iter().flatten().map(move |i| {
                    (
                        date.clone(),
                        i["invoice"].as_str().unwrap_or_default().to_string(),
                        i["key"].as_str().unwrap_or_default().to_string(),
                    )
                })
            })
            .collect();
        out.sort();
        out
    }

    /// Every example invoice's (state, outstanding) as the API shows it.
    async fn states(&self, ids: &[String]) -> BTreeMap<String, (Value, Value)> {
        let mut out = BTreeMap::new();
        for id in ids {
            let (st, v) = self.get(&format!("/v1/invoices/{id}")).await;
            assert_eq!(st, StatusCode::OK, "{id}: {v}");
            out.insert(
                id.clone(),
                (v["state"].clone(), v["case"]["outstanding"].clone()),
            );
        }
        out
    }
}

fn invoice_ids() -> Vec<String> {
    let p = relance_data::portfolio::load_dir(&workspace().join("examples")).expect("examples");
    p.invoices.iter().map(|i| i.id.clone()).collect()
}

/// Regression (issue 15): imported file by file, F-0000269 (paid 2026-01-29) got a registered
/// formal notice on 2026-04-01. As one batch, no invoice settled by its payments by today is
/// named by any message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_as_one_batch_send_nothing_for_a_settled_invoice() {
    let s = Server::start("batch-examples").await;
    let (st, v) = s
        .post("/v1/import/batch", INTEGRATION, &batch(&examples()))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["written"], true, "{v}");
    assert_eq!(
        v["changes"]["invoices"]["new"].as_array().map(Vec::len),
        Some(300)
    );
    let kinds: Vec<&str> = v["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["customers", "invoices", "payments", "events"]);
    s.run().await;

    let p = relance_data::portfolio::load_dir(&workspace().join("examples")).expect("examples");
    let today: chrono::NaiveDate = TODAY.parse().expect("date");
    let settled: Vec<&str> = p
        .invoices
        .iter()
        .filter(|inv| {
            let paid: rust_decimal::Decimal = p
                .events
                .iter()
                .filter(|e| e.date <= today)
                .filter_map(|e| match &e.kind {
                    relance_core::domain::EventKind::Payment {
                        invoice, amount, ..
                    } if *invoice == inv.id => Some(*amount),
                    _ => None,
                })
                .sum();
            paid >= inv.amount
        })
        .map(|inv| inv.id.as_str())
        .collect();
    assert!(
        settled.contains(&"F-0000269"),
        "the issue's invoice is settled"
    );
    assert!(settled.len() > 50, "{} settled", settled.len());
    let outbox = s.outbox().await;
    assert!(
        outbox.len() > 20,
        "the scenarios act on the rest: {outbox:?}"
    );
    let wrong: Vec<_> = outbox
        .iter()
        .filter(|(_, inv, _)| settled.contains(&inv.as_str()))
        .collect();
    assert!(wrong.is_empty(), "messages for settled invoices: {wrong:?}");
    let (_, v) = s.get("/v1/invoices/F-0000269").await;
    assert_eq!(v["state"], "closed", "{v}");
}

/// The same files one by one, in three seeded orders: a file naming what is not there yet is
/// refused whole (422) and sent again after the others; the state and the outbox end as the
/// one batch leaves them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_files_one_by_one_in_any_order_end_as_the_one_batch() {
    let files = examples();
    let ids = invoice_ids();
    let one = Server::start("batch-one").await;
    let (st, v) = one
        .post("/v1/import/batch", INTEGRATION, &batch(&files))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    one.run().await;
    let expected = (one.states(&ids).await, one.outbox().await);

    for seed in 1..=3u64 {
        let s = Server::start(&format!("batch-pieces-{seed}")).await;
        let mut order: Vec<usize> = (0..files.len()).collect();
        order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let mut refused = 0;
        let mut rounds = 0;
        while !order.is_empty() {
            rounds += 1;
            assert!(rounds <= files.len(), "seed {seed}: files never accepted");
            let mut again = Vec::new();
            for i in order {
                let (format, name, text) = &files[i];
                let (st, v) = s.upload(format, name, text).await;
                match st {
                    StatusCode::OK => assert_eq!(v["written"], true, "{name}: {v}"),
                    StatusCode::UNPROCESSABLE_ENTITY => {
                        refused += 1;
                        again.push(i);
                    }
                    other => panic!("seed {seed}, {name}: {other} {v}"),
                }
            }
            order = again;
        }
        s.run().await;
        let got = (s.states(&ids).await, s.outbox().await);
        assert!(
            got == expected,
            "seed {seed} ({refused} refusals): the pieces end elsewhere than the batch"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_sent_again_is_known_and_a_bad_line_anywhere_writes_nothing() {
    let s = Server::start("batch-again").await;
    let files = examples();
    let (st, first) = s
        .post("/v1/import/batch", INTEGRATION, &batch(&files))
        .await;
    assert_eq!(st, StatusCode::OK, "{first}");
    let number = first["batch"]["batch"].clone();
    assert!(number.is_u64(), "{first}");
    assert_eq!(
        first["batch"]["files"],
        json!([
            "customers.csv",
            "invoices.csv",
            "payments.csv",
            "events.csv"
        ])
    );

    // In another order, the same batch: known by its digest, nothing applied.
    let mut reversed = files.clone();
    reversed.reverse();
    let (st, again) = s.post("/v1/import/batch", CREDIT, &batch(&reversed)).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(
        (
            again["written"].clone(),
            again["already_imported"]["batch"].clone()
        ),
        (json!(false), number),
        "{again}"
    );
    assert_eq!(again["changes"]["new_payments"], 0, "{again}");

    // A new customer, and an events file whose third line has an unknown type: refused
    // whole, naming the line; the customer is not stored either.
    let bad = vec![
        (
            "csv",
            "clients-2.csv",
            "id,name\nC-NEW,Nouveau client\n".to_string(),
        ),
        (
            "events",
            "litiges.csv",
            "date,type,invoice,code\n2026-03-02,dispute_opened,F-0000001,quality\n2026-03-03,dispute_open,F-0000001,quality\n"
                .to_string(),
        ),
    ];
    let (st, v) = s.post("/v1/import/batch", INTEGRATION, &batch(&bad)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["problems"][0]["path"], "litiges.csv:3", "{v}");
    assert_eq!(v["problems"][0]["field"], "type", "{v}");
    let (st, _) = s.get("/v1/customers/C-NEW").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing of the batch written");

    // Shapes refused before anything is read, naming the field.
    for (body, field) in [
        (json!({"files": []}), "files"),
        (
            json!({"files": [{"name": "a.csv", "format": "xlsx", "text": ""}]}),
            "files[0].format",
        ),
        (
            json!({"files": [{"name": "a.csv", "format": "csv"}]}),
            "files[0].text",
        ),
        (
            json!({"files": [{"name": "e.csv", "format": "events", "text": "", "map": {"a": "b"}}]}),
            "files[0].map",
        ),
    ] {
        let (st, v) = s.post("/v1/import/batch", INTEGRATION, &body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["field"], field, "{body}: {v}");
    }
}

fn relance(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_relance"))
        .args(args)
        .env_remove("RELANCE_TOKEN")
        .output()
        .expect("relance runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `relance import … --server` sends its files as one batch: CSV files then the events file,
/// a batch again recognised, a refused file exit 1 naming its line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relance_import_with_server_sends_one_batch() {
    let s = Server::start("batch-command").await;
    let dir = workspace().join("examples");
    let path = |name: &str| dir.join(name).display().to_string();
    let base = s.base.clone();
    let csvs = [
        path("customers.csv"),
        path("invoices.csv"),
        path("payments.csv"),
    ];
    let events = path("events.csv");
    let bad = TempDir::new("batch-command-bad");
    let bad_file = bad.0.join("events.csv");
    std::fs::write(
        &bad_file,
        "date,type,invoice,amount\n2026-03-02,payment,F-9999999,10.00\n",
    )
    .expect("write");
    let bad_file = bad_file.display().to_string();
    let runs = tokio::task::spawn_blocking(move || {
        let send = |source: &str, files: &[&str], json: bool| {
            let mut args = vec!["import", source];
            args.extend_from_slice(files);
            // The credit manager reads the data: a refusal names the line.
            args.extend_from_slice(&["--server", &base, "--token", CREDIT]);
            if json {
                args.extend_from_slice(&["--format", "json"]);
            }
            relance(&args)
        };
        let csv: Vec<&str> = csvs.iter().map(String::as_str).collect();
        vec![
            send("csv", &csv, true),
            send("events", &[&events], false),
            send("csv", &csv, false),
            send("events", &[&bad_file], false),
            relance(&["import", "csv", &csvs[0]]),
        ]
    })
    .await
    .expect("commands");
    let (code, out, err) = &runs[0];
    assert_eq!(*code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(out).expect("json reply");
    assert_eq!(
        v["changes"]["invoices"]["new"].as_array().map(Vec::len),
        Some(300)
    );
    let (code, out, err) = &runs[1];
    assert_eq!(*code, 0, "{out}{err}");
    assert!(out.starts_with("imported into http://127.0.0.1:"), "{out}");
    assert!(out.contains(" new events"), "{out}");
    let (code, out, err) = &runs[2];
    assert_eq!(*code, 0, "{out}{err}");
    assert!(out.starts_with("already imported into "), "{out}");
    let (code, out, err) = &runs[3];
    assert_eq!(*code, 1, "{out}{err}");
    assert!(
        err.contains("events.csv:2") && err.contains("unknown invoice \"F-9999999\""),
        "{err}"
    );
    let (code, _, err) = &runs[4];
    assert_eq!(*code, 2, "neither --data nor --server: {err}");
    assert!(err.contains("--data"), "{err}");
}
