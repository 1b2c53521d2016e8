//! Sign-in and sign-out: a user name and password checked against the argon2 hash of
//! `[[console.users]]`, or an API token of `[[tokens]]` (found as the API finds it); failed
//! attempts limited per user name and per client address (429 past the limit); the session
//! cookie set on success, cleared on sign-out.
//!
//! This module must not log a password, a token or a session id.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use relance_daemon::api::auth::role_name;
use relance_daemon::config::Role;
use serde::Deserialize;

use super::i18n::Lang;
use super::password;
use super::session::{self, random_token};
use super::web::{Console, Language, Peer, cookie, set_cookie};

/// The agenda assignees a role sees when the user names none: the admin every entry, the
/// credit manager its own and the unassigned ones, another role its own.
pub fn default_agenda(role: Role) -> Vec<String> {
    match role {
        Role::Admin => Vec::new(),
        Role::CreditManager => vec![role_name(role).to_string(), "unassigned".to_string()],
        other => vec![role_name(other).to_string()],
    }
}

fn form_page(c: &Console, lang: Lang, headers: &HeaderMap, error: Option<&str>) -> Response {
    let status = match error {
        Some("too_many") => StatusCode::TOO_MANY_REQUESTS,
        Some(_) => StatusCode::UNAUTHORIZED,
        None => StatusCode::OK,
    };
    // The sign-in form's CSRF token lives in its own cookie until a session exists.
    let (token, fresh) = match cookie(headers, session::PRE_COOKIE) {
        Some(t) if t.len() == 43 => (t.to_string(), false),
        _ => (random_token(), true),
    };
    let mut resp = c.page_with(
        status,
        lang,
        None,
        "sign_in.html",
        context! { form_csrf => token.clone(), error },
    );
    if fresh {
        resp.headers_mut()
            .append(SET_COOKIE, set_cookie(c, session::PRE_COOKIE, &token, None));
    }
    resp
}

pub async fn form(
    State(c): State<Arc<Console>>,
    Language(lang): Language,
    headers: HeaderMap,
) -> Response {
    form_page(&c, lang, &headers, None)
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
}

pub async fn submit(
    State(c): State<Arc<Console>>,
    Language(lang): Language,
    Peer(addr): Peer,
    headers: HeaderMap,
    Form(f): Form<SignIn>,
) -> Response {
    let by_token = !f.token.trim().is_empty();
    let who = if by_token { "token" } else { f.user.trim() };
    if c.limiter.blocked(who, addr) {
        tracing::warn!(user = who, "console sign-in refused: too many failures");
        return form_page(&c, lang, &headers, Some("too_many"));
    }
    let found = if by_token {
        c.app
            .tokens
            .find(f.token.trim())
            .map(|caller| (caller.name, caller.role, Vec::new()))
    } else {
        let user = c.users.iter().find(|u| u.name == f.user.trim());
        // An unknown name costs a hash check too: timing does not tell which names exist.
        let phc = user.map_or(password::decoy(), |u| u.password_hash.as_str());
        let pw = f.password.clone();
        let phc = phc.to_string();
        let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &phc))
            .await
            .unwrap_or(false);
        user.filter(|_| ok)
            .map(|u| (u.name.clone(), u.role, u.agenda.clone()))
    };
    let Some((name, role, agenda)) = found else {
        c.limiter.failed(who, addr);
        tracing::info!(user = who, "console sign-in failed");
        return form_page(&c, lang, &headers, Some("bad_sign_in"));
    };
    let agenda = if agenda.is_empty() {
        default_agenda(role)
    } else {
        agenda
    };
    tracing::info!(user = %name, role = role_name(role), "console sign-in");
    let id = c.sessions.open(name, role, agenda);
    let mut resp = Redirect::to("/console/").into_response();
    *resp.status_mut() = StatusCode::SEE_OTHER;
    let h = resp.headers_mut();
    h.append(SET_COOKIE, set_cookie(&c, session::COOKIE, &id, None));
    h.append(SET_COOKIE, set_cookie(&c, session::PRE_COOKIE, "", Some(0)));
    resp
}

pub async fn sign_out(State(c): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, session::COOKIE) {
        c.sessions.close(id);
    }
    let mut resp = Redirect::to("/console/sign-in").into_response();
    *resp.status_mut() = StatusCode::SEE_OTHER;
    resp.headers_mut()
        .append(SET_COOKIE, set_cookie(&c, session::COOKIE, "", Some(0)));
    resp
}
