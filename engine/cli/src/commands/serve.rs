//! `relance serve`: reads `relance.toml` (or `--config FILE`), applies the command-line
//! overrides, and runs the daemon (`daemon::server`) with the web console (`relance-console`,
//! under `/console/`) on a tokio runtime. It refuses to start
//! without an API token unless `allow_no_tokens = true`. Exit 0 after a graceful shutdown, 2 on
//! a configuration or store error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::ValueEnum;

use super::exit;
use relance_daemon::config::Config;
use relance_daemon::server::{self, ClockMode};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum ClockArg {
    /// The system clock in the company's time zone.
    #[default]
    Wall,
    /// A day that moves only through `POST /v1/clock/advance` (admin): tests and rehearsals.
    Virtual,
}

/// Command-line overrides of the configuration.
pub struct Options {
    pub config: Option<PathBuf>,
    pub data: Option<PathBuf>,
    pub scenarios: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub clock: ClockArg,
    pub start: Option<NaiveDate>,
}

/// The configuration: `--config`, else `./relance.toml` when present, else the defaults.
pub fn load_config(path: Option<&Path>) -> Result<Config, String> {
    match path {
        Some(p) => Config::load(p).map_err(|e| e.to_string()),
        None if Path::new("relance.toml").is_file() => {
            Config::load(Path::new("relance.toml")).map_err(|e| e.to_string())
        }
        None => Ok(Config::default()),
    }
}

/// Logs to stderr, coloured only when stderr is a terminal and `NO_COLOR` is unset: a log
/// file or a pipe gets plain text, no ANSI escape codes.
pub fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("RELANCE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

pub fn run(o: Options) -> u8 {
    let mut config = match load_config(o.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    if let Some(d) = o.data {
        config.data = d;
    }
    if let Some(s) = o.scenarios {
        config.scenarios = Some(s);
    }
    if let Some(l) = o.listen {
        config.listen = l;
    }
    if config.tokens.is_empty() && config.console.users.is_empty() && !config.allow_no_tokens {
        eprintln!(
            "error: no API token is configured, so every request would be refused (401): add \
             a `[[tokens]]` entry (name, token of 16 characters or more, role) to relance.toml \
             (see docs/DAEMON.md#configuration), or set `allow_no_tokens = true` to run a \
             daemon nobody can call (the daily run and the outbox still work)"
        );
        return exit::USAGE;
    }
    init_tracing();
    let mode = match o.clock {
        ClockArg::Wall => ClockMode::Wall,
        ClockArg::Virtual => ClockMode::Virtual { start: o.start },
    };
    serve_with_console(config, mode)
}

/// Serves the daemon with its web console until it stops (`relance serve`, `relance demo
/// --serve`); answers the exit code.
pub fn serve_with_console(config: Config, mode: ClockMode) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    match runtime.block_on(server::serve_with(config, mode, relance_console::router)) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
    }
}
