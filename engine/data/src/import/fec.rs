//! Importing a FEC (Fichier des Écritures Comptables, article A47 A-1 of the Livre des
//! procédures fiscales): customers, invoices, payments and lettering from the general ledger.
//!
//! The file is checked whole before anything is used: the 18 columns of the header
//! (`JournalCode … Idevise`, tab or pipe separated), 18 fields on every line, dates `AAAAMMJJ`,
//! amounts with a decimal comma (a decimal point is read but reported as non-conforming),
//! balanced entries (debits = credits per `JournalCode` +
//! `EcritureNum`). Every problem is named by file, line and column, and one problem rejects the
//! whole file: a FEC is never half-read. Text is UTF-8 or Windows-1252. The Montant/Sens
//! variant of the layout (one amount and its direction instead of Debit and Credit) is read as
//! the equivalent Debit/Credit; the file name (`SirenFECAAAAMMJJ.txt`) is checked, and what does
//! not conform there or in the amounts is a warning (an import note), never a rejection.
//!
//! Then the 411 lines (customer accounts) are read: a collective account with `CompAuxNum`
//! gives one customer per auxiliary code, otherwise each `411…` account is a customer. A net
//! debit on a customer account is an invoice (its `PieceRef`, or `JOURNAL-NUM` when the piece
//! has no usable reference; issued on `PieceDate`, due after the customer's payment terms or
//! the default terms); a net credit is a payment when the entry moves a bank or cash account
//! (class 5) or a bill receivable (413), a write-off when it moves 654 or 6714, a credit note
//! otherwise. Lettering (`EcritureLet`) matches credits to the debits of the same letter,
//! oldest first; a partial letter leaves the remainder open. Unlettered credits go to the
//! invoice their reference names, else the one open for exactly that amount, else the oldest
//! open ones (each such choice is reported as a note). This module must not write anything.

use relance_core::terms::PaymentTerms;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{Merge, Problems, decode, parse_compact_date, read_file};
use crate::portfolio::PortfolioError;
use relance_core::domain::{Event, EventKind, Invoice};
use relance_core::fact_order::FileKind;

/// The 18 columns, in the order of the specification.
pub const COLUMNS: [&str; 18] = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
];

/// The two columns that replace `Debit` and `Credit` in the Montant/Sens variant of the FEC.
///
/// Article A47 A-1 of the Livre des procédures fiscales (arrêté of 29 July 2013), VII 1°, lists
/// as fields 12 and 13 "Le montant au débit" and "Le montant au crédit", and allows instead "le
/// montant" and "le sens" of the line; the BOFiP commentary of the layout
/// (BOI-CF-IOR-60-40-20, "Format du fichier des écritures comptables") names the fields
/// `Montant` and `Sens`, the direction written either `D`/`C` or `+1`/`-1` (`+1` a debit, `-1`
/// a credit). Both conventions are read; see [`sens`].
pub const MONTANT_SENS: [&str; 2] = ["Montant", "Sens"];

/// Columns that must hold a value on every line.
const MANDATORY: [usize; 10] = [0, 1, 2, 3, 4, 5, 8, 9, 10, 15];

/// How to read a FEC.
#[derive(Debug, Clone)]
pub struct FecOptions {
    /// Payment terms for customers without their own.
    pub default_terms: u32,
}

impl Default for FecOptions {
    fn default() -> Self {
        FecOptions {
            default_terms: super::DEFAULT_TERMS_DAYS,
        }
    }
}

/// What a FEC held.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FecSummary {
    pub lines: u64,
    pub entries: usize,
    pub customer_lines: u64,
    pub encoding: String,
}

/// One line of the file, parsed.
#[derive(Debug, Clone)]
struct Line {
    line: u64,
    journal: String,
    num: String,
    date: NaiveDate,
    account: String,
    account_lib: String,
    aux: String,
    aux_lib: String,
    piece_ref: String,
    piece_date: NaiveDate,
    lib: String,
    debit: Decimal,
    credit: Decimal,
    letter: String,
}

/// A debit (an invoice) or a credit on a customer account.
#[derive(Debug, Clone)]
struct Item {
    id: String,
    customer: String,
    amount: Decimal,
    remaining: Decimal,
    date: NaiveDate,
    issued: NaiveDate,
    letter: String,
    kind: CreditKind,
    /// `PieceRef` and `EcritureLib`, where a payment may name its invoice.
    text: String,
    order: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CreditKind {
    Payment,
    CreditNote,
    WriteOff,
}

/// Reads the FEC at `path` into `merge`. `progress(done, total)` is told the bytes read.
pub fn import(
    path: &Path,
    options: &FecOptions,
    merge: &mut Merge,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<FecSummary, PortfolioError> {
    import_bytes(path, &read_file(path)?, options, merge, progress)
}

/// [`import`] of a FEC's bytes already in memory (an HTTP body); `path` only names the file in
/// problems.
pub fn import_bytes(
    path: &Path,
    bytes: &[u8],
    options: &FecOptions,
    merge: &mut Merge,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<FecSummary, PortfolioError> {
    let (text, encoding) = decode(bytes);
    merge.begin_input(FileKind::Fec);
    let (lines, warnings) = parse(path, &text, progress)?;
    for w in check_file_name(path) {
        merge.note(format!("warning: {w}"));
    }
    for w in warnings {
        merge.note(format!("warning: {w}"));
    }
    let mut summary = FecSummary {
        lines: lines.len() as u64,
        encoding: encoding.to_string(),
        ..FecSummary::default()
    };
    // Entries, in file order.
    let mut entries: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        entries
            .entry((l.journal.clone(), l.num.clone()))
            .or_default()
            .push(i);
    }
    summary.entries = entries.len();

    let mut debits: Vec<Item> = Vec::new();
    let mut credits: Vec<Item> = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for ((journal, num), indices) in &entries {
        let moves = |prefixes: &[&str]| {
            indices
                .iter()
                .any(|&i| prefixes.iter().any(|p| lines[i].account.starts_with(p)))
        };
        let credit_kind = if moves(&["5", "413"]) {
            CreditKind::Payment
        } else if moves(&["654", "6714"]) {
            CreditKind::WriteOff
        } else {
            CreditKind::CreditNote
        };
        for &i in indices {
            let l = &lines[i];
            if !l.account.starts_with("411") {
                continue;
            }
            summary.customer_lines += 1;
            let (customer, name) = if l.aux.is_empty() {
                (l.account.clone(), l.account_lib.clone())
            } else {
                (
                    l.aux.clone(),
                    if l.aux_lib.is_empty() {
                        l.account_lib.clone()
                    } else {
                        l.aux_lib.clone()
                    },
                )
            };
            names.entry(customer.clone()).or_insert(name);
            let net = l.debit - l.credit;
            if net == Decimal::ZERO {
                continue;
            }
            let piece = usable_ref(&l.piece_ref);
            let item = Item {
                id: piece.map_or_else(|| format!("{journal}-{num}"), str::to_string),
                customer,
                amount: net.abs(),
                remaining: net.abs(),
                date: l.date,
                issued: l.piece_date,
                letter: l.letter.clone(),
                kind: credit_kind,
                text: format!("{} {}", l.piece_ref, l.lib),
                order: l.line,
            };
            if net > Decimal::ZERO {
                debits.push(item);
            } else {
                credits.push(item);
            }
        }
    }
    merge_same_invoice(&mut debits, &entries, &lines);

    for (id, name) in &names {
        merge.upsert_customer(id, |c| {
            if c.name.is_none() && !name.is_empty() {
                c.name = Some(name.clone());
            }
        });
    }
    for d in &debits {
        // The customer's terms (`payment_terms`, else `payment_terms_days` as `net N`), else
        // `net default_terms`; a FEC has no delivery date, so terms from delivery fall back on
        // the invoice date.
        let terms = merge
            .customer(&d.customer)
            .and_then(|c| c.terms())
            .unwrap_or(PaymentTerms::net(options.default_terms));
        merge.upsert_invoice(&d.id, |old| {
            let due = old
                .map(|o| o.due)
                .filter(|due| *due >= d.issued)
                .unwrap_or_else(|| {
                    terms
                        .due_date(
                            d.issued,
                            old.and_then(|o| o.delivered_on).or(Some(d.issued)),
                        )
                        .unwrap_or(d.issued)
                });
            Invoice {
                id: d.id.clone(),
                customer: d.customer.clone(),
                amount: d.amount,
                currency: "EUR".to_string(),
                issued: d.issued,
                due,
                outstanding: None,
                po_number: old.and_then(|o| o.po_number.clone()),
                payment_terms: old.and_then(|o| o.payment_terms),
                delivered_on: old.and_then(|o| o.delivered_on),
                dunning: old.map(|o| o.dunning.clone()).unwrap_or_default(),
                payment_means: None,
                late_interest_rate: old.and_then(|o| o.late_interest_rate),
                // A FEC has no due dates: an invoice's installments (from a CSV import) stay
                // while its amount and due date do.
                installments: old
                    .filter(|o| o.amount == d.amount && o.due == due)
                    .map(|o| o.installments.clone())
                    .unwrap_or_default(),
            }
        });
    }
    allocate(debits, credits, merge);
    progress(text.len() as u64, text.len() as u64);
    Ok(summary)
}

/// `PieceRef` when it can name an invoice (not empty, not a dash).
fn usable_ref(piece: &str) -> Option<&str> {
    let t = piece.trim();
    (!t.is_empty() && t.chars().any(|c| c.is_ascii_alphanumeric()) && t != "0").then_some(t)
}

/// Several debit lines of one entry for one customer and piece are one invoice; the same piece
/// number in different entries gets the entry appended to stay unique.
fn merge_same_invoice(
    debits: &mut Vec<Item>,
    entries: &BTreeMap<(String, String), Vec<usize>>,
    lines: &[Line],
) {
    let entry_of: HashMap<u64, String> = entries
        .iter()
        .flat_map(|((j, n), idx)| {
            idx.iter()
                .map(move |&i| (lines[i].line, format!("{j}-{n}")))
        })
        .collect();
    let mut merged: Vec<Item> = Vec::new();
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    for d in debits.drain(..) {
        let entry = entry_of.get(&d.order).cloned().unwrap_or_default();
        let key = (entry, d.customer.clone(), d.id.clone());
        if let Some(&i) = index.get(&key) {
            merged[i].amount += d.amount;
            merged[i].remaining += d.amount;
            if merged[i].letter.is_empty() {
                merged[i].letter = d.letter;
            }
        } else {
            index.insert(key, merged.len());
            merged.push(d);
        }
    }
    let mut count: HashMap<String, usize> = HashMap::new();
    for d in &merged {
        *count.entry(d.id.clone()).or_default() += 1;
    }
    for d in &mut merged {
        if count[&d.id] > 1 {
            let entry = entry_of.get(&d.order).cloned().unwrap_or_default();
            d.id = format!("{} ({entry})", d.id);
        }
    }
    *debits = merged;
}

/// Matches credits to debits (lettering first, then references, amounts, seniority) and adds
/// the payment, credit-note and write-off events.
fn allocate(mut debits: Vec<Item>, credits: Vec<Item>, merge: &mut Merge) {
    debits.sort_by_key(|d| (d.issued, d.order));
    let mut by_customer: BTreeMap<String, (Vec<Item>, Vec<Item>)> = BTreeMap::new();
    for d in debits {
        by_customer.entry(d.customer.clone()).or_default().0.push(d);
    }
    let mut credits = credits;
    credits.sort_by_key(|c| (c.date, c.order));
    for c in credits {
        by_customer.entry(c.customer.clone()).or_default().1.push(c);
    }
    let mut guessed = 0usize;
    const LISTED: usize = 20;
    for (customer, (mut debits, credits)) in by_customer {
        let mut pool = Vec::new();
        for mut c in credits {
            if !c.letter.is_empty() {
                let targets: Vec<usize> = (0..debits.len())
                    .filter(|&i| {
                        debits[i].letter == c.letter && debits[i].remaining > Decimal::ZERO
                    })
                    .collect();
                for i in targets {
                    apply(&mut c, &mut debits[i], merge);
                }
            }
            if c.remaining > Decimal::ZERO {
                pool.push(c);
            }
        }
        for mut c in pool {
            // The invoice the payment names.
            let named = (0..debits.len()).find(|&i| {
                debits[i].remaining > Decimal::ZERO && names_invoice(&c.text, &debits[i].id)
            });
            if let Some(i) = named {
                apply(&mut c, &mut debits[i], merge);
            }
            if c.remaining == Decimal::ZERO {
                continue;
            }
            let exact: Vec<usize> = (0..debits.len())
                .filter(|&i| debits[i].remaining == c.remaining && debits[i].letter.is_empty())
                .collect();
            let (how, targets): (&str, Vec<usize>) = if exact.len() == 1 {
                ("the invoice open for that exact amount", exact)
            } else {
                (
                    "the oldest open invoices",
                    (0..debits.len())
                        .filter(|&i| debits[i].remaining > Decimal::ZERO)
                        .collect(),
                )
            };
            let mut to = Vec::new();
            for i in targets {
                if c.remaining == Decimal::ZERO {
                    break;
                }
                to.push(debits[i].id.clone());
                apply(&mut c, &mut debits[i], merge);
            }
            if !to.is_empty() {
                guessed += 1;
                if guessed <= LISTED {
                    merge.note(format!(
                        "customer {customer}: unlettered credit of {} (line {}) allocated to {how}: {}",
                        c.amount,
                        c.order,
                        to.join(", ")
                    ));
                }
            }
            if c.remaining > Decimal::ZERO {
                merge.note(format!(
                    "customer {customer}: credit of {} (line {}) left unallocated: no open invoice",
                    c.remaining, c.order
                ));
            }
        }
    }
    if guessed > LISTED {
        merge.note(format!(
            "… and {} more unlettered credits allocated the same way",
            guessed - LISTED
        ));
    }
}

/// Whether `text` names invoice `id` as a whole word.
fn names_invoice(text: &str, id: &str) -> bool {
    if id.is_empty() {
        return false;
    }
    let (text, id) = (text.to_uppercase(), id.to_uppercase());
    text.match_indices(&id).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + id.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
    })
}

/// Applies as much of credit `c` as debit `d` still needs.
fn apply(c: &mut Item, d: &mut Item, merge: &mut Merge) {
    let amount = c.remaining.min(d.remaining);
    if amount <= Decimal::ZERO {
        return;
    }
    c.remaining -= amount;
    d.remaining -= amount;
    let reference = format!("FEC {}", c.id);
    let kind = match c.kind {
        CreditKind::Payment => EventKind::Payment {
            invoice: d.id.clone(),
            amount,
            reference: Some(reference),
            details: Default::default(),
        },
        CreditKind::WriteOff if d.remaining == Decimal::ZERO => EventKind::WriteOff {
            invoice: d.id.clone(),
            reason: Some(reference),
        },
        CreditKind::WriteOff | CreditKind::CreditNote => EventKind::CreditNote {
            invoice: d.id.clone(),
            amount,
        },
    };
    merge.add_event(Event { date: c.date, kind });
}

/// How many lines with a decimal point are named one by one; the rest are counted.
const LISTED_POINTS: usize = 20;

/// Checks and parses every line; any problem rejects the file. Returns the lines and the
/// warnings (what is read but does not conform: decimal points).
fn parse(
    path: &Path,
    text: &str,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(Vec<Line>, Vec<String>), PortfolioError> {
    let mut problems = Problems::default();
    let total = text.len() as u64;
    let mut raw_lines = text.split('\n').enumerate();
    let Some((_, header)) = raw_lines.next() else {
        problems.at(
            path,
            1,
            None,
            "empty file: a FEC starts with its 18-column header",
        );
        return problems.finish().map(|()| (Vec::new(), Vec::new()));
    };
    let header = header.trim_end_matches('\r');
    let separator = if header.contains('\t') {
        '\t'
    } else if header.contains('|') {
        '|'
    } else {
        problems.at(
            path,
            1,
            None,
            "the header is neither tab- nor pipe-separated (a FEC uses one or the other)",
        );
        return problems.finish().map(|()| (Vec::new(), Vec::new()));
    };
    let names: Vec<&str> = header.split(separator).map(str::trim).collect();
    let Some(Header {
        position,
        montant_sens,
    }) = check_header(path, &names, &mut problems)
    else {
        return problems.finish().map(|()| (Vec::new(), Vec::new()));
    };
    let column = |c: usize| -> &'static str {
        if montant_sens && (c == 11 || c == 12) {
            MONTANT_SENS[c - 11]
        } else {
            COLUMNS[c]
        }
    };
    let mut points: Vec<String> = Vec::new();
    let mut more_points = 0usize;
    let mut out = Vec::new();
    let mut done = header.len() as u64;
    let mut balance: HashMap<(String, String), (Decimal, Decimal, u64)> = HashMap::new();
    for (n, raw) in raw_lines {
        done += raw.len() as u64 + 1;
        let number = n as u64 + 1;
        if number.is_multiple_of(8192) {
            progress(done.min(total), total);
        }
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = raw.split(separator).collect();
        if fields.len() != names.len() {
            problems.at(
                path,
                number,
                None,
                format!(
                    "{} fields, expected {} like the header",
                    fields.len(),
                    names.len()
                ),
            );
            continue;
        }
        let cell = |c: usize| fields[position[c]].trim();
        let before = problems.len();
        let bad = |c: usize, message: String, problems: &mut Problems| {
            problems.at(path, number, Some(column(c)), message);
        };
        for &c in &MANDATORY {
            if cell(c).is_empty() {
                bad(
                    c,
                    "missing value (mandatory in a FEC)".into(),
                    &mut problems,
                );
            }
        }
        let date = |c: usize, problems: &mut Problems| -> Option<NaiveDate> {
            let t = cell(c);
            if t.is_empty() {
                return None;
            }
            parse_compact_date(t).map_err(|m| bad(c, m, problems)).ok()
        };
        let ecriture_date = date(3, &mut problems);
        let piece_date = date(9, &mut problems);
        let date_let = date(14, &mut problems);
        let _valid = date(15, &mut problems);
        let mut point = |c: usize, t: &str, value: Decimal| {
            if decimal_point(t) {
                if points.len() < LISTED_POINTS {
                    points.push(format!(
                        "{}:{number}: column \"{}\": decimal point in \"{t}\": a FEC writes amounts with a decimal comma (article A47 A-1 LPF); read as {}",
                        path.display(),
                        column(c),
                        value
                    ));
                } else {
                    more_points += 1;
                }
            }
        };
        let mut amount = |c: usize, problems: &mut Problems| -> Decimal {
            let t = cell(c);
            if t.is_empty() {
                return Decimal::ZERO;
            }
            match fec_amount(t) {
                Ok(a) => {
                    point(c, t, a);
                    a
                }
                Err(m) => {
                    problems.at(path, number, Some(column(c)), m);
                    Decimal::ZERO
                }
            }
        };
        let (debit, credit) = if montant_sens {
            let montant = amount(11, &mut problems);
            match sens(cell(12)) {
                Ok(true) => (montant, Decimal::ZERO),
                Ok(false) => (Decimal::ZERO, montant),
                Err(m) => {
                    bad(12, m, &mut problems);
                    (Decimal::ZERO, Decimal::ZERO)
                }
            }
        } else {
            (amount(11, &mut problems), amount(12, &mut problems))
        };
        if !cell(13).is_empty() && date_let.is_none() && cell(14).is_empty() {
            problems.at(
                path,
                number,
                Some("DateLet"),
                "missing value (a lettered line needs its lettering date)",
            );
        }
        if !cell(16).is_empty() {
            let devise = cell(16).trim_start_matches('-');
            match fec_amount(devise) {
                Ok(v) => point(16, devise, v),
                Err(m) => problems.at(path, number, Some("Montantdevise"), m),
            }
            if cell(17).is_empty() {
                problems.at(
                    path,
                    number,
                    Some("Idevise"),
                    "missing value (an amount in currency needs its currency)",
                );
            }
        }
        if problems.len() != before {
            continue;
        }
        let (Some(date), Some(piece_date)) = (ecriture_date, piece_date) else {
            continue;
        };
        let key = (cell(0).to_string(), cell(2).to_string());
        let b = balance
            .entry(key)
            .or_insert((Decimal::ZERO, Decimal::ZERO, number));
        b.0 += debit;
        b.1 += credit;
        out.push(Line {
            line: number,
            journal: cell(0).to_string(),
            num: cell(2).to_string(),
            date,
            account: cell(4).to_string(),
            account_lib: cell(5).to_string(),
            aux: cell(6).to_string(),
            aux_lib: cell(7).to_string(),
            piece_ref: cell(8).to_string(),
            piece_date,
            lib: cell(10).to_string(),
            debit,
            credit,
            letter: cell(13).to_string(),
        });
    }
    if problems.is_empty() {
        let mut unbalanced: Vec<_> = balance
            .into_iter()
            .filter(|(_, (d, c, _))| d != c)
            .collect();
        unbalanced.sort_by_key(|(_, (_, _, line))| *line);
        for ((journal, num), (d, c, line)) in unbalanced {
            problems.at(
                path,
                line,
                Some(column(11)),
                format!(
                    "entry {journal} {num} is unbalanced: debits {d}, credits {c} (difference {})",
                    d - c
                ),
            );
        }
    }
    problems.finish()?;
    if more_points > 0 {
        points.push(format!(
            "{}: … and {more_points} more amounts with a decimal point",
            path.display()
        ));
    }
    Ok((out, points))
}

/// The header's names, in any case and order, must be the 18 of the specification; returns the
/// position of each specified column.
fn check_header(path: &Path, names: &[&str], problems: &mut Problems) -> Option<Header> {
    let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    // The Montant/Sens variant: `Montant` stands where `Debit` would, `Sens` where `Credit`
    // would (positions 11 and 12 of COLUMNS); a header mixing both layouts is refused.
    let montant_sens = lower.iter().any(|n| n == "montant") || lower.iter().any(|n| n == "sens");
    if montant_sens && lower.iter().any(|n| n == "debit" || n == "credit") {
        problems.at(
            path,
            1,
            None,
            "the header mixes the two layouts of a FEC: Debit and Credit, or Montant and Sens, not both",
        );
        return None;
    }
    let column_of = |name: &str| -> Option<usize> {
        match name {
            "montant" => Some(11),
            "sens" => Some(12),
            _ => COLUMNS.iter().position(|c| c.to_lowercase() == name),
        }
    };
    let spelled = |c: usize| -> &str {
        if montant_sens && (c == 11 || c == 12) {
            MONTANT_SENS[c - 11]
        } else {
            COLUMNS[c]
        }
    };
    let mut position = [usize::MAX; 18];
    for (i, name) in lower.iter().enumerate() {
        match column_of(name) {
            Some(c) if position[c] == usize::MAX => position[c] = i,
            Some(_) => problems.at(path, 1, Some(names[i]), "duplicate column"),
            None => {
                let suggestion = COLUMNS
                    .iter()
                    .map(|c| (strsim::jaro_winkler(&c.to_lowercase(), name), *c))
                    .filter(|(s, _)| *s > 0.85)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, c)| format!(" (did you mean \"{c}\"?)"))
                    .unwrap_or_default();
                problems.at(
                    path,
                    1,
                    Some(names[i]),
                    format!("unknown column{suggestion}"),
                );
            }
        }
    }
    let missing: Vec<&str> = (0..18)
        .filter(|&c| position[c] == usize::MAX)
        .map(spelled)
        .collect();
    if !missing.is_empty() {
        problems.at(
            path,
            1,
            None,
            format!(
                "the header has {} columns, a FEC has 18: missing {}",
                names.len(),
                missing.join(", ")
            ),
        );
    }
    problems.is_empty().then_some(Header {
        position,
        montant_sens,
    })
}

/// Where each specified column is, and which layout the amounts use.
struct Header {
    position: [usize; 18],
    /// `Montant` and `Sens` at positions 11 and 12 instead of `Debit` and `Credit`.
    montant_sens: bool,
}

/// The direction of a line in the Montant/Sens variant: `true` for a debit. `D`/`C` (any case)
/// or `+1`/`-1` (`1` read as `+1`), the two conventions of BOI-CF-IOR-60-40-20.
fn sens(text: &str) -> Result<bool, String> {
    match text.trim() {
        "D" | "d" | "+1" | "1" => Ok(true),
        "C" | "c" | "-1" => Ok(false),
        other => Err(format!(
            "invalid direction \"{other}\" (expected D or C, or +1 or -1)"
        )),
    }
}

/// The file name the specification asks for, `SirenFECAAAAMMJJ.txt` (article A47 A-1 of the
/// LPF, as commented in BOI-CF-IOR-60-40-20: the SIREN of the company, the letters `FEC`, the
/// closing date of the financial year). What does not conform is returned as warnings: the
/// content is what the import reads, the name only helps the reader trust it.
pub fn check_file_name(path: &Path) -> Vec<String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .rsplit_once('.')
        .map_or(name.as_str(), |(stem, _)| stem);
    let expected = "the specification names a FEC SirenFECAAAAMMJJ.txt (article A47 A-1 LPF)";
    let Some(at) = stem.to_ascii_uppercase().find("FEC") else {
        return vec![format!("{name}: file name without \"FEC\": {expected}")];
    };
    let (siren, date) = (&stem[..at], &stem[at + 3..]);
    let mut out = Vec::new();
    if siren.len() != 9 || !siren.bytes().all(|b| b.is_ascii_digit()) {
        out.push(format!(
            "{name}: \"{siren}\" before FEC is not a SIREN (9 digits): {expected}"
        ));
    } else if !luhn(siren) {
        out.push(format!(
            "{name}: SIREN {siren} fails its check digit (Luhn key): {expected}"
        ));
    }
    if parse_compact_date(date).is_err() {
        out.push(format!(
            "{name}: \"{date}\" after FEC is not a closing date AAAAMMJJ: {expected}"
        ));
    }
    out
}

/// The Luhn check a SIREN's ninth digit makes (INSEE).
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A FEC amount: digits with a decimal comma, no sign, no thousands separator. A decimal point
/// is read the same but does not conform (article A47 A-1 LPF: numbers "en mode caractère et en
/// base décimale", the decimal separator being the comma): see [`decimal_point`].
fn fec_amount(text: &str) -> Result<Decimal, String> {
    let error = || {
        format!("invalid amount \"{text}\" (expected digits with a decimal comma, such as 1200,50)")
    };
    let normalized = text.replacen(',', ".", 1);
    let mut parts = normalized.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(error());
    }
    normalized.parse::<Decimal>().map_err(|_| error())
}

/// Whether a valid amount was written with a decimal point instead of the comma.
fn decimal_point(text: &str) -> bool {
    text.contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance_core::domain::Portfolio;

    const HEADER: &str = "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise";

    fn run(body: &str) -> Result<(Portfolio, super::super::Changes), String> {
        let path = std::env::temp_dir().join(format!(
            "relance-fec-unit-{}-{}.txt",
            std::process::id(),
            body.len()
        ));
        std::fs::write(&path, format!("{HEADER}\r\n{body}")).expect("write");
        let mut merge = Merge::new(Portfolio::default());
        let out = import(&path, &FecOptions::default(), &mut merge, &mut |_, _| {});
        let _ = std::fs::remove_file(&path);
        out.map(|_| merge.finish())
            .map_err(|e| e.to_string().replace(&path.display().to_string(), "fec"))
    }

    #[allow(clippy::too_many_arguments)]
    fn line(
        j: &str,
        n: &str,
        acc: &str,
        aux: &str,
        piece: &str,
        d: &str,
        c: &str,
        letter: &str,
    ) -> String {
        let date_let = if letter.is_empty() { "" } else { "20260301" };
        format!(
            "{j}\tJ\t{n}\t20260115\t{acc}\tLib\t{aux}\t{aux}\t{piece}\t20260115\tlib\t{d}\t{c}\t{letter}\t{date_let}\t20260115\t\t\r\n"
        )
    }

    #[test]
    fn partial_lettering_leaves_the_remainder_open() {
        let body = [
            line("VT", "1", "411000", "ACME", "F1", "120,00", "0,00", "AA"),
            line("VT", "1", "706000", "", "F1", "0,00", "120,00", ""),
            line("BQ", "2", "512000", "", "R1", "50,00", "0,00", ""),
            line("BQ", "2", "411000", "ACME", "R1", "0,00", "50,00", "AA"),
        ]
        .concat();
        let (p, _) = run(&body).expect("valid");
        assert_eq!(p.customers[0].id, "ACME");
        assert_eq!(p.invoices[0].id, "F1");
        assert_eq!(p.invoices[0].due.to_string(), "2026-02-14");
        let open = super::super::open_amounts(&p);
        assert_eq!(open["F1"], "70".parse::<Decimal>().expect("d"));
    }

    #[test]
    fn broken_lines_are_all_reported() {
        let body = [
            line("VT", "1", "411000", "ACME", "F1", "12x", "0,00", ""),
            "VT\tJ\t2\t2026-01-15\t411\n".to_string(),
        ]
        .concat();
        let err = run(&body).expect_err("invalid");
        assert!(
            err.contains("fec:2: column \"Debit\": invalid amount \"12x\""),
            "{err}"
        );
        assert!(err.contains("fec:3: 5 fields, expected 18"), "{err}");
    }

    #[test]
    fn references_and_words() {
        assert!(names_invoice("Virement F-12 merci", "F-12"));
        assert!(!names_invoice("Virement F-123", "F-12"));
        assert_eq!(usable_ref("-"), None);
        assert_eq!(fec_amount("1234,5"), Ok("1234.5".parse().expect("d")));
        assert!(fec_amount("1 234,5").is_err());
        assert!(fec_amount("-3,00").is_err());
    }
}
