//! The integration tests of relance-templates, one module per concern.

mod cases;
mod filters;
mod readme;
mod rendering;
mod variants;
