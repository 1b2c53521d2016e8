//! FEC import: both customer-account layouts, lettering (full and partial), encodings and
//! separators, and precise rejection of non-compliant files.

use std::path::{Path, PathBuf};

use relance_core::domain::{EventKind, Portfolio};
use relance_data::import::fec::{FecOptions, import};
use relance_data::import::{Merge, open_amounts};
use rust_decimal::Decimal;

fn fec(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests-data/import/fec")
        .join(name)
}

fn load(name: &str, base: Portfolio) -> Result<(Portfolio, relance_data::import::Changes), String> {
    let mut merge = Merge::new(base);
    import(
        &fec(name),
        &FecOptions { default_terms: 30 },
        &mut merge,
        &mut |_, _| {},
    )
    .map_err(|e| e.to_string())?;
    let (p, changes) = merge.finish();
    relance_data::portfolio::validate(&p).map_err(|e| e.to_string())?;
    Ok((p, changes))
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

#[test]
fn collective_411_with_auxiliary_accounts() {
    let (p, changes) = load("collective-411.txt", Portfolio::default()).expect("valid");
    let ids: Vec<&str> = p.customers.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["CLI001", "CLI002", "CLI003"]);
    assert_eq!(p.customers[0].name.as_deref(), Some("Acme SA"));
    let open = open_amounts(&p);
    assert_eq!(
        open["FA-2026-001"],
        Decimal::ZERO,
        "lettered A with its payment"
    );
    assert_eq!(
        open["F2025-120"],
        Decimal::ZERO,
        "opening balance lettered B"
    );
    assert_eq!(
        open["FA-2026-002"],
        Decimal::ZERO,
        "unlettered transfer naming the invoice"
    );
    assert_eq!(open["FA-2026-003"], dec("300"), "credit note of 60 on 360");
    let f1 = p
        .invoices
        .iter()
        .find(|i| i.id == "FA-2026-001")
        .expect("FA-2026-001");
    assert_eq!(
        (f1.issued.to_string(), f1.due.to_string()),
        ("2026-01-05".into(), "2026-02-04".into())
    );
    assert!(p.events.iter().any(|e| matches!(&e.kind,
        EventKind::CreditNote { invoice, amount } if invoice == "FA-2026-003" && *amount == dec("60"))));
    assert_eq!((changes.new_payments, changes.new_events), (3, 1));

    // Importing the same FEC again changes nothing.
    let (_, again) = load("collective-411.txt", p).expect("valid");
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn one_411_account_per_customer_pipe_separated_windows_1252() {
    let mut base = Portfolio::default();
    let mut beta = relance_core::domain::Customer::new("411BETA");
    beta.payment_terms_days = Some(60);
    beta.segment = relance_core::domain::Segment::Public;
    base.customers.push(beta);
    let (p, changes) = load("per-customer-411-pipe-cp1252.txt", base).expect("valid");
    let beta = p
        .customers
        .iter()
        .find(|c| c.id == "411BETA")
        .expect("411BETA");
    assert_eq!(
        beta.name.as_deref(),
        Some("Bêta Société"),
        "decoded from Windows-1252"
    );
    assert_eq!(
        beta.segment,
        relance_core::domain::Segment::Public,
        "existing fields kept"
    );
    let f102 = p.invoices.iter().find(|i| i.id == "F-102").expect("F-102");
    assert_eq!(
        f102.due.to_string(),
        "2026-05-04",
        "the customer's 60 days of terms"
    );
    let open = open_amounts(&p);
    assert_eq!(open["F-101"], Decimal::ZERO);
    assert_eq!(open["F-102"], Decimal::ZERO);
    assert!(
        changes
            .notes
            .iter()
            .any(|n| n.contains("unlettered credit of 1800.00") && n.contains("F-102")),
        "{:?}",
        changes.notes
    );
}

#[test]
fn partial_lettering_leaves_the_remainder_open() {
    let (p, _) = load("partial-lettering.txt", Portfolio::default()).expect("valid");
    let open = open_amounts(&p);
    assert_eq!(
        open["F-D1"],
        dec("600.00"),
        "1000 lettered `a` with a payment of 400"
    );
    assert_eq!(open["F-D2"], Decimal::ZERO);
}

#[test]
fn non_compliant_files_are_rejected_precisely() {
    let cases = [
        (
            "broken-17-columns.txt",
            "broken-17-columns.txt:1: the header has 17 columns, a FEC has 18: missing Idevise",
        ),
        (
            "broken-bad-date.txt",
            "broken-bad-date.txt:5: column \"EcritureDate\": invalid date \"2026-01-05\" (expected AAAAMMJJ)",
        ),
        (
            "broken-bad-amount.txt",
            "broken-bad-amount.txt:4: column \"Debit\": invalid amount \"120O,00\"",
        ),
        (
            "broken-bad-sens.txt",
            "broken-bad-sens.txt:3: column \"Sens\": invalid direction \"X\" (expected D or C, or +1 or -1)",
        ),
        (
            "broken-mixed-layout.txt",
            "broken-mixed-layout.txt:1: the header mixes the two layouts of a FEC",
        ),
        (
            "broken-unbalanced.txt",
            "broken-unbalanced.txt:2: column \"Debit\": entry VE 2 is unbalanced: debits 600.00, credits 590.00",
        ),
    ];
    for (file, expected) in cases {
        let message = load(file, Portfolio::default()).expect_err(file);
        assert!(message.contains(expected), "{file}: {message}");
    }
}

#[test]
fn due_dates_follow_the_customers_payment_terms() {
    // CLI001 has `end of month + 45 days`: FA-2026-001, PieceDate 5 Jan 2026, is due
    // 31 Jan + 45 days = 17 Mar 2026 (28 to 28 Feb, 17 more); without terms it would be
    // 5 Jan + 30 = 4 Feb.
    let mut base = Portfolio::default();
    let mut acme = relance_core::domain::Customer::new("CLI001");
    acme.payment_terms = Some("end of month + 45 days".parse().expect("terms"));
    base.customers.push(acme);
    let (p, _) = load("collective-411.txt", base).expect("valid");
    let due = |id: &str| {
        p.invoices
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.due.to_string())
    };
    assert_eq!(due("FA-2026-001").as_deref(), Some("2026-03-17"));
    // CLI003 has no terms: net 30 from 15 Dec 2025 = 14 Jan 2026.
    assert_eq!(due("F2025-120").as_deref(), Some("2026-01-14"));
}

/// The Montant/Sens variant (article A47 A-1 LPF, VII 1°, fields 12 and 13 "le montant" and
/// "le sens", commented in BOI-CF-IOR-60-40-20), in both sign conventions, reads as the
/// Debit/Credit layout would. Hand-computed: FA-1 = 1200,00 debit (706 1000,00 + 44571 200,00
/// credit), paid 500,00 → 700 open, due 5 Nov 2025 + 30 days = 5 Dec 2025; F-7 = 600 (500 +
/// 100), paid 250 → 350 open, due 15 Jan 2025 + 30 = 14 Feb 2025.
#[test]
fn the_montant_sens_variant_reads_like_debit_and_credit() {
    let cases = [
        // (file, invoice, amount, due, open, decimal-point warnings)
        (
            "123456782FEC20251231.txt",
            "FA-1",
            "1200.00",
            "2025-12-05",
            "700.00",
            vec![],
        ),
        (
            "123456782FEC20250630.txt",
            "F-7",
            "600.00",
            "2025-02-14",
            "350.00",
            vec![
                "123456782FEC20250630.txt:2: column \"Montant\": decimal point in \"600.00\": a FEC writes amounts with a decimal comma (article A47 A-1 LPF); read as 600.00",
            ],
        ),
    ];
    for (file, id, amount, due, open, points) in cases {
        let (p, changes) = load(file, Portfolio::default()).expect(file);
        let inv = p.invoices.iter().find(|i| i.id == id).expect(id);
        assert_eq!(inv.amount, dec(amount), "{file}");
        assert_eq!(inv.due.to_string(), due, "{file}");
        assert_eq!(open_amounts(&p)[id], dec(open), "{file}");
        let warnings: Vec<&String> = changes
            .notes
            .iter()
            .filter(|n| n.starts_with("warning:"))
            .collect();
        assert_eq!(warnings.len(), points.len(), "{file}: {warnings:?}");
        for (w, expected) in warnings.iter().zip(&points) {
            assert!(w.ends_with(expected), "{file}: {w}");
        }
    }
}

/// The file name `SirenFECAAAAMMJJ.txt` (article A47 A-1 LPF; BOI-CF-IOR-60-40-20): a 9-digit
/// SIREN whose ninth digit is its Luhn key (123456782, from the right, every second digit
/// doubled and 9 taken off above 9: 2+7+7+3+5+8+3+4+1 = 40, a multiple of 10, valid; 123456789:
/// 9+7+7+3+5+8+3+4+1 = 47, invalid), then `FEC`, then the closing date.
#[test]
fn the_file_name_is_checked_as_warnings() {
    use relance_data::import::fec::check_file_name;
    let cases: [(&str, &[&str]); 7] = [
        ("123456782FEC20251231.txt", &[]),
        ("123456782fec20251231.TXT", &[]),
        (
            "123456789FEC20251231.txt",
            &["SIREN 123456789 fails its check digit"],
        ),
        (
            "12345678FEC20251231.txt",
            &["\"12345678\" before FEC is not a SIREN (9 digits)"],
        ),
        (
            "ACMEFEC20251331.txt",
            &[
                "\"ACME\" before FEC is not a SIREN",
                "\"20251331\" after FEC is not a closing date AAAAMMJJ",
            ],
        ),
        ("grand-livre.txt", &["file name without \"FEC\""]),
        // Non-ASCII before FEC (ß upper-cases to two letters: the split must not shift).
        (
            "straßeFEC20251231.txt",
            &["\"straße\" before FEC is not a SIREN"],
        ),
    ];
    for (name, expected) in cases {
        let warnings = check_file_name(Path::new(name));
        assert_eq!(warnings.len(), expected.len(), "{name}: {warnings:?}");
        for (w, e) in warnings.iter().zip(expected) {
            assert!(
                w.starts_with(&format!("{name}: ")) && w.contains(e),
                "{name}: {w}"
            );
        }
    }
}
