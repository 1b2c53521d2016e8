//! camt.053 import: matching by structured and unstructured reference, by amount and payer;
//! ambiguous transfers proposed, never applied; statements imported twice add nothing.

use std::path::{Path, PathBuf};

use relance_core::domain::EventKind;
use relance_data::import::camt053::import;
use relance_data::import::{Merge, open_amounts};
use rust_decimal::Decimal;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests-data/import")
}

#[test]
fn matches_certain_payments_and_proposes_the_rest() {
    let base = relance_data::portfolio::load_dir(&dir().join("data")).expect("data");
    let mut merge = Merge::new(base);
    let summary = import(&dir().join("camt053/relance-statement.xml"), &mut merge).expect("reads");
    assert_eq!(
        (summary.entries, summary.credits, summary.ignored_debits),
        (6, 5, 1)
    );
    assert_eq!((summary.applied, summary.proposed), (3, 2));
    let (p, changes) = merge.finish();
    let open = open_amounts(&p);
    assert_eq!(open["F-1"], Decimal::ZERO, "structured reference");
    assert_eq!(
        open["F-4"],
        Decimal::ZERO,
        "invoice number in the unstructured remittance"
    );
    assert_eq!(open["G-1"], Decimal::ZERO, "amount and payer name");
    assert_eq!(
        open["F-2"],
        "600.00".parse::<Decimal>().expect("d"),
        "ambiguous: not applied"
    );
    assert_eq!(
        open["F-3"],
        "600.00".parse::<Decimal>().expect("d"),
        "ambiguous: not applied"
    );
    let ambiguous = &changes.proposals[0];
    let candidates: Vec<&str> = ambiguous
        .candidates
        .iter()
        .map(|c| c.invoice.as_str())
        .collect();
    assert_eq!(candidates, ["F-2", "F-3"]);
    assert!(changes.proposals[1].candidates.is_empty());
    assert!(p.events.iter().any(|e| matches!(&e.kind,
        EventKind::Payment { invoice, reference: Some(r), .. } if invoice == "F-1" && r == "camt STMT-2026-02/BK-001")));

    let mut again = Merge::new(p);
    let summary = import(&dir().join("camt053/relance-statement.xml"), &mut again).expect("reads");
    assert_eq!((summary.applied, summary.already_imported), (0, 3));
    assert_eq!(again.finish().1.new_payments, 0);
}

#[test]
fn reads_the_genkgo_samples() {
    let base = relance_data::portfolio::load_dir(&dir().join("data")).expect("data");
    let mut merge = Merge::new(base);
    let one = import(
        &dir().join("camt053/genkgo-camt053.v2.minimal.xml"),
        &mut merge,
    )
    .expect("minimal");
    assert_eq!((one.credits, one.applied, one.proposed), (1, 0, 1));
    let (_, changes) = merge.finish();
    let t = &changes.proposals[0].transaction;
    assert_eq!(t.amount.to_string(), "8.85");
    assert_eq!(t.structured, ["4654654654654654"]);
    assert_eq!(t.payer.as_deref(), Some("NAME NAME"));
    let mut merge = Merge::new(relance_core::domain::Portfolio::default());
    let multi = import(
        &dir().join("camt053/genkgo-camt053.v2.multi.statement.xml"),
        &mut merge,
    )
    .expect("multi");
    assert_eq!(multi.entries, multi.credits + multi.ignored_debits);
    assert!(multi.ignored_debits >= 1);
}

#[test]
fn broken_xml_is_reported_with_its_line() {
    let path = std::env::temp_dir().join(format!("relance-camt-broken-{}.xml", std::process::id()));
    std::fs::write(&path, "<Document>\n<BkToCstmrStmt>\n<Stmt><Ntry><Amt Ccy=\"EUR\">1x</Amt></Ntry></Stmt></BkToCstmrStmt></Document>").expect("write");
    let mut merge = Merge::new(relance_core::domain::Portfolio::default());
    let err = import(&path, &mut merge).expect_err("invalid").to_string();
    assert!(
        err.contains(":3: column \"Amt\": invalid amount \"1x\""),
        "{err}"
    );
    let _ = std::fs::remove_file(&path);
}
