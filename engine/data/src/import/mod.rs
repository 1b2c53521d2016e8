//! Importing accounting data into a portfolio: CSV files with a header mapping
//! ([`csv_mapped`]), the data folder's `events.csv` ([`events_csv`]), the French legal
//! accounting export FEC ([`fec`]), ISO 20022 camt.053 bank statements ([`camt053`]), and writing the merged portfolio back as the CSV data folder,
//! atomically ([`write`]).
//!
//! Every importer works the same way: it reads its input completely and checks it (errors
//! name the file, line and column), then merges what it read into a copy of the current
//! portfolio through a [`Merge`], which upserts customers and invoices by id and adds events
//! only when they are not already there (so importing the same file twice changes nothing),
//! and counts what changed ([`Changes`]). The caller validates the result with
//! [`portfolio::validate`](crate::portfolio::validate) and writes it with
//! [`write::write_dir`] — or only prints the [`Changes`] for a dry run. Nothing is written
//! when anything is wrong: an import is all or nothing.
//!
//! This module owns the shared pieces: the cell parsers tolerant of French and English
//! number formats, text decoding (UTF-8, else Windows-1252), the problem collector and the
//! merge. It must not run the engine, and holds no more than the portfolio in memory.

pub mod camt053;
pub mod csv_mapped;
pub mod events_csv;
pub mod fec;
pub mod write;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::NaiveDate;
use relance_core::fact_order::{FileKind, FileLine};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::portfolio::{MAX_PROBLEMS, Place, PortfolioError, Problem};
use relance_core::domain::{Customer, Event, EventKind, Invoice, Portfolio};

/// The default payment terms, in days from the invoice date, when neither the file nor the
/// customer gives a due date.
pub const DEFAULT_TERMS_DAYS: u32 = 30;

/// How amounts are written in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalStyle {
    /// Guess per cell: with both `,` and `.`, the last one is the decimal separator; a lone
    /// `,` is a decimal comma; spaces (and no-break spaces) group thousands.
    #[default]
    Auto,
    /// `1 234,56` or `1.234,56`.
    French,
    /// `1,234.56` or `1234.56`.
    English,
}

/// Parses an amount in `style`: optional sign, thousands groups (spaces, no-break spaces,
/// or the other separator, by groups of three), at most one decimal separator. No exponent,
/// no currency sign.
pub fn parse_amount(text: &str, style: DecimalStyle) -> Result<Decimal, String> {
    let error =
        || format!("invalid amount \"{text}\" (expected a decimal such as 1200.50 or 1 200,50)");
    let is_space = |c: char| matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'');
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.strip_prefix('+').unwrap_or(text)),
    };
    let compact: String = body.chars().filter(|c| !is_space(*c)).collect();
    let decimal = match style {
        DecimalStyle::French => ',',
        DecimalStyle::English => '.',
        DecimalStyle::Auto => match (compact.rfind(','), compact.rfind('.')) {
            (Some(c), Some(p)) if c > p => ',',
            (Some(_), Some(_)) => '.',
            (Some(_), None) if compact.matches(',').count() == 1 => ',',
            (Some(_), None) => '.', // 1,234,567: English thousands groups
            (None, Some(_)) if compact.matches('.').count() > 1 => ',', // 1.234.567
            _ => '.',
        },
    };
    let grouping = if decimal == ',' { '.' } else { ',' };
    // Spaces group thousands like the other separator does.
    let normalized: String = body
        .chars()
        .map(|c| if is_space(c) { grouping } else { c })
        .collect();
    let (whole, fraction) = match normalized.split_once(decimal) {
        Some((w, f)) => (w, Some(f)),
        None => (normalized.as_str(), None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if fraction.is_some_and(|f| !digits(f)) {
        return Err(error());
    }
    let groups: Vec<&str> = whole.split(grouping).collect();
    let groups_ok = groups.iter().all(|g| digits(g))
        && (groups.len() == 1
            || (groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3)));
    if !groups_ok {
        return Err(error());
    }
    let plain = format!(
        "{sign}{}{}",
        groups.concat(),
        fraction.map(|f| format!(".{f}")).unwrap_or_default()
    );
    plain.parse::<Decimal>().map_err(|_| error())
}

/// A date written `YYYY-MM-DD` or, as French spreadsheets do, `DD/MM/YYYY`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let error = || format!("invalid date \"{text}\" (expected YYYY-MM-DD or DD/MM/YYYY)");
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, m, d) = if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        (digits(0..4), digits(5..7), digits(8..10))
    } else if b.len() == 10 && b[2] == b'/' && b[5] == b'/' {
        (digits(6..10), digits(3..5), digits(0..2))
    } else {
        return Err(error());
    };
    match (y, m, d) {
        (Some(y), Some(m), Some(d)) => {
            NaiveDate::from_ymd_opt(i32::try_from(y).map_err(|_| error())?, m, d).ok_or_else(error)
        }
        _ => Err(error()),
    }
}

/// A FEC date: `AAAAMMJJ`, eight digits, a real day.
pub fn parse_compact_date(text: &str) -> Result<NaiveDate, String> {
    let error = || format!("invalid date \"{text}\" (expected AAAAMMJJ)");
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error());
    }
    let n = |r: std::ops::Range<usize>| text[r].parse::<u32>().unwrap_or(0);
    NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8)).ok_or_else(error)
}

/// Decodes a file's bytes: UTF-8 (a byte-order mark is dropped), else Windows-1252 (the usual
/// encoding of French accounting exports; ISO-8859-15 differs only on a few rare letters).
/// Returns the text and the encoding's name.
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), "UTF-8"),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (text.into_owned(), "windows-1252")
        }
    }
}

/// Reads a whole file, naming it on failure.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, PortfolioError> {
    std::fs::read(path).map_err(|source| PortfolioError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Problems found in an input file: the first [`MAX_PROBLEMS`] kept, the rest counted.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<Problem>,
    omitted: usize,
}

impl Problems {
    pub(crate) fn push(&mut self, problem: Problem) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(problem);
        } else {
            self.omitted += 1;
        }
    }

    /// A problem at `file:line`, about `column` when given.
    pub(crate) fn at(
        &mut self,
        file: &Path,
        line: u64,
        column: Option<&str>,
        message: impl Into<String>,
    ) {
        self.push(Problem::new(csv_place(file, line), column, message));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len() + self.omitted
    }

    pub(crate) fn finish(self) -> Result<(), PortfolioError> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(PortfolioError::Invalid {
                problems: self.list,
                omitted: self.omitted,
            })
        }
    }
}

pub(crate) fn csv_place(file: &Path, line: u64) -> Place {
    Place::Csv {
        file: file.to_path_buf(),
        line,
        label: None,
    }
}

/// What an import changed, by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Delta {
    pub new: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: usize,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.updated.is_empty()
    }
}

/// What an import changes (or would change, for a dry run), plus what it noticed on the way.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    pub customers: Delta,
    pub invoices: Delta,
    /// Payment events added.
    pub new_payments: usize,
    /// Other events added (credit notes, write-offs …).
    pub new_events: usize,
    /// Events already present, not added again.
    pub known_events: usize,
    /// Remarks a person should read (a payment allocated by seniority, an unallocated credit).
    pub notes: Vec<String>,
    /// Bank transactions that could not be matched with certainty: proposed, never applied.
    pub proposals: Vec<camt053::Proposal>,
}

impl Changes {
    /// Whether the data folder would change.
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
            && self.invoices.is_empty()
            && self.new_payments == 0
            && self.new_events == 0
    }

    /// A readable summary, one line per kind of record, then the notes and proposals.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let delta = |out: &mut String, what: &str, d: &Delta| {
            out.push_str(&format!(
                "{what}: {} new, {} updated, {} unchanged\n",
                d.new.len(),
                d.updated.len(),
                d.unchanged
            ));
            const LISTED: usize = 20;
            for (sign, ids) in [("+", &d.new), ("~", &d.updated)] {
                for id in ids.iter().take(LISTED) {
                    out.push_str(&format!("  {sign} {id}\n"));
                }
                if ids.len() > LISTED {
                    out.push_str(&format!(
                        "  {sign} … and {} more (--format json lists them all)\n",
                        ids.len() - LISTED
                    ));
                }
            }
        };
        delta(&mut out, "customers", &self.customers);
        delta(&mut out, "invoices", &self.invoices);
        out.push_str(&format!(
            "payments: {} new; other events: {} new; {} already known\n",
            self.new_payments, self.new_events, self.known_events
        ));
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        for p in &self.proposals {
            out.push_str(&format!("proposal: {p}\n"));
        }
        out
    }
}

/// A portfolio being merged into: upserts by id, adds events only once, tracks what changed.
pub struct Merge {
    portfolio: Portfolio,
    base_customers: HashMap<String, Customer>,
    base_invoices: HashMap<String, Invoice>,
    customer_index: HashMap<String, usize>,
    invoice_index: HashMap<String, usize>,
    /// How many times each event is present (events are compared by value).
    event_counts: HashMap<String, usize>,
    /// How many times each event was seen in the current input.
    seen_counts: HashMap<String, usize>,
    touched_customers: BTreeMap<String, ()>,
    touched_invoices: BTreeMap<String, ()>,
    changes: Changes,
    /// How many base events whose free-text parts were lost (see [`Merge::with_textless`])
    /// are present, by their key without those parts.
    textless_counts: HashMap<String, usize>,
    /// How many times each event was matched against `textless_counts` in the current input.
    textless_seen: HashMap<String, usize>,
    /// The events this merge added, in the order they were added, with where each was read.
    added: Vec<(Event, FileLine)>,
    /// The current input: its kind and place among the inputs (`None` before the first).
    input: Option<(FileKind, u32)>,
    /// How many facts the current input stated so far (the place of a FEC's or a
    /// statement's fact, whose readers give no line).
    stated: u64,
}

/// What a merge changes ([`Merge::finish_with_delta`]): the delta portfolio, where each of its
/// events was read (`origins[i]` for `delta.events[i]`), and the [`Changes`].
pub struct Finished {
    pub merged: Portfolio,
    pub delta: Portfolio,
    pub origins: Vec<FileLine>,
    pub changes: Changes,
}

fn event_key(event: &Event) -> String {
    serde_json::to_string(event).unwrap_or_default()
}

/// The key of `event` without its free-text parts: a payment's reference, a write-off's
/// reason, a dispute's comment.
fn loose_event_key(event: &Event) -> String {
    let mut e = event.clone();
    match &mut e.kind {
        EventKind::Payment { reference, .. } => *reference = None,
        EventKind::WriteOff { reason, .. } => *reason = None,
        EventKind::DisputeOpened { comment, .. } | EventKind::DisputeResolved { comment, .. } => {
            *comment = None
        }
        _ => {}
    }
    event_key(&e)
}

impl Merge {
    pub fn new(base: Portfolio) -> Merge {
        let customer_index = base
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let invoice_index = base
            .invoices
            .iter()
            .enumerate()
            .map(|(i, inv)| (inv.id.clone(), i))
            .collect();
        let mut event_counts = HashMap::new();
        for e in &base.events {
            *event_counts.entry(event_key(e)).or_insert(0) += 1;
        }
        Merge {
            base_customers: base
                .customers
                .iter()
                .map(|c| (c.id.clone(), c.clone()))
                .collect(),
            base_invoices: base
                .invoices
                .iter()
                .map(|i| (i.id.clone(), i.clone()))
                .collect(),
            portfolio: base,
            customer_index,
            invoice_index,
            event_counts,
            seen_counts: HashMap::new(),
            touched_customers: BTreeMap::new(),
            touched_invoices: BTreeMap::new(),
            changes: Changes::default(),
            textless_counts: HashMap::new(),
            textless_seen: HashMap::new(),
            added: Vec::new(),
            input: None,
            stated: 0,
        }
    }

    /// A merge into a base some of whose events lost their free-text parts (`textless[i]` for
    /// `base.events[i]`: a store migrated from a version that did not keep payment references,
    /// write-off reasons or dispute comments). Those events are matched without their texts,
    /// so importing the same file again still adds nothing; every other event is matched
    /// whole, so two payments that differ only by their reference both count.
    pub fn with_textless(base: Portfolio, textless: &[bool]) -> Merge {
        let mut strict = HashMap::new();
        let mut loose = HashMap::new();
        for (i, e) in base.events.iter().enumerate() {
            if textless.get(i).copied().unwrap_or(false) {
                *loose.entry(loose_event_key(e)).or_insert(0) += 1;
            } else {
                *strict.entry(event_key(e)).or_insert(0) += 1;
            }
        }
        let mut merge = Merge::new(base);
        merge.event_counts = strict;
        merge.textless_counts = loose;
        merge
    }

    /// The portfolio as merged so far.
    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    pub fn customer(&self, id: &str) -> Option<&Customer> {
        self.customer_index
            .get(id)
            .map(|&i| &self.portfolio.customers[i])
    }

    pub fn invoice(&self, id: &str) -> Option<&Invoice> {
        self.invoice_index
            .get(id)
            .map(|&i| &self.portfolio.invoices[i])
    }

    /// Changes (or creates, from [`Customer::new`]) the customer `id`.
    pub fn upsert_customer(&mut self, id: &str, change: impl FnOnce(&mut Customer)) {
        let index = match self.customer_index.get(id) {
            Some(&i) => i,
            None => {
                self.portfolio.customers.push(Customer::new(id));
                let i = self.portfolio.customers.len() - 1;
                self.customer_index.insert(id.to_string(), i);
                i
            }
        };
        change(&mut self.portfolio.customers[index]);
        self.touched_customers.insert(id.to_string(), ());
    }

    /// Replaces (or adds) an invoice; `change` receives the current one, if any, and returns
    /// the new one.
    pub fn upsert_invoice(&mut self, id: &str, change: impl FnOnce(Option<&Invoice>) -> Invoice) {
        match self.invoice_index.get(id) {
            Some(&i) => {
                let new = change(Some(&self.portfolio.invoices[i]));
                self.portfolio.invoices[i] = new;
            }
            None => {
                let new = change(None);
                self.portfolio.invoices.push(new);
                self.invoice_index
                    .insert(id.to_string(), self.portfolio.invoices.len() - 1);
            }
        }
        self.touched_invoices.insert(id.to_string(), ());
    }

    /// Starts reading a new input of `kind`: events are counted per input, so a payment stated
    /// twice in one file is two payments, but importing a file again adds nothing. Inputs are
    /// numbered in the order they begin (the file's place in its import, for the canonical
    /// order of a day's facts: `relance_core::fact_order`).
    pub fn begin_input(&mut self, kind: FileKind) {
        self.seen_counts.clear();
        self.textless_seen.clear();
        let next = self.input.map_or(0, |(_, i)| i + 1);
        self.input = Some((kind, next));
        self.stated = 0;
    }

    /// [`Merge::add_event_at`] for a reader that gives no line: the fact's place in the
    /// input (1 for the first fact it states).
    pub fn add_event(&mut self, event: Event) {
        self.add_event_at(event, self.stated + 1);
    }

    /// Adds `event`, read at `line` of the current input, unless the portfolio already holds
    /// it (as many times as this input stated it so far): importing the same file twice adds
    /// nothing.
    pub fn add_event_at(&mut self, event: Event, line: u64) {
        self.stated += 1;
        let key = event_key(&event);
        let seen = self.seen_counts.entry(key.clone()).or_insert(0);
        *seen += 1;
        let seen = *seen;
        if seen <= self.event_counts.get(&key).copied().unwrap_or(0) {
            self.changes.known_events += 1;
            return;
        }
        if !self.textless_counts.is_empty() {
            let loose = loose_event_key(&event);
            if let Some(&present) = self.textless_counts.get(&loose) {
                let matched = self.textless_seen.entry(loose).or_insert(0);
                if *matched < present {
                    *matched += 1;
                    self.changes.known_events += 1;
                    return;
                }
            }
        }
        *self.event_counts.entry(key).or_insert(0) += 1;
        if matches!(event.kind, EventKind::Payment { .. }) {
            self.changes.new_payments += 1;
        } else {
            self.changes.new_events += 1;
        }
        let (kind, file) = self.input.unwrap_or((FileKind::Events, 0));
        self.added
            .push((event.clone(), FileLine { kind, file, line }));
        self.portfolio.events.push(event);
    }

    /// Whether an event with this payment reference is already in the portfolio.
    pub fn has_payment_reference(&self, reference: &str) -> bool {
        self.portfolio.events.iter().any(
            |e| matches!(&e.kind, EventKind::Payment { reference: Some(r), .. } if r == reference),
        )
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.changes.notes.push(note.into());
    }

    pub fn propose(&mut self, proposal: camt053::Proposal) {
        self.changes.proposals.push(proposal);
    }

    /// What the merge changes, as a portfolio of its own: the new and updated customers and
    /// invoices (as merged) and the events added, by date (for a store that upserts
    /// customers, adds invoices and applies events) with where each was read, and the merged
    /// portfolio and the [`Changes`].
    pub fn finish_with_delta(self) -> Finished {
        let mut added = self.added.clone();
        added.sort_by_key(|(e, _)| e.date);
        let (events, origins): (Vec<Event>, Vec<FileLine>) = added.into_iter().unzip();
        let (merged, changes) = self.finish();
        let pick = |d: &Delta| -> std::collections::HashSet<String> {
            d.new.iter().chain(&d.updated).cloned().collect()
        };
        let (customers, invoices) = (pick(&changes.customers), pick(&changes.invoices));
        let delta = Portfolio {
            customers: merged
                .customers
                .iter()
                .filter(|c| customers.contains(&c.id))
                .cloned()
                .collect(),
            invoices: merged
                .invoices
                .iter()
                .filter(|i| invoices.contains(&i.id))
                .cloned()
                .collect(),
            events,
            ..Portfolio::default()
        };
        Finished {
            merged,
            delta,
            origins,
            changes,
        }
    }

    /// The merged portfolio (events stably sorted by date) and what changed.
    pub fn finish(mut self) -> (Portfolio, Changes) {
        for id in self.touched_customers.keys() {
            let now = &self.portfolio.customers[self.customer_index[id]];
            match self.base_customers.get(id) {
                None => self.changes.customers.new.push(id.clone()),
                Some(before) if before != now => self.changes.customers.updated.push(id.clone()),
                Some(_) => self.changes.customers.unchanged += 1,
            }
        }
        for id in self.touched_invoices.keys() {
            let now = &self.portfolio.invoices[self.invoice_index[id]];
            match self.base_invoices.get(id) {
                None => self.changes.invoices.new.push(id.clone()),
                Some(before) if before != now => self.changes.invoices.updated.push(id.clone()),
                Some(_) => self.changes.invoices.unchanged += 1,
            }
        }
        self.portfolio.events.sort_by_key(|e| e.date);
        (self.portfolio, self.changes)
    }
}

/// What is still owed on each invoice at the end of `portfolio`'s events (payments and credit
/// notes deducted, written-off invoices at zero), by invoice id.
pub fn open_amounts(portfolio: &Portfolio) -> HashMap<String, Decimal> {
    let mut open: HashMap<String, Decimal> = portfolio
        .invoices
        .iter()
        .map(|i| (i.id.clone(), i.opening_outstanding()))
        .collect();
    for e in &portfolio.events {
        match &e.kind {
            EventKind::Payment {
                invoice, amount, ..
            }
            | EventKind::CreditNote { invoice, amount } => {
                if let Some(o) = open.get_mut(invoice) {
                    *o -= *amount;
                }
            }
            EventKind::WriteOff { invoice, .. } => {
                if let Some(o) = open.get_mut(invoice) {
                    *o = Decimal::ZERO;
                }
            }
            // A payment that came back is owed again (a later statement may pay it anew).
            EventKind::PaymentReversed {
                invoice, amount, ..
            } => {
                if let Some(o) = open.get_mut(invoice) {
                    *o += *amount;
                }
            }
            _ => {}
        }
    }
    open
}

/// The portfolio of the data folder `dir`, or an empty one when the folder holds no
/// `customers.csv` yet (a first import).
pub fn load_or_empty(dir: &Path) -> Result<Portfolio, PortfolioError> {
    write::recover(dir).map_err(|source| PortfolioError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    if dir.join("customers.csv").exists() || dir.join("invoices.csv").exists() {
        crate::portfolio::load_dir(dir)
    } else {
        Ok(Portfolio::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn amounts_in_french_and_english() {
        let auto = DecimalStyle::Auto;
        assert_eq!(parse_amount("1200.50", auto), Ok(dec("1200.50")));
        assert_eq!(parse_amount("1200,50", auto), Ok(dec("1200.50")));
        assert_eq!(parse_amount("1 200,50", auto), Ok(dec("1200.50")));
        assert_eq!(parse_amount("1\u{a0}200,50", auto), Ok(dec("1200.50")));
        assert_eq!(parse_amount("1.200,50", auto), Ok(dec("1200.50")));
        assert_eq!(parse_amount("1,200.50", auto), Ok(dec("1200.50")));
        assert_eq!(parse_amount("1,234,567", auto), Ok(dec("1234567")));
        assert_eq!(parse_amount("-3", auto), Ok(dec("-3")));
        assert_eq!(parse_amount("1,5", DecimalStyle::English).ok(), None);
        assert_eq!(parse_amount("1.234", DecimalStyle::French), Ok(dec("1234")));
        assert_eq!(
            parse_amount("1.234", DecimalStyle::English),
            Ok(dec("1.234"))
        );
        for bad in [
            "",
            "abc",
            "1e3",
            "12.",
            "1,2,3.4.5",
            "12 34,5",
            "EUR 12",
            "1.2.3,4,5",
        ] {
            assert!(parse_amount(bad, auto).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 28).expect("date");
        assert_eq!(parse_date("2026-02-28"), Ok(d));
        assert_eq!(parse_date("28/02/2026"), Ok(d));
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("2/28/2026").is_err());
        assert_eq!(parse_compact_date("20260228"), Ok(d));
        assert!(parse_compact_date("2026-02-28").is_err());
        assert!(parse_compact_date("20260230").is_err());
    }

    #[test]
    fn decoding_falls_back_to_windows_1252() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFcaf\xC3\xA9"),
            ("café".to_string(), "UTF-8")
        );
        assert_eq!(
            decode(b"caf\xE9 \x80"),
            ("café €".to_string(), "windows-1252")
        );
    }

    #[test]
    fn merge_upserts_and_adds_events_once() {
        let mut base = Portfolio::default();
        base.customers.push(Customer::new("A"));
        let mut m = Merge::new(base.clone());
        m.upsert_customer("A", |_| {});
        m.upsert_customer("B", |c| c.name = Some("Bee".into()));
        let pay = Event {
            date: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            kind: EventKind::Payment {
                invoice: "F".into(),
                amount: dec("1"),
                reference: None,
                details: Default::default(),
            },
        };
        m.add_event(pay.clone());
        m.add_event(pay.clone());
        let (p, changes) = m.finish();
        assert_eq!(changes.customers.new, ["B"]);
        assert_eq!(changes.customers.unchanged, 1);
        assert_eq!(
            changes.new_payments, 2,
            "two identical rows of one file are two payments"
        );
        let mut again = Merge::new(p);
        again.add_event(pay.clone());
        again.add_event(pay);
        let (_, changes) = again.finish();
        assert_eq!((changes.new_payments, changes.known_events), (0, 2));
        assert!(changes.is_empty());
    }

    fn pay(reference: Option<&str>) -> Event {
        Event {
            date: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            kind: EventKind::Payment {
                invoice: "F".into(),
                amount: dec("10"),
                reference: reference.map(String::from),
                details: Default::default(),
            },
        }
    }

    #[test]
    fn two_payments_with_distinct_references_both_count_and_a_known_reference_is_known() {
        let base = Portfolio {
            events: vec![pay(Some("VIR-1"))],
            ..Portfolio::default()
        };
        let mut m = Merge::new(base);
        m.begin_input(FileKind::Payments);
        m.add_event_at(pay(Some("VIR-1")), 2);
        m.add_event_at(pay(Some("VIR-2")), 3);
        let Finished {
            delta,
            origins,
            changes,
            ..
        } = m.finish_with_delta();
        assert_eq!((changes.known_events, changes.new_payments), (1, 1));
        assert_eq!(delta.events, [pay(Some("VIR-2"))], "only what was added");
        assert_eq!(
            origins,
            [FileLine {
                kind: FileKind::Payments,
                file: 0,
                line: 3
            }],
            "with its line"
        );
    }

    #[test]
    fn a_base_event_whose_texts_were_lost_is_known_by_date_invoice_and_amount() {
        let base = Portfolio {
            events: vec![pay(None), pay(Some("VIR-9"))],
            ..Portfolio::default()
        };
        let mut m = Merge::with_textless(base, &[true, false]);
        m.begin_input(FileKind::Payments);
        m.add_event(pay(Some("VIR-1")));
        m.add_event(pay(Some("VIR-2")));
        m.add_event(pay(Some("VIR-9")));
        let Finished { delta, changes, .. } = m.finish_with_delta();
        assert_eq!((changes.known_events, changes.new_payments), (2, 1));
        assert_eq!(delta.events, [pay(Some("VIR-2"))]);
    }
}
