//! relance-pictures: the pictures of the console, as SVG strings.
//!
//! Pure functions from typed data to an SVG `String` (and the table each picture draws), so the
//! web console and the CLI can both show them: the portfolio charts ([`charts`], drawn by the
//! `plotters` library), the ladder of a scenario ([`ladder`]) and the what-if timeline of one
//! invoice ([`what_if`]), both on a time axis from the due date.
//!
//! This crate must not depend on the daemon, a store, a web framework or the wall clock: its
//! inputs are plain data (the series are [`series`]), its outputs are strings. Money stays a
//! `Decimal` in every table; it becomes `f64` only where a bar or a point is drawn.

pub mod charts;
mod diagram;
mod expr;
pub mod ladder;
mod lang;
pub mod series;
mod svg;
pub mod what_if;

pub use charts::{Chart, Table};
pub use ladder::{Ladder, ladder};
pub use lang::Lang;
pub use what_if::{WhatIf, what_if};

/// A picture that could not be drawn (a drawing backend error: never expected for a string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PictureError(pub String);

impl std::fmt::Display for PictureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "drawing a picture: {}", self.0)
    }
}

impl std::error::Error for PictureError {}
