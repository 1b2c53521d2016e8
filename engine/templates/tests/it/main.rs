//! The integration tests of relance-templates, one module per concern.

mod cases;
mod docs;
mod filters;
mod readme;
mod rendering;
mod variants;
