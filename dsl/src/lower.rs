//! Lowering: from checked ASTs to the [`ir::ScenarioSet`] the engine runs.
//!
//! Precondition: `check::check_set` found no error in these files. Lowering resolves names
//! (steps to indices, paths to fields, event words to events) and computes each scenario's
//! version hash. It reports nothing: where the precondition does not hold it skips the
//! offending piece rather than panic, and `compile` never lowers a set with errors.

use std::collections::BTreeMap;

use crate::check::{SetContext, SourceFile};
use crate::diagnostics::{Diagnostic, LineIndex};
use crate::ir;
use crate::schema;
use crate::syntax::ast::{self, *};

/// The result of compiling a set: the IR when there is no error, and every diagnostic
/// (warnings included) per file.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub set: Option<ir::ScenarioSet>,
    pub diagnostics: Vec<Vec<Diagnostic>>,
    /// Per file, the labels its diagnostics carry into other files (see
    /// [`crate::diagnostics::render_set`]).
    pub elsewhere: Vec<Vec<crate::diagnostics::Elsewhere>>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().flatten().any(Diagnostic::is_error)
    }
}

/// Checks then lowers a whole set.
pub fn compile(files: &[SourceFile], ctx: &SetContext) -> Compiled {
    let crate::check::SetDiagnostics {
        diagnostics,
        elsewhere,
        ..
    } = crate::check::check_set_full(files, ctx);
    let ok = !diagnostics.iter().flatten().any(Diagnostic::is_error);
    let set = ok.then(|| lower_set(files));
    Compiled {
        set,
        diagnostics,
        elsewhere,
    }
}

/// Lowers files that passed the checks.
pub fn lower_set(files: &[SourceFile]) -> ir::ScenarioSet {
    let mut set = ir::ScenarioSet::default();
    for f in files {
        let lines = LineIndex::new(&f.text);
        for item in &f.parsed.file.items {
            match item {
                Item::Scenario(s) => {
                    let sc = scenario(s);
                    set.scenarios.insert(sc.name.clone(), sc);
                }
                Item::Policy(p) => {
                    let rules = p
                        .rules
                        .iter()
                        .map(|r| (r.scenario.name.clone(), r.when.as_ref().map(expr)))
                        .collect();
                    set.policies.insert(
                        p.name.name.clone(),
                        ir::Policy {
                            name: p.name.name.clone(),
                            rules,
                        },
                    );
                }
                Item::Test(t) => {
                    let line = lines.line_col(&f.text, t.span.start).0;
                    set.tests.push(test(t, &f.path, line));
                }
            }
        }
    }
    set
}

fn scenario(s: &Scenario) -> ir::Scenario {
    let steps = s.steps();
    let names: Vec<&str> = steps.iter().map(|s| s.name.name.as_str()).collect();
    let mut out = ir::Scenario {
        name: s.name.name.clone(),
        title: None,
        version: String::new(),
        applies: None,
        group_by: ir::GroupKey::Customer,
        calendar: "fr".into(),
        tolerance: ir::Tolerance::default(),
        promise_grace_days: 0,
        promise_grace_months: 0,
        catch_up: ir::CatchUp::Latest,
        fees: ir::Fees::default(),
        cadence_days: None,
        late_interest: None,
        steps: Vec::new(),
        handlers: BTreeMap::new(),
        per_customer: false,
        levels: Vec::new(),
    };
    for m in &s.members {
        match &m.kind {
            MemberKind::Title(t) => out.title = Some(t.value.clone()),
            MemberKind::Applies(e) => out.applies = Some(expr(e)),
            MemberKind::GroupBy(GroupKey::Customer) => out.group_by = ir::GroupKey::Customer,
            MemberKind::GroupBy(GroupKey::Invoice) => out.group_by = ir::GroupKey::Invoice,
            MemberKind::Calendar(c) => out.calendar = c.name.clone(),
            MemberKind::Tolerance(Tolerance::Amount(m)) => {
                out.tolerance = ir::Tolerance::Amount {
                    amount: m.amount,
                    currency: m.currency.clone(),
                }
            }
            MemberKind::Tolerance(Tolerance::Percent(p)) => {
                out.tolerance = ir::Tolerance::Percent(*p)
            }
            MemberKind::Grace(d) => {
                let o = offset_of(d, false);
                out.promise_grace_months = o.months.unsigned_abs() as u32;
                out.promise_grace_days = o.days.unsigned_abs() as u32
            }
            MemberKind::CatchUp(CatchUp::Latest) => out.catch_up = ir::CatchUp::Latest,
            MemberKind::CatchUp(CatchUp::Gradually(d)) => {
                out.catch_up = ir::CatchUp::Gradual {
                    every: offset_of(d, false),
                }
            }
            MemberKind::Payments(order) => {
                out.fees.charges_first = *order == PaymentOrder::ChargesFirst
            }
            MemberKind::ChargesKeepOpen => out.fees.keep_open = true,
            MemberKind::LateInterest(LateInterestRate::Percent(p)) => {
                out.late_interest = Some(ir::LateInterestRate::Percent(*p))
            }
            MemberKind::LateInterest(LateInterestRate::LegalTimes(n)) => {
                out.late_interest = Some(ir::LateInterestRate::LegalTimes(*n))
            }
            MemberKind::PerCustomer => out.per_customer = true,
            MemberKind::Level(l) => out.levels.push(ir::Level {
                name: l.name.name.clone(),
                when: expr(&l.when),
                body: stmts(&l.body.stmts, &names),
            }),
            MemberKind::Cadence(d) => {
                out.cadence_days = Some(offset_of(d, false).days.unsigned_abs() as u32)
            }
            MemberKind::Step(st) => out.steps.push(step(st, &names)),
            MemberKind::Handler(h) => {
                let words = h.event_words();
                if let Some(ev) = schema::event(&words) {
                    out.handlers.insert(ev, stmts(&h.body.stmts, &names));
                }
            }
        }
    }
    out.seal()
}

fn step(st: &Step, names: &[&str]) -> ir::Step {
    let anchor = match &st.anchor.kind {
        AnchorKind::Due => ir::Anchor::Due,
        AnchorKind::Issued => ir::Anchor::Issued,
        AnchorKind::Step(n) => names
            .iter()
            .position(|x| *x == n.name)
            .map_or(ir::Anchor::Due, ir::Anchor::Step),
    };
    let offset = st
        .offset
        .map(|o| offset_of(&o.duration, o.negative))
        .unwrap_or_default();
    let day_of_month = st.day_of_month.map(|d| match d.kind {
        DayOfMonthKind::EndOfMonth => ir::DayOfMonth::EndOfMonth,
        DayOfMonthKind::Day(n) => ir::DayOfMonth::Day(n),
    });
    let repeat = st.repeat.as_ref().map(|r| ir::Repeat {
        every: offset_of(&r.every, false),
        times: r.times.map(|t| t.count),
        until: r.until.as_ref().map(expr),
    });
    ir::Step {
        name: st.name.name.clone(),
        anchor,
        offset,
        day_of_month,
        repeat,
        required: st.required,
        body: stmts(&st.body.stmts, names),
    }
}

fn offset_of(d: &Duration, negative: bool) -> ir::Offset {
    let sign = if negative { -1 } else { 1 };
    let n = i64::from(d.count);
    match d.unit {
        Unit::Days => ir::Offset {
            days: sign * n,
            ..Default::default()
        },
        Unit::Weeks => ir::Offset {
            days: sign * n * 7,
            ..Default::default()
        },
        Unit::BusinessDays => ir::Offset {
            days: sign * n,
            business: true,
            ..Default::default()
        },
        Unit::Months => ir::Offset {
            months: sign * n,
            ..Default::default()
        },
    }
}

fn stmts(list: &[Stmt], names: &[&str]) -> Vec<ir::Stmt> {
    list.iter().filter_map(|s| stmt(s, names)).collect()
}

fn stmt(s: &Stmt, names: &[&str]) -> Option<ir::Stmt> {
    Some(match &s.kind {
        StmtKind::SkipWhen(e) => ir::Stmt::SkipWhen(expr(e)),
        StmtKind::StopWhen(e) => ir::Stmt::StopWhen(expr(e)),
        StmtKind::If(i) => ir::Stmt::If {
            cond: expr(&i.cond),
            then: stmts(&i.then.stmts, names),
            otherwise: match &i.otherwise {
                Some(Else::If(s)) => stmt(s, names).into_iter().collect(),
                Some(Else::Block(b)) => stmts(&b.stmts, names),
                None => Vec::new(),
            },
        },
        StmtKind::Goto(t) => ir::Stmt::Goto(names.iter().position(|x| *x == t.name)?),
        StmtKind::Stop(reason) => ir::Stmt::Stop(reason.as_ref().map(|r| r.value.clone())),
        StmtKind::Pause => ir::Stmt::Pause,
        StmtKind::Resume(d) => ir::Stmt::Resume(d.as_ref().map(|d| offset_of(d, false))),
        StmtKind::WaitUntil(e) => ir::Stmt::WaitUntil(expr(e)),
        StmtKind::Action(a) => ir::Stmt::Action(action(a)),
    })
}

fn roles(list: &[Ident]) -> Vec<String> {
    list.iter().map(|r| r.name.clone()).collect()
}

fn money(m: &MoneyLit) -> ir::Money {
    ir::Money {
        amount: m.amount,
        currency: m.currency.clone(),
    }
}

/// The IR form of an action (also used for `expect` lines).
pub fn action(a: &ast::Action) -> ir::Action {
    match &a.kind {
        ActionKind::Email { template, to, cc } => ir::Action::Email {
            template: template.value.clone(),
            to: roles(to),
            cc: roles(cc),
        },
        ActionKind::Sms { template, to } => ir::Action::Sms {
            template: template.value.clone(),
            to: roles(to),
        },
        ActionKind::Letter {
            template,
            to,
            registered,
        } => ir::Action::Letter {
            template: template.value.clone(),
            to: roles(to),
            registered: *registered,
        },
        ActionKind::Call { who, assign } => ir::Action::Call {
            who: who.name.clone(),
            assign: assign.as_ref().map(|a| a.name.clone()),
        },
        ActionKind::Task { text, assign } => ir::Action::Task {
            text: text.value.clone(),
            assign: assign.as_ref().map(|a| a.name.clone()),
        },
        ActionKind::Webhook { name } => ir::Action::Webhook {
            name: name.value.clone(),
        },
        ActionKind::Escalate(Escalation::Agency(a)) => ir::Action::Escalate {
            target: ir::Escalation::Agency(a.as_ref().map(|s| s.value.clone())),
        },
        ActionKind::Escalate(Escalation::Litigation) => ir::Action::Escalate {
            target: ir::Escalation::Litigation,
        },
        ActionKind::Alert { text, to } => ir::Action::Alert {
            text: text.value.clone(),
            to: roles(to),
        },
        ActionKind::BlockDeliveries => ir::Action::Block,
        ActionKind::UnblockDeliveries => ir::Action::Unblock,
        ActionKind::Charge(Charge::Indemnity(m)) => ir::Action::Charge {
            charge: ir::ChargeKind::Indemnity,
            amount: m.as_ref().map(money),
        },
        ActionKind::Charge(Charge::LateInterest(m)) => ir::Action::Charge {
            charge: ir::ChargeKind::LateInterest,
            amount: m.as_ref().map(money),
        },
        ActionKind::Charge(Charge::Fixed { amount, label }) => ir::Action::Charge {
            charge: ir::ChargeKind::Fixed {
                label: label.value.clone(),
            },
            amount: Some(money(amount)),
        },
        ActionKind::Charge(Charge::Percent {
            rate,
            label,
            min,
            max,
            amount,
        }) => ir::Action::Charge {
            charge: ir::ChargeKind::Percent {
                rate: *rate,
                label: label.value.clone(),
                min: min.as_ref().map(money),
                max: max.as_ref().map(money),
            },
            amount: amount.as_ref().map(money),
        },
        ActionKind::Tag(t) => ir::Action::Tag {
            tag: t.value.clone(),
        },
    }
}

/// The IR form of an expression. Paths that are not fields (never, after the checks)
/// become `false`.
pub fn expr(e: &Expr) -> ir::Expr {
    match &e.kind {
        ExprKind::Paren(inner) => expr(inner),
        ExprKind::Path(segs) => {
            let path = segs
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(".");
            schema::field(&path).map_or(ir::Expr::Lit(ir::Value::Bool(false)), |f| {
                ir::Expr::Field(f.field)
            })
        }
        ExprKind::List(items) => ir::Expr::List(items.iter().map(expr).collect()),
        ExprKind::Rule { name, args } => ir::Expr::Rule {
            name: name.value.clone(),
            args: args.iter().map(expr).collect(),
        },
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr: x,
        } => ir::Expr::Not(Box::new(expr(x))),
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr: x,
        } => ir::Expr::Neg(Box::new(expr(x))),
        ExprKind::Binary { op, lhs, rhs } => ir::Expr::Binary {
            op: *op,
            lhs: Box::new(expr(lhs)),
            rhs: Box::new(expr(rhs)),
        },
        _ => ir::Expr::Lit(literal(e).unwrap_or(ir::Value::Bool(false))),
    }
}

/// The value of a literal expression (`None` for anything else).
pub fn literal(e: &Expr) -> Option<ir::Value> {
    Some(match &e.kind {
        ExprKind::Number(n) => ir::Value::Number(*n),
        ExprKind::Money(m) => ir::Value::Money(money(m)),
        ExprKind::Percent(p) => ir::Value::Percent(*p),
        ExprKind::Duration(d) => ir::Value::Duration(offset_of(d, false)),
        ExprKind::Date(d) => ir::Value::Date(*d),
        ExprKind::Str(s) => ir::Value::Text(s.clone()),
        ExprKind::Bool(b) => ir::Value::Bool(*b),
        ExprKind::Path(p) if p.len() == 1 => ir::Value::Text(p[0].name.clone()),
        ExprKind::List(items) => ir::Value::List(items.iter().map(literal).collect::<Option<_>>()?),
        ExprKind::Paren(inner) => literal(inner)?,
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr: x,
        } => match literal(x)? {
            ir::Value::Number(n) => ir::Value::Number(-n),
            _ => return None,
        },
        _ => return None,
    })
}

fn test(t: &Test, file: &str, line: usize) -> ir::TestCase {
    let mut out = ir::TestCase {
        name: t.name.value.clone(),
        file: file.to_string(),
        line,
        scenario: None,
        from: None,
        until: None,
        customers: Vec::new(),
        invoices: Vec::new(),
        events: Vec::new(),
        expect: ir::Expectation::None,
        errors: Vec::new(),
    };
    for m in &t.members {
        match &m.kind {
            TestMemberKind::Use(n) => out.scenario = Some(n.name.clone()),
            TestMemberKind::From(d) => out.from = Some(d.value),
            TestMemberKind::Until(d) => out.until = Some(d.value),
            TestMemberKind::Customer { id, fields } => out.customers.push(entity(id, fields)),
            TestMemberKind::Invoice { id, fields } => out.invoices.push(entity(id, fields)),
            TestMemberKind::Event { date, event } => {
                out.events.push((date.value, test_event(event)))
            }
            TestMemberKind::Expect(Expect::Snapshot) => out.expect = ir::Expectation::Snapshot,
            TestMemberKind::ExpectError { invoice, message } => {
                out.errors.push(ir::ExpectedError {
                    invoice: invoice.id.clone(),
                    message: message.value.clone(),
                })
            }
            TestMemberKind::Expect(Expect::Lines(lines)) => {
                out.expect = ir::Expectation::Lines(
                    lines
                        .iter()
                        .map(|l| ir::ExpectedAction {
                            date: l.date.value,
                            action: action(&l.action),
                            invoices: l.invoices.iter().map(|i| i.id.clone()).collect(),
                        })
                        .collect(),
                )
            }
        }
    }
    out
}

fn entity(id: &Entity, fields: &[Field]) -> ir::TestEntity {
    ir::TestEntity {
        id: id.id.clone(),
        fields: fields
            .iter()
            .filter_map(|f| Some((f.name.name.clone(), literal(&f.value)?)))
            .collect(),
    }
}

fn test_event(e: &TestEvent) -> ir::TestEvent {
    match e {
        TestEvent::Payment { invoice, amount } => ir::TestEvent::Payment {
            invoice: invoice.id.clone(),
            amount: money(amount),
        },
        TestEvent::Dispute {
            invoice,
            code,
            amount,
        } => ir::TestEvent::Dispute {
            invoice: invoice.id.clone(),
            code: code.value.clone(),
            amount: amount.as_ref().map(money),
        },
        TestEvent::Resolve { invoice } => ir::TestEvent::Resolve {
            invoice: invoice.id.clone(),
        },
        TestEvent::Promise {
            invoice,
            date,
            amount,
        } => ir::TestEvent::Promise {
            invoice: invoice.id.clone(),
            date: date.value,
            amount: amount.as_ref().map(money),
        },
        TestEvent::CreditNote { invoice, amount } => ir::TestEvent::CreditNote {
            invoice: invoice.id.clone(),
            amount: money(amount),
        },
        TestEvent::WriteOff { invoice } => ir::TestEvent::WriteOff {
            invoice: invoice.id.clone(),
        },
        TestEvent::Risk { customer, score } => ir::TestEvent::Risk {
            customer: customer.id.clone(),
            score: *score,
        },
        TestEvent::Outcome {
            invoice,
            text,
            promise,
        } => ir::TestEvent::Outcome {
            invoice: invoice.id.clone(),
            text: text.value.clone(),
            promise: promise.as_ref().map(|d| d.value),
        },
        TestEvent::Bounce { customer, role } => ir::TestEvent::Bounce {
            customer: customer.id.clone(),
            role: role.name.clone(),
        },
        TestEvent::Tag {
            customer,
            tag,
            added,
        } => ir::TestEvent::Tag {
            customer: customer.id.clone(),
            tag: tag.value.clone(),
            added: *added,
        },
        TestEvent::WriteOffReversed { invoice, reason } => ir::TestEvent::WriteOffReversed {
            invoice: invoice.id.clone(),
            reason: reason.as_ref().map(|r| r.value.clone()),
        },
        TestEvent::PaymentReversed {
            invoice,
            amount,
            reason,
            paid_on,
        } => ir::TestEvent::PaymentReversed {
            invoice: invoice.id.clone(),
            amount: money(amount),
            reason: reason.as_ref().map(|r| r.value.clone()),
            paid_on: paid_on.as_ref().map(|d| d.value),
        },
        TestEvent::PaymentFailed { invoice, reason } => ir::TestEvent::PaymentFailed {
            invoice: invoice.id.clone(),
            reason: reason.value.clone(),
        },
        TestEvent::Moved {
            invoice,
            scenario,
            step,
            by,
            because,
        } => ir::TestEvent::Moved {
            invoice: invoice.id.clone(),
            scenario: scenario.name.clone(),
            step: step.as_ref().map(|s| s.name.clone()),
            by: by.value.clone(),
            because: because.value.clone(),
        },
    }
}
