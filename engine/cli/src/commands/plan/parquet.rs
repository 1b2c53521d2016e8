//! `relance plan --format parquet`: the plan as one Parquet file (Snappy), typed columns in
//! the order of [`super::row`]: dates as `Date32`, the charged amount as `Decimal128(38, 2)`,
//! lists (`invoices`, `to`, `cc`, `keys`) as lists of strings, absent cells as nulls.
//!
//! Money is a decimal, never a float: every amount the engine computes is rounded to the cent
//! (late interest, percentage fees), so scale 2 holds it exactly and a BI tool or a dataframe
//! sums it as a number; an amount written in a scenario with more than two decimals that do not
//! reduce is refused with an error rather than rounded.
//!
//! Streaming: each shard thread turns a day's entries into one Arrow `RecordBatch`
//! ([`batch`]); the writer hands the batches to `ArrowWriter`, which closes a row group every
//! [`ROW_GROUP`] rows, so memory holds one row group whatever the plan's length. This module
//! owns the schema and the conversion; it must not decide the order of entries (the plan's
//! writer does) nor read the JSON.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{Date32Builder, Decimal128Builder, ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use relance_sim::timeline::Entry;
use rust_decimal::Decimal;

use super::row::{COLUMNS, Row};

/// The scale of the `amount` column: cents.
pub const AMOUNT_SCALE: u32 = 2;
/// The precision of the `amount` column (Decimal128's largest).
const AMOUNT_PRECISION: u8 = 38;
/// Rows per row group: about 30 MB of buffered pages for plan entries.
pub const ROW_GROUP: usize = 256 * 1024;

/// The file's schema (built once: every day's batch carries it).
pub fn schema() -> SchemaRef {
    static SCHEMA: std::sync::LazyLock<SchemaRef> = std::sync::LazyLock::new(build_schema);
    SCHEMA.clone()
}

fn build_schema() -> SchemaRef {
    let list = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    let fields = COLUMNS.map(|name| match name {
        "date" => Field::new(name, DataType::Date32, false),
        "until" => Field::new(name, DataType::Date32, true),
        "kind" | "customer" | "text" => Field::new(name, DataType::Utf8, false),
        "invoices" | "to" | "cc" | "keys" => Field::new(name, list(), false),
        "amount" => Field::new(
            name,
            DataType::Decimal128(AMOUNT_PRECISION, AMOUNT_SCALE as i8),
            true,
        ),
        _ => Field::new(name, DataType::Utf8, true),
    });
    Arc::new(Schema::new(fields.to_vec()))
}

/// Days since 1970-01-01, Arrow's `Date32`.
fn date32(d: NaiveDate) -> i32 {
    const EPOCH_CE: i32 = 719_163; // 1970-01-01 counted from 0001-01-01 as day 1
    chrono::Datelike::num_days_from_ce(&d) - EPOCH_CE
}

/// The amount in cents, exactly; `None` when it has more decimals than cents.
fn cents(amount: Decimal) -> Option<i128> {
    let mut a = amount.normalize();
    if a.scale() > AMOUNT_SCALE {
        return None;
    }
    a.rescale(AMOUNT_SCALE);
    Some(a.mantissa())
}

/// One day's entries (of one shard) as a batch of the schema.
pub fn batch(entries: &[Entry]) -> Result<RecordBatch, String> {
    let n = entries.len();
    let strings = || StringBuilder::with_capacity(n, n * 16);
    let lists = || ListBuilder::new(StringBuilder::new());
    let (mut date, mut until) = (
        Date32Builder::with_capacity(n),
        Date32Builder::with_capacity(n),
    );
    let mut amount = Decimal128Builder::with_capacity(n)
        .with_precision_and_scale(AMOUNT_PRECISION, AMOUNT_SCALE as i8)
        .map_err(|e| e.to_string())?;
    let mut invoices = lists();
    let mut to = lists();
    let mut cc = lists();
    let mut keys = lists();
    // kind, customer, step, action, template, currency, text, scenario, version, language,
    // fallback_from, no_template_in, rate_assumed_from
    let mut text: [StringBuilder; 13] = std::array::from_fn(|_| strings());
    for e in entries {
        let r = Row::of(e);
        date.append_value(date32(r.date));
        until.append_option(r.until.map(date32));
        match r.amount {
            Some(a) => amount.append_value(cents(a).ok_or_else(|| {
                format!(
                    "the amount {a} of {} on {} has more decimals than cents: Parquet's amount column holds cents",
                    e.invoices.join(","),
                    e.date
                )
            })?),
            None => amount.append_null(),
        }
        for (list, items) in [
            (&mut invoices, r.invoices),
            (&mut to, r.to),
            (&mut cc, r.cc),
            (&mut keys, r.keys),
        ] {
            for item in items {
                list.values().append_value(item);
            }
            list.append(true);
        }
        let cells = [
            Some(r.kind),
            Some(r.customer),
            r.step,
            r.action,
            r.template,
            r.currency,
            Some(r.text),
            r.scenario,
            r.version,
            r.language,
            r.fallback_from,
            r.no_template_in,
            r.rate_assumed_from.as_deref(),
        ];
        for (b, cell) in text.iter_mut().zip(cells) {
            b.append_option(cell);
        }
    }
    let [
        mut kind,
        mut customer,
        mut step,
        mut action,
        mut template,
        mut currency,
        mut text,
        mut scenario,
        mut version,
        mut language,
        mut fallback_from,
        mut no_template_in,
        mut rate_assumed_from,
    ] = text;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(date.finish()),
        Arc::new(kind.finish()),
        Arc::new(customer.finish()),
        Arc::new(invoices.finish()),
        Arc::new(step.finish()),
        Arc::new(action.finish()),
        Arc::new(template.finish()),
        Arc::new(to.finish()),
        Arc::new(cc.finish()),
        Arc::new(amount.finish()),
        Arc::new(currency.finish()),
        Arc::new(text.finish()),
        Arc::new(scenario.finish()),
        Arc::new(version.finish()),
        Arc::new(keys.finish()),
        Arc::new(language.finish()),
        Arc::new(fallback_from.finish()),
        Arc::new(no_template_in.finish()),
        Arc::new(until.finish()),
        Arc::new(rate_assumed_from.finish()),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| e.to_string())
}

/// The Parquet file being written to `out`.
pub struct Writer<W: Write + Send> {
    inner: ArrowWriter<W>,
}

impl<W: Write + Send> Writer<W> {
    pub fn new(out: W) -> std::io::Result<Self> {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .build();
        let inner =
            ArrowWriter::try_new(out, schema(), Some(props)).map_err(std::io::Error::other)?;
        Ok(Writer { inner })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        self.inner.write(batch).map_err(std::io::Error::other)
    }

    /// Writes the last row group and the footer: a file without it is unreadable.
    pub fn finish(self) -> std::io::Result<W> {
        self.inner.into_inner().map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_1970() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("a date");
        assert_eq!(date32(d("1970-01-01")), 0);
        assert_eq!(date32(d("1969-12-31")), -1);
        assert_eq!(date32(d("2026-04-01")), 20_544);
    }

    #[test]
    fn amounts_are_cents_exactly_or_refused() {
        let rows = [
            ("40", Some(4000)),
            ("12.5", Some(1250)),
            ("14.47", Some(1447)),
            ("-3.10", Some(-310)),
            ("7.000", Some(700)),
            ("0.005", None),
        ];
        for (text, want) in rows {
            let a: Decimal = text.parse().expect("a decimal");
            assert_eq!(cents(a), want, "{text}");
        }
    }
}
