//! A daemon for the tests: the stdlib scenarios (plus, for [`start_with`], scenario files of
//! the test's own) and the example portfolio in a temporary store, `DAYS` virtual days run through the daily run and the outbox (SMS and webhooks
//! without a URL dead-letter, so the outbox has dead letters), then the API and the console
//! served on 127.0.0.1 (a free port) until [`Daemon::stop`]. Console users, one per role, all
//! with the password [`PASSWORD`]. [`Http`], the plain HTTP side of the tests: sign-in,
//! requests with a session's cookie, forms and multipart uploads.
//!
//! It must not listen on anything but loopback, and asserts nothing about the console itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use relance_core::domain::Portfolio;
use relance_daemon::Engine;
use relance_daemon::api::{self, AppState};
use relance_daemon::config::{Config, ConsoleUser, EmailTransport, Role, Token};
use relance_daemon::dispatcher::Dispatcher;
use relance_daemon::model::Message;
use relance_daemon::server::{self, ClockMode};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use tokio::sync::{Notify, oneshot};

pub const PASSWORD: &str = "correct horse battery";
pub const FROM: (i32, u32, u32) = (2026, 4, 1);
pub const DAYS: u64 = 40;

/// (user name, role) of the console users.
pub const USERS: &[(&str, Role)] = &[
    ("ana-admin", Role::Admin),
    ("camille-cm", Role::CreditManager),
    ("sam-sales", Role::Sales),
    ("erp-integration", Role::Integration),
];

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct Daemon {
    pub base: String,
    pub engine: Arc<Engine>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Daemon {
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        let _ = self.engine.flush();
    }

    /// The first message of the outbox that `keep` accepts.
    pub fn message(&self, keep: impl Fn(&Message) -> bool) -> Option<Message> {
        self.engine.outbox().expect("outbox").into_iter().find(keep)
    }
}

fn config(dir: &Path) -> Config {
    let mut config = Config {
        data: dir.join("data"),
        spool: dir.join("spool"),
        spool_unconfigured: false,
        ..Config::default()
    };
    config.email.transport = EmailTransport::Spool;
    config.email.from = "Example SA <credit@example.com>".into();
    config.company.name = "Example SA".into();
    config.outbox.max_attempts = 1;
    config.tokens = vec![Token {
        name: "ops".into(),
        token: "admin-token-for-the-console-tests".into(),
        role: Role::Admin,
    }];
    let hash = relance_console::password::hash(PASSWORD).expect("hash");
    config.console.users = USERS
        .iter()
        .map(|(name, role)| ConsoleUser {
            name: name.to_string(),
            password_hash: hash.clone(),
            role: *role,
            agenda: Vec::new(),
        })
        .collect();
    config
}

/// Starts a daemon on the example portfolio, run for `DAYS` days.
pub async fn start() -> Daemon {
    start_with(&[]).await
}

/// Copies folder `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// [`start`] with the stdlib scenarios plus `extra` files (name, DSL text) in the set.
pub async fn start_with(extra: &[(&str, &str)]) -> Daemon {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    let from = NaiveDate::from_ymd_opt(FROM.0, FROM.1, FROM.2).expect("date");
    let cfg = config.clone();
    let set = if extra.is_empty() {
        repo().join("stdlib-scenarios")
    } else {
        let set = dir.path().join("set");
        copy_dir(&repo().join("stdlib-scenarios"), &set);
        for (name, text) in extra {
            std::fs::write(set.join(name), text).expect("extra scenario");
        }
        set
    };
    let engine = tokio::task::spawn_blocking(move || {
        let engine =
            server::open(&cfg, ClockMode::Virtual { start: Some(from) }, Some(&set)).expect("open");
        let p = relance_data::portfolio::load_dir(&repo().join("examples")).expect("examples");
        let (past, _): (Vec<_>, Vec<_>) = p.events.iter().cloned().partition(|e| e.date <= from);
        engine
            .import(&Portfolio {
                from: None,
                customers: p.customers.clone(),
                invoices: p.invoices.clone(),
                events: past,
            })
            .expect("import");
        engine.catch_up(from).expect("catch up");
        engine
    })
    .await
    .expect("open");
    let dispatcher = Dispatcher::new(engine.clone(), &config).expect("dispatcher");
    dispatcher.drain().await.expect("drain");
    for d in 1..=DAYS {
        let e = engine.clone();
        let day = from.checked_add_days(Days::new(d)).expect("day");
        tokio::task::spawn_blocking(move || e.advance_to(day))
            .await
            .expect("join")
            .expect("advance");
        dispatcher.drain().await.expect("drain");
    }
    engine.flush().expect("flush");
    let wake = Arc::new(Notify::new());
    let state = Arc::new(AppState::new(engine.clone(), &config, wake));
    let app = api::router(state.clone(), true).merge(relance_console::router(state, &config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel::<()>();
    let http = config.http.clone();
    let task = tokio::spawn(async move {
        relance_daemon::http::serve(listener, app, &http, async {
            let _ = rx.await;
        })
        .await;
    });
    Daemon {
        base,
        engine,
        stop: Some(tx),
        task: Some(task),
        _dir: dir,
    }
}

const BOUNDARY: &str = "relance-test-boundary-7d1f";

/// A `multipart/form-data` body: the CSRF field, then `files` parts (name, content).
pub fn multipart(csrf: &str, files: &[(&str, &str)]) -> String {
    let mut body =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n");
    for (name, text) in files {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n{text}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

/// The `value` of the first `name="csrf"` hidden field of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap_or_default().to_string()
}

/// `name=value; flags` of the `Set-Cookie` for `name`.
pub fn cookie_of(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// The `name=value` pair of a `Set-Cookie` value (what a `Cookie` header sends back).
pub fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

/// A plain HTTP client on a daemon's `base` URL; it follows no redirect. Every request takes
/// a session's cookie pair, or `""` for none.
pub struct Http {
    pub client: reqwest::Client,
    pub base: String,
}

impl Http {
    pub fn new(base: &str) -> Http {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Http {
            client,
            base: base.to_string(),
        }
    }

    /// A request to `path` (below `base`) with `session`'s cookie, if any.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        session: &str,
    ) -> reqwest::RequestBuilder {
        let r = self.client.request(method, format!("{}{path}", self.base));
        if session.is_empty() {
            r
        } else {
            r.header(COOKIE, session)
        }
    }

    pub async fn get(&self, path: &str, session: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path, session)
            .send()
            .await
            .expect("get")
    }

    /// The status and the body of a GET.
    pub async fn page(&self, path: &str, session: &str) -> (StatusCode, String) {
        let r = self.get(path, session).await;
        (r.status(), r.text().await.expect("body"))
    }

    /// A form POST.
    pub async fn post_form(
        &self,
        path: &str,
        session: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.request(reqwest::Method::POST, path, session)
            .form(form)
            .send()
            .await
            .expect("post")
    }

    /// A multipart POST of `files` with the CSRF field `csrf`: its status and body.
    pub async fn upload(
        &self,
        path: &str,
        session: &str,
        csrf: &str,
        files: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let r = self
            .request(reqwest::Method::POST, path, session)
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(csrf, files))
            .send()
            .await
            .expect("post");
        (r.status(), r.text().await.expect("body"))
    }

    /// Signs in `user` through the sign-in form (its pre-session cookie and CSRF token);
    /// answers the status and the session's `Set-Cookie`, if one was set.
    pub async fn sign_in(&self, user: &str, password: &str) -> (StatusCode, Option<String>) {
        let form = self.get("/console/sign-in", "").await;
        let pre = pair(&cookie_of(&form, "relance_signin").expect("pre cookie"));
        let token = csrf_of(&form.text().await.expect("body"));
        let resp = self
            .post_form(
                "/console/sign-in",
                &pre,
                &[
                    ("csrf", token.as_str()),
                    ("user", user),
                    ("password", password),
                ],
            )
            .await;
        let session = cookie_of(&resp, "relance_session");
        (resp.status(), session)
    }

    /// Signs in `user` with [`PASSWORD`]; answers the session's cookie pair.
    pub async fn session(&self, user: &str) -> String {
        let (_, set) = self.sign_in(user, PASSWORD).await;
        pair(&set.unwrap_or_else(|| panic!("a session for {user}")))
    }
}
