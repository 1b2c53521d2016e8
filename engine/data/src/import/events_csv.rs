//! Importing an `events.csv` file (the data folder's format: `date,type,invoice,…`, one row
//! per payment, dispute, promise, credit note, write-off, risk change, task outcome or bounced
//! contact; columns in `docs/DATA.md`) into a [`Merge`].
//!
//! The rows are read by the data folder's own reader
//! ([`read_events_bytes`](crate::portfolio::csv::read_events_bytes)); this module checks each
//! one against the data being merged (its invoice or customer known, the customer a row states
//! the invoice's, amounts in the invoice's currency, years in range) and names the file, line
//! and column of every problem. Nothing is merged when any row is wrong. It must not parse
//! cells itself (the reader owns the format) nor decide anything about cases.

use std::path::Path;

use super::{Merge, Problems, csv_place, read_file};
use crate::portfolio::csv::{EventRow, read_events_bytes};
use crate::portfolio::{PortfolioError, Problem, check_amount, check_year};
use relance_core::domain::EventKind;
use relance_core::fact_order::FileKind;

/// Reads the file at `path` into `merge`; the number of rows.
pub fn import(path: &Path, merge: &mut Merge) -> Result<u64, PortfolioError> {
    import_bytes(path, read_file(path)?, merge)
}

/// [`import`] of a file's bytes already in memory; `path` only names the file in problems.
pub fn import_bytes(path: &Path, bytes: Vec<u8>, merge: &mut Merge) -> Result<u64, PortfolioError> {
    let rows = read_events_bytes(path, bytes)?;
    let mut problems = Problems::default();
    for row in &rows {
        check_row(path, row, merge, &mut problems);
    }
    problems.finish()?;
    merge.begin_input(FileKind::Events);
    let count = rows.len() as u64;
    for row in rows {
        merge.add_event_at(row.event, row.line);
    }
    Ok(count)
}

/// The problems of one row against the data merged so far.
fn check_row(path: &Path, row: &EventRow, merge: &Merge, problems: &mut Problems) {
    // `stored`: the problem is about the data merged into (an unknown record, what a stored
    // one holds), not the row alone.
    let mut at = |column: &str, message: String, stored: bool| {
        let problem = Problem::new(csv_place(path, row.line), Some(column), message);
        problems.push(if stored {
            problem.about_stored_data()
        } else {
            problem
        });
    };
    if let Some(message) = check_year(row.event.date) {
        at("date", message, false);
    }
    if let Some(customer) = row.event.kind.customer()
        && merge.customer(customer).is_none()
    {
        at(
            "customer",
            format!("unknown customer \"{customer}\" (import the customers first)"),
            true,
        );
    }
    let Some(invoice_id) = row.event.kind.invoice() else {
        return;
    };
    let Some(invoice) = merge.invoice(invoice_id) else {
        at(
            "invoice",
            format!("unknown invoice \"{invoice_id}\" (import the invoices first)"),
            true,
        );
        return;
    };
    if let Some(stated) = &row.customer
        && *stated != invoice.customer
    {
        at(
            "customer",
            format!(
                "invoice \"{invoice_id}\" belongs to customer \"{}\", not \"{stated}\"",
                invoice.customer
            ),
            true,
        );
    }
    let amount = match &row.event.kind {
        EventKind::Payment { amount, .. } | EventKind::CreditNote { amount, .. } => Some(*amount),
        EventKind::DisputeOpened { amount, .. } | EventKind::PromiseMade { amount, .. } => *amount,
        _ => None,
    };
    if let Some(amount) = amount
        && let Some(message) = check_amount(amount, Some(&invoice.currency))
    {
        // The currency is the stored invoice's.
        at("amount", message, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance_core::domain::Portfolio;

    fn base() -> Merge {
        let p: Portfolio = crate::portfolio::from_json(
            r#"{"customers":[{"id":"C1","name":"Un"},{"id":"C2","name":"Deux"}],
                "invoices":[{"id":"F1","customer":"C1","amount":"100.00","currency":"EUR",
                             "issued":"2026-01-01","due":"2026-01-31"}]}"#,
        )
        .expect("valid base");
        Merge::new(p)
    }

    /// Imports `text` as `events.csv` into the base: the new events, or the error as text.
    fn check(text: &str, expected: &str) {
        let mut merge = base();
        let got = match import_bytes(
            Path::new("events.csv"),
            text.as_bytes().to_vec(),
            &mut merge,
        ) {
            Ok(rows) => {
                let (merged, changes) = merge.finish();
                format!(
                    "{rows} rows, {} new payments, {} new events, {} in all",
                    changes.new_payments,
                    changes.new_events,
                    merged.events.len()
                )
            }
            Err(e) => e.to_string(),
        };
        assert_eq!(got, expected, "for:\n{text}");
    }

    #[test]
    fn rows_of_every_kind_are_merged() {
        check(
            "date,type,invoice,customer,code,amount,promised_date,risk_score,role\n\
             2026-02-01,payment,F1,,,10.00,,,\n\
             2026-02-02,dispute_opened,F1,C1,quality,,,,\n\
             2026-02-03,promise_made,F1,,,,2026-02-20,,\n\
             2026-02-04,risk_changed,,C2,,,,40,\n\
             2026-02-05,contact_bounced,,C1,,,,,billing\n",
            "5 rows, 1 new payments, 4 new events, 5 in all",
        );
    }

    #[test]
    fn a_row_naming_what_is_not_there_is_refused_with_its_line() {
        check(
            "date,type,invoice,customer,amount\n\
             2026-02-01,payment,F9,,10.00\n\
             2026-02-01,payment,F1,C2,10.00\n\
             2026-02-01,payment,F1,,10.001\n",
            "events.csv:2: column \"invoice\": unknown invoice \"F9\" (import the invoices first)\n\
             events.csv:3: column \"customer\": invoice \"F1\" belongs to customer \"C1\", not \"C2\"\n\
             events.csv:4: column \"amount\": 10.001 has 3 decimals, more than EUR has (2)",
        );
    }

    #[test]
    fn the_same_file_twice_adds_nothing_the_second_time() {
        let text = b"date,type,invoice,amount,reference\n2026-02-01,payment,F1,10.00,A\n2026-02-01,payment,F1,10.00,B\n";
        let mut merge = base();
        import_bytes(Path::new("events.csv"), text.to_vec(), &mut merge).expect("first");
        import_bytes(Path::new("events.csv"), text.to_vec(), &mut merge).expect("second");
        let (merged, changes) = merge.finish();
        assert_eq!((merged.events.len(), changes.new_payments), (2, 2));
        assert_eq!(changes.known_events, 2);
    }
}
