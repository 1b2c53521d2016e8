//! Importing CSV files of customers, contacts, invoices or payments whose columns may carry
//! other names (`--map "numero=id,client=customer"`), in French or English number formats.
//!
//! The columns are those of the data folder (`docs/DATA.md`), plus a contacts kind
//! (`customer, role, name, email, phone, address, postcode, city, country`); `docs/IMPORT.md`
//! lists them and `docs/examples/` has one file per kind. A row *upserts* by id: the columns
//! present in the file set their field (an empty cell clears it back to its default), the
//! columns absent keep what the data folder had; a country code is read in any case. An
//! invoice without a `due` cell is due after its customer's payment terms, else the default
//! terms. Payments are added once (see [`Merge::add_event`]). The file is read whole, every
//! row checked, and every problem named by file, line and column (the column as the file
//! spells it) and by its record (`invoice F-2`, `payment of invoice F-2`); the caller discards the merge when there is any. This module must not write
//! anything.

use crate::portfolio::csv::{
    CONTACT_FIELDS, CUSTOMER_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS, address_lines,
};
use relance_core::terms::{PaymentTerms, TermsError, check_due};
use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use csv::{ReaderBuilder, StringRecord, Trim};
use rust_decimal::Decimal;

use super::{DecimalStyle, Merge, Problems, decode, parse_amount, parse_date, read_file};
use crate::portfolio::{MAX_DUNNING_ATTEMPTS, PortfolioError, check_amount, check_year};
use relance_core::domain::{Contact, Event, EventKind, Invoice, PostalAddress, Segment};
use relance_core::fact_order::FileKind;
use relance_core::payment::{PaymentDetails, PaymentMeans};

/// What a CSV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Customers,
    Contacts,
    Invoices,
    Payments,
}

impl Kind {
    /// Every kind, in the order a batch applies them.
    pub const ALL: [Kind; 4] = [
        Kind::Customers,
        Kind::Contacts,
        Kind::Invoices,
        Kind::Payments,
    ];

    /// The kind named `name` (any case), as the command line and the HTTP path give it.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Customers => "customers",
            Kind::Contacts => "contacts",
            Kind::Invoices => "invoices",
            Kind::Payments => "payments",
        }
    }

    /// The columns of this kind (customers also take `<role>_<field>` contact columns).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Customers => CUSTOMER_COLUMNS,
            Kind::Contacts => &[
                "customer", "role", "name", "email", "phone", "address", "postcode", "city",
                "country",
            ],
            Kind::Invoices => INVOICE_COLUMNS,
            Kind::Payments => PAYMENT_COLUMNS,
        }
    }

    fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Customers => &["id"],
            Kind::Contacts => &["customer", "role"],
            Kind::Invoices => &["id"],
            Kind::Payments => &["date", "invoice", "amount"],
        }
    }

    /// The kind a file name announces (`customers.csv`, `factures-2026.csv` …).
    pub fn from_file_name(path: &Path) -> Option<Kind> {
        let stem = path.file_stem()?.to_string_lossy().to_lowercase();
        let table: &[(&[&str], Kind)] = &[
            (&["customer", "client"], Kind::Customers),
            (&["contact"], Kind::Contacts),
            (&["invoice", "facture"], Kind::Invoices),
            (
                &[
                    "payment",
                    "paiement",
                    "reglement",
                    "règlement",
                    "encaissement",
                ],
                Kind::Payments,
            ),
        ];
        table
            .iter()
            .find(|(prefixes, _)| prefixes.iter().any(|p| stem.starts_with(p)))
            .map(|(_, kind)| *kind)
    }

    /// The kind the (mapped) column names suggest.
    fn from_columns(columns: &[String]) -> Kind {
        let has = |name: &str| columns.iter().any(|c| c == name);
        if has("role") {
            Kind::Contacts
        } else if has("issued") || has("due") {
            Kind::Invoices
        } else if has("invoice") {
            Kind::Payments
        } else {
            Kind::Customers
        }
    }
}

/// Column renames: the file's name (any case) → the documented name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping(Vec<(String, String)>);

impl Mapping {
    /// The renames, as (file column, documented column), in the order given.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Parses `"numero=id,client=customer"` (spaces around names are ignored).
    pub fn parse(text: &str) -> Result<Mapping, String> {
        let mut pairs = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((from, to)) = part.split_once('=') else {
                return Err(format!(
                    "invalid mapping \"{part}\" (expected FILE_COLUMN=COLUMN, e.g. numero=id)"
                ));
            };
            let (from, to) = (from.trim().to_lowercase(), to.trim().to_lowercase());
            if from.is_empty() || to.is_empty() {
                return Err(format!("invalid mapping \"{part}\": a name is empty"));
            }
            pairs.push((from, to));
        }
        Ok(Mapping(pairs))
    }

    /// Several `--map` options together.
    pub fn parse_all<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Mapping, String> {
        let mut all = Mapping::default();
        for text in texts {
            all.0.extend(Mapping::parse(text)?.0);
        }
        Ok(all)
    }

    fn apply(&self, column: &str) -> String {
        let lower = column.to_lowercase();
        self.0
            .iter()
            .find(|(from, _)| *from == lower)
            .map_or(lower, |(_, to)| to.clone())
    }
}

/// How to read the CSV files.
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    pub mapping: Mapping,
    pub decimal: DecimalStyle,
    /// Payment terms for invoices without a due date whose customer has none.
    pub default_terms: u32,
    /// The kind of every file; `None` guesses it from the file name, then the columns.
    pub kind: Option<Kind>,
    /// The rate table the import notes judge contractual rates against (the data folder's
    /// `rates.csv` over the built-in table); `None`: the built-in table.
    pub rates: Option<std::sync::Arc<relance_core::interest::RateTable>>,
}

impl CsvOptions {
    /// The rate table of the import notes.
    pub fn rates(&self) -> &relance_core::interest::RateTable {
        self.rates
            .as_deref()
            .unwrap_or_else(|| relance_core::interest::RateTable::builtin())
    }
}

/// The kind `path` will be read as (to import customers before their invoices).
pub fn kind_of(path: &Path, options: &CsvOptions) -> Kind {
    options
        .kind
        .or_else(|| Kind::from_file_name(path))
        .unwrap_or(Kind::Customers)
}

/// Reads `path` into `merge`. `progress(done, total)` is told the bytes read. Returns the kind
/// the file was read as and the number of rows.
pub fn import(
    path: &Path,
    options: &CsvOptions,
    merge: &mut Merge,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(Kind, u64), PortfolioError> {
    import_bytes(path, &read_file(path)?, options, merge, progress)
}

/// [`import`] of a file's bytes already in memory (an HTTP body); `path` only names the file
/// in problems and, without `options.kind`, gives its kind.
pub fn import_bytes(
    path: &Path,
    bytes: &[u8],
    options: &CsvOptions,
    merge: &mut Merge,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(Kind, u64), PortfolioError> {
    let (mut text, _) = decode(bytes);
    if text.contains('\r') {
        // The csv reader counts a CRLF as two lines: number lines as an editor does.
        text = text.replace("\r\n", "\n");
    }
    merge.begin_input(FileKind::Payments);
    let first_line = text.lines().next().unwrap_or("");
    let count = |c: char| first_line.matches(c).count();
    let delimiter = [(b';', count(';')), (b'\t', count('\t')), (b',', count(','))]
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map_or(b',', |(d, _)| d);
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut problems = Problems::default();
    let header = reader
        .headers()
        .map_err(|e| one(path, 1, None, format!("unreadable header: {e}")))?
        .clone();
    let original: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let columns: Vec<String> = original.iter().map(|c| options.mapping.apply(c)).collect();
    let kind = options
        .kind
        .or_else(|| Kind::from_file_name(path))
        .unwrap_or_else(|| Kind::from_columns(&columns));
    let layout = Layout::check(kind, &original, &columns, path, &mut problems);
    let total = text.len() as u64;
    let mut record = StringRecord::new();
    let mut rows = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problems.at(path, line, None, format!("unreadable row: {e}"));
                break;
            }
        }
        rows += 1;
        let (line, byte) = record.position().map_or((0, 0), |p| (p.line(), p.byte()));
        if rows.is_multiple_of(4096) {
            progress(byte, total);
        }
        if !problems.is_empty() && layout.is_none() {
            break;
        }
        let Some(layout) = &layout else { break };
        if record.len() != original.len() {
            problems.at(
                path,
                line,
                None,
                format!(
                    "expected {} fields like the header, found {}",
                    original.len(),
                    record.len()
                ),
            );
            continue;
        }
        let row = Row {
            kind,
            path,
            line,
            record: &record,
            layout,
            options,
        };
        if let Err(problem) = row.apply(kind, merge) {
            problems.push(problem);
        }
    }
    progress(total, total);
    problems.finish()?;
    Ok((kind, rows))
}

fn one(path: &Path, line: u64, column: Option<&str>, message: String) -> PortfolioError {
    let mut problems = Problems::default();
    problems.at(path, line, column, message);
    match problems.finish() {
        Err(e) => e,
        Ok(()) => unreachable!("one problem was pushed"),
    }
}

/// A country cell: an ISO 3166-1 alpha-2 code, any case (`fr` reads as `FR`).
fn country(text: &str) -> Result<String, String> {
    let code = text.to_uppercase();
    PostalAddress::check_country(&code)
        .map(|()| code)
        .map_err(|_| {
            format!("invalid country \"{text}\" (expected an ISO 3166-1 alpha-2 code such as FR)")
        })
}

/// Sets one field of a contact (`email`, `phone`, `name`, or a part of its postal address:
/// `address` for the street lines, `postcode`, `city`, `country`); `None` clears it.
fn set_contact_field(contact: &mut Contact, field: &str, value: Option<String>) {
    let slot = match field {
        "email" => &mut contact.email,
        "phone" => &mut contact.phone,
        "name" => &mut contact.name,
        _ => {
            let mut address = contact.address.take().unwrap_or_default();
            match field {
                "address" => {
                    address.lines = value.as_deref().map(address_lines).unwrap_or_default()
                }
                "postcode" => address.postcode = value,
                "city" => address.city = value,
                _ => address.country = value,
            }
            contact.address = address.non_empty();
            return;
        }
    };
    *slot = value;
}

/// Where each documented column sits in the file, and how the file spells it.
struct Layout {
    index: HashMap<String, usize>,
    original: Vec<String>,
    /// `<role>_<field>` columns of a customers file: (index, role, field).
    contacts: Vec<(usize, String, String)>,
}

impl Layout {
    fn check(
        kind: Kind,
        original: &[String],
        columns: &[String],
        path: &Path,
        problems: &mut Problems,
    ) -> Option<Layout> {
        let known = kind.columns();
        let mut index = HashMap::new();
        let mut contacts = Vec::new();
        for (i, name) in columns.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            if index.contains_key(name)
                || contacts.iter().any(|(_, r, f)| format!("{r}_{f}") == *name)
            {
                problems.at(
                    path,
                    1,
                    Some(&original[i]),
                    format!("duplicate column \"{name}\""),
                );
                continue;
            }
            if known.contains(&name.as_str()) {
                index.insert(name.clone(), i);
                continue;
            }
            if kind == Kind::Customers
                && let Some((role, field)) = name.rsplit_once('_')
                && !role.is_empty()
                && CONTACT_FIELDS.contains(&field)
            {
                contacts.push((i, role.to_string(), field.to_string()));
                continue;
            }
            let suggestion = known
                .iter()
                .map(|k| (strsim::jaro_winkler(k, name), *k))
                .filter(|(score, _)| *score > 0.85)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, k)| format!(" (did you mean \"{k}\"?)"))
                .unwrap_or_default();
            problems.at(
                path,
                1,
                Some(&original[i]),
                format!(
                    "unknown column for {}{suggestion}; expected {}{}; rename it with --map \"{}=COLUMN\"",
                    kind.name(),
                    known.join(", "),
                    if kind == Kind::Customers { ", <role>_email, <role>_phone, <role>_name, <role>_address, <role>_postcode, <role>_city, <role>_country" } else { "" },
                    original[i].to_lowercase()
                ),
            );
        }
        for required in kind.required() {
            if !index.contains_key(*required) {
                problems.at(
                    path,
                    1,
                    Some(required),
                    format!("missing column (required for {})", kind.name()),
                );
            }
        }
        problems.is_empty().then(|| Layout {
            index,
            original: original.to_vec(),
            contacts,
        })
    }
}

/// One row being applied.
struct Row<'a> {
    kind: Kind,
    path: &'a Path,
    line: u64,
    record: &'a StringRecord,
    layout: &'a Layout,
    options: &'a CsvOptions,
}

type Problem = crate::portfolio::Problem;

impl Row<'_> {
    fn problem(&self, column: &str, message: impl Into<String>) -> Problem {
        let spelled = self
            .layout
            .index
            .get(column)
            .map_or(column, |&i| self.layout.original[i].as_str());
        Problem::new(self.place(), Some(spelled), message)
    }

    /// A problem in the cell of column `i`, named as the file spells it.
    fn problem_at(&self, i: usize, message: impl Into<String>) -> Problem {
        Problem::new(self.place(), Some(&self.layout.original[i]), message)
    }

    /// The row's file and line, with the record it is about when its id cell says:
    /// `factures.csv:3 (invoice F-2)` (a payment names the invoice it pays, a contact its
    /// customer).
    fn place(&self) -> crate::portfolio::Place {
        let (what, column) = match self.kind {
            Kind::Invoices => ("invoice", "id"),
            Kind::Payments => ("payment of invoice", "invoice"),
            Kind::Customers => ("customer", "id"),
            Kind::Contacts => ("contact of customer", "customer"),
        };
        let mut place = super::csv_place(self.path, self.line);
        if let (crate::portfolio::Place::Csv { label, .. }, Some(id)) =
            (&mut place, self.text(column))
        {
            *label = Some(format!("{what} {id}"));
        }
        place
    }

    /// Whether the file has this column.
    fn has(&self, column: &str) -> bool {
        self.layout.index.contains_key(column)
    }

    /// The cell, `None` when the column is absent or the cell empty.
    fn text(&self, column: &str) -> Option<&str> {
        let i = *self.layout.index.get(column)?;
        self.record.get(i).filter(|c| !c.is_empty())
    }

    fn required(&self, column: &str) -> Result<&str, Problem> {
        self.text(column)
            .ok_or_else(|| self.problem(column, "missing value (required)"))
    }

    fn parse<T>(
        &self,
        column: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Problem> {
        self.text(column)
            .map(|t| parse(t).map_err(|m| self.problem(column, m)))
            .transpose()
    }

    /// An amount cell, within [`MAX_AMOUNT`](crate::portfolio::MAX_AMOUNT) (its decimals are
    /// checked where the currency is known).
    fn amount(&self, column: &str) -> Result<Option<Decimal>, Problem> {
        let amount = self.parse(column, |t| parse_amount(t, self.options.decimal))?;
        match amount.and_then(|a| check_amount(a, None)) {
            Some(message) => Err(self.problem(column, message)),
            None => Ok(amount),
        }
    }

    /// A date cell, in the years [`check_year`] accepts.
    fn date(&self, column: &str) -> Result<Option<NaiveDate>, Problem> {
        let date = self.parse(column, parse_date)?;
        match date.and_then(check_year) {
            Some(message) => Err(self.problem(column, message)),
            None => Ok(date),
        }
    }

    /// Sets `slot` from the column when the file has it (an empty cell clears it).
    fn set_text(&self, column: &str, slot: &mut Option<String>) {
        if self.has(column) {
            *slot = self.text(column).map(str::to_string);
        }
    }

    fn apply(&self, kind: Kind, merge: &mut Merge) -> Result<(), Problem> {
        match kind {
            Kind::Customers => self.customer(merge),
            Kind::Contacts => self.contact(merge),
            Kind::Invoices => self.invoice(merge),
            Kind::Payments => self.payment(merge),
        }
    }

    fn customer(&self, merge: &mut Merge) -> Result<(), Problem> {
        let id = self.required("id")?;
        let segment = self
            .parse("segment", |t| {
                Segment::parse(t)
                    .ok_or_else(|| format!("unknown segment \"{t}\" (expected b2b, b2c or public)"))
            })?
            .unwrap_or_default();
        let risk = self.parse("risk_score", |t| {
            t.parse::<i64>()
                .ok()
                .filter(|n| (0..=100).contains(n))
                .ok_or_else(|| {
                    format!("invalid risk score \"{t}\" (expected a whole number from 0 to 100)")
                })
        })?;
        let insured = self.parse("credit_insured", |t| match t.to_lowercase().as_str() {
            "true" | "yes" | "oui" | "1" | "vrai" => Ok(true),
            "false" | "no" | "non" | "0" | "faux" => Ok(false),
            _ => Err(format!(
                "invalid boolean \"{t}\" (expected true/false, yes/no, oui/non or 1/0)"
            )),
        })?;
        let language = self.parse("language", |t| {
            let l = t.to_lowercase();
            (l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()))
                .then_some(l)
                .ok_or_else(|| {
                    format!("invalid language \"{t}\" (expected two letters such as fr)")
                })
        })?;
        let payment_terms = self.parse("payment_terms", parse_terms)?;
        let late_interest_rate = self.parse("late_interest_rate", parse_rate)?;
        if let Some(note) = late_interest_rate
            .and_then(|r| crate::rate_check::import_note(id, r, self.options.rates()))
        {
            let problem = self.problem("late_interest_rate", format!("warning: {note}"));
            merge.note(problem.to_string());
        }
        let terms = self.parse("payment_terms_days", |t| {
            t.parse::<u32>().map_err(|_| {
                format!("invalid number of days \"{t}\" (expected a whole number such as 30)")
            })
        })?;
        // The contact cells, a country code checked (upper-cased, as currencies are).
        let contact_values = self
            .layout
            .contacts
            .iter()
            .map(|(i, _, field)| {
                let value = self.record.get(*i).filter(|v| !v.is_empty());
                match value {
                    Some(v) if field == "country" => {
                        country(v).map(Some).map_err(|m| self.problem_at(*i, m))
                    }
                    v => Ok(v.map(str::to_string)),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        merge.upsert_customer(id, |c| {
            self.set_text("name", &mut c.name);
            if self.has("segment") {
                c.segment = segment;
            }
            if self.has("risk_score") {
                c.risk_score = risk.unwrap_or(0);
            }
            if self.has("credit_insured") {
                c.credit_insured = insured.unwrap_or(false);
            }
            if self.has("language") {
                c.language = language.unwrap_or_else(|| "fr".to_string());
            }
            if self.has("payment_terms_days") {
                c.payment_terms_days = terms;
            }
            if self.has("payment_terms") {
                c.payment_terms = payment_terms;
            }
            if self.has("late_interest_rate") {
                c.late_interest_rate = late_interest_rate;
            }
            if self.has("tags") {
                c.tags = self
                    .text("tags")
                    .map(|t| {
                        t.split(';')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
            }
            self.set_text("scenario", &mut c.scenario);
            for ((_, role, field), value) in self.layout.contacts.iter().zip(contact_values) {
                let contact = c.contacts.entry(role.clone()).or_default();
                set_contact_field(contact, field, value);
                if *contact == Contact::default() {
                    c.contacts.remove(role);
                }
            }
        });
        Ok(())
    }

    fn contact(&self, merge: &mut Merge) -> Result<(), Problem> {
        let customer = self.required("customer")?;
        let role = self.required("role")?.to_lowercase();
        if merge.customer(customer).is_none() {
            return Err(self
                .problem(
                    "customer",
                    format!("unknown customer \"{customer}\" (import the customers first)"),
                )
                .about_stored_data());
        }
        let country = self.parse("country", country)?;
        merge.upsert_customer(customer, |c| {
            let contact = c.contacts.entry(role.clone()).or_default();
            self.set_text("name", &mut contact.name);
            self.set_text("email", &mut contact.email);
            self.set_text("phone", &mut contact.phone);
            for field in ["address", "postcode", "city"] {
                if self.has(field) {
                    set_contact_field(contact, field, self.text(field).map(str::to_string));
                }
            }
            if self.has("country") {
                set_contact_field(contact, "country", country);
            }
            if *contact == Contact::default() {
                c.contacts.remove(&role);
            }
        });
        Ok(())
    }

    fn invoice(&self, merge: &mut Merge) -> Result<(), Problem> {
        let id = self.required("id")?.to_string();
        let existing = merge.invoice(&id).cloned();
        let need = |column: &str| -> Result<(), Problem> {
            if existing.is_none() && self.text(column).is_none() {
                Err(self
                    .problem(
                        column,
                        format!("missing value (required for a new invoice \"{id}\")"),
                    )
                    .about_stored_data())
            } else {
                Ok(())
            }
        };
        need("customer")?;
        need("amount")?;
        need("issued")?;
        let amount = self.amount("amount")?;
        if let Some(a) = amount.filter(|a| *a <= Decimal::ZERO) {
            return Err(self.problem("amount", format!("amount must be positive, found {a}")));
        }
        let outstanding = self.amount("outstanding")?;
        let currency = self.parse("currency", |t| {
            let c = t.to_uppercase();
            (c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
                .then_some(c)
                .ok_or_else(|| {
                    format!("invalid currency \"{t}\" (expected an ISO 4217 code such as EUR)")
                })
        })?;
        let issued = self.date("issued")?;
        let due = self.date("due")?;
        let payment_terms = self.parse("payment_terms", parse_terms)?;
        let delivered_on = self.date("delivered_on")?;
        let customer = self.text("customer").map(str::to_string);
        let mut invoice = existing.clone().unwrap_or_else(|| Invoice {
            id: id.clone(),
            customer: String::new(),
            amount: Decimal::ZERO,
            currency: "EUR".into(),
            issued: NaiveDate::MIN,
            due: NaiveDate::MIN,
            outstanding: None,
            po_number: None,
            payment_terms: None,
            delivered_on: None,
            dunning: Default::default(),
            payment_means: None,
            late_interest_rate: None,
            installments: Vec::new(),
        });
        if let Some(c) = customer {
            invoice.customer = c;
        }
        if let Some(a) = amount {
            invoice.amount = a;
        }
        if self.has("currency") {
            invoice.currency = currency.unwrap_or_else(|| "EUR".into());
        }
        if let Some(d) = issued {
            invoice.issued = d;
        }
        if self.has("outstanding") {
            invoice.outstanding = outstanding;
        }
        self.set_text("po_number", &mut invoice.po_number);
        if self.has("payment_terms") {
            invoice.payment_terms = payment_terms;
        }
        if self.has("delivered_on") {
            invoice.delivered_on = delivered_on;
        }
        if self.has("payment_means") {
            invoice.payment_means = self.parse("payment_means", PaymentMeans::parse)?;
        }
        if self.has("late_interest_rate") {
            invoice.late_interest_rate = self.parse("late_interest_rate", parse_rate)?;
            if let Some(note) = invoice.late_interest_rate.and_then(|r| {
                crate::rate_check::invoice_import_note(
                    &id,
                    &invoice.customer,
                    r,
                    self.options.rates(),
                )
            }) {
                let problem = self.problem("late_interest_rate", format!("warning: {note}"));
                merge.note(problem.to_string());
            }
        }
        // Where the invoice stands in another tool, and its own catch-up (docs/DATA.md).
        self.set_text("dunning_step", &mut invoice.dunning.step);
        if self.has("dunning_date") {
            invoice.dunning.date = self.date("dunning_date")?;
        }
        if self.has("dunning_attempts") {
            invoice.dunning.attempts = self.parse("dunning_attempts", |t| {
                let n = t
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| format!("expected a whole number of attempts, found \"{t}\""))?;
                if n > MAX_DUNNING_ATTEMPTS {
                    return Err(format!(
                        "{n} sends of one step: at most {MAX_DUNNING_ATTEMPTS}"
                    ));
                }
                Ok(n)
            })?;
        }
        if self.has("catch_up") {
            invoice.dunning.catch_up = self.parse("catch_up", str::parse)?;
        }
        match due {
            Some(d) => invoice.due = d,
            None if existing.is_none() || (self.has("due") && self.text("due").is_none()) => {
                // The invoice's terms, else its customer's, else the default net terms.
                let terms = invoice
                    .payment_terms
                    .or_else(|| merge.customer(&invoice.customer).and_then(|c| c.terms()))
                    .unwrap_or(PaymentTerms::net(self.options.default_terms));
                invoice.due = terms
                    .due_date(invoice.issued, invoice.delivered_on)
                    .map_err(|e| self.problem("payment_terms", e.to_string()))?;
            }
            None => {}
        }
        // Several due dates (docs/DATA.md): the last one is the invoice's due date.
        if self.has("installments") {
            let total = invoice.amount;
            invoice.installments = self
                .parse("installments", |t| {
                    relance_core::domain::Installment::parse_plan(t, total)
                })?
                .unwrap_or_default();
            if due.is_none()
                && let Some(last) = invoice.installments.last()
            {
                invoice.due = last.due;
            }
            relance_core::domain::Installment::check_plan_opt(
                &invoice.installments,
                invoice.amount,
                invoice.due,
            )
            .map_err(|e| self.problem("installments", e))?;
        }
        for (column, amount) in [
            ("amount", Some(invoice.amount)),
            ("outstanding", invoice.outstanding),
        ] {
            if let Some(message) = amount.and_then(|a| check_amount(a, Some(&invoice.currency))) {
                return Err(self.problem(column, message));
            }
        }
        // L441-10 caps: reported, never applied (the due date on file stays).
        let stated = invoice
            .payment_terms
            .or_else(|| merge.customer(&invoice.customer).and_then(|c| c.terms()));
        if let Some(breach) = check_due(invoice.issued, invoice.due, stated.map(|t| t.kind)) {
            let (column, what) = match (stated, due) {
                (_, Some(_)) => ("due", format!("due date {}", invoice.due)),
                (Some(t), None) => ("payment_terms", format!("terms `{t}` give {}", invoice.due)),
                (None, None) => ("due", format!("due date {}", invoice.due)),
            };
            let problem = self.problem(column, format!("warning: {what}: {breach}"));
            merge.note(problem.to_string());
        }
        if invoice.due < invoice.issued {
            return Err(self.problem(
                "due",
                format!(
                    "due date {} is before the issue date {}",
                    invoice.due, invoice.issued
                ),
            ));
        }
        merge.upsert_invoice(&id, |_| invoice);
        Ok(())
    }

    fn payment(&self, merge: &mut Merge) -> Result<(), Problem> {
        let date = self
            .date("date")?
            .ok_or_else(|| self.problem("date", "missing value (required)"))?;
        let invoice = self.required("invoice")?.to_string();
        let amount = self
            .amount("amount")?
            .ok_or_else(|| self.problem("amount", "missing value (required)"))?;
        if amount < Decimal::ZERO {
            return Err(self.problem(
                "amount",
                format!("a payment cannot be negative, found {amount}"),
            ));
        }
        let Some(currency) = merge.invoice(&invoice).map(|i| i.currency.clone()) else {
            return Err(self
                .problem(
                    "invoice",
                    format!("unknown invoice \"{invoice}\" (import the invoices first)"),
                )
                .about_stored_data());
        };
        if let Some(message) = check_amount(amount, Some(&currency)) {
            return Err(self.problem("amount", message));
        }
        merge.add_event_at(
            Event {
                date,
                kind: EventKind::Payment {
                    invoice,
                    amount,
                    reference: self.text("reference").map(str::to_string),
                    details: PaymentDetails {
                        means: self.parse("means", PaymentMeans::parse)?,
                        payer_iban: self.text("payer_iban").map(str::to_string),
                        end_to_end_id: self.text("end_to_end_id").map(str::to_string),
                        remittance_date: self.date("remittance_date")?,
                    },
                },
            },
            self.line,
        );
        Ok(())
    }
}

/// A `late_interest_rate` cell: a yearly percentage, 0 to 100 (`12.5`, `12,5`).
fn parse_rate(text: &str) -> Result<Decimal, String> {
    crate::portfolio::scalar::yearly_rate(super::parse_amount(text, super::DecimalStyle::Auto)?)
}

/// A `payment_terms` cell (see `relance_core::terms`).
fn parse_terms(text: &str) -> Result<PaymentTerms, String> {
    text.parse().map_err(|e: TermsError| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance_core::domain::Portfolio;

    /// A fresh folder per call: tests run in parallel and several write a file of the same
    /// name (a shared folder made `contacts_and_payments` read another test's invoices).
    fn temp(name: &str, content: &str) -> std::path::PathBuf {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "relance-csv-mapped-{}-{n}-{}",
            std::process::id(),
            name.replace('/', "_")
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join(name);
        std::fs::write(&path, content).expect("write");
        path
    }

    fn run(
        name: &str,
        content: &str,
        options: &CsvOptions,
        merge: &mut Merge,
    ) -> Result<Kind, String> {
        let path = temp(name, content);
        let out = import(&path, options, merge, &mut |_, _| {})
            .map(|(k, _)| k)
            .map_err(|e| e.to_string().replace(&format!("{}", path.display()), name));
        let _ = std::fs::remove_dir_all(path.parent().expect("a folder"));
        out
    }

    fn opts(map: &str) -> CsvOptions {
        CsvOptions {
            mapping: Mapping::parse(map).expect("mapping"),
            default_terms: 30,
            ..CsvOptions::default()
        }
    }

    #[test]
    fn mapping_parses_and_rejects() {
        let m = Mapping::parse("Numero = id, client=customer").expect("ok");
        assert_eq!(m.apply("NUMERO"), "id");
        assert_eq!(m.apply("other"), "other");
        assert!(Mapping::parse("numero").is_err());
        assert!(Mapping::parse("=id").is_err());
    }

    #[test]
    fn mapped_french_invoices_upsert() {
        let mut merge = Merge::new(Portfolio::default());
        run(
            "clients.csv",
            "code;nom;delai\nACME;Acme SA;45\n",
            &opts("code=id,nom=name,delai=payment_terms_days"),
            &mut merge,
        )
        .expect("customers");
        let kind = run(
            "factures.csv",
            "numero;client;montant;date\nF-1;ACME;1 200,50;01/02/2026\n",
            &opts("numero=id,client=customer,montant=amount,date=issued"),
            &mut merge,
        )
        .expect("invoices");
        assert_eq!(kind, Kind::Invoices);
        let f1 = merge.invoice("F-1").expect("F-1").clone();
        assert_eq!(f1.amount, "1200.50".parse::<Decimal>().expect("d"));
        assert_eq!(f1.due.to_string(), "2026-03-18", "45 days of terms");
        // A second file only changes the PO number; the rest is kept.
        run(
            "invoices.csv",
            "id,po_number\nF-1,PO-9\n",
            &opts(""),
            &mut merge,
        )
        .expect("update");
        let f1b = merge.invoice("F-1").expect("F-1");
        assert_eq!(
            (f1b.amount, f1b.due, f1b.po_number.as_deref()),
            (f1.amount, f1.due, Some("PO-9"))
        );
        let (_, changes) = merge.finish();
        assert_eq!(changes.invoices.new, ["F-1"]);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let mut merge = Merge::new(Portfolio::default());
        let err = run(
            "invoices.csv",
            "numero,customer,amount,issued\nF-1,ACME,12x,2026-01-01\nF-2,ACME,5,2026-13-01\n",
            &opts("numero=id"),
            &mut merge,
        )
        .expect_err("bad");
        assert!(
            err.contains("invoices.csv:2 (invoice F-1): column \"amount\": invalid amount \"12x\""),
            "{err}"
        );
        assert!(
            err.contains(
                "invoices.csv:3 (invoice F-2): column \"issued\": invalid date \"2026-13-01\""
            ),
            "{err}"
        );
        let err = run("invoices.csv", "id,custmer\n", &opts(""), &mut merge).expect_err("bad");
        assert!(
            err.contains(
                "column \"custmer\": unknown column for invoices (did you mean \"customer\"?)"
            ),
            "{err}"
        );
    }

    #[test]
    fn rates_means_and_payment_details_import_with_a_note_below_the_floor() {
        let mut merge = Merge::new(Portfolio::default());
        // 7 % is below the latest floor of the built-in table: 3 × 2.62 (2026-H1) = 7.86 %.
        run(
            "clients.csv",
            "id;taux\nACME;7\nBETA;12,5\n",
            &opts("taux=late_interest_rate"),
            &mut merge,
        )
        .expect("customers");
        run(
            "invoices.csv",
            "id,customer,amount,issued,due,payment_means\nF-1,ACME,100,2026-01-01,2026-01-31,LCR\n",
            &opts(""),
            &mut merge,
        )
        .expect("invoices");
        run(
            "payments.csv",
            "date,invoice,amount,means,payer_iban,end_to_end_id,remittance_date\n\
             2026-02-02,F-1,100,lcr,FR7630006000011234567890189,E2E-1,2026-01-25\n",
            &opts(""),
            &mut merge,
        )
        .expect("payments");
        assert_eq!(
            merge.customer("BETA").and_then(|c| c.late_interest_rate),
            Some(Decimal::new(125, 1))
        );
        assert_eq!(
            merge.invoice("F-1").and_then(|i| i.payment_means),
            Some(PaymentMeans::Lcr)
        );
        let err = run(
            "clients.csv",
            "id;taux\nX;101\n",
            &opts("taux=late_interest_rate"),
            &mut merge,
        )
        .expect_err("out of range");
        assert!(
            err.contains("a yearly rate in percent between 0 and 100, found 101"),
            "{err}"
        );
        let (p, changes) = merge.finish();
        let EventKind::Payment { details, .. } = &p.events[0].kind else {
            panic!("a payment: {:?}", p.events);
        };
        assert_eq!(
            (
                details.means,
                details.payer_iban.as_deref(),
                details.end_to_end_id.as_deref()
            ),
            (
                Some(PaymentMeans::Lcr),
                Some("FR7630006000011234567890189"),
                Some("E2E-1")
            )
        );
        assert_eq!(
            details.remittance_date,
            Some("2026-01-25".parse().expect("date"))
        );
        let notes: Vec<&String> = changes
            .notes
            .iter()
            .filter(|n| n.contains("contractual"))
            .collect();
        assert_eq!(notes.len(), 1, "{:?}", changes.notes);
        assert!(
            notes[0].ends_with(
                "clients.csv:2 (customer ACME): column \"taux\": warning: customer ACME: the \
                 contractual late-payment rate 7 % is below three times the legal rate in 2026-H1 (floor \
                 7.86 %) (Code de commerce L441-10 II)"
            ),
            "{}",
            notes[0]
        );
    }

    #[test]
    fn contacts_and_payments() {
        let mut merge = Merge::new(Portfolio::default());
        run("customers.csv", "id\nACME\n", &opts(""), &mut merge).expect("c");
        run(
            "contacts.csv",
            "customer,role,email\nACME,Accounting,a@acme.test\n",
            &opts(""),
            &mut merge,
        )
        .expect("contacts");
        assert_eq!(
            merge
                .customer("ACME")
                .and_then(|c| c.contacts.get("accounting"))
                .and_then(|c| c.email.as_deref()),
            Some("a@acme.test")
        );
        run(
            "invoices.csv",
            "id,customer,amount,issued,due\nF-1,ACME,10,2026-01-01,2026-01-31\n",
            &opts(""),
            &mut merge,
        )
        .expect("i");
        let pay = "date,invoice,amount,reference\n2026-02-01,F-1,\"4,00\",VIR-1\n";
        run("payments.csv", pay, &opts(""), &mut merge).expect("p");
        run("payments.csv", pay, &opts(""), &mut merge).expect("p again");
        let (p, changes) = merge.finish();
        assert_eq!(p.events.len(), 1, "the same payment twice is one payment");
        assert_eq!(changes.new_payments, 1);
    }

    #[test]
    fn address_columns_round_trip_through_import_write_and_read() {
        let mut merge = Merge::new(Portfolio::default());
        run(
            "customers.csv",
            "id,accounting_address,accounting_postcode,accounting_city,accounting_country\n\
             ACME,\"Service comptable\n1 rue de la Paix\",75002,Paris,fr\n\
             BETA,Beta GmbH | Hauptstr. 1,10115,Berlin,DE\n",
            &opts(""),
            &mut merge,
        )
        .expect("customers");
        run(
            "contacts.csv",
            "client;role;adresse;code postal;ville;pays\n\
             ACME;legal;Service juridique | 3 place Vendôme;75001;Paris;FR\n\
             BETA;legal;Postfach 12;;Berlin;\n",
            &opts("client=customer,adresse=address,code postal=postcode,ville=city,pays=country"),
            &mut merge,
        )
        .expect("contacts");
        let (p, _) = merge.finish();
        let acme = &p.customers[0].contacts;
        assert_eq!(
            acme["accounting"].address,
            Some(PostalAddress {
                lines: vec!["Service comptable".into(), "1 rue de la Paix".into()],
                postcode: Some("75002".into()),
                city: Some("Paris".into()),
                country: Some("FR".into()),
            }),
            "a country code in any case reads upper-cased"
        );
        assert_eq!(
            acme["legal"].address.as_ref().map(|a| a.lines.clone()),
            Some(vec![
                "Service juridique".to_string(),
                "3 place Vendôme".to_string()
            ])
        );
        let dir = std::env::temp_dir().join(format!(
            "relance-csv-mapped-{}-address-round-trip",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        crate::import::write::write_dir(&dir, &p).expect("written (and read back identically)");
        let header = std::fs::read_to_string(dir.join("customers.csv")).expect("customers.csv");
        assert!(
            header.starts_with(
                "id,name,segment,risk_score,credit_insured,language,payment_terms_days,tags,scenario,\
                 payment_terms,insurer,credit_cover,credit_limit,late_interest_rate,accounting_address,accounting_city,accounting_country,accounting_postcode,\
                 legal_address,legal_city,legal_country,legal_postcode\n"
            ),
            "{header}"
        );
        let back = crate::portfolio::load_dir(&dir).expect("reads back");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(back.customers, p.customers);
    }

    /// A bad record names its file, line, column (as the file spells it) and the record: the
    /// invoice it is, or pays; a record without its id is named by file and line alone.
    #[test]
    fn a_bad_record_names_its_invoice() {
        let mut merge = Merge::new(Portfolio::default());
        run("customers.csv", "id\nACME\n", &opts(""), &mut merge).expect("customers");
        run(
            "invoices.csv",
            "id,customer,amount,issued,due\nF-1,ACME,100,2026-01-01,2026-01-31\n",
            &opts(""),
            &mut merge,
        )
        .expect("invoices");
        // (file, content, what the error starts with)
        let cases = [
            (
                "invoices.csv",
                "numero,customer,amount,issued\nF-1,ACME,5,2026-01-01\nF-0042,ACME,12x,2026-01-01\n",
                "invoices.csv:3 (invoice F-0042): column \"amount\": invalid amount \"12x\"",
            ),
            (
                "invoices.csv",
                "id,customer,amount,issued,due,echeancier\n\
                 F-7,ACME,1000,2026-01-01,2026-03-31,2026-01-31 300\n",
                "invoices.csv:2 (invoice F-7): column \"echeancier\": `2026-01-31 300` has fewer than \
                 two installments",
            ),
            (
                "invoices.csv",
                "id,customer,amount,issued\n,ACME,5,2026-01-01\n",
                "invoices.csv:2: column \"id\": missing value (required)",
            ),
            (
                "payments.csv",
                "date,invoice,amount\n2026-02-01,F-1,abc\n",
                "payments.csv:2 (payment of invoice F-1): column \"amount\": invalid amount \"abc\"",
            ),
            (
                "payments.csv",
                "date,invoice,amount\n2026-02-01,F-1,10\n2026-02-30,F-1,10\n",
                "payments.csv:3 (payment of invoice F-1): column \"date\": invalid date \"2026-02-30\"",
            ),
        ];
        for (name, content, want) in cases {
            let map = if content.starts_with("numero") {
                "numero=id"
            } else {
                "echeancier=installments"
            };
            let err = run(name, content, &opts(map), &mut merge).expect_err(want);
            assert!(err.contains(want), "{want}\n{err}");
        }
    }

    #[test]
    fn a_bad_country_names_the_column_as_the_file_spells_it() {
        let mut merge = Merge::new(Portfolio::default());
        run("customers.csv", "id\nACME\n", &opts(""), &mut merge).expect("c");
        let err = run(
            "contacts.csv",
            "customer,role,Pays\nACME,legal,France\n",
            &opts("pays=country"),
            &mut merge,
        )
        .expect_err("bad country");
        assert_eq!(
            err,
            "contacts.csv:2 (contact of customer ACME): column \"Pays\": invalid country \"France\" (expected an ISO 3166-1 alpha-2 code such as FR)"
        );
        let err = run(
            "customers.csv",
            "id,legal_country\nACME,F1\n",
            &opts(""),
            &mut merge,
        )
        .expect_err("bad country");
        assert_eq!(
            err,
            "customers.csv:2 (customer ACME): column \"legal_country\": invalid country \"F1\" (expected an ISO 3166-1 alpha-2 code such as FR)"
        );
    }
}
