//! `relance plan --format parquet` and `--format csv` hold the same entries as the JSON plan:
//! the Parquet file is read back with the parquet crate's own reader and every row compared,
//! field by field, with the JSON entry at its position (on the bundled examples, which have
//! grouped entries, charges and cadence deferrals); the CSV's header and lines are checked
//! exactly on a small portfolio whose ids start like spreadsheet formulas.

use std::path::Path;
use std::process::Command;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type};
use arrow_array::{Array, ListArray, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

/// `relance plan` of `data` from 2026-04-01 for `days` days in `format`, with the stdlib: its
/// standard output (it must succeed).
fn plan(data: &Path, days: &str, format: &str) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_relance"))
        .current_dir(crate::workspace())
        .args(["plan", "--data"])
        .arg(data)
        .args(["--scenarios", "stdlib-scenarios", "--from", "2026-04-01"])
        .args(["--days", days, "--format", format])
        .output()
        .expect("relance runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A file holding `bytes`, for the reader (which reads a file, or `bytes::Bytes`).
fn file_of(bytes: &[u8]) -> std::fs::File {
    use std::io::{Seek, Write};
    let mut f = tempfile::tempfile().expect("a temp file");
    f.write_all(bytes).expect("written");
    f.rewind().expect("rewound");
    f
}

/// Every row of a Parquet file, each as the JSON entry it stands for: null cells and empty
/// lists left out as the JSON leaves them out, `reason` put back on deferred entries, the
/// amount as a `Decimal` under `amount` (compared by value: the JSON writes `40`, the column
/// holds 40.00).
fn parquet_rows(bytes: &[u8]) -> Vec<(Map<String, Value>, Option<Decimal>)> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(file_of(bytes))
        .expect("a Parquet file")
        .build()
        .expect("a reader");
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("a batch")).collect();
    let mut rows = Vec::new();
    for batch in &batches {
        let schema = batch.schema();
        for i in 0..batch.num_rows() {
            let mut entry = Map::new();
            let mut amount = None;
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                let name = field.name().as_str();
                if column.is_null(i) {
                    continue;
                }
                let value = match name {
                    "date" | "until" => {
                        let days = column.as_primitive::<Date32Type>().value(i);
                        let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
                            + chrono::Days::new(u64::try_from(days).expect("after 1970"));
                        json!(d.to_string())
                    }
                    "amount" => {
                        let cents = column.as_primitive::<Decimal128Type>().value(i);
                        amount = Some(Decimal::from_i128_with_scale(cents, 2));
                        continue;
                    }
                    "invoices" | "to" | "cc" | "keys" => {
                        let list: &ListArray = column.as_list();
                        let items = list.value(i);
                        let items = items.as_string::<i32>();
                        let items: Vec<Value> =
                            items.iter().map(|s| json!(s.expect("an item"))).collect();
                        if items.is_empty() && name != "invoices" {
                            continue;
                        }
                        Value::Array(items)
                    }
                    _ => json!(column.as_string::<i32>().value(i)),
                };
                entry.insert(name.to_string(), value);
            }
            if entry["kind"] == "deferred" {
                entry.insert("reason".into(), json!("cadence"));
            }
            rows.push((entry, amount));
        }
    }
    rows
}

#[test]
fn parquet_holds_every_json_entry_with_typed_columns() {
    let examples = crate::workspace().join("examples");
    let json: Value =
        serde_json::from_slice(&plan(&examples, "90", "json")).expect("the plan's JSON");
    let entries = json["entries"].as_array().expect("entries");
    let file = plan(&examples, "90", "parquet");
    assert_eq!(&file[..4], b"PAR1", "a Parquet file starts with its magic");

    // The schema: typed dates and money, never a float.
    let builder = ParquetRecordBatchReaderBuilder::try_new(file_of(&file)).expect("read");
    let schema = builder.schema();
    let type_of = |name: &str| {
        schema
            .field_with_name(name)
            .expect("a column")
            .data_type()
            .to_string()
    };
    assert_eq!(type_of("date"), "Date32");
    assert_eq!(type_of("until"), "Date32");
    assert_eq!(type_of("amount"), "Decimal128(38, 2)");
    assert_eq!(type_of("customer"), "Utf8");

    let rows = parquet_rows(&file);
    assert_eq!(rows.len(), entries.len(), "one row per entry");
    let (mut charges, mut deferred, mut grouped) = (0, 0, 0);
    for (i, (e, (row, amount))) in entries.iter().zip(&rows).enumerate() {
        let mut e = e.as_object().expect("an entry object").clone();
        let want = e.remove("amount").map(|a| {
            a.as_str()
                .expect("a string amount")
                .parse::<Decimal>()
                .expect("a decimal")
        });
        assert_eq!(*amount, want, "amount of entry {i}");
        assert_eq!(row, &e, "entry {i}");
        charges += usize::from(amount.is_some());
        deferred += usize::from(e["kind"] == "deferred");
        grouped += usize::from(e["invoices"].as_array().is_some_and(|v| v.len() > 1));
    }
    // The comparison covered every kind of cell.
    assert!(charges > 0, "no charge in the plan");
    assert!(deferred > 0, "no deferred message in the plan");
    assert!(grouped > 0, "no grouped entry in the plan");
}

#[test]
fn csv_has_a_header_and_neutralises_formulas() {
    let dir = crate::support::TempDir::new("plan-csv");
    let files = [
        (
            "customers.csv",
            "id,segment\n=HACK,b2b\n\"Dupont, fils\",b2b\n",
        ),
        (
            "invoices.csv",
            "id,customer,amount,currency,issued,due\n\
             +1,=HACK,1200,EUR,2026-03-01,2026-03-31\n\
             +2,=HACK,300,EUR,2026-03-01,2026-03-31\n\
             D-1,\"Dupont, fils\",500,EUR,2026-03-20,2026-04-05\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.0.join(name), text).expect("written");
    }
    let csv = String::from_utf8(plan(&dir.0, "30", "csv")).expect("UTF-8");
    let json: Value = serde_json::from_slice(&plan(&dir.0, "30", "json")).expect("JSON");
    let entries = json["entries"].as_array().expect("entries");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "date,kind,customer,invoices,step,action,template,to,cc,amount,currency,text,scenario,version,keys,language,fallback_from,no_template_in,until,rate_assumed_from"
        )
    );
    let lines: Vec<&str> = lines.collect();
    assert_eq!(lines.len(), entries.len(), "one line per entry");
    // The cells as a spreadsheet must see them, written out by hand: formulas get a `'`,
    // the comma is quoted.
    let cell = |text: &str| match text {
        "=HACK" => "'=HACK".to_string(),
        "Dupont, fils" => "\"Dupont, fils\"".to_string(),
        "+1" | "+1;+2" | "+2" => format!("'{text}"),
        other => other.to_string(),
    };
    let mut customers = std::collections::BTreeSet::new();
    for (line, e) in lines.iter().zip(entries) {
        let customer = e["customer"].as_str().expect("a customer");
        let invoices: Vec<&str> = e["invoices"]
            .as_array()
            .expect("invoices")
            .iter()
            .map(|i| i.as_str().expect("an id"))
            .collect();
        let start = format!(
            "{},{},{},{},",
            e["date"].as_str().expect("a date"),
            e["kind"].as_str().expect("a kind"),
            cell(customer),
            cell(&invoices.join(";"))
        );
        assert!(
            line.starts_with(&start),
            "{line:?} should start with {start:?}"
        );
        let text = e["text"].as_str().expect("a text");
        let quoted = if text.contains(['"', ',']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_string()
        };
        assert!(
            line.contains(&quoted),
            "{line:?} holds the entry's text {quoted:?}"
        );
        customers.insert(customer.to_string());
    }
    assert_eq!(
        customers,
        ["=HACK", "Dupont, fils"]
            .map(String::from)
            .into_iter()
            .collect(),
        "both customers have entries in the plan"
    );
}
