//! The canonical order of one day's facts (LANGUAGE.md, "What happens first on one day",
//! rule 2; `relance_core::fact_order`), through the daemon's HTTP import against the planner.
//! A data folder holds, on one day, a full payment of an invoice in `payments.csv` and a
//! dispute on it in `events.csv`: the planner takes the payment first (the invoice is closed,
//! the dispute changes nothing). The daemon gets the same files one request each, in the
//! order a user may send them (customers, invoices, then `events.csv` before
//! `payments.csv`), and must decide what `relance plan` decides; before the canonical order it
//! applied the dispute first (date then order of receipt) and opened a task the planner never
//! plans. The facts stored keep their file, kind and line as typed data.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};

use relance_core::fact_order::{FileKind, FileLine};
use relance_daemon::Engine;
use relance_daemon::model::{StoredEvent, decode};
use relance_daemon::server::{self, ClockMode};
use relance_daemon::store::Tree;
use relance_data::portfolio;

use crate::parity::{assert_agree, decided, planned};
use crate::support::{ADMIN, INTEGRATION, TempDir, config, serve_engine};

const CUSTOMERS: &str =
    "id,name,segment,risk_score,credit_insured,language,payment_terms_days,tags,accounting_email
C1,Ateliers Martin,b2b,10,false,fr,30,,compta@c1.example
";
const INVOICES: &str = "id,customer,amount,currency,issued,due,po_number
F-1,C1,5000.00,EUR,2026-01-05,2026-02-04,
F-2,C1,3000.00,EUR,2026-01-10,2026-02-09,
";
const PAYMENTS: &str = "date,invoice,amount,reference
2026-02-20,F-1,5000.00,VIR-1
";
const EVENTS: &str = "date,type,invoice,code,amount,promised_date
2026-02-20,dispute_opened,F-1,quality,,
";

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: reqwest::Body,
) -> (StatusCode, Value) {
    let resp = client
        .post(url)
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Opens a store on `from` (its run not done: the day's imports come first) and serves it.
async fn daemon(tmp: &TempDir, from: NaiveDate) -> (Arc<Engine>, String, reqwest::Client) {
    let config = config(&tmp.0);
    let engine = server::open(
        &config,
        ClockMode::Virtual { start: Some(from) },
        Some(&crate::workspace().join("stdlib-scenarios")),
    )
    .expect("engine");
    let (base, client) = serve_engine(engine.clone(), config, Duration::from_secs(60)).await;
    (engine, base, client)
}

/// One way of arrival, on a fresh store in `tmp` opened on `from`: `customers.csv` and
/// `invoices.csv` imported, the clock moved to `on` without running it, the way's `requests`
/// sent (each must answer 200), then the days run up to `until`. The engine, to read what it
/// decided.
async fn arrive(
    tmp: &TempDir,
    way: &str,
    requests: Vec<(&str, reqwest::Body)>,
    (from, on, until): (NaiveDate, NaiveDate, NaiveDate),
) -> Arc<Engine> {
    let (engine, base, client) = daemon(tmp, from).await;
    for (path, text) in [
        ("/v1/import/csv/customers", CUSTOMERS),
        ("/v1/import/csv/invoices", INVOICES),
    ] {
        let (st, v) = post(&client, format!("{base}{path}"), INTEGRATION, text.into()).await;
        assert_eq!(st, StatusCode::OK, "{way}: {path}: {v}");
    }
    let advance = |body: Value| {
        post(
            &client,
            format!("{base}/v1/clock/advance"),
            ADMIN,
            body.to_string().into(),
        )
    };
    let (st, v) = advance(json!({"to": on, "run": false})).await;
    assert_eq!(st, StatusCode::OK, "{way}: {v}");
    for (path, body) in requests {
        let (st, v) = post(&client, format!("{base}{path}"), INTEGRATION, body).await;
        assert_eq!(st, StatusCode::OK, "{way}: {path}: {v}");
    }
    let (st, v) = advance(json!({"to": until})).await;
    assert_eq!(st, StatusCode::OK, "{way}: {v}");
    engine
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_days_payment_and_dispute_from_two_files_count_as_the_planner_counts_them() {
    let tmp = TempDir::new("same-day");
    let data = tmp.0.join("folder");
    std::fs::create_dir_all(&data).expect("folder");
    for (name, text) in [
        ("customers.csv", CUSTOMERS),
        ("invoices.csv", INVOICES),
        ("payments.csv", PAYMENTS),
        ("events.csv", EVENTS),
    ] {
        std::fs::write(data.join(name), text).expect("write");
    }
    let p = portfolio::load_dir(&data).expect("the folder loads");
    let (from, on, until) = (day("2026-02-01"), day("2026-02-20"), day("2026-03-20"));
    let stdlib = crate::workspace().join("stdlib-scenarios");
    let (plan, plan_states, _) = planned(&p, Path::new(&stdlib), from, until);
    assert!(
        plan.get("F-1")
            .is_some_and(|a| a.iter().any(|(d, _, _)| *d < on)),
        "F-1 is chased before the day: {plan:?}"
    );
    assert!(
        !plan
            .get("F-1")
            .is_some_and(|a| a.iter().any(|(d, _, _)| *d >= on)),
        "paid first, F-1 gets nothing from the dispute: {plan:?}"
    );

    let (engine, base, client) = daemon(&tmp, from).await;
    let upload = |path: &str, text: &'static str| {
        post(&client, format!("{base}{path}"), INTEGRATION, text.into())
    };
    let advance = |body: Value| {
        post(
            &client,
            format!("{base}/v1/clock/advance"),
            ADMIN,
            body.to_string().into(),
        )
    };
    for (path, text) in [
        ("/v1/import/csv/customers", CUSTOMERS),
        ("/v1/import/csv/invoices", INVOICES),
    ] {
        let (st, v) = upload(path, text).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
    }
    let (st, v) = advance(json!({"to": on, "run": false})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // The user's order: the events file first, then the payments.
    for (path, text) in [
        ("/v1/import/events", EVENTS),
        ("/v1/import/csv/payments", PAYMENTS),
    ] {
        let (st, v) = upload(path, text).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
        assert_eq!(v["written"], true, "{path}: {v}");
    }
    let (st, v) = advance(json!({"to": until})).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    let (got, got_states) = decided(&engine, &p);
    assert_agree(0, (&plan, &plan_states), (&got, &got_states));

    // Each fact keeps where it was read, as typed data.
    let mut stored: Vec<(String, Option<String>, Option<FileLine>)> = Vec::new();
    engine
        .store()
        .scan(Tree::Events, &mut |_, v| {
            let e: StoredEvent = decode("event", v).expect("a stored event");
            if e.event.kind.invoice() == Some("F-1") {
                stored.push((e.source.via, e.source.file, e.source.at));
            }
            Ok(())
        })
        .expect("scan");
    stored.sort_by_key(|(_, file, _)| file.clone());
    let at = |kind| {
        Some(FileLine {
            kind,
            file: 0,
            line: 2,
        })
    };
    assert_eq!(
        stored,
        [
            (
                "import".to_string(),
                Some("events.csv".to_string()),
                at(FileKind::Events)
            ),
            (
                "import".to_string(),
                Some("payments.csv".to_string()),
                at(FileKind::Payments)
            ),
        ]
    );
}

/// A camt.053 statement paying F-1 in full, its entry valued on the day `events.csv` opens a
/// dispute on F-1.
const STATEMENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>SAME-DAY</MsgId><CreDtTm>2026-02-20T18:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-2026-02-20</Id>
      <Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-02-20</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">5000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-02-20</Dt></Dt></Bal>
      <Ntry>
        <Amt Ccy="EUR">5000.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-02-20</Dt></BookgDt>
        <ValDt><Dt>2026-02-20</Dt></ValDt>
        <AcctSvcrRef>BK-1</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <RltdPties><Dbtr><Nm>Ateliers Martin</Nm></Dbtr></RltdPties>
          <RmtInf><Strd><CdtrRefInf><Ref>F-1</Ref></CdtrRefInf></Strd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#;

/// FEC and camt.053 facts had no test against `events.csv` facts of the same day. A camt.053
/// payment of F-1 and an `events.csv` dispute of F-1, both dated 2026-02-20, reach the daemon
/// in four ways (one batch with either file first; two imports in either order), each on a
/// fresh store before the day's run, and every one must decide what the planner decides on
/// the data folder the same statement and events make (`relance import camt053 --data` then
/// `portfolio::load_dir`). The planner's expectation is computed, not assumed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_payment_and_an_events_dispute_of_one_day_count_as_the_planner_counts_them() {
    use base64::Engine as _;
    use relance_data::import::{Merge, camt053, events_csv, load_or_empty, write};

    let tmp = TempDir::new("same-day-camt");
    let data = tmp.0.join("folder");
    std::fs::create_dir_all(&data).expect("folder");
    for (name, text) in [("customers.csv", CUSTOMERS), ("invoices.csv", INVOICES)] {
        std::fs::write(data.join(name), text).expect("write");
    }
    let files = tmp.0.join("files");
    std::fs::create_dir_all(&files).expect("files");
    let (events_file, statement_file) = (files.join("events.csv"), files.join("releve.xml"));
    std::fs::write(&events_file, EVENTS).expect("write");
    std::fs::write(&statement_file, STATEMENT).expect("write");
    // The data folder as `relance import events` then `relance import camt053` make it.
    let mut merge = Merge::new(load_or_empty(&data).expect("folder"));
    events_csv::import(&events_file, &mut merge).expect("events");
    let summary = camt053::import(&statement_file, &mut merge).expect("statement");
    let (merged, _) = merge.finish();
    write::write_dir(&data, &merged).expect("write the folder");
    let p = portfolio::load_dir(&data).expect("the folder loads");
    assert_eq!(summary.applied, 1, "the statement pays F-1: {summary:?}");
    let (from, on, until) = (day("2026-02-01"), day("2026-02-20"), day("2026-03-20"));
    let stdlib = crate::workspace().join("stdlib-scenarios");
    let (plan, plan_states, _) = planned(&p, Path::new(&stdlib), from, until);

    let file = |name: &str, format: &str, text: &str| {
        json!({"name": name, "format": format,
            "base64": base64::engine::general_purpose::STANDARD.encode(text)})
    };
    let events = file("events.csv", "events", EVENTS);
    let statement = file("releve.xml", "camt053", STATEMENT);
    let ways: [(&str, Vec<(&str, reqwest::Body)>); 4] = [
        (
            "one batch, events first",
            vec![(
                "/v1/import/batch",
                json!({"files": [events.clone(), statement.clone()]})
                    .to_string()
                    .into(),
            )],
        ),
        (
            "one batch, statement first",
            vec![(
                "/v1/import/batch",
                json!({"files": [statement.clone(), events.clone()]})
                    .to_string()
                    .into(),
            )],
        ),
        (
            "two imports, events first",
            vec![
                ("/v1/import/events", EVENTS.into()),
                ("/v1/import/camt053", STATEMENT.into()),
            ],
        ),
        (
            "two imports, statement first",
            vec![
                ("/v1/import/camt053", STATEMENT.into()),
                ("/v1/import/events", EVENTS.into()),
            ],
        ),
    ];
    for (n, (way, requests)) in ways.into_iter().enumerate() {
        let tmp = TempDir::new(&format!("same-day-camt-{n}"));
        let engine = arrive(&tmp, way, requests, (from, on, until)).await;
        let (got, got_states) = decided(&engine, &p);
        eprintln!("{way}");
        assert_agree(0, (&plan, &plan_states), (&got, &got_states));
    }
}

/// A FEC holding F-1's sale (2026-01-05, as in `invoices.csv`: a FEC's credits go to the
/// invoices of its own ledger) and an entry dated 2026-02-20 writing F-1 off in full (account
/// 654, F-1 named by its `PieceRef`).
const FEC_WRITE_OFF: &str = "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise
VE\tVentes\t1\t20260105\t411000\tClients\tC1\tAteliers Martin\tF-1\t20260105\tFacture F-1\t5000,00\t0,00\t\t\t20260105\t\t
VE\tVentes\t1\t20260105\t706000\tPrestations\t\t\tF-1\t20260105\tFacture F-1\t0,00\t5000,00\t\t\t20260105\t\t
OD\tOperations diverses\t1\t20260220\t654000\tPertes sur creances\t\t\tF-1\t20260220\tPerte F-1\t5000,00\t0,00\t\t\t20260220\t\t
OD\tOperations diverses\t1\t20260220\t411000\tClients\tC1\tAteliers Martin\tF-1\t20260220\tPerte F-1\t0,00\t5000,00\t\t\t20260220\t\t
";

/// A FEC write-off and an `events.csv` dispute of F-1 on the same day are both facts of rank 2
/// (LANGUAGE.md, rule 2): they count in the order the imports bring them, then by file and
/// line, as the data folder those imports make orders them. Four ways reach the daemon, each
/// on a fresh store before the day's run: one batch (which reads a FEC before `events.csv`,
/// whatever the order in the request) with either file first, and two imports in either
/// order. Each must decide what the planner decides on the folder the same imports make in
/// the same order (`relance import fec` / `relance import events` into the folder, then
/// `portfolio::load_dir`); the two orders are also shown to differ in what they decide, so
/// the comparison can tell them apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fec_write_off_and_an_events_dispute_of_one_day_count_in_the_order_of_their_imports() {
    use base64::Engine as _;
    use relance_data::import::fec::{self, FecOptions};
    use relance_data::import::{Merge, events_csv, load_or_empty, write};

    let tmp = TempDir::new("same-day-fec");
    let files = tmp.0.join("files");
    std::fs::create_dir_all(&files).expect("files");
    let (events_file, fec_file) = (
        files.join("events.csv"),
        files.join("123456782FEC20260220.txt"),
    );
    std::fs::write(&events_file, EVENTS).expect("write");
    std::fs::write(&fec_file, FEC_WRITE_OFF).expect("write");
    let (from, on, until) = (day("2026-02-01"), day("2026-02-20"), day("2026-03-20"));
    let stdlib = crate::workspace().join("stdlib-scenarios");
    // The planner's folder when the FEC comes first, and when `events.csv` does.
    let folder = |name: &str, fec_first: bool| {
        let data = tmp.0.join(name);
        std::fs::create_dir_all(&data).expect("folder");
        for (name, text) in [("customers.csv", CUSTOMERS), ("invoices.csv", INVOICES)] {
            std::fs::write(data.join(name), text).expect("write");
        }
        let mut merge = Merge::new(load_or_empty(&data).expect("folder"));
        let fec = |merge: &mut Merge| {
            fec::import(&fec_file, &FecOptions::default(), merge, &mut |_, _| {}).expect("the FEC")
        };
        if fec_first {
            fec(&mut merge);
            events_csv::import(&events_file, &mut merge).expect("events");
        } else {
            events_csv::import(&events_file, &mut merge).expect("events");
            fec(&mut merge);
        }
        let (merged, _) = merge.finish();
        write::write_dir(&data, &merged).expect("write the folder");
        portfolio::load_dir(&data).expect("the folder loads")
    };
    let fec_first = folder("fec-first", true);
    let events_first = folder("events-first", false);
    let plan_fec_first = planned(&fec_first, Path::new(&stdlib), from, until);
    let plan_events_first = planned(&events_first, Path::new(&stdlib), from, until);
    assert_ne!(
        (&plan_fec_first.0, &plan_fec_first.1),
        (&plan_events_first.0, &plan_events_first.1),
        "the order of the write-off and the dispute changes what is decided"
    );

    let file = |name: &str, format: &str, text: &str| {
        json!({"name": name, "format": format,
            "base64": base64::engine::general_purpose::STANDARD.encode(text)})
    };
    let events = file("events.csv", "events", EVENTS);
    let ledger = file("123456782FEC20260220.txt", "fec", FEC_WRITE_OFF);
    let batch =
        |files: Vec<&Value>| -> reqwest::Body { json!({ "files": files }).to_string().into() };
    // Each way: its name, its requests, and whether the FEC comes first in it.
    type Way<'a> = (&'a str, Vec<(&'a str, reqwest::Body)>, bool);
    let ways: [Way; 4] = [
        (
            "one batch, events first",
            vec![("/v1/import/batch", batch(vec![&events, &ledger]))],
            true,
        ),
        (
            "one batch, FEC first",
            vec![("/v1/import/batch", batch(vec![&ledger, &events]))],
            true,
        ),
        (
            "two imports, events first",
            vec![
                ("/v1/import/events", EVENTS.into()),
                (
                    "/v1/import/fec?name=123456782FEC20260220.txt",
                    FEC_WRITE_OFF.into(),
                ),
            ],
            false,
        ),
        (
            "two imports, FEC first",
            vec![
                (
                    "/v1/import/fec?name=123456782FEC20260220.txt",
                    FEC_WRITE_OFF.into(),
                ),
                ("/v1/import/events", EVENTS.into()),
            ],
            true,
        ),
    ];
    for (n, (way, requests, fec_came_first)) in ways.into_iter().enumerate() {
        let (p, (plan, plan_states, _)) = if fec_came_first {
            (&fec_first, &plan_fec_first)
        } else {
            (&events_first, &plan_events_first)
        };
        let tmp = TempDir::new(&format!("same-day-fec-{n}"));
        let engine = arrive(&tmp, way, requests, (from, on, until)).await;
        let (got, got_states) = decided(&engine, p);
        eprintln!("{way}");
        assert_agree(0, (plan, plan_states), (&got, &got_states));
    }
}
