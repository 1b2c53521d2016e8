//! The rate table a data folder runs with: its `rates.csv` when it has one (half_year,
//! ecb_rate, legal_rate_professionals — the format of `relance_core::interest::RateTable`)
//! laid on top of the table built into the engine (its rows replace or extend the built-in
//! ones: one row is enough to give a half-year's legal rate), else the built-in table.
//! Updating the rates is editing a file, no rebuild.
//!
//! This module owns only where the table comes from; it must not compute interest or change
//! the table it reads.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use relance_core::interest::RateTable;

/// The file name of a data folder's rate table.
pub const RATES_FILE: &str = "rates.csv";

/// A rate table and where it was read.
#[derive(Debug, Clone)]
pub struct Rates {
    pub table: Cow<'static, RateTable>,
    /// The file read, `None` for the built-in table.
    pub file: Option<PathBuf>,
}

/// Why a data folder's `rates.csv` could not be used: the file, the line when the error is on
/// one, and what is wrong. Displayed as `PATH: line N: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatesError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for RatesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for RatesError {}

/// The table of the data folder `dir` (`dir/rates.csv` over the built-in table), else the
/// built-in one. An unreadable or invalid file, or one leaving a gap after the built-in
/// half-years, is an error naming it (never a silent fallback).
pub fn load(dir: Option<&Path>) -> Result<Rates, RatesError> {
    let Some(path) = dir.map(|d| d.join(RATES_FILE)).filter(|p| p.is_file()) else {
        return Ok(Rates {
            table: Cow::Borrowed(RateTable::builtin()),
            file: None,
        });
    };
    let text = read_utf8(&path).map_err(|(line, message)| RatesError {
        path: path.clone(),
        line,
        message: match line {
            Some(line) => format!("line {line}: {message}"),
            None => message,
        },
    })?;
    load_text(&text, path)
}

/// The table `text` (the content of `path`) on top of the built-in table.
pub fn load_text(text: &str, path: PathBuf) -> Result<Rates, RatesError> {
    let table = RateTable::parse(text)
        .and_then(|over| RateTable::builtin().overlay(&over))
        .map_err(|e| RatesError {
            path: path.clone(),
            line: e.line(),
            message: e.to_string(),
        })?;
    Ok(Rates {
        table: Cow::Owned(table),
        file: Some(path),
    })
}

/// The text of the small UTF-8 file at `path` (a data folder's `rates.csv` or
/// `insurers.csv`), or why not: the line of the first byte that is not UTF-8 (none for an I/O
/// error) and the message.
pub(crate) fn read_utf8(path: &Path) -> Result<String, (Option<usize>, String)> {
    let bytes = std::fs::read(path).map_err(|e| (None, e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..valid].iter().filter(|&&b| b == b'\n').count();
        let byte = bytes.get(valid).copied().unwrap_or_default();
        (
            Some(line),
            format!("not UTF-8 text (byte 0x{byte:02X}): save the file as UTF-8"),
        )
    })
}
