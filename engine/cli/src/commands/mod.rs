//! The `relance` command line: argument parsing (clap) and one module per command.
//!
//! Commands read inputs, call the library and print; exit codes are part of the contract
//! (see `docs/CLI.md`). No command holds business logic of its own.

mod backup;
mod bundled;
pub(crate) mod check;
mod console;
mod demo;
mod deploy;
mod fmt;
mod generate;
mod import;
mod insurance;
pub(crate) mod plan;
mod rates;
mod remote;
mod report;
mod serve;
mod simulate;
mod store;
mod store_copy;
mod terms;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Relance: a dunning engine driven by readable scenarios.
#[derive(Parser, Debug)]
#[command(name = "relance", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// `relance console …`.
#[derive(Subcommand, Debug)]
pub enum ConsoleCommand {
    /// Read a password on standard input (one line) and print its argon2 hash, for
    /// `password_hash` of a `[[console.users]]` entry in relance.toml.
    HashPassword,
}

/// `relance store …`.
#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// Read every entry of every tree and decode each record: trees, counts, problems. Exit 0
    /// sound, 1 problems found, 2 the store cannot be opened (locked, damaged, unfinished restore).
    Verify {
        /// The store folder (the `data` of relance.toml), or its `postgres://` URL (`store`).
        #[arg(long)]
        data: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Copy a stopped daemon's store into an empty one (sled folder or postgres:// URL, either
    /// way), then compare both stores' backups. Exit 0 identical, 1 they differ, 2 cannot open
    /// or the destination is not empty.
    Copy {
        /// The store to copy: a sled folder or a postgres:// URL.
        #[arg(long)]
        from: String,
        /// The empty store to fill: a sled folder (created) or a postgres:// URL.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and check scenario files and sets (folders). Exit 0 valid, 1 diagnostics, 2 usage or I/O.
    Check {
        /// `.relance` files or scenario-set folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Exit 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// The day whose late-payment rates must be known (default: the system's date): a
        /// warning names the half-years up to it that the set's rate table lacks.
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
    },
    /// Format scenario files in the canonical layout. Exit 1 with --check when a file would change.
    Fmt {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Report files that are not formatted; write nothing.
        #[arg(long)]
        check: bool,
    },
    /// Run the `test` blocks of sets. Ends with `N passed, N failed`; exit 1 on any failure.
    Test {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Rewrite snapshot files that differ.
        #[arg(long)]
        update: bool,
    },
    /// The dated timeline of one case (customers, invoices, events as JSON).
    Simulate {
        /// The scenario set (folder or file).
        set: PathBuf,
        /// The case JSON file.
        #[arg(long)]
        case: PathBuf,
        /// Last day simulated (default: 180 days after the last due date or event).
        #[arg(long)]
        until: Option<chrono::NaiveDate>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Generate a seeded synthetic portfolio as CSV files (customers, invoices, payments, events).
    Gen {
        #[arg(long, default_value_t = 1000)]
        customers: usize,
        #[arg(long, default_value_t = 10_000)]
        invoices: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Last day events are known (invoices are issued over the 120 days before).
        #[arg(long)]
        as_of: chrono::NaiveDate,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// The tour: the example portfolio in a fresh daemon store (in a temporary folder, removed
    /// at the end), N virtual days of the daily run and the outbox; prints what was sent and
    /// the agenda.
    Demo {
        /// The scenario set (default: the stdlib built into this binary).
        #[arg(long)]
        scenarios: Option<PathBuf>,
        /// A CSV data folder (default: the example portfolio built into this binary).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The first virtual day.
        #[arg(long, default_value = "2026-04-01")]
        from: chrono::NaiveDate,
        /// How many virtual days.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// After the run, keep the daemon serving the API and the web console on this address
        /// (loopback) with the example data, until Ctrl-C; prints the console's address and a
        /// one-time password.
        #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:7878")]
        serve: Option<std::net::SocketAddr>,
    },
    /// The web console's helpers.
    Console {
        #[command(subcommand)]
        command: ConsoleCommand,
    },
    /// What the engine would do over the next N days for a whole portfolio (CSV folder).
    Plan {
        /// The CSV data folder: customers.csv, invoices.csv, payments.csv, events.csv (not a
        /// daemon store).
        #[arg(long)]
        data: PathBuf,
        /// The scenario set (default: the stdlib built into this binary).
        #[arg(long)]
        scenarios: Option<PathBuf>,
        /// First day the engine runs.
        #[arg(long)]
        from: chrono::NaiveDate,
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// text, json, csv or parquet (one row per entry; see docs/CLI.md).
        #[arg(long, value_enum, default_value_t)]
        format: plan::PlanFormat,
        /// How many threads share the portfolio, by customer (default: two per core). The
        /// plan is the same whatever the number.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
        threads: Option<u16>,
    },
    /// Run the language server over stdio
    Lsp,
    /// Run the daemon: HTTP API, daily run, outbox (see docs/DAEMON.md).
    Serve {
        /// The configuration file (default: ./relance.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The daemon's store folder, created if missing (a database, not the CSV data folder
        /// of `plan` and `report`; overrides `data` of relance.toml).
        #[arg(long)]
        data: Option<PathBuf>,
        /// A scenario set deployed at start-up when it changed (overrides `scenarios`).
        #[arg(long)]
        scenarios: Option<PathBuf>,
        /// Listen address (overrides `listen`; loopback by default).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        #[arg(long, value_enum, default_value_t)]
        clock: serve::ClockArg,
        /// First day of a new virtual clock.
        #[arg(long)]
        start: Option<chrono::NaiveDate>,
    },
    /// Send a scenario set (a local folder) to a running daemon. Exit 0 deployed, 1 refused (diagnostics), 2 usage or I/O.
    Deploy {
        /// The set's folder (`*.relance`, `templates/`, `rules/`).
        dir: PathBuf,
        /// The daemon's base URL (the token: --token or RELANCE_TOKEN, admin or credit-manager role).
        #[arg(long)]
        server: String,
        #[arg(long)]
        token: Option<String>,
        /// Move running cases to the new deployment: `all`, or a scenario name (repeatable).
        #[arg(long)]
        migrate: Vec<String>,
    },
    /// Export a store as versioned JSON lines (--data DIR or postgres://… when stopped, --server URL when running).
    Backup {
        /// The stopped daemon's store folder, or its `postgres://` URL.
        #[arg(long)]
        data: Option<PathBuf>,
        /// A running daemon's base URL (the token: --token or RELANCE_TOKEN, admin role).
        #[arg(long)]
        server: Option<String>,
        #[arg(long)]
        token: Option<String>,
        /// The output file.
        out: PathBuf,
    },
    /// The late-payment rate table per half-year (ECB, default rate, legal rate, floor).
    Rates(rates::Args),
    /// Credit insurance: open invoices of insured customers with the insurer's deadlines
    /// (from the original due date) and warnings.
    Insurance(insurance::Args),
    /// Payment terms against the L441-10 caps (`terms check`).
    Terms {
        #[command(subcommand)]
        command: terms::TermsCommand,
    },
    /// Operate on a store folder (daemon stopped).
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Rebuild an empty store from a `relance backup` file (or one an interrupted restore left).
    Restore {
        #[arg(long)]
        data: PathBuf,
        /// The backup file.
        input: PathBuf,
    },
    /// Merge CSV, events, FEC or camt.053 files into the data folder (--data) or a running daemon (--server), all or nothing. Exit 0 imported, 1 invalid input, 2 usage or I/O.
    Import {
        /// What the files are.
        #[arg(value_enum)]
        source: import::Source,
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// The CSV data folder to merge into (created if missing).
        #[arg(long, required_unless_present = "server", conflicts_with = "server")]
        data: Option<std::path::PathBuf>,
        /// A running daemon's base URL: the files go as one batch (the token: --token or
        /// RELANCE_TOKEN, a role that writes data).
        #[arg(long)]
        server: Option<String>,
        #[arg(long, requires = "server")]
        token: Option<String>,
        /// CSV column renames, `FILE_COLUMN=COLUMN,...` (e.g. "numero=id,client=customer").
        #[arg(long)]
        map: Vec<String>,
        /// What the CSV files hold (default: guessed from the file name, then the columns).
        #[arg(long, value_parser = parse_csv_kind)]
        kind: Option<relance_data::import::csv_mapped::Kind>,
        /// How CSV amounts are written.
        #[arg(long, value_enum, default_value_t)]
        decimals: import::Decimals,
        /// Report what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Payment terms (days) for invoices without a due date whose customer has none.
        #[arg(long, default_value_t = relance_data::import::DEFAULT_TERMS_DAYS)]
        default_terms: u32,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Reports at a date: aged balance, DSO, collection activity, payment behaviour.
    Report {
        #[arg(value_enum)]
        kind: report::ReportKind,
        /// The CSV data folder.
        #[arg(long)]
        data: std::path::PathBuf,
        /// The report date.
        #[arg(long)]
        at: chrono::NaiveDate,
        /// The scenario set (activity and behaviour simulate the portfolio up to --at;
        /// default: the stdlib built into this binary).
        #[arg(long)]
        scenarios: Option<std::path::PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: report::ReportFormat,
        /// The DSO period, in days ending on --at.
        #[arg(long, default_value_t = 90)]
        period_days: u32,
        /// The currency of the DSO figures.
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// How the DSO countback counts a month: its calendar days, or 30 days.
        #[arg(long, value_enum, default_value_t)]
        countback_months: report::MonthConventionArg,
        /// The CEI over this many calendar months ending with the report's month (0: none).
        #[arg(long, default_value_t = 3)]
        cei_months: u32,
    },
}

/// Exit codes shared by the commands.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
}

pub fn run(cli: Cli) -> ExitCode {
    // `store = "postgres://…"` in relance.toml: the daemon opens it through relance-pg.
    relance_daemon::server::register_url_store(relance_pg::open_store);
    let code = match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
            today,
        } => check::run(
            &paths,
            format,
            deny_warnings,
            today.unwrap_or_else(|| chrono::Local::now().date_naive()),
        ),
        Command::Fmt { paths, check } => fmt::run(&paths, check),
        Command::Test { paths, update } => test::run(&paths, update),
        Command::Simulate {
            set,
            case,
            until,
            format,
        } => simulate::run(&set, &case, until, format),
        Command::Plan {
            data,
            scenarios,
            from,
            days,
            format,
            threads,
        } => match bundled::scenarios(scenarios) {
            Ok(set) => plan::run(&data, set.path(), from, days, format, threads),
            Err(e) => usage(&e),
        },
        Command::Gen {
            customers,
            invoices,
            seed,
            as_of,
            out,
        } => generate::run(customers, invoices, seed, as_of, &out),
        Command::Demo {
            scenarios,
            data,
            from,
            days,
            serve,
        } => match (bundled::scenarios(scenarios), bundled::examples(data)) {
            (Ok(set), Ok(data)) => demo::run(&set, &data, from, days, serve),
            (Err(e), _) | (_, Err(e)) => usage(&e),
        },
        Command::Console {
            command: ConsoleCommand::HashPassword,
        } => console::hash_password(),
        Command::Lsp => relance_lsp::run_stdio(),
        Command::Serve {
            config,
            data,
            scenarios,
            listen,
            clock,
            start,
        } => serve::run(serve::Options {
            config,
            data,
            scenarios,
            listen,
            clock,
            start,
        }),
        Command::Deploy {
            dir,
            server,
            token,
            migrate,
        } => deploy::run(&dir, &server, token.as_deref(), &migrate),
        Command::Backup {
            data,
            server,
            token,
            out,
        } => backup::backup(data.as_deref(), server.as_deref(), token.as_deref(), &out),
        Command::Restore { data, input } => backup::restore(&data, &input),
        Command::Rates(args) => rates::run(args),
        Command::Terms { command } => terms::run(command),
        Command::Insurance(args) => insurance::run(args),
        Command::Store {
            command: StoreCommand::Verify { data, format },
        } => store::verify(&data, format),
        Command::Store {
            command: StoreCommand::Copy { from, to },
        } => store_copy::run(&from, &to),
        Command::Import {
            source,
            files,
            data,
            server,
            token,
            map,
            kind,
            decimals,
            dry_run,
            default_terms,
            format,
        } => import::run(import::Args {
            source,
            files,
            target: match (data, server) {
                (Some(dir), _) => Some(import::Target::Folder(dir)),
                (None, Some(url)) => Some(import::Target::Server { url, token }),
                (None, None) => None,
            },
            map,
            kind,
            decimals,
            dry_run,
            default_terms,
            format,
        }),
        Command::Report {
            kind,
            data,
            at,
            scenarios,
            format,
            period_days,
            currency,
            countback_months,
            cei_months,
        } => match bundled::scenarios(scenarios) {
            Ok(set) => report::run(report::Args {
                kind,
                data,
                at,
                scenarios: set.path().to_path_buf(),
                format,
                period_days,
                currency,
                countback_months,
                cei_months,
            }),
            Err(e) => usage(&e),
        },
    };
    ExitCode::from(code)
}

/// Prints a usage or I/O error and returns its exit code.
fn usage(e: &str) -> u8 {
    eprintln!("error: {e}");
    exit::USAGE
}

/// Loads and compiles the set a command runs. On failure prints why (the diagnostics, or the
/// I/O error) and returns the exit code.
pub(crate) fn runnable_set(
    path: &std::path::Path,
) -> Result<
    (
        relance_core::scenario_set::LoadedSet,
        relance_dsl::ir::ScenarioSet,
    ),
    u8,
> {
    let set = relance_core::scenario_set::load(path).map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })?;
    let compiled = set.compile();
    match compiled.set {
        Some(ir) => Ok((set, ir)),
        None => {
            for (file, diags) in set.files.iter().zip(&compiled.diagnostics) {
                eprint!(
                    "{}",
                    relance_dsl::diagnostics::render(diags, &file.path, &file.text, color())
                );
            }
            Err(exit::FINDINGS)
        }
    }
}

/// The set's templates (`ROOT/templates/`, by file name) and their settings, to note in a
/// timeline the messages not written in their customer's language. A folder that cannot be
/// read, or settings with errors (`relance check` reports them), note nothing.
pub(crate) struct SetTemplates {
    templates: std::collections::BTreeMap<String, String>,
    settings: Option<relance_templates::Settings>,
}

impl SetTemplates {
    pub(crate) fn read(root: &std::path::Path) -> SetTemplates {
        let templates = relance_templates::read_dir(&root.join("templates")).unwrap_or_default();
        let settings = relance_templates::Settings::of(&templates).ok();
        SetTemplates {
            templates,
            settings,
        }
    }

    /// The note for a message in `language` using `template` (see
    /// `relance_sim::timeline::Timeline::note_languages`): `None` when the variant is the
    /// customer's language, or the template is unknown (the checker's business).
    pub(crate) fn note(
        &self,
        language: &str,
        template: &str,
    ) -> Option<relance_sim::timeline::LanguageNote> {
        use relance_sim::timeline::LanguageNote;
        let settings = self.settings.as_ref()?;
        if relance_templates::variant::languages_of(&self.templates, template).is_empty() {
            return None;
        }
        match relance_templates::find(&self.templates, settings, template, language) {
            Ok(v) => v.fallback_from.map(|from| LanguageNote::Fallback {
                language: v.language,
                from,
            }),
            Err(_) => Some(LanguageNote::Missing {
                language: language.to_string(),
            }),
        }
    }
}

/// Whether stderr/stdout is a terminal that wants colours.
pub(crate) fn color() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// `--kind`: one of the CSV kinds, any case.
fn parse_csv_kind(name: &str) -> Result<relance_data::import::csv_mapped::Kind, String> {
    use relance_data::import::csv_mapped::Kind;
    Kind::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        format!("unknown kind '{name}' (one of {})", names.join(", "))
    })
}
