//! Expression checks: field paths against the schema, rule names and arities, and types
//! (money against numbers, mixed currencies, conditions that are not booleans).
//!
//! Typing is local and forgiving: after one error the subexpression gets `Type::Unknown`, so
//! a mistake is reported once. This module must not evaluate expressions.

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::schema::{self, Type};
use crate::suggest::closest;
use crate::syntax::ast::*;

/// A type plus, for money, the literal currency when one is known statically.
#[derive(Debug, Clone)]
pub(super) struct Ty {
    pub ty: Type,
    pub currency: Option<String>,
}

impl Ty {
    fn of(ty: Type) -> Ty {
        Ty { ty, currency: None }
    }
}

fn compatible(a: &Type, b: &Type) -> bool {
    use Type::*;
    match (a, b) {
        (Unknown, _) | (_, Unknown) => true,
        (RuleResult, Bool | Number | RuleResult) | (Bool | Number, RuleResult) => true,
        (List(x), List(y)) => compatible(x, y),
        _ => a == b,
    }
}

fn is_bool(t: &Type) -> bool {
    compatible(t, &Type::Bool)
}

impl Checker<'_> {
    /// A condition: must be a boolean (E0142).
    pub(super) fn condition(&mut self, e: &Expr) {
        let t = self.type_of(e);
        if !is_bool(&t.ty) {
            self.push(
                Diagnostic::new(
                    Code::ConditionNotBoolean,
                    e.span,
                    "this condition is not a boolean",
                )
                .with_label(format!("this is {}", t.ty.describe()))
                .with_help("compare it, e.g. `invoice.amount > 1000 EUR`"),
            );
        }
    }

    /// `wait until`: must be a date.
    pub(super) fn date_expr(&mut self, e: &Expr) {
        let t = self.type_of(e);
        if !compatible(&t.ty, &Type::Date) {
            self.push(
                Diagnostic::new(Code::TypeMismatch, e.span, "`wait until` needs a date")
                    .with_label(format!("this is {}", t.ty.describe()))
                    .with_help("e.g. `wait until promise.date + 2 days`"),
            );
        }
    }

    pub(super) fn type_of(&mut self, e: &Expr) -> Ty {
        match &e.kind {
            ExprKind::Number(_) => Ty::of(Type::Number),
            ExprKind::Money(m) => Ty {
                ty: Type::Money,
                currency: Some(m.currency.clone()),
            },
            ExprKind::Percent(_) => Ty::of(Type::Percent),
            ExprKind::Duration(_) => Ty::of(Type::Duration),
            ExprKind::Date(_) => Ty::of(Type::Date),
            ExprKind::Str(_) => Ty::of(Type::Text),
            ExprKind::Bool(_) => Ty::of(Type::Bool),
            ExprKind::Paren(inner) => self.type_of(inner),
            ExprKind::List(items) => self.list(items),
            ExprKind::Rule { name, args } => self.rule_call(name, args),
            ExprKind::Path(segs) => self.path(segs, e.span),
            ExprKind::Unary {
                op: UnaryOp::Not,
                expr,
            } => {
                let t = self.type_of(expr);
                if !is_bool(&t.ty) {
                    self.mismatch(expr.span, "`not` needs a boolean", &t.ty);
                }
                Ty::of(Type::Bool)
            }
            ExprKind::Unary {
                op: UnaryOp::Neg,
                expr,
            } => {
                let t = self.type_of(expr);
                if !matches!(
                    t.ty,
                    Type::Number | Type::Money | Type::Duration | Type::Unknown
                ) {
                    self.mismatch(
                        expr.span,
                        "`-` needs a number, an amount or a duration",
                        &t.ty,
                    );
                    return Ty::of(Type::Unknown);
                }
                t
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e.span),
        }
    }

    fn mismatch(&mut self, span: Span, message: &str, got: &Type) {
        self.push(
            Diagnostic::new(Code::TypeMismatch, span, message.to_string())
                .with_label(format!("this is {}", got.describe())),
        );
    }

    fn list(&mut self, items: &[Expr]) -> Ty {
        let mut elem: Option<Ty> = None;
        for item in items {
            let t = self.type_of(item);
            match &elem {
                Some(first) if !compatible(&first.ty, &t.ty) => {
                    self.push(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            item.span,
                            "list items must all have the same type",
                        )
                        .with_label(format!(
                            "this is {}, the first item is {}",
                            t.ty.describe(),
                            first.ty.describe()
                        )),
                    );
                }
                Some(first) => self.currencies(first, &t, item.span),
                None => elem = Some(t),
            }
        }
        let e = elem.unwrap_or(Ty::of(Type::Unknown));
        Ty {
            ty: Type::List(Box::new(e.ty)),
            currency: e.currency,
        }
    }

    fn rule_call(&mut self, name: &Str, args: &[Expr]) -> Ty {
        for a in args {
            self.type_of(a);
        }
        self.rules_used.insert(name.value.clone());
        let Some(rules) = &self.ctx.rules else {
            return Ty::of(Type::RuleResult);
        };
        match rules.get(&name.value) {
            None => {
                let help = closest(&name.value, rules.keys().map(String::as_str));
                self.push(
                    Diagnostic::new(
                        Code::UnknownRule,
                        name.span,
                        format!("unknown rule `{}`", name.value),
                    )
                    .with_label("no function of this name in rules/*.rhai")
                    .with_did_you_mean_as(help, crate::fmt::quoted),
                );
            }
            Some(&arity) if arity != args.len() => {
                self.push(
                    Diagnostic::new(
                        Code::WrongRuleArity,
                        name.span,
                        format!("rule `{}` takes {arity} argument(s) after invoice and customer, {} given", name.value, args.len()),
                    )
                    .with_label("wrong number of arguments"),
                );
                if let Some(site) = self.ctx.rule_sites.get(&name.value) {
                    self.elsewhere.push(crate::diagnostics::Elsewhere {
                        code: Code::WrongRuleArity,
                        at: name.span,
                        file: site.file.clone(),
                        span: site.span,
                        label: format!(
                            "`{}` is defined here, with {arity} argument(s) after invoice and customer",
                            name.value
                        ),
                    });
                }
            }
            Some(_) => {}
        }
        Ty::of(Type::RuleResult)
    }

    fn path(&mut self, segs: &[Ident], span: Span) -> Ty {
        let path = segs
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(".");
        if let Some(f) = schema::field(&path) {
            return Ty::of(f.ty.clone());
        }
        let help = closest(&path, schema::fields().iter().map(|f| f.path));
        let root = segs.first().map_or("", |s| s.name.as_str());
        let label = if schema::ROOTS.contains(&root) {
            format!(
                "`{root}` has no field `{}`",
                path.strip_prefix(root)
                    .unwrap_or("")
                    .trim_start_matches('.')
            )
        } else {
            "fields start with `invoice.`, `customer.`, `dispute.`, `promise.`, `history.`, `payment.` or are `today`".into()
        };
        self.push(
            Diagnostic::new(Code::UnknownField, span, format!("unknown field `{path}`"))
                .with_label(label)
                .with_did_you_mean(help),
        );
        Ty::of(Type::Unknown)
    }

    /// E0141 when two money operands carry different literal currencies.
    fn currencies(&mut self, a: &Ty, b: &Ty, span: Span) {
        if let (Some(x), Some(y)) = (&a.currency, &b.currency)
            && x != y
        {
            self.push(
                Diagnostic::new(
                    Code::MixedCurrencies,
                    span,
                    format!("mixed currencies: {x} and {y}"),
                )
                .with_label("amounts in different currencies cannot be combined"),
            );
        }
    }

    fn binary(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr, span: Span) -> Ty {
        let l = self.type_of(lhs);
        let r = self.type_of(rhs);
        use Type::*;
        if matches!(l.ty, Unknown) || matches!(r.ty, Unknown) {
            return Ty::of(if is_logic_or_compare(op) {
                Bool
            } else {
                Unknown
            });
        }
        let result = match op {
            BinOp::And | BinOp::Or => {
                for (t, e) in [(&l, lhs), (&r, rhs)] {
                    if !is_bool(&t.ty) {
                        self.mismatch(
                            e.span,
                            &format!("`{}` needs booleans on both sides", op.symbol()),
                            &t.ty,
                        );
                    }
                }
                return Ty::of(Bool);
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                self.comparison(op, &l, &r, span);
                self.closed_values(op, lhs, rhs);
                return Ty::of(Bool);
            }
            BinOp::In | BinOp::NotIn => {
                match &r.ty {
                    List(elem) if compatible(elem, &l.ty) => {
                        self.currencies(&l, &r, span);
                        self.closed_values(op, lhs, rhs);
                    }
                    List(elem) => self.push(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            span,
                            format!(
                                "`{}` compares {} with a list of other things",
                                op.symbol(),
                                l.ty.describe()
                            ),
                        )
                        .with_label(format!("the list holds {}", List(elem.clone()).describe())),
                    ),
                    other => self.mismatch(
                        rhs.span,
                        &format!("`{}` needs a list on its right", op.symbol()),
                        other,
                    ),
                }
                return Ty::of(Bool);
            }
            BinOp::Add | BinOp::Sub => match (&l.ty, &r.ty) {
                (Number, Number) => Some(Number),
                (Money, Money) => {
                    self.currencies(&l, &r, span);
                    Some(Money)
                }
                (Date, Duration) => Some(Date),
                (Date, Date) if op == BinOp::Sub => Some(Number),
                (Duration, Duration) | (Percent, Percent) => Some(l.ty.clone()),
                _ => None,
            },
            BinOp::Mul => match (&l.ty, &r.ty) {
                (Number, Number) => Some(Number),
                (Money, Number | Percent) | (Number | Percent, Money) => Some(Money),
                (Number, Percent) | (Percent, Number) => Some(Number),
                _ => None,
            },
            BinOp::Div => match (&l.ty, &r.ty) {
                (Number, Number) => Some(Number),
                (Money, Number) => Some(Money),
                (Money, Money) => {
                    self.currencies(&l, &r, span);
                    Some(Number)
                }
                _ => None,
            },
        };
        match result {
            Some(ty) => Ty {
                currency: l.currency.or(r.currency).filter(|_| ty == Money),
                ty,
            },
            None => {
                self.push(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        span,
                        format!(
                            "cannot apply `{}` to {} and {}",
                            op.symbol(),
                            l.ty.describe(),
                            r.ty.describe()
                        ),
                    )
                    .with_label("type mismatch"),
                );
                Ty::of(Unknown)
            }
        }
    }

    fn comparison(&mut self, op: BinOp, l: &Ty, r: &Ty, span: Span) {
        use Type::*;
        if !compatible(&l.ty, &r.ty) {
            let help = match (&l.ty, &r.ty) {
                (Money, Number) | (Number, Money) => {
                    Some("write the amount with its currency, e.g. `1000 EUR`".to_string())
                }
                (Number, Percent) | (Percent, Number) => {
                    Some("write the percentage as a number of its own kind, e.g. `5%`".to_string())
                }
                _ => None,
            };
            self.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    span,
                    format!(
                        "cannot compare {} with {}",
                        l.ty.describe(),
                        r.ty.describe()
                    ),
                )
                .with_label("type mismatch")
                .with_help_opt(help),
            );
            return;
        }
        let ordered = matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge);
        if ordered && matches!(l.ty, Text | Bool | List(_)) {
            self.mismatch(
                span,
                &format!(
                    "`{}` cannot order {}",
                    op.symbol(),
                    l.ty.describe_plural_free()
                ),
                &l.ty,
            );
            return;
        }
        self.currencies(l, r, span);
    }
}

fn is_logic_or_compare(op: BinOp) -> bool {
    !matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div)
}

trait DescribeFree {
    fn describe_plural_free(&self) -> String;
}

impl DescribeFree for Type {
    fn describe_plural_free(&self) -> String {
        match self {
            Type::Text => "texts".into(),
            Type::Bool => "booleans".into(),
            _ => "lists".into(),
        }
    }
}
