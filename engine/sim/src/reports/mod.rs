//! Reports over a portfolio at a date: the aged balance ([`aged`]), DSO and its companions
//! ([`dso`]), collection activity from an engine run ([`activity`]) and each customer's payment
//! behaviour ([`behaviour`]). Formulas are in `docs/REPORTS.md`.
//!
//! Every report reads a portfolio's money history through [`crate::replay`]; every text cell
//! of their CSV forms goes through [`csv_cell`] (quoting and formula neutralising). This module
//! must not run the engine itself (the activity report takes a finished run) and never uses
//! floating point for money.

pub mod activity;
pub mod aged;
pub mod behaviour;
mod csv_cell;
pub mod dso;
pub mod insurance;
pub mod procedures;

use chrono::NaiveDate;

pub use crate::replay::{InvoiceAt, replay};
pub use csv_cell::{csv_cell, push_csv_cell};

/// Days from `from` to `to` (negative when `to` is earlier).
pub(crate) fn days(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}
