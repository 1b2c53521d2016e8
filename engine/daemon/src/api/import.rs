//! The file import endpoints: `POST /v1/import/csv/{kind}` (customers, contacts, invoices,
//! payments), `POST /v1/import/fec` and `POST /v1/import/camt053`. The body is the file's bytes;
//! options are query parameters (`dry_run`, `map`, `decimals`, `default_terms`, `name`).
//!
//! Each request reads the store ([`snapshot`](super::super::snapshot)), merges the file into it
//! with the import library (`relance_data::import`: the same parsing, checks and idempotent merge as
//! `relance import`), validates the merged portfolio, then hands what changed to
//! [`Engine::import`](super::super::engine::Engine::import): one transaction, acknowledged once
//! durable. A problem in the file is a 422 naming its line and column (or field and record),
//! and nothing is written; a dry run stops before the write. Imports are serialized among
//! themselves, so two uploads of one file cannot both add its payments. A role that may not
//! read the data is told the file's own account of a refusal (the file merged into an empty
//! store), which says nothing about what is stored.
//!
//! The reply is an [`ImportReply`], a refused file an [`ErrorBody`] with the file's problems
//! (both in [`models`](super::models)). Handlers translate HTTP into these library calls; they
//! must not hold import rules.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use super::super::engine::{Engine, WriteReport};
use super::super::error::DaemonError;
use super::super::snapshot;
use super::auth::{Caller, Family, allowed};
use super::error::{ApiError, STORED_REFUSAL};
use super::models::{
    ErrorBody, ErrorCode, ErrorDetails, FileProblem, FileSummary, ImportReply, Wire,
};
use super::{AppState, Reply, blocking, durable};
use relance_core::domain::Portfolio;
use relance_data::import::csv_mapped::{self, CsvOptions, Kind, Mapping};
use relance_data::import::fec::{self, FecOptions};
use relance_data::import::{Changes, DEFAULT_TERMS_DAYS, DecimalStyle, Merge, camt053};
use relance_data::portfolio::{self, Place, PortfolioError, Problem};

/// The largest file accepted (a year's FEC of a mid-sized company is a few tens of MB).
pub const MAX_FILE_BYTES: usize = 64 << 20;

/// Query parameters, in order (`map` may be repeated).
type Params = Query<Vec<(String, String)>>;

/// One import at a time: the base an import merges into must not change under it through
/// another import.
static IMPORTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What kind of file the body is.
#[derive(Debug, Clone)]
enum Source {
    Csv(CsvOptions),
    Fec(FecOptions),
    Camt053,
}

/// The request's options.
#[derive(Debug, Clone)]
struct Request {
    source: Source,
    /// The file name problems are reported against.
    name: PathBuf,
    dry_run: bool,
}

/// A file read and merged, not written yet.
struct Prepared {
    summary: FileSummary,
    delta: Portfolio,
    changes: Changes,
}

pub async fn csv(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(kind): Path<String>,
    Query(params): Params,
    body: Bytes,
) -> Reply<ImportReply> {
    caller.require(Family::DataWrite)?;
    let kind = Kind::parse(&kind).ok_or_else(|| {
        ApiError::bad_request(
            Some("kind".into()),
            format!("unknown CSV kind \"{kind}\" (customers, contacts, invoices or payments)"),
        )
    })?;
    let options = CsvOptions {
        mapping: mapping(&params)?,
        decimal: decimals(&params)?,
        default_terms: default_terms(&params)?,
        kind: Some(kind),
    };
    let name = format!("{}.csv", kind.name());
    run(
        &s,
        &caller,
        request(&params, Source::Csv(options), &name)?,
        body,
    )
    .await
}

pub async fn fec(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Params,
    body: Bytes,
) -> Reply<ImportReply> {
    caller.require(Family::DataWrite)?;
    only(&params, &["dry_run", "name", "default_terms"])?;
    let options = FecOptions {
        default_terms: default_terms(&params)?,
    };
    run(
        &s,
        &caller,
        request(&params, Source::Fec(options), "fec.txt")?,
        body,
    )
    .await
}

pub async fn camt053(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Params,
    body: Bytes,
) -> Reply<ImportReply> {
    caller.require(Family::DataWrite)?;
    only(&params, &["dry_run", "name"])?;
    run(
        &s,
        &caller,
        request(&params, Source::Camt053, "statement.xml")?,
        body,
    )
    .await
}

// ----- query parameters -------------------------------------------------------------------------

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Refuses a parameter the endpoint does not take (a `map` on a FEC would be silently lost).
fn only(params: &[(String, String)], known: &[&str]) -> Result<(), ApiError> {
    match params.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        Some((k, _)) => Err(ApiError::bad_request(
            Some(k.clone()),
            format!(
                "unknown parameter \"{k}\" for this import (expected {})",
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

fn request(
    params: &[(String, String)],
    source: Source,
    default: &str,
) -> Result<Request, ApiError> {
    let dry_run = match param(params, "dry_run") {
        None | Some("false" | "0" | "no") => false,
        Some("" | "true" | "1" | "yes") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                Some("dry_run".into()),
                format!("dry_run is true or false, not \"{other}\""),
            ));
        }
    };
    let name = param(params, "name").filter(|n| !n.trim().is_empty());
    Ok(Request {
        source,
        name: PathBuf::from(name.unwrap_or(default)),
        dry_run,
    })
}

/// `map=numero=id,client=customer` (as `--map`, repeatable) or `map={"numero":"id"}`.
fn mapping(params: &[(String, String)]) -> Result<Mapping, ApiError> {
    only(
        params,
        &["dry_run", "name", "default_terms", "map", "decimals"],
    )?;
    let mut texts = Vec::new();
    for (_, v) in params.iter().filter(|(k, _)| k == "map") {
        if v.trim_start().starts_with('{') {
            let pairs: std::collections::BTreeMap<String, String> = serde_json::from_str(v)
                .map_err(|e| {
                    ApiError::bad_request(
                        Some("map".into()),
                        format!("map: expected {{\"FILE_COLUMN\": \"COLUMN\", …}}: {e}"),
                    )
                })?;
            texts.extend(pairs.iter().map(|(from, to)| format!("{from}={to}")));
        } else {
            texts.push(v.clone());
        }
    }
    Mapping::parse_all(texts.iter().map(String::as_str))
        .map_err(|e| ApiError::bad_request(Some("map".into()), format!("map: {e}")))
}

fn decimals(params: &[(String, String)]) -> Result<DecimalStyle, ApiError> {
    match param(params, "decimals") {
        None | Some("auto") => Ok(DecimalStyle::Auto),
        Some("fr") => Ok(DecimalStyle::French),
        Some("en") => Ok(DecimalStyle::English),
        Some(other) => Err(ApiError::bad_request(
            Some("decimals".into()),
            format!("decimals is auto, fr or en, not \"{other}\""),
        )),
    }
}

fn default_terms(params: &[(String, String)]) -> Result<u32, ApiError> {
    param(params, "default_terms").map_or(Ok(DEFAULT_TERMS_DAYS), |v| {
        v.parse().map_err(|_| {
            ApiError::bad_request(
                Some("default_terms".into()),
                format!("default_terms is a number of days, not \"{v}\""),
            )
        })
    })
}

// ----- the import ---------------------------------------------------------------------------------

async fn run(s: &AppState, caller: &Caller, req: Request, body: Bytes) -> Reply<ImportReply> {
    let _one_at_a_time = IMPORTS.lock().await;
    let engine = s.engine.clone();
    let read = req.clone();
    let file = body.clone();
    let prepared = blocking(move || Ok(prepare(&engine, &read, &file))).await?;
    let prepared = match prepared {
        Ok(p) => p,
        Err(FileError::Daemon(e)) => return Err(e.into()),
        Err(e) if allowed(caller.role, Family::Read) => return Err(file_error(e, |_| true)),
        Err(e) => {
            // Told the file's own account (see `own_account`), computed off the async threads.
            let read = req.clone();
            let own = blocking(move || Ok(own_account(&read, &body))).await?;
            return Err(file_error(e, |_| true).restricted(Family::Read, own));
        }
    };
    let changed = !prepared.changes.is_empty();
    let written: Option<WriteReport> = if changed && !req.dry_run {
        let delta = prepared.delta;
        Some(durable(s, move |e| e.import(&delta)).await?)
    } else {
        None
    };
    Ok(Wire(ImportReply {
        dry_run: req.dry_run,
        changed,
        written: written.is_some(),
        file: prepared.summary,
        changes: prepared.changes,
        write: written,
    }))
}

/// Reads the store and merges the file into it: what would change, nothing written.
fn prepare(engine: &Engine, req: &Request, body: &[u8]) -> Result<Prepared, FileError> {
    let snap = snapshot::take(engine)?;
    merge_into(snap.portfolio, &snap.textless, req, body)
}

/// The account of a refused file for roles that may not read the data: the file merged into
/// an empty store, and its problems but those that name a record as unknown (on its own, a
/// file cannot tell an unknown customer or invoice from a stored one); `STORED_REFUSAL` when
/// none is left. It depends on the file only, never on what is stored.
fn own_account(req: &Request, body: &[u8]) -> ErrorBody {
    let own = match merge_into(Portfolio::default(), &[], req, body) {
        Err(e @ (FileError::File(_) | FileError::Merged(_))) => {
            Some(file_error(e, |p| !names_stored_record(&p.message)))
        }
        _ => None,
    };
    match own {
        Some(e) if !matches!(&e.body.details, ErrorDetails::File { problems, .. } if problems.is_empty()) => {
            e.body
        }
        _ => ErrorBody {
            details: ErrorDetails::File {
                line: None,
                problems: vec![FileProblem {
                    path: String::new(),
                    line: None,
                    field: None,
                    message: STORED_REFUSAL.into(),
                }],
                omitted: 0,
            },
            ..ErrorBody::new(
                ErrorCode::Invalid,
                format!("nothing imported: {STORED_REFUSAL}"),
                None,
            )
        },
    }
}

/// Whether a file's problem says that a record it names is unknown, or would be new (the
/// wordings of `relance_data`'s imports and validation): facts about the store.
fn names_stored_record(message: &str) -> bool {
    message.starts_with("unknown customer \"")
        || message.starts_with("unknown invoice \"")
        || message.contains("(required for a new invoice")
}

/// Merges the file into `base`: what would change, nothing written.
fn merge_into(
    base: Portfolio,
    textless: &[bool],
    req: &Request,
    body: &[u8],
) -> Result<Prepared, FileError> {
    let mut merge = Merge::with_textless(base, textless);
    let path = req.name.as_path();
    let named = FileSummary {
        name: path.display().to_string(),
        ..FileSummary::default()
    };
    let summary = match &req.source {
        Source::Csv(options) => {
            let (kind, rows) =
                csv_mapped::import_bytes(path, body, options, &mut merge, &mut |_, _| {})?;
            FileSummary {
                kind: Some(kind.name().into()),
                rows: Some(rows),
                ..named
            }
        }
        Source::Fec(options) => FileSummary {
            fec: Some(fec::import_bytes(
                path,
                body,
                options,
                &mut merge,
                &mut |_, _| {},
            )?),
            ..named
        },
        Source::Camt053 => FileSummary {
            camt053: Some(camt053::import_bytes(path, body, &mut merge)?),
            ..named
        },
    };
    let (merged, delta, changes) = merge.finish_with_delta();
    portfolio::validate(&merged).map_err(FileError::Merged)?;
    Ok(Prepared {
        summary,
        delta,
        changes,
    })
}

// ----- errors -------------------------------------------------------------------------------------

/// Why a file was not imported.
#[derive(Debug, thiserror::Error)]
enum FileError {
    /// The file itself (line, column).
    #[error(transparent)]
    File(#[from] PortfolioError),
    /// The portfolio the file would produce (record, field).
    #[error("the data would be invalid after this import: {0}")]
    Merged(PortfolioError),
    #[error(transparent)]
    Daemon(#[from] DaemonError),
}

/// The answer to a refused file, listing its problems that `keep` keeps.
fn file_error(e: FileError, keep: impl Fn(&Problem) -> bool) -> ApiError {
    let (e, merged) = match e {
        FileError::Daemon(e) => return e.into(),
        FileError::File(e) => (e, false),
        FileError::Merged(e) => (e, true),
    };
    let PortfolioError::Invalid { problems, omitted } = &e else {
        let message = format!("nothing imported: {e}");
        return ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Malformed, message, None);
    };
    let kept: Vec<&Problem> = problems.iter().filter(|p| keep(p)).collect();
    let text = if kept.len() == problems.len() {
        e.to_string()
    } else {
        kept.iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let message = if merged {
        format!("nothing imported: the data would be invalid after this import:\n{text}")
    } else {
        format!("nothing imported: {text}")
    };
    let list: Vec<FileProblem> = kept
        .iter()
        .map(|p| FileProblem {
            path: p.place.to_string(),
            line: match &p.place {
                Place::Csv { line, .. } => Some(*line),
                Place::Json { .. } => None,
            },
            field: p.field.clone(),
            message: p.message.clone(),
        })
        .collect();
    let (line, field) = list
        .first()
        .map_or((None, None), |p| (p.line, p.field.clone()));
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        body: ErrorBody {
            details: ErrorDetails::File {
                line,
                problems: list,
                omitted: *omitted,
            },
            ..ErrorBody::new(ErrorCode::Invalid, message, field)
        },
        restricted: None,
    }
}
