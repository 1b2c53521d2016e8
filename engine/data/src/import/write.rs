//! Writing a portfolio as the CSV data folder (`docs/DATA.md`), all or nothing.
//!
//! The four files (`customers.csv`, `invoices.csv`, `payments.csv` for payment events,
//! `events.csv` for the others) are written to a sibling folder `.NAME.relance-new`, together
//! with a copy of every other file the data folder held; that folder is read back with
//! [`load_dir`](crate::portfolio::load_dir) and compared with the portfolio (nothing may be lost
//! in the round trip); only then is the old folder renamed to `.NAME.relance-old`, the new one
//! renamed into place and the old one removed. A crash leaves either the old folder or the new
//! one in place; between the two renames, [`recover`] (run before every load and write) puts
//! the old one back. This module must not decide what the portfolio holds.

use crate::portfolio::csv::{CUSTOMER_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS, address_cell};
use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use relance_core::domain::{Event, EventKind, Portfolio};

const OWN_FILES: [&str; 4] = [
    "customers.csv",
    "invoices.csv",
    "payments.csv",
    "events.csv",
];

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map_or_else(|| "data".into(), |n| n.to_string_lossy().into_owned());
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parent.join(format!(".{name}.relance-{suffix}"))
}

/// Repairs an interrupted write: puts the previous folder back when the data folder is missing,
/// and removes a half-written new folder.
pub fn recover(dir: &Path) -> io::Result<()> {
    let old = sibling(dir, "old");
    let new = sibling(dir, "new");
    if !dir.exists() && old.exists() {
        fs::rename(&old, dir)?;
    } else if old.exists() {
        fs::remove_dir_all(&old)?;
    }
    if new.exists() {
        fs::remove_dir_all(&new)?;
    }
    Ok(())
}

/// Writes `portfolio` as the data folder `dir` (created if needed), atomically.
pub fn write_dir(dir: &Path, portfolio: &Portfolio) -> io::Result<()> {
    recover(dir)?;
    let new = sibling(dir, "new");
    fs::create_dir_all(&new)?;
    let result = (|| {
        if dir.exists() {
            copy_others(dir, &new)?;
        }
        write_files(&new, portfolio)?;
        verify(&new, portfolio)
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&new);
        return Err(e);
    }
    if dir.exists() {
        let old = sibling(dir, "old");
        fs::rename(dir, &old)?;
        if let Err(e) = fs::rename(&new, dir) {
            let _ = fs::rename(&old, dir);
            return Err(e);
        }
        fs::remove_dir_all(&old)?;
    } else {
        fs::rename(&new, dir)?;
    }
    Ok(())
}

/// Copies what the data folder holds besides the four CSV files.
fn copy_others(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if OWN_FILES.iter().any(|own| name == *own) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            fs::create_dir_all(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            fs::create_dir_all(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn csv_writer(path: &Path) -> io::Result<csv::Writer<BufWriter<File>>> {
    Ok(csv::Writer::from_writer(BufWriter::with_capacity(
        1 << 16,
        File::create(path)?,
    )))
}

fn finish(writer: csv::Writer<BufWriter<File>>) -> io::Result<()> {
    let buffered = writer
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?;
    let file = buffered
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?;
    file.sync_all()
}

fn opt<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// Writes the four files into `dir`.
pub fn write_files(dir: &Path, p: &Portfolio) -> io::Result<()> {
    let csv_err = |e: csv::Error| io::Error::other(e.to_string());
    // customers.csv, with one column per contact role and field in use.
    let contact_columns: BTreeSet<(String, &'static str)> = p
        .customers
        .iter()
        .flat_map(|c| {
            c.contacts.iter().flat_map(|(role, contact)| {
                let address = contact.address.as_ref();
                [
                    ("name", contact.name.is_some()),
                    ("email", contact.email.is_some()),
                    ("phone", contact.phone.is_some()),
                    ("address", address.is_some_and(|a| !a.lines.is_empty())),
                    ("postcode", address.is_some_and(|a| a.postcode.is_some())),
                    ("city", address.is_some_and(|a| a.city.is_some())),
                    ("country", address.is_some_and(|a| a.country.is_some())),
                ]
                .into_iter()
                .filter(|(_, used)| *used)
                .map(|(field, _)| (role.clone(), field))
            })
        })
        .collect();
    let mut w = csv_writer(&dir.join("customers.csv"))?;
    let mut header: Vec<String> = CUSTOMER_COLUMNS.iter().map(|s| s.to_string()).collect();
    header.extend(contact_columns.iter().map(|(r, f)| format!("{r}_{f}")));
    w.write_record(&header).map_err(csv_err)?;
    for c in &p.customers {
        let mut row = vec![
            c.id.clone(),
            opt(&c.name),
            c.segment.as_str().to_string(),
            c.risk_score.to_string(),
            c.credit_insured.to_string(),
            c.language.clone(),
            opt(&c.payment_terms_days),
            c.tags.join(";"),
            opt(&c.scenario),
            opt(&c.payment_terms),
            c.credit_cover
                .as_ref()
                .map(|k| k.insurer.clone())
                .unwrap_or_default(),
            c.credit_cover
                .as_ref()
                .map(|k| k.status.as_str().to_string())
                .unwrap_or_default(),
            opt(&c.credit_cover.as_ref().and_then(|k| k.limit)),
            opt(&c.late_interest_rate),
        ];
        for (role, field) in &contact_columns {
            let contact = c.contacts.get(role);
            row.push(
                contact
                    .and_then(|k| {
                        let address = k.address.as_ref();
                        match *field {
                            "name" => k.name.clone(),
                            "email" => k.email.clone(),
                            "phone" => k.phone.clone(),
                            "address" => address.map(|a| address_cell(&a.lines)),
                            "postcode" => address.and_then(|a| a.postcode.clone()),
                            "city" => address.and_then(|a| a.city.clone()),
                            _ => address.and_then(|a| a.country.clone()),
                        }
                    })
                    .unwrap_or_default(),
            );
        }
        w.write_record(&row).map_err(csv_err)?;
    }
    finish(w)?;

    let mut w = csv_writer(&dir.join("invoices.csv"))?;
    w.write_record(INVOICE_COLUMNS).map_err(csv_err)?;
    for i in &p.invoices {
        w.write_record([
            i.id.clone(),
            i.customer.clone(),
            i.amount.to_string(),
            i.currency.clone(),
            i.issued.to_string(),
            i.due.to_string(),
            opt(&i.outstanding),
            opt(&i.po_number),
            opt(&i.dunning.step),
            opt(&i.dunning.date),
            opt(&i.dunning.attempts),
            opt(&i.dunning.catch_up),
            opt(&i.payment_terms),
            opt(&i.delivered_on),
            opt(&i.payment_means),
            opt(&i.late_interest_rate),
            if i.installments.is_empty() {
                String::new()
            } else {
                relance_core::domain::Installment::plan_text(&i.installments)
            },
        ])
        .map_err(csv_err)?;
    }
    finish(w)?;

    let mut payments = csv_writer(&dir.join("payments.csv"))?;
    payments.write_record(PAYMENT_COLUMNS).map_err(csv_err)?;
    let mut events = csv_writer(&dir.join("events.csv"))?;
    events.write_record(EVENT_HEADER).map_err(csv_err)?;
    for e in &p.events {
        if let EventKind::Payment {
            invoice,
            amount,
            reference,
            details,
        } = &e.kind
        {
            payments
                .write_record([
                    e.date.to_string(),
                    invoice.clone(),
                    amount.to_string(),
                    opt(reference),
                    opt(&details.means),
                    opt(&details.payer_iban),
                    opt(&details.end_to_end_id),
                    opt(&details.remittance_date),
                ])
                .map_err(csv_err)?;
        } else {
            events.write_record(event_row(e)).map_err(csv_err)?;
        }
    }
    finish(payments)?;
    finish(events)
}

const EVENT_HEADER: [&str; 24] = [
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
    "reference",
    "payment_date",
];

fn event_row(e: &Event) -> [String; 24] {
    let mut row: [String; 24] = Default::default();
    row[0] = e.date.to_string();
    row[1] = e.kind.type_name().to_string();
    row[2] = e.kind.invoice().unwrap_or_default().to_string();
    row[3] = e.kind.customer().unwrap_or_default().to_string();
    match &e.kind {
        EventKind::DisputeOpened {
            code,
            amount,
            target_date,
            comment,
            ..
        } => {
            row[4] = code.clone();
            row[5] = opt(amount);
            row[7] = opt(target_date);
            row[11] = opt(comment);
        }
        EventKind::DisputeResolved { comment, .. } => row[11] = opt(comment),
        EventKind::PromiseMade {
            promised_date,
            amount,
            ..
        } => {
            row[6] = promised_date.to_string();
            row[5] = opt(amount);
        }
        EventKind::CreditNote { amount, .. } => row[5] = amount.to_string(),
        EventKind::WriteOff { reason, .. } => row[11] = opt(reason),
        EventKind::RiskChanged { risk_score, .. } => row[8] = risk_score.to_string(),
        EventKind::TaskOutcome {
            outcome,
            promised_date,
            ..
        } => {
            row[9] = outcome.clone();
            row[6] = opt(promised_date);
        }
        EventKind::ContactBounced { role, .. } => row[10] = role.clone(),
        EventKind::Payment { .. } => {}
        EventKind::TagAdded { tag, .. } | EventKind::TagRemoved { tag, .. } => {
            row[12] = tag.clone()
        }
        EventKind::WriteOffReversed { reason, .. } => row[13] = opt(reason),
        EventKind::PaymentFailed { reason, .. } => row[13] = reason.clone(),
        EventKind::PaymentReversed {
            amount,
            reason,
            reference,
            payment_date,
            ..
        } => {
            row[5] = amount.to_string();
            row[13] = reason.to_string();
            row[22] = opt(reference);
            row[23] = opt(payment_date);
        }
        EventKind::ScenarioChanged {
            scenario,
            step,
            by,
            because,
            ..
        } => {
            row[14] = scenario.clone();
            row[15] = opt(step);
            row[16] = by.clone();
            row[17] = because.clone();
        }
        EventKind::InsolvencyOpened {
            procedure,
            judgment_on,
            published_on,
            ..
        } => {
            row[18] = procedure.as_str().to_string();
            row[19] = judgment_on.to_string();
            row[20] = opt(published_on);
        }
        EventKind::InsolvencyClosed { reason, .. } => row[13] = opt(reason),
        EventKind::DueDateExtended { to, .. } => row[21] = to.to_string(),
    }
    row
}

/// Reads the written folder back and checks it holds exactly `portfolio` (events compared as
/// a multiset: the folder orders same-day payments first).
fn verify(dir: &Path, portfolio: &Portfolio) -> io::Result<()> {
    let back = crate::portfolio::load_dir(dir).map_err(|e| {
        io::Error::other(format!("the written data folder does not read back: {e}"))
    })?;
    let same_events = || {
        let count = |events: &[Event]| {
            let mut m: HashMap<String, usize> = HashMap::new();
            for e in events {
                *m.entry(serde_json::to_string(e).unwrap_or_default())
                    .or_default() += 1;
            }
            m
        };
        count(&back.events) == count(&portfolio.events)
    };
    if back.customers != portfolio.customers
        || back.invoices != portfolio.invoices
        || !same_events()
    {
        return Err(io::Error::other(
            "the written data folder does not read back identically (nothing was replaced)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_valid_fixture_and_keeps_other_files() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests-data/portfolio/valid");
        let p = crate::portfolio::load_dir(&fixture).expect("fixture");
        let dir = std::env::temp_dir().join(format!("relance-write-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        write_dir(&dir, &p).expect("first write");
        fs::write(dir.join("README.txt"), "keep me").expect("extra file");
        write_dir(&dir, &p).expect("second write");
        assert_eq!(
            fs::read_to_string(dir.join("README.txt")).expect("kept"),
            "keep me"
        );
        let back = crate::portfolio::load_dir(&dir).expect("reads back");
        assert_eq!(back.customers, p.customers);
        assert_eq!(back.invoices, p.invoices);
        assert!(!sibling(&dir, "new").exists() && !sibling(&dir, "old").exists());
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn recover_puts_the_old_folder_back() {
        let base = std::env::temp_dir().join(format!("relance-recover-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let dir = base.join("data");
        fs::create_dir_all(sibling(&dir, "old")).expect("old");
        fs::write(sibling(&dir, "old").join("customers.csv"), "id\n").expect("file");
        fs::create_dir_all(sibling(&dir, "new")).expect("new");
        recover(&dir).expect("recover");
        assert!(dir.join("customers.csv").exists());
        assert!(!sibling(&dir, "new").exists());
        fs::remove_dir_all(&base).expect("cleanup");
    }
}
