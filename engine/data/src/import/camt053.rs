//! Importing ISO 20022 camt.053 bank statements: incoming transfers matched to open invoices.
//!
//! The statement is read with a streaming XML reader by element path, so versions 001.02 to
//! 001.08 read alike: each booked credit entry (`Ntry` with `CdtDbtInd` `CRDT`, not reversed)
//! and its transactions (`TxDtls`: amount, debtor name, `RmtInf/Strd/CdtrRefInf/Ref`,
//! `RmtInf/Ustrd`).
//!
//! Before anything is matched, each statement (`Stmt`) must balance: its opening booked
//! balance (`OPBD`, else `PRCD`) plus its booked entries (credits +, debits −) equals its
//! closing booked balance (`CLBD`), all in one currency ([`check_balance`]). A statement that
//! does not, or lacks one of the two balances, refuses the whole file. A transaction is
//! matched, in this order:
//!
//! 1. by reference: the structured reference (a creditor reference `RF..` is read without its
//!    prefix and check digits) or a word of the unstructured remittance that is an invoice
//!    number. One open invoice named: paid. Several: paid only if the amount settles them all.
//! 2. by amount and payer: the open invoices of exactly that amount (and currency) whose
//!    customer's name resembles the debtor's name; exactly one: paid.
//!
//! Everything else — several candidates, an amount without a payer match, a named invoice
//! already settled, a partial amount for several invoices, no candidate at all — becomes a
//! [`Proposal`] for a person, never a payment. A transaction already imported (same bank
//! reference in a payment's `reference`) is skipped: importing a statement twice adds nothing.
//!
//! A **returned payment** — a booked debit entry with `RvslInd` true, or a debit transaction
//! with return information (`RtrInf/Rsn/Cd`, an R-transaction: a returned SEPA direct debit,
//! an unpaid LCR, a bounced cheque) — becomes a `payment_reversed` of the payment it returns:
//! the stored payment with the same `EndToEndId`, else the one payment of that amount to an
//! invoice the references name. The reason is the bank transaction code's sub-family when it
//! says (`UPDD` returned direct debit, `UPCQ` unpaid cheque, `UDFT` unpaid draft), else the
//! means of the payment returned; the ISO return reason code (`AM04`, `MD06` …) is kept in
//! the reversal's reference. A return matching no payment, or several, is a [`Proposal`].
//! The payment means of a credit is read from its bank transaction code (`BkTxCd/Domn/Fmly`:
//! `RCDT` transfer, `IDDT`/`RDDT` direct debit, `BBDD` sub-family for B2B, `RCHQ` cheque,
//! `DRFT` draft (LCR), `CCRD` card) when present.
//!
//! This module must not write anything.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use quick_xml::Reader;
use quick_xml::events::Event as Xml;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{Merge, Problems, decode, open_amounts, read_file};
use crate::portfolio::PortfolioError;
use relance_core::domain::{Event, EventKind};
use relance_core::fact_order::FileKind;

/// One incoming transfer of a statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transaction {
    /// `camt STATEMENT/REF`: the bank's reference (`AcctSvcrRef`), else the entry's position.
    pub reference: String,
    /// The payment's date: the value date, else the booking date (late interest runs to the
    /// day the money is available, which the value date states).
    pub date: NaiveDate,
    /// The entry's booking date (`BookgDt`), as the bank gave it.
    pub booking_date: Option<NaiveDate>,
    /// The entry's value date (`ValDt`), as the bank gave it.
    pub value_date: Option<NaiveDate>,
    pub amount: Decimal,
    pub currency: String,
    pub payer: Option<String>,
    /// The debtor's account (`RltdPties/DbtrAcct/Id/IBAN`), spaces removed, upper case.
    pub payer_iban: Option<String>,
    /// The payer's end-to-end identification (`Refs/EndToEndId`), unless `NOTPROVIDED`.
    pub end_to_end_id: Option<String>,
    pub structured: Vec<String>,
    pub unstructured: Vec<String>,
    /// The payment means the bank transaction code gives, when it gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub means: Option<relance_core::payment::PaymentMeans>,
    /// A returned payment (a debit with `RvslInd` or `RtrInf`): the ISO return reason code
    /// (`AM04`), empty when the bank gives none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned: Option<String>,
    /// The bank transaction code's sub-family (`UPDD`, `ESCT` …), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_family: Option<String>,
}

/// An open invoice a transaction could pay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub invoice: String,
    pub customer: String,
    pub open: Decimal,
}

/// A transaction a person must allocate: why, and the candidates (best first).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub transaction: Transaction,
    pub reason: String,
    pub candidates: Vec<Candidate>,
}

impl fmt::Display for Proposal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.transaction;
        write!(f, "{} {} {} {}", t.reference, t.date, t.amount, t.currency)?;
        if let Some(p) = &t.payer {
            write!(f, " from \"{p}\"")?;
        }
        if let Some(iban) = &t.payer_iban {
            write!(f, " (IBAN {iban})")?;
        }
        if let Some(id) = &t.end_to_end_id {
            write!(f, " EndToEndId {id}")?;
        }
        write!(f, ": {}", self.reason)?;
        if !self.candidates.is_empty() {
            let list: Vec<String> = self
                .candidates
                .iter()
                .map(|c| format!("{} ({}, open {})", c.invoice, c.customer, c.open))
                .collect();
            write!(f, "; candidates: {}", list.join(", "))?;
        }
        Ok(())
    }
}

/// What a statement held and what became of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CamtSummary {
    pub entries: usize,
    pub credits: usize,
    pub ignored_debits: usize,
    pub applied: usize,
    pub proposed: usize,
    /// Returned payments recorded as `payment_reversed`.
    pub reversed: usize,
    pub already_imported: usize,
}

/// Reads the statement at `path` and applies the certain matches to `merge`.
pub fn import(path: &Path, merge: &mut Merge) -> Result<CamtSummary, PortfolioError> {
    import_bytes(path, &read_file(path)?, merge)
}

/// [`import`] of a statement's bytes already in memory (an HTTP body); `path` only names the
/// file in problems.
pub fn import_bytes(
    path: &Path,
    bytes: &[u8],
    merge: &mut Merge,
) -> Result<CamtSummary, PortfolioError> {
    let (text, _) = decode(bytes);
    merge.begin_input(FileKind::Statement);
    let (transactions, mut summary) = read(path, &text)?;
    let mut open = open_amounts(merge.portfolio());
    for t in transactions {
        if t.returned.is_some() {
            match returned_payment(&t, merge) {
                Ok(None) => summary.already_imported += 1,
                Ok(Some(event)) => {
                    summary.reversed += 1;
                    if let EventKind::PaymentReversed {
                        invoice, amount, ..
                    } = &event.kind
                        && let Some(o) = open.get_mut(invoice)
                    {
                        *o += *amount;
                    }
                    merge.add_event(event);
                }
                Err((reason, candidates)) => {
                    summary.proposed += 1;
                    merge.propose(Proposal {
                        transaction: t,
                        reason,
                        candidates,
                    });
                }
            }
            continue;
        }
        if merge.has_payment_reference(&t.reference) {
            summary.already_imported += 1;
            continue;
        }
        match decide(&t, merge, &open) {
            Decision::Pay(list) => {
                summary.applied += 1;
                for (invoice, amount) in list {
                    if let Some(o) = open.get_mut(&invoice) {
                        *o -= amount;
                    }
                    merge.add_event(Event {
                        date: t.date,
                        kind: EventKind::Payment {
                            invoice,
                            amount,
                            reference: Some(t.reference.clone()),
                            // The means from the bank transaction code, when given.
                            details: relance_core::payment::PaymentDetails {
                                means: t.means,
                                payer_iban: t.payer_iban.clone(),
                                end_to_end_id: t.end_to_end_id.clone(),
                                ..Default::default()
                            },
                        },
                    });
                }
            }
            Decision::Propose(reason, candidates) => {
                summary.proposed += 1;
                merge.propose(Proposal {
                    transaction: t,
                    reason,
                    candidates,
                });
            }
        }
    }
    Ok(summary)
}

/// A stored payment: its event, invoice, amount, reference and means.
type StoredPayment<'a> = (
    &'a Event,
    &'a str,
    Decimal,
    Option<&'a str>,
    Option<relance_core::payment::PaymentMeans>,
);

/// The `payment_reversed` a returned payment `t` makes: the stored payment it returns is the
/// one with its `EndToEndId`, else the one payment of its amount to an invoice its references
/// name. `Ok(None)`: already recorded (the same reversal is stored). `Err`: a proposal (no
/// payment, or several, match).
fn returned_payment(
    t: &Transaction,
    merge: &Merge,
) -> Result<Option<Event>, (String, Vec<Candidate>)> {
    use relance_core::payment::{PaymentMeans, ReversalReason};
    let p = merge.portfolio();
    let payments: Vec<StoredPayment<'_>> = p
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Payment {
                invoice,
                amount,
                reference,
                details,
            } => Some((
                e,
                invoice.as_str(),
                *amount,
                reference.as_deref(),
                details.means,
            )),
            _ => None,
        })
        .collect();
    let by_id: Vec<_> = match &t.end_to_end_id {
        Some(id) => payments
            .iter()
            .filter(|(e, ..)| {
                matches!(&e.kind, EventKind::Payment { details, .. }
                    if details.end_to_end_id.as_deref() == Some(id.as_str()))
            })
            .collect(),
        None => Vec::new(),
    };
    let words = reference_words(t);
    let by_reference: Vec<_> = payments
        .iter()
        .filter(|(_, invoice, amount, ..)| {
            *amount == t.amount && words.contains(&invoice.to_uppercase())
        })
        .collect();
    let found = if by_id.is_empty() {
        by_reference
    } else {
        by_id
    };
    let code = t.returned.clone().unwrap_or_default();
    let &(original, invoice, paid, original_ref, means) = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err((
                format!(
                    "a returned payment{} that matches no payment imported (by EndToEndId, or by an invoice named and the amount)",
                    if code.is_empty() {
                        String::new()
                    } else {
                        format!(" (reason {code})")
                    }
                ),
                Vec::new(),
            ));
        }
        several => {
            let candidates = several
                .iter()
                .map(|(_, invoice, amount, ..)| candidate(merge, invoice, *amount))
                .collect();
            return Err((
                "a returned payment that matches several payments imported".into(),
                candidates,
            ));
        }
    };
    // A return for more than the payment it names (the bank's charges included, or a
    // mismatched id) is for a person to decide: reversing it would owe more than was paid.
    if t.amount > paid {
        return Err((
            format!(
                "a returned payment of {} for more than the payment it names ({paid} on {})",
                t.amount, original.date
            ),
            vec![candidate(merge, invoice, paid)],
        ));
    }
    let reason = match (t.sub_family.as_deref(), means.or(t.means)) {
        (Some("UPDD"), _) => ReversalReason::ReturnedDirectDebit,
        (Some("UPCQ"), _) => ReversalReason::BouncedCheque,
        (Some("UDFT"), _) => ReversalReason::UnpaidLcr,
        (_, Some(PaymentMeans::SepaDirectDebitCore | PaymentMeans::SepaDirectDebitB2b)) => {
            ReversalReason::ReturnedDirectDebit
        }
        (_, Some(PaymentMeans::Lcr)) => ReversalReason::UnpaidLcr,
        (_, Some(PaymentMeans::Cheque)) => ReversalReason::BouncedCheque,
        _ => ReversalReason::Other,
    };
    let reference = Some(match (original_ref, code.is_empty()) {
        (Some(r), true) => format!("{r} (returned: {})", t.reference),
        (Some(r), false) => format!("{r} (returned: {}, reason {code})", t.reference),
        (None, true) => t.reference.clone(),
        (None, false) => format!("{} (reason {code})", t.reference),
    });
    let event = Event {
        date: t.date,
        kind: EventKind::PaymentReversed {
            invoice: invoice.to_string(),
            amount: t.amount,
            reason,
            reference,
            payment_date: Some(original.date),
        },
    };
    if p.events.contains(&event) {
        return Ok(None);
    }
    // What other reversals of that same payment already took back: a second return of it
    // (booked again under another reference) must not make the invoice owed twice.
    let taken_back = p
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PaymentReversed {
                invoice: i,
                amount,
                payment_date,
                ..
            } if i == invoice && *payment_date == Some(original.date) => Some(*amount),
            _ => None,
        })
        .try_fold(Decimal::ZERO, |a, b| a.checked_add(b));
    if taken_back.is_none_or(|back| back.checked_add(t.amount).is_none_or(|all| all > paid)) {
        return Err((
            format!(
                "a returned payment of {} for a payment already reversed ({paid} on {})",
                t.amount, original.date
            ),
            vec![candidate(merge, invoice, paid)],
        ));
    }
    Ok(Some(event))
}

enum Decision {
    Pay(Vec<(String, Decimal)>),
    Propose(String, Vec<Candidate>),
}

fn candidate(merge: &Merge, invoice: &str, open: Decimal) -> Candidate {
    Candidate {
        invoice: invoice.to_string(),
        customer: merge
            .invoice(invoice)
            .map(|i| i.customer.clone())
            .unwrap_or_default(),
        open,
    }
}

fn decide(t: &Transaction, merge: &Merge, open: &HashMap<String, Decimal>) -> Decision {
    let p = merge.portfolio();
    let by_upper: HashMap<String, &str> = p
        .invoices
        .iter()
        .map(|i| (i.id.to_uppercase(), i.id.as_str()))
        .collect();
    let mut named: Vec<&str> = Vec::new();
    for word in reference_words(t) {
        if let Some(&id) = by_upper.get(&word)
            && !named.contains(&id)
        {
            named.push(id);
        }
    }
    let open_of = |id: &str| open.get(id).copied().unwrap_or_default();
    if !named.is_empty() {
        let live: Vec<&str> = named
            .iter()
            .copied()
            .filter(|id| open_of(id) > Decimal::ZERO)
            .collect();
        let all: Vec<Candidate> = named
            .iter()
            .map(|id| candidate(merge, id, open_of(id)))
            .collect();
        return match live.as_slice() {
            [] => Decision::Propose("the invoices named are already settled".into(), all),
            [one] if t.amount <= open_of(one) => Decision::Pay(vec![(one.to_string(), t.amount)]),
            [one] => Decision::Propose(
                format!("pays more than invoice {one} still owes ({})", open_of(one)),
                all,
            ),
            several => {
                let sum: Decimal = several.iter().map(|id| open_of(id)).sum();
                if sum == t.amount {
                    Decision::Pay(
                        several
                            .iter()
                            .map(|id| (id.to_string(), open_of(id)))
                            .collect(),
                    )
                } else {
                    Decision::Propose(
                        format!("names several invoices whose open amounts total {sum}"),
                        all,
                    )
                }
            }
        };
    }
    let same_amount: Vec<&str> = p
        .invoices
        .iter()
        .filter(|i| {
            i.currency == t.currency && open_of(&i.id) == t.amount && t.amount > Decimal::ZERO
        })
        .map(|i| i.id.as_str())
        .collect();
    let names: HashMap<&str, String> = p
        .customers
        .iter()
        .map(|c| {
            (
                c.id.as_str(),
                normalize_name(c.name.as_deref().unwrap_or(&c.id)),
            )
        })
        .collect();
    let payer = t.payer.as_deref().map(normalize_name);
    let payer_matches = |customer: &str| {
        let (Some(payer), Some(name)) = (payer.as_deref(), names.get(customer)) else {
            return false;
        };
        !payer.is_empty()
            && !name.is_empty()
            && (payer == name
                || payer.contains(name.as_str())
                || name.contains(payer)
                || strsim::jaro_winkler(payer, name) >= 0.92)
    };
    let customer_of = |id: &str| {
        merge
            .invoice(id)
            .map(|i| i.customer.clone())
            .unwrap_or_default()
    };
    let mut matched: Vec<&str> = same_amount
        .iter()
        .copied()
        .filter(|id| payer_matches(&customer_of(id)))
        .collect();
    if matched.len() == 1 {
        return Decision::Pay(vec![(matched[0].to_string(), t.amount)]);
    }
    if !same_amount.is_empty() {
        let reason = if matched.is_empty() {
            "no reference; open invoices of that amount, none from a customer named like the payer"
        } else {
            "no reference; several open invoices of that amount from the payer"
        };
        let others: Vec<&str> = same_amount
            .iter()
            .copied()
            .filter(|id| !matched.contains(id))
            .collect();
        matched.extend(others);
        let list = matched
            .iter()
            .take(10)
            .map(|id| candidate(merge, id, open_of(id)))
            .collect();
        return Decision::Propose(reason.into(), list);
    }
    let from_payer: Vec<Candidate> = p
        .invoices
        .iter()
        .filter(|i| open_of(&i.id) > Decimal::ZERO && payer_matches(&i.customer))
        .take(10)
        .map(|i| candidate(merge, &i.id, open_of(&i.id)))
        .collect();
    let reason = if from_payer.is_empty() {
        "no reference, no open invoice of that amount, no customer named like the payer"
    } else {
        "no reference and no open invoice of that amount; open invoices of the payer"
    };
    Decision::Propose(reason.into(), from_payer)
}

/// The words of the references that could be invoice numbers, upper-cased.
fn reference_words(t: &Transaction) -> Vec<String> {
    let mut words = Vec::new();
    for s in &t.structured {
        let s = s.trim().to_uppercase();
        words.push(s.clone());
        // ISO 11649 creditor reference: RF, two check digits, the reference.
        if s.len() > 4 && s.starts_with("RF") && s[2..4].bytes().all(|b| b.is_ascii_digit()) {
            words.push(s[4..].trim_start_matches('0').to_string());
            words.push(s[4..].to_string());
        }
    }
    for text in t.unstructured.iter().chain(&t.structured) {
        for w in text.split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')' | '"' | '\'' | '+')
        }) {
            let w = w
                .trim_matches(|c: char| matches!(c, '.' | '/' | '#'))
                .to_uppercase();
            if !w.is_empty() {
                words.push(w);
            }
        }
    }
    words
}

/// A company name reduced for comparison: lower case, letters and digits, legal forms dropped.
fn normalize_name(name: &str) -> String {
    const FORMS: [&str; 12] = [
        "sa", "sas", "sasu", "sarl", "eurl", "sci", "snc", "gmbh", "ltd", "inc", "bv", "bvba",
    ];
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !FORMS.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A balance (`Stmt/Bal`) being read: its type code, amount, currency and direction.
#[derive(Default)]
struct BalAcc {
    code: String,
    amount: Option<Decimal>,
    amount_seen: bool,
    currency: String,
    credit: Option<bool>,
    line: u64,
}

impl BalAcc {
    /// The balance as a signed amount (credit +, debit −), when it has an amount and a direction.
    fn signed(&self) -> Option<Decimal> {
        let amount = self.amount?;
        Some(if self.credit? { amount } else { -amount })
    }
}

/// A statement being read, for its balance check: the opening and closing booked balances and
/// the signed sum of its booked entries, by currency.
#[derive(Default)]
struct StmtAcc {
    line: u64,
    opening: Option<BalAcc>,
    closing: Option<BalAcc>,
    /// Signed sum of the booked entries (CRDT +, DBIT −) by the currency of their `Amt`
    /// (empty when an entry's amount names none).
    sums: std::collections::BTreeMap<String, Decimal>,
}

impl StmtAcc {
    /// Keeps the opening booked balance (`OPBD`, else the previous closing `PRCD`, which banks
    /// send instead or alongside with the same amount) and the closing booked balance (`CLBD`).
    /// Other balances (available `OPAV`/`CLAV`, forward, interim, information) are not booked
    /// balances and take no part in the check.
    fn add_balance(&mut self, bal: BalAcc) {
        match bal.code.as_str() {
            "OPBD" if self.opening.as_ref().is_none_or(|o| o.code != "OPBD") => {
                self.opening = Some(bal)
            }
            "PRCD" if self.opening.is_none() => self.opening = Some(bal),
            "CLBD" if self.closing.is_none() => self.closing = Some(bal),
            _ => {}
        }
    }

    /// Adds a booked entry's signed amount. Entries not booked (`Sts` `PDNG`, `INFO`) are not on
    /// the balances; a reversal (`RvslInd`) is booked in the direction its `CdtDbtInd` gives, so
    /// it counts like any other entry. An entry without amount or direction is reported by
    /// [`finish_entry`] and left out here.
    fn add_entry(&mut self, en: &EntryAcc) {
        let booked = en.status.is_empty() || en.status == "BOOK";
        if let (true, Some(amount), Some(credit)) = (booked, en.amount, en.credit) {
            *self.sums.entry(en.currency.clone()).or_default() +=
                if credit { amount } else { -amount };
        }
    }
}

/// The balance check of one statement: opening booked balance plus the signed sum of its
/// booked entries must equal its closing booked balance, in one currency. Any failure is a
/// problem, so the whole file is refused: a statement that does not add up is truncated,
/// doubled or corrupt, and its transfers cannot be trusted to pay invoices.
///
/// Both balances are required. The ISO 20022 message definition of camt.053
/// (BankToCustomerStatement, `Stmt/Bal` multiplicity 1..n) leaves the types to market practice,
/// and an implementation guide for camt.053.001.02 (the Finnish banks' "ISO 20022 Account
/// Statement Guide", § 4.5.18 "Balance record": "The following balance types are mandatory in
/// the Bank-To-Customer statement: OPBD [...] PRCD [...] CLBD") makes the opening booked balance
/// (`OPBD`, or `PRCD`, the previous day's closing) and the closing booked balance (`CLBD`)
/// mandatory in a bank-to-customer statement. A missing one is therefore an error, not a
/// warning.
fn check_balance(stmt: &StmtAcc, id: &str, path: &Path, problems: &mut Problems) {
    let name = if id.is_empty() {
        "statement without Id".to_string()
    } else {
        format!("statement {id}")
    };
    let (opening, closing) = match (&stmt.opening, &stmt.closing) {
        (Some(o), Some(c)) => (o, c),
        (o, c) => {
            let mut missing = Vec::new();
            if o.is_none() {
                missing.push("the opening booked balance (Bal OPBD or PRCD)");
            }
            if c.is_none() {
                missing.push("the closing booked balance (Bal CLBD)");
            }
            problems.at(
                path,
                stmt.line,
                Some("Bal"),
                format!(
                    "{name} lacks {}, which camt.053 requires: its entries cannot be checked",
                    missing.join(" and ")
                ),
            );
            return;
        }
    };
    let mut complete = true;
    for bal in [opening, closing] {
        if bal.amount.is_none() && !bal.amount_seen {
            problems.at(
                path,
                bal.line,
                Some("Bal"),
                format!("{name}: balance {} without an amount", bal.code),
            );
        }
        if bal.credit.is_none() {
            problems.at(
                path,
                bal.line,
                Some("CdtDbtInd"),
                format!(
                    "{name}: balance {} without a credit/debit indicator",
                    bal.code
                ),
            );
        }
        complete &= bal.signed().is_some();
    }
    let (Some(open), Some(close), true) = (opening.signed(), closing.signed(), complete) else {
        return;
    };
    let ccy = &opening.currency;
    if closing.currency != *ccy {
        problems.at(
            path,
            closing.line,
            Some("Ccy"),
            format!(
                "{name}: the opening balance is in {} and the closing balance in {}",
                or_none(ccy),
                or_none(&closing.currency)
            ),
        );
        return;
    }
    let others: Vec<&str> = stmt
        .sums
        .keys()
        .filter(|c| !c.is_empty() && *c != ccy)
        .map(String::as_str)
        .collect();
    if !others.is_empty() {
        problems.at(
            path,
            stmt.line,
            Some("Ccy"),
            format!(
                "{name}: balances in {} but entries in {}",
                or_none(ccy),
                others.join(", ")
            ),
        );
        return;
    }
    let entries: Decimal = stmt.sums.values().sum();
    let expected = open + entries;
    if expected != close {
        problems.at(
            path,
            stmt.line,
            Some("Bal"),
            format!(
                "{name} does not balance: opening balance {open} {ccy} + booked entries \
                 {entries} {ccy} = {expected} {ccy}, but the closing balance is {close} {ccy} \
                 (difference {} {ccy})",
                close - expected
            ),
        );
    }
}

fn or_none(ccy: &str) -> &str {
    if ccy.is_empty() { "no currency" } else { ccy }
}

/// An entry being read.
#[derive(Default)]
struct EntryAcc {
    amount: Option<Decimal>,
    currency: String,
    credit: Option<bool>,
    reversal: bool,
    status: String,
    booking: Option<NaiveDate>,
    value: Option<NaiveDate>,
    bank_ref: Option<String>,
    info: Vec<String>,
    txs: Vec<TxAcc>,
    /// `BkTxCd/Domn/Fmly/Cd` and `SubFmlyCd` (the entry's, or a transaction's).
    family: Option<String>,
    sub_family: Option<String>,
}

#[derive(Default)]
struct TxAcc {
    amount: Option<Decimal>,
    currency: Option<String>,
    bank_ref: Option<String>,
    payer: Option<String>,
    ultimate: Option<String>,
    iban: Option<String>,
    end_to_end: Option<String>,
    structured: Vec<String>,
    unstructured: Vec<String>,
    /// `RtrInf/Rsn/Cd` (or `Prtry`), `Some("")` for return information without a code.
    returned: Option<String>,
}

fn ends(path: &[String], tail: &[&str]) -> bool {
    path.len() >= tail.len()
        && path[path.len() - tail.len()..]
            .iter()
            .zip(tail)
            .all(|(a, b)| a == b)
}

fn within(path: &[String], name: &str) -> bool {
    path.iter().any(|p| p == name)
}

/// Reads the credit transactions of every statement of the document.
fn read(path: &Path, text: &str) -> Result<(Vec<Transaction>, CamtSummary), PortfolioError> {
    let mut problems = Problems::default();
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<String> = Vec::new();
    let mut statement = String::new();
    let mut entry: Option<EntryAcc> = None;
    let mut entry_count = 0usize;
    let mut out = Vec::new();
    let mut summary = CamtSummary::default();
    let mut saw_statement = false;
    let mut stmt = StmtAcc::default();
    let mut balance: Option<BalAcc> = None;
    let line_of =
        |pos: u64| text[..(pos as usize).min(text.len())].matches('\n').count() as u64 + 1;
    loop {
        let position = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                problems.at(path, line_of(position), None, format!("invalid XML: {e}"));
                break;
            }
        };
        match event {
            Xml::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(name.clone());
                match name.as_str() {
                    "Stmt" => {
                        saw_statement = true;
                        statement.clear();
                        stmt = StmtAcc {
                            // the line of the tag itself: `position` is where the previous
                            // event ended, before the whitespace
                            line: line_of(reader.buffer_position()),
                            ..StmtAcc::default()
                        };
                    }
                    "Bal" if ends(&stack, &["Stmt", "Bal"]) => {
                        balance = Some(BalAcc {
                            line: line_of(reader.buffer_position()),
                            ..BalAcc::default()
                        });
                    }
                    "Ntry" => {
                        entry = Some(EntryAcc::default());
                        entry_count += 1;
                    }
                    "TxDtls" => {
                        if let Some(en) = entry.as_mut() {
                            en.txs.push(TxAcc::default());
                        }
                    }
                    "Amt" => {
                        let ccy = e
                            .try_get_attribute("Ccy")
                            .ok()
                            .flatten()
                            .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()));
                        if let (Some(bal), Some(ccy)) = (balance.as_mut(), ccy.clone())
                            && ends(&stack, &["Bal", "Amt"])
                        {
                            bal.currency = ccy;
                        } else if let (Some(en), Some(ccy)) = (entry.as_mut(), ccy) {
                            if ends(&stack, &["Ntry", "Amt"]) {
                                en.currency = ccy;
                            } else if let Some(tx) = en.txs.last_mut() {
                                tx.currency.get_or_insert(ccy);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Xml::End(_) => {
                if stack.last().is_some_and(|n| n == "Bal")
                    && let Some(bal) = balance.take()
                {
                    stmt.add_balance(bal);
                }
                if stack.last().is_some_and(|n| n == "Stmt") {
                    check_balance(&stmt, &statement, path, &mut problems);
                }
                if stack.last().is_some_and(|n| n == "Ntry")
                    && let Some(en) = entry.take()
                {
                    stmt.add_entry(&en);
                    finish_entry(
                        en,
                        &statement,
                        entry_count,
                        path,
                        line_of(position),
                        &mut problems,
                        &mut out,
                        &mut summary,
                    );
                }
                stack.pop();
            }
            Xml::Text(t) => {
                let value = match t.unescape() {
                    Ok(v) => v.trim().to_string(),
                    Err(e) => {
                        problems.at(
                            path,
                            line_of(position),
                            None,
                            format!("invalid XML text: {e}"),
                        );
                        continue;
                    }
                };
                if ends(&stack, &["Stmt", "Id"]) {
                    statement = value;
                    continue;
                }
                if let Some(bal) = balance.as_mut() {
                    if ends(&stack, &["Bal", "Tp", "CdOrPrtry", "Cd"]) {
                        bal.code = value;
                    } else if ends(&stack, &["Bal", "Amt"]) {
                        bal.amount_seen = true;
                        bal.amount = value
                            .parse::<Decimal>()
                            .ok()
                            .filter(|a| *a >= Decimal::ZERO);
                        if bal.amount.is_none() {
                            problems.at(
                                path,
                                line_of(position),
                                Some("Bal"),
                                format!("invalid balance amount \"{value}\""),
                            );
                        }
                    } else if ends(&stack, &["Bal", "CdtDbtInd"]) {
                        bal.credit = Some(value == "CRDT");
                    }
                    continue;
                }
                let Some(en) = entry.as_mut() else { continue };
                if ends(&stack, &["BkTxCd", "Domn", "Fmly", "Cd"]) {
                    en.family = Some(value);
                    continue;
                }
                if ends(&stack, &["BkTxCd", "Domn", "Fmly", "SubFmlyCd"]) {
                    en.sub_family = Some(value);
                    continue;
                }
                if within(&stack, "RtrInf") {
                    if let Some(tx) = en.txs.last_mut() {
                        let reason = tx.returned.get_or_insert_with(String::new);
                        if (ends(&stack, &["Rsn", "Cd"]) || ends(&stack, &["Rsn", "Prtry"]))
                            && reason.is_empty()
                        {
                            *reason = value;
                        }
                    }
                    continue;
                }
                let line = line_of(position);
                let date = |v: &str, problems: &mut Problems| -> Option<NaiveDate> {
                    let d = v
                        .get(..10)
                        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                    if d.is_none() {
                        problems.at(
                            path,
                            line,
                            stack.last().map(String::as_str),
                            format!("invalid date \"{v}\""),
                        );
                    }
                    d
                };
                let amount = |v: &str, problems: &mut Problems| -> Option<Decimal> {
                    let a = v.parse::<Decimal>().ok().filter(|a| *a >= Decimal::ZERO);
                    if a.is_none() {
                        problems.at(path, line, Some("Amt"), format!("invalid amount \"{v}\""));
                    }
                    a
                };
                if !within(&stack, "TxDtls") {
                    if ends(&stack, &["Ntry", "Amt"]) {
                        en.amount = amount(&value, &mut problems);
                    } else if ends(&stack, &["Ntry", "CdtDbtInd"]) {
                        en.credit = Some(value == "CRDT");
                    } else if ends(&stack, &["Ntry", "RvslInd"]) {
                        en.reversal = value == "true" || value == "1";
                    } else if ends(&stack, &["Ntry", "Sts"]) || ends(&stack, &["Ntry", "Sts", "Cd"])
                    {
                        en.status = value;
                    } else if ends(&stack, &["BookgDt", "Dt"]) || ends(&stack, &["BookgDt", "DtTm"])
                    {
                        en.booking = date(&value, &mut problems);
                    } else if ends(&stack, &["ValDt", "Dt"]) || ends(&stack, &["ValDt", "DtTm"]) {
                        en.value = date(&value, &mut problems);
                    } else if ends(&stack, &["Ntry", "AcctSvcrRef"]) {
                        en.bank_ref = Some(value);
                    } else if ends(&stack, &["Ntry", "AddtlNtryInf"]) {
                        en.info.push(value);
                    }
                    continue;
                }
                let Some(tx) = en.txs.last_mut() else {
                    continue;
                };
                if ends(&stack, &["TxDtls", "Amt"]) || ends(&stack, &["AmtDtls", "TxAmt", "Amt"]) {
                    tx.amount = amount(&value, &mut problems);
                } else if ends(&stack, &["Refs", "AcctSvcrRef"]) {
                    tx.bank_ref = Some(value);
                } else if ends(&stack, &["Refs", "EndToEndId"]) {
                    if !value.is_empty() && value != "NOTPROVIDED" {
                        tx.end_to_end = Some(value);
                    }
                } else if ends(&stack, &["DbtrAcct", "Id", "IBAN"]) {
                    let iban: String = value
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect::<String>()
                        .to_uppercase();
                    if !iban.is_empty() {
                        tx.iban = Some(iban);
                    }
                } else if within(&stack, "CdtrRefInf") && ends(&stack, &["Ref"]) {
                    tx.structured.push(value);
                } else if (within(&stack, "RmtInf") && ends(&stack, &["Ustrd"]))
                    || ends(&stack, &["AddtlTxInf"])
                {
                    tx.unstructured.push(value);
                } else if within(&stack, "RltdPties") && ends(&stack, &["Nm"]) {
                    if within(&stack, "UltmtDbtr") {
                        tx.ultimate.get_or_insert(value);
                    } else if within(&stack, "Dbtr") {
                        tx.payer.get_or_insert(value);
                    }
                }
            }
            Xml::Eof => break,
            _ => {}
        }
    }
    if problems.is_empty() && !saw_statement {
        problems.at(
            path,
            1,
            None,
            "not a camt.053 statement: no BkToCstmrStmt/Stmt element",
        );
    }
    summary.entries = entry_count;
    problems.finish()?;
    Ok((out, summary))
}

#[allow(clippy::too_many_arguments)]
fn finish_entry(
    en: EntryAcc,
    statement: &str,
    index: usize,
    path: &Path,
    line: u64,
    problems: &mut Problems,
    out: &mut Vec<Transaction>,
    summary: &mut CamtSummary,
) {
    let Some(credit) = en.credit else {
        problems.at(
            path,
            line,
            Some("CdtDbtInd"),
            "entry without a credit/debit indicator",
        );
        return;
    };
    let booked = en.status.is_empty() || en.status == "BOOK";
    let returned = !credit && (en.reversal || en.txs.iter().any(|t| t.returned.is_some()));
    if (!credit && !returned) || (credit && en.reversal) || !booked {
        summary.ignored_debits += 1;
        return;
    }
    if credit {
        summary.credits += 1;
    }
    let means = means_of(en.family.as_deref(), en.sub_family.as_deref());
    let Some(date) = en.value.or(en.booking) else {
        problems.at(
            path,
            line,
            Some("BookgDt"),
            "credit entry without a booking or value date",
        );
        return;
    };
    let Some(entry_amount) = en.amount else {
        problems.at(path, line, Some("Amt"), "credit entry without an amount");
        return;
    };
    let base = format!(
        "camt {statement}/{}",
        en.bank_ref.clone().unwrap_or_else(|| index.to_string())
    );
    let single = en.txs.len() <= 1;
    let txs = if en.txs.is_empty() {
        vec![TxAcc::default()]
    } else {
        en.txs
    };
    for (k, tx) in txs.into_iter().enumerate() {
        let amount = if single {
            tx.amount.unwrap_or(entry_amount)
        } else {
            tx.amount.unwrap_or_default()
        };
        let mut unstructured = tx.unstructured;
        if single {
            unstructured.extend(en.info.iter().cloned());
        }
        out.push(Transaction {
            reference: match (&tx.bank_ref, single) {
                (Some(r), _) => format!("camt {statement}/{r}"),
                (None, true) => base.clone(),
                (None, false) => format!("{base}.{}", k + 1),
            },
            date,
            booking_date: en.booking,
            value_date: en.value,
            amount,
            currency: tx.currency.unwrap_or_else(|| {
                if en.currency.is_empty() {
                    "EUR".into()
                } else {
                    en.currency.clone()
                }
            }),
            payer: tx.payer.or(tx.ultimate),
            payer_iban: tx.iban,
            end_to_end_id: tx.end_to_end,
            structured: tx.structured,
            unstructured,
            means,
            returned: if returned {
                Some(tx.returned.unwrap_or_default())
            } else {
                None
            },
            sub_family: en.sub_family.clone(),
        });
    }
}

/// The payment means an ISO 20022 bank transaction code gives (family, sub-family), if any.
fn means_of(
    family: Option<&str>,
    sub: Option<&str>,
) -> Option<relance_core::payment::PaymentMeans> {
    use relance_core::payment::PaymentMeans as M;
    Some(match (family?, sub) {
        ("RCDT" | "ICDT", _) => M::Transfer,
        ("IDDT" | "RDDT", Some("BBDD")) => M::SepaDirectDebitB2b,
        ("IDDT" | "RDDT", _) => M::SepaDirectDebitCore,
        ("RCHQ" | "ICHQ", _) => M::Cheque,
        ("DRFT", _) => M::Lcr,
        ("CCRD" | "MCRD", _) => M::Card,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized() {
        assert_eq!(normalize_name("ACME S.A."), "acme s a");
        assert_eq!(normalize_name("Acme SAS"), "acme");
    }

    #[test]
    fn words_of_references() {
        let t = Transaction {
            reference: "r".into(),
            date: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            booking_date: None,
            value_date: None,
            amount: Decimal::ONE,
            currency: "EUR".into(),
            payer: None,
            payer_iban: None,
            end_to_end_id: None,
            structured: vec!["RF18F-2026-0001".into()],
            unstructured: vec!["Facture F-7, merci.".into()],
            means: None,
            returned: None,
            sub_family: None,
        };
        let words = reference_words(&t);
        assert!(words.contains(&"F-2026-0001".to_string()));
        assert!(words.contains(&"F-7".to_string()));
    }
}
