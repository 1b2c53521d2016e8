//! Workspace-level tests, one binary: what no single crate owns.
//!
//! - `stdlib_scenarios`: the stdlib set's own `test` blocks and its plan of `examples/`;
//! - `stdlib_rules`: the stdlib's rhai rules against hand-computed values;
//! - `editor_grammar`: the TextMate grammar through a real TextMate engine (Node, vscode-textmate);
//! - `lsp`: the real `relance lsp` binary over stdio, as an editor speaks to it;
//! - `neovim`: the same binary with a client that is not ours, headless Neovim's;
//! - `migrating`: the translated peer examples of docs/MIGRATING.md check clean and pass;
//! - `bench_harness`: `benches/run --smoke`, so the benchmark harness cannot rot;
//! - `cargo`: starting cargo from a test on the suite's own build (`lsp`, `bench_harness`).

mod bench_harness;
mod cargo;
mod editor_grammar;
mod lsp;
mod migrating;
mod neovim;
mod stdlib_rules;
mod stdlib_scenarios;
