//! The timeline: a run's actions and transitions as dated entries, grouped and sorted, in the
//! JSON contract of `relance simulate` and as readable text.
//!
//! Grouping: actions of the same day for the same customer that are the same action (channel,
//! template, recipients: the same text) merge into one entry listing every invoice, unless the
//! scenario says `group by invoice`; charges never merge (each invoice has its own amount).
//! Entries sort by date, then customer, then step order (handler actions after the steps),
//! then the order in which the engine decided them. Under a `cadence` the messages given are
//! already merged and dated by `relance_core::runtime::cadence` (they merge here whatever the
//! grouping), and a message that waits shows on the day it was due as a `deferred` entry
//! ([`Timeline::add_deferrals`]). An action on an invoice with installments lists them as they
//! stand on its day (`"installments"` in JSON; the overdue ones in the text form). This module
//! only shapes output; it decides nothing.

use chrono::NaiveDate;
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use relance_dsl::ir::{Action, Escalation, GroupKey, ScenarioSet};

use relance_core::domain::Customer;
use relance_core::interest::{AssumedRate, half_year_name};
use relance_core::runtime::cadence::Deferral;
use relance_core::runtime::installments::Standing;
use relance_core::runtime::{Planned, Record};

/// One line of the timeline. Its JSON form (see `impl Serialize`) is the entry of the
/// brief's timeline contract: `date`, `kind`, `customer`, `invoices`, `step`, then the
/// detail's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub date: NaiveDate,
    pub kind: EntryKind,
    pub customer: String,
    pub invoices: Vec<String>,
    pub step: Option<String>,
    /// The step's index in its scenario (handlers and event records: see `build`); not
    /// printed.
    pub step_order: usize,
    /// Decision order in the run: entries of one day and customer read as they happened;
    /// not printed.
    pub order: u64,
    pub detail: Detail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    Action,
    Transition,
    /// A message that waits for the end of its customer's cadence gap (only under `cadence`).
    Deferred,
}

/// What an entry says beyond its date, customer, invoices and step. Its fields are printed
/// inline in the entry, empty ones (`template`, `to`, `cc`, `amount`, `currency`) left out.
#[derive(Debug, Clone, PartialEq)]
// An action's detail is most entries; boxing it would add an allocation to nearly every one.
#[allow(clippy::large_enum_variant)]
pub enum Detail {
    Action {
        action: &'static str,
        template: Option<String>,
        to: Vec<String>,
        cc: Vec<String>,
        amount: Option<String>,
        currency: Option<String>,
        /// The action in scenario syntax (`email "reminder-1" to accounting`).
        text: String,
        scenario: String,
        version: String,
        /// One idempotency key per invoice merged into this entry.
        keys: Vec<String>,
        /// The action itself (not printed).
        action_ir: Box<Action>,
        /// A late-interest charge past the end of the rate table: the half-year assumed and
        /// the one whose rate was used. Printed as `"rate_assumed": true` and
        /// `"rate_assumed_for"`, `"rate_assumed_from"` (half-years), and in the text form.
        rate_assumed: Option<AssumedRate>,
        /// Set when the template is not written in the customer's language
        /// ([`Timeline::note_languages`]); `None` when it is, or nobody looked.
        language: Option<Box<LanguageNote>>,
        /// The installments of the entry's invoices that have some, on the entry's day (each
        /// with its invoice): printed as `"installments"` when there are any, and in the text
        /// form those overdue.
        installments: Vec<InstallmentLine>,
    },
    Transition {
        from: &'static str,
        to: &'static str,
        cause: String,
    },
    /// A message due this day that goes out on `until` (the cadence's gap): printed as
    /// `"text"`, `"until"` and `"reason": "cadence"`.
    Deferred { text: String, until: NaiveDate },
}

/// One installment of an invoice of an entry, as it stands on the entry's day
/// (`relance_core::runtime::installments::Standing`, with its invoice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstallmentLine {
    pub invoice: String,
    #[serde(flatten)]
    pub standing: Standing,
}

impl InstallmentLine {
    fn of(invoice: &str, standing: Standing) -> InstallmentLine {
        InstallmentLine {
            invoice: invoice.to_string(),
            standing,
        }
    }

    /// `F-1 installment 1 due 2026-01-31: 300 unpaid of 300, 10 days late`.
    fn to_text(&self) -> String {
        format!(
            "{} installment {} due {}: {} unpaid of {}, {} days late",
            self.invoice,
            self.standing.number,
            self.standing.due,
            self.standing.unpaid,
            self.standing.amount,
            self.standing.days_late
        )
    }
}

/// A message whose template is not written in its customer's language: the set's declared
/// fallback language was used, or no variant exists (the daemon would dead-letter it).
/// Printed as `"language"` and `"fallback_from"`, or `"no_template_in"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageNote {
    Fallback { language: String, from: String },
    Missing { language: String },
}

/// Written as one flat struct, which serializers handle much faster than `#[serde(flatten)]`
/// (a planner prints millions of entries).
impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Entry", 20)?;
        out.serialize_field("date", &self.date)?;
        out.serialize_field("kind", &self.kind)?;
        out.serialize_field("customer", &self.customer)?;
        out.serialize_field("invoices", &self.invoices)?;
        out.serialize_field("step", &self.step)?;
        match &self.detail {
            Detail::Action {
                action,
                template,
                to,
                cc,
                amount,
                currency,
                text,
                scenario,
                version,
                keys,
                action_ir: _,
                rate_assumed,
                language,
                installments,
            } => {
                out.serialize_field("action", action)?;
                if let Some(template) = template {
                    out.serialize_field("template", template)?;
                }
                if !to.is_empty() {
                    out.serialize_field("to", to)?;
                }
                if !cc.is_empty() {
                    out.serialize_field("cc", cc)?;
                }
                if let Some(amount) = amount {
                    out.serialize_field("amount", amount)?;
                }
                if let Some(currency) = currency {
                    out.serialize_field("currency", currency)?;
                }
                out.serialize_field("text", text)?;
                out.serialize_field("scenario", scenario)?;
                out.serialize_field("version", version)?;
                out.serialize_field("keys", keys)?;
                if let Some(a) = rate_assumed {
                    out.serialize_field("rate_assumed", &true)?;
                    out.serialize_field("rate_assumed_for", &half_year_name(a.half_year))?;
                    out.serialize_field("rate_assumed_from", &half_year_name(a.from))?;
                }
                match language.as_deref() {
                    Some(LanguageNote::Fallback { language, from }) => {
                        out.serialize_field("language", language)?;
                        out.serialize_field("fallback_from", from)?;
                    }
                    Some(LanguageNote::Missing { language }) => {
                        out.serialize_field("no_template_in", language)?;
                    }
                    None => {}
                }
                if !installments.is_empty() {
                    out.serialize_field("installments", installments)?;
                }
            }
            Detail::Transition { from, to, cause } => {
                out.serialize_field("from", from)?;
                out.serialize_field("to", to)?;
                out.serialize_field("cause", cause)?;
            }
            Detail::Deferred { text, until } => {
                out.serialize_field("text", text)?;
                out.serialize_field("until", until)?;
                out.serialize_field("reason", "cadence")?;
            }
        }
        out.end()
    }
}

/// The whole timeline, as printed by `relance simulate --format json`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Timeline {
    pub entries: Vec<Entry>,
}

impl Timeline {
    /// Builds the timeline from a run's actions and records.
    pub fn build(
        set: &ScenarioSet,
        actions: &[Planned],
        records: &[Record],
        with_transitions: bool,
    ) -> Timeline {
        let mut entries = group_actions(set, actions.to_vec());
        if with_transitions {
            entries.extend(records.iter().map(|r| Entry {
                date: r.date,
                kind: EntryKind::Transition,
                customer: r.customer.clone(),
                invoices: vec![r.invoice.clone()],
                step: r.step.clone(),
                // Records without a step (events, waits ending) come first: events apply
                // before the day's steps.
                step_order: r.step_order.unwrap_or(0),
                order: r.order,
                detail: Detail::Transition {
                    from: r.from,
                    to: r.to,
                    cause: r.cause.clone(),
                },
            }));
        }
        sort(&mut entries);
        Timeline { entries }
    }

    /// The timeline of actions only, taking them (a planner's day: nothing is cloned).
    pub fn of_actions(set: &ScenarioSet, actions: Vec<Planned>) -> Timeline {
        let mut entries = group_actions(set, actions);
        sort(&mut entries);
        Timeline { entries }
    }

    /// Adds the messages that waited (see `relance_core::runtime::cadence`), each on the day
    /// it was due, and sorts again.
    pub fn add_deferrals(&mut self, deferrals: Vec<Deferral>) {
        if deferrals.is_empty() {
            return;
        }
        self.entries
            .extend(deferrals.into_iter().map(deferred_entry));
        sort(&mut self.entries);
    }

    /// Notes, on each message entry, a template not written in its customer's language:
    /// `note(language, template)` says which variant the set has (the caller knows the
    /// templates: `relance_templates::find`). Customers missing from `customers` read as
    /// `Customer::new` (French).
    pub fn note_languages(
        &mut self,
        customers: &[Customer],
        note: &dyn Fn(&str, &str) -> Option<LanguageNote>,
    ) {
        let languages: FxHashMap<&str, &str> = customers
            .iter()
            .map(|c| (c.id.as_str(), c.language.as_str()))
            .collect();
        let default = Customer::new("").language;
        for e in &mut self.entries {
            if let Detail::Action {
                template: Some(template),
                language,
                ..
            } = &mut e.detail
            {
                let lang = languages
                    .get(e.customer.as_str())
                    .copied()
                    .unwrap_or(default.as_str());
                *language = note(lang, template).map(Box::new);
            }
        }
    }

    /// Only the action entries.
    pub fn actions(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.kind == EntryKind::Action)
    }

    /// The readable form: one line per entry, columns aligned.
    pub fn to_text(&self) -> String {
        let width = |f: &dyn Fn(&Entry) -> usize| self.entries.iter().map(f).max().unwrap_or(0);
        let wc = width(&|e| e.customer.chars().count());
        let wi = width(&|e| e.invoices.join(",").chars().count());
        let ws = width(&|e| e.step.as_deref().unwrap_or("-").chars().count());
        let mut out = String::new();
        for e in &self.entries {
            let what = match &e.detail {
                Detail::Action {
                    text,
                    language,
                    rate_assumed,
                    installments,
                    ..
                } => {
                    let text = match rate_assumed {
                        Some(a) => format!("{text}  ({a})"),
                        None => text.clone(),
                    };
                    let overdue: Vec<String> = installments
                        .iter()
                        .filter(|i| i.standing.overdue)
                        .map(InstallmentLine::to_text)
                        .collect();
                    let text = if overdue.is_empty() {
                        text
                    } else {
                        format!("{text}  (overdue: {})", overdue.join("; "))
                    };
                    match language.as_deref() {
                        Some(LanguageNote::Fallback { language, from }) => {
                            format!("{text}  (template in {language}: none in {from})")
                        }
                        Some(LanguageNote::Missing { language }) => {
                            format!("{text}  (no template in {language}: not sent)")
                        }
                        None => text,
                    }
                }
                Detail::Deferred { text, until } => format!("· {}", deferred_text(text, *until)),
                Detail::Transition { from, to, cause } if from == to => format!("· {cause}"),
                Detail::Transition { from, to, cause } => format!("· {from} → {to}: {cause}"),
            };
            out.push_str(&format!(
                "{}  {:wc$}  {:wi$}  {:ws$}  {}\n",
                e.date,
                e.customer,
                e.invoices.join(","),
                e.step.as_deref().unwrap_or("-"),
                what
            ));
        }
        out
    }
}

/// By date, customer, step order (handlers last), then the order decisions were taken.
fn sort(entries: &mut Vec<Entry>) {
    fn key(e: &Entry) -> (NaiveDate, &str, usize, u64) {
        (e.date, e.customer.as_str(), e.step_order, e.order)
    }
    if entries.is_sorted_by(|a, b| key(a) <= key(b)) {
        return;
    }
    // Sort positions, then move each entry once: an entry is a few hundred bytes, and a
    // planner's day holds up to a million of them.
    let mut by_key: Vec<usize> = (0..entries.len()).collect();
    by_key.sort_unstable_by(|&a, &b| key(&entries[a]).cmp(&key(&entries[b])).then(a.cmp(&b)));
    let mut slots: Vec<Option<Entry>> = entries.drain(..).map(Some).collect();
    entries.extend(by_key.into_iter().filter_map(|i| slots[i].take()));
}

fn group_actions(set: &ScenarioSet, actions: Vec<Planned>) -> Vec<Entry> {
    let groups = merge_groups(set, &actions);
    let mut out: Vec<Entry> = Vec::with_capacity(actions.len());
    for (p, group) in actions.into_iter().zip(groups) {
        if group < out.len() {
            let e = &mut out[group];
            if let Detail::Action {
                keys, installments, ..
            } = &mut e.detail
            {
                keys.push(p.key);
                installments.extend(
                    p.installments
                        .into_iter()
                        .map(|s| InstallmentLine::of(&p.invoice, s)),
                );
            }
            e.invoices.push(p.invoice);
        } else {
            out.push(entry(p));
        }
    }
    out
}

/// For each action, the index of the entry it belongs to, numbering entries in order of
/// first appearance (an action starting a new entry gets the next number).
fn merge_groups(set: &ScenarioSet, actions: &[Planned]) -> Vec<usize> {
    let cadenced = |p: &Planned, s: &relance_dsl::ir::Scenario| {
        s.cadence_days.is_some()
            && p.step_order < s.steps.len()
            && matches!(
                p.action,
                Action::Email { .. } | Action::Sms { .. } | Action::Letter { .. }
            )
    };
    let mut merged: FxHashMap<(NaiveDate, &str, &Action), usize> = FxHashMap::default();
    let mut entries = 0;
    let mut groups = Vec::with_capacity(actions.len());
    for p in actions {
        let mergeable = !matches!(p.action, Action::Charge { .. })
            && set
                .scenarios
                .get(&p.scenario)
                .is_none_or(|s| s.group_by == GroupKey::Customer || cadenced(p, s));
        if mergeable {
            let at = *merged
                .entry((p.date, p.customer.as_str(), &p.action))
                .or_insert(entries);
            if at < entries {
                groups.push(at);
                continue;
            }
        }
        groups.push(entries);
        entries += 1;
    }
    groups
}

/// The entry of a message that waits, on the day it was due.
fn deferred_entry(d: Deferral) -> Entry {
    Entry {
        date: d.date,
        kind: EntryKind::Deferred,
        customer: d.customer,
        invoices: vec![d.invoice],
        step: Some(d.step),
        step_order: d.step_order,
        order: d.order,
        detail: Detail::Deferred {
            text: d.text,
            until: d.until,
        },
    }
}

fn entry(p: Planned) -> Entry {
    let text = p.action.to_string();
    let installments = p
        .installments
        .into_iter()
        .map(|s| InstallmentLine::of(&p.invoice, s))
        .collect();
    let (to, cc, amount) = match &p.action {
        Action::Email { to, cc, .. } => (to.clone(), cc.clone(), None),
        Action::Sms { to, .. } | Action::Letter { to, .. } | Action::Alert { to, .. } => {
            (to.clone(), vec![], None)
        }
        Action::Call { who, .. } => (vec![who.clone()], vec![], None),
        Action::Task { assign, .. } => (assign.iter().cloned().collect(), vec![], None),
        Action::Escalate {
            target: Escalation::Agency(a),
        } => (
            vec![a.clone().unwrap_or_else(|| "default".into())],
            vec![],
            None,
        ),
        Action::Charge { amount, .. } => (vec![], vec![], amount.clone()),
        _ => (vec![], vec![], None),
    };
    Entry {
        date: p.date,
        kind: EntryKind::Action,
        customer: p.customer,
        invoices: vec![p.invoice],
        step: Some(p.step),
        step_order: p.step_order,
        order: p.order,
        detail: Detail::Action {
            action: p.action.channel(),
            template: p.action.template().map(String::from),
            to,
            cc,
            amount: amount.as_ref().map(|m| m.amount.to_string()),
            currency: amount.map(|m| m.currency),
            text,
            scenario: p.scenario,
            version: p.version,
            keys: vec![p.key],
            action_ir: Box::new(p.action),
            rate_assumed: p.rate_assumed,
            language: None,
            installments,
        },
    }
}

/// How a message waiting for its customer's cadence gap reads, in `simulate` and `plan`.
pub fn deferred_text(text: &str, until: NaiveDate) -> String {
    format!("{text} deferred until {until} (cadence)")
}
