//! Values across the Rust/rhai boundary: the `invoice` and `customer` maps, arguments, results,
//! and compile errors.

use rhai::{Array, Dynamic, ImmutableString, LexError, Map, ParseError, ParseErrorType};
use rust_decimal::Decimal;

use super::sandbox::DISABLED_KEYWORDS;
use super::{RuleArg, RuleError, RuleInvoice, RuleValue};
use crate::domain::Customer;

/// The `invoice` map a rule sees.
pub(super) fn invoice_map(facts: &RuleInvoice) -> Dynamic {
    let invoice = facts.invoice;
    map([
        ("amount", Dynamic::from_decimal(invoice.amount)),
        ("currency", text(&invoice.currency)),
        ("customer", text(&invoice.customer)),
        ("days_late", Dynamic::from_int(facts.days_late)),
        ("due", text(&invoice.due.to_string())),
        ("id", text(&invoice.id)),
        ("issued", text(&invoice.issued.to_string())),
        ("outstanding", Dynamic::from_decimal(facts.outstanding)),
        ("po_number", optional_text(invoice.po_number.as_deref())),
        ("today", text(&facts.today.to_string())),
    ])
}

/// The `customer` map a rule sees: its fields (contacts left out) and the aggregates of `facts`.
pub(super) fn customer_map(customer: &Customer, facts: &RuleInvoice) -> Dynamic {
    let tags: Array = customer.tags.iter().map(|tag| text(tag)).collect();
    let terms = customer.payment_terms_days;
    map([
        (
            "average_invoice",
            Dynamic::from_decimal(facts.customer_average_invoice),
        ),
        (
            "credit_insured",
            Dynamic::from_bool(customer.credit_insured),
        ),
        ("id", text(&customer.id)),
        ("language", text(&customer.language)),
        ("name", optional_text(customer.name.as_deref())),
        (
            "open_invoices",
            Dynamic::from_int(facts.customer_open_invoices),
        ),
        (
            "outstanding",
            Dynamic::from_decimal(facts.customer_outstanding),
        ),
        (
            "payment_terms_days",
            terms.map_or(Dynamic::UNIT, |days| Dynamic::from_int(i64::from(days))),
        ),
        ("risk_score", Dynamic::from_int(customer.risk_score)),
        ("scenario", optional_text(customer.scenario.as_deref())),
        ("segment", text(customer.segment.as_str())),
        ("tags", Dynamic::from_array(tags)),
    ])
}

/// An object map of `fields`, given in key order so the map is built in one pass (rules run
/// for every invoice a policy places: a search per inserted field showed in profiles).
fn map<const N: usize>(fields: [(&str, Dynamic); N]) -> Dynamic {
    debug_assert!(
        fields.is_sorted_by(|a, b| a.0 < b.0),
        "fields out of key order"
    );
    Dynamic::from_map(
        fields
            .into_iter()
            .map(|(k, v)| (k.into(), v))
            .collect::<Map>(),
    )
}

fn text(value: &str) -> Dynamic {
    Dynamic::from(ImmutableString::from(value))
}

fn optional_text(value: Option<&str>) -> Dynamic {
    value.map_or(Dynamic::UNIT, text)
}

/// An extra argument of `rule("name", …)`.
pub(super) fn arg_value(arg: &RuleArg) -> Dynamic {
    match arg {
        RuleArg::Bool(value) => Dynamic::from_bool(*value),
        RuleArg::Int(value) => Dynamic::from_int(*value),
        RuleArg::Decimal(value) => Dynamic::from_decimal(*value),
        RuleArg::Text(value) => text(value),
        RuleArg::Date(value) => text(&value.to_string()),
    }
}

/// What a rule returned: a boolean or a number, anything else is [`RuleError::WrongType`].
pub(super) fn rule_value(name: &str, value: Dynamic) -> Result<RuleValue, RuleError> {
    if let Ok(value) = value.as_bool() {
        Ok(RuleValue::Bool(value))
    } else if let Ok(value) = value.as_int() {
        Ok(RuleValue::Number(Decimal::from(value)))
    } else if let Ok(value) = value.as_decimal() {
        Ok(RuleValue::Number(value))
    } else {
        Err(RuleError::WrongType {
            name: name.to_string(),
            got: type_label(&value),
        })
    }
}

/// A value's type as a rule author would name it, in error messages.
pub(super) fn type_label(value: &Dynamic) -> String {
    let label = if value.is_unit() {
        "() (nothing)"
    } else if value.is_bool() {
        "a boolean"
    } else if value.is_int() {
        "an integer"
    } else if value.is_decimal() {
        "a decimal"
    } else if value.is_string() {
        "a string"
    } else if value.is_char() {
        "a character"
    } else if value.is_array() {
        "an array"
    } else if value.is_map() {
        "an object map"
    } else {
        return value.type_name().to_string();
    };
    label.to_string()
}

/// A compile error, located in `file`.
pub(super) fn compile_error(file: &str, err: &ParseError) -> RuleError {
    let position = err.position();
    let disabled = match err.err_type() {
        ParseErrorType::BadInput(LexError::ImproperSymbol(symbol, _))
        | ParseErrorType::Reserved(symbol) => DISABLED_KEYWORDS
            .iter()
            .find(|keyword| **keyword == symbol.as_str()),
        _ => None,
    };
    let message = match disabled {
        Some(keyword) => format!(
            "`{keyword}` is not available in rules: a rule cannot evaluate code, print or load \
             modules"
        ),
        None => err.err_type().to_string(),
    };
    RuleError::Compile {
        file: file.to_string(),
        line: position.line().unwrap_or(0),
        column: position.position().unwrap_or(0),
        message,
        forbidden: disabled.map(|keyword| keyword.to_string()),
    }
}
