//! relance-dsl: the Relance scenario language.
//!
//! The flow is one-directional: `syntax` (source → AST with spans, never fails) → `check`
//! (AST → diagnostics, all of them in one run) → `ir` (checked AST → the serializable,
//! hashed form the engine runs). `fmt` prints an AST back in canonical layout, and
//! `diagnostics` renders findings for people (like rustc) and machines (JSON).

pub mod diagnostics;
pub mod suggest;
pub mod syntax;

pub use diagnostics::{Code, Diagnostic, Severity};
pub mod check;
pub mod fmt;
pub mod installments;
pub mod ir;
pub mod lower;
pub mod schema;

pub use check::{RuleSite, SetContext, SetDiagnostics, SourceFile, check_set, check_set_full};
pub use lower::{Compiled, compile};
