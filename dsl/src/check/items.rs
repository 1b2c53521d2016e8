//! Scenario checks: settings given twice, step names, anchors (unknown, later, cycles),
//! `goto` targets, handlers and their events, statements allowed where they stand,
//! unreachable steps and statements, roles, templates, charges.
//!
//! Expression types are `exprs`' business; this module only says which expressions must be
//! booleans or dates.

use std::collections::{BTreeMap, BTreeSet};

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::schema::{self, Body};
use crate::suggest::closest;
use crate::syntax::ast::*;

impl Checker<'_> {
    pub(super) fn scenario(&mut self, s: &Scenario) {
        let steps = s.steps();
        self.settings(s);
        self.step_names(&steps);
        self.anchors(&steps);
        self.date_order(&steps);
        let names: Vec<&str> = steps.iter().map(|s| s.name.name.as_str()).collect();
        let mut handlers: BTreeMap<schema::EventName, Span> = BTreeMap::new();
        for m in &s.members {
            match &m.kind {
                MemberKind::Step(st) => {
                    self.step_timing(st);
                    self.block(&st.body, Body::Step, &names);
                    self.skip_when_after_action(&st.body);
                }
                MemberKind::Handler(h) => {
                    self.handler_event(h, &mut handlers);
                    self.handling = schema::event(&h.event_words());
                    self.block(&h.body, Body::Handler, &names);
                    self.handling = None;
                }
                _ => {}
            }
        }
        self.unreachable_steps(s, &steps);
        self.penalties_for_consumers(s);
        self.account(s, &names);
        if steps.is_empty() && !s.members.iter().any(|m| m.kind == MemberKind::PerCustomer) {
            self.push(
                Diagnostic::new(
                    Code::ScenarioWithoutSteps,
                    s.name.span,
                    format!("scenario `{}` has no steps", s.name.name),
                )
                .with_label("it will never act"),
            );
        }
    }

    fn settings(&mut self, s: &Scenario) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for m in &s.members {
            let key = match &m.kind {
                MemberKind::Title(_) => "title",
                MemberKind::Applies(_) => "applies when",
                MemberKind::GroupBy(_) => "group by",
                MemberKind::Calendar(_) => "calendar",
                MemberKind::Tolerance(_) => "tolerance",
                MemberKind::Grace(_) => "promise grace",
                MemberKind::CatchUp(_) => "catch up",
                MemberKind::Payments(_) => "payments pay",
                MemberKind::ChargesKeepOpen => "charges keep the case open",
                MemberKind::LateInterest(_) => "late-interest",
                MemberKind::PerCustomer => "per customer",
                MemberKind::Step(_) | MemberKind::Handler(_) | MemberKind::Level(_) => continue,
                MemberKind::Cadence(_) => "cadence",
            };
            if let Some(first) = seen.insert(key, m.span) {
                self.push(
                    Diagnostic::new(
                        Code::DuplicateSetting,
                        m.span,
                        format!("`{key}` is given twice"),
                    )
                    .with_label("second setting")
                    .with_related(first, "first given here"),
                );
            }
            match &m.kind {
                MemberKind::Applies(e) => self.condition(e),
                MemberKind::Calendar(c) if !schema::CALENDARS.contains(&c.name.as_str()) => {
                    let help = closest(&c.name, schema::CALENDARS.iter().copied());
                    self.push(
                        Diagnostic::new(
                            Code::UnknownCalendar,
                            c.span,
                            format!("unknown calendar `{}`", c.name),
                        )
                        .with_label("calendars are `fr` (French public holidays) and `none`")
                        .with_did_you_mean(help),
                    );
                }
                MemberKind::CatchUp(CatchUp::Gradually(d)) if d.count == 0 => {
                    self.push(
                        Diagnostic::new(
                            Code::ZeroCatchUpInterval,
                            d.span,
                            "a gradual catch-up needs an interval of at least 1 day",
                        )
                        .with_label("every past step would fire the same day")
                        .with_help("write `catch up to latest`, or an interval such as `7 days`"),
                    );
                }
                MemberKind::LateInterest(rate) => self.late_interest(*rate, m.span),
                MemberKind::Tolerance(Tolerance::Percent(p))
                    if *p > rust_decimal::Decimal::ONE_HUNDRED =>
                {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidTolerance,
                            m.span,
                            "a tolerance cannot exceed 100%",
                        )
                        .with_label("every invoice would count as paid"),
                    );
                }
                _ => {}
            }
        }
        self.cadence(s);
    }

    /// E0174 and W0175: a `late-interest` rate of zero or above 100% a year, and a multiple
    /// of the legal rate under three (L441-10 II: "ne peut toutefois fixer un taux inférieur à
    /// trois fois le taux d'intérêt légal"). A percentage is judged against the rate table by
    /// `relance_core::scenario_set::check`, which has the table.
    fn late_interest(&mut self, rate: LateInterestRate, span: Span) {
        use rust_decimal::Decimal;
        let (invalid, low) = match rate {
            LateInterestRate::Percent(p) => (p.is_zero() || p > Decimal::ONE_HUNDRED, false),
            LateInterestRate::LegalTimes(n) => (n.is_zero(), n < Decimal::from(3)),
        };
        if invalid {
            self.push(
                Diagnostic::new(
                    Code::InvalidLateInterestRate,
                    span,
                    "a late-interest rate is more than 0% and at most 100% a year",
                )
                .with_label("not a yearly rate")
                .with_help("write the contract's rate, such as `late-interest 12%` or `late-interest 3 times legal rate`"),
            );
        } else if low {
            self.push(
                Diagnostic::new(
                    Code::RateBelowLegalFloor,
                    span,
                    format!("`late-interest {}` is below the legal floor", ir_text(rate)),
                )
                .with_label("L441-10 II: at least three times the legal interest rate")
                .with_help("a contract may not set less than `3 times legal rate`: raise the rate, or remove the setting to charge ECB + 10 points"),
            );
        }
    }

    /// W0174: `cadence` merges a customer's messages of one channel and day whatever the
    /// grouping, so `group by invoice` beside it says something that does not happen.
    fn cadence(&mut self, s: &Scenario) {
        let cadence = s
            .members
            .iter()
            .find(|m| matches!(m.kind, MemberKind::Cadence(_)));
        let by_invoice = s
            .members
            .iter()
            .find(|m| matches!(m.kind, MemberKind::GroupBy(GroupKey::Invoice)));
        if let (Some(c), Some(g)) = (cadence, by_invoice) {
            self.push(
                Diagnostic::new(
                    Code::CadenceWithGroupByInvoice,
                    g.span,
                    "`group by invoice` in a scenario with a `cadence`",
                )
                .with_label("the cadence merges the customer's messages of a day anyway")
                .with_related(c.span, "one message per customer, channel and day")
                .with_help("remove `group by invoice`, or remove the `cadence`"),
            );
        }
    }

    fn step_names(&mut self, steps: &[&Step]) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for st in steps {
            if let Some(first) = seen.insert(&st.name.name, st.name.span) {
                self.push(
                    Diagnostic::new(
                        Code::DuplicateStep,
                        st.name.span,
                        format!("step `{}` is defined twice", st.name.name),
                    )
                    .with_label("second definition")
                    .with_related(first, "first defined here"),
                );
            }
        }
    }

    /// E0110 unknown, E0112 cycles (including a step anchored on itself), E0111 later steps.
    fn anchors(&mut self, steps: &[&Step]) {
        let position: BTreeMap<&str, usize> = steps
            .iter()
            .enumerate()
            .rev()
            .map(|(i, s)| (s.name.name.as_str(), i))
            .collect();
        let target = |i: usize| match &steps[i].anchor.kind {
            AnchorKind::Step(n) => position.get(n.name.as_str()).copied(),
            _ => None,
        };
        for (i, st) in steps.iter().enumerate() {
            let AnchorKind::Step(name) = &st.anchor.kind else {
                continue;
            };
            let Some(j) = position.get(name.name.as_str()).copied() else {
                self.unknown_step(name, steps.iter().map(|s| s.name.name.as_str()));
                continue;
            };
            let mut k = Some(j);
            let mut hops = 0;
            while let Some(x) = k {
                if x == i || hops > steps.len() {
                    break;
                }
                k = target(x);
                hops += 1;
            }
            if k == Some(i) {
                let message = if j == i {
                    format!("step `{}` is anchored on itself", st.name.name)
                } else {
                    format!("step `{}` is part of an anchor cycle", st.name.name)
                };
                self.push(
                    Diagnostic::new(Code::AnchorCycle, st.anchor.span, message)
                        .with_label("following the anchors from here leads back to this step")
                        .with_help("anchor it on `due`, `issued` or an earlier step"),
                );
            } else if j > i {
                self.push(
                    Diagnostic::new(
                        Code::AnchorToLaterStep,
                        st.anchor.span,
                        format!("step `{}` is anchored on a later step", st.name.name),
                    )
                    .with_label(format!(
                        "`{}` is defined after `{}`",
                        name.name, st.name.name
                    ))
                    .with_related(steps[j].name.span, "defined here")
                    .with_help("steps run in source order: move the anchor step before this one"),
                );
            }
        }
    }

    /// W0111: a step whose date always comes before that of a step written above it. The
    /// runtime fires a step only after the steps above it, so such a step is due as soon as
    /// they fired, and catch-up may then skip it (LANGUAGE.md §5). Dates are compared as day
    /// ranges from the same base (`due` or `issued`); business days stretch over weekends and
    /// holidays, and a step anchored on a step fires at the earliest on that step's date.
    fn date_order(&mut self, steps: &[&Step]) {
        // Step name → (base, earliest day, latest day when known).
        let mut dates: BTreeMap<&str, (&'static str, i64, Option<i64>)> = BTreeMap::new();
        // Per base, the latest "earliest day" of the steps so far, and that step.
        let mut highest: BTreeMap<&'static str, (i64, &Step)> = BTreeMap::new();
        for st in steps {
            let (lo, hi) = super::timing::widen(st, offset_days(st.offset.as_ref()));
            let date = match &st.anchor.kind {
                AnchorKind::Due => Some(("due", lo, Some(hi))),
                AnchorKind::Issued => Some(("issued", lo, Some(hi))),
                AnchorKind::Step(a) => dates
                    .get(a.name.as_str())
                    .map(|&(base, alo, _)| (base, alo + lo, None)),
            };
            let Some((base, lo, hi)) = date else {
                continue;
            };
            if let (Some(hi), Some(&(above_lo, above))) = (hi, highest.get(base))
                && hi < above_lo
            {
                self.push(
                    Diagnostic::new(
                        Code::StepsOutOfDateOrder,
                        st.name.span,
                        format!(
                            "step `{}` is dated before step `{}`, written above it",
                            st.name.name, above.name.name
                        ),
                    )
                    .with_label("dated earlier")
                    .with_related(above.name.span, "dated later, written above")
                    .with_help(
                        "a step fires only after the steps written above it; when several are due \
                         together, catch-up fires only the latest: write steps in date order",
                    ),
                );
            }
            dates.entry(&st.name.name).or_insert((base, lo, hi));
            if highest.get(base).is_none_or(|&(h, _)| lo > h) {
                highest.insert(base, (lo, st));
            }
        }
    }

    /// W0113: `skip when` after an action of the step, which does not run either when the
    /// step is skipped.
    fn skip_when_after_action(&mut self, body: &Block) {
        let mut first_action: Option<Span> = None;
        for st in &body.stmts {
            match &st.kind {
                StmtKind::SkipWhen(_) => {
                    if let Some(action) = first_action {
                        self.push(
                            Diagnostic::new(
                                Code::SkipWhenAfterAction,
                                st.span,
                                "`skip when` comes after an action",
                            )
                            .with_label("when it holds, the whole step is skipped")
                            .with_related(action, "so this action does not run either")
                            .with_help("move `skip when` to the top of the step"),
                        );
                    }
                }
                _ if first_action.is_none() && has_action(std::slice::from_ref(st)) => {
                    first_action = Some(st.span);
                }
                _ => {}
            }
        }
    }

    fn unknown_step<'s>(&mut self, name: &Ident, known: impl Iterator<Item = &'s str>) {
        let help = closest(&name.name, known);
        self.push(
            Diagnostic::new(
                Code::UnknownStep,
                name.span,
                format!("unknown step `{}`", name.name),
            )
            .with_label("no step of this name in the scenario")
            .with_did_you_mean(help),
        );
    }

    fn handler_event(&mut self, h: &Handler, seen: &mut BTreeMap<schema::EventName, Span>) {
        let words = h.event_words();
        let Some(ev) = schema::event(&words) else {
            let help = closest(&words, schema::EVENTS.iter().map(|(w, _, _)| *w));
            self.push(
                Diagnostic::new(
                    Code::UnknownEvent,
                    h.event_span,
                    format!("unknown event `{words}`"),
                )
                .with_label("handlers take `dispute opened`, `promise broken`, `payment` …")
                .with_did_you_mean(help),
            );
            return;
        };
        if let Some(first) = seen.insert(ev, h.event_span) {
            self.push(
                Diagnostic::new(
                    Code::DuplicateHandler,
                    h.event_span,
                    format!("`on {words}` is handled twice"),
                )
                .with_label("second handler")
                .with_related(first, "first handler"),
            );
        }
    }

    pub(super) fn block(&mut self, b: &Block, body: Body, steps: &[&str]) {
        let mut ended: Option<Span> = None;
        for st in &b.stmts {
            if let Some(end) = ended.take() {
                self.push(
                    Diagnostic::new(
                        Code::UnreachableStatement,
                        st.span,
                        "this statement never runs",
                    )
                    .with_label("unreachable")
                    .with_related(end, "control leaves the block here"),
                );
            }
            self.stmt(st, body, steps);
            if matches!(st.kind, StmtKind::Goto(_) | StmtKind::Stop(_)) {
                ended = Some(st.span);
            }
        }
    }

    /// One statement of a body: whether it may stand there (`schema::STATEMENTS` says), then
    /// its own checks.
    fn stmt(&mut self, st: &Stmt, body: Body, steps: &[&str]) {
        if let Some(why) = schema::refused(st.kind.keywords(), body) {
            self.not_here(st.span, why);
        }
        match &st.kind {
            StmtKind::SkipWhen(e) | StmtKind::StopWhen(e) => self.condition(e),
            StmtKind::If(i) => self.if_stmt(i, body, steps),
            StmtKind::Goto(target) => {
                if !steps.contains(&target.name.as_str()) {
                    self.unknown_step(target, steps.iter().copied());
                }
            }
            StmtKind::WaitUntil(e) => self.date_expr(e),
            StmtKind::Action(a) => self.action(a, false),
            StmtKind::Stop(_) | StmtKind::Pause | StmtKind::Resume(_) => {}
        }
    }

    fn if_stmt(&mut self, i: &If, body: Body, steps: &[&str]) {
        self.condition(&i.cond);
        self.block(&i.then, body, steps);
        match &i.otherwise {
            Some(Else::If(s)) => self.stmt(s, body, steps),
            Some(Else::Block(b)) => self.block(b, body, steps),
            None => {}
        }
    }

    fn not_here(&mut self, span: Span, why: &str) {
        self.push(
            Diagnostic::new(
                Code::StatementNotAllowed,
                span,
                "statement not allowed here",
            )
            .with_label(why),
        );
    }

    /// Roles, templates and charges of one action. `expect_line` allows computed amounts.
    pub(super) fn action(&mut self, a: &Action, expect_line: bool) {
        let mut roles: Vec<&Ident> = Vec::new();
        let mut template: Option<&Str> = None;
        match &a.kind {
            ActionKind::Email {
                template: t,
                to,
                cc,
            } => {
                template = Some(t);
                roles.extend(to.iter().chain(cc));
            }
            ActionKind::Sms { template: t, to }
            | ActionKind::Letter {
                template: t, to, ..
            } => {
                template = Some(t);
                roles.extend(to);
            }
            ActionKind::Call { who, assign } => roles.extend(std::iter::once(who).chain(assign)),
            ActionKind::Task { assign, .. } => roles.extend(assign),
            ActionKind::Alert { to, .. } => roles.extend(to),
            ActionKind::Charge(Charge::Indemnity(Some(m)) | Charge::LateInterest(Some(m)))
                if !expect_line =>
            {
                self.push(
                    Diagnostic::new(Code::AmountNotAllowed, m.span, "the amount of this charge is computed")
                        .with_label("remove this amount")
                        .with_help("amounts after `indemnity` and `late-interest` are only written in `expect` lines"),
                );
            }
            ActionKind::Charge(Charge::Percent {
                rate,
                min,
                max,
                amount,
                ..
            }) => {
                if let Some(m) = amount.as_ref().filter(|_| !expect_line) {
                    self.push(
                        Diagnostic::new(Code::AmountNotAllowed, m.span, "the amount of this charge is computed")
                            .with_label("remove this amount")
                            .with_help("the amount after a percentage fee is only written in `expect` lines; bounds are `min 15 EUR max 200 EUR`"),
                    );
                }
                super::fees::percentage_fee(self, a.span, *rate, min.as_ref(), max.as_ref());
            }
            _ => {}
        }
        for r in roles {
            self.role(r);
        }
        if let (Some(t), Some(known)) = (template, &self.ctx.templates)
            && !known.contains(&t.value)
        {
            let help = closest(&t.value, known.iter().map(String::as_str));
            self.push(
                Diagnostic::new(
                    Code::UnknownTemplate,
                    t.span,
                    format!("unknown template `{}`", t.value),
                )
                .with_label("no file templates/NAME.LANG.txt or .html for it")
                .with_did_you_mean_as(help, crate::fmt::quoted),
            );
        }
    }

    pub(super) fn role_pub(&mut self, r: &Ident) {
        self.role(r);
    }

    fn role(&mut self, r: &Ident) {
        if schema::is_role(&r.name) {
            return;
        }
        let close = closest(&r.name, schema::ROLES.iter().map(|(n, _)| *n));
        let d = Diagnostic::new(
            Code::UnknownRole,
            r.span,
            format!("unknown role `{}`", r.name),
        )
        .with_label("not a contact or internal role");
        self.push(match close {
            Some(_) => d.with_did_you_mean(close),
            None => d.with_help(format!(
                "roles are {}",
                schema::ROLES
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        });
    }

    /// W0103: steps after one that always stops the case, unless a `goto` can reach them,
    /// and steps anchored on an unreachable step.
    fn unreachable_steps(&mut self, s: &Scenario, steps: &[&Step]) {
        let mut goto_targets = BTreeSet::new();
        for m in &s.members {
            let body = match &m.kind {
                MemberKind::Step(st) => &st.body,
                MemberKind::Handler(h) => &h.body,
                _ => continue,
            };
            collect_gotos(&body.stmts, &mut goto_targets);
        }
        let mut unreachable: BTreeSet<&str> = BTreeSet::new();
        let mut stopper: Option<&Step> = None;
        for st in steps {
            let anchored_dead = matches!(&st.anchor.kind, AnchorKind::Step(a) if unreachable.contains(a.name.as_str()));
            let after_stop = stopper.is_some();
            if (after_stop || anchored_dead) && !goto_targets.contains(st.name.name.as_str()) {
                unreachable.insert(&st.name.name);
                let mut d = Diagnostic::new(
                    Code::UnreachableStep,
                    st.name.span,
                    format!("step `{}` can never fire", st.name.name),
                )
                .with_label("unreachable step");
                if let Some(p) = stopper {
                    d = d.with_related(p.name.span, "this step always stops the case first");
                }
                self.push(d);
                continue;
            }
            if stopper.is_none()
                && st
                    .body
                    .stmts
                    .iter()
                    .any(|x| matches!(x.kind, StmtKind::Stop(_)))
            {
                stopper = Some(st);
            }
        }
    }
}

fn collect_gotos<'a>(stmts: &'a [Stmt], out: &mut BTreeSet<&'a str>) {
    for st in stmts {
        match &st.kind {
            StmtKind::Goto(t) => {
                out.insert(&t.name);
            }
            StmtKind::If(i) => {
                collect_gotos(&i.then.stmts, out);
                match &i.otherwise {
                    Some(Else::If(s)) => collect_gotos(std::slice::from_ref(s), out),
                    Some(Else::Block(b)) => collect_gotos(&b.stmts, out),
                    None => {}
                }
            }
            _ => {}
        }
    }
}

/// Whether statements hold an action, directly or in an `if`.
fn has_action(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|st| match &st.kind {
        StmtKind::Action(_) => true,
        StmtKind::If(i) => {
            has_action(&i.then.stmts)
                || match &i.otherwise {
                    Some(Else::If(s)) => has_action(std::slice::from_ref(s)),
                    Some(Else::Block(b)) => has_action(&b.stmts),
                    None => false,
                }
        }
        _ => false,
    })
}

/// The range of days an offset may span: exact for days and weeks; `n` business days are at
/// least `n` days and, over weekends and holidays, at most `2n + 7`.
fn offset_days(offset: Option<&Offset>) -> (i64, i64) {
    let Some(o) = offset else {
        return (0, 0);
    };
    let n = i64::from(o.duration.count);
    let (lo, hi) = match o.duration.unit {
        Unit::Days => (n, n),
        Unit::Weeks => (7 * n, 7 * n),
        Unit::BusinessDays => (n, 2 * n + 7),
        Unit::Months => (28 * n, 31 * n),
    };
    if o.negative { (-hi, -lo) } else { (lo, hi) }
}

/// The setting as written (`2 times legal rate`, `5%`).
fn ir_text(rate: LateInterestRate) -> String {
    match rate {
        LateInterestRate::Percent(p) => format!("{p}%"),
        LateInterestRate::LegalTimes(n) => format!("{n} times legal rate"),
    }
}
