//! The rhai engine rules run in: what it can do, and the limits it runs under.
//!
//! Packages registered on top of [`Engine::new_raw`] (which has none):
//!
//! | package | why |
//! | --- | --- |
//! | `LogicPackage` | `!`, `min`/`max` on integers and decimals |
//! | `ArithmeticPackage` | `abs`, `sign`, `is_zero`… (the operators themselves are built in) |
//! | `BasicMathPackage` | `round`, `floor`, `ceiling`, `to_decimal`, `to_int`, `parse_int`… |
//! | `BasicStringPackage` | string conversion, used by `${…}` interpolation and `+` on strings |
//! | `MoreStringPackage` | `len`, `contains`, `starts_with`, `to_lower`, `trim`, `split`… |
//! | `BasicArrayPackage` | `tags.contains("vip")`, `len`, `filter`, `map`… |
//! | `BasicMapPackage` | `keys`, `values`, `contains` on object maps |
//! | `BasicIteratorPackage` | `for tag in customer.tags`, ranges |
//!
//! Left out: `LanguageCorePackage` (`sleep` blocks the thread out of reach of the time guard,
//! `exit`, `parse_json`, function metadata), hence `CorePackage` and `StandardPackage`;
//! `BasicTimePackage` (the clock: rules must be deterministic); `BasicBlobPackage`,
//! `BitFieldPackage` and `BasicFnPackage` (no use in a rule). Functions that build large values
//! (`pad`, `+`) are bounded by the size limits.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicIteratorPackage, BasicMapPackage, BasicMathPackage,
    BasicStringPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{AST, Dynamic, Engine, EvalAltResult, OptimizationLevel, Position};
use rust_decimal::Decimal;

use super::RuleLimits;
use super::convert::type_label;

/// Keywords a rule may not use: they would evaluate code, produce output or load modules.
pub(super) const DISABLED_KEYWORDS: [&str; 5] = ["eval", "print", "debug", "import", "export"];

/// How often (in operations) the wall-clock guard looks at the clock.
const CLOCK_CHECK_EVERY: u64 = 32;

/// The name prefix rhai gives to closures (`|x| x > 1`).
const ANONYMOUS_PREFIX: &str = "anon$";

/// Whether a function name is one rhai generated for a closure.
pub(super) fn is_anonymous(name: &str) -> bool {
    name.starts_with(ANONYMOUS_PREFIX)
}

/// The sandboxed engine for one rule set.
pub(super) fn build_engine(limits: &RuleLimits) -> Engine {
    let mut engine = Engine::new_raw();
    engine.register_global_module(LogicPackage::new().as_shared_module());
    engine.register_global_module(ArithmeticPackage::new().as_shared_module());
    engine.register_global_module(BasicMathPackage::new().as_shared_module());
    engine.register_global_module(BasicStringPackage::new().as_shared_module());
    engine.register_global_module(MoreStringPackage::new().as_shared_module());
    engine.register_global_module(BasicArrayPackage::new().as_shared_module());
    engine.register_global_module(BasicMapPackage::new().as_shared_module());
    engine.register_global_module(BasicIteratorPackage::new().as_shared_module());

    for keyword in DISABLED_KEYWORDS {
        engine.disable_symbol(keyword);
    }
    // Belt and braces: `print` and `debug` cannot be written, and would print nothing anyway.
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    // `new_raw` has no module resolver; also allow no module at all.
    engine.set_max_modules(0);

    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    // The optimizer folds constant operators with rhai's built-in (lenient) comparisons, and fast
    // operators call those built-ins before any registered function: both would bypass the strict
    // comparisons registered below.
    engine.set_optimization_level(OptimizationLevel::None);
    engine.set_fast_operators(false);
    register_strict_comparisons(&mut engine);

    engine.set_max_operations(limits.max_operations);
    engine.set_max_call_levels(limits.max_call_levels);
    engine.set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth);
    engine.set_max_string_size(limits.max_string_size);
    engine.set_max_array_size(limits.max_array_size);
    engine.set_max_map_size(limits.max_map_size);
    engine.set_max_variables(limits.max_variables);
    engine.on_progress(|operations| {
        if operations % CLOCK_CHECK_EVERY == 0 && Deadline::passed() {
            Some(Dynamic::from("time budget exceeded"))
        } else {
            None
        }
    });
    engine
}

/// Rhai's built-in comparisons answer `false` (or `true` for `!=`) when the two sides have
/// different types: `invoice.amount > "1000"` would silently be false. With fast operators off,
/// a registered function with `Dynamic` parameters is found before rhai falls back to its
/// built-ins, so these catch every comparison whose types have no exact overload (arrays and
/// maps keep the `==`/`!=` of their packages) and reject the mismatched ones.
fn register_strict_comparisons(engine: &mut Engine) {
    engine.register_fn("==", |a: Dynamic, b: Dynamic| compare(Op::Eq, &a, &b));
    engine.register_fn("!=", |a: Dynamic, b: Dynamic| compare(Op::Ne, &a, &b));
    engine.register_fn("<", |a: Dynamic, b: Dynamic| compare(Op::Lt, &a, &b));
    engine.register_fn("<=", |a: Dynamic, b: Dynamic| compare(Op::Le, &a, &b));
    engine.register_fn(">", |a: Dynamic, b: Dynamic| compare(Op::Gt, &a, &b));
    engine.register_fn(">=", |a: Dynamic, b: Dynamic| compare(Op::Ge, &a, &b));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    fn is_equality(self) -> bool {
        matches!(self, Op::Eq | Op::Ne)
    }

    fn apply<T: PartialOrd + ?Sized>(self, a: &T, b: &T) -> bool {
        match self {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }
}

/// Compares two values of the same kind: integers and decimals together, strings (ISO dates
/// order correctly), characters, and booleans for equality only. `()` (an absent optional field)
/// can be tested with `==`/`!=` against anything. Everything else is an error.
fn compare(op: Op, a: &Dynamic, b: &Dynamic) -> Result<bool, Box<EvalAltResult>> {
    compare_same_kind(op, a, b).ok_or_else(|| {
        let message = if a.type_id() == b.type_id() {
            format!(
                "cannot order {} values with `{}`",
                type_label(a),
                op.symbol()
            )
        } else {
            format!(
                "cannot compare {} with {} using `{}`",
                type_label(a),
                type_label(b),
                op.symbol()
            )
        };
        EvalAltResult::ErrorRuntime(message.into(), Position::NONE).into()
    })
}

/// The comparison's answer, or `None` when the two values cannot be compared with `op`.
fn compare_same_kind(op: Op, a: &Dynamic, b: &Dynamic) -> Option<bool> {
    if a.is_unit() || b.is_unit() {
        return op
            .is_equality()
            .then(|| op.apply(&a.is_unit(), &b.is_unit()));
    }
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return Some(op.apply(&x, &y));
    }
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return Some(op.apply(&x, &y));
    }
    if let (Ok(x), Ok(y)) = (a.as_immutable_string_ref(), b.as_immutable_string_ref()) {
        return Some(op.apply(x.as_str(), y.as_str()));
    }
    if let (Ok(x), Ok(y)) = (a.as_char(), b.as_char()) {
        return Some(op.apply(&x, &y));
    }
    if let (Ok(x), Ok(y)) = (a.as_bool(), b.as_bool()) {
        return op.is_equality().then(|| op.apply(&x, &y));
    }
    None
}

/// An integer or a decimal, as a decimal.
fn number(value: &Dynamic) -> Option<Decimal> {
    value
        .as_decimal()
        .ok()
        .or_else(|| value.as_int().ok().map(Decimal::from))
}

thread_local! {
    /// When the rule running on this thread must stop; `None` outside calls or without a limit.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Arms the wall-clock guard for the rule call running on this thread, and disarms it (restoring
/// any outer deadline) when dropped. The engine's progress callback reads it.
pub(super) struct Deadline {
    previous: Option<Instant>,
}

impl Deadline {
    pub(super) fn start(budget: Duration) -> Deadline {
        let deadline = (!budget.is_zero()).then(|| Instant::now() + budget);
        Deadline {
            previous: DEADLINE.replace(deadline),
        }
    }

    fn passed() -> bool {
        DEADLINE
            .get()
            .is_some_and(|deadline| Instant::now() >= deadline)
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        DEADLINE.set(self.previous);
    }
}

/// Where the first top-level statement of a compiled file is, if it has one.
///
/// Rhai gives no public access to an AST's statements, so this runs them on an engine that
/// stops at the very first operation, before anything is evaluated: an AST holding only
/// function definitions runs no operation at all.
pub(super) fn first_top_level_statement(ast: &AST) -> Option<Position> {
    let mut probe = Engine::new_raw();
    probe.on_progress(|_| Some(Dynamic::UNIT));
    match probe.run_ast(ast) {
        Ok(()) => None,
        Err(err) => Some(err.position()),
    }
}
