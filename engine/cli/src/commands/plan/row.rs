//! One planned entry as a flat row: the columns `relance plan --format csv` and `--format
//! parquet` share, in their order, read from the typed entry (the amount from the charge's
//! `Decimal`, never from the JSON's text).
//!
//! This module owns the column list and what each column holds; it must not write any format
//! (`csv.rs` and `parquet.rs` do) nor decide anything about the plan (the timeline does).

use chrono::NaiveDate;
use relance_dsl::ir::Action;
use relance_sim::timeline::{Detail, Entry, EntryKind, LanguageNote};
use rust_decimal::Decimal;

/// The columns, in order (the CSV header and the Parquet schema's field names).
pub const COLUMNS: [&str; 20] = [
    "date",
    "kind",
    "customer",
    "invoices",
    "step",
    "action",
    "template",
    "to",
    "cc",
    "amount",
    "currency",
    "text",
    "scenario",
    "version",
    "keys",
    "language",
    "fallback_from",
    "no_template_in",
    "until",
    "rate_assumed_from",
];

/// An entry's cells, borrowed from it. Lists (`invoices`, `to`, `cc`, `keys`) stay lists:
/// Parquet writes them as lists of strings, CSV joins them with `;`.
#[derive(Debug, Default)]
pub struct Row<'a> {
    pub date: NaiveDate,
    pub kind: &'a str,
    pub customer: &'a str,
    pub invoices: &'a [String],
    pub step: Option<&'a str>,
    pub action: Option<&'a str>,
    pub template: Option<&'a str>,
    pub to: &'a [String],
    pub cc: &'a [String],
    /// The charged amount, exactly as the engine computed it.
    pub amount: Option<Decimal>,
    pub currency: Option<&'a str>,
    /// The action in scenario syntax; for a deferred message, the message's text; for a
    /// transition (never in a plan), its cause.
    pub text: &'a str,
    pub scenario: Option<&'a str>,
    pub version: Option<&'a str>,
    pub keys: &'a [String],
    pub language: Option<&'a str>,
    pub fallback_from: Option<&'a str>,
    pub no_template_in: Option<&'a str>,
    /// The day a deferred message goes out.
    pub until: Option<NaiveDate>,
    /// A late-interest charge past the end of the rate table: the half-year whose rate was
    /// assumed (`2026-H2`); empty otherwise.
    pub rate_assumed_from: Option<String>,
}

impl<'a> Row<'a> {
    pub fn of(e: &'a Entry) -> Row<'a> {
        let mut row = Row {
            date: e.date,
            kind: match e.kind {
                EntryKind::Action => "action",
                EntryKind::Transition => "transition",
                EntryKind::Deferred => "deferred",
            },
            customer: &e.customer,
            invoices: &e.invoices,
            step: e.step.as_deref(),
            ..Row::default()
        };
        match &e.detail {
            Detail::Action {
                action,
                template,
                to,
                cc,
                currency,
                text,
                scenario,
                version,
                keys,
                action_ir,
                language,
                amount: _,
                rate_assumed,
                // Per invoice and per installment: no flat column carries them (JSON and text
                // do).
                installments: _,
            } => {
                row.action = Some(action);
                row.template = template.as_deref();
                row.to = to;
                row.cc = cc;
                row.amount = match action_ir.as_ref() {
                    Action::Charge {
                        amount: Some(m), ..
                    } => Some(m.amount),
                    _ => None,
                };
                row.currency = currency.as_deref();
                row.text = text;
                row.scenario = Some(scenario);
                row.version = Some(version);
                row.keys = keys;
                row.rate_assumed_from =
                    rate_assumed.map(|a| relance_core::interest::half_year_name(a.from));
                match language.as_deref() {
                    Some(LanguageNote::Fallback { language, from }) => {
                        row.language = Some(language);
                        row.fallback_from = Some(from);
                    }
                    Some(LanguageNote::Missing { language }) => row.no_template_in = Some(language),
                    None => {}
                }
            }
            Detail::Transition { cause, .. } => row.text = cause,
            Detail::Deferred { text, until } => {
                row.text = text;
                row.until = Some(*until);
            }
        }
        row
    }
}
