//! W0171: `charge indemnity` and `charge late-interest` where consumers can get the scenario.
//! The L441-10 indemnity and late-payment interest are owed by professional debtors only; the
//! engine charges nothing to a `b2c` customer, so such a line does nothing for them.
//!
//! A scenario is for consumers when its `applies when` admits `customer.segment == "b2c"`, or
//! when a policy rule reachable by a consumer chooses it (and its `applies when`, if any, does
//! not exclude them). Conditions are judged with the segment alone known: everything else may
//! be true. This module must not evaluate anything else, nor report other problems.

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast::*;

/// A condition's value for a consumer: known from the segment, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

fn is_segment(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Path(segs) if segs.len() == 2 && segs[0].name == "customer" && segs[1].name == "segment")
}

/// What `e` is for a customer of segment `b2c`.
fn for_consumers(e: &Expr) -> Tri {
    match &e.kind {
        ExprKind::Bool(b) => {
            if *b {
                Tri::True
            } else {
                Tri::False
            }
        }
        ExprKind::Paren(inner) => for_consumers(inner),
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr,
        } => for_consumers(expr).not(),
        ExprKind::Binary { op, lhs, rhs } => match op {
            BinOp::And => match (for_consumers(lhs), for_consumers(rhs)) {
                (Tri::False, _) | (_, Tri::False) => Tri::False,
                (Tri::True, Tri::True) => Tri::True,
                _ => Tri::Unknown,
            },
            BinOp::Or => match (for_consumers(lhs), for_consumers(rhs)) {
                (Tri::True, _) | (_, Tri::True) => Tri::True,
                (Tri::False, Tri::False) => Tri::False,
                _ => Tri::Unknown,
            },
            BinOp::Eq | BinOp::Ne => {
                let literal = match (&lhs.kind, &rhs.kind) {
                    (_, ExprKind::Str(s)) if is_segment(lhs) => Some(s),
                    (ExprKind::Str(s), _) if is_segment(rhs) => Some(s),
                    _ => None,
                };
                match literal {
                    Some(s) => {
                        let eq = if s == "b2c" { Tri::True } else { Tri::False };
                        if *op == BinOp::Eq { eq } else { eq.not() }
                    }
                    None => Tri::Unknown,
                }
            }
            BinOp::In | BinOp::NotIn if is_segment(lhs) => match &rhs.kind {
                ExprKind::List(items) => {
                    let strings: Option<Vec<&str>> = items
                        .iter()
                        .map(|i| match &i.kind {
                            ExprKind::Str(s) => Some(s.as_str()),
                            _ => None,
                        })
                        .collect();
                    match strings {
                        Some(list) => {
                            let inside = if list.contains(&"b2c") {
                                Tri::True
                            } else {
                                Tri::False
                            };
                            if *op == BinOp::In {
                                inside
                            } else {
                                inside.not()
                            }
                        }
                        None => Tri::Unknown,
                    }
                }
                _ => Tri::Unknown,
            },
            _ => Tri::Unknown,
        },
        _ => Tri::Unknown,
    }
}

/// A scenario's `applies when`, if it has one.
fn applies(s: &Scenario) -> Option<&Expr> {
    s.members.iter().find_map(|m| match &m.kind {
        MemberKind::Applies(e) => Some(e),
        _ => None,
    })
}

impl Checker<'_> {
    /// W0171 on each computed charge of `s` when consumers can get it.
    pub(super) fn penalties_for_consumers(&mut self, s: &Scenario) {
        let admitted = applies(s).map(for_consumers);
        let why = match admitted {
            Some(Tri::False) => return,
            Some(_) => {
                "its `applies when` admits consumers (`customer.segment == \"b2c\"`)".to_string()
            }
            None => match self.chosen_for_consumers(&s.name.name) {
                Some(policy) => format!(
                    "policy `{policy}` can give it to consumers (`customer.segment == \"b2c\"`)"
                ),
                None => return,
            },
        };
        let mut charges = Vec::new();
        for m in &s.members {
            if let MemberKind::Step(st) = &m.kind {
                collect_charges(&st.body.stmts, &mut charges);
            }
        }
        for (span, what) in charges {
            self.push(
                Diagnostic::new(
                    Code::PenaltyForConsumers,
                    span,
                    format!("`charge {what}` in a scenario that applies to consumers"),
                )
                .with_label(format!("nothing is charged to a consumer: {why}"))
                .with_help("the L441-10 indemnity and late interest are owed by professionals only: exclude consumers with `applies when customer.segment != \"b2c\"`, or give them a scenario of their own in the policy"),
            );
        }
    }

    /// The first policy that can give scenario `name` to a consumer, if one does.
    fn chosen_for_consumers(&self, name: &str) -> Option<String> {
        let scenario = |n: &str| {
            self.files.iter().find_map(|f| {
                f.parsed.file.items.iter().find_map(|i| match i {
                    Item::Scenario(s) if s.name.name == n => Some(s),
                    _ => None,
                })
            })
        };
        for f in self.files {
            for item in &f.parsed.file.items {
                let Item::Policy(p) = item else { continue };
                for rule in &p.rules {
                    let cond = rule.when.as_ref().map_or(Tri::True, for_consumers);
                    let applies = scenario(&rule.scenario.name)
                        .and_then(applies)
                        .map_or(Tri::True, for_consumers);
                    if cond == Tri::False || applies == Tri::False {
                        continue;
                    }
                    if rule.scenario.name == name {
                        return Some(p.name.name.clone());
                    }
                    if cond == Tri::True && applies == Tri::True {
                        // Every consumer stops here.
                        break;
                    }
                }
            }
        }
        None
    }
}

fn collect_charges(stmts: &[Stmt], out: &mut Vec<(Span, &'static str)>) {
    for st in stmts {
        match &st.kind {
            StmtKind::Action(a) => match &a.kind {
                ActionKind::Charge(Charge::Indemnity(_)) => out.push((st.span, "indemnity")),
                ActionKind::Charge(Charge::LateInterest(_)) => out.push((st.span, "late-interest")),
                _ => {}
            },
            StmtKind::If(i) => {
                collect_charges(&i.then.stmts, out);
                match &i.otherwise {
                    Some(Else::If(s)) => collect_charges(std::slice::from_ref(s), out),
                    Some(Else::Block(b)) => collect_charges(&b.stmts, out),
                    None => {}
                }
            }
            _ => {}
        }
    }
}
