//! `relance plan --format csv`: the header and one line per planned entry, in the columns of
//! [`super::row`]. Text cells go through the reports' formula-injection rule
//! (`relance_sim::reports::push_csv_cell`: a leading `'` before `=`, `+`, `-`, `@`, tab, carriage
//! return, then RFC 4180 quoting); dates and amounts, which the engine formats itself, are
//! written as they are. List cells (`invoices`, `to`, `cc`, `keys`) join their items with `;`.
//!
//! This module owns the CSV text of a row; it must not choose columns (`row.rs`) nor write to
//! the output (the plan's writer does, day by day).

use std::io::Write;

use relance_sim::reports::push_csv_cell;
use relance_sim::timeline::Entry;

use super::row::{COLUMNS, Row};

/// The header line.
pub fn header() -> String {
    let mut line = COLUMNS.join(",");
    line.push('\n');
    line
}

/// Appends the entry's line to `out`. Cells are written straight into `out` (no `String` per
/// cell); a list of more than one item is joined in one scratch string first, since the
/// formula rule reads the joined cell's first character.
pub fn push_line(out: &mut Vec<u8>, e: &Entry) {
    let r = Row::of(e);
    let mut scratch = String::new();
    let mut list = |out: &mut Vec<u8>, items: &[String]| match items {
        [] => {}
        [one] => push_csv_cell(out, one),
        many => {
            scratch.clear();
            for (i, item) in many.iter().enumerate() {
                if i > 0 {
                    scratch.push(';');
                }
                scratch.push_str(item);
            }
            push_csv_cell(out, &scratch);
        }
    };
    let text = |out: &mut Vec<u8>, s: Option<&str>| push_csv_cell(out, s.unwrap_or_default());
    // Writing into a `Vec` cannot fail.
    let _ = write!(out, "{},", r.date);
    push_csv_cell(out, r.kind);
    out.push(b',');
    push_csv_cell(out, r.customer);
    out.push(b',');
    list(out, r.invoices);
    out.push(b',');
    text(out, r.step);
    out.push(b',');
    text(out, r.action);
    out.push(b',');
    text(out, r.template);
    out.push(b',');
    list(out, r.to);
    out.push(b',');
    list(out, r.cc);
    out.push(b',');
    if let Some(a) = r.amount {
        let _ = write!(out, "{a}");
    }
    out.push(b',');
    text(out, r.currency);
    out.push(b',');
    push_csv_cell(out, r.text);
    out.push(b',');
    text(out, r.scenario);
    out.push(b',');
    text(out, r.version);
    out.push(b',');
    list(out, r.keys);
    out.push(b',');
    text(out, r.language);
    out.push(b',');
    text(out, r.fallback_from);
    out.push(b',');
    text(out, r.no_template_in);
    out.push(b',');
    if let Some(d) = r.until {
        let _ = write!(out, "{d}");
    }
    out.push(b',');
    text(out, r.rate_assumed_from.as_deref());
    out.push(b'\n');
}
