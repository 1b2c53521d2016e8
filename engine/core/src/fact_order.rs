//! The canonical order of one day's facts (LANGUAGE.md, "What happens first on one day",
//! rule 2): which of two facts of the same day counts first. Facts read from files come
//! first, by a fixed rank ([`rank_of`]: payments however read, then every other event — the
//! order of a data folder's `payments.csv` before its `events.csv`), then by the import that
//! brought the file, the file's place in that import and the line in the file; facts posted
//! through the API come after them, in their order of receipt. The last tie-break is always
//! the order of receipt.
//!
//! The planner (`relance_data::portfolio::load_dir` sorts a data folder's facts by
//! [`FactKey`]) and the daemon (its `pending` keys and the facts a write applies at once) use
//! this one order, so they take a day's facts alike however the files arrived.
//!
//! This module owns the order and the typed place a fact was read from ([`FileLine`]); it
//! must not read files nor know how a store encodes the key (the daemon's `keys::pending`
//! writes it as bytes that sort like [`FactKey`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The kinds of file a fact is read from (a FEC's lettered payments, a payments CSV,
/// `events.csv`, a camt.053 bank statement): the order in which an import reads them. A fact's
/// rank in its day does not depend on it, only on whether the fact is a payment ([`rank_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Fec,
    Payments,
    Events,
    Statement,
}

/// The rank in a day's order of a fact read from a file: a payment (1) before any other
/// fact (2), whatever the kind of file it was read from (a FEC gives payments, credit notes
/// and write-offs; a statement payments and reversals; `events.csv` any fact). An import
/// into a data folder keeps every payment in `payments.csv` and every other fact in
/// `events.csv`, and the planner reads `payments.csv` first: ranking by the fact rather than
/// by its file makes every fact count where the planner counts it. Within a rank, the import,
/// the file's place in it and the line decide, as the folder's line order does.
pub fn rank_of(payment: bool) -> u8 {
    if payment { 1 } else { 2 }
}

/// Where in an import a fact was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileLine {
    pub kind: FileKind,
    /// The file's place among the files of its import, in reading order (0 for the first).
    pub file: u32,
    /// The line of a CSV file (the header is line 1); for a FEC or a camt.053 statement, the
    /// fact's place in the file's reading (1, 2, …).
    pub line: u64,
}

/// How a fact reached the engine, as far as the order of its day goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Read from a file: the import that brought it (its sequence among imports, increasing
    /// with receipt; 0 for a data folder read whole), the place in it, and whether the fact is
    /// a payment ([`rank_of`]).
    File {
        import: u64,
        at: FileLine,
        payment: bool,
    },
    /// Posted through the API (JSON): after every fact read from a file.
    Api,
}

/// The rank of an API fact: after every file kind.
pub const API_RANK: u8 = u8::MAX;

/// The sort key of one fact: compare two keys to know which fact counts first. Fields are in
/// comparison order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FactKey {
    pub date: NaiveDate,
    /// [`rank_of`], or [`API_RANK`].
    pub rank: u8,
    /// The import (0 for an API fact).
    pub import: u64,
    /// The file's place in its import (0 for an API fact).
    pub file: u32,
    /// The line (0 for an API fact).
    pub line: u64,
    /// The order of receipt: the daemon's event id, the planner's position in its input.
    pub receipt: u64,
}

impl FactKey {
    /// The key of a fact dated `date` that arrived as `arrival`, `receipt`-th.
    pub fn new(date: NaiveDate, arrival: Arrival, receipt: u64) -> FactKey {
        match arrival {
            Arrival::File {
                import,
                at,
                payment,
            } => FactKey {
                date,
                rank: rank_of(payment),
                import,
                file: at.file,
                line: at.line,
                receipt,
            },
            Arrival::Api => FactKey {
                date,
                rank: API_RANK,
                import: 0,
                file: 0,
                line: 0,
                receipt,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    /// A fact read from a file; `payment` whether it is a payment.
    fn file(kind: FileKind, import: u64, file: u32, line: u64, payment: bool) -> Arrival {
        Arrival::File {
            import,
            at: FileLine { kind, file, line },
            payment,
        }
    }

    /// Each row: two facts, the first of which counts first.
    #[test]
    fn a_days_facts_sort_by_date_rank_import_file_line_then_receipt() {
        use FileKind::*;
        const PAID: bool = true;
        const OTHER: bool = false;
        let rows = [
            // An earlier date first, whatever the rest.
            (
                (d("2026-02-01"), Arrival::Api, 9),
                (d("2026-02-02"), file(Fec, 0, 0, 1, PAID), 1),
            ),
            // A payment of payments.csv before an event of events.csv, received earlier or not.
            (
                (d("2026-02-01"), file(Payments, 7, 0, 40, PAID), 9),
                (d("2026-02-01"), file(Events, 3, 0, 2, OTHER), 1),
            ),
            // A FEC's payments and a payments CSV's: by import (the folder appends each
            // import's payments to payments.csv).
            (
                (d("2026-02-01"), file(Payments, 1, 0, 9, PAID), 9),
                (d("2026-02-01"), file(Fec, 2, 0, 1, PAID), 1),
            ),
            (
                (d("2026-02-01"), file(Fec, 1, 0, 9, PAID), 9),
                (d("2026-02-01"), file(Payments, 2, 0, 1, PAID), 1),
            ),
            // A FEC's credit note or write-off ranks with events.csv's facts, after every
            // payment of its day, even one on a later line of the same FEC.
            (
                (d("2026-02-01"), file(Fec, 1, 0, 9, PAID), 9),
                (d("2026-02-01"), file(Fec, 1, 0, 1, OTHER), 1),
            ),
            (
                (d("2026-02-01"), file(Payments, 9, 0, 9, PAID), 9),
                (d("2026-02-01"), file(Fec, 1, 0, 1, OTHER), 1),
            ),
            // A statement's payment counts as a payment: before an events.csv dispute of an
            // earlier import (the planner reads it from payments.csv).
            (
                (d("2026-02-01"), file(Statement, 9, 0, 9, PAID), 9),
                (d("2026-02-01"), file(Events, 1, 0, 1, OTHER), 1),
            ),
            // So does a payment row of events.csv.
            (
                (d("2026-02-01"), file(Events, 9, 0, 9, PAID), 9),
                (d("2026-02-01"), file(Events, 1, 0, 1, OTHER), 1),
            ),
            // A statement's reversal ranks with events.csv's events: by import.
            (
                (d("2026-02-01"), file(Events, 1, 0, 9, OTHER), 9),
                (d("2026-02-01"), file(Statement, 2, 0, 1, OTHER), 1),
            ),
            (
                (d("2026-02-01"), file(Statement, 1, 0, 9, OTHER), 9),
                (d("2026-02-01"), file(Events, 2, 0, 1, OTHER), 1),
            ),
            // Payments of a payments CSV and of a statement: by import.
            (
                (d("2026-02-01"), file(Statement, 1, 0, 9, PAID), 9),
                (d("2026-02-01"), file(Payments, 2, 0, 1, PAID), 1),
            ),
            // Every file fact before an API fact.
            (
                (d("2026-02-01"), file(Statement, 9, 3, 9, OTHER), 9),
                (d("2026-02-01"), Arrival::Api, 1),
            ),
            // Two files of one kind: by import, then place in the import, then line.
            (
                (d("2026-02-01"), file(Payments, 1, 0, 50, PAID), 9),
                (d("2026-02-01"), file(Payments, 2, 0, 2, PAID), 1),
            ),
            (
                (d("2026-02-01"), file(Payments, 2, 0, 50, PAID), 9),
                (d("2026-02-01"), file(Payments, 2, 1, 2, PAID), 1),
            ),
            (
                (d("2026-02-01"), file(Events, 2, 0, 3, OTHER), 9),
                (d("2026-02-01"), file(Events, 2, 0, 4, OTHER), 1),
            ),
            // API facts by receipt.
            (
                (d("2026-02-01"), Arrival::Api, 1),
                (d("2026-02-01"), Arrival::Api, 2),
            ),
        ];
        for (i, ((d1, a1, r1), (d2, a2, r2))) in rows.into_iter().enumerate() {
            let (first, second) = (FactKey::new(d1, a1, r1), FactKey::new(d2, a2, r2));
            assert!(first < second, "row {i}: {first:?} before {second:?}");
        }
    }
}
