//! One CSV cell of a report: quoting as RFC 4180 requires, and neutralising spreadsheet
//! formulas (CSV injection, OWASP rule): a text cell that starts with `=`, `+`, `-`, `@`, a tab
//! or a carriage return gets a leading `'`, so Excel, LibreOffice or Google Sheets show it as
//! text instead of evaluating it (`=cmd|' /C calc'!A0` is a customer name, not a command).
//!
//! Every CSV writer of the reports (`relance report --format csv` and the daemon's
//! `/v1/reports/…?format=csv`, which call the same functions) passes each text cell through
//! [`csv_cell`]: ids, names, currencies, channels, step names, anything that came from data or
//! a request. Numbers the reports format themselves from `Decimal` or integers (`-12.50`, a
//! negative amount or a negative day count) are written as they are, not through this
//! function: they cannot hold a formula, and prefixing them would turn them into text in the
//! spreadsheet. This module owns that rule; it must not know the reports' columns.

/// The first characters that make a spreadsheet read a cell as a formula (OWASP).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell: `'` in front when it starts like a formula, then quoted when it holds a
/// separator, a quote or a line break (quotes doubled).
pub fn csv_cell(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() + 3);
    push_csv_cell(&mut out, text);
    String::from_utf8(out).expect("a cell of UTF-8 text with ASCII added stays UTF-8")
}

/// [`csv_cell`] appended to `out`, for writers of many rows (the plan's CSV) that would
/// otherwise allocate a `String` per cell. The one home of the rule: `csv_cell` calls it.
pub fn push_csv_cell(out: &mut Vec<u8>, text: &str) {
    let formula = text.starts_with(FORMULA_START);
    let quoted = text.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push(b'"');
    }
    if formula {
        out.push(b'\'');
    }
    if quoted {
        for (i, part) in text.split('"').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\"\"");
            }
            out.extend_from_slice(part.as_bytes());
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::{csv_cell, push_csv_cell};

    #[test]
    fn formulas_are_neutralised_and_cells_quoted() {
        let rows = [
            ("ACME", "ACME"),
            ("Dupont, fils", "\"Dupont, fils\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            ("a=1", "a=1"),
            ("", ""),
            (" =1", " =1"),
        ];
        for (text, want) in rows {
            assert_eq!(csv_cell(text), want, "{text:?}");
            let mut out = b"x,".to_vec();
            push_csv_cell(&mut out, text);
            assert_eq!(out, format!("x,{want}").into_bytes(), "appended: {text:?}");
        }
    }
}
