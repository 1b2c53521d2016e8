//! The file import endpoints: `POST /v1/import/csv/{kind}` (customers, contacts, invoices,
//! payments), `POST /v1/import/events` (the data folder's `events.csv`), `POST
//! /v1/import/fec` and `POST /v1/import/camt053`, whose body is the file's bytes (options are
//! query parameters: `dry_run`, `map`, `decimals`, `default_terms`, `name`), and `POST
//! /v1/import/batch`, whose body names several files of any of these formats
//! ([`BatchRequest`]) imported as one.
//!
//! An import is one batch of files: they are read in a fixed order (customers, contacts,
//! invoices, FEC, payments, events, bank statements), merged into the store's data
//! ([`snapshot`](super::super::snapshot)) with the import library (`relance_data::import`: the
//! same parsing, checks and idempotent merge as `relance import`), the merged portfolio is
//! validated, then what changed goes to
//! [`Engine::import_batch`](super::super::engine::Engine::import_batch): one transaction with
//! the batch's record (`imports` tree, under the SHA-256 of its files and options),
//! acknowledged once durable. The same batch sent again is recognised by that digest
//! (`already_imported`, nothing applied). A problem in a file is a 422 naming its line and
//! column (or field and record), and nothing is written; a dry run stops before the write.
//! Imports are serialized among themselves, so two uploads of one file cannot both add its
//! payments. A role that may not read the data is told the files' own account of a refusal
//! (the files merged into an empty store), which says nothing about what is stored.
//!
//! Replies are an [`ImportReply`] (one file) or a [`BatchReply`], a refused file an
//! [`ErrorBody`] with the file's problems (all in [`models`](super::models)). Handlers
//! translate HTTP into these library calls; they must not hold import rules.

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
    BatchFile, BatchReply, BatchRequest, ErrorBody, ErrorCode, ErrorDetails, FileProblem,
    FileSummary, ImportRecord, ImportReply, Wire,
};
use super::{AppState, Reply, blocking, durable};
use relance_core::domain::Portfolio;
use relance_core::fact_order::FileLine;
use relance_data::import::csv_mapped::{self, CsvOptions, Kind, Mapping};
use relance_data::import::fec::{self, FecOptions};
use relance_data::import::{Changes, DEFAULT_TERMS_DAYS, DecimalStyle, Merge, camt053, events_csv};
use relance_data::portfolio::{self, Place, PortfolioError, Problem};

/// The largest file accepted (a year's FEC of a mid-sized company is a few tens of MB).
pub const MAX_FILE_BYTES: usize = 64 << 20;

/// The largest batch body accepted (its files as JSON text or base64).
pub const MAX_BATCH_BYTES: usize = 256 << 20;

/// Query parameters, in order (`map` may be repeated).
type Params = Query<Vec<(String, String)>>;

/// One import at a time: the base an import merges into must not change under it through
/// another import.
static IMPORTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What kind of file a body is.
#[derive(Debug, Clone)]
enum Source {
    Csv(CsvOptions),
    /// The data folder's `events.csv`.
    Events,
    Fec(FecOptions),
    Camt053,
}

impl Source {
    /// Where the file comes in a batch: customers, contacts and invoices before the facts
    /// that name them (a FEC holds both).
    fn rank(&self, name: &std::path::Path) -> u8 {
        match self {
            Source::Csv(options) => match csv_mapped::kind_of(name, options) {
                Kind::Customers => 0,
                Kind::Contacts => 1,
                Kind::Invoices => 2,
                Kind::Payments => 4,
            },
            Source::Fec(_) => 3,
            Source::Events => 5,
            Source::Camt053 => 6,
        }
    }
}

/// One file of an import.
#[derive(Debug, Clone)]
struct FileRequest {
    source: Source,
    /// The file name problems are reported against.
    name: PathBuf,
    body: Bytes,
}

/// An import: one file (the per-format endpoints) or several (`/v1/import/batch`), read in
/// [`Source::rank`] order and written as one atomic batch.
#[derive(Debug, Clone)]
struct Batch {
    files: Vec<FileRequest>,
    dry_run: bool,
}

impl Batch {
    fn new(mut files: Vec<FileRequest>, dry_run: bool) -> Batch {
        files.sort_by_cached_key(|f| (f.source.rank(&f.name), f.name.clone()));
        Batch { files, dry_run }
    }

    /// The batch's identity: SHA-256 over every file's format, options and bytes (not its
    /// name), in reading order. The same statement sent again has the same digest.
    fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for f in &self.files {
            h.update(format!("{:?}", f.source).as_bytes());
            h.update((f.body.len() as u64).to_be_bytes());
            h.update(&f.body);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Files read and merged, not written yet.
struct Prepared {
    summaries: Vec<FileSummary>,
    delta: Portfolio,
    /// Where each event of `delta` was read (file kind, place in the batch, line).
    origins: Vec<FileLine>,
    changes: Changes,
}

/// What an import did, for either reply.
struct Outcome {
    dry_run: bool,
    changed: bool,
    written: bool,
    already_imported: Option<ImportRecord>,
    batch: Option<ImportRecord>,
    files: Vec<FileSummary>,
    changes: Changes,
    write: Option<WriteReport>,
}

impl Outcome {
    fn one_file(mut self) -> ImportReply {
        ImportReply {
            dry_run: self.dry_run,
            changed: self.changed,
            written: self.written,
            already_imported: self.already_imported,
            batch: self.batch,
            file: self.files.pop().unwrap_or_default(),
            changes: self.changes,
            write: self.write,
        }
    }

    fn batch(self) -> BatchReply {
        BatchReply {
            dry_run: self.dry_run,
            changed: self.changed,
            written: self.written,
            already_imported: self.already_imported,
            batch: self.batch,
            files: self.files,
            changes: self.changes,
            write: self.write,
        }
    }
}

/// Imports a CSV file (customers, contacts, invoices or payments); the body is the file.
#[utoipa::path(post, path = "/v1/import/csv/{kind}", tag = "imports",
    params(
        ("kind" = String, Path, description = "`customers`, `contacts`, `invoices` or `payments`"),
        ("dry_run" = Option<bool>, Query, description = "Say what would change, write nothing"),("name" = Option<String>, Query, description = "The file name problems are reported against"),("default_terms" = Option<u32>, Query, description = "Payment terms in days when neither the file nor the customer gives a due date"),
        ("map" = Option<String>, Query, description = "`FILE_COLUMN=COLUMN`: maps a column of the file to a documented one (repeatable)"),
        ("decimals" = Option<String>, Query, description = "`auto` (default), `fr` or `en`"),
    ),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses(
        (status = 200, description = "What the file held and changes, and what was written", body = ImportReply),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state (`conflict`)", body = ErrorBody),
        (status = 422, description = "A problem in the file (`invalid`, with `line` and `problems`); nothing written", body = ErrorBody),
    ))]
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
        rates: Some(std::sync::Arc::new(s.engine.rates().clone())),
    };
    let name = format!("{}.csv", kind.name());
    one_file(&s, &caller, &params, Source::Csv(options), &name, body).await
}

/// Imports the data folder's `events.csv`; the body is the file.
#[utoipa::path(post, path = "/v1/import/events", tag = "imports",
    params(("dry_run" = Option<bool>, Query, description = "Say what would change, write nothing"),("name" = Option<String>, Query, description = "The file name problems are reported against"),),
    request_body(content = String, content_type = "text/csv", description = "The events CSV file"),
    responses(
        (status = 200, description = "What the file held and changes, and what was written", body = ImportReply),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state (`conflict`)", body = ErrorBody),
        (status = 422, description = "A problem in the file (`invalid`, with `line` and `problems`); nothing written", body = ErrorBody),
    ))]
pub async fn events(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Params,
    body: Bytes,
) -> Reply<ImportReply> {
    caller.require(Family::DataWrite)?;
    only(&params, &["dry_run", "name"])?;
    one_file(&s, &caller, &params, Source::Events, "events.csv", body).await
}

/// Imports a FEC (the French general-ledger export, UTF-8 or Windows-1252); the body is the file.
#[utoipa::path(post, path = "/v1/import/fec", tag = "imports",
    params(("dry_run" = Option<bool>, Query, description = "Say what would change, write nothing"),("name" = Option<String>, Query, description = "The file name problems are reported against"),("default_terms" = Option<u32>, Query, description = "Payment terms in days when neither the file nor the customer gives a due date"),),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The FEC file"),
    responses(
        (status = 200, description = "What the file held and changes, and what was written", body = ImportReply),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state (`conflict`)", body = ErrorBody),
        (status = 422, description = "A problem in the file (`invalid`, with `line` and `problems`); nothing written", body = ErrorBody),
    ))]
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
    one_file(&s, &caller, &params, Source::Fec(options), "fec.txt", body).await
}

/// Imports a camt.053 bank statement; the body is the XML file.
#[utoipa::path(post, path = "/v1/import/camt053", tag = "imports",
    params(("dry_run" = Option<bool>, Query, description = "Say what would change, write nothing"),("name" = Option<String>, Query, description = "The file name problems are reported against"),),
    request_body(content = String, content_type = "application/xml", description = "The camt.053 statement"),
    responses(
        (status = 200, description = "What the file held and changes, and what was written", body = ImportReply),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state (`conflict`)", body = ErrorBody),
        (status = 422, description = "A problem in the file (`invalid`, with `line` and `problems`); nothing written", body = ErrorBody),
    ))]
pub async fn camt053(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Params,
    body: Bytes,
) -> Reply<ImportReply> {
    caller.require(Family::DataWrite)?;
    only(&params, &["dry_run", "name"])?;
    one_file(&s, &caller, &params, Source::Camt053, "statement.xml", body).await
}

/// `POST /v1/import/batch`: the files of a [`BatchRequest`], one atomic import.
#[utoipa::path(post, path = "/v1/import/batch", tag = "imports",
    summary = "Imports several files (CSV, events, FEC, camt.053) as one atomic batch",
    request_body(content = BatchRequest),
    responses(
        (status = 200, description = "What the files held and change, and what was written", body = BatchReply),
        (status = 400, description = "Malformed request (`malformed`, `field` names what)", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state (`conflict`)", body = ErrorBody),
        (status = 422, description = "A problem in a file (`invalid`, with `line` and `problems`); nothing written", body = ErrorBody),
    ))]
pub async fn batch(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Params,
    body: Bytes,
) -> Reply<BatchReply> {
    caller.require(Family::DataWrite)?;
    only(&params, &[])?;
    let request: BatchRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::Malformed,
            format!("nothing imported: the body is not a batch ({{\"files\": [{{\"name\", \"format\", \"text\"}}, …]}}): {e}"),
            None,
        )
    })?;
    if request.files.is_empty() {
        return Err(ApiError::bad_request(
            Some("files".into()),
            "nothing imported: the batch has no file",
        ));
    }
    let mut files = request
        .files
        .into_iter()
        .enumerate()
        .map(|(i, f)| batch_file(i, f))
        .collect::<Result<Vec<_>, _>>()?;
    // The import notes judge contractual rates against the daemon's table.
    let rates = std::sync::Arc::new(s.engine.rates().clone());
    for f in &mut files {
        if let Source::Csv(options) = &mut f.source {
            options.rates = Some(rates.clone());
        }
    }
    Ok(Wire(
        run(&s, &caller, Batch::new(files, request.dry_run))
            .await?
            .batch(),
    ))
}

/// One file of a batch request, its options checked (the field named as `files[i].field`).
fn batch_file(i: usize, f: BatchFile) -> Result<FileRequest, ApiError> {
    let field = |name: &str| Some(format!("files[{i}].{name}"));
    let body = match (f.text, f.base64) {
        (Some(text), None) => Bytes::from(text),
        (None, Some(b64)) => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map(Bytes::from)
                .map_err(|e| ApiError::bad_request(field("base64"), format!("not base64: {e}")))?
        }
        _ => {
            return Err(ApiError::bad_request(
                field("text"),
                "give the file as \"text\" or as \"base64\" (exactly one)",
            ));
        }
    };
    if body.len() > MAX_FILE_BYTES {
        return Err(ApiError::bad_request(
            field("text"),
            format!("the file is larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    let csv_only = |name: &str, set: bool| {
        if set && f.format != "csv" {
            Err(ApiError::bad_request(
                field(name),
                format!("{name} applies to CSV files only, not to {}", f.format),
            ))
        } else {
            Ok(())
        }
    };
    csv_only("kind", f.kind.is_some())?;
    csv_only("map", !f.map.is_empty())?;
    csv_only("decimals", f.decimals.is_some())?;
    let terms = f.default_terms.unwrap_or(DEFAULT_TERMS_DAYS);
    let source = match f.format.as_str() {
        "csv" => {
            let kind = match &f.kind {
                None => None,
                Some(k) => Some(Kind::parse(k).ok_or_else(|| {
                    ApiError::bad_request(
                        field("kind"),
                        format!(
                            "unknown CSV kind \"{k}\" (customers, contacts, invoices or payments)"
                        ),
                    )
                })?),
            };
            let texts: Vec<String> = f
                .map
                .iter()
                .map(|(from, to)| format!("{from}={to}"))
                .collect();
            Source::Csv(CsvOptions {
                mapping: Mapping::parse_all(texts.iter().map(String::as_str))
                    .map_err(|e| ApiError::bad_request(field("map"), format!("map: {e}")))?,
                decimal: decimal_style(f.decimals.as_deref(), field("decimals"))?,
                default_terms: terms,
                kind,
                rates: None,
            })
        }
        "events" | "fec" | "camt053" if f.default_terms.is_some() && f.format != "fec" => {
            return Err(ApiError::bad_request(
                field("default_terms"),
                format!(
                    "default_terms applies to CSV and FEC files only, not to {}",
                    f.format
                ),
            ));
        }
        "events" => Source::Events,
        "fec" => Source::Fec(FecOptions {
            default_terms: terms,
        }),
        "camt053" => Source::Camt053,
        other => {
            return Err(ApiError::bad_request(
                field("format"),
                format!("unknown format \"{other}\" (csv, events, fec or camt053)"),
            ));
        }
    };
    if f.name.trim().is_empty() {
        return Err(ApiError::bad_request(field("name"), "a file needs a name"));
    }
    Ok(FileRequest {
        source,
        name: PathBuf::from(f.name),
        body,
    })
}

/// The per-format endpoints: the body is the one file.
async fn one_file(
    s: &AppState,
    caller: &Caller,
    params: &[(String, String)],
    source: Source,
    default_name: &str,
    body: Bytes,
) -> Reply<ImportReply> {
    let name = param(params, "name").filter(|n| !n.trim().is_empty());
    let file = FileRequest {
        source,
        name: PathBuf::from(name.unwrap_or(default_name)),
        body,
    };
    let batch = Batch::new(vec![file], dry_run(params)?);
    Ok(Wire(run(s, caller, batch).await?.one_file()))
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

fn dry_run(params: &[(String, String)]) -> Result<bool, ApiError> {
    match param(params, "dry_run") {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("" | "true" | "1" | "yes") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            Some("dry_run".into()),
            format!("dry_run is true or false, not \"{other}\""),
        )),
    }
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
    decimal_style(param(params, "decimals"), Some("decimals".into()))
}

fn decimal_style(text: Option<&str>, field: Option<String>) -> Result<DecimalStyle, ApiError> {
    match text {
        None | Some("auto") => Ok(DecimalStyle::Auto),
        Some("fr") => Ok(DecimalStyle::French),
        Some("en") => Ok(DecimalStyle::English),
        Some(other) => Err(ApiError::bad_request(
            field,
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

async fn run(s: &AppState, caller: &Caller, batch: Batch) -> Result<Outcome, ApiError> {
    let _one_at_a_time = IMPORTS.lock().await;
    let engine = s.engine.clone();
    let read = batch.clone();
    let digest = batch.digest();
    let sha = digest.clone();
    let (before, prepared) =
        blocking(move || Ok((engine.imported(&sha)?, prepare(&engine, &read)))).await?;
    let prepared = match prepared {
        Ok(p) => p,
        Err(FileError::Daemon(e)) => return Err(e.into()),
        Err(e) if allowed(caller.role, Family::Read) => return Err(file_error(e, |_| true)),
        Err(e) => {
            // Told the files' own account (see `own_account`), computed off the async threads.
            let read = batch.clone();
            let own = blocking(move || Ok(own_account(&read))).await?;
            return Err(file_error(e, |_| true).restricted(Family::Read, own));
        }
    };
    let changed = !prepared.changes.is_empty();
    let mut outcome = Outcome {
        dry_run: batch.dry_run,
        changed,
        written: false,
        already_imported: before,
        batch: None,
        files: prepared.summaries,
        changes: prepared.changes,
        write: None,
    };
    if changed && !batch.dry_run && outcome.already_imported.is_none() {
        let (delta, origins) = (prepared.delta, prepared.origins);
        let record = ImportRecord {
            batch: 0,
            sha256: digest,
            recorded_on: s.engine.today(),
            files: batch
                .files
                .iter()
                .map(|f| f.name.display().to_string())
                .collect(),
            customers: delta.customers.len(),
            invoices: delta.invoices.len(),
            events: delta.events.len(),
        };
        let who = caller.name.clone();
        match durable(s, move |e| {
            e.import_batch(&delta, &origins, Some(&who), record)
        })
        .await?
        {
            Ok((report, record)) => {
                outcome.written = true;
                outcome.write = Some(report);
                outcome.batch = Some(record);
            }
            Err(before) => {
                outcome.changed = false;
                outcome.already_imported = Some(before);
            }
        }
    }
    Ok(outcome)
}

/// Reads the store and merges the files into it: what would change, nothing written.
fn prepare(engine: &Engine, batch: &Batch) -> Result<Prepared, FileError> {
    let snap = snapshot::take(engine)?;
    merge_into(snap.portfolio, &snap.textless, batch)
}

/// The account of a refused file for roles that may not read the data: the file merged into
/// an empty store, and its problems but those that name a record as unknown (on its own, a
/// file cannot tell an unknown customer or invoice from a stored one); `STORED_REFUSAL` when
/// none is left. It depends on the file only, never on what is stored.
fn own_account(batch: &Batch) -> ErrorBody {
    let own = match merge_into(Portfolio::default(), &[], batch) {
        Err(e @ (FileError::File(_) | FileError::Merged(_))) => {
            Some(file_error(e, |p| !p.about_stored_data))
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

/// Merges the batch's files into `base`, in order: what would change, nothing written.
fn merge_into(base: Portfolio, textless: &[bool], batch: &Batch) -> Result<Prepared, FileError> {
    let mut merge = Merge::with_textless(base, textless);
    let mut summaries = Vec::with_capacity(batch.files.len());
    for f in &batch.files {
        summaries.push(merge_file(&mut merge, f)?);
    }
    let finished = merge.finish_with_delta();
    portfolio::validate(&finished.merged).map_err(FileError::Merged)?;
    Ok(Prepared {
        summaries,
        delta: finished.delta,
        origins: finished.origins,
        changes: finished.changes,
    })
}

/// Reads one file into `merge`: what it held.
fn merge_file(merge: &mut Merge, f: &FileRequest) -> Result<FileSummary, FileError> {
    let path = f.name.as_path();
    let body = &f.body;
    let named = FileSummary {
        name: path.display().to_string(),
        ..FileSummary::default()
    };
    Ok(match &f.source {
        Source::Csv(options) => {
            let (kind, rows) =
                csv_mapped::import_bytes(path, body, options, merge, &mut |_, _| {})?;
            FileSummary {
                kind: Some(kind.name().into()),
                rows: Some(rows),
                ..named
            }
        }
        Source::Events => FileSummary {
            kind: Some("events".into()),
            rows: Some(events_csv::import_bytes(path, body.to_vec(), merge)?),
            ..named
        },
        Source::Fec(options) => FileSummary {
            fec: Some(fec::import_bytes(
                path,
                body,
                options,
                merge,
                &mut |_, _| {},
            )?),
            ..named
        },
        Source::Camt053 => FileSummary {
            camt053: Some(camt053::import_bytes(path, body, merge)?),
            ..named
        },
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
