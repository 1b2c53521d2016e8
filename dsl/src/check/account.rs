//! Checks of account-level dunning (`per customer` scenarios): levels only in `per customer`
//! scenarios and steps never there (E0163, E0164), unique level names (E0165), `on clear` only
//! there and invoice handlers never (E0162), the statements a level may hold (E0161), and a
//! `per customer` scenario without levels (W0161).
//!
//! It checks what the account mode adds; the statements' own parts (roles, templates,
//! conditions) are checked by `items` and `exprs` as in any block. It must not evaluate.

use std::collections::BTreeMap;

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::schema::{self, Body};
use crate::syntax::ast::*;

/// Why a statement has no meaning in a level (the account has no step to go to, no wait, no
/// invoice case to close or charge); `None` when it may stand there.
fn refused_in_level(kind: &StmtKind) -> Option<&'static str> {
    match kind {
        StmtKind::Goto(_) => Some("an account has no steps: a level cannot `goto`"),
        StmtKind::Stop(_) | StmtKind::StopWhen(_) => {
            Some("an account is never closed: it returns to clear when nothing is overdue")
        }
        StmtKind::Pause | StmtKind::Resume(_) | StmtKind::WaitUntil(_) => Some(
            "an account does not wait: it is re-evaluated every day and on every event of its invoices",
        ),
        StmtKind::Action(a) if matches!(a.kind, ActionKind::Charge(_)) => {
            Some("charges belong to one invoice: charge them in a per-invoice scenario")
        }
        _ => None,
    }
}

impl Checker<'_> {
    /// The account-mode checks of scenario `s` (see the module documentation).
    pub(super) fn account(&mut self, s: &Scenario, steps: &[&str]) {
        let per_customer = s.members.iter().any(|m| m.kind == MemberKind::PerCustomer);
        let mut names: BTreeMap<&str, Span> = BTreeMap::new();
        let mut levels = 0;
        for m in &s.members {
            match &m.kind {
                MemberKind::Level(l) => {
                    levels += 1;
                    if !per_customer {
                        self.push(
                            Diagnostic::new(
                                Code::LevelWithoutPerCustomer,
                                l.name.span,
                                format!(
                                    "level `{}` in a scenario without `per customer`",
                                    l.name.name
                                ),
                            )
                            .with_label("levels are the states of a customer's account")
                            .with_help("add `per customer` to the scenario, or write a `step`"),
                        );
                    }
                    if let Some(first) = names.insert(&l.name.name, l.name.span) {
                        self.push(
                            Diagnostic::new(
                                Code::DuplicateLevel,
                                l.name.span,
                                format!("level `{}` is defined twice", l.name.name),
                            )
                            .with_label("second definition")
                            .with_related(first, "first defined here"),
                        );
                    }
                    self.condition(&l.when);
                    self.block(&l.body, Body::Step, steps);
                    self.level_block(&l.body);
                }
                MemberKind::Cadence(_) if per_customer => {
                    self.push(
                        Diagnostic::new(
                            Code::CadenceInPerCustomer,
                            m.span,
                            "`cadence` has no effect in a `per customer` scenario",
                        )
                        .with_label("the cadence applies to the messages of steps")
                        .with_help("an account sends once per level it enters; remove `cadence`"),
                    );
                }
                MemberKind::Step(st) if per_customer => {
                    self.push(
                        Diagnostic::new(
                            Code::StepInPerCustomer,
                            st.name.span,
                            format!("step `{}` in a `per customer` scenario", st.name.name),
                        )
                        .with_label("the account moves by levels, not by dated steps")
                        .with_help("write `level NAME when CONDITION { … }`"),
                    );
                }
                MemberKind::Handler(h) => {
                    let words = h.event_words();
                    let Some(ev) = schema::event(&words) else {
                        continue; // E0120, from `items`
                    };
                    let wrong = match (per_customer, ev == schema::EventName::Clear) {
                        (true, false) => Some(
                            "a `per customer` scenario handles only `on clear`: its invoices' events re-evaluate the account",
                        ),
                        (false, true) => Some("`on clear` belongs to a `per customer` scenario"),
                        _ => None,
                    };
                    if per_customer && ev == schema::EventName::Clear {
                        self.clear_block(&h.body);
                    }
                    if let Some(why) = wrong {
                        self.push(
                            Diagnostic::new(
                                Code::HandlerNotAllowedHere,
                                h.event_span,
                                format!("`on {words}` is not allowed in this scenario"),
                            )
                            .with_label(why),
                        );
                    }
                }
                _ => {}
            }
        }
        if per_customer && levels == 0 {
            self.push(
                Diagnostic::new(
                    Code::PerCustomerWithoutLevels,
                    s.name.span,
                    format!("`per customer` scenario `{}` has no levels", s.name.name),
                )
                .with_label("its accounts will never act"),
            );
        }
    }

    /// E0161 on every statement of a level's block (the nested `if` blocks included) that
    /// has no meaning for an account.
    fn level_block(&mut self, b: &Block) {
        for st in &b.stmts {
            if let Some(why) = refused_in_level(&st.kind) {
                self.push(
                    Diagnostic::new(
                        Code::StatementNotAllowedInLevel,
                        st.span,
                        "statement not allowed in a level",
                    )
                    .with_label(why),
                );
            }
            if let StmtKind::If(i) = &st.kind {
                self.level_if(i);
            }
        }
    }

    /// `on clear`: what a level refuses, and conditions too (nothing is overdue any more,
    /// so there is no invoice for them to read).
    fn clear_block(&mut self, b: &Block) {
        self.level_block(b);
        for st in &b.stmts {
            if matches!(st.kind, StmtKind::If(_) | StmtKind::SkipWhen(_)) {
                self.push(
                    Diagnostic::new(
                        Code::StatementNotAllowedInLevel,
                        st.span,
                        "statement not allowed in `on clear`",
                    )
                    .with_label("`on clear` runs when nothing is overdue: it holds only actions"),
                );
            }
        }
    }

    fn level_if(&mut self, i: &If) {
        self.level_block(&i.then);
        match &i.otherwise {
            Some(Else::Block(b)) => self.level_block(b),
            Some(Else::If(s)) => {
                if let StmtKind::If(inner) = &s.kind {
                    self.level_if(inner);
                }
            }
            None => {}
        }
    }
}
