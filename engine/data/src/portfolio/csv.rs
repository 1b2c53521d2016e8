//! The CSV data folder of `relance plan --data DIR`: `customers.csv`, `invoices.csv` and the
//! optional `payments.csv` and `events.csv` (columns in `docs/DATA.md`).
//!
//! This module owns reading those files into a [`Portfolio`]: header checks (missing, unknown
//! or duplicate columns, with a "did you mean"), cell parsing (empty means absent; booleans
//! `true/false/yes/no/1/0`; ISO dates; amounts with a `.` or, when there is no `.`, a French
//! decimal comma; the street lines of an address cell separated by line breaks or ` | `), `,`
//! or `;` separators (guessed from the header line) and the per-type columns of events. Files are streamed one record at a time into the portfolio: the work is linear in
//! the size of the data. Errors name the file, line and column
//! (`data/invoices.csv:14: column "due": invalid date "2026-02-30" (expected YYYY-MM-DD)`), and
//! validation problems name the line of the record. It must not decide `from` (the command line
//! does), nor interpret the data beyond its shape and [`validate`](super::validate)'s invariants.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use ::csv::{ErrorKind as CsvErrorKind, Reader, ReaderBuilder, StringRecord, Trim};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::scalar::{parse_bool, parse_date, parse_days, parse_decimal, parse_integer};
use super::suggest::{did_you_mean, hint};
use super::validate::{Locate, Problems, check_into};
use super::{Place, PortfolioError, Problem};
use relance_core::domain::{
    Contact, Customer, Event, EventKind, Invoice, Portfolio, PostalAddress, Segment,
};
use relance_core::fact_order::{Arrival, FactKey, FileKind, FileLine};
use relance_core::payment::{PaymentDetails, PaymentMeans, ReversalReason};
use relance_core::terms::{PaymentTerms, TermsError};

const CUSTOMERS: &str = "customers.csv";
const INVOICES: &str = "invoices.csv";
const PAYMENTS: &str = "payments.csv";
const EVENTS: &str = "events.csv";

/// The documented columns (docs/DATA.md); importers and writers use the same list.
pub const CUSTOMER_COLUMNS: &[&str] = &[
    "id",
    "name",
    "segment",
    "risk_score",
    "credit_insured",
    "language",
    "payment_terms_days",
    "tags",
    "scenario",
    "payment_terms",
    "insurer",
    "credit_cover",
    "credit_limit",
    "late_interest_rate",
];
/// The documented columns (docs/DATA.md); importers and writers use the same list.
pub const INVOICE_COLUMNS: &[&str] = &[
    "id",
    "customer",
    "amount",
    "currency",
    "issued",
    "due",
    "outstanding",
    "po_number",
    "dunning_step",
    "dunning_date",
    "dunning_attempts",
    "catch_up",
    "payment_terms",
    "delivered_on",
    "payment_means",
    "late_interest_rate",
    "installments",
];
/// The documented columns (docs/DATA.md); importers and writers use the same list.
pub const PAYMENT_COLUMNS: &[&str] = &[
    "date",
    "invoice",
    "amount",
    "reference",
    "means",
    "payer_iban",
    "end_to_end_id",
    "remittance_date",
];
const EVENT_COLUMNS: &[&str] = &[
    "date",
    "type",
    "invoice",
    "customer",
    "code",
    "amount",
    "promised_date",
    "target_date",
    "risk_score",
    "outcome",
    "role",
    "comment",
    "reference",
    "tag",
    "reason",
    "scenario",
    "step",
    "by",
    "because",
    "procedure",
    "judgment_on",
    "published_on",
    "to",
    "means",
    "payer_iban",
    "end_to_end_id",
    "remittance_date",
    "payment_date",
];

/// The columns of `events.csv` each event type reads, as (type, required, optional), besides
/// `date` and `type`, `comment` (allowed on every row, kept by dispute_opened, dispute_resolved
/// and write_off) and `customer` (allowed on invoice events, where it must name the invoice's
/// customer).
const EVENT_TYPES: &[(&str, &[&str], &[&str])] = &[
    (
        "payment",
        &["invoice", "amount"],
        &[
            "reference",
            "means",
            "payer_iban",
            "end_to_end_id",
            "remittance_date",
        ],
    ),
    (
        "dispute_opened",
        &["invoice", "code"],
        &["amount", "target_date"],
    ),
    ("dispute_resolved", &["invoice"], &[]),
    ("promise_made", &["invoice", "promised_date"], &["amount"]),
    ("credit_note", &["invoice", "amount"], &[]),
    ("write_off", &["invoice"], &[]),
    ("risk_changed", &["customer", "risk_score"], &[]),
    ("task_outcome", &["invoice", "outcome"], &["promised_date"]),
    ("contact_bounced", &["customer", "role"], &[]),
    ("tag_added", &["customer", "tag"], &[]),
    ("tag_removed", &["customer", "tag"], &[]),
    ("write_off_reversed", &["invoice"], &["reason"]),
    ("payment_failed", &["invoice", "reason"], &[]),
    (
        "scenario_changed",
        &["invoice", "scenario", "by", "because"],
        &["step"],
    ),
    (
        "insolvency_opened",
        &["customer", "procedure", "judgment_on"],
        &["published_on"],
    ),
    ("insolvency_closed", &["customer"], &["reason"]),
    ("due_date_extended", &["invoice", "to"], &[]),
    (
        "payment_reversed",
        &["invoice", "amount"],
        &["reason", "reference", "payment_date"],
    ),
];

/// Reads and validates the data folder `dir`.
///
/// `customers.csv` and `invoices.csv` are required, `payments.csv` and `events.csv` optional.
/// The events of both optional files are merged and stably sorted by date (on the same day,
/// `payments.csv` rows come first, then `events.csv` rows, each in file order). `from` is left
/// `None`: the caller sets it.
pub fn load_dir(dir: &Path) -> Result<Portfolio, PortfolioError> {
    let mut places = CsvPlaces {
        customers: dir.join(CUSTOMERS),
        invoices: dir.join(INVOICES),
        event_files: [dir.join(PAYMENTS), dir.join(EVENTS)],
        customer_lines: Vec::new(),
        invoice_lines: Vec::new(),
        event_origins: Vec::new(),
    };
    // The invoice file, the biggest, is read on its own thread while the others are read
    // here; errors are reported in file order, as if the files were read one by one.
    let (customers, invoices, events) = std::thread::scope(|scope| {
        let invoices = scope.spawn(|| {
            let (mut lines, mut undated) = (Vec::new(), Vec::new());
            read_invoices(Sheet::open(&places.invoices)?, &mut lines, &mut undated)
                .map(|read| (read, lines, undated))
        });
        let mut lines = Vec::new();
        let customers = Sheet::open(&places.customers)
            .and_then(|sheet| read_customers(sheet, &mut lines))
            .map(|read| (read, lines));
        let events = read_event_files(&places.event_files);
        let invoices = invoices
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (customers, invoices, events)
    });
    let (mut customers, customer_lines) = customers?;
    let policies = crate::insurers::load(dir).map_err(|e| {
        PortfolioError::one(Problem::new(
            csv_place(
                &dir.join(crate::insurers::INSURERS_FILE),
                e.line.map(|l| l as u64),
                "",
            ),
            None,
            e.message,
        ))
    })?;
    crate::insurers::attach(&mut customers, &policies);
    let (mut invoices, invoice_lines, undated) = invoices?;
    date_by_customer(
        &mut invoices,
        &undated,
        &customers,
        &places.invoices,
        &invoice_lines,
    )?;
    let (events, stated_customers) = events?;
    places.customer_lines = customer_lines;
    places.invoice_lines = invoice_lines;
    let mut problems = Problems::new();
    check_stated_customers(
        &invoices,
        &events,
        &stated_customers,
        &places,
        &mut problems,
    );
    // The canonical order of a day's facts (`relance_core::fact_order`): payments.csv before
    // events.csv, then line order.
    let mut keyed: Vec<(FactKey, (Event, Origin))> = events
        .into_iter()
        .enumerate()
        .map(|(i, (event, origin))| {
            let payment = matches!(event.kind, EventKind::Payment { .. });
            (origin.key(event.date, payment, i as u64), (event, origin))
        })
        .collect();
    keyed.sort_by_key(|(key, _)| *key);
    let (events, origins): (Vec<Event>, Vec<Origin>) = keyed.into_iter().map(|(_, e)| e).unzip();
    places.event_origins = origins;
    let portfolio = Portfolio {
        from: None,
        customers,
        invoices,
        events,
    };
    check_into(&portfolio, &places, &mut problems);
    problems.finish()?;
    Ok(portfolio)
}

/// Gives each invoice of `undated` (no due date, no terms of its own) the due date of its
/// customer's terms; without them the `due` cell is missing, as before terms existed.
fn date_by_customer(
    invoices: &mut [Invoice],
    undated: &[usize],
    customers: &[Customer],
    file: &Path,
    lines: &[u64],
) -> Result<(), PortfolioError> {
    if undated.is_empty() {
        return Ok(());
    }
    let terms: HashMap<&str, PaymentTerms> = customers
        .iter()
        .filter_map(|c| c.terms().map(|t| (c.id.as_str(), t)))
        .collect();
    for &index in undated {
        let invoice = &mut invoices[index];
        let error = |column: &str, message: String| {
            PortfolioError::one(Problem::new(
                csv_place(file, lines.get(index).copied(), ""),
                Some(column),
                message,
            ))
        };
        let Some(t) = terms.get(invoice.customer.as_str()) else {
            return Err(error(
                "due",
                "missing value (required when neither the invoice nor its customer has payment \
                 terms)"
                    .to_string(),
            ));
        };
        invoice.due = t
            .due_date(invoice.issued, invoice.delivered_on)
            .map_err(|e| error("due", format!("from the customer's terms: {e}")))?;
    }
    Ok(())
}

/// A `payment_terms` cell (`net 30`, `45 days end of month` …, see `relance_core::terms`).
fn parse_terms(text: &str) -> Result<PaymentTerms, String> {
    text.parse().map_err(|e: TermsError| e.to_string())
}

/// The events of `payments.csv` then `events.csv`, each with where it was read.
type ReadEvents = Vec<(Event, Origin)>;

/// One row of an `events.csv` file read on its own ([`read_events_bytes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub event: Event,
    /// The row's line in the file.
    pub line: u64,
    /// The customer an invoice event's `customer` cell states, if any.
    pub customer: Option<String>,
}

/// The rows of an `events.csv` file's bytes (an HTTP body, a file given to `relance import
/// events`), with the columns and per-type rules of the data folder. Only the shape is checked
/// here: whether the invoices and customers exist is the importer's to check.
pub fn read_events_bytes(path: &Path, bytes: Vec<u8>) -> Result<Vec<EventRow>, PortfolioError> {
    let mut events = Vec::new();
    let mut stated = Vec::new();
    read_events(Sheet::from_bytes(path, bytes)?, &mut events, &mut stated)?;
    let mut stated = stated.into_iter().peekable();
    Ok(events
        .into_iter()
        .enumerate()
        .map(|(i, (event, origin))| EventRow {
            event,
            line: origin.line,
            customer: stated.next_if(|(at, _)| *at == i).map(|(_, c)| c),
        })
        .collect())
}

/// The events of `payments.csv` then `events.csv` (both optional), in file order, with the
/// customers `events.csv` names.
fn read_event_files(
    files: &[PathBuf; 2],
) -> Result<(ReadEvents, Vec<StatedCustomer>), PortfolioError> {
    let mut events = Vec::new();
    if let Some(sheet) = Sheet::open_optional(&files[0])? {
        read_payments(sheet, &mut events)?;
    }
    let mut stated_customers = Vec::new();
    if let Some(sheet) = Sheet::open_optional(&files[1])? {
        read_events(sheet, &mut events, &mut stated_customers)?;
    }
    Ok((events, stated_customers))
}

/// Where an event was read: `payments.csv` (file 0) or `events.csv` (file 1), and the line.
#[derive(Debug, Clone, Copy)]
struct Origin {
    file: u8,
    line: u64,
}

impl Origin {
    /// The fact's key in the canonical order of its day (the folder is one import of two
    /// files, `payments.csv` then `events.csv`; a payment row of `events.csv` ranks with the
    /// payments, after those of `payments.csv`).
    fn key(self, date: NaiveDate, payment: bool, receipt: u64) -> FactKey {
        let kind = if self.file == 0 {
            FileKind::Payments
        } else {
            FileKind::Events
        };
        let at = FileLine {
            kind,
            file: u32::from(self.file),
            line: self.line,
        };
        FactKey::new(
            date,
            Arrival::File {
                import: 0,
                at,
                payment,
            },
            receipt,
        )
    }
}

/// The file and line of every record, for validation messages.
struct CsvPlaces {
    customers: PathBuf,
    invoices: PathBuf,
    event_files: [PathBuf; 2],
    customer_lines: Vec<u64>,
    invoice_lines: Vec<u64>,
    event_origins: Vec<Origin>,
}

fn csv_place(file: &Path, line: Option<u64>, label: &str) -> Place {
    Place::Csv {
        file: file.to_path_buf(),
        line: line.unwrap_or(0),
        label: (!label.trim().is_empty()).then(|| label.to_string()),
    }
}

impl Locate for CsvPlaces {
    fn customer(&self, index: usize, id: &str) -> Place {
        csv_place(&self.customers, self.customer_lines.get(index).copied(), id)
    }
    fn invoice(&self, index: usize, id: &str) -> Place {
        csv_place(&self.invoices, self.invoice_lines.get(index).copied(), id)
    }
    fn event(&self, index: usize, type_name: &str) -> Place {
        let origin = self.event_origins.get(index);
        let file = &self.event_files[origin.map_or(1, |o| usize::from(o.file))];
        csv_place(file, origin.map(|o| o.line), type_name)
    }
    fn address_field(&self, role: &str, part: &str) -> String {
        format!("{role}_{part}")
    }
}

/// An invoice event of `events.csv` whose `customer` cell was filled: (the event's index before
/// sorting, the customer written).
type StatedCustomer = (usize, String);

/// A `customer` cell on an invoice event must name the invoice's customer.
fn check_stated_customers(
    invoices: &[Invoice],
    events: &[(Event, Origin)],
    stated: &[StatedCustomer],
    places: &CsvPlaces,
    problems: &mut Problems,
) {
    if stated.is_empty() {
        return;
    }
    let owners: HashMap<&str, &str> = invoices
        .iter()
        .map(|i| (i.id.as_str(), i.customer.as_str()))
        .collect();
    for (index, customer) in stated {
        let Some((event, origin)) = events.get(*index) else {
            continue;
        };
        let Some(invoice) = event.kind.invoice() else {
            continue;
        };
        // An unknown invoice is reported by validation.
        if let Some(&owner) = owners
            .get(invoice)
            .filter(|&&owner| owner != customer.as_str())
        {
            problems.push(|_| {
                Problem::new(
                    csv_place(
                        &places.event_files[usize::from(origin.file)],
                        Some(origin.line),
                        event.kind.type_name(),
                    ),
                    Some("customer"),
                    format!(
                        "invoice \"{invoice}\" belongs to customer \"{owner}\", not \"{customer}\""
                    ),
                )
            });
        }
    }
}

fn read_customers(mut sheet: Sheet, lines: &mut Vec<u64>) -> Result<Vec<Customer>, PortfolioError> {
    let contact_columns = sheet.check_columns(CUSTOMER_COLUMNS, &["id"], true)?;
    let col = |name: &str| sheet.index(name);
    let payment_terms = col("payment_terms");
    let (insurer, credit_cover, credit_limit) =
        (col("insurer"), col("credit_cover"), col("credit_limit"));
    let late_interest_rate = col("late_interest_rate");
    let (id, name, segment, risk_score, credit_insured, language, terms, tags, scenario) = (
        col("id"),
        col("name"),
        col("segment"),
        col("risk_score"),
        col("credit_insured"),
        col("language"),
        col("payment_terms_days"),
        col("tags"),
        col("scenario"),
    );
    let mut customers = Vec::new();
    let mut record = StringRecord::new();
    while let Some(line) = sheet.next_record(&mut record)? {
        let row = Row::new(&sheet, &record, line);
        let mut customer = Customer::new(row.required(id, "id")?);
        customer.name = row.text(name).map(str::to_string);
        if let Some(text) = row.text(segment) {
            customer.segment = Segment::parse(text).ok_or_else(|| {
                row.error(
                    "segment",
                    format!("unknown segment \"{text}\" (expected b2b, b2c or public)"),
                )
            })?;
        }
        if let Some(score) = row.parse(risk_score, "risk_score", parse_integer)? {
            customer.risk_score = score;
        }
        if let Some(insured) = row.parse(credit_insured, "credit_insured", parse_bool)? {
            customer.credit_insured = insured;
        }
        if let Some(language) = row.text(language) {
            customer.language = language.to_string();
        }
        customer.payment_terms_days = row.parse(terms, "payment_terms_days", parse_days)?;
        customer.payment_terms = row.parse(payment_terms, "payment_terms", parse_terms)?;
        if let Some(text) = row.text(tags) {
            customer.tags = text
                .split(';')
                .map(str::trim)
                .filter(|tag| !tag.is_empty())
                .map(str::to_string)
                .collect();
        }
        customer.scenario = row.text(scenario).map(str::to_string);
        customer.credit_cover = super::cover::read(
            row.text(insurer),
            row.text(credit_cover),
            row.parse(credit_limit, "credit_limit", parse_amount)?,
        )
        .map_err(|(field, message)| row.error(field, message))?;
        customer.late_interest_rate =
            row.parse(late_interest_rate, "late_interest_rate", parse_rate)?;
        for column in &contact_columns {
            if let Some(value) = row.text(Some(column.index)) {
                let contact = customer.contacts.entry(column.role.clone()).or_default();
                column.field.set(contact, value);
            }
        }
        customers.push(customer);
        lines.push(line);
    }
    Ok(customers)
}

/// Reads `invoices.csv`; the indexes of the invoices with neither due date nor terms of their
/// own go to `undated` (their due date is the customer's terms', set by [`date_by_customer`]).
fn read_invoices(
    mut sheet: Sheet,
    lines: &mut Vec<u64>,
    undated: &mut Vec<usize>,
) -> Result<Vec<Invoice>, PortfolioError> {
    sheet.check_columns(
        INVOICE_COLUMNS,
        &["id", "customer", "amount", "issued"],
        false,
    )?;
    let (terms, delivered_on) = (sheet.index("payment_terms"), sheet.index("delivered_on"));
    let means = sheet.index("payment_means");
    let rate = sheet.index("late_interest_rate");
    let plan = sheet.index("installments");
    let col = |name: &str| sheet.index(name);
    let (id, customer, amount, currency, issued, due, outstanding, po_number) = (
        col("id"),
        col("customer"),
        col("amount"),
        col("currency"),
        col("issued"),
        col("due"),
        col("outstanding"),
        col("po_number"),
    );
    let standing = [
        col("dunning_step"),
        col("dunning_date"),
        col("dunning_attempts"),
        col("catch_up"),
    ];
    let mut invoices = Vec::new();
    let mut record = StringRecord::new();
    while let Some(line) = sheet.next_record(&mut record)? {
        let row = Row::new(&sheet, &record, line);
        let issued = row.required_date(issued, "issued")?;
        let payment_terms = row.parse(terms, "payment_terms", parse_terms)?;
        let delivered_on = row.parse(delivered_on, "delivered_on", parse_date)?;
        let amount = row.required_amount(amount, "amount")?;
        let installments = row
            .parse(plan, "installments", |t| {
                relance_core::domain::Installment::parse_plan(t, amount)
            })?
            .unwrap_or_default();
        let due = match (row.text(due), payment_terms) {
            (Some(_), _) => row.required_date(due, "due")?,
            // Without a due date, an invoice with installments is due on the last one.
            (None, _) if !installments.is_empty() => installments[installments.len() - 1].due,
            (None, Some(t)) => t
                .due_date(issued, delivered_on)
                .map_err(|e| row.error("payment_terms", e.to_string()))?,
            (None, None) => {
                // The customer's terms decide, once customers.csv is read (load_dir).
                undated.push(invoices.len());
                issued
            }
        };
        invoices.push(Invoice {
            id: row.required(id, "id")?.to_string(),
            customer: row.required(customer, "customer")?.to_string(),
            amount,
            currency: row.text(currency).unwrap_or("EUR").to_string(),
            issued,
            due,
            payment_terms,
            delivered_on,
            outstanding: row.parse(outstanding, "outstanding", parse_amount)?,
            po_number: row.text(po_number).map(str::to_string),
            dunning: relance_core::domain::Standing {
                step: row.text(standing[0]).map(str::to_string),
                date: row.parse(standing[1], "dunning_date", parse_date)?,
                attempts: row.parse(standing[2], "dunning_attempts", parse_days)?,
                catch_up: row.parse(standing[3], "catch_up", str::parse)?,
            },
            payment_means: row.parse(means, "payment_means", PaymentMeans::parse)?,
            late_interest_rate: row.parse(rate, "late_interest_rate", parse_rate)?,
            installments: {
                relance_core::domain::Installment::check_plan_opt(&installments, amount, due)
                    .map_err(|e| row.error("installments", e))?;
                installments
            },
        });
        lines.push(line);
    }
    Ok(invoices)
}

fn read_payments(
    mut sheet: Sheet,
    events: &mut Vec<(Event, Origin)>,
) -> Result<(), PortfolioError> {
    sheet.check_columns(PAYMENT_COLUMNS, &["date", "invoice", "amount"], false)?;
    let (date, invoice, amount, reference) = (
        sheet.index("date"),
        sheet.index("invoice"),
        sheet.index("amount"),
        sheet.index("reference"),
    );
    let (means, iban, end_to_end, remitted) = (
        sheet.index("means"),
        sheet.index("payer_iban"),
        sheet.index("end_to_end_id"),
        sheet.index("remittance_date"),
    );
    let mut record = StringRecord::new();
    while let Some(line) = sheet.next_record(&mut record)? {
        let row = Row::new(&sheet, &record, line);
        let event = Event {
            date: row.required_date(date, "date")?,
            kind: EventKind::Payment {
                invoice: row.required(invoice, "invoice")?.to_string(),
                amount: row.required_amount(amount, "amount")?,
                reference: row.text(reference).map(str::to_string),
                details: PaymentDetails {
                    means: row.parse(means, "means", PaymentMeans::parse)?,
                    payer_iban: row.text(iban).map(str::to_string),
                    end_to_end_id: row.text(end_to_end).map(str::to_string),
                    remittance_date: row.parse(remitted, "remittance_date", parse_date)?,
                },
            },
        };
        events.push((event, Origin { file: 0, line }));
    }
    Ok(())
}

fn read_events(
    mut sheet: Sheet,
    events: &mut Vec<(Event, Origin)>,
    stated_customers: &mut Vec<StatedCustomer>,
) -> Result<(), PortfolioError> {
    sheet.check_columns(EVENT_COLUMNS, &["date", "type"], false)?;
    // The index of every known column (None when absent), in EVENT_COLUMNS order.
    let columns: Vec<Option<usize>> = EVENT_COLUMNS.iter().map(|name| sheet.index(name)).collect();
    let col = |name: &str| {
        EVENT_COLUMNS
            .iter()
            .position(|known| *known == name)
            .and_then(|position| columns[position])
    };
    let (date_col, type_col) = (col("date"), col("type"));
    let mut record = StringRecord::new();
    while let Some(line) = sheet.next_record(&mut record)? {
        let row = Row::new(&sheet, &record, line);
        let date = row.required_date(date_col, "date")?;
        let type_name = row.required(type_col, "type")?;
        let Some(&(type_name, required, optional)) =
            EVENT_TYPES.iter().find(|(name, _, _)| *name == type_name)
        else {
            let mut budget = usize::MAX;
            let suggestion = did_you_mean(
                type_name,
                EVENT_TYPES.iter().map(|(n, _, _)| *n),
                &mut budget,
            );
            return Err(row.error(
                "type",
                format!(
                    "unknown event type \"{type_name}\"{}; expected one of {}",
                    hint(suggestion),
                    EVENT_TYPES
                        .iter()
                        .map(|(n, _, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let is_invoice_event = required.first() == Some(&"invoice");
        // Refuse a filled cell the type does not read: it would be silently lost.
        for (name, index) in EVENT_COLUMNS.iter().zip(&columns) {
            let used = matches!(*name, "date" | "type" | "comment")
                || (*name == "customer" && is_invoice_event)
                || required.contains(name)
                || optional.contains(name);
            if !used && row.text(*index).is_some() {
                return Err(row.error(
                    name,
                    format!("a {type_name} event has no {name}: leave the cell empty"),
                ));
            }
        }
        let need = |name: &str| {
            row.text(col(name))
                .ok_or_else(|| row.error(name, format!("a {type_name} event needs a value here")))
        };
        let text = |name: &str| row.text(col(name)).map(str::to_string);
        let amount = |name: &str| row.parse(col(name), name, parse_amount);
        let date_of = |name: &str| row.parse(col(name), name, parse_date);
        let required_amount =
            |name: &str| need(name).and_then(|t| parse_amount(t).map_err(|m| row.error(name, m)));
        let invoice = || need("invoice").map(str::to_string);
        let customer = || need("customer").map(str::to_string);
        let kind = match type_name {
            "payment" => EventKind::Payment {
                invoice: invoice()?,
                amount: required_amount("amount")?,
                reference: text("reference"),
                details: PaymentDetails {
                    means: row.parse(col("means"), "means", PaymentMeans::parse)?,
                    payer_iban: text("payer_iban"),
                    end_to_end_id: text("end_to_end_id"),
                    remittance_date: date_of("remittance_date")?,
                },
            },
            "dispute_opened" => EventKind::DisputeOpened {
                invoice: invoice()?,
                code: need("code")?.to_string(),
                amount: amount("amount")?,
                target_date: date_of("target_date")?,
                comment: text("comment"),
            },
            "dispute_resolved" => EventKind::DisputeResolved {
                invoice: invoice()?,
                comment: text("comment"),
            },
            "promise_made" => EventKind::PromiseMade {
                invoice: invoice()?,
                promised_date: need("promised_date")
                    .and_then(|t| parse_date(t).map_err(|m| row.error("promised_date", m)))?,
                amount: amount("amount")?,
            },
            "credit_note" => EventKind::CreditNote {
                invoice: invoice()?,
                amount: required_amount("amount")?,
            },
            "write_off" => EventKind::WriteOff {
                invoice: invoice()?,
                reason: text("comment"),
            },
            "risk_changed" => EventKind::RiskChanged {
                customer: customer()?,
                risk_score: need("risk_score")
                    .and_then(|t| parse_integer(t).map_err(|m| row.error("risk_score", m)))?,
            },
            "task_outcome" => EventKind::TaskOutcome {
                invoice: invoice()?,
                outcome: need("outcome")?.to_string(),
                promised_date: date_of("promised_date")?,
            },
            "tag_added" => EventKind::TagAdded {
                customer: customer()?,
                tag: need("tag")?.to_string(),
            },
            "tag_removed" => EventKind::TagRemoved {
                customer: customer()?,
                tag: need("tag")?.to_string(),
            },
            "write_off_reversed" => EventKind::WriteOffReversed {
                invoice: invoice()?,
                reason: text("reason"),
            },
            "payment_failed" => EventKind::PaymentFailed {
                invoice: invoice()?,
                reason: need("reason")?.to_string(),
            },
            "scenario_changed" => EventKind::ScenarioChanged {
                invoice: invoice()?,
                scenario: need("scenario")?.to_string(),
                step: text("step"),
                by: need("by")?.to_string(),
                because: need("because")?.to_string(),
            },
            "insolvency_opened" => EventKind::InsolvencyOpened {
                customer: customer()?,
                procedure: need("procedure").and_then(|t| {
                    super::cover::procedure(t).map_err(|m| row.error("procedure", m))
                })?,
                judgment_on: need("judgment_on")
                    .and_then(|t| parse_date(t).map_err(|m| row.error("judgment_on", m)))?,
                published_on: date_of("published_on")?,
            },
            "insolvency_closed" => EventKind::InsolvencyClosed {
                customer: customer()?,
                reason: text("reason"),
            },
            "due_date_extended" => EventKind::DueDateExtended {
                invoice: invoice()?,
                to: need("to").and_then(|t| parse_date(t).map_err(|m| row.error("to", m)))?,
            },
            "payment_reversed" => EventKind::PaymentReversed {
                invoice: invoice()?,
                amount: required_amount("amount")?,
                reason: row
                    .parse(col("reason"), "reason", ReversalReason::parse)?
                    .unwrap_or_default(),
                reference: text("reference"),
                payment_date: date_of("payment_date")?,
            },
            _ => EventKind::ContactBounced {
                customer: customer()?,
                role: need("role")?.to_string(),
            },
        };
        if let Some(customer) = text("customer").filter(|_| is_invoice_event) {
            stated_customers.push((events.len(), customer));
        }
        events.push((Event { date, kind }, Origin { file: 1, line }));
    }
    Ok(())
}

/// A yearly rate in percent (`12.5`, or `12,5`), 0 to 100.
fn parse_rate(text: &str) -> Result<Decimal, String> {
    super::scalar::yearly_rate(parse_decimal(text, true)?)
}

/// An amount cell: a `.` decimal, or a French decimal comma when there is no `.`.
fn parse_amount(text: &str) -> Result<Decimal, String> {
    parse_decimal(text, true)
}

/// Which field of a [`Contact`] a contact column fills: the suffix of `<role>_email`,
/// `<role>_phone`, `<role>_name`, `<role>_address` (street lines), `<role>_postcode`,
/// `<role>_city` or `<role>_country`.
#[derive(Debug, Clone, Copy)]
enum ContactField {
    Email,
    Phone,
    Name,
    Address,
    Postcode,
    City,
    Country,
}

/// The suffixes of contact columns, as the unknown-column message lists them.
pub const CONTACT_FIELDS: &[&str] = &[
    "email", "phone", "name", "address", "postcode", "city", "country",
];

/// The street lines of an address cell: separated by line breaks (inside a quoted cell) or by
/// ` | `, each trimmed, empty ones dropped.
pub fn address_lines(text: &str) -> Vec<String> {
    text.split('\n')
        .flat_map(|line| line.split(" | "))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// The cell of an address's street lines, as the writer puts it: lines joined by `\n`.
pub fn address_cell(lines: &[String]) -> String {
    lines.join("\n")
}

impl ContactField {
    fn parse(suffix: &str) -> Option<ContactField> {
        match suffix {
            "email" => Some(ContactField::Email),
            "phone" => Some(ContactField::Phone),
            "name" => Some(ContactField::Name),
            "address" => Some(ContactField::Address),
            "postcode" => Some(ContactField::Postcode),
            "city" => Some(ContactField::City),
            "country" => Some(ContactField::Country),
            _ => None,
        }
    }

    fn set(self, contact: &mut Contact, value: &str) {
        let slot = match self {
            ContactField::Email => &mut contact.email,
            ContactField::Phone => &mut contact.phone,
            ContactField::Name => &mut contact.name,
            ContactField::Address
            | ContactField::Postcode
            | ContactField::City
            | ContactField::Country => {
                let address = contact.address.get_or_insert_with(PostalAddress::default);
                match self {
                    ContactField::Address => address.lines = address_lines(value),
                    ContactField::Postcode => address.postcode = Some(value.to_string()),
                    ContactField::City => address.city = Some(value.to_string()),
                    _ => address.country = Some(value.to_string()),
                }
                if address.is_empty() {
                    contact.address = None;
                }
                return;
            }
        };
        *slot = Some(value.to_string());
    }
}

/// A `<role>_<field>` column of `customers.csv`.
struct ContactColumn {
    index: usize,
    role: String,
    field: ContactField,
}

/// An open CSV file, its header read and checked.
struct Sheet {
    path: PathBuf,
    reader: Reader<Box<dyn Read + Send>>,
    /// Header names, trimmed and lower-cased; empty for an unnamed column.
    columns: Vec<String>,
    /// Columns without a header name: their cells must stay empty.
    unnamed: Vec<usize>,
}

impl Sheet {
    /// Opens a required file.
    fn open(path: &Path) -> Result<Sheet, PortfolioError> {
        Sheet::open_optional(path)?.ok_or_else(|| PortfolioError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(ErrorKind::NotFound, "required file not found"),
        })
    }

    /// Opens a file, or `None` when it does not exist.
    fn open_optional(path: &Path) -> Result<Option<Sheet>, PortfolioError> {
        let io = |source| PortfolioError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io(error)),
        };
        let delimiter = sniff_delimiter(&mut file).map_err(io)?;
        Sheet::from_reader(path, delimiter, Box::new(file)).map(Some)
    }

    /// A file's bytes already in memory (an HTTP body); `path` names it in problems. A UTF-8
    /// byte-order mark is skipped with the header; CRLF line ends are read as the files' are.
    fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Sheet, PortfolioError> {
        let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let delimiter = delimiter_of(first_line);
        Sheet::from_reader(path, delimiter, Box::new(std::io::Cursor::new(bytes)))
    }

    fn from_reader(
        path: &Path,
        delimiter: u8,
        input: Box<dyn Read + Send>,
    ) -> Result<Sheet, PortfolioError> {
        // Lines end at `\n`; the `\r` of a CRLF file is trimmed with the cell. (With the default
        // CRLF terminator the csv crate under-counts lines in CRLF files, BurntSushi/rust-csv#395,
        // and errors would name the wrong line.)
        let mut reader = ReaderBuilder::new()
            .delimiter(delimiter)
            .terminator(::csv::Terminator::Any(b'\n'))
            .trim(Trim::All)
            .has_headers(true)
            .buffer_capacity(1 << 16)
            .from_reader(input);
        let header = reader
            .headers()
            .map_err(|error| csv_error(path, error))?
            .clone();
        let columns: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let name = if i == 0 {
                    name.trim_start_matches('\u{feff}')
                } else {
                    name
                };
                name.trim().to_ascii_lowercase()
            })
            .collect();
        let unnamed = (0..columns.len())
            .filter(|&i| columns[i].is_empty())
            .collect();
        Ok(Sheet {
            path: path.to_path_buf(),
            reader,
            columns,
            unnamed,
        })
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column == name)
    }

    /// An error about the header line.
    fn header_error(&self, column: &str, message: String) -> PortfolioError {
        PortfolioError::one(Problem::new(
            csv_place(&self.path, Some(1), ""),
            Some(column),
            message,
        ))
    }

    /// Refuses duplicate and unknown columns and requires `required`; with `contacts`, returns
    /// the `<role>_<field>` contact columns.
    fn check_columns(
        &self,
        known: &[&str],
        required: &[&str],
        contacts: bool,
    ) -> Result<Vec<ContactColumn>, PortfolioError> {
        let mut contact_columns = Vec::new();
        for (index, name) in self.columns.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            if self.columns[..index].contains(name) {
                return Err(self.header_error(name, "duplicate column".to_string()));
            }
            if known.contains(&name.as_str()) {
                continue;
            }
            let contact = name
                .rsplit_once('_')
                .filter(|(role, _)| contacts && !role.is_empty())
                .and_then(|(role, suffix)| Some((role, ContactField::parse(suffix)?)));
            if let Some((role, field)) = contact {
                contact_columns.push(ContactColumn {
                    index,
                    role: role.to_string(),
                    field,
                });
                continue;
            }
            let mut budget = usize::MAX;
            let suggestion = did_you_mean(name, known.iter().copied(), &mut budget);
            let contact_hint = if contacts {
                ", or <role>_email, <role>_phone, <role>_name, <role>_address, <role>_postcode, <role>_city, <role>_country"
            } else {
                ""
            };
            return Err(self.header_error(
                name,
                format!(
                    "unknown column{}; expected {}{contact_hint}",
                    hint(suggestion),
                    known.join(", ")
                ),
            ));
        }
        if let Some(missing) = required.iter().find(|name| self.index(name).is_none()) {
            return Err(self.header_error(missing, "missing column (required)".to_string()));
        }
        Ok(contact_columns)
    }

    /// Reads the next record into `record`; its line number, or `None` at the end.
    fn next_record(&mut self, record: &mut StringRecord) -> Result<Option<u64>, PortfolioError> {
        match self.reader.read_record(record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let line = record.position().map_or(0, ::csv::Position::line);
                if let Some(&index) = self
                    .unnamed
                    .iter()
                    .find(|&&i| record.get(i).is_some_and(|cell| !cell.is_empty()))
                {
                    return Err(PortfolioError::one(Problem::new(
                        csv_place(&self.path, Some(line), ""),
                        None,
                        format!(
                            "column {} has no name in the header but holds \"{}\"",
                            index + 1,
                            record.get(index).unwrap_or_default()
                        ),
                    )));
                }
                Ok(Some(line))
            }
            Err(error) => Err(csv_error(&self.path, error)),
        }
    }
}

/// `;` when the header line has more semicolons than commas (a French spreadsheet export),
/// else `,`. Leaves the file at its start.
fn sniff_delimiter(file: &mut File) -> std::io::Result<u8> {
    let mut first_line = Vec::new();
    BufReader::new(&mut *file).read_until(b'\n', &mut first_line)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(delimiter_of(&first_line))
}

/// The separator a header line uses: `;` when it has more semicolons than commas.
fn delimiter_of(first_line: &[u8]) -> u8 {
    let count = |byte: u8| first_line.iter().filter(|&&b| b == byte).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

fn csv_error(path: &Path, error: ::csv::Error) -> PortfolioError {
    let line = error.position().map(::csv::Position::line);
    let message = match error.into_kind() {
        CsvErrorKind::Io(source) => {
            return PortfolioError::Io {
                path: path.to_path_buf(),
                source,
            };
        }
        CsvErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields like the header, found {len}"),
        CsvErrorKind::Utf8 { .. } => "invalid UTF-8 (save the file as UTF-8)".to_string(),
        other => format!("{other:?}"),
    };
    PortfolioError::one(Problem::new(csv_place(path, line, ""), None, message))
}

/// One record being read, with what its errors need to name.
struct Row<'s> {
    sheet: &'s Sheet,
    record: &'s StringRecord,
    line: u64,
}

impl<'s> Row<'s> {
    fn new(sheet: &'s Sheet, record: &'s StringRecord, line: u64) -> Row<'s> {
        Row {
            sheet,
            record,
            line,
        }
    }

    fn error(&self, column: &str, message: impl Into<String>) -> PortfolioError {
        PortfolioError::one(Problem::new(
            csv_place(&self.sheet.path, Some(self.line), ""),
            Some(column),
            message,
        ))
    }

    /// The cell of column `index`, `None` when the column is absent or the cell empty.
    fn text(&self, index: Option<usize>) -> Option<&'s str> {
        index
            .and_then(|i| self.record.get(i))
            .filter(|cell| !cell.is_empty())
    }

    fn required(&self, index: Option<usize>, column: &str) -> Result<&'s str, PortfolioError> {
        self.text(index)
            .ok_or_else(|| self.error(column, "missing value (required)"))
    }

    /// The cell parsed by `parse`, `None` when empty; a parse failure names the column.
    fn parse<T>(
        &self,
        index: Option<usize>,
        column: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, PortfolioError> {
        self.text(index)
            .map(|text| parse(text).map_err(|message| self.error(column, message)))
            .transpose()
    }

    fn required_date(
        &self,
        index: Option<usize>,
        column: &str,
    ) -> Result<NaiveDate, PortfolioError> {
        parse_date(self.required(index, column)?).map_err(|message| self.error(column, message))
    }

    fn required_amount(
        &self,
        index: Option<usize>,
        column: &str,
    ) -> Result<Decimal, PortfolioError> {
        parse_amount(self.required(index, column)?).map_err(|message| self.error(column, message))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests-data/portfolio")
            .join(name)
    }

    fn d(text: &str) -> NaiveDate {
        text.parse().expect("valid test date")
    }

    fn dec(text: &str) -> Decimal {
        text.parse().expect("valid test decimal")
    }

    /// A fresh directory under the system temp dir holding `files`.
    fn temp_dir(test: &str, files: &[(&str, &str)]) -> PathBuf {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "relance-portfolio-{test}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (name, content) in files {
            std::fs::write(dir.join(name), content).expect("write fixture");
        }
        dir
    }

    /// The error message for a fixture folder, with the folder prefix removed.
    fn error_in(name: &str) -> String {
        let dir = fixture(name);
        let message = load_dir(&dir).expect_err(name).to_string();
        message.replace(&format!("{}/", dir.display()), "")
    }

    /// The error message for files written to a temp dir, with the folder prefix removed.
    fn error_with(test: &str, files: &[(&str, &str)]) -> String {
        let dir = temp_dir(test, files);
        let message = load_dir(&dir).expect_err(test).to_string();
        let _ = std::fs::remove_dir_all(&dir);
        message.replace(&format!("{}/", dir.display()), "")
    }

    const CUSTOMERS_OK: &str = "id,name\nACME,Acme\nBETA,Beta\n";

    #[test]
    fn reads_the_changes_after_the_start() {
        let files = [
            ("customers.csv", CUSTOMERS_OK),
            ("invoices.csv", INVOICES_OK),
            (
                "events.csv",
                "date,type,invoice,customer,tag,reason,scenario,step,by,because\n\
                 2026-02-01,tag_added,,ACME,key-account,,,,,\n\
                 2026-02-02,tag_removed,,ACME,key-account,,,,,\n\
                 2026-02-03,payment_failed,F-1,,,INSUFFICIENT_FUNDS,,,,\n\
                 2026-02-04,write_off_reversed,F-2,,,booked twice,,,,\n\
                 2026-02-05,scenario_changed,F-1,,,,strict,notice,marie,key account\n\
                 2026-02-06,scenario_changed,F-2,,,,strict,,paul,policy\n",
            ),
        ];
        let dir = temp_dir("changes", &files);
        let p = load_dir(&dir).expect("valid");
        let _ = std::fs::remove_dir_all(&dir);
        let kinds: Vec<EventKind> = p.events.into_iter().map(|e| e.kind).collect();
        let s = |t: &str| t.to_string();
        assert_eq!(
            kinds,
            [
                EventKind::TagAdded {
                    customer: s("ACME"),
                    tag: s("key-account")
                },
                EventKind::TagRemoved {
                    customer: s("ACME"),
                    tag: s("key-account")
                },
                EventKind::PaymentFailed {
                    invoice: s("F-1"),
                    reason: s("INSUFFICIENT_FUNDS")
                },
                EventKind::WriteOffReversed {
                    invoice: s("F-2"),
                    reason: Some(s("booked twice"))
                },
                EventKind::ScenarioChanged {
                    invoice: s("F-1"),
                    scenario: s("strict"),
                    step: Some(s("notice")),
                    by: s("marie"),
                    because: s("key account"),
                },
                EventKind::ScenarioChanged {
                    invoice: s("F-2"),
                    scenario: s("strict"),
                    step: None,
                    by: s("paul"),
                    because: s("policy"),
                },
            ]
        );
        let refused = |row: &str| {
            error_with(
                "changes-bad",
                &[
                    ("customers.csv", CUSTOMERS_OK),
                    ("invoices.csv", INVOICES_OK),
                    (
                        "events.csv",
                        &format!(
                            "date,type,invoice,customer,tag,reason,scenario,step,by,because\n{row}\n"
                        ),
                    ),
                ],
            )
        };
        assert_eq!(
            refused("2026-02-05,scenario_changed,F-1,,,,strict,,marie,"),
            "events.csv:2: column \"because\": a scenario_changed event needs a value here"
        );
        assert_eq!(
            refused("2026-02-03,payment_failed,F-1,,,,,,,"),
            "events.csv:2: column \"reason\": a payment_failed event needs a value here"
        );
        assert_eq!(
            refused("2026-02-01,tag_added,,ACME,,,,,,"),
            "events.csv:2: column \"tag\": a tag_added event needs a value here"
        );
        assert_eq!(
            refused("2026-02-01,tag_added,,ACME,vip,late,,,,"),
            "events.csv:2: column \"reason\": a tag_added event has no reason: leave the cell empty"
        );
    }
    const INVOICES_OK: &str = "id,customer,amount,issued,due\n\
                               F-1,ACME,100.00,2026-01-01,2026-01-31\n\
                               F-2,BETA,50,2026-01-05,2026-02-04\n";

    #[test]
    fn loads_the_valid_fixture() {
        let p = load_dir(&fixture("valid")).expect("valid fixture");
        assert_eq!(p.from, None);
        let ids: Vec<&str> = p.customers.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["ACME", "BETA", "CARL"]);
        let acme = &p.customers[0];
        assert_eq!(acme.name.as_deref(), Some("Acme SA"));
        assert_eq!(acme.segment, Segment::B2b);
        assert_eq!(acme.risk_score, 20);
        assert!(!acme.credit_insured);
        assert_eq!(acme.tags, ["strategic", "export"]);
        assert_eq!(acme.payment_terms_days, Some(45));
        assert_eq!(acme.contacts.len(), 2);
        let accounting = &acme.contacts["accounting"];
        assert_eq!(accounting.email.as_deref(), Some("compta@acme.test"));
        assert_eq!(accounting.phone.as_deref(), Some("+33 1 23 45 67 89"));
        assert_eq!(accounting.name.as_deref(), Some("Anne Dupont"));
        // A cell of lines only (the older form): postcode and city are not guessed.
        assert_eq!(
            accounting.address,
            Some(PostalAddress::from_text("1 rue de la Paix\n75002 Paris"))
        );
        assert_eq!(
            acme.contacts["sales"].email.as_deref(),
            Some("sales@example.test")
        );
        let beta = &p.customers[1];
        assert_eq!(beta.segment, Segment::B2c);
        assert!(beta.credit_insured);
        assert_eq!(beta.language, "en");
        assert_eq!(beta.scenario.as_deref(), Some("gentle"));
        assert!(
            beta.contacts.is_empty(),
            "empty contact cells add no contact"
        );
        let carl = &p.customers[2];
        assert_eq!(carl.segment, Segment::Public);
        assert_eq!((carl.risk_score, carl.credit_insured), (75, true));
        assert_eq!(carl.language, "fr");
        assert!(carl.tags.is_empty());
        assert_eq!(carl.payment_terms_days, None);

        assert_eq!(p.invoices.len(), 4);
        let f1 = &p.invoices[0];
        assert_eq!(f1.id, "F-2026-0001");
        assert_eq!(f1.amount, dec("1200.00"));
        assert_eq!(f1.currency, "EUR");
        assert_eq!((f1.issued, f1.due), (d("2026-01-01"), d("2026-01-31")));
        assert_eq!(f1.po_number.as_deref(), Some("PO-77"));
        assert_eq!(f1.outstanding, None);
        // French decimal comma, empty currency defaults to EUR.
        assert_eq!(p.invoices[1].amount, dec("845.50"));
        assert_eq!(p.invoices[1].outstanding, Some(dec("400.25")));
        assert_eq!(p.invoices[2].currency, "USD");

        let summary: Vec<(NaiveDate, &str)> = p
            .events
            .iter()
            .map(|e| (e.date, e.kind.type_name()))
            .collect();
        assert_eq!(
            summary,
            [
                (d("2026-02-05"), "dispute_opened"),
                (d("2026-02-10"), "payment"),
                (d("2026-02-10"), "promise_made"),
                (d("2026-02-20"), "dispute_resolved"),
                (d("2026-02-25"), "risk_changed"),
                (d("2026-03-01"), "payment"),
                (d("2026-03-02"), "task_outcome"),
                (d("2026-03-03"), "credit_note"),
                (d("2026-03-04"), "write_off"),
                (d("2026-03-05"), "contact_bounced"),
            ]
        );
        assert_eq!(
            p.events[0].kind,
            EventKind::DisputeOpened {
                invoice: "F-2026-0001".into(),
                code: "logistics/missing-delivery-note".into(),
                amount: Some(dec("200.00")),
                target_date: Some(d("2026-02-28")),
                comment: Some("Bon de livraison manquant".into()),
            }
        );
        assert_eq!(
            p.events[1].kind,
            EventKind::Payment {
                invoice: "F-2026-0002".into(),
                amount: dec("400.25"),
                reference: Some("VIR-0042".into()),
                details: Default::default(),
            }
        );
        assert_eq!(
            p.events[2].kind,
            EventKind::PromiseMade {
                invoice: "F-2026-0003".into(),
                promised_date: d("2026-03-15"),
                amount: None,
            }
        );
        assert_eq!(
            p.events[4].kind,
            EventKind::RiskChanged {
                customer: "CARL".into(),
                risk_score: 85,
            }
        );
        assert_eq!(
            p.events[8].kind,
            EventKind::WriteOff {
                invoice: "F-2026-0004".into(),
                reason: Some("Montant trop faible".into()),
            }
        );
    }

    #[test]
    fn loads_a_semicolon_export_with_decimal_commas() {
        let p = load_dir(&fixture("valid-semicolon")).expect("valid fixture");
        assert_eq!(p.customers[0].tags, ["a", "b"]);
        assert_eq!(p.invoices[0].amount, dec("1234.56"));
        assert_eq!(
            p.events[0].kind,
            EventKind::Payment {
                invoice: "F-1".into(),
                amount: dec("100.5"),
                reference: None,
                details: Default::default(),
            }
        );
    }

    #[test]
    fn minimal_folder_with_required_columns_only() {
        let dir = temp_dir(
            "minimal",
            &[
                ("customers.csv", "id\nACME\n"),
                ("invoices.csv", INVOICES_OK),
            ],
        );
        let error = load_dir(&dir).expect_err("BETA is unknown").to_string();
        assert!(
            error.ends_with("invoices.csv:3 (F-2): column \"customer\": unknown customer \"BETA\""),
            "{error}"
        );
        std::fs::write(dir.join("customers.csv"), CUSTOMERS_OK).expect("write");
        let p = load_dir(&dir).expect("valid");
        assert_eq!(p.customers[0], {
            let mut acme = Customer::new("ACME");
            acme.name = Some("Acme".into());
            acme
        });
        assert!(p.events.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn broken_fixtures_name_file_line_and_column() {
        let cases = [
            (
                "bad-date",
                "invoices.csv:4: column \"due\": invalid date \"2026-02-30\" (expected YYYY-MM-DD)",
            ),
            (
                "unknown-customer",
                "invoices.csv:3 (F-2): column \"customer\": unknown customer \"ACM\" (did you mean \"ACME\"?)",
            ),
            (
                "missing-column",
                // Without a `due` column, the customer's terms would give the due date; this
                // fixture's customers have none.
                "invoices.csv:2: column \"due\": missing value (required when neither the \
                 invoice nor its customer has payment terms)",
            ),
            (
                "unknown-column",
                "customers.csv:1: column \"riskscore\": unknown column (did you mean \"risk_score\"?); \
                 expected id, name, segment, risk_score, credit_insured, language, payment_terms_days, \
                 tags, scenario, payment_terms, insurer, credit_cover, credit_limit, late_interest_rate, or <role>_email, <role>_phone, <role>_name, <role>_address, <role>_postcode, <role>_city, <role>_country",
            ),
            (
                "bad-event",
                "events.csv:3: column \"amount\": a payment event needs a value here",
            ),
            (
                "ragged-row",
                "invoices.csv:3: expected 5 fields like the header, found 4",
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(error_in(name), expected, "{name}");
        }
    }

    #[test]
    fn a_missing_required_file_is_an_io_error() {
        let dir = fixture("missing-file");
        let error = load_dir(&dir).expect_err("no invoices.csv");
        assert!(
            matches!(error, PortfolioError::Io { ref path, .. } if path.ends_with("invoices.csv"))
        );
        assert!(
            error
                .to_string()
                .ends_with("invoices.csv: required file not found")
        );
    }

    #[test]
    fn validation_problems_name_the_line() {
        let message = error_in("invalid-records");
        assert_eq!(
            message,
            [
                "customers.csv:3 (ACME): column \"id\": duplicate customer id \"ACME\" (first defined at customers.csv:2 (ACME))",
                "invoices.csv:2 (F-1): column \"amount\": must be positive, found -10.00",
                "invoices.csv:3 (F-2): column \"currency\": must be three upper-case letters (ISO 4217) such as \"EUR\", found \"eur\"",
                "invoices.csv:3 (F-2): column \"due\": due date 2026-01-01 is before the issue date 2026-01-05",
                "invoices.csv:4 (F-3): column \"outstanding\": 60 exceeds the invoice amount 50",
                "payments.csv:2 (payment): column \"invoice\": unknown invoice \"F-9\" (did you mean \"F-1\"?)",
                "payments.csv:3 (payment): column \"amount\": must not be negative, found -5",
            ]
            .join("\n")
        );
    }

    #[test]
    fn address_columns() {
        let header = "id,legal_address,legal_postcode,legal_city,legal_country";
        let dir = temp_dir(
            "address",
            &[
                (
                    "customers.csv",
                    &format!(
                        "{header}\nACME,Service juridique | 1 rue de la Paix,75002,Paris,FR\nBETA,\"Beta GmbH\nHauptstr. 1\",10115,Berlin,DE\n"
                    ),
                ),
                ("invoices.csv", "id,customer,amount,issued,due\n"),
            ],
        );
        let p = load_dir(&dir).expect("valid");
        let _ = std::fs::remove_dir_all(&dir);
        let legal = |i: usize| p.customers[i].contacts["legal"].address.clone();
        assert_eq!(
            legal(0),
            Some(PostalAddress {
                lines: vec!["Service juridique".into(), "1 rue de la Paix".into()],
                postcode: Some("75002".into()),
                city: Some("Paris".into()),
                country: Some("FR".into()),
            })
        );
        assert_eq!(
            legal(1).map(|a| a.lines),
            Some(vec!["Beta GmbH".to_string(), "Hauptstr. 1".to_string()])
        );
        assert_eq!(
            error_with(
                "country",
                &[
                    (
                        "customers.csv",
                        &format!("{header}\nACME,1 rue A,75001,Paris,fr\n")
                    ),
                    ("invoices.csv", "id,customer,amount,issued,due\n"),
                ],
            ),
            "customers.csv:2 (ACME): column \"legal_country\": must be two upper-case letters (ISO 3166-1 alpha-2) such as \"FR\", found \"fr\""
        );
    }

    #[test]
    fn cell_errors() {
        let customers = |row: &str| {
            error_with(
                "cells",
                &[
                    (
                        "customers.csv",
                        &format!(
                            "id,segment,risk_score,credit_insured,payment_terms_days\n{row}\n"
                        ),
                    ),
                    ("invoices.csv", "id,customer,amount,issued,due\n"),
                ],
            )
        };
        assert_eq!(
            customers("A,b2x,,,"),
            "customers.csv:2: column \"segment\": unknown segment \"b2x\" (expected b2b, b2c or public)"
        );
        assert_eq!(
            customers("A,,high,,"),
            "customers.csv:2: column \"risk_score\": invalid integer \"high\" (expected a whole number such as 20)"
        );
        assert_eq!(
            customers("A,,,maybe,"),
            "customers.csv:2: column \"credit_insured\": invalid boolean \"maybe\" (expected true/false, yes/no or 1/0)"
        );
        assert_eq!(
            customers("A,,,,-3"),
            "customers.csv:2: column \"payment_terms_days\": invalid number of days \"-3\" (expected a whole number such as 30)"
        );
        assert_eq!(
            customers(",,,,"),
            "customers.csv:2: column \"id\": missing value (required)"
        );
        let invoice = |row: &str| {
            error_with(
                "amounts",
                &[
                    ("customers.csv", CUSTOMERS_OK),
                    (
                        "invoices.csv",
                        &format!("id,customer,amount,issued,due\n{row}\n"),
                    ),
                ],
            )
        };
        assert_eq!(
            invoice("F-1,ACME,\"1 200,50\",2026-01-01,2026-01-31"),
            "invoices.csv:2: column \"amount\": invalid amount \"1 200,50\" (expected a decimal such as 1200.50)"
        );
        assert_eq!(
            invoice("F-1,ACME,\"1,200.50\",2026-01-01,2026-01-31"),
            "invoices.csv:2: column \"amount\": invalid amount \"1,200.50\" (expected a decimal such as 1200.50)"
        );
        assert_eq!(
            invoice("F-1,ACME,10,01/01/2026,2026-01-31"),
            "invoices.csv:2: column \"issued\": invalid date \"01/01/2026\" (expected YYYY-MM-DD)"
        );
    }

    #[test]
    fn event_rows() {
        let events = |rows: &str| {
            error_with(
                "events",
                &[
                    ("customers.csv", CUSTOMERS_OK),
                    ("invoices.csv", INVOICES_OK),
                    (
                        "events.csv",
                        &format!("date,type,invoice,customer,amount,risk_score,comment\n{rows}\n"),
                    ),
                ],
            )
        };
        assert_eq!(
            events("2026-02-01,paymnet,F-1,,10,,"),
            "events.csv:2: column \"type\": unknown event type \"paymnet\" (did you mean \"payment\"?); \
             expected one of payment, dispute_opened, dispute_resolved, promise_made, credit_note, \
             write_off, risk_changed, task_outcome, contact_bounced, tag_added, tag_removed, \
             write_off_reversed, payment_failed, scenario_changed, insolvency_opened, \
             insolvency_closed, due_date_extended, payment_reversed"
        );
        assert_eq!(
            events("2026-02-01,write_off,F-1,,10,,"),
            "events.csv:2: column \"amount\": a write_off event has no amount: leave the cell empty"
        );
        assert_eq!(
            events("2026-02-01,risk_changed,,ACME,,,"),
            "events.csv:2: column \"risk_score\": a risk_changed event needs a value here"
        );
        assert_eq!(
            events("2026-02-01,dispute_opened,F-1,,,,"),
            "events.csv:2: column \"code\": a dispute_opened event needs a value here"
        );
        assert_eq!(
            events("2026-02-01,payment,F-1,BETA,10,,"),
            "events.csv:2 (payment): column \"customer\": invoice \"F-1\" belongs to customer \"ACME\", not \"BETA\""
        );
        assert_eq!(
            events("2026-02-01,risk_changed,,ACME,,101,"),
            "events.csv:2 (risk_changed): column \"risk_score\": must be between 0 and 100, found 101"
        );
        // A comment is allowed on any type; the matching customer is accepted.
        let dir = temp_dir(
            "events-ok",
            &[
                ("customers.csv", CUSTOMERS_OK),
                ("invoices.csv", INVOICES_OK),
                (
                    "events.csv",
                    "date,type,invoice,customer,amount,comment\n2026-02-01,payment,F-1,ACME,\"10,5\",virement\n",
                ),
            ],
        );
        let p = load_dir(&dir).expect("valid");
        assert_eq!(
            p.events[0].kind,
            EventKind::Payment {
                invoice: "F-1".into(),
                amount: dec("10.5"),
                reference: None,
                details: Default::default(),
            }
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn header_quirks() {
        // A BOM, upper-case names, spaces and an unnamed trailing column are accepted.
        let dir = temp_dir(
            "header",
            &[
                ("customers.csv", "\u{feff}ID , Name,\nACME,Acme,\n"),
                (
                    "invoices.csv",
                    "Id,Customer,Amount,Issued,Due\nF-1 , ACME ,1,2026-01-01,2026-01-01\n",
                ),
            ],
        );
        let p = load_dir(&dir).expect("valid");
        assert_eq!(p.customers[0].id, "ACME");
        assert_eq!(p.invoices[0].id, "F-1");
        assert_eq!(p.invoices[0].customer, "ACME");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            error_with(
                "unnamed",
                &[
                    ("customers.csv", "id,\nACME,oops\n"),
                    ("invoices.csv", INVOICES_OK)
                ],
            ),
            "customers.csv:2: column 2 has no name in the header but holds \"oops\""
        );
        assert_eq!(
            error_with(
                "duplicate-column",
                &[
                    ("customers.csv", "id,name,id\n"),
                    ("invoices.csv", INVOICES_OK)
                ],
            ),
            "customers.csv:1: column \"id\": duplicate column"
        );
        assert_eq!(
            error_with(
                "contact-suffix",
                &[
                    ("customers.csv", "id,accounting_mail\n"),
                    ("invoices.csv", INVOICES_OK)
                ],
            ),
            "customers.csv:1: column \"accounting_mail\": unknown column; expected id, name, segment, \
             risk_score, credit_insured, language, payment_terms_days, tags, scenario, \
             payment_terms, insurer, credit_cover, credit_limit, late_interest_rate, or <role>_email, <role>_phone, <role>_name, \
             <role>_address, <role>_postcode, <role>_city, <role>_country"
        );
    }

    /// Regression: in a CRLF file (a Windows export) an error named the line before the bad
    /// one (rust-csv#395).
    #[test]
    fn crlf_files_name_the_right_line_and_read_the_same() {
        let crlf = |text: &str| text.replace('\n', "\r\n");
        let invoices = "id,customer,amount,currency,issued,due\n\
                        F-1,ACME,100.00,EUR,2026-01-01,2026-01-31\n\
                        F-2,BETA,50,EURO,2026-01-05,2026-02-04\n";
        let message = error_with(
            "crlf",
            &[
                ("customers.csv", &crlf(CUSTOMERS_OK)),
                ("invoices.csv", &crlf(invoices)),
            ],
        );
        assert_eq!(
            message,
            "invoices.csv:3 (F-2): column \"currency\": must be three upper-case letters (ISO 4217) such as \"EUR\", found \"EURO\""
        );
        let quoted = "id,name\r\n\"ACME\",\"Acme, Inc\"\r\nBETA,Beta\r\n";
        let lf = temp_dir(
            "lf",
            &[
                ("customers.csv", CUSTOMERS_OK),
                ("invoices.csv", INVOICES_OK),
            ],
        );
        let crlf_dir = temp_dir(
            "crlf-ok",
            &[
                ("customers.csv", quoted),
                ("invoices.csv", &crlf(INVOICES_OK)),
            ],
        );
        let (a, b) = (
            load_dir(&lf).expect("lf"),
            load_dir(&crlf_dir).expect("crlf"),
        );
        assert_eq!(a.invoices, b.invoices);
        assert_eq!(b.customers[0].name.as_deref(), Some("Acme, Inc"));
        assert_eq!(b.customers[1].name.as_deref(), Some("Beta"));
        let _ = std::fs::remove_dir_all(&lf);
        let _ = std::fs::remove_dir_all(&crlf_dir);
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let dir = temp_dir("utf8", &[("invoices.csv", INVOICES_OK)]);
        std::fs::write(dir.join("customers.csv"), b"id,name\nACME,Soci\xe9t\xe9\n").expect("write");
        let message = load_dir(&dir).expect_err("latin-1").to_string();
        assert!(
            message.ends_with("customers.csv:2: invalid UTF-8 (save the file as UTF-8)"),
            "{message}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `cargo test -p relance-data --release --lib portfolio::csv -- --ignored --nocapture`
    #[test]
    #[ignore = "performance check: a million invoices, run in release"]
    fn loads_a_million_invoices_quickly() {
        use std::fmt::Write as _;
        let mut customers = String::from("id,name,segment,risk_score\n");
        for c in 0..10_000 {
            let _ = writeln!(customers, "C{c},Customer {c},b2b,{}", c % 100);
        }
        let mut invoices =
            String::from("id,customer,amount,currency,issued,due,outstanding,po_number\n");
        for i in 0..1_000_000 {
            let _ = writeln!(
                invoices,
                "F-{i:07},C{},{}.{:02},EUR,2026-01-{:02},2026-03-{:02},,PO-{i}",
                i % 10_000,
                100 + i % 5000,
                i % 100,
                1 + i % 28,
                1 + i % 28
            );
        }
        let dir = temp_dir(
            "million",
            &[("customers.csv", &customers), ("invoices.csv", &invoices)],
        );
        let started = std::time::Instant::now();
        let p = load_dir(&dir).expect("valid");
        let elapsed = started.elapsed();
        let _ = std::fs::remove_dir_all(&dir);
        println!("loaded {} invoices in {elapsed:?}", p.invoices.len());
        assert_eq!(p.invoices.len(), 1_000_000);
        assert!(elapsed.as_secs() < 10, "{elapsed:?}");
    }
}
