//! The `relance` command: see `relance --help` and `docs/CLI.md`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    relance_engine::cli::run(relance_engine::cli::Cli::parse())
}
