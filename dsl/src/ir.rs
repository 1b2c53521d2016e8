//! The compiled form of a scenario set: what the engine runs and stores.
//!
//! The IR is serde-serializable, has no spans and no unresolved names: anchors and `goto`
//! targets are step indices, field paths are [`Field`]s, events are [`EventName`]s. A
//! scenario's *version* is the SHA-256 of its canonical JSON without its `title`, so it
//! changes when behaviour changes and never when only layout, comments or the title do. This module defines the types and the
//! canonical text of actions; building them from an AST is `lower`'s job.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::schema::{EventName, Field};

/// Everything a folder of `.relance` files defines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ScenarioSet {
    pub scenarios: BTreeMap<String, Scenario>,
    pub policies: BTreeMap<String, Policy>,
    pub tests: Vec<TestCase>,
}

impl ScenarioSet {
    /// The policy used when none is named: the only one, else the one called `default`.
    pub fn default_policy(&self) -> Option<&Policy> {
        if self.policies.len() == 1 {
            return self.policies.values().next();
        }
        self.policies.get("default")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub title: Option<String>,
    /// Content hash of everything below (hex, 16 characters).
    pub version: String,
    pub applies: Option<Expr>,
    pub group_by: GroupKey,
    /// Business-day calendar name (`fr`, `none`).
    pub calendar: String,
    pub tolerance: Tolerance,
    /// Days after a promised date before the promise counts as broken.
    pub promise_grace_days: u32,
    /// Months of `promise grace N months` (added before the days; absent when zero so
    /// that the versions of existing scenarios do not change).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub promise_grace_months: u32,
    /// How past steps are caught up (left out of the hash when `latest`, the default, so
    /// versions made before the setting existed do not change).
    #[serde(default, skip_serializing_if = "CatchUp::is_latest")]
    pub catch_up: CatchUp,
    /// Where payments go and whether unpaid charges hold the case open (left out of the
    /// version hash while at its default, so older scenarios keep their versions).
    #[serde(default, skip_serializing_if = "Fees::is_default")]
    pub fees: Fees,
    /// `cadence DURATION`, in calendar days: at most one message per customer, channel and
    /// day, and at least this many days between two days with messages (see
    /// `relance_core::runtime::cadence`). `None` without the setting; left out of the
    /// serialized form then, so scenarios without it keep their versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence_days: Option<u32>,
    /// `late-interest …`: the rate of `charge late-interest` in this scenario, when the
    /// scenario states the contract's (an invoice's or customer's own rate wins over it;
    /// without any, ECB + 10 points). Absent from the serialized form when not set, so
    /// scenarios without it keep their versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_interest: Option<LateInterestRate>,
    /// In source order; anchors only point backwards.
    pub steps: Vec<Step>,
    pub handlers: BTreeMap<EventName, Vec<Stmt>>,
    /// `per customer`: the state belongs to the customer's account (see `levels`); absent
    /// from the JSON when false, so per-invoice scenarios keep their versions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub per_customer: bool,
    /// The levels of a `per customer` scenario, in source order (the last written is the
    /// highest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<Level>,
}

/// `level NAME when CONDITION { … }` of a `per customer` scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub name: String,
    pub when: Expr,
    pub body: Vec<Stmt>,
}

impl Scenario {
    pub fn step_index(&self, name: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.name == name)
    }

    /// Computes and stores the content hash (call after building). Only behaviour counts:
    /// the `title` (presentation) is left out, so retitling a scenario neither starts a new
    /// version nor breaks a snapshot.
    pub fn seal(mut self) -> Scenario {
        self.version = String::new();
        let title = self.title.take();
        let json = serde_json::to_vec(&self).unwrap_or_default();
        let digest = Sha256::digest(&json);
        self.version = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        self.title = title;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GroupKey {
    #[default]
    Customer,
    Invoice,
}

/// How a case catches up with steps whose dates passed before it could fire them
/// (`catch up …`; an invoice may override it: `dunning.catch_up` in the domain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// The latest past step fires (with the `required` ones); the others are skipped.
    #[default]
    Latest,
    /// The first past step fires, then each next past step at most once per `every`, until
    /// the case has caught up with the calendar.
    Gradual { every: Offset },
}

impl CatchUp {
    pub fn is_latest(&self) -> bool {
        matches!(self, CatchUp::Latest)
    }
}

impl fmt::Display for CatchUp {
    /// The form of the setting and of the `catch_up` import column: `latest`,
    /// `gradual 7 days`, `gradual 2 business days`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatchUp::Latest => f.write_str("latest"),
            CatchUp::Gradual { every } if every.months != 0 && every.days == 0 => {
                let unit = if every.months == 1 { "month" } else { "months" };
                write!(f, "gradual {} {unit}", every.months)
            }
            CatchUp::Gradual { every } => {
                let unit = match (every.business, every.days == 1) {
                    (true, true) => "business day",
                    (true, false) => "business days",
                    (false, true) => "day",
                    (false, false) => "days",
                };
                write!(f, "gradual {} {unit}", every.days)
            }
        }
    }
}

/// The largest number of a `gradual N unit` catch-up's units (ten years of days, as payment
/// terms): any more is a mistake, and the engine would walk that many business days.
pub const MAX_CATCH_UP_INTERVAL: i64 = 3650;

impl std::str::FromStr for CatchUp {
    type Err = String;

    /// Reads `latest` or `gradual N days|weeks|business days|months` (`gradual:7d` too, the
    /// short form: `d`, `w`, `bd`, `m`). The interval is at least one day and at most
    /// [`MAX_CATCH_UP_INTERVAL`] of its unit.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "latest" {
            return Ok(CatchUp::Latest);
        }
        let bad = || format!("`{s}` is not a catch-up: expected `latest` or `gradual 7 days`");
        let rest = s
            .strip_prefix("gradual")
            .ok_or_else(bad)?
            .trim_start_matches([' ', ':']);
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let n: i64 = digits.parse().map_err(|_| bad())?;
        let unit = rest[digits.len()..].trim();
        if n > MAX_CATCH_UP_INTERVAL {
            return Err(format!(
                "`{s}`: the catch-up interval is at most {MAX_CATCH_UP_INTERVAL} days, weeks, \
                 business days or months"
            ));
        }
        let (days, business, months) = match unit {
            "day" | "days" | "d" => (n, false, 0),
            "week" | "weeks" | "w" => (n * 7, false, 0),
            "business day" | "business days" | "bd" => (n, true, 0),
            "month" | "months" | "m" => (0, false, n),
            _ => return Err(bad()),
        };
        if days < 1 && months < 1 {
            return Err(format!(
                "`{s}`: the catch-up interval must be at least 1 day"
            ));
        }
        Ok(CatchUp::Gradual {
            every: Offset {
                days,
                business,
                months,
            },
        })
    }
}

/// The late-payment rate a scenario sets (`late-interest 12.5%`, `late-interest 3 times legal
/// rate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LateInterestRate {
    /// A yearly percentage, for every half-year.
    Percent(Decimal),
    /// This many times the taux de l'intérêt légal of each half-year.
    LegalTimes(Decimal),
}

impl std::fmt::Display for LateInterestRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LateInterestRate::Percent(p) => write!(f, "{p}%"),
            LateInterestRate::LegalTimes(n) => write!(f, "{n} times legal rate"),
        }
    }
}

/// The scenario's fee settings: `payments pay charges first`, `charges keep the case open`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Fees {
    /// A payment settles the unpaid charges before the principal (default: principal first).
    #[serde(default)]
    pub charges_first: bool,
    /// The case stays open while charges are unpaid after the principal is paid.
    #[serde(default)]
    pub keep_open: bool,
}

impl Fees {
    pub fn is_default(&self) -> bool {
        *self == Fees::default()
    }
}

/// At or under this, an outstanding counts as paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    Amount { amount: Decimal, currency: String },
    Percent(Decimal),
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance::Amount {
            amount: Decimal::ZERO,
            currency: "EUR".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub anchor: Anchor,
    pub offset: Offset,
    /// `end of month` / `on day N`, applied after the offset (absent: the date as is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<DayOfMonth>,
    /// `repeat every …`: the step fires again until its count, its condition or the next
    /// step's date ends the repetition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<Repeat>,
    pub required: bool,
    pub body: Vec<Stmt>,
}

/// Where in its month a step's date lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayOfMonth {
    /// The last day of the month the date falls in (OCA `end_of_month`).
    EndOfMonth,
    /// Day N (1–31) of the month the date falls in, clamped to the month's last day.
    Day(u32),
}

/// A repeating step: `repeat every EVERY [times N] [until COND]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repeat {
    pub every: Offset,
    /// How many times the step fires in all, the first time included.
    pub times: Option<u32>,
    /// Checked before each repetition (not before the first firing): when it holds, the
    /// repetition ends and the scenario moves on.
    pub until: Option<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    Due,
    Issued,
    /// An earlier step's actual firing date.
    Step(usize),
}

/// A signed offset: calendar months (clamped to the target month's last day), then calendar
/// or business days (weeks are 7 calendar days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Offset {
    pub days: i64,
    pub business: bool,
    /// Absent when zero, so that the versions of existing scenarios do not change.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub months: i64,
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stmt {
    SkipWhen(Expr),
    StopWhen(Expr),
    If {
        cond: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    Goto(usize),
    Stop(Option<String>),
    Pause,
    Resume(Option<Offset>),
    WaitUntil(Expr),
    Action(Action),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Action {
    Email {
        template: String,
        to: Vec<String>,
        cc: Vec<String>,
    },
    Sms {
        template: String,
        to: Vec<String>,
    },
    Letter {
        template: String,
        to: Vec<String>,
        registered: bool,
    },
    Call {
        who: String,
        assign: Option<String>,
    },
    Task {
        text: String,
        assign: Option<String>,
    },
    Webhook {
        name: String,
    },
    Escalate {
        target: Escalation,
    },
    Alert {
        text: String,
        to: Vec<String>,
    },
    Block,
    Unblock,
    Charge {
        charge: ChargeKind,
        amount: Option<Money>,
    },
    Tag {
        tag: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Escalation {
    Agency(Option<String>),
    Litigation,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    Indemnity,
    LateInterest,
    Fixed {
        label: String,
    },
    /// A percentage of the outstanding principal on the day, within optional bounds in the
    /// invoice's currency.
    Percent {
        rate: Decimal,
        label: String,
        min: Option<Money>,
        max: Option<Money>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct Money {
    pub amount: Decimal,
    pub currency: String,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

impl Action {
    /// The channel name used in timelines and grouping (`email`, `charge` …).
    pub fn channel(&self) -> &'static str {
        match self {
            Action::Email { .. } => "email",
            Action::Sms { .. } => "sms",
            Action::Letter { .. } => "letter",
            Action::Call { .. } => "call",
            Action::Task { .. } => "task",
            Action::Webhook { .. } => "webhook",
            Action::Escalate { .. } => "escalate",
            Action::Alert { .. } => "alert",
            Action::Block => "block",
            Action::Unblock => "unblock",
            Action::Charge { .. } => "charge",
            Action::Tag { .. } => "tag",
        }
    }

    /// The template a message uses, if any.
    pub fn template(&self) -> Option<&str> {
        match self {
            Action::Email { template, .. }
            | Action::Sms { template, .. }
            | Action::Letter { template, .. } => Some(template),
            _ => None,
        }
    }
}

fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

/// The canonical source text of an action, as written in scenarios and `expect` lines.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Email { template, to, cc } => {
                write!(f, "email {} to {}", quote(template), to.join(", "))?;
                if !cc.is_empty() {
                    write!(f, " cc {}", cc.join(", "))?;
                }
                Ok(())
            }
            Action::Sms { template, to } => {
                write!(f, "sms {} to {}", quote(template), to.join(", "))
            }
            Action::Letter {
                template,
                to,
                registered,
            } => {
                write!(f, "letter {} to {}", quote(template), to.join(", "))?;
                if *registered {
                    write!(f, " registered")?;
                }
                Ok(())
            }
            Action::Call { who, assign } => {
                write!(f, "call {who}")?;
                assign.as_ref().map_or(Ok(()), |a| write!(f, " assign {a}"))
            }
            Action::Task { text, assign } => {
                write!(f, "task {}", quote(text))?;
                assign.as_ref().map_or(Ok(()), |a| write!(f, " assign {a}"))
            }
            Action::Webhook { name } => write!(f, "webhook {}", quote(name)),
            Action::Escalate {
                target: Escalation::Agency(None),
            } => write!(f, "escalate agency"),
            Action::Escalate {
                target: Escalation::Agency(Some(a)),
            } => {
                write!(f, "escalate agency {}", quote(a))
            }
            Action::Escalate {
                target: Escalation::Litigation,
            } => write!(f, "escalate litigation"),
            Action::Alert { text, to } => {
                write!(f, "alert {}", quote(text))?;
                if !to.is_empty() {
                    write!(f, " to {}", to.join(", "))?;
                }
                Ok(())
            }
            Action::Block => write!(f, "block deliveries"),
            Action::Unblock => write!(f, "unblock deliveries"),
            Action::Charge { charge, amount } => {
                match charge {
                    ChargeKind::Indemnity => write!(f, "charge indemnity")?,
                    ChargeKind::LateInterest => write!(f, "charge late-interest")?,
                    ChargeKind::Fixed { label } => {
                        let m = amount.as_ref().map(|m| m.to_string()).unwrap_or_default();
                        return write!(f, "charge {m} {}", quote(label));
                    }
                    // Computed: the rate, the label and the amount charged (the bounds are
                    // the scenario's, not the result's); as written: the bounds.
                    ChargeKind::Percent {
                        rate,
                        label,
                        min,
                        max,
                    } => {
                        write!(f, "charge {}% {}", rate.normalize(), quote(label))?;
                        if amount.is_none() {
                            if let Some(m) = min {
                                write!(f, " min {m}")?;
                            }
                            if let Some(m) = max {
                                write!(f, " max {m}")?;
                            }
                        }
                    }
                }
                amount.as_ref().map_or(Ok(()), |m| write!(f, " {m}"))
            }
            Action::Tag { tag } => write!(f, "tag {}", quote(tag)),
        }
    }
}

// ----- expressions ----------------------------------------------------------------------------

/// A literal value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Bool(bool),
    Number(Decimal),
    Money(Money),
    Percent(Decimal),
    Text(String),
    Date(NaiveDate),
    Duration(Offset),
    List(Vec<Value>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    Lit(Value),
    Field(Field),
    List(Vec<Expr>),
    Rule {
        name: String,
        args: Vec<Expr>,
    },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
}

impl Expr {
    /// Whether `found` holds for this expression or any expression inside it (operands, list
    /// items, rule arguments), searched depth first.
    pub fn any(&self, found: &impl Fn(&Expr) -> bool) -> bool {
        found(self)
            || match self {
                Expr::Lit(_) | Expr::Field(_) => false,
                Expr::List(items) | Expr::Rule { args: items, .. } => {
                    items.iter().any(|x| x.any(found))
                }
                Expr::Not(x) | Expr::Neg(x) => x.any(found),
                Expr::Binary { lhs, rhs, .. } => lhs.any(found) || rhs.any(found),
            }
    }
}

pub use crate::syntax::ast::BinOp;

// ----- policies and tests ---------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    /// `(scenario, condition)`; `None` is `otherwise`.
    pub rules: Vec<(String, Option<Expr>)>,
}

/// A `test` block, ready to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    pub name: String,
    /// The file it came from (as given to the compiler) and its 1-based line.
    pub file: String,
    pub line: usize,
    /// `use SCENARIO`: run every invoice with this scenario instead of the policy.
    pub scenario: Option<String>,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub customers: Vec<TestEntity>,
    pub invoices: Vec<TestEntity>,
    pub events: Vec<(NaiveDate, TestEvent)>,
    pub expect: Expectation,
    /// `expect error INVOICE "TEXT"` lines: the only errors the test accepts (any other case
    /// in error fails it, whatever `expect` says).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ExpectedError>,
}

/// `expect error F-1 "text"`: the case of invoice `F-1` is in error, its message containing
/// `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedError {
    pub invoice: String,
    pub message: String,
}

/// A test customer or invoice: its id and the fields it sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestEntity {
    pub id: String,
    pub fields: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestEvent {
    Payment {
        invoice: String,
        amount: Money,
    },
    Dispute {
        invoice: String,
        code: String,
        amount: Option<Money>,
    },
    Resolve {
        invoice: String,
    },
    Promise {
        invoice: String,
        date: NaiveDate,
        amount: Option<Money>,
    },
    CreditNote {
        invoice: String,
        amount: Money,
    },
    WriteOff {
        invoice: String,
    },
    Risk {
        customer: String,
        score: i64,
    },
    Tag {
        customer: String,
        tag: String,
        added: bool,
    },
    WriteOffReversed {
        invoice: String,
        reason: Option<String>,
    },
    PaymentFailed {
        invoice: String,
        reason: String,
    },
    /// A payment came back; `reason` is one of `schema::PAYMENT_REVERSED_REASONS` (checked).
    PaymentReversed {
        invoice: String,
        amount: Money,
        reason: Option<String>,
        paid_on: Option<NaiveDate>,
    },
    Moved {
        invoice: String,
        scenario: String,
        step: Option<String>,
        by: String,
        because: String,
    },
    Outcome {
        invoice: String,
        text: String,
        promise: Option<NaiveDate>,
    },
    Bounce {
        customer: String,
        role: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    /// No `expect { … }` nor `expect snapshot`: the test only checks that its cases run
    /// without an error it does not expect.
    None,
    Snapshot,
    Lines(Vec<ExpectedAction>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct ExpectedAction {
    pub date: NaiveDate,
    pub action: Action,
    pub invoices: Vec<String>,
}

impl fmt::Display for ExpectedAction {
    /// `2026-02-03 email "reminder-1" to accounting for F-1, F-2`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} for {}",
            self.date,
            self.action,
            self.invoices.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_print_as_source() {
        let a = Action::Email {
            template: "r1".into(),
            to: vec!["accounting".into()],
            cc: vec!["sales".into()],
        };
        assert_eq!(a.to_string(), "email \"r1\" to accounting cc sales");
        let c = Action::Charge {
            charge: ChargeKind::LateInterest,
            amount: Some(Money {
                amount: Decimal::new(1234, 2),
                currency: "EUR".into(),
            }),
        };
        assert_eq!(c.to_string(), "charge late-interest 12.34 EUR");
        let l = Action::Letter {
            template: "n".into(),
            to: vec!["legal".into()],
            registered: true,
        };
        assert_eq!(l.to_string(), "letter \"n\" to legal registered");
    }

    fn version_of(source: &str) -> String {
        let files = vec![crate::SourceFile::new("v.relance", source)];
        let compiled = crate::compile(&files, &crate::SetContext::default());
        compiled.set.expect("compiles").scenarios["s"]
            .version
            .clone()
    }

    /// The version is behaviour's: a title (presentation) or a comment never changes it, a
    /// step does.
    #[test]
    fn the_version_ignores_the_title_and_comments() {
        let plain =
            version_of("scenario s {\n  step a at due + 3 days { email \"r\" to accounting }\n}\n");
        let titled = version_of(
            "# Our gentle reminders, described for people.\nscenario s {\n  title \"Gentle reminders\"\n  step a at due + 3 days { email \"r\" to accounting }\n}\n",
        );
        let retitled = version_of(
            "scenario s {\n  title \"Reminders, renamed\"\n  step a at due + 3 days { email \"r\" to accounting }\n}\n",
        );
        let changed =
            version_of("scenario s {\n  step a at due + 4 days { email \"r\" to accounting }\n}\n");
        assert_eq!(plain, titled);
        assert_eq!(plain, retitled);
        assert_ne!(plain, changed);
    }
}
