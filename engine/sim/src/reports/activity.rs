//! Collection activity from an engine run: messages by channel and step, calls, promises made
//! and kept on time, disputes opened and resolved (with the mean resolution time), and the
//! amounts collected after each step.
//!
//! It reads a [`Run`](crate::simulator::Run): its planned actions and its recorded transitions,
//! whose causes the runtime writes (`step fired (…)`, `payment of 100.00, outstanding 0.00`,
//! `promise to pay by …`, `promise kept`, `promise broken`, `dispute opened: …`, `dispute
//! resolved`); [`Kind::of`] is the one place that reads them, and the tests run the real simulator
//! so that a change of wording fails here. Each fact is counted from its own record, which leaves
//! the status as it is (`from` = `to`): the change of status a fact causes repeats its cause
//! (without a handler, a promise kept or broken ends the wait for it with a second `promise kept` /
//! `promise broken` record, `waiting` → `active`, and a resolution resumes the case with a second
//! `dispute resolved`; a `stop` closes it with any reason) and is not counted again. Messages are
//! counted twice: as actions (one per invoice) and as messages (one per day, customer, channel,
//! template and recipients, as grouping sends them). It must not run the engine itself.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use relance_dsl::ir::Action;
use rust_decimal::Decimal;
use serde::Serialize;

use super::days;
use relance_core::runtime::{Planned, Record};

/// Messages of one channel sent by one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelStep {
    pub channel: String,
    pub step: String,
    /// One per invoice.
    pub actions: usize,
    /// One per day, customer, template and recipients (what is actually sent).
    pub messages: usize,
}

/// Money received after a step (the last step that fired on the invoice before the payment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collected {
    pub step: String,
    pub payments: usize,
    pub amount: Decimal,
}

/// The collection activity of a run up to a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// The first day counted ([`activity_between`]); absent: from the beginning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    pub until: NaiveDate,
    pub messages: Vec<ChannelStep>,
    /// Call tasks (one per day and customer).
    pub calls: usize,
    pub promises_made: usize,
    pub promises_kept: usize,
    pub promises_broken: usize,
    /// Kept on time / (kept + broken), in percent.
    pub promises_kept_pct: Option<Decimal>,
    pub disputes_opened: usize,
    pub disputes_resolved: usize,
    pub mean_resolution_days: Option<Decimal>,
    pub collected: Vec<Collected>,
}

/// What a recorded transition says, as far as activity is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    StepFired,
    Payment(Decimal),
    PromiseMade,
    PromiseKept,
    PromiseBroken,
    DisputeOpened,
    DisputeResolved,
    Other,
}

impl Kind {
    /// Reads a record's cause (see the module documentation). A record that changes the
    /// status is [`Kind::Other`] unless a step fired (its body may `pause` or `wait`): the
    /// fact behind the change has its own record.
    pub fn of(record: &Record) -> Kind {
        let cause = record.cause.as_str();
        if cause.starts_with("step fired") {
            Kind::StepFired
        } else if record.from != record.to {
            Kind::Other
        } else if let Some(rest) = cause.strip_prefix("payment of ") {
            rest.split(',')
                .next()
                .and_then(|a| a.trim().parse::<Decimal>().ok())
                .map_or(Kind::Other, Kind::Payment)
        } else if cause.starts_with("promise to pay by") {
            Kind::PromiseMade
        } else if cause == "promise kept" {
            Kind::PromiseKept
        } else if cause == "promise broken" {
            Kind::PromiseBroken
        } else if cause.starts_with("dispute opened") {
            Kind::DisputeOpened
        } else if cause == "dispute resolved" {
            Kind::DisputeResolved
        } else {
            Kind::Other
        }
    }
}

/// The name the report gives a step before which no step had fired.
pub const BEFORE_ANY_STEP: &str = "(before any step)";

/// The activity of `actions` and `records` dated up to `until`.
pub fn activity(actions: &[Planned], records: &[Record], until: NaiveDate) -> Activity {
    activity_between(actions, records, None, until)
}

/// The activity of `actions` and `records` dated from `from` (when given) to `until`. Records
/// before `from` are still read for context (the last step that fired before a payment, the
/// opening day of a dispute resolved in the period) but not counted.
pub fn activity_between(
    actions: &[Planned],
    records: &[Record],
    from: Option<NaiveDate>,
    until: NaiveDate,
) -> Activity {
    let counted = |d: NaiveDate| from.is_none_or(|f| d >= f);
    let mut channels: BTreeMap<(String, String), (usize, BTreeSet<String>)> = BTreeMap::new();
    let mut calls: BTreeSet<(NaiveDate, String, String)> = BTreeSet::new();
    for a in actions
        .iter()
        .filter(|a| a.date <= until && counted(a.date))
    {
        let (channel, template, to) = match &a.action {
            Action::Email { template, to, cc } => {
                ("email", template.clone(), format!("{to:?}{cc:?}"))
            }
            Action::Sms { template, to } => ("sms", template.clone(), format!("{to:?}")),
            Action::Letter {
                template,
                to,
                registered,
            } => (
                if *registered {
                    "registered letter"
                } else {
                    "letter"
                },
                template.clone(),
                format!("{to:?}"),
            ),
            Action::Call { who, .. } => {
                calls.insert((a.date, a.customer.clone(), who.clone()));
                continue;
            }
            _ => continue,
        };
        let entry = channels
            .entry((channel.to_string(), a.step.clone()))
            .or_default();
        entry.0 += 1;
        entry
            .1
            .insert(format!("{}|{}|{template}|{to}", a.date, a.customer));
    }
    let mut sorted: Vec<&Record> = records.iter().filter(|r| r.date <= until).collect();
    sorted.sort_by_key(|r| r.order);
    let mut last_step: HashMap<&str, &str> = HashMap::new();
    let mut dispute_since: HashMap<&str, NaiveDate> = HashMap::new();
    let mut durations: Vec<i64> = Vec::new();
    let (mut made, mut kept, mut broken, mut opened, mut resolved) = (0, 0, 0, 0, 0);
    let mut collected: BTreeMap<String, (usize, Decimal)> = BTreeMap::new();
    for r in sorted {
        let kind = Kind::of(r);
        if !counted(r.date) {
            // Context only: what a later record of the period needs.
            match kind {
                Kind::StepFired => {
                    if let Some(step) = &r.step {
                        last_step.insert(&r.invoice, step);
                    }
                }
                Kind::DisputeOpened => {
                    dispute_since.insert(&r.invoice, r.date);
                }
                Kind::DisputeResolved => {
                    dispute_since.remove(r.invoice.as_str());
                }
                _ => {}
            }
            continue;
        }
        match kind {
            Kind::StepFired => {
                if let Some(step) = &r.step {
                    last_step.insert(&r.invoice, step);
                }
            }
            Kind::Payment(amount) => {
                let step = last_step
                    .get(r.invoice.as_str())
                    .copied()
                    .unwrap_or(BEFORE_ANY_STEP);
                let entry = collected.entry(step.to_string()).or_default();
                entry.0 += 1;
                entry.1 += amount;
            }
            Kind::PromiseMade => made += 1,
            Kind::PromiseKept => kept += 1,
            Kind::PromiseBroken => broken += 1,
            Kind::DisputeOpened => {
                opened += 1;
                dispute_since.insert(&r.invoice, r.date);
            }
            Kind::DisputeResolved => {
                resolved += 1;
                if let Some(since) = dispute_since.remove(r.invoice.as_str()) {
                    durations.push(days(since, r.date));
                }
            }
            Kind::Other => {}
        }
    }
    let pct = |n: usize, d: usize| {
        (d > 0).then(|| (Decimal::from(n) * Decimal::ONE_HUNDRED / Decimal::from(d)).round_dp(1))
    };
    Activity {
        from,
        until,
        messages: channels
            .into_iter()
            .map(|((channel, step), (actions, messages))| ChannelStep {
                channel,
                step,
                actions,
                messages: messages.len(),
            })
            .collect(),
        calls: calls.len(),
        promises_made: made,
        promises_kept: kept,
        promises_broken: broken,
        promises_kept_pct: pct(kept, kept + broken),
        disputes_opened: opened,
        disputes_resolved: resolved,
        mean_resolution_days: (!durations.is_empty()).then(|| {
            (Decimal::from(durations.iter().sum::<i64>()) / Decimal::from(durations.len()))
                .round_dp(1)
        }),
        collected: collected
            .into_iter()
            .map(|(step, (payments, amount))| Collected {
                step,
                payments,
                amount,
            })
            .collect(),
    }
}

impl Activity {
    pub fn to_text(&self) -> String {
        let since = self.from.map(|f| format!(" from {f}")).unwrap_or_default();
        let mut out = format!(
            "Collection activity{since} up to {}\n\nmessages by channel and step:\n",
            self.until
        );
        if self.messages.is_empty() {
            out.push_str("  none\n");
        }
        for m in &self.messages {
            out.push_str(&format!(
                "  {:<18} {:<20} {:>6} message(s) for {:>6} invoice(s)\n",
                m.channel, m.step, m.messages, m.actions
            ));
        }
        let opt = |d: Option<Decimal>, unit: &str| {
            d.map_or_else(|| "n/a".into(), |d| format!("{d}{unit}"))
        };
        out.push_str(&format!(
            "\ncalls: {}\npromises: {} made, {} kept on time, {} broken ({} kept)\n\
             disputes: {} opened, {} resolved, mean resolution {}\n\ncollected after each step:\n",
            self.calls,
            self.promises_made,
            self.promises_kept,
            self.promises_broken,
            opt(self.promises_kept_pct, " %"),
            self.disputes_opened,
            self.disputes_resolved,
            opt(self.mean_resolution_days, " days"),
        ));
        if self.collected.is_empty() {
            out.push_str("  none\n");
        }
        for c in &self.collected {
            out.push_str(&format!(
                "  {:<20} {:>6} payment(s) {:>14.2}\n",
                c.step, c.payments, c.amount
            ));
        }
        out
    }

    /// CSV: `section,key,detail,value` lines.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("section,key,detail,value\n");
        let cell = super::csv_cell;
        for m in &self.messages {
            out.push_str(&format!(
                "messages,{},{},{}\n",
                cell(&m.channel),
                cell(&m.step),
                m.messages
            ));
            out.push_str(&format!(
                "message_actions,{},{},{}\n",
                cell(&m.channel),
                cell(&m.step),
                m.actions
            ));
        }
        let opt = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
        out.push_str(&format!("calls,calls,,{}\n", self.calls));
        out.push_str(&format!("promises,made,,{}\n", self.promises_made));
        out.push_str(&format!("promises,kept,,{}\n", self.promises_kept));
        out.push_str(&format!("promises,broken,,{}\n", self.promises_broken));
        out.push_str(&format!(
            "promises,kept_pct,,{}\n",
            opt(self.promises_kept_pct)
        ));
        out.push_str(&format!("disputes,opened,,{}\n", self.disputes_opened));
        out.push_str(&format!("disputes,resolved,,{}\n", self.disputes_resolved));
        out.push_str(&format!(
            "disputes,mean_resolution_days,,{}\n",
            opt(self.mean_resolution_days)
        ));
        for c in &self.collected {
            out.push_str(&format!(
                "collected,{},payments,{}\n",
                cell(&c.step),
                c.payments
            ));
            out.push_str(&format!(
                "collected,{},amount,{}\n",
                cell(&c.step),
                c.amount
            ));
        }
        out
    }
}
