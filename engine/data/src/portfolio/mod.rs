//! Loading a [`Portfolio`](relance_core::domain::Portfolio): the case JSON of `relance simulate` and the
//! CSV data folder of `relance plan --data DIR`, plus the validation both share.
//!
//! This module owns the *file formats* (documented in `docs/DATA.md`) and the checks that make a
//! loaded portfolio safe to run: unique ids, references that resolve, sane amounts, currencies and
//! dates. Every error names where it comes from: the record and field of the JSON
//! (`invoices[2] (F-3).customer: …`) or the file, line and column of the CSV
//! (`data/invoices.csv:14: column "due": …`), with a "did you mean" suggestion for a misspelt id,
//! key or column. It must not interpret the data (no scenario, schedule or money computation),
//! must not decide the start date of a CSV portfolio (`from` comes from the command line), and
//! must not hold more than the portfolio itself in memory: CSV files are streamed row by row.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

mod cover;
pub mod csv;
pub mod json;
pub(crate) mod scalar;
mod suggest;
mod validate;

pub use self::csv::load_dir;
pub use self::json::from_json;
pub use self::validate::{
    MAX_AMOUNT, MAX_DUNNING_ATTEMPTS, YEARS, check_amount, check_year, minor_units, validate,
    validate_with_paid,
};

/// At most this many problems are kept in one [`PortfolioError::Invalid`]; the rest are counted.
pub const MAX_PROBLEMS: usize = 50;

/// Where a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A record of a case JSON (or of a portfolio built in memory): `invoices[2] (F-3)`.
    /// `collection` is empty for the top level of the document.
    Json {
        collection: &'static str,
        index: Option<usize>,
        /// The record's id (an event's type), when known.
        label: Option<String>,
    },
    /// A row of a CSV file: `data/invoices.csv:14 (F-3)`; line 1 is the header.
    Csv {
        file: PathBuf,
        line: u64,
        /// The record's id (an event's type), when known.
        label: Option<String>,
    },
}

impl Place {
    /// The top level of a JSON document.
    pub(crate) fn json_top() -> Place {
        Place::Json {
            collection: "",
            index: None,
            label: None,
        }
    }

    /// Record `index` of a JSON `collection`, labelled by its id when it has one.
    pub fn json(collection: &'static str, index: usize, label: Option<&str>) -> Place {
        Place::Json {
            collection,
            index: Some(index),
            label: label.filter(|l| !l.trim().is_empty()).map(str::to_string),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self {
            Place::Json {
                collection,
                index,
                label,
            } => {
                f.write_str(collection)?;
                if let Some(index) = index {
                    write!(f, "[{index}]")?;
                }
                label
            }
            Place::Csv { file, line, label } => {
                write!(f, "{}:{line}", file.display())?;
                label
            }
        };
        match label {
            Some(label) => write!(f, " ({label})"),
            None => Ok(()),
        }
    }
}

/// One thing wrong with the data: where, which field or column, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub place: Place,
    /// The JSON key (`customer`, `contacts.accounting.email`) or the CSV column (`due`).
    pub field: Option<String>,
    pub message: String,
    /// Whether the problem depends on the data merged into, not on the input alone: a record
    /// the input names is unknown, or one it would create lacks what only a new record needs.
    /// A server tells such problems only to a role that may read the data.
    pub about_stored_data: bool,
}

impl Problem {
    pub(crate) fn new(place: Place, field: Option<&str>, message: impl Into<String>) -> Problem {
        Problem {
            place,
            field: field.map(str::to_string),
            message: message.into(),
            about_stored_data: false,
        }
    }

    /// This problem, marked as depending on the data merged into ([`Problem::about_stored_data`]).
    pub(crate) fn about_stored_data(self) -> Problem {
        Problem {
            about_stored_data: true,
            ..self
        }
    }
}

impl fmt::Display for Problem {
    /// `invoices[2] (F-3).customer: unknown customer "ACM" (did you mean "ACME"?)` for JSON,
    /// `data/invoices.csv:14: column "due": invalid date "2026-02-30"` for CSV.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = self.place.to_string();
        match (&self.place, &self.field) {
            (Place::Json { .. }, Some(field)) if place.is_empty() => write!(f, "{field}")?,
            (Place::Json { .. }, Some(field)) => write!(f, "{place}.{field}")?,
            (Place::Csv { .. }, Some(field)) => write!(f, "{place}: column \"{field}\"")?,
            (_, None) => f.write_str(&place)?,
        }
        if place.is_empty() && self.field.is_none() {
            f.write_str(&self.message)
        } else {
            write!(f, ": {}", self.message)
        }
    }
}

/// Why a portfolio could not be loaded.
#[derive(Debug, Error)]
pub enum PortfolioError {
    /// The case file is not JSON at all.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    JsonSyntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// The data is readable but wrong: one problem per line (the first [`MAX_PROBLEMS`]; the
    /// others are only counted in `omitted`).
    #[error("{}", render_problems(.problems, *.omitted))]
    Invalid {
        problems: Vec<Problem>,
        omitted: usize,
    },
    /// A file could not be opened or read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl PortfolioError {
    /// An error made of a single problem.
    pub(crate) fn one(problem: Problem) -> PortfolioError {
        PortfolioError::Invalid {
            problems: vec![problem],
            omitted: 0,
        }
    }

    /// The problems found (empty for syntax and I/O errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            PortfolioError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn render_problems(problems: &[Problem], omitted: usize) -> String {
    let mut text = problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    if omitted > 0 {
        let s = if omitted == 1 { "" } else { "s" };
        text.push_str(&format!("\n… and {omitted} more problem{s}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_render_with_their_place() {
        let json = Problem::new(
            Place::json("invoices", 2, Some("F-3")),
            Some("customer"),
            "unknown customer \"ACM\" (did you mean \"ACME\"?)",
        );
        assert_eq!(
            json.to_string(),
            "invoices[2] (F-3).customer: unknown customer \"ACM\" (did you mean \"ACME\"?)"
        );
        let top = Problem::new(Place::json_top(), Some("from"), "invalid date \"x\"");
        assert_eq!(top.to_string(), "from: invalid date \"x\"");
        let bare = Problem::new(Place::json_top(), None, "the case must be an object");
        assert_eq!(bare.to_string(), "the case must be an object");
        let csv = Problem::new(
            Place::Csv {
                file: PathBuf::from("invoices.csv"),
                line: 14,
                label: None,
            },
            Some("due"),
            "invalid date \"2026-02-30\"",
        );
        assert_eq!(
            csv.to_string(),
            "invoices.csv:14: column \"due\": invalid date \"2026-02-30\""
        );
        let row = Problem::new(
            Place::Csv {
                file: PathBuf::from("events.csv"),
                line: 3,
                label: Some("payment".into()),
            },
            None,
            "expected 12 fields, found 11",
        );
        assert_eq!(
            row.to_string(),
            "events.csv:3 (payment): expected 12 fields, found 11"
        );
    }

    #[test]
    fn invalid_lists_every_problem_and_counts_the_rest() {
        let p = |n: usize| Problem::new(Place::json("customers", n, None), Some("id"), "bad");
        let error = PortfolioError::Invalid {
            problems: vec![p(0), p(1)],
            omitted: 3,
        };
        assert_eq!(
            error.to_string(),
            "customers[0].id: bad\ncustomers[1].id: bad\n… and 3 more problems"
        );
        assert_eq!(error.problems().len(), 2);
    }
}
