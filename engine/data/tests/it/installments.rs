//! Invoices with installments in every file that carries invoices: the case JSON (text form
//! and array form), the CSV data folder's `installments` column, written by
//! `import::write::write_dir` and read back unchanged; plans that do not fit the invoice are
//! errors naming the invoice and the field.

use relance_core::domain::Installment;
use relance_data::portfolio;
use rust_decimal::Decimal;

fn case(invoice_tail: &str) -> String {
    format!(
        r#"{{
  "customers": [{{"id": "ACME"}}],
  "invoices": [{{"id": "F-1", "customer": "ACME", "amount": "1000", "issued": "2026-01-01"{invoice_tail}}}]
}}"#
    )
}

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().expect("date")
}

fn plan(parts: &[(&str, i64)]) -> Vec<Installment> {
    parts
        .iter()
        .map(|(due, amount)| Installment {
            due: d(due),
            amount: Decimal::from(*amount),
        })
        .collect()
}

#[test]
fn read_from_json_text_or_array_and_survive_the_data_folder() {
    let want = plan(&[("2026-01-31", 300), ("2026-03-31", 700)]);
    let forms = [
        r#", "due": "2026-03-31", "installments": "2026-01-31 30%; 2026-03-31 rest""#,
        // Without `due`, the last installment's date.
        r#", "installments": "2026-01-31 300; 2026-03-31 700""#,
        r#", "installments": [{"due": "2026-01-31", "amount": "300"}, {"due": "2026-03-31", "amount": "700"}]"#,
    ];
    for form in forms {
        let p = portfolio::from_json(&case(form)).expect(form);
        assert_eq!(p.invoices[0].installments, want, "{form}");
        assert_eq!(p.invoices[0].due, d("2026-03-31"), "{form}");
        let dir = std::env::temp_dir().join(format!(
            "relance-installments-{}-{}",
            std::process::id(),
            form.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        relance_data::import::write::write_dir(&dir, &p).expect("written and verified");
        let csv = std::fs::read_to_string(dir.join("invoices.csv")).expect("invoices.csv");
        assert!(
            csv.contains("2026-01-31 300; 2026-03-31 700"),
            "the column holds the plan: {csv}"
        );
        let back = portfolio::load_dir(&dir).expect("reads back");
        assert_eq!(back.invoices, p.invoices);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn an_invoice_without_installments_writes_an_empty_cell() {
    let p = portfolio::from_json(&case(r#", "due": "2026-01-31""#)).expect("valid");
    assert!(p.invoices[0].installments.is_empty());
}

#[test]
fn plans_that_do_not_fit_are_errors_naming_the_field() {
    let cases = [
        (
            r#", "due": "2026-03-31", "installments": "2026-01-31 30%; 2026-03-31 60%""#,
            "invoices[0] (F-1).installments: the percentages add up to 90 %, not 100 %",
        ),
        (
            r#", "due": "2026-04-30", "installments": "2026-01-31 30%; 2026-03-31 rest""#,
            "invoices[0] (F-1).installments: the last installment is due 2026-03-31, the invoice \
             on 2026-04-30: an invoice's due date is its last installment's",
        ),
        (
            r#", "installments": [{"due": "2026-03-31", "amount": "300"}, {"due": "2026-01-31", "amount": "700"}]"#,
            "invoices[0] (F-1).installments: installment dates must increase: 2026-01-31 comes \
             after 2026-03-31",
        ),
        (
            r#", "installments": [{"due": "2026-01-31", "amount": "300"}, {"due": "2026-03-31", "amount": "600"}]"#,
            "invoices[0] (F-1).installments: the installments add up to 900, not the invoice's \
             amount 1000",
        ),
    ];
    for (tail, want) in cases {
        let e = portfolio::from_json(&case(tail))
            .expect_err(want)
            .to_string();
        assert_eq!(e, want);
    }
}

#[test]
fn the_csv_column_reads_and_is_checked() {
    let dir = std::env::temp_dir().join(format!("relance-installments-csv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("customers.csv"), "id\nACME\n").expect("customers");
    std::fs::write(
        dir.join("invoices.csv"),
        "id,customer,amount,issued,due,installments\n\
         F-1,ACME,1000,2026-01-01,,2026-01-31 30%; 2026-03-31 rest\n\
         F-2,ACME,500,2026-01-01,2026-01-31,\n",
    )
    .expect("invoices");
    let p = portfolio::load_dir(&dir).expect("valid");
    assert_eq!(
        p.invoices[0].installments,
        plan(&[("2026-01-31", 300), ("2026-03-31", 700)])
    );
    assert_eq!(p.invoices[0].due, d("2026-03-31"));
    assert!(p.invoices[1].installments.is_empty());
    std::fs::write(
        dir.join("invoices.csv"),
        "id,customer,amount,issued,due,installments\nF-1,ACME,1000,2026-01-01,2026-03-31,2026-01-31 30%\n",
    )
    .expect("invoices");
    let e = portfolio::load_dir(&dir)
        .expect_err("one installment")
        .to_string();
    assert!(
        e.contains("installments") && e.contains("fewer than two"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A mapped CSV (the accounting tool's own column names, `--map`): an installment plan that is
/// wrong names the file and line of the record and the column as the file spells it
/// and the invoice (`factures.csv:3 (invoice F-2): column "echeancier": …`), whatever is wrong
/// with it.
#[test]
fn a_bad_installment_cell_of_a_mapped_csv_names_the_column_and_the_record() {
    use relance_core::domain::Portfolio;
    use relance_data::import::Merge;
    use relance_data::import::csv_mapped::{CsvOptions, Mapping, import};

    let dir = std::env::temp_dir().join(format!(
        "relance-installments-mapped-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("clients.csv"), "code\nACME\n").expect("customers");
    let options = CsvOptions {
        mapping: Mapping::parse(
            "code=id,numero=id,client=customer,montant=amount,date=issued,echeance=due,echeancier=installments",
        )
        .expect("mapping"),
        ..CsvOptions::default()
    };
    // (bad cell of F-2, what the problem says after the place and column)
    let cases = [
        (
            "2026-01-31 30%; 2026-03-31 60%",
            "the percentages add up to 90 %, not 100 %",
        ),
        ("2026-02-30 50%; 2026-03-31 rest", "2026-02-30"),
        ("2026-01-31 300", "fewer than two installments"),
    ];
    for (cell, says) in cases {
        let file = dir.join("factures.csv");
        std::fs::write(
            &file,
            format!(
                "numero,client,montant,date,echeance,echeancier\n\
                 F-1,ACME,1000,2026-01-01,2026-03-31,2026-01-31 30%; 2026-03-31 rest\n\
                 F-2,ACME,1000,2026-01-01,2026-03-31,{cell}\n"
            ),
        )
        .expect("invoices");
        let mut merge = Merge::new(Portfolio::default());
        import(
            &dir.join("clients.csv"),
            &options,
            &mut merge,
            &mut |_, _| {},
        )
        .expect("customers");
        let err = import(&file, &options, &mut merge, &mut |_, _| {})
            .expect_err(cell)
            .to_string();
        assert!(
            err.contains("factures.csv:3 (invoice F-2): column \"echeancier\"")
                && err.contains(says),
            "{cell}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
