//! The `relance` command: see `relance --help` and `docs/CLI.md`.

use clap::Parser;

mod commands;

// Portfolio runs allocate and free millions of small strings a day; mimalloc keeps that cheap
// (glibc's allocator spent a fifth of `relance plan` consolidating free lists).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    crate::commands::run(crate::commands::Cli::parse())
}
