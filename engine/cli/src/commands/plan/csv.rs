//! `relance plan --format csv`: the header and one line per planned entry, in the columns of
//! [`super::row`]. Text cells go through the reports' formula-injection rule
//! (`relance_sim::reports::csv_cell`: a leading `'` before `=`, `+`, `-`, `@`, tab, carriage
//! return, then RFC 4180 quoting); dates and amounts, which the engine formats itself, are
//! written as they are. List cells (`invoices`, `to`, `cc`, `keys`) join their items with `;`.
//!
//! This module owns the CSV text of a row; it must not choose columns (`row.rs`) nor write to
//! the output (the plan's writer does, day by day).

use relance_sim::reports::csv_cell;
use relance_sim::timeline::Entry;

use super::row::{COLUMNS, Row};

/// The header line.
pub fn header() -> String {
    let mut line = COLUMNS.join(",");
    line.push('\n');
    line
}

/// Appends the entry's line to `out`.
pub fn push_line(out: &mut Vec<u8>, e: &Entry) {
    let r = Row::of(e);
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let text = |s: Option<&str>| csv_cell(s.unwrap_or_default());
    let list = |items: &[String]| csv_cell(&items.join(";"));
    let cells = [
        r.date.to_string(),
        csv_cell(r.kind),
        csv_cell(r.customer),
        list(r.invoices),
        text(r.step),
        text(r.action),
        text(r.template),
        list(r.to),
        list(r.cc),
        r.amount.map(|a| a.to_string()).unwrap_or_default(),
        text(r.currency),
        csv_cell(r.text),
        text(r.scenario),
        text(r.version),
        list(r.keys),
        text(r.language),
        text(r.fallback_from),
        text(r.no_template_in),
        date(r.until),
        text(r.rate_assumed_from.as_deref()),
    ];
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(cell.as_bytes());
    }
    out.push(b'\n');
}
