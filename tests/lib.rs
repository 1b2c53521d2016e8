//! Workspace-level tests live in this crate's `it` test binary (`it/main.rs`); the library is empty.
