//! File imports (CSV, FEC, camt.053) and reports over the HTTP API, against a real server on
//! 127.0.0.1 (port 0) with a virtual clock: each format's happy path read back through the
//! API, a refused CSV (line and column named, nothing written), dry runs, idempotent
//! re-imports, camt.053 proposals never applied, every report in JSON and CSV, the access
//! rules, and the parity of the API's reports with `relance report` on the same data.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ADMIN, CREDIT, INTEGRATION, SALES, TempDir, serve};

const TODAY: &str = "2026-03-15";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).expect("fixture")
}

fn http_fixture(name: &str) -> Vec<u8> {
    fixture(&format!("tests/it/fixtures/http-import/{name}"))
}

struct Server {
    base: String,
    client: reqwest::Client,
    dir: TempDir,
}

impl Server {
    async fn start(tag: &str, today: &str) -> Server {
        let dir = TempDir::new(tag);
        let (base, client) = serve(&dir.0, today, Duration::from_secs(30)).await;
        Server { base, client, dir }
    }

    async fn answer(resp: reqwest::Response) -> (StatusCode, Value) {
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// POSTs a file's bytes with query parameters.
    async fn upload(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .query(query)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::answer(req.send().await.expect("request")).await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::answer(req.send().await.expect("request")).await
    }

    async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(ADMIN)
            .json(body);
        Self::answer(req.send().await.expect("request")).await
    }

    /// `POST /v1/run`: the day's run, which opens the cases of imported invoices with the
    /// facts the imports recorded for them.
    async fn run(&self) {
        let (st, v) = self.post_json("/v1/run", &json!({})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }

    /// An invoice's state and outstanding as the API shows them.
    async fn invoice(&self, id: &str) -> (StatusCode, Value, Value) {
        let (st, v) = self.get(&format!("/v1/invoices/{id}"), Some(SALES)).await;
        (st, v["state"].clone(), v["case"]["outstanding"].clone())
    }
}

const CLIENT_MAP: &str = r#"{"Code client":"id","Raison sociale":"name","Délai":"payment_terms_days","Email compta":"accounting_email"}"#;
const INVOICE_MAP: &str =
    "numéro=id,client=customer,montant ttc=amount,date facture=issued,échéance=due";
const PAYMENT_MAP: &str = "facture=invoice,montant=amount,référence=reference";

/// Customers (Windows-1252, mapped by JSON) and invoices (French decimals, mapped as `--map`).
async fn import_customers_and_invoices(s: &Server, token: &str) {
    let (st, v) = s
        .upload(
            "/v1/import/csv/customers",
            &[("map", CLIENT_MAP)],
            Some(token),
            http_fixture("clients.csv"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["changes"]["customers"]["new"], json!(["DUPONT", "ELAN"]));
    let (st, v) = s
        .upload(
            "/v1/import/csv/invoices",
            &[("map", INVOICE_MAP), ("decimals", "fr")],
            Some(token),
            http_fixture("factures.csv"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["changes"]["invoices"]["new"],
        json!(["FA-101", "FA-102", "FA-103"])
    );
    assert_eq!(
        (v["written"].clone(), v["write"]["invoices"].clone()),
        (json!(true), json!(3))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_imports_read_back_and_reimports_change_nothing() {
    let s = Server::start("http-import-csv", TODAY).await;
    import_customers_and_invoices(&s, INTEGRATION).await;

    let (st, c) = s.get("/v1/customers/ELAN", Some(SALES)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        c["customer"]["name"], "Élan Bâtiment",
        "Windows-1252 decoded: {c}"
    );
    let (_, v) = s.get("/v1/invoices/FA-101", Some(SALES)).await;
    assert_eq!(v["invoice"]["amount"], "1200.50");
    assert_eq!(
        v["invoice"]["due"], "2026-02-19",
        "45 days of DUPONT's terms"
    );
    let (_, v) = s.get("/v1/invoices/FA-103", Some(SALES)).await;
    assert_eq!(v["invoice"]["amount"], "1234.56");

    let payments = || http_fixture("reglements.csv");
    let (st, v) = s
        .upload(
            "/v1/import/csv/payments",
            &[("map", PAYMENT_MAP)],
            Some(CREDIT),
            payments(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["changes"]["new_payments"], 2);
    s.run().await;
    let (_, state, _) = s.invoice("FA-101").await;
    assert_eq!(state, "closed", "paid in full");
    let (_, state, outstanding) = s.invoice("FA-102").await;
    assert_ne!(state, "closed");
    assert_eq!(outstanding, "300.00");

    // The same files again: nothing changes, and the report says so.
    let (st, v) = s
        .upload(
            "/v1/import/csv/payments",
            &[("map", PAYMENT_MAP)],
            Some(CREDIT),
            payments(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["changed"].clone(), v["written"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(
        (
            v["changes"]["new_payments"].clone(),
            v["changes"]["known_events"].clone()
        ),
        (json!(0), json!(2))
    );
    let (_, _, outstanding) = s.invoice("FA-102").await;
    assert_eq!(outstanding, "300.00", "not paid twice");
    let (st, v) = s
        .upload(
            "/v1/import/csv/invoices",
            &[("map", INVOICE_MAP)],
            Some(CREDIT),
            http_fixture("factures.csv"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["changed"], false);
    assert_eq!(v["changes"]["invoices"]["unchanged"], 3);
}

/// Regression (issue 15): two distinct payments of the same amount on the same day, from two
/// files, were taken for one. A payment is known by its reference; the same file again is known.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_payments_alike_but_for_their_reference_both_count_and_a_file_again_counts_nothing() {
    let s = Server::start("http-import-twin-payments", TODAY).await;
    import_customers_and_invoices(&s, INTEGRATION).await;
    let file = |reference: &str| {
        format!("Date;Facture;Montant;Référence\n20/02/2026;FA-102;100,00;{reference}\n")
            .into_bytes()
    };
    for (reference, new, known) in [("VIR-A", 1, 0), ("VIR-B", 1, 0), ("VIR-A", 0, 1)] {
        let (st, v) = s
            .upload(
                "/v1/import/csv/payments",
                &[("map", PAYMENT_MAP)],
                Some(CREDIT),
                file(reference),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(
            (
                v["changes"]["new_payments"].clone(),
                v["changes"]["known_events"].clone()
            ),
            (json!(new), json!(known)),
            "{reference}: {v}"
        );
    }
    s.run().await;
    let (_, _, outstanding) = s.invoice("FA-102").await;
    assert_eq!(outstanding, "400.00", "600.00 less two payments of 100.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_csv_names_line_and_column_and_writes_nothing() {
    let s = Server::start("http-import-bad", TODAY).await;
    import_customers_and_invoices(&s, ADMIN).await;
    let (st, v) = s
        .upload(
            "/v1/import/csv/invoices",
            &[("map", INVOICE_MAP), ("name", "factures-invalides.csv")],
            Some(ADMIN),
            http_fixture("factures-invalides.csv"),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"], "invalid");
    assert_eq!(
        (v["line"].clone(), v["field"].clone()),
        (json!(3), json!("Montant TTC"))
    );
    let problems = v["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 2, "{v}");
    assert_eq!(
        problems[0]["path"],
        "factures-invalides.csv:3 (invoice FA-202)"
    );
    assert!(
        problems[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("12x,00"))
    );
    assert_eq!(
        (problems[1]["line"].clone(), problems[1]["field"].clone()),
        (json!(4), json!("Date facture"))
    );
    let (st, _, _) = s.invoice("FA-201").await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "the good row of a refused file is not written"
    );

    // An unknown column suggests the mapping; an unknown kind or option is a 400.
    let (st, v) = s
        .upload(
            "/v1/import/csv/invoices",
            &[],
            Some(ADMIN),
            http_fixture("factures.csv"),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["line"], 1);
    let (st, v) = s
        .upload(
            "/v1/import/csv/orders",
            &[],
            Some(ADMIN),
            http_fixture("factures.csv"),
        )
        .await;
    assert_eq!(
        (st, v["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("kind"))
    );
    let (st, v) = s
        .upload("/v1/import/fec", &[("map", "a=b")], Some(ADMIN), Vec::new())
        .await;
    assert_eq!(
        (st, v["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("map"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_and_writes_nothing() {
    let s = Server::start("http-import-dry", TODAY).await;
    let (st, v) = s
        .upload(
            "/v1/import/csv/customers",
            &[("map", CLIENT_MAP), ("dry_run", "true")],
            Some(CREDIT),
            http_fixture("clients.csv"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["dry_run"].clone(),
            v["changed"].clone(),
            v["written"].clone()
        ),
        (json!(true), json!(true), json!(false))
    );
    assert_eq!(v["changes"]["customers"]["new"], json!(["DUPONT", "ELAN"]));
    let (st, _) = s.get("/v1/customers/DUPONT", Some(ADMIN)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fec_imports_customers_invoices_and_lettered_payments_once() {
    let s = Server::start("http-import-fec", TODAY).await;
    let fec = || fixture("../data/tests-data/import/fec/collective-411.txt");
    let (st, v) = s
        .upload("/v1/import/fec", &[], Some(INTEGRATION), fec())
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["changes"]["customers"]["new"],
        json!(["CLI001", "CLI002", "CLI003"])
    );
    assert_eq!(v["file"]["fec"]["entries"], 8, "{v}");
    let (st, c) = s.get("/v1/customers/CLI001", Some(SALES)).await;
    assert_eq!(
        (st, c["customer"]["name"].clone()),
        (StatusCode::OK, json!("Acme SA"))
    );
    s.run().await;
    let (_, state, _) = s.invoice("FA-2026-001").await;
    assert_eq!(state, "closed", "lettered with its payment");
    let (_, state, outstanding) = s.invoice("FA-2026-003").await;
    assert_ne!(state, "closed");
    assert_eq!(outstanding, "300.00", "360 less the 60 credit note");

    let (st, v) = s
        .upload("/v1/import/fec", &[], Some(INTEGRATION), fec())
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["changed"], false, "{v}");
    let (_, _, outstanding) = s.invoice("FA-2026-003").await;
    assert_eq!(outstanding, "300.00");

    let (st, v) = s
        .upload(
            "/v1/import/fec",
            &[("name", "broken.txt")],
            Some(INTEGRATION),
            fixture("../data/tests-data/import/fec/broken-bad-amount.txt"),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["problems"][0]["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("broken.txt:")),
        "{v}"
    );
}

/// The customers and invoices of `tests-data/import/data`, through the JSON import.
async fn load_camt_base(s: &Server) {
    let p = relance_data::portfolio::load_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/tests-data/import/data"),
    )
    .expect("data");
    let (st, v) = s.post_json("/v1/import", &json!(p)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_pays_certain_matches_and_only_proposes_the_rest() {
    let s = Server::start("http-import-camt", TODAY).await;
    load_camt_base(&s).await;
    let statement = || fixture("../data/tests-data/import/camt053/relance-statement.xml");

    let (st, v) = s
        .upload(
            "/v1/import/camt053",
            &[("dry_run", "true")],
            Some(CREDIT),
            statement(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["changes"]["new_payments"], 3);
    let (_, state, _) = s.invoice("F-1").await;
    assert_ne!(state, "closed", "dry run");

    let (st, v) = s
        .upload("/v1/import/camt053", &[], Some(CREDIT), statement())
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["file"]["camt053"]["applied"].clone(),
            v["file"]["camt053"]["proposed"].clone()
        ),
        (json!(3), json!(2))
    );
    let proposals = v["changes"]["proposals"].as_array().expect("proposals");
    let candidates: Vec<&str> = proposals[0]["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .filter_map(|c| c["invoice"].as_str())
        .collect();
    assert_eq!(candidates, ["F-2", "F-3"]);
    s.run().await;
    for paid in ["F-1", "F-4", "G-1"] {
        let (_, state, _) = s.invoice(paid).await;
        assert_eq!(state, "closed", "{paid}");
    }
    for proposed in ["F-2", "F-3"] {
        let (_, state, outstanding) = s.invoice(proposed).await;
        assert_ne!(state, "closed", "{proposed}: a proposal is never applied");
        assert_eq!(outstanding, "600.00");
    }

    let (st, v) = s
        .upload("/v1/import/camt053", &[], Some(CREDIT), statement())
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["changed"].clone(), v["written"].clone()),
        (json!(false), json!(false)),
        "{v}"
    );
    assert_eq!(v["changes"]["new_payments"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_and_reports_follow_the_access_rules() {
    let s = Server::start("http-import-auth", TODAY).await;
    let body = || http_fixture("clients.csv");
    let path = "/v1/import/csv/customers";
    let map = [("map", CLIENT_MAP), ("dry_run", "true")];
    let (st, v) = s.upload(path, &map, None, body()).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("unauthorized"))
    );
    let (st, _) = s
        .upload(path, &map, Some("not-a-token-at-all-0000"), body())
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = s.upload(path, &map, Some(SALES), body()).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::FORBIDDEN, json!("forbidden"))
    );
    for token in [ADMIN, CREDIT, INTEGRATION] {
        let (st, _) = s.upload(path, &map, Some(token), body()).await;
        assert_eq!(st, StatusCode::OK, "{token}");
    }
    for report in ["aged", "dso", "activity", "behaviour"] {
        let path = format!("/v1/reports/{report}");
        let (st, _) = s.get(&path, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{report}");
        let (st, _) = s.get(&path, Some(INTEGRATION)).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{report}");
        for token in [ADMIN, CREDIT, SALES] {
            let (st, _) = s.get(&path, Some(token)).await;
            assert_eq!(st, StatusCode::OK, "{report} {token}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_in_json_and_csv() {
    let s = Server::start("http-reports", TODAY).await;
    load_camt_base(&s).await;
    let (st, _) = s
        .upload(
            "/v1/import/camt053",
            &[],
            Some(ADMIN),
            fixture("../data/tests-data/import/camt053/relance-statement.xml"),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    s.run().await;

    let (st, v) = s.get("/v1/reports/aged?at=2026-03-15", Some(SALES)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let totals = &v["totals"];
    assert!(
        totals.to_string().contains("1200"),
        "F-2 and F-3 still open: {v}"
    );
    let (st, csv) = s
        .get("/v1/reports/aged?at=2026-03-15&format=csv", Some(SALES))
        .await;
    assert_eq!(st, StatusCode::OK);
    let csv = csv.as_str().expect("csv text").to_string();
    assert!(
        csv.starts_with("customer,name,currency,invoices,not_due"),
        "{csv}"
    );
    assert!(csv.contains("BETA"), "{csv}");

    let (st, v) = s
        .get("/v1/reports/dso?at=2026-03-15&period_days=90", Some(CREDIT))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v.is_object(), "{v}");
    let (st, csv) = s
        .get("/v1/reports/dso?at=2026-03-15&format=csv", Some(CREDIT))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        csv.as_str().is_some_and(|t| t.lines().count() >= 2),
        "{csv}"
    );

    let (st, v) = s
        .get(
            "/v1/reports/activity?from=2026-01-01&to=2026-03-15",
            Some(ADMIN),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["from"].clone(), v["until"].clone()),
        (json!("2026-01-01"), json!(TODAY))
    );
    let collected: u64 = v["collected"]
        .as_array()
        .expect("collected")
        .iter()
        .map(|c| c["payments"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        collected, 3,
        "the statement's three payments, from the history: {v}"
    );
    let (st, csv) = s.get("/v1/reports/activity?format=csv", Some(ADMIN)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(csv.is_string(), "{csv}");

    let (st, v) = s
        .get("/v1/reports/behaviour?at=2026-03-15", Some(SALES))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let customers = v["customers"].as_array().expect("customers");
    assert_eq!(customers.len(), 3, "{v}");
    let (st, csv) = s.get("/v1/reports/behaviour?format=csv", Some(SALES)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(csv.as_str().is_some_and(|t| t.contains("GAMMA")), "{csv}");

    let (st, v) = s.get("/v1/reports/aged?at=15/03/2026", Some(SALES)).await;
    assert_eq!(
        (st, v["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("at"))
    );
    let (st, v) = s.get("/v1/reports/dso?format=pdf", Some(SALES)).await;
    assert_eq!(
        (st, v["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("format"))
    );
    // The countback's month convention and the N-month CEI, as `relance report dso` takes them.
    let (st, v) = s
        .get(
            "/v1/reports/dso?at=2026-03-15&countback_months=30-day&cei_months=2",
            Some(CREDIT),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["countback_months"].clone(),
            v["cei_over_months"]["months_count"].clone()
        ),
        (json!("30-day"), json!(2)),
        "{v}"
    );
    for bad in ["countback_months=lunar", "cei_months=two"] {
        let (st, v) = s.get(&format!("/v1/reports/dso?{bad}"), Some(CREDIT)).await;
        let field = bad.split('=').next().expect("field");
        assert_eq!(
            (st, v["field"].clone()),
            (StatusCode::BAD_REQUEST, json!(field)),
            "{v}"
        );
    }
}

/// `relance report KIND --data DIR --at DATE --format json`.
fn cli_report(kind: &str, data: &Path, at: &str) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_relance"))
        .args(["report", kind, "--data"])
        .arg(data)
        .args(["--at", at, "--format", "json"])
        .output()
        .expect("relance report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_reports_the_numbers_relance_report_gives_on_the_same_data() {
    let at = "2026-04-30";
    let s = Server::start("http-reports-parity", at).await;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/tests-data/import/reports");
    let p = relance_data::portfolio::load_dir(&data).expect("report fixture");
    assert!(p.events.len() >= 5, "payments, disputes and a write-off");
    let (st, v) = s.post_json("/v1/import", &json!(p)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for kind in ["aged", "dso"] {
        let (st, api) = s
            .get(&format!("/v1/reports/{kind}?at={at}"), Some(CREDIT))
            .await;
        assert_eq!(st, StatusCode::OK, "{api}");
        assert_eq!(api, cli_report(kind, &data, at), "{kind}");
    }
    assert!(s.dir.0.exists());
}
