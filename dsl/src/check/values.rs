//! E0144: a text literal compared with a field whose values form a closed set
//! (`customer.credit_cover == "coverd"`), with `==`, `!=`, `in` or `not in`. Such a
//! comparison can never hold (or always holds): it is a misspelling, like an unknown field.
//!
//! The allowed values come from the field table (`schema::FieldDoc::values`, and
//! `schema::PAYMENT_REVERSED_REASONS` for `event.reason` inside `on payment reversed`); this
//! module must not list values of its own. Types are checked elsewhere (`exprs`).

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::schema::{self, EventName};
use crate::suggest::closest;
use crate::syntax::ast::*;

impl Checker<'_> {
    /// Checks `lhs op rhs` when one side is a closed-set field and the other a text literal
    /// (or, for `in`/`not in`, a list of them).
    pub(super) fn closed_values(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr) {
        match op {
            BinOp::Eq | BinOp::Ne => {
                if let Some((path, values)) = self.closed_field(lhs) {
                    self.literal_in(path, values, rhs);
                } else if let Some((path, values)) = self.closed_field(rhs) {
                    self.literal_in(path, values, lhs);
                }
            }
            BinOp::In | BinOp::NotIn => {
                if let Some((path, values)) = self.closed_field(lhs)
                    && let ExprKind::List(items) = &unparen(rhs).kind
                {
                    for item in items {
                        self.literal_in(path, values, item);
                    }
                }
            }
            _ => {}
        }
    }

    /// The field's path and allowed values when `e` is a field whose values form a closed set
    /// here.
    fn closed_field(&self, e: &Expr) -> Option<(&'static str, &'static [&'static str])> {
        let ExprKind::Path(segs) = &unparen(e).kind else {
            return None;
        };
        let path = segs
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let f = schema::field(&path)?;
        if f.field == schema::Field::EventReason
            && self.handling == Some(EventName::PaymentReversed)
        {
            return Some((f.path, schema::PAYMENT_REVERSED_REASONS));
        }
        (!f.values.is_empty()).then_some((f.path, f.values))
    }

    fn literal_in(&mut self, path: &str, values: &'static [&'static str], e: &Expr) {
        let ExprKind::Str(text) = &unparen(e).kind else {
            return;
        };
        if values.contains(&text.as_str()) {
            return;
        }
        let named: Vec<&str> = values.iter().copied().filter(|v| !v.is_empty()).collect();
        let list = named
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let empty = if values.contains(&"") {
            " (or empty)"
        } else {
            ""
        };
        let help = closest(text, named.iter().copied());
        let d = Diagnostic::new(
            Code::UnknownFieldValue,
            e.span,
            format!("`{path}` is never {}", crate::fmt::quoted(text)),
        )
        .with_label(format!("`{path}` is one of {list}{empty}"));
        self.push(match help {
            Some(_) => d.with_did_you_mean_as(help, crate::fmt::quoted),
            None => d.with_help(format!("write one of {list}")),
        });
    }
}

fn unparen(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Paren(inner) => unparen(inner),
        _ => e,
    }
}
