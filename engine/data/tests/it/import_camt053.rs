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
    // The minimal sample's closing balance is in SEK while its opening balance and entry are
    // in EUR: refused, naming both currencies.
    let mut merge = Merge::new(relance_core::domain::Portfolio::default());
    let err = import(
        &dir().join("camt053/genkgo-camt053.v2.minimal.xml"),
        &mut merge,
    )
    .expect_err("mixed currencies")
    .to_string();
    assert!(
        err.contains(
            "statement 253EURNL26VAYB8060476890: the opening balance is in EUR and the closing balance in SEK"
        ),
        "{err}"
    );
    // The multi-statement sample balances: 18.15 + 8.85 = 27.00, then 27.00 - 7.00 = 20.00.
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

/// A balance: type code, amount, currency, `CRDT` or `DBIT`.
type Balance = (&'static str, &'static str, &'static str, &'static str);
/// A booked entry: amount, currency, `CRDT` or `DBIT`.
type Entry = (&'static str, &'static str, &'static str);
/// A balance-check case: name, balances, entries, the refusal expected (None: accepted).
type Case = (
    &'static str,
    Vec<Balance>,
    &'static [Entry],
    Option<&'static str>,
);

/// A statement with the given balances `(code, amount, currency, CRDT|DBIT)` and booked entries
/// `(amount, currency, CRDT|DBIT)`, written to a temporary file.
fn statement(name: &str, balances: &[Balance], entries: &[Entry]) -> PathBuf {
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\n<BkToCstmrStmt>\n<Stmt>\n<Id>S-1</Id>\n",
    );
    for (code, amount, ccy, ind) in balances {
        xml.push_str(&format!(
            "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{ccy}\">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal>\n"
        ));
    }
    for (k, (amount, ccy, ind)) in entries.iter().enumerate() {
        xml.push_str(&format!(
            "<Ntry><Amt Ccy=\"{ccy}\">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>E{k}</AcctSvcrRef></Ntry>\n"
        ));
    }
    xml.push_str("</Stmt>\n</BkToCstmrStmt>\n</Document>\n");
    let path = std::env::temp_dir().join(format!("relance-camt-{name}-{}.xml", std::process::id()));
    std::fs::write(&path, xml).expect("write");
    path
}

/// Balance checks by hand: opening + credits - debits must equal closing, in one currency,
/// with both booked balances present (ISO 20022 camt.053 implementation guides, see
/// `check_balance` in the importer).
#[test]
fn statements_must_balance() {
    const ENTRIES: &[Entry] = &[
        ("1200.00", "EUR", "CRDT"),
        ("300.00", "EUR", "CRDT"),
        ("75.10", "EUR", "DBIT"),
    ];
    // 100.00 + 1200.00 + 300.00 - 75.10 = 1524.90
    let open = ("OPBD", "100.00", "EUR", "CRDT");
    let close = ("CLBD", "1524.90", "EUR", "CRDT");
    let cases: &[Case] = &[
        ("balanced", vec![open, close], ENTRIES, None),
        // the previous day's closing stands for the opening balance
        (
            "prcd",
            vec![("PRCD", "100.00", "EUR", "CRDT"), close],
            ENTRIES,
            None,
        ),
        // a debit opening balance: -1000.00 + 1424.90 = 424.90
        (
            "debit-opening",
            vec![
                ("OPBD", "1000.00", "EUR", "DBIT"),
                ("CLBD", "424.90", "EUR", "CRDT"),
            ],
            ENTRIES,
            None,
        ),
        // into the red: 10.00 - 75.10 = -65.10, a debit closing balance
        (
            "debit-closing",
            vec![
                ("OPBD", "10.00", "EUR", "CRDT"),
                ("CLBD", "65.10", "EUR", "DBIT"),
            ],
            &ENTRIES[2..],
            None,
        ),
        (
            "empty",
            vec![
                ("OPBD", "5.00", "EUR", "CRDT"),
                ("CLBD", "5.00", "EUR", "CRDT"),
            ],
            &[],
            None,
        ),
        (
            "off-by-a-cent",
            vec![open, ("CLBD", "1524.91", "EUR", "CRDT")],
            ENTRIES,
            Some(
                "statement S-1 does not balance: opening balance 100.00 EUR + booked entries 1424.90 EUR = 1524.90 EUR, but the closing balance is 1524.91 EUR (difference 0.01 EUR)",
            ),
        ),
        (
            "sign-of-closing",
            vec![open, ("CLBD", "1524.90", "EUR", "DBIT")],
            ENTRIES,
            Some("closing balance is -1524.90 EUR (difference -3049.80 EUR)"),
        ),
        (
            "no-clbd",
            vec![open, ("CLAV", "1524.90", "EUR", "CRDT")],
            ENTRIES,
            Some(
                "statement S-1 lacks the closing booked balance (Bal CLBD), which camt.053 requires",
            ),
        ),
        (
            "no-opbd",
            vec![("OPAV", "100.00", "EUR", "CRDT"), close],
            ENTRIES,
            Some(
                "statement S-1 lacks the opening booked balance (Bal OPBD or PRCD), which camt.053 requires",
            ),
        ),
        (
            "no-balance",
            vec![],
            ENTRIES,
            Some(
                "lacks the opening booked balance (Bal OPBD or PRCD) and the closing booked balance (Bal CLBD)",
            ),
        ),
        (
            "closing-in-usd",
            vec![open, ("CLBD", "1524.90", "USD", "CRDT")],
            ENTRIES,
            Some("statement S-1: the opening balance is in EUR and the closing balance in USD"),
        ),
        (
            "entry-in-chf",
            vec![open, close],
            &[
                ("1200.00", "EUR", "CRDT"),
                ("300.00", "CHF", "CRDT"),
                ("75.10", "EUR", "DBIT"),
            ],
            Some("statement S-1: balances in EUR but entries in CHF"),
        ),
    ];
    for (name, balances, entries, expected) in cases {
        let path = statement(name, balances, entries);
        let mut merge = Merge::new(relance_core::domain::Portfolio::default());
        let result = import(&path, &mut merge);
        let _ = std::fs::remove_file(&path);
        match (expected, result) {
            (None, Ok(summary)) => assert_eq!(summary.entries, entries.len(), "{name}"),
            (None, Err(e)) => panic!("{name}: refused: {e}"),
            (Some(_), Ok(_)) => panic!("{name}: accepted"),
            (Some(message), Err(e)) => {
                let e = e.to_string();
                assert!(e.contains(message), "{name}: {e}");
                assert!(
                    e.contains("column \"Bal\"") || e.contains("column \"Ccy\""),
                    "{name}: {e}"
                );
            }
        }
    }
}

#[test]
fn a_balanced_statement_is_imported_and_an_unbalanced_one_refused() {
    let base = relance_data::portfolio::load_dir(&dir().join("data")).expect("data");
    let mut merge = Merge::new(base.clone());
    // -250.00 + 1200.00 + 300.00 - 75.10 = 1174.90; the pending and information entries
    // (999.99, 600.00) are not booked and not on the balances.
    let summary =
        import(&dir().join("camt053/relance-balanced.xml"), &mut merge).expect("balanced");
    assert_eq!(
        (
            summary.entries,
            summary.credits,
            summary.ignored_debits,
            summary.applied
        ),
        (5, 2, 3, 2)
    );
    let (p, _) = merge.finish();
    let open = open_amounts(&p);
    assert_eq!((open["F-1"], open["F-4"]), (Decimal::ZERO, Decimal::ZERO));

    let mut merge = Merge::new(base);
    let err = import(&dir().join("camt053/relance-unbalanced.xml"), &mut merge)
        .expect_err("unbalanced")
        .to_string();
    assert!(
        err.contains("relance-unbalanced.xml:14: column \"Bal\": statement STMT-2026-03 does not balance: opening balance -250.00 EUR + booked entries 1424.90 EUR = 1174.90 EUR, but the closing balance is 1174.91 EUR (difference 0.01 EUR)"),
        "{err}"
    );
    assert_eq!(merge.finish().1.new_payments, 0, "nothing applied");
}

#[test]
fn proposals_carry_the_payers_iban_end_to_end_id_and_both_dates() {
    // No invoice open: both credits of the balanced statement are proposals.
    let mut merge = Merge::new(relance_core::domain::Portfolio::default());
    import(&dir().join("camt053/relance-balanced.xml"), &mut merge).expect("balanced");
    let (_, changes) = merge.finish();
    let t: Vec<_> = changes.proposals.iter().map(|p| &p.transaction).collect();
    assert_eq!(t.len(), 2);
    let day = |d: &str| d.parse::<chrono::NaiveDate>().expect("date");
    assert_eq!(
        (
            t[0].payer_iban.as_deref(),
            t[0].end_to_end_id.as_deref(),
            t[0].booking_date,
            t[0].value_date,
            t[0].date
        ),
        (
            Some("FR7611808009101234567890147"),
            Some("ACME-PAY-2026-0042"),
            Some(day("2026-03-04")),
            Some(day("2026-03-03")),
            day("2026-03-03"),
        ),
        "the payment date is the value date"
    );
    assert_eq!(
        (t[1].payer_iban.as_deref(), t[1].end_to_end_id.as_deref()),
        (None, None),
        "no debtor account; NOTPROVIDED is no identification"
    );
    let shown = changes.proposals[0].to_string();
    assert!(
        shown.contains(
            "\"ACME SA\" (IBAN FR7611808009101234567890147) EndToEndId ACME-PAY-2026-0042"
        ),
        "{shown}"
    );

    // The creditor's account (`CdtrAcct`) is not the payer's.
    let mut merge = Merge::new(relance_core::domain::Portfolio::default());
    import(
        &dir().join("camt053/genkgo-camt053.v2.multi.statement.xml"),
        &mut merge,
    )
    .expect("multi");
    let (_, changes) = merge.finish();
    let t = &changes.proposals[0].transaction;
    assert_eq!(
        (t.payer_iban.as_deref(), t.end_to_end_id.as_deref()),
        (None, Some("000000001"))
    );
}

/// A returned SEPA direct debit (debit entry with `RtrInf`, reason AM04, bank transaction code
/// PMNT/IDDT/UPDD) becomes a `payment_reversed` of the payment it returns, dated from that
/// payment (Code monétaire et financier L133-25-1: a CORE debtor may ask a refund for eight
/// weeks); a reversal that names nothing is proposed; a credit's means comes from its bank
/// transaction code. Imported twice, the return adds nothing.
#[test]
fn a_returned_direct_debit_becomes_a_payment_reversed() {
    use relance_core::payment::{PaymentMeans, ReversalReason};
    let base = relance_data::portfolio::load_dir(&dir().join("data")).expect("data");
    let mut merge = Merge::new(base);
    import(&dir().join("camt053/relance-statement.xml"), &mut merge).expect("february");
    let (p, _) = merge.finish();
    let mut merge = Merge::new(p);
    let summary = import(&dir().join("camt053/relance-returned.xml"), &mut merge).expect("march");
    assert_eq!(
        (summary.entries, summary.credits, summary.ignored_debits),
        (3, 1, 0)
    );
    assert_eq!(
        (summary.reversed, summary.proposed, summary.applied),
        (1, 1, 1)
    );
    let (p, changes) = merge.finish();
    let reversed: Vec<_> = p
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PaymentReversed {
                invoice,
                amount,
                reason,
                reference,
                payment_date,
            } => Some((
                e.date.to_string(),
                invoice.clone(),
                *amount,
                *reason,
                reference.clone(),
                payment_date.map(|d| d.to_string()),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        reversed,
        [(
            "2026-03-05".to_string(),
            "F-1".to_string(),
            "1200.00".parse::<Decimal>().expect("d"),
            ReversalReason::ReturnedDirectDebit,
            Some(
                "camt STMT-2026-02/BK-001 (returned: camt STMT-2026-03/BK-101, reason AM04)".into()
            ),
            Some("2026-02-03".to_string()),
        )]
    );
    let open = open_amounts(&p);
    assert_eq!(
        open["F-1"],
        "1200.00".parse::<Decimal>().expect("d"),
        "owed again"
    );
    assert_eq!(open["F-2"], Decimal::ZERO);
    assert!(p.events.iter().any(|e| matches!(&e.kind,
        EventKind::Payment { invoice, details, .. }
            if invoice == "F-2" && details.means == Some(PaymentMeans::Transfer))));
    assert_eq!(changes.proposals.len(), 1);
    assert!(
        changes.proposals[0].reason.contains("returned payment"),
        "{}",
        changes.proposals[0].reason
    );

    let mut again = Merge::new(p);
    let summary = import(&dir().join("camt053/relance-returned.xml"), &mut again).expect("again");
    assert_eq!((summary.reversed, summary.already_imported), (0, 2));
}

/// Regression (review): a return matched by its EndToEndId reversed the return's own amount,
/// even when it was larger than the payment it named (a return that includes the bank's
/// charges), so the customer was chased for more than the invoice. Such a return is a
/// proposal, never a reversal.
#[test]
fn a_return_larger_than_its_payment_is_proposed_not_reversed() {
    let tmp = std::env::temp_dir().join(format!("relance-camt-larger-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let with_id = |name: &str, from: &str, to: &str| {
        let text = std::fs::read_to_string(dir().join("camt053").join(name)).expect("fixture");
        assert!(text.contains(from), "{name} holds {from}");
        let path = tmp.join(name);
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
        path
    };
    let february = with_id(
        "relance-statement.xml",
        "<AcctSvcrRef>BK-001</AcctSvcrRef>\n        <NtryDtls><TxDtls>",
        "<AcctSvcrRef>BK-001</AcctSvcrRef>\n        <NtryDtls><TxDtls><Refs><EndToEndId>E2E-F1</EndToEndId></Refs>",
    );
    let base = relance_data::portfolio::load_dir(&dir().join("data")).expect("data");
    let mut merge = Merge::new(base);
    import(&february, &mut merge).expect("february");
    let (p, _) = merge.finish();
    let text =
        std::fs::read_to_string(dir().join("camt053/relance-returned.xml")).expect("fixture");
    let text = text
        .replacen("<Amt Ccy=\"EUR\">1200.00</Amt>", "<Amt Ccy=\"EUR\">1215.00</Amt>", 1)
        .replacen(
            "<Amt Ccy=\"EUR\">2924.89</Amt>",
            "<Amt Ccy=\"EUR\">2909.89</Amt>",
            1,
        )
        .replacen(
            "<NtryDtls><TxDtls>\n          <RltdPties><Dbtr><Nm>ACME SA</Nm>",
            "<NtryDtls><TxDtls><Refs><EndToEndId>E2E-F1</EndToEndId></Refs>\n          <RltdPties><Dbtr><Nm>ACME SA</Nm>",
            1,
        );
    assert!(
        text.contains("1215.00") && text.contains("E2E-F1"),
        "fixture edited"
    );
    let march = tmp.join("relance-returned.xml");
    std::fs::write(&march, text).expect("write");
    let mut merge = Merge::new(p);
    let summary = import(&march, &mut merge).expect("march");
    let (p, changes) = merge.finish();
    std::fs::remove_dir_all(&tmp).ok();
    assert_eq!(summary.reversed, 0, "nothing reversed");
    assert!(
        !p.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::PaymentReversed { .. })),
        "no reversal recorded"
    );
    assert!(
        changes
            .proposals
            .iter()
            .any(|c| c.reason.contains("more than the payment")),
        "{:?}",
        changes
            .proposals
            .iter()
            .map(|c| &c.reason)
            .collect::<Vec<_>>()
    );
}

/// Regression (review): a second return of a payment already reversed (the same return booked
/// again under another reference) reversed it a second time, so the invoice was owed twice.
/// It is a proposal; the same statement imported again still adds nothing.
#[test]
fn a_payment_already_reversed_is_not_reversed_again() {
    let base = relance_data::portfolio::load_dir(&dir().join("data")).expect("data");
    let mut merge = Merge::new(base);
    import(&dir().join("camt053/relance-statement.xml"), &mut merge).expect("february");
    let (p, _) = merge.finish();
    let mut merge = Merge::new(p);
    import(&dir().join("camt053/relance-returned.xml"), &mut merge).expect("march");
    let (p, _) = merge.finish();
    let text =
        std::fs::read_to_string(dir().join("camt053/relance-returned.xml")).expect("fixture");
    let text = text
        .replace("STMT-2026-03", "STMT-2026-04")
        .replace("BK-101", "BK-201")
        .replace("BK-102", "BK-202")
        .replace("BK-103", "BK-203");
    let again = std::env::temp_dir().join(format!("relance-camt-again-{}.xml", std::process::id()));
    std::fs::write(&again, text).expect("write");
    let mut merge = Merge::new(p);
    let summary = import(&again, &mut merge);
    std::fs::remove_file(&again).ok();
    let summary = summary.expect("april");
    let (p, changes) = merge.finish();
    let reversals = p
        .events
        .iter()
        .filter(
            |e| matches!(&e.kind, EventKind::PaymentReversed { invoice, .. } if invoice == "F-1"),
        )
        .count();
    assert_eq!(
        (summary.reversed, reversals),
        (0, 1),
        "one reversal of F-1's payment"
    );
    assert!(
        changes
            .proposals
            .iter()
            .any(|c| c.reason.contains("already reversed")),
        "{:?}",
        changes
            .proposals
            .iter()
            .map(|c| &c.reason)
            .collect::<Vec<_>>()
    );
}
