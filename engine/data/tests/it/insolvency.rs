//! Insolvency and credit-insurance facts in the data: the `insolvency_opened`,
//! `insolvency_closed` and `due_date_extended` events and a customer's `insurer`,
//! `credit_cover` and `credit_limit`, read the same from the CSV folder and the case JSON,
//! written back by the importer's writer, and refused with a message naming the cell.

use std::path::PathBuf;

use relance_core::domain::{EventKind, Portfolio};
use relance_core::insolvency::Procedure;
use relance_core::insurance::{CoverStatus, CreditCover};
use relance_data::portfolio::{from_json, load_dir};

fn folder(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("relance-insolv-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write");
    }
    dir
}

const CUSTOMERS: &str = "id,insurer,credit_cover,credit_limit\n\
                         ACME,acme-credit,covered,50000\n\
                         BETA,acme-credit,cancelled,\n\
                         GAMMA,,,\n";
const INVOICES: &str = "id,customer,amount,issued,due\n\
                        F-1,ACME,100,2026-01-01,2026-01-31\n";
const EVENTS: &str = "date,type,invoice,customer,procedure,judgment_on,published_on,to,reason\n\
                      2026-01-20,due_date_extended,F-1,,,,,2026-03-15,\n\
                      2026-03-12,insolvency_opened,,ACME,redressement judiciaire,2026-03-10,2026-03-20,,\n\
                      2026-06-01,insolvency_closed,,ACME,,,,,plan de continuation\n";

fn expected_events() -> Vec<EventKind> {
    vec![
        EventKind::DueDateExtended {
            invoice: "F-1".into(),
            to: "2026-03-15".parse().unwrap(),
        },
        EventKind::InsolvencyOpened {
            customer: "ACME".into(),
            procedure: Procedure::Redressement,
            judgment_on: "2026-03-10".parse().unwrap(),
            published_on: Some("2026-03-20".parse().unwrap()),
        },
        EventKind::InsolvencyClosed {
            customer: "ACME".into(),
            reason: Some("plan de continuation".into()),
        },
    ]
}

fn check(p: &Portfolio) {
    let covers: Vec<Option<CreditCover>> =
        p.customers.iter().map(|c| c.credit_cover.clone()).collect();
    assert_eq!(
        covers,
        [
            Some(CreditCover {
                insurer: "acme-credit".into(),
                status: CoverStatus::Covered,
                limit: Some(50000.into()),
                threatened_risk: None,
                stop_cover: None,
                claim: None,
                procedure_declaration: None,
            }),
            Some(CreditCover {
                insurer: "acme-credit".into(),
                status: CoverStatus::Cancelled,
                limit: None,
                threatened_risk: None,
                stop_cover: None,
                claim: None,
                procedure_declaration: None,
            }),
            None,
        ]
    );
    let kinds: Vec<EventKind> = p.events.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(kinds, expected_events());
}

#[test]
fn the_csv_folder_reads_insolvency_and_cover_and_writes_them_back() {
    let dir = folder(
        "csv",
        &[
            ("customers.csv", CUSTOMERS),
            ("invoices.csv", INVOICES),
            ("events.csv", EVENTS),
        ],
    );
    let p = load_dir(&dir).expect("valid");
    check(&p);
    // The importer's writer writes them back (and checks the folder reads back the same).
    let out = dir.join("written");
    relance_data::import::write::write_dir(&out, &p).expect("written");
    check(&load_dir(&out).expect("reads back"));
}

#[test]
fn the_case_json_reads_insolvency_and_cover() {
    let p = from_json(
        r#"{
      "customers": [
        {"id": "ACME", "insurer": "acme-credit", "credit_cover": "covered", "credit_limit": "50000"},
        {"id": "BETA", "insurer": "acme-credit", "credit_cover": "cancelled"},
        {"id": "GAMMA"}
      ],
      "invoices": [{"id": "F-1", "customer": "ACME", "amount": "100", "issued": "2026-01-01", "due": "2026-01-31"}],
      "events": [
        {"date": "2026-01-20", "type": "due_date_extended", "invoice": "F-1", "to": "2026-03-15"},
        {"date": "2026-03-12", "type": "insolvency_opened", "customer": "ACME",
         "procedure": "redressement", "judgment_on": "2026-03-10", "published_on": "2026-03-20"},
        {"date": "2026-06-01", "type": "insolvency_closed", "customer": "ACME", "reason": "plan de continuation"}
      ]
    }"#,
    )
    .expect("valid");
    check(&p);
}

/// Mistakes name the file, line and column.
#[test]
fn wrong_procedures_and_orphan_statuses_are_refused() {
    for (test, customers, events, want) in [
        (
            "procedure",
            "id\nACME\n",
            "date,type,customer,procedure,judgment_on\n2026-03-12,insolvency_opened,ACME,faillite,2026-03-10\n",
            "unknown procedure \"faillite\" (expected sauvegarde, redressement or liquidation)",
        ),
        (
            "judgment",
            "id\nACME\n",
            "date,type,customer,procedure\n2026-03-12,insolvency_opened,ACME,sauvegarde\n",
            "a insolvency_opened event needs a value here",
        ),
        (
            "status",
            "id,credit_cover\nACME,covered\n",
            "date,type\n",
            "a cover status needs an insurer (column \"insurer\")",
        ),
        (
            "unknown-status",
            "id,insurer,credit_cover\nACME,x,partial\n",
            "date,type\n",
            "unknown cover status \"partial\" (expected covered, not_covered or cancelled)",
        ),
    ] {
        let dir = folder(
            test,
            &[
                ("customers.csv", customers),
                ("invoices.csv", "id,customer,amount,issued,due\n"),
                ("events.csv", events),
            ],
        );
        let message = load_dir(&dir).expect_err(test).to_string();
        assert!(message.contains(want), "{test}: {message}");
    }
}
