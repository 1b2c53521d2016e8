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
//! Bank proposals (camt.053 transactions the import could not match with certainty) come
//! with the dry run's report; the apply form asks, for each, to reject it (the default) or to
//! confirm it as a payment of one of its candidate invoices. The proposals are kept with the
//! upload (the form names a proposal and a candidate by position, never an invoice or an
//! amount); on apply, once the batch is written, each confirmed proposal still proposed by the
//! apply's own run becomes the API's typed `payment` event (the transaction's amount and date,
//! the bank reference as the payment's `reference`, so that importing the statement again
//! skips it), through `Engine::apply_events`, in the invoice's currency only.
//!
//! This module must not parse or merge files itself, nor hold import rules.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Form;
use axum::body::Bytes;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use base64::Engine as _;
use chrono::NaiveDate;
use minijinja::context;
use relance_core::domain::{Event, EventKind};
use relance_daemon::api::auth::{Caller, Family};
use relance_daemon::api::import;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::session::Session;
use super::web::{Console, Fail, Signed, durable};

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

/// A bank proposal of a dry run, as the batch import's reply states it (what an apply needs).
#[derive(Debug, Clone, Deserialize)]
struct Proposed {
    transaction: Transaction,
    #[serde(default)]
    candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, Deserialize)]
struct Transaction {
    reference: String,
    date: NaiveDate,
    amount: Decimal,
    currency: String,
    /// Kept on the payment fact when the statement gives them.
    #[serde(default)]
    payer_iban: Option<String>,
    #[serde(default)]
    end_to_end_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Candidate {
    invoice: String,
}

/// The proposals of a batch import's reply.
fn proposals(reply: &Value) -> Vec<Proposed> {
    reply
        .pointer("/changes/proposals")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// An upload waiting for its apply, with its dry run's bank proposals.
struct Kept {
    at: Instant,
    files: Vec<Upload>,
    proposals: Vec<Proposed>,
}

/// The uploads waiting for their apply, by session (its CSRF token).
#[derive(Default)]
pub struct Pending {
    by_session: Mutex<HashMap<String, Kept>>,
}

impl Pending {
    fn put(&self, session: &str, files: Vec<Upload>, proposals: Vec<Proposed>) {
        let mut m = self.by_session.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        m.retain(|_, k| now.duration_since(k.at) < KEEP);
        m.insert(
            session.to_string(),
            Kept {
                at: now,
                files,
                proposals,
            },
        );
        while m.len() > MAX_PENDING {
            let oldest = m.iter().min_by_key(|(_, k)| k.at).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => m.remove(&k),
                None => break,
            };
        }
    }

    fn take(&self, session: &str) -> Option<Kept> {
        let mut m = self.by_session.lock().unwrap_or_else(|e| e.into_inner());
        m.remove(session).filter(|k| k.at.elapsed() < KEEP)
    }

    fn peek(&self, session: &str) -> Option<Vec<String>> {
        let m = self.by_session.lock().unwrap_or_else(|e| e.into_inner());
        m.get(session)
            .filter(|k| k.at.elapsed() < KEEP)
            .map(|k| k.files.iter().map(|u| u.name.clone()).collect())
    }
}

/// A person's decisions on the proposals: proposal position → candidate position, from the
/// apply form's `proposal-{i}` fields (`pay-{j}`; `reject` or anything else rejects; the
/// first field of a proposal counts, as a form's radio group sends one).
fn decisions(form: &[(String, String)]) -> HashMap<usize, usize> {
    let mut out = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for (k, v) in form {
        let Some(i) = k.strip_prefix("proposal-").and_then(|i| i.parse().ok()) else {
            continue;
        };
        if !seen.insert(i) {
            continue;
        }
        if let Some(j) = v.strip_prefix("pay-").and_then(|j| j.parse().ok()) {
            out.insert(i, j);
        }
    }
    out
}

/// What became of a confirmed proposal.
#[derive(Debug, serde::Serialize)]
struct Confirmed {
    reference: String,
    invoice: String,
    amount: String,
    /// Why it was not written, if it was not.
    skipped: Option<String>,
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
        if let Answer::Done(reply) = &answer {
            c.imports.put(&s.session.csrf, files, proposals(reply));
        }
        Ok((answer, names))
    };
    match run_it.await {
        Ok((answer, names)) => report(&c, &s, answer, true, names),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}

/// `POST /console/imports/apply` (`csrf`, and `proposal-{i}` = `pay-{j}` or `reject`):
/// writes the files of this session's dry run, then the confirmed bank proposals.
pub async fn apply(
    State(c): State<Arc<Console>>,
    s: Signed,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let run_it = async {
        s.require(Family::DataWrite)?;
        let kept = c
            .imports
            .take(&s.session.csrf)
            .ok_or_else(|| Fail::Bad("nothing to apply: upload the files again".into()))?;
        let names: Vec<(String, &'static str)> = kept
            .files
            .iter()
            .map(|f| (f.name.clone(), f.format))
            .collect();
        let answer = run(&c, &s.session, &kept.files, false).await?;
        let confirmed = match &answer {
            Answer::Done(reply) => confirm(&c, &kept.proposals, &form, reply).await?,
            Answer::Refused(_) => Vec::new(),
        };
        Ok((answer, names, confirmed))
    };
    match run_it.await {
        Ok((answer, names, confirmed)) => report_with(&c, &s, answer, false, names, confirmed),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}

/// Writes the confirmed proposals as payments: those the apply's own run still proposes
/// (a transaction matched since, or already imported, is not paid twice), each on its chosen
/// candidate, in that invoice's currency.
async fn confirm(
    c: &Console,
    kept: &[Proposed],
    form: &[(String, String)],
    reply: &Value,
) -> Result<Vec<Confirmed>, Fail> {
    let still: Vec<String> = proposals(reply)
        .into_iter()
        .map(|p| p.transaction.reference)
        .collect();
    let mut chosen: Vec<(usize, usize)> = decisions(form).into_iter().collect();
    chosen.sort_unstable();
    let picked: Vec<(Proposed, String)> = chosen
        .into_iter()
        .filter_map(|(i, j)| {
            let p = kept.get(i)?;
            let invoice = p.candidates.get(j)?.invoice.clone();
            Some((p.clone(), invoice))
        })
        .collect();
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    durable(c, move |e| {
        let mut out = Vec::new();
        let mut events = Vec::new();
        for (p, invoice) in picked {
            let t = p.transaction;
            let skipped = if !still.contains(&t.reference) {
                Some("no longer proposed by the import (matched or imported since)".to_string())
            } else {
                match e.invoice(&invoice)? {
                    None => Some("unknown invoice".to_string()),
                    Some(inv) if inv.currency != t.currency => {
                        Some(format!("the invoice is in {}", inv.currency))
                    }
                    Some(_) => None,
                }
            };
            if skipped.is_none() {
                events.push(Event {
                    date: t.date,
                    kind: EventKind::Payment {
                        invoice: invoice.clone(),
                        amount: t.amount,
                        reference: Some(t.reference.clone()),
                        details: relance_core::payment::PaymentDetails {
                            payer_iban: t.payer_iban.clone(),
                            end_to_end_id: t.end_to_end_id.clone(),
                            ..Default::default()
                        },
                    },
                });
            }
            out.push(Confirmed {
                reference: t.reference,
                invoice,
                amount: format!("{} {}", t.amount, t.currency),
                skipped,
            });
        }
        if !events.is_empty() {
            e.apply_events(&events)?;
        }
        Ok(out)
    })
    .await
}

fn report(
    c: &Console,
    s: &Signed,
    answer: Answer,
    dry_run: bool,
    names: Vec<(String, &'static str)>,
) -> Response {
    report_with(c, s, answer, dry_run, names, Vec::new())
}

fn report_with(
    c: &Console,
    s: &Signed,
    answer: Answer,
    dry_run: bool,
    names: Vec<(String, &'static str)>,
    confirmed: Vec<Confirmed>,
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
        context! { uploaded, reply, refused, dry_run, pending, confirmed },
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
