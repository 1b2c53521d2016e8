//! Conditions and durations of the IR written back as short readable text for the ladder
//! (`invoice.amount < 1000 EUR`, `5 business days`).
//!
//! This is a label for people, read off the typed IR; nothing ever parses it back.

use relance_dsl::ir::{Expr, Offset, Value};
use relance_dsl::schema::fields;

use crate::Lang;

/// A condition as text, close to how it is written in a scenario.
pub(crate) fn expr(e: &Expr) -> String {
    match e {
        Expr::Lit(v) => value(v),
        Expr::Field(f) => fields()
            .iter()
            .find(|d| d.field == *f)
            .map_or_else(|| format!("{f:?}"), |d| d.path.to_string()),
        Expr::List(items) => format!(
            "[{}]",
            items.iter().map(expr).collect::<Vec<_>>().join(", ")
        ),
        Expr::Rule { name, args } => {
            let mut all = vec![format!("\"{name}\"")];
            all.extend(args.iter().map(expr));
            format!("rule({})", all.join(", "))
        }
        Expr::Not(x) => format!("not {}", operand(x)),
        Expr::Neg(x) => format!("-{}", operand(x)),
        Expr::Binary { op, lhs, rhs } => {
            format!("{} {} {}", operand(lhs), op.symbol(), operand(rhs))
        }
    }
}

fn operand(e: &Expr) -> String {
    match e {
        Expr::Binary { .. } => format!("({})", expr(e)),
        _ => expr(e),
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.normalize().to_string(),
        Value::Money(m) => format!("{} {}", m.amount.normalize(), m.currency),
        Value::Percent(p) => format!("{}%", p.normalize()),
        Value::Text(t) => format!("\"{t}\""),
        Value::Date(d) => d.to_string(),
        Value::Duration(o) => offset(o, Lang::En),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(value).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A duration: `5 days`, `2 months`, `1 month 3 business days` (its absolute value).
pub(crate) fn offset(o: &Offset, lang: Lang) -> String {
    let mut parts = Vec::new();
    let months = o.months.unsigned_abs();
    if months != 0 {
        let unit = match (lang, months == 1) {
            (Lang::En, true) => "month",
            (Lang::En, false) => "months",
            (Lang::Fr, _) => "mois",
        };
        parts.push(format!("{months} {unit}"));
    }
    let days = o.days.unsigned_abs();
    if days != 0 || parts.is_empty() {
        let unit = match (lang, o.business, days == 1) {
            (Lang::En, true, true) => "business day",
            (Lang::En, true, false) => "business days",
            (Lang::En, false, true) => "day",
            (Lang::En, false, false) => "days",
            (Lang::Fr, true, true) => "jour ouvré",
            (Lang::Fr, true, false) => "jours ouvrés",
            (Lang::Fr, false, true) => "jour",
            (Lang::Fr, false, false) => "jours",
        };
        parts.push(format!("{days} {unit}"));
    }
    parts.join(" ")
}

/// Whether an offset goes back in time.
pub(crate) fn negative(o: &Offset) -> bool {
    o.months < 0 || (o.months == 0 && o.days < 0)
}

/// An offset in calendar days for placing a marker: months count 30 days, business days
/// 7 for every 5. An approximation for the drawing only; the label says the exact rule.
pub(crate) fn approx_days(o: &Offset) -> i64 {
    let days = if o.business { o.days * 7 / 5 } else { o.days };
    o.months * 30 + days
}
