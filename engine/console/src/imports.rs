//! Imports (`/console/imports`): upload accounting files (CSV of every kind, `events.csv`,
//! FEC, camt.053) in one multipart form, see the dry-run report (what would change, the
//! problems by file, line and field, the bank transactions proposed but not applied), then
//! apply with a second POST. Both steps go through the API's own batch import
//! (`relance_daemon::api::import::batch`, the handler of `POST /v1/import/batch`, called
//! in-process with the signed-in person as the caller): same parsing, checks, atomic write,
//! digest and access matrix (the data-write family).
//!
//! Between the two steps the files are kept server-side, in memory, for the session that
//! uploaded them (keyed by its CSRF token, never sent back to the browser): the apply writes
//! exactly the bytes that were reviewed, and a page cannot be made to apply other content by
//! editing a hidden field. It is bounded: [`MAX_UPLOAD`] bytes per upload, one pending upload
//! per session, [`MAX_PENDING`] uploads in all (the oldest dropped), [`KEEP`] at most.
//!
//! This module must not parse or merge files itself, nor hold import rules.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use base64::Engine as _;
use minijinja::context;
use relance_daemon::api::auth::{Caller, Family};
use relance_daemon::api::import;
use serde_json::{Value, json};

use super::session::Session;
use super::web::{Console, Fail, Signed};

/// The largest upload (all files of one form together).
pub const MAX_UPLOAD: usize = 32 << 20;
/// Uploads kept for their apply, all sessions together.
pub const MAX_PENDING: usize = 8;
/// How long an upload waits for its apply.
pub const KEEP: Duration = Duration::from_secs(30 * 60);

/// One uploaded file.
#[derive(Debug, Clone)]
struct Upload {
    name: String,
    format: &'static str,
    bytes: Bytes,
}

/// The uploads waiting for their apply, by session (its CSRF token).
#[derive(Default)]
pub struct Pending {
    by_session: Mutex<HashMap<String, (Instant, Vec<Upload>)>>,
}

impl Pending {
    fn put(&self, session: &str, files: Vec<Upload>) {
        let mut m = self.by_session.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        m.retain(|_, (at, _)| now.duration_since(*at) < KEEP);
        m.insert(session.to_string(), (now, files));
        while m.len() > MAX_PENDING {
            let oldest = m
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => m.remove(&k),
                None => break,
            };
        }
    }

    fn take(&self, session: &str) -> Option<Vec<Upload>> {
        let mut m = self.by_session.lock().unwrap_or_else(|e| e.into_inner());
        m.remove(session)
            .filter(|(at, _)| at.elapsed() < KEEP)
            .map(|(_, f)| f)
    }

    fn peek(&self, session: &str) -> Option<Vec<String>> {
        let m = self.by_session.lock().unwrap_or_else(|e| e.into_inner());
        m.get(session)
            .filter(|(at, _)| at.elapsed() < KEEP)
            .map(|(_, f)| f.iter().map(|u| u.name.clone()).collect())
    }
}

/// The batch format of a file, from its name (and a FEC's header): `*.xml` is a camt.053
/// statement, `events*.csv` the data folder's events, a `.txt`/`.fec` file or one whose
/// first line starts with `JournalCode` a FEC, any other file a CSV (its kind guessed from
/// its name by the import library, as `relance import`).
fn format_of(name: &str, bytes: &[u8]) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let head = &bytes[..bytes.len().min(64)];
    let head = String::from_utf8_lossy(head);
    if lower.ends_with(".xml") {
        "camt053"
    } else if lower.starts_with("events") && lower.ends_with(".csv") {
        "events"
    } else if lower.ends_with(".txt")
        || lower.ends_with(".fec")
        || head
            .trim_start_matches('\u{feff}')
            .starts_with("JournalCode")
    {
        "fec"
    } else {
        "csv"
    }
}

/// What the API's batch import answered: its reply or its refusal, as data for the page.
enum Answer {
    Done(Value),
    Refused(Value),
}

/// Runs `files` through the API's batch import as `who`.
async fn run(c: &Console, who: &Session, files: &[Upload], dry_run: bool) -> Result<Answer, Fail> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let request = json!({
        "dry_run": dry_run,
        "files": files.iter().map(|f| json!({
            "name": f.name, "format": f.format, "base64": b64.encode(&f.bytes),
        })).collect::<Vec<_>>(),
    });
    let body =
        Bytes::from(serde_json::to_vec(&request).map_err(|e| Fail::Internal(e.to_string()))?);
    let caller = Caller {
        name: who.user.clone(),
        role: who.role,
    };
    match import::batch(State(c.app.clone()), caller, Query(Vec::new()), body).await {
        Ok(reply) => Ok(Answer::Done(
            serde_json::to_value(&reply.0).map_err(|e| Fail::Internal(e.to_string()))?,
        )),
        Err(e) if e.status.is_client_error() => Ok(Answer::Refused(
            serde_json::to_value(&e.body).map_err(|e| Fail::Internal(e.to_string()))?,
        )),
        Err(e) => Err(Fail::Internal(e.body.message)),
    }
}

/// `GET /console/imports`: the upload form.
pub async fn page(State(c): State<Arc<Console>>, s: Signed) -> Response {
    if let Err(f) = s.require(Family::DataWrite) {
        return c.fail(s.lang, Some(&s.session), f);
    }
    c.page(s.lang, Some(&s.session), "imports.html", context! {})
}

/// `POST /console/imports` (multipart: `csrf`, `files`): the dry run; the files are kept for
/// the apply when they pass.
pub async fn upload(State(c): State<Arc<Console>>, s: Signed, mut form: Multipart) -> Response {
    let run_it = async {
        s.require(Family::DataWrite)?;
        let mut files = Vec::new();
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| Fail::Bad(format!("upload: {e}")))?
        {
            if field.name() != Some("files") {
                continue;
            }
            let name = field
                .file_name()
                .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
                .unwrap_or_default();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| Fail::Bad(format!("upload: {e}")))?;
            if name.is_empty() && bytes.is_empty() {
                continue; // no file chosen
            }
            let format = format_of(&name, &bytes);
            files.push(Upload {
                name,
                format,
                bytes,
            });
        }
        if files.is_empty() {
            return Err(Fail::Bad("choose one file or more".into()));
        }
        let answer = run(&c, &s.session, &files, true).await?;
        let names: Vec<(String, &'static str)> =
            files.iter().map(|f| (f.name.clone(), f.format)).collect();
        if matches!(answer, Answer::Done(_)) {
            c.imports.put(&s.session.csrf, files);
        }
        Ok((answer, names))
    };
    match run_it.await {
        Ok((answer, names)) => report(&c, &s, answer, true, names),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}

/// `POST /console/imports/apply`: writes the files of this session's dry run.
pub async fn apply(State(c): State<Arc<Console>>, s: Signed) -> Response {
    let run_it = async {
        s.require(Family::DataWrite)?;
        let files = c
            .imports
            .take(&s.session.csrf)
            .ok_or_else(|| Fail::Bad("nothing to apply: upload the files again".into()))?;
        let names: Vec<(String, &'static str)> =
            files.iter().map(|f| (f.name.clone(), f.format)).collect();
        Ok((run(&c, &s.session, &files, false).await?, names))
    };
    match run_it.await {
        Ok((answer, names)) => report(&c, &s, answer, false, names),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}

fn report(
    c: &Console,
    s: &Signed,
    answer: Answer,
    dry_run: bool,
    names: Vec<(String, &'static str)>,
) -> Response {
    let uploaded: Vec<Value> = names
        .into_iter()
        .map(|(name, format)| json!({ "name": name, "format": format }))
        .collect();
    let pending = c.imports.peek(&s.session.csrf).is_some();
    let (reply, refused) = match answer {
        Answer::Done(v) => (Some(v), None),
        Answer::Refused(v) => (None, Some(v)),
    };
    let status = if refused.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    c.page_with(
        status,
        s.lang,
        Some(&s.session),
        "imports.html",
        context! { uploaded, reply, refused, dry_run, pending },
    )
}

#[cfg(test)]
mod tests {
    use super::format_of;

    #[test]
    fn the_format_of_a_file_comes_from_its_name_or_a_fec_header() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("customers.csv", b"id,name", "csv"),
            ("payments.csv", b"invoice,date", "csv"),
            ("events.csv", b"date,kind", "events"),
            ("Events-2026.CSV", b"date,kind", "events"),
            ("statement.xml", b"<?xml", "camt053"),
            ("123FEC20261231.txt", b"JournalCode|", "fec"),
            ("export.csv", b"JournalCode\tJournalLib", "fec"),
            ("export.csv", b"\xef\xbb\xbfJournalCode\t", "fec"),
        ];
        for (name, head, want) in cases {
            assert_eq!(format_of(name, head), *want, "{name}");
        }
    }
}
