//! The console's plumbing: its state ([`Console`]), its routes ([`router`]), the security
//! headers and the CSRF check every request passes, the signed-in extractor ([`Signed`]),
//! page rendering and the error pages.
//!
//! This module must not know what a page shows; the pages must not set headers or check
//! tokens themselves.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Path, Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Environment, Value, context};
use relance_daemon::DaemonError;
use relance_daemon::api::AppState;
use relance_daemon::api::auth::{Family, allowed, role_name};
use relance_daemon::config::{Config, ConsoleUser};

use super::i18n::Lang;
use super::session::{self, Limiter, Session, Sessions};
use super::{customers, imports, outbox, portfolio, scenarios, signin, today};

/// What every console handler sees.
pub struct Console {
    pub app: Arc<AppState>,
    pub sessions: Sessions,
    pub limiter: Limiter,
    pub users: Vec<ConsoleUser>,
    /// Cookies carry `Secure` (`[console] secure_cookies`).
    pub secure: bool,
    /// Uploaded files waiting for their apply (`imports`).
    pub imports: imports::Pending,
    env: Environment<'static>,
}

/// The largest form body read (the CSRF check buffers it).
const MAX_FORM: usize = 64 * 1024;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("today.html", include_str!("../templates/today.html")),
    (
        "customers.html",
        include_str!("../templates/customers.html"),
    ),
    ("customer.html", include_str!("../templates/customer.html")),
    ("outbox.html", include_str!("../templates/outbox.html")),
    ("message.html", include_str!("../templates/message.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("imports.html", include_str!("../templates/imports.html")),
    (
        "portfolio.html",
        include_str!("../templates/portfolio.html"),
    ),
    (
        "scenarios.html",
        include_str!("../templates/scenarios.html"),
    ),
    ("scenario.html", include_str!("../templates/scenario.html")),
];

const HTMX: &str = include_str!("../assets/htmx.min.js");
const CSS: &str = include_str!("../assets/console.css");

impl Console {
    pub fn new(app: Arc<AppState>, config: &Config) -> Console {
        let mut env = Environment::new();
        env.add_filter("urlencode", |s: String| customers::urlencode(&s));
        for (name, source) in TEMPLATES {
            // The templates are ours and checked by the tests: a broken one fails at start-up.
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("console template {name}: {e}"));
        }
        Console {
            sessions: Sessions::kept(session::Keep {
                engine: app.engine.clone(),
                allowed: config
                    .console
                    .users
                    .iter()
                    .map(|u| (u.name.clone(), u.role))
                    .chain(config.tokens.iter().map(|t| (t.name.clone(), t.role)))
                    .collect(),
            }),
            limiter: Limiter::default(),
            users: config.console.users.clone(),
            secure: config.console.secure_cookies,
            imports: imports::Pending::default(),
            app,
            env,
        }
    }

    /// A page: `template` with `ctx` and the layout's context (words, user, CSRF token, menu).
    pub fn page(&self, lang: Lang, who: Option<&Session>, template: &str, ctx: Value) -> Response {
        self.page_with(StatusCode::OK, lang, who, template, ctx)
    }

    pub fn page_with(
        &self,
        status: StatusCode,
        lang: Lang,
        who: Option<&Session>,
        template: &str,
        ctx: Value,
    ) -> Response {
        let can = |f: Family| who.is_some_and(|s| allowed(s.role, f));
        let base = context! {
            t => lang.catalogue(),
            lang => lang.code(),
            user => who.map(|s| s.user.clone()),
            role => who.map(|s| role_name(s.role)),
            csrf => who.map(|s| s.csrf.clone()),
            can_read => can(Family::Read),
            can_write => can(Family::DataWrite),
            can_resolve => can(Family::Resolve),
            can_operate => can(Family::Operate),
            today => self.app.engine.today().to_string(),
        };
        let ctx = context! { ..ctx, ..base };
        match self.env.get_template(template).and_then(|t| t.render(ctx)) {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(template, error = %e, "console template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
            }
        }
    }

    /// The error page of `fail`.
    pub fn fail(&self, lang: Lang, who: Option<&Session>, fail: Fail) -> Response {
        let (status, key, detail) = match fail {
            Fail::Forbidden => (StatusCode::FORBIDDEN, "forbidden", None),
            Fail::NotFound => (StatusCode::NOT_FOUND, "not_found", None),
            Fail::Bad(m) => (StatusCode::BAD_REQUEST, "error", Some(m)),
            Fail::Internal(m) => {
                tracing::error!(error = %m, "console request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "error", None)
            }
        };
        self.page_with(status, lang, who, "error.html", context! { key, detail })
    }
}

/// Why a request failed.
#[derive(Debug)]
pub enum Fail {
    Forbidden,
    NotFound,
    /// The request's own problem, told to the user.
    Bad(String),
    Internal(String),
}

impl From<DaemonError> for Fail {
    fn from(e: DaemonError) -> Fail {
        match e {
            DaemonError::NotFound { .. } => Fail::NotFound,
            DaemonError::Malformed { .. } | DaemonError::Invalid(_) | DaemonError::Conflict(_) => {
                Fail::Bad(e.to_string())
            }
            other => Fail::Internal(other.to_string()),
        }
    }
}

/// Runs blocking engine work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DaemonError> + Send + 'static,
) -> Result<T, Fail> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(Fail::from),
        Err(e) => Err(Fail::Internal(format!("worker: {e}"))),
    }
}

/// Runs a write, flushes it, wakes the dispatcher (as the API's `durable`).
pub async fn durable<T: Send + 'static>(
    c: &Console,
    f: impl FnOnce(&relance_daemon::Engine) -> Result<T, DaemonError> + Send + 'static,
) -> Result<T, Fail> {
    let engine = c.app.engine.clone();
    let out = blocking(move || {
        let out = f(&engine)?;
        engine.flush()?;
        Ok(out)
    })
    .await?;
    c.app.wake.notify_one();
    Ok(out)
}

/// A signed-in request: its session, its id and the language.
pub struct Signed {
    pub session: Session,
    pub lang: Lang,
}

impl Signed {
    /// `Ok` when the session's role may do `family`.
    pub fn require(&self, family: Family) -> Result<(), Fail> {
        if allowed(self.session.role, family) {
            Ok(())
        } else {
            Err(Fail::Forbidden)
        }
    }
}

/// The value of cookie `name` in a request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// A `Set-Cookie` value for the console's path; `max_age` 0 deletes it.
pub fn set_cookie(c: &Console, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let mut v = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        v.push_str(&format!("; Max-Age={age}"));
    }
    if c.secure {
        v.push_str("; Secure");
    }
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

impl FromRequestParts<Arc<Console>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        c: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        let lang = Lang::of(&parts.headers);
        match cookie(&parts.headers, session::COOKIE).and_then(|id| c.sessions.get(id)) {
            Some(session) => Ok(Signed { session, lang }),
            None => Err(Redirect::to("/console/sign-in").into_response()),
        }
    }
}

/// The language of a request that may not be signed in.
pub struct Language(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for Language {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Language(Lang::of(&parts.headers)))
    }
}

/// The client's address, when the server passes it (`into_make_service_with_connect_info`).
pub fn client_addr(parts_ext: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    parts_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// Security headers on every console answer; pages are not cached.
async fn headers(req: Request, next: Next) -> Response {
    let asset = req.uri().path().starts_with("/console/assets/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    if !asset {
        set(h, "cache-control", "no-store");
    }
    resp
}

/// The CSRF check of every POST: the form's `csrf` field must equal the session's token (or,
/// before sign-in, the sign-in cookie's). A missing or wrong token is refused (403) before
/// any handler runs.
async fn csrf(State(c): State<Arc<Console>>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let lang = Lang::of(req.headers());
    let expected = match cookie(req.headers(), session::COOKIE).and_then(|id| c.sessions.get(id)) {
        Some(s) => Some(s.csrf),
        None => cookie(req.headers(), session::PRE_COOKIE).map(str::to_string),
    };
    let (parts, body) = req.into_parts();
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let limit = if multipart {
        imports::MAX_UPLOAD
    } else {
        MAX_FORM
    };
    let Ok(bytes) = to_bytes(body, limit).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
    };
    let given = if multipart {
        multipart_csrf(&parts, &bytes).await
    } else {
        serde_urlencoded_pairs(&bytes)
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v)
    };
    let given = given.unwrap_or_default();
    if !expected.is_some_and(|e| session::same(&e, &given)) {
        return c.fail(lang, None, Fail::Forbidden);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The `csrf` field of a buffered multipart form (read with axum's own multipart parser).
async fn multipart_csrf(parts: &Parts, bytes: &axum::body::Bytes) -> Option<String> {
    use axum::extract::{FromRequest, Multipart};
    let mut copy = Request::new(Body::from(bytes.clone()));
    *copy.headers_mut() = parts.headers.clone();
    *copy.extensions_mut() = parts.extensions.clone();
    let mut form = Multipart::from_request(copy, &()).await.ok()?;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("csrf") {
            return field.text().await.ok();
        }
    }
    None
}

/// The pairs of a URL-encoded form.
fn serde_urlencoded_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "console.css" => (CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            // The names do not change with the content: a day, not forever.
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

async fn home(State(c): State<Arc<Console>>, headers: HeaderMap) -> Redirect {
    let signed = cookie(&headers, session::COOKIE).and_then(|id| c.sessions.get(id));
    match signed {
        Some(s) if allowed(s.role, Family::Read) => Redirect::to("/console/today"),
        Some(_) => Redirect::to("/console/sign-in"),
        None => Redirect::to("/console/sign-in"),
    }
}

/// Query pairs of a request.
pub type Query = axum::extract::Query<HashMap<String, String>>;

/// The console's routes, to merge into the daemon's app.
pub fn router(app: Arc<AppState>, config: &Config) -> Router {
    let c = Arc::new(Console::new(app, config));
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/assets/{name}", get(asset))
        .route("/console/sign-in", get(signin::form).post(signin::submit))
        .route("/console/sign-out", post(signin::sign_out))
        .route("/console/today", get(today::page))
        .route("/console/today/{id}/outcome", post(today::outcome))
        .route("/console/customers", get(customers::list))
        .route("/console/customers/{id}", get(customers::page))
        .route("/console/customers/{id}/promise", post(customers::promise))
        .route("/console/customers/{id}/dispute", post(customers::dispute))
        .route("/console/customers/{id}/case", post(super::case::submit))
        .route("/console/outbox", get(outbox::page))
        .route("/console/outbox/{id}", get(outbox::message))
        .route("/console/outbox/{id}/retry", post(outbox::retry))
        .route("/console/portfolio", get(portfolio::page))
        .route("/console/scenarios", get(scenarios::list))
        .route("/console/scenarios/{number}/{name}", get(scenarios::page))
        .route("/console/imports", get(imports::page).post(imports::upload))
        .route("/console/imports/apply", post(imports::apply))
        .layer(axum::middleware::from_fn_with_state(c.clone(), csrf))
        // Outside the CSRF check, which buffers bodies itself (forms to `MAX_FORM`, uploads
        // to `imports::MAX_UPLOAD`): the multipart parser's limit.
        .layer(axum::extract::DefaultBodyLimit::max(imports::MAX_UPLOAD))
        .layer(axum::middleware::from_fn(headers))
        .with_state(c)
}

/// The client's address (absent when the server does not pass it).
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(client_addr(&parts.extensions)))
    }
}
