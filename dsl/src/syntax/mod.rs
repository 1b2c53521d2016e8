//! Syntax: the grammar, the AST and its comment side table. Nothing here knows what a name
//! refers to; that is `check`'s job.

pub mod ast;
pub mod comments;
pub(crate) mod expected;
pub mod grammar;
pub mod parser;

pub use parser::{BrokenItem, ItemKind, Parsed, parse};
