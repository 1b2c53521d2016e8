//! The canonical order of one day's facts (LANGUAGE.md, "What happens first on one day",
//! rule 2): which of two facts of the same day counts first. Facts read from files come
//! first, by the fixed rank of their file's kind ([`FileKind`]: FEC, payments, events, bank
//! statement), then by the import that brought the file, the file's place in that import and
//! the line in the file; facts posted through the API come after them, in their order of
//! receipt. The last tie-break is always the order of receipt.
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

/// The kinds of file a fact is read from, in their fixed rank (a FEC's lettered payments,
/// then a payments CSV, then `events.csv`, then a camt.053 bank statement): the order in
/// which an import reads them, and `payments.csv` before `events.csv` in a data folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Fec,
    Payments,
    Events,
    Statement,
}

impl FileKind {
    /// The kind's rank in a day's order (0 first).
    pub fn rank(self) -> u8 {
        match self {
            FileKind::Fec => 0,
            FileKind::Payments => 1,
            FileKind::Events => 2,
            FileKind::Statement => 3,
        }
    }
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
    /// with receipt; 0 for a data folder read whole) and the place in it.
    File { import: u64, at: FileLine },
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
    /// [`FileKind::rank`], or [`API_RANK`].
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
            Arrival::File { import, at } => FactKey {
                date,
                rank: at.kind.rank(),
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

    fn file(kind: FileKind, import: u64, file: u32, line: u64) -> Arrival {
        Arrival::File {
            import,
            at: FileLine { kind, file, line },
        }
    }

    /// Each row: two facts, the first of which counts first.
    #[test]
    fn a_days_facts_sort_by_date_kind_import_file_line_then_receipt() {
        use FileKind::*;
        let rows = [
            // An earlier date first, whatever the rest.
            (
                (d("2026-02-01"), Arrival::Api, 9),
                (d("2026-02-02"), file(Fec, 0, 0, 1), 1),
            ),
            // A payment of payments.csv before an event of events.csv, received earlier or not.
            (
                (d("2026-02-01"), file(Payments, 7, 0, 40), 9),
                (d("2026-02-01"), file(Events, 3, 0, 2), 1),
            ),
            (
                (d("2026-02-01"), file(Fec, 9, 0, 9), 9),
                (d("2026-02-01"), file(Payments, 1, 0, 1), 1),
            ),
            (
                (d("2026-02-01"), file(Events, 9, 0, 9), 9),
                (d("2026-02-01"), file(Statement, 1, 0, 1), 1),
            ),
            // Every file fact before an API fact.
            (
                (d("2026-02-01"), file(Statement, 9, 3, 9), 9),
                (d("2026-02-01"), Arrival::Api, 1),
            ),
            // Two files of one kind: by import, then place in the import, then line.
            (
                (d("2026-02-01"), file(Payments, 1, 0, 50), 9),
                (d("2026-02-01"), file(Payments, 2, 0, 2), 1),
            ),
            (
                (d("2026-02-01"), file(Payments, 2, 0, 50), 9),
                (d("2026-02-01"), file(Payments, 2, 1, 2), 1),
            ),
            (
                (d("2026-02-01"), file(Events, 2, 0, 3), 9),
                (d("2026-02-01"), file(Events, 2, 0, 4), 1),
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
