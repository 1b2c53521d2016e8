//! `relance.toml`: every setting of the daemon, with its default (see
//! `docs/relance.example.toml` for a commented example and `docs/DAEMON.md` for the reference).
//!
//! This module owns reading and checking the file; it must not open sockets or files other
//! than the configuration itself. Unknown keys are refused, so a typo never goes unnoticed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::clock::Zone;
use super::error::DaemonError;
use super::outbox::RetryPolicy;
use relance_core::domain::PostalAddress;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP API listens on (loopback by default).
    pub listen: SocketAddr,
    /// The store folder (sled), unless `store` names a database.
    pub data: PathBuf,
    /// A PostgreSQL URL (`postgres://user:password@host/db`): the store lives in that database
    /// instead of the `data` folder (see `docs/DEPLOY.md`). Unset: sled in `data`.
    pub store: Option<String>,
    /// A scenario set folder deployed at start-up when it differs from the current one.
    pub scenarios: Option<PathBuf>,
    /// The company's time zone: `Europe/Paris`, another EU zone, `UTC` or `+HH:MM`.
    pub timezone: String,
    /// Local hour (0–23) from which the day's run happens.
    pub run_hour: u32,
    /// Folder for letters, spooled emails and spooled webhooks.
    pub spool: PathBuf,
    /// Write SMS and webhooks that have no URL configured to the spool instead of
    /// dead-lettering them (the demo does; production should not).
    pub spool_unconfigured: bool,
    pub company: Company,
    pub email: Email,
    pub sms: Sms,
    /// Named webhooks: `webhook "insurer"` posts to `webhooks.insurer.url`; `escalation`,
    /// `alert`, `block`, `unblock`, `charge` and `tag` receive those actions when defined.
    pub webhooks: BTreeMap<String, Webhook>,
    pub outbox: Outbox,
    /// Limits of the HTTP server (slow clients, concurrent connections).
    pub http: Http,
    /// Serve `GET /metrics` without a token (default: any valid token is required).
    pub metrics_public: bool,
    /// Days a write's `Idempotency-Key` and stored reply are kept (at least 1): the daily run
    /// of day D deletes the keys stored before D − this. Signed so that a negative value is
    /// refused by [`Config::check`] with a message naming the setting, not by the parser.
    pub idempotency_retention_days: i64,
    pub tokens: Vec<Token>,
    /// `relance serve` refuses to start without a token (every request would get 401) unless
    /// this is set: a daemon nobody calls, driven only by its daily run.
    pub allow_no_tokens: bool,
    /// The web console's users and cookie setting (`[console]`, see `docs/CONSOLE.md`).
    pub console: Console,
}

/// `[console]`: who may sign in to the web console with a password.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Console {
    /// `[[console.users]]`: name, argon2 PHC `password_hash` (`relance console hash-password`), role.
    pub users: Vec<ConsoleUser>,
    /// Mark the session cookie `Secure` (set it when a TLS proxy serves the daemon).
    pub secure_cookies: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleUser {
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    /// The agenda assignees (`assign …`, `to …` in scenarios) whose entries this user sees on
    /// Today; empty: the role's default (see `docs/CONSOLE.md`).
    #[serde(default)]
    pub agenda: Vec<String>,
}

/// The default of [`Config::idempotency_retention_days`].
pub const DEFAULT_IDEMPOTENCY_RETENTION_DAYS: u32 = 30;

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            data: PathBuf::from("relance-data"),
            store: None,
            scenarios: None,
            timezone: "Europe/Paris".into(),
            run_hour: 6,
            spool: PathBuf::from("relance-spool"),
            spool_unconfigured: false,
            company: Company::default(),
            email: Email::default(),
            sms: Sms::default(),
            webhooks: BTreeMap::new(),
            outbox: Outbox::default(),
            http: Http::default(),
            metrics_public: false,
            idempotency_retention_days: i64::from(DEFAULT_IDEMPOTENCY_RETENTION_DAYS),
            tokens: Vec::new(),
            allow_no_tokens: false,
            console: Console::default(),
        }
    }
}

/// What templates know about us (`company.*`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Company {
    pub name: String,
    pub iban: String,
    pub phone: String,
    pub email: String,
    /// Days between a formal notice and its `deadline`.
    pub notice_days: u32,
    /// Our postal address: the sender block of PDF letters, and its city the place of their
    /// place-and-date line (`[company.address]` with `lines`, `postcode`, `city`, `country`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<PostalAddress>,
}

impl Default for Company {
    fn default() -> Self {
        Company {
            name: "Relance".into(),
            iban: String::new(),
            phone: String::new(),
            email: String::new(),
            notice_days: 10,
            address: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    /// Send over SMTP.
    Smtp,
    /// Write `.eml` files to `spool/email/`.
    Spool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Email {
    pub transport: EmailTransport,
    /// The sender (`Credit department <credit@example.com>`); its domain ends Message-IDs.
    pub from: String,
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout_secs: u64,
}

impl Default for Email {
    fn default() -> Self {
        Email {
            transport: EmailTransport::Spool,
            from: "Relance <relance@localhost>".into(),
            host: "127.0.0.1".into(),
            port: 25,
            tls: Tls::None,
            username: None,
            password: None,
            timeout_secs: 30,
        }
    }
}

impl Email {
    /// The domain of `from`, used in Message-IDs.
    pub fn domain(&self) -> String {
        let addr = self
            .from
            .rsplit('<')
            .next()
            .unwrap_or(&self.from)
            .trim_end_matches('>');
        addr.rsplit_once('@')
            .map(|(_, d)| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "relance.invalid".into())
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Sms {
    /// The SMS gateway: receives `POST` JSON `{key, to, text, customer, invoices}`.
    pub url: Option<String>,
    pub bearer: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub url: String,
    #[serde(default)]
    pub bearer: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Outbox {
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// How often the dispatcher looks for work when nothing wakes it.
    pub poll_ms: u64,
    /// HTTP timeout for SMS and webhooks.
    pub http_timeout_secs: u64,
}

impl Default for Outbox {
    fn default() -> Self {
        let p = RetryPolicy::default();
        Outbox {
            max_attempts: p.max_attempts,
            base_delay_ms: p.base.as_millis() as u64,
            max_delay_ms: p.max_delay.as_millis() as u64,
            poll_ms: 1000,
            http_timeout_secs: 10,
        }
    }
}

impl Outbox {
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            base: Duration::from_millis(self.base_delay_ms),
            max_delay: Duration::from_millis(self.max_delay_ms),
        }
    }
}

/// How long the HTTP server waits for a client, and how many it serves at once: a client
/// that sends its request slowly is cut off instead of holding a connection for ever.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    /// Time to receive a request's line and headers, from the moment the server waits for
    /// them (a new connection, or a kept-alive one between requests); then the connection
    /// is closed.
    pub header_timeout_secs: u64,
    /// Time to receive a request's whole body, from the end of its headers; then 408 and the
    /// connection is closed.
    pub body_timeout_secs: u64,
    /// Connections served at once; further ones wait in the listen queue until one closes.
    pub max_connections: usize,
    /// Time a client may take to accept each chunk of a streamed answer (`GET /v1/backup`);
    /// then the answer is cut short (its end line missing) and what it held (the backup's
    /// snapshot) is released.
    pub send_timeout_secs: u64,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            header_timeout_secs: 10,
            body_timeout_secs: 60,
            max_connections: 256,
            send_timeout_secs: 60,
        }
    }
}

impl Http {
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }

    pub fn send_timeout(&self) -> Duration {
        Duration::from_secs(self.send_timeout_secs)
    }
}

/// An API role (see the access matrix in `docs/DAEMON.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Admin,
    CreditManager,
    Sales,
    Integration,
    /// Only `GET /metrics` (a Prometheus scraper).
    Metrics,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    /// Who holds it (logs).
    pub name: String,
    /// The bearer secret (at least 16 characters).
    pub token: String,
    pub role: Role,
}

impl Config {
    /// Reads and checks a `relance.toml`.
    pub fn load(path: &Path) -> Result<Config, DaemonError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DaemonError::Config(format!("{}: {e}", path.display())))?;
        Config::parse(&text).map_err(|e| DaemonError::Config(format!("{}: {e}", path.display())))
    }

    pub fn parse(text: &str) -> Result<Config, DaemonError> {
        let config: Config =
            toml::from_str(text).map_err(|e| DaemonError::Config(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    pub fn check(&self) -> Result<(), DaemonError> {
        Zone::parse(&self.timezone)?;
        if let Some(store) = &self.store
            && !(store.starts_with("postgres://") || store.starts_with("postgresql://"))
        {
            return Err(DaemonError::Config(
                "store must be a postgres:// URL (a sled store is the `data` folder)".into(),
            ));
        }
        if self.run_hour > 23 {
            return Err(DaemonError::Config(format!(
                "run_hour must be 0 to 23, found {}",
                self.run_hour
            )));
        }
        if self.http.header_timeout_secs == 0
            || self.http.body_timeout_secs == 0
            || self.http.send_timeout_secs == 0
        {
            return Err(DaemonError::Config(
                "http.header_timeout_secs, http.body_timeout_secs and http.send_timeout_secs must be at least 1"
                    .into(),
            ));
        }
        if self.http.max_connections == 0 {
            return Err(DaemonError::Config(
                "http.max_connections must be at least 1".into(),
            ));
        }
        if self.idempotency_retention_days < 1 {
            return Err(DaemonError::Config(format!(
                "idempotency_retention_days must be at least 1 (days an Idempotency-Key is kept), found {}",
                self.idempotency_retention_days
            )));
        }
        for t in &self.tokens {
            if t.token.len() < 16 {
                return Err(DaemonError::Config(format!(
                    "token `{}` is shorter than 16 characters",
                    t.name
                )));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for t in &self.tokens {
            if !seen.insert(&t.token) {
                return Err(DaemonError::Config(format!(
                    "token `{}` is used twice",
                    t.name
                )));
            }
        }
        Ok(())
    }

    pub fn zone(&self) -> Zone {
        Zone::parse(&self.timezone).unwrap_or(Zone::Eu(1))
    }

    /// [`Config::idempotency_retention_days`] as checked (at least 1; beyond `u32::MAX`,
    /// `u32::MAX`: no key is ever old enough).
    pub fn idempotency_retention(&self) -> u32 {
        u32::try_from(self.idempotency_retention_days.max(1)).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses() {
        let text = include_str!("../../../docs/relance.example.toml");
        let c = Config::parse(text).expect("example config");
        assert_eq!(c.tokens.len(), 5);
        assert_eq!(c.tokens[4].role, Role::Metrics);
        assert_eq!(c.http.header_timeout_secs, 10);
        assert_eq!(c.http.send_timeout_secs, 60);
        assert_eq!(c.idempotency_retention(), 30);
        assert_eq!(c.email.domain(), "example.com");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(Config::parse("listne = \"127.0.0.1:1\"").is_err());
        assert!(Config::parse("run_hour = 24").is_err());
        assert!(Config::parse("timezone = \"Mars/Olympus\"").is_err());
        assert!(Config::parse("[http]\nmax_connections = 0").is_err());
        assert!(Config::parse("[http]\nheader_timeout_secs = 0").is_err());
        assert!(Config::parse("[http]\nsend_timeout_secs = 0").is_err());
        assert!(Config::parse("[http]\nheader_timeot_secs = 5").is_err());
        assert!(Config::parse("store = \"/var/lib/relance\"").is_err());
        for url in [
            "postgres://u:p@h/db",
            "postgresql:///db?host=/run/postgresql",
        ] {
            let c = Config::parse(&format!("store = \"{url}\"")).expect("a postgres URL");
            assert_eq!(c.store.as_deref(), Some(url));
        }
        assert_eq!(Config::parse("").expect("defaults").store, None);
        assert!(
            Config::parse("[[tokens]]\nname = \"x\"\ntoken = \"short\"\nrole = \"admin\"").is_err()
        );
        let c = Config::parse("").expect("defaults");
        assert!(c.listen.ip().is_loopback());
        assert!(!c.metrics_public);
        assert_eq!(c.http.max_connections, 256);
        let c = Config::parse("metrics_public = true\n[http]\nheader_timeout_secs = 1\n[[tokens]]\nname = \"prometheus\"\ntoken = \"scrape-token-0000005\"\nrole = \"metrics\"")
            .expect("http, metrics_public and the metrics role");
        assert!(c.metrics_public);
        assert_eq!(c.http.header_timeout(), Duration::from_secs(1));
        assert_eq!(c.tokens[0].role, Role::Metrics);
    }
}
