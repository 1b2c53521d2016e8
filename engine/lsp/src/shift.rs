//! Moving every span of an AST node by a byte delta, for the incremental reparse: the nodes
//! after an edit keep their tree, only their positions move.
//!
//! Every node is destructured exhaustively (no `..`), so a field added to the AST fails to
//! compile here instead of keeping a stale span. This module moves spans; it must not change
//! anything else in a node.

use relance_dsl::Diagnostic;
use relance_dsl::syntax::ast::*;

pub trait Shift {
    fn shift(&mut self, delta: isize);
}

fn moved(offset: usize, delta: isize) -> usize {
    offset.checked_add_signed(delta).unwrap_or(0)
}

impl Shift for Span {
    fn shift(&mut self, delta: isize) {
        self.start = moved(self.start, delta);
        self.end = moved(self.end, delta);
    }
}

impl<T: Shift> Shift for [T] {
    fn shift(&mut self, delta: isize) {
        self.iter_mut().for_each(|x| x.shift(delta));
    }
}

impl<T: Shift> Shift for Vec<T> {
    fn shift(&mut self, delta: isize) {
        self.as_mut_slice().shift(delta);
    }
}

impl<T: Shift> Shift for Option<T> {
    fn shift(&mut self, delta: isize) {
        if let Some(x) = self {
            x.shift(delta);
        }
    }
}

impl<T: Shift> Shift for Box<T> {
    fn shift(&mut self, delta: isize) {
        (**self).shift(delta);
    }
}

impl Shift for Diagnostic {
    fn shift(&mut self, delta: isize) {
        let Diagnostic {
            code: _,
            message: _,
            span,
            label: _,
            help: _,
            related,
            suggestion,
        } = self;
        span.shift(delta);
        related.iter_mut().for_each(|(s, _)| s.shift(delta));
        if let Some(s) = suggestion {
            s.span.shift(delta);
        }
    }
}

/// `impl Shift` for structs: the listed fields are shifted, the others named and left alone.
macro_rules! shift_struct {
    ($($ty:ident { $($field:ident),* ; $($keep:ident),* })*) => {$(
        impl Shift for $ty {
            fn shift(&mut self, delta: isize) {
                let $ty { $($field,)* $($keep: _,)* } = self;
                $($field.shift(delta);)*
            }
        }
    )*};
}

shift_struct! {
    Ident { span; name }
    Str { span; value }
    DateLit { span; value }
    MoneyLit { span; amount, currency }
    Duration { span; count, unit }
    Scenario { name, members, span; }
    Member { kind, span; }
    Step { name, anchor, offset, day_of_month, repeat, body, span; required }
    DayOfMonth { span; kind }
    Repeat { every, times, until, span; }
    RepeatTimes { span; count }
    Anchor { kind, span; }
    Offset { duration, span; negative }
    Handler { event, event_span, body, span; }
    Level { name, when, body, span; }
    Block { stmts, span; }
    Stmt { kind, span; }
    If { cond, then, otherwise; }
    Action { kind, span; }
    Expr { kind, span; }
    Policy { name, rules, span; }
    PolicyRule { scenario, when, span; }
    Test { name, members, span; }
    TestMember { kind, span; }
    Entity { span; id, quoted }
    Field { name, value, span; }
    ExpectLine { date, action, invoices, span; }
}

impl Shift for Item {
    fn shift(&mut self, delta: isize) {
        match self {
            Item::Scenario(x) => x.shift(delta),
            Item::Policy(x) => x.shift(delta),
            Item::Test(x) => x.shift(delta),
        }
    }
}

impl Shift for MemberKind {
    fn shift(&mut self, delta: isize) {
        match self {
            MemberKind::Title(x) => x.shift(delta),
            MemberKind::Applies(x) => x.shift(delta),
            MemberKind::GroupBy(_) => {}
            MemberKind::Calendar(x) => x.shift(delta),
            MemberKind::Tolerance(Tolerance::Amount(x)) => x.shift(delta),
            MemberKind::Tolerance(Tolerance::Percent(_)) => {}
            MemberKind::Grace(x) | MemberKind::Cadence(x) => x.shift(delta),
            MemberKind::CatchUp(CatchUp::Gradually(x)) => x.shift(delta),
            MemberKind::CatchUp(CatchUp::Latest) => {}
            MemberKind::Payments(_) | MemberKind::ChargesKeepOpen | MemberKind::LateInterest(_) => {
            }
            MemberKind::PerCustomer => {}
            MemberKind::Level(x) => x.shift(delta),
            MemberKind::Step(x) => x.shift(delta),
            MemberKind::Handler(x) => x.shift(delta),
        }
    }
}

impl Shift for AnchorKind {
    fn shift(&mut self, delta: isize) {
        match self {
            AnchorKind::Due | AnchorKind::Issued => {}
            AnchorKind::Step(x) => x.shift(delta),
        }
    }
}

impl Shift for StmtKind {
    fn shift(&mut self, delta: isize) {
        match self {
            StmtKind::SkipWhen(x) | StmtKind::StopWhen(x) | StmtKind::WaitUntil(x) => {
                x.shift(delta)
            }
            StmtKind::If(x) => x.shift(delta),
            StmtKind::Goto(x) => x.shift(delta),
            StmtKind::Stop(x) => x.shift(delta),
            StmtKind::Pause => {}
            StmtKind::Resume(x) => x.shift(delta),
            StmtKind::Action(x) => x.shift(delta),
        }
    }
}

impl Shift for Else {
    fn shift(&mut self, delta: isize) {
        match self {
            Else::If(x) => x.shift(delta),
            Else::Block(x) => x.shift(delta),
        }
    }
}

impl Shift for ActionKind {
    fn shift(&mut self, delta: isize) {
        match self {
            ActionKind::Email { template, to, cc } => {
                template.shift(delta);
                to.shift(delta);
                cc.shift(delta);
            }
            ActionKind::Sms { template, to }
            | ActionKind::Letter {
                template,
                to,
                registered: _,
            } => {
                template.shift(delta);
                to.shift(delta);
            }
            ActionKind::Call { who, assign } => {
                who.shift(delta);
                assign.shift(delta);
            }
            ActionKind::Task { text, assign } => {
                text.shift(delta);
                assign.shift(delta);
            }
            ActionKind::Webhook { name } => name.shift(delta),
            ActionKind::Escalate(Escalation::Agency(x)) => x.shift(delta),
            ActionKind::Escalate(Escalation::Litigation) => {}
            ActionKind::Alert { text, to } => {
                text.shift(delta);
                to.shift(delta);
            }
            ActionKind::BlockDeliveries | ActionKind::UnblockDeliveries => {}
            ActionKind::Charge(Charge::Indemnity(x) | Charge::LateInterest(x)) => x.shift(delta),
            ActionKind::Charge(Charge::Fixed { amount, label }) => {
                amount.shift(delta);
                label.shift(delta);
            }
            ActionKind::Charge(Charge::Percent {
                label,
                min,
                max,
                amount,
                ..
            }) => {
                label.shift(delta);
                min.shift(delta);
                max.shift(delta);
                amount.shift(delta);
            }
            ActionKind::Tag(x) => x.shift(delta),
        }
    }
}

impl Shift for ExprKind {
    fn shift(&mut self, delta: isize) {
        match self {
            ExprKind::Number(_)
            | ExprKind::Percent(_)
            | ExprKind::Date(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_) => {}
            ExprKind::Money(x) => x.shift(delta),
            ExprKind::Duration(x) => x.shift(delta),
            ExprKind::List(x) => x.shift(delta),
            ExprKind::Rule { name, args } => {
                name.shift(delta);
                args.shift(delta);
            }
            ExprKind::Path(x) => x.shift(delta),
            ExprKind::Paren(x) => x.shift(delta),
            ExprKind::Unary { op: _, expr } => expr.shift(delta),
            ExprKind::Binary { op: _, lhs, rhs } => {
                lhs.shift(delta);
                rhs.shift(delta);
            }
        }
    }
}

impl Shift for TestMemberKind {
    fn shift(&mut self, delta: isize) {
        match self {
            TestMemberKind::Use(x) => x.shift(delta),
            TestMemberKind::From(x) | TestMemberKind::Until(x) => x.shift(delta),
            TestMemberKind::Customer { id, fields } | TestMemberKind::Invoice { id, fields } => {
                id.shift(delta);
                fields.shift(delta);
            }
            TestMemberKind::Event { date, event } => {
                date.shift(delta);
                event.shift(delta);
            }
            TestMemberKind::Expect(Expect::Snapshot) => {}
            TestMemberKind::Expect(Expect::Lines(x)) => x.shift(delta),
            TestMemberKind::ExpectError { invoice, message } => {
                invoice.shift(delta);
                message.shift(delta);
            }
        }
    }
}

impl Shift for TestEvent {
    fn shift(&mut self, delta: isize) {
        match self {
            TestEvent::Payment { invoice, amount } | TestEvent::CreditNote { invoice, amount } => {
                invoice.shift(delta);
                amount.shift(delta);
            }
            TestEvent::Dispute {
                invoice,
                code,
                amount,
            } => {
                invoice.shift(delta);
                code.shift(delta);
                amount.shift(delta);
            }
            TestEvent::Resolve { invoice } | TestEvent::WriteOff { invoice } => {
                invoice.shift(delta)
            }
            TestEvent::Promise {
                invoice,
                date,
                amount,
            } => {
                invoice.shift(delta);
                date.shift(delta);
                amount.shift(delta);
            }
            TestEvent::Risk { customer, score: _ } => customer.shift(delta),
            TestEvent::Outcome {
                invoice,
                text,
                promise,
            } => {
                invoice.shift(delta);
                text.shift(delta);
                promise.shift(delta);
            }
            TestEvent::Bounce { customer, role } => {
                customer.shift(delta);
                role.shift(delta);
            }
            TestEvent::Tag { customer, tag, .. } => {
                customer.shift(delta);
                tag.shift(delta);
            }
            TestEvent::WriteOffReversed { invoice, reason } => {
                invoice.shift(delta);
                reason.shift(delta);
            }
            TestEvent::PaymentFailed { invoice, reason } => {
                invoice.shift(delta);
                reason.shift(delta);
            }
            TestEvent::PaymentReversed {
                invoice,
                amount,
                reason,
                paid_on,
            } => {
                invoice.shift(delta);
                amount.shift(delta);
                reason.shift(delta);
                paid_on.shift(delta);
            }
            TestEvent::Moved {
                invoice,
                scenario,
                step,
                by,
                because,
            } => {
                invoice.shift(delta);
                scenario.shift(delta);
                step.shift(delta);
                by.shift(delta);
                because.shift(delta);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::EVERY_NODE;
    use super::*;
    use relance_dsl::syntax::parse;

    #[test]
    fn shifting_equals_parsing_after_padding() {
        // Every node kind, once: parsing after N more leading spaces moves every span by N.
        let src = EVERY_NODE;
        let mut parsed = parse(src);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let padded = parse(&format!("{}{src}", " ".repeat(7)));
        parsed.file.items.shift(7);
        assert_eq!(parsed.file, padded.file);
    }
}
