//! Evaluating conditions and dates: IR expressions against an instance and its facts.
//!
//! Values are typed; money keeps its currency and comparing different currencies is an
//! error, never a silent `false`. A field without a value (the date of a promise when there
//! is none) is `Absent`: it compares false and propagates through arithmetic. Errors
//! (a failing rule, a division by zero) are returned, never panicked; the transition turns
//! them into a visible error state. This module must not change any state.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use relance_dsl::ir::{self, BinOp, Expr, Field};

use super::context::{CustomerTotals, Facts};
use super::state::Instance;
use crate::rules::{RuleArg, RuleInvoice, RuleValue};

/// A runtime value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Bool(bool),
    Num(Decimal),
    Money(Decimal, String),
    Pct(Decimal),
    Text(String),
    Date(NaiveDate),
    Dur(ir::Offset),
    List(Vec<Val>),
    Absent,
}

impl Val {
    fn kind(&self) -> &'static str {
        match self {
            Val::Bool(_) => "a boolean",
            Val::Num(_) => "a number",
            Val::Money(..) => "an amount",
            Val::Pct(_) => "a percentage",
            Val::Text(_) => "text",
            Val::Date(_) => "a date",
            Val::Dur(_) => "a duration",
            Val::List(_) => "a list",
            Val::Absent => "no value",
        }
    }
}

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// Evaluation context: the instance, its facts, the day, and the customer totals as the
/// condition sees them (`Facts::totals`, or, inside a transition, those totals moved by what
/// the transition already did to this case).
pub struct Env<'a, 'f> {
    pub inst: &'a Instance,
    pub facts: &'a Facts<'f>,
    pub today: NaiveDate,
    pub totals: CustomerTotals,
    /// The event being applied (`event.tag`, `event.reason`), none outside handlers.
    pub event: Option<&'a crate::domain::EventKind>,
}

impl Env<'_, '_> {
    /// A condition: `Absent` counts as false; anything but a boolean is an error.
    pub fn condition(&self, e: &Expr) -> Result<bool, EvalError> {
        match self.eval(e)? {
            Val::Bool(b) => Ok(b),
            Val::Absent => Ok(false),
            other => Err(EvalError(format!(
                "a condition gave {}, not a boolean",
                other.kind()
            ))),
        }
    }

    /// A date (`wait until`).
    pub fn date(&self, e: &Expr) -> Result<Option<NaiveDate>, EvalError> {
        match self.eval(e)? {
            Val::Date(d) => Ok(Some(d)),
            Val::Absent => Ok(None),
            other => Err(EvalError(format!("expected a date, got {}", other.kind()))),
        }
    }

    pub fn eval(&self, e: &Expr) -> Result<Val, EvalError> {
        match e {
            Expr::Lit(v) => Ok(literal(v)),
            Expr::Field(f) => Ok(self.field(*f)),
            Expr::List(items) => items
                .iter()
                .map(|i| self.eval(i))
                .collect::<Result<_, _>>()
                .map(Val::List),
            Expr::Rule { name, args } => self.rule(name, args),
            Expr::Not(x) => match self.eval(x)? {
                Val::Bool(b) => Ok(Val::Bool(!b)),
                Val::Absent => Ok(Val::Bool(true)),
                other => Err(EvalError(format!("`not` applied to {}", other.kind()))),
            },
            Expr::Neg(x) => match self.eval(x)? {
                Val::Num(n) => Ok(Val::Num(-n)),
                Val::Money(n, c) => Ok(Val::Money(-n, c)),
                Val::Dur(o) => Ok(Val::Dur(ir::Offset {
                    days: -o.days,
                    months: -o.months,
                    ..o
                })),
                other => Err(EvalError(format!("`-` applied to {}", other.kind()))),
            },
            Expr::Binary {
                op: BinOp::And,
                lhs,
                rhs,
            } => Ok(Val::Bool(self.condition(lhs)? && self.condition(rhs)?)),
            Expr::Binary {
                op: BinOp::Or,
                lhs,
                rhs,
            } => Ok(Val::Bool(self.condition(lhs)? || self.condition(rhs)?)),
            Expr::Binary { op, lhs, rhs } => self.binary(*op, self.eval(lhs)?, self.eval(rhs)?),
        }
    }

    fn field(&self, f: Field) -> Val {
        let inv = self.facts.invoice;
        let cur = || inv.currency.clone();
        let money = |d: Decimal| Val::Money(d, inv.currency.clone());
        let text = |s: &str| Val::Text(s.to_string());
        let inst = self.inst;
        let customer = self.facts.customer;
        let behaviour = || self.totals.behaviour.figures();
        match f {
            Field::InvoiceId => text(&inv.id),
            Field::InvoiceAmount => money(inv.amount),
            Field::InvoiceOutstanding => money(inst.outstanding),
            Field::InvoiceCharges => money(inst.charged.owed),
            Field::InvoiceAmountDue => money(
                super::installments::due_by(inv, inst.outstanding, self.today) + inst.charged.owed,
            ),
            Field::InvoiceCurrency => Val::Text(cur()),
            Field::InvoiceIssued => Val::Date(inv.issued),
            Field::InvoiceDue => Val::Date(super::installments::own_due(inv, inst)),
            Field::InvoiceDaysLate => {
                let due = super::installments::due(inv, inst);
                Val::Num((self.today - due).num_days().into())
            }
            Field::InvoiceExtendedDue => inst.extended_due.map_or(Val::Absent, Val::Date),
            Field::CustomerInsolvency => text(
                customer
                    .insolvency
                    .as_ref()
                    .map_or("", |i| i.procedure.as_str()),
            ),
            Field::CustomerCreditCover => text(
                customer
                    .credit_cover
                    .as_ref()
                    .map_or("", |c| c.status.as_str()),
            ),
            Field::CustomerInsurer => text(
                customer
                    .credit_cover
                    .as_ref()
                    .map_or("", |c| c.insurer.as_str()),
            ),
            Field::InvoicePoNumber => text(inv.po_number.as_deref().unwrap_or("")),
            Field::CustomerId => text(&customer.id),
            Field::CustomerName => text(customer.name.as_deref().unwrap_or(&customer.id)),
            Field::CustomerSegment => text(customer.segment.as_str()),
            Field::CustomerRiskScore => Val::Num(customer.risk_score.into()),
            Field::CustomerCreditInsured => Val::Bool(customer.credit_insured),
            Field::CustomerTags => Val::List(customer.tags.iter().map(|t| text(t)).collect()),
            Field::CustomerLanguage => text(&customer.language),
            Field::CustomerPaymentTermsDays => {
                Val::Num(customer.payment_terms_days.unwrap_or(0).into())
            }
            Field::CustomerOutstanding => money(self.totals.outstanding),
            Field::CustomerOpenInvoices => Val::Num(self.totals.open_invoices.into()),
            Field::CustomerAverageInvoice => money(self.totals.average_invoice),
            Field::CustomerAvgDaysLate => behaviour().avg_days_late.map_or(Val::Absent, Val::Num),
            Field::CustomerPaidOnTimePct => {
                behaviour().paid_on_time_pct.map_or(Val::Absent, Val::Num)
            }
            Field::CustomerPromisesBroken => Val::Num(behaviour().promises_broken.into()),
            Field::CustomerDisputesOpened => Val::Num(behaviour().disputes_opened.into()),
            Field::CustomerPaymentTrend => text(behaviour().trend.as_str()),
            Field::CustomerOverdue => money(self.totals.overdue),
            Field::CustomerOverdueCount => Val::Num(self.totals.overdue_count.into()),
            Field::CustomerOldestOverdueDays => Val::Num(self.totals.oldest_overdue_days.into()),
            Field::DisputeOpen => Val::Bool(inst.dispute.is_some()),
            Field::DisputeCode => text(
                inst.dispute
                    .as_ref()
                    .map_or("", |d| d.code.split('/').next().unwrap_or("")),
            ),
            Field::DisputeSubCode => text(
                inst.dispute
                    .as_ref()
                    .and_then(|d| d.code.split_once('/'))
                    .map_or("", |(_, s)| s),
            ),
            Field::DisputeAmount => inst
                .dispute
                .as_ref()
                .map_or(Val::Absent, |d| money(d.amount.unwrap_or(inst.outstanding))),
            Field::DisputeOpened => inst
                .dispute
                .as_ref()
                .map_or(Val::Absent, |d| Val::Date(d.opened)),
            Field::DisputeTargetDate => inst
                .dispute
                .as_ref()
                .and_then(|d| d.target_date)
                .map_or(Val::Absent, Val::Date),
            Field::PromiseActive => Val::Bool(inst.promise.is_some()),
            Field::PromiseDate => inst
                .promise
                .as_ref()
                .map_or(Val::Absent, |p| Val::Date(p.date)),
            Field::PromiseAmount => inst
                .promise
                .as_ref()
                .map_or(Val::Absent, |p| money(p.amount.unwrap_or(inst.outstanding))),
            Field::HistoryMessages => Val::Num(inst.counters.messages.into()),
            Field::HistoryCalls => Val::Num(inst.counters.calls.into()),
            Field::HistoryPromisesMade => Val::Num(inst.counters.promises_made.into()),
            Field::HistoryPromisesBroken => Val::Num(inst.counters.promises_broken.into()),
            Field::HistoryDisputes => Val::Num(inst.counters.disputes.into()),
            Field::HistoryLastStep => text(inst.counters.last_step.as_deref().unwrap_or("")),
            Field::HistoryPaid => money(inst.paid),
            Field::PaymentAmount => money(inst.last_payment.map_or(Decimal::ZERO, |(_, a)| a)),
            Field::PaymentDate => inst.last_payment.map_or(Val::Absent, |(d, _)| Val::Date(d)),
            Field::Today => Val::Date(self.today),
            Field::InvoiceLastFailedPayment => inst
                .last_failed_payment
                .as_deref()
                .map_or(Val::Absent, text),
            Field::InvoicePaymentMeans => {
                inv.payment_means.map_or(Val::Absent, |m| text(m.as_str()))
            }
            Field::HistoryReversals => Val::Num(inst.counters.reversals.into()),
            Field::EventTag | Field::EventReason => {
                super::event_field(self.event, f).map_or(Val::Absent, text)
            }
        }
    }

    fn rule(&self, name: &str, args: &[Expr]) -> Result<Val, EvalError> {
        let args = args
            .iter()
            .map(|a| self.eval(a).and_then(rule_arg))
            .collect::<Result<Vec<_>, _>>()?;
        let totals = self.totals;
        let invoice = RuleInvoice {
            outstanding: self.inst.outstanding,
            customer_outstanding: totals.outstanding,
            customer_open_invoices: totals.open_invoices,
            customer_average_invoice: totals.average_invoice,
            // An invoice with installments is as late as the installment it is chasing.
            days_late: (self.today - super::installments::own_due(self.facts.invoice, self.inst))
                .num_days(),
            ..RuleInvoice::new(self.facts.invoice, self.today)
        };
        match self
            .facts
            .rules
            .call(name, &invoice, self.facts.customer, &args)
        {
            Ok(RuleValue::Bool(b)) => Ok(Val::Bool(b)),
            Ok(RuleValue::Number(n)) => Ok(Val::Num(n)),
            Err(e) => Err(EvalError(e.to_string())),
        }
    }

    fn binary(&self, op: BinOp, l: Val, r: Val) -> Result<Val, EvalError> {
        if matches!(l, Val::Absent) || matches!(r, Val::Absent) {
            return Ok(match op {
                BinOp::Ne | BinOp::NotIn => Val::Bool(true),
                BinOp::Eq | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In => {
                    Val::Bool(false)
                }
                _ => Val::Absent,
            });
        }
        match op {
            BinOp::Eq => Ok(Val::Bool(compare(&l, &r)? == std::cmp::Ordering::Equal)),
            BinOp::Ne => Ok(Val::Bool(compare(&l, &r)? != std::cmp::Ordering::Equal)),
            BinOp::Lt => Ok(Val::Bool(compare(&l, &r)?.is_lt())),
            BinOp::Le => Ok(Val::Bool(compare(&l, &r)?.is_le())),
            BinOp::Gt => Ok(Val::Bool(compare(&l, &r)?.is_gt())),
            BinOp::Ge => Ok(Val::Bool(compare(&l, &r)?.is_ge())),
            BinOp::In | BinOp::NotIn => {
                let Val::List(items) = r else {
                    return Err(EvalError(format!("`in` needs a list, got {}", r.kind())));
                };
                let mut found = false;
                for item in &items {
                    if compare(&l, item)? == std::cmp::Ordering::Equal {
                        found = true;
                        break;
                    }
                }
                Ok(Val::Bool(found == (op == BinOp::In)))
            }
            BinOp::Add | BinOp::Sub => self.additive(op, l, r),
            BinOp::Mul => multiply(l, r),
            BinOp::Div => divide(l, r),
            BinOp::And | BinOp::Or => unreachable!("short-circuited in eval"),
        }
    }

    fn additive(&self, op: BinOp, l: Val, r: Val) -> Result<Val, EvalError> {
        let sign = if op == BinOp::Add {
            Decimal::ONE
        } else {
            Decimal::NEGATIVE_ONE
        };
        match (l, r) {
            (Val::Num(a), Val::Num(b)) => Ok(Val::Num(a + sign * b)),
            (Val::Pct(a), Val::Pct(b)) => Ok(Val::Pct(a + sign * b)),
            (Val::Money(a, c), Val::Money(b, d)) => {
                same_currency(&c, &d)?;
                Ok(Val::Money(a + sign * b, c))
            }
            (Val::Date(d), Val::Dur(o)) => {
                let (days, months) = if op == BinOp::Add {
                    (o.days, o.months)
                } else {
                    (-o.days, -o.months)
                };
                Ok(Val::Date(shift(
                    d,
                    ir::Offset { days, months, ..o },
                    self.facts.calendar(),
                )))
            }
            (Val::Date(a), Val::Date(b)) if op == BinOp::Sub => {
                Ok(Val::Num((a - b).num_days().into()))
            }
            (Val::Dur(a), Val::Dur(b)) if a.business == b.business => {
                let (days, months) = if op == BinOp::Add {
                    (a.days + b.days, a.months + b.months)
                } else {
                    (a.days - b.days, a.months - b.months)
                };
                Ok(Val::Dur(ir::Offset {
                    days,
                    business: a.business,
                    months,
                }))
            }
            (l, r) => Err(EvalError(format!(
                "cannot add or subtract {} and {}",
                l.kind(),
                r.kind()
            ))),
        }
    }
}

/// `Some(true)` for months only, `Some(false)` for days only, `None` for a mix of both.
fn duration_kind(o: &ir::Offset) -> Option<bool> {
    match (o.months == 0, o.days == 0) {
        (true, _) => Some(false),
        (false, true) => Some(true),
        (false, false) => None,
    }
}

/// Moves a date by an offset: its months first (clamped to the target month's last day),
/// then calendar days, or business days of `calendar`.
pub fn shift(
    date: NaiveDate,
    offset: ir::Offset,
    calendar: crate::calendar::Calendar,
) -> NaiveDate {
    let date = if offset.months == 0 {
        date
    } else {
        crate::calendar::add_months(date, offset.months)
    };
    if offset.business {
        return calendar.add_business_days(date, offset.days);
    }
    let moved = if offset.days >= 0 {
        date.checked_add_days(Days::new(offset.days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(offset.days.unsigned_abs()))
    };
    moved.unwrap_or(date)
}

fn literal(v: &ir::Value) -> Val {
    match v {
        ir::Value::Bool(b) => Val::Bool(*b),
        ir::Value::Number(n) => Val::Num(*n),
        ir::Value::Money(m) => Val::Money(m.amount, m.currency.clone()),
        ir::Value::Percent(p) => Val::Pct(*p),
        ir::Value::Text(t) => Val::Text(t.clone()),
        ir::Value::Date(d) => Val::Date(*d),
        ir::Value::Duration(o) => Val::Dur(*o),
        ir::Value::List(items) => Val::List(items.iter().map(literal).collect()),
    }
}

fn rule_arg(v: Val) -> Result<RuleArg, EvalError> {
    Ok(match v {
        Val::Bool(b) => RuleArg::Bool(b),
        Val::Num(n) | Val::Money(n, _) | Val::Pct(n) => match i64::try_from(n) {
            Ok(i) if n.fract().is_zero() => RuleArg::Int(i),
            _ => RuleArg::Decimal(n),
        },
        Val::Text(t) => RuleArg::Text(t),
        Val::Date(d) => RuleArg::Date(d),
        other => {
            return Err(EvalError(format!(
                "{} cannot be passed to a rule",
                other.kind()
            )));
        }
    })
}

fn same_currency(a: &str, b: &str) -> Result<(), EvalError> {
    if a == b {
        Ok(())
    } else {
        Err(EvalError(format!("cannot combine amounts in {a} and {b}")))
    }
}

fn compare(l: &Val, r: &Val) -> Result<std::cmp::Ordering, EvalError> {
    Ok(match (l, r) {
        (Val::Num(a), Val::Num(b)) | (Val::Pct(a), Val::Pct(b)) => a.cmp(b),
        (Val::Money(a, c), Val::Money(b, d)) => {
            same_currency(c, d)?;
            a.cmp(b)
        }
        (Val::Text(a), Val::Text(b)) => a.cmp(b),
        (Val::Date(a), Val::Date(b)) => a.cmp(b),
        (Val::Bool(a), Val::Bool(b)) => a.cmp(b),
        // Months and days do not compare (is 1 month more than 30 days?): only durations of
        // one kind do.
        (Val::Dur(a), Val::Dur(b))
            if a.business == b.business
                && duration_kind(a).is_some()
                && duration_kind(a) == duration_kind(b) =>
        {
            (a.months, a.days).cmp(&(b.months, b.days))
        }
        _ => {
            return Err(EvalError(format!(
                "cannot compare {} with {}",
                l.kind(),
                r.kind()
            )));
        }
    })
}

fn multiply(l: Val, r: Val) -> Result<Val, EvalError> {
    let hundred = Decimal::ONE_HUNDRED;
    match (l, r) {
        (Val::Num(a), Val::Num(b)) => Ok(Val::Num(a * b)),
        (Val::Money(a, c), Val::Num(b)) | (Val::Num(b), Val::Money(a, c)) => {
            Ok(Val::Money(a * b, c))
        }
        (Val::Money(a, c), Val::Pct(p)) | (Val::Pct(p), Val::Money(a, c)) => {
            Ok(Val::Money(a * p / hundred, c))
        }
        (Val::Num(a), Val::Pct(p)) | (Val::Pct(p), Val::Num(a)) => Ok(Val::Num(a * p / hundred)),
        (l, r) => Err(EvalError(format!(
            "cannot multiply {} by {}",
            l.kind(),
            r.kind()
        ))),
    }
}

fn divide(l: Val, r: Val) -> Result<Val, EvalError> {
    let zero = |d: &Decimal| {
        if d.is_zero() {
            Err(EvalError("division by zero".into()))
        } else {
            Ok(())
        }
    };
    match (l, r) {
        (Val::Num(a), Val::Num(b)) => zero(&b).map(|_| Val::Num(a / b)),
        (Val::Money(a, c), Val::Num(b)) => zero(&b).map(|_| Val::Money(a / b, c)),
        (Val::Money(a, c), Val::Money(b, d)) => {
            same_currency(&c, &d)?;
            zero(&b).map(|_| Val::Num(a / b))
        }
        (l, r) => Err(EvalError(format!(
            "cannot divide {} by {}",
            l.kind(),
            r.kind()
        ))),
    }
}
