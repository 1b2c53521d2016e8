//! Custom rules: the rhai functions of a scenario set's `rules/` folder, compiled once and called
//! under a sandbox.
//!
//! A scenario condition `rule("large_exposure", 3)` runs the rhai function
//! `large_exposure(invoice, customer, 3)`. This module owns:
//!
//! - **compiling** every `*.rhai` file of the folder once into a [`RuleSet`] (compile errors name
//!   the file, line and column; a function defined in two files is an error; a file may only
//!   define functions). [`RuleSet::check_sources_with_limits`] reports every such problem at
//!   once, for `scenario_set` to turn into diagnostics;
//! - **describing** the compiled functions ([`RuleSet::functions`]) so the language checker can
//!   verify that a `rule("name", …)` call exists with the right number of arguments;
//! - **reading the calls** a rules file makes from rhai's syntax tree (`calls`), so W0190 knows
//!   which files of helpers another file calls (comments, strings and built-in methods are not
//!   calls);
//! - **calling** a rule with an invoice and its customer as read-only object maps, under the
//!   sandbox and the [`RuleLimits`], and turning whatever happens into a [`RuleValue`] or a
//!   [`RuleError`] (a rule that fails, runs too long or returns the wrong type is an `Err`, never
//!   a panic: the runtime puts the instance in a visible error state).
//!
//! It must not do I/O beyond [`RuleSet::load_dir`] reading the folder, and it keeps **no state
//! between calls**: each call gets fresh copies of its inputs, so a rule is a pure function of
//! (invoice, customer, arguments). Deciding *when* to call a rule, and what an error does to an
//! instance, belongs to the runtime.
//!
//! # The sandbox
//!
//! The rhai engine starts from [`rhai::Engine::new_raw`] (no functions at all) and only gets the
//! packages a pure rule needs (see `sandbox.rs` for the exact list and why): logic, arithmetic,
//! maths on integers and decimals, strings, arrays, object maps and iterators. Left out on purpose:
//! `LanguageCorePackage` (it has `sleep`, `exit`, `parse_json`), the time package (the clock),
//! BLOBs and bit fields. `eval`, `print`, `debug`, `import` and `export` are disabled keywords (a
//! compile error), there is no module resolver, and output callbacks are no-ops. Variables must be
//! declared (strict variables), reading a missing property (`customer.risk_scor`) is an error,
//! and comparing values of different types (`invoice.amount > "1000"`) is an error rather than a
//! silent `false`. Every call runs under the [`RuleLimits`]: operations, call depth, expression
//! depth, string, array and map sizes, variables, and a wall-clock guard.
//!
//! # What a rule sees
//!
//! `invoice`: `id`, `customer` (the customer id), `amount` (decimal), `currency`, `issued`, `due`
//! and `today` (ISO dates such as `"2026-01-31"`, which compare correctly as strings),
//! `po_number` (a string, or `()` when absent), `outstanding` (decimal), `days_late` (integer).
//!
//! `customer`: `id`, `name` (or `()`), `segment` (`"b2b"`, `"b2c"`, `"public"`), `risk_score`
//! (integer), `credit_insured` (boolean), `tags` (array of strings), `language`,
//! `payment_terms_days` (integer or `()`), `scenario` (or `()`), `outstanding` (decimal),
//! `open_invoices` (integer), `average_invoice` (decimal). Contacts are not exposed.
//!
//! Extra arguments arrive as booleans, integers, decimals, strings, or dates as ISO strings
//! ([`RuleArg`]). A rule returns a boolean or a number (integer or decimal).
//!
//! Writes to `invoice` or `customer` only change the call's own copy: they are read-only in
//! effect. `x == ()` and `x != ()` test whether an optional field is absent; ordering comparisons
//! with `()` are errors. Integers and decimals compare with each other. A `switch` matches by
//! value and type, so a `switch` on a field of another type just takes its `_` branch.

pub mod calls;
mod convert;
mod sandbox;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Scope};
use rust_decimal::Decimal;

use crate::domain::{Customer, Invoice};

/// The resource limits every rule call runs under.
///
/// `0` switches off the operation, expression-depth and size limits, and [`Duration::ZERO`] the
/// wall-clock guard; `max_call_levels` and `max_variables` have no "off" value (0 allows no
/// call, no variable). The defaults are meant for production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleLimits {
    /// Operations (roughly: expressions evaluated, loop iterations, function calls) per call.
    /// Default 100 000: a typical rule needs a few dozen, the whole budget takes a few
    /// milliseconds. This is the deterministic limit: same rule, same inputs, same outcome.
    pub max_operations: u64,
    /// Nested function calls (recursion depth). Default 32.
    pub max_call_levels: usize,
    /// Nesting depth of an expression at the top level of a file, checked at compile time.
    /// Default 64.
    pub max_expr_depth: usize,
    /// Nesting depth of an expression inside a function, checked at compile time. Default 64
    /// (a chain of 60 `&&` still compiles).
    pub max_function_expr_depth: usize,
    /// Bytes in one string. Default 10 000.
    pub max_string_size: usize,
    /// Items in one array (nested arrays included). Default 1 000.
    pub max_array_size: usize,
    /// Entries in one object map (nested maps included). Default 1 000. Rhai checks it when a
    /// map is used (passed, merged, returned), not at each `m[key] = value` insertion: a loop
    /// of insertions alone is bounded by the operation budget.
    pub max_map_size: usize,
    /// Variables alive at once in a call. Default 256.
    pub max_variables: usize,
    /// Wall-clock time per call, checked every few dozen operations. Default 50 ms: a safety net
    /// for a slow host, far above what the operation budget allows on a normal machine.
    pub max_duration: Duration,
}

impl Default for RuleLimits {
    fn default() -> Self {
        RuleLimits {
            max_operations: 100_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_function_expr_depth: 64,
            max_string_size: 10_000,
            max_array_size: 1_000,
            max_map_size: 1_000,
            max_variables: 256,
            max_duration: Duration::from_millis(50),
        }
    }
}

/// The invoice a rule is evaluated for, with the runtime facts a rule may need.
///
/// All fields are public: build one with [`RuleInvoice::new`] and override what the runtime
/// knows better (`RuleInvoice { outstanding, ..RuleInvoice::new(&invoice, today) }`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleInvoice<'a> {
    /// The invoice as issued (`invoice.amount` is its amount at issue).
    pub invoice: &'a Invoice,
    /// What is still owed on this invoice on `today`, after payments and credit notes
    /// (`invoice.outstanding`).
    pub outstanding: Decimal,
    /// Calendar days from the due date to `today`: 0 on the due date, 3 three days after it,
    /// negative before it (`invoice.days_late`).
    pub days_late: i64,
    /// The day the condition is evaluated on (`invoice.today`, an ISO date string).
    pub today: NaiveDate,
    /// What the customer still owes on `today` over all its open invoices in this invoice's
    /// currency, this one included (`customer.outstanding`).
    pub customer_outstanding: Decimal,
    /// How many invoices of the customer in this invoice's currency are open on `today`, this
    /// one included (`customer.open_invoices`).
    pub customer_open_invoices: i64,
    /// The average amount (as issued) of the customer's invoices in this invoice's currency
    /// known on `today`, i.e. issued on or before it (`customer.average_invoice`). "Outstanding above three times the average
    /// invoice" is `customer.outstanding > customer.average_invoice * 3`.
    pub customer_average_invoice: Decimal,
}

impl<'a> RuleInvoice<'a> {
    /// The facts as if this invoice were the customer's only one and nothing had been paid since
    /// it entered Relance: outstanding = [`Invoice::opening_outstanding`], the customer aggregates
    /// computed from this invoice alone, `days_late` from `today`.
    pub fn new(invoice: &'a Invoice, today: NaiveDate) -> RuleInvoice<'a> {
        let outstanding = invoice.opening_outstanding();
        RuleInvoice {
            invoice,
            outstanding,
            days_late: (today - invoice.due).num_days(),
            today,
            customer_outstanding: outstanding,
            customer_open_invoices: 1,
            customer_average_invoice: invoice.amount,
        }
    }
}

/// An extra argument of `rule("name", …)`, as the scenario wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleArg {
    Bool(bool),
    Int(i64),
    /// A decimal, or an amount (the currency is dropped).
    Decimal(Decimal),
    Text(String),
    /// Passed to rhai as an ISO string (`"2026-01-31"`), like the dates of `invoice`.
    Date(NaiveDate),
}

/// What a rule returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleValue {
    Bool(bool),
    /// A number: an integer result is converted to a decimal.
    Number(Decimal),
}

impl RuleValue {
    /// The boolean, if the rule returned one.
    pub fn as_bool(self) -> Option<bool> {
        match self {
            RuleValue::Bool(value) => Some(value),
            RuleValue::Number(_) => None,
        }
    }

    /// The number, if the rule returned one.
    pub fn as_number(self) -> Option<Decimal> {
        match self {
            RuleValue::Number(value) => Some(value),
            RuleValue::Bool(_) => None,
        }
    }
}

impl fmt::Display for RuleValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleValue::Bool(value) => write!(f, "{value}"),
            RuleValue::Number(value) => write!(f, "{value}"),
        }
    }
}

/// A function of the rule set, as `rule("name", …)` sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleSignature {
    pub name: String,
    /// Parameters of the rhai function, `invoice` and `customer` included: `rule("name", a, b)`
    /// needs `params == 4`.
    pub params: usize,
    /// The file that defines it, as given to [`RuleSet::from_sources`] (for
    /// [`RuleSet::load_dir`]: the folder joined with the file name).
    pub file: String,
}

impl RuleSignature {
    /// How many extra arguments `rule("name", …)` takes (`None` for a helper with fewer than the
    /// two parameters `invoice` and `customer`).
    pub fn extra_args(&self) -> Option<usize> {
        self.params.checked_sub(2)
    }
}

/// Which limit a rule call ran into, with the limit's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleBudget {
    Operations(u64),
    CallLevels(usize),
    StringSize(usize),
    ArraySize(usize),
    MapSize(usize),
    Variables(usize),
    Time(Duration),
}

impl fmt::Display for RuleBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleBudget::Operations(max) => write!(f, "operation budget ({max} operations)"),
            RuleBudget::CallLevels(max) => write!(f, "call depth ({max} nested calls)"),
            RuleBudget::StringSize(max) => write!(f, "string size ({max} bytes)"),
            RuleBudget::ArraySize(max) => write!(f, "array size ({max} items)"),
            RuleBudget::MapSize(max) => write!(f, "map size ({max} entries)"),
            RuleBudget::Variables(max) => write!(f, "variable count ({max} variables)"),
            RuleBudget::Time(max) => write!(f, "time budget ({} ms)", max.as_millis()),
        }
    }
}

/// Why a rule set could not be built, or a rule call did not produce a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The rules folder or one of its files could not be read.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// A file does not compile (lines and columns start at 1; 0 when rhai gives no position).
    #[error("{file}:{line}:{column}: {message}")]
    Compile {
        file: String,
        line: usize,
        column: usize,
        message: String,
        /// The keyword the sandbox forbids (`print`, `eval` …), when that is the problem.
        forbidden: Option<String>,
    },
    /// The same function name is defined in two files.
    #[error("function `{name}` is defined in both {first} and {second}")]
    Duplicate {
        name: String,
        first: String,
        second: String,
    },
    /// No rule has this name.
    #[error("unknown rule `{name}`{}", .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Unknown {
        name: String,
        suggestion: Option<String>,
    },
    /// The rule exists, but not with this number of parameters.
    #[error(
        "rule `{name}` ({file}) takes {} parameters (invoice, customer, then the rule's arguments), but was called with {got}",
        or_list(.expected)
    )]
    Arity {
        name: String,
        file: String,
        /// The parameter counts it is defined with, `invoice` and `customer` included.
        expected: Vec<usize>,
        /// The parameter count of the call, `invoice` and `customer` included.
        got: usize,
    },
    /// The rule failed while running: a `throw`, a mismatched comparison, a missing property,
    /// a division by zero… `file` and `line` locate the innermost failing function.
    #[error("rule `{name}` failed{}: {message}", location(.file, .line, .column))]
    Runtime {
        name: String,
        message: String,
        file: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    /// The rule ran into one of the [`RuleLimits`].
    #[error("rule `{name}` exceeded its {which}")]
    Budget { name: String, which: RuleBudget },
    /// The rule returned something else than a boolean or a number.
    #[error("rule `{name}` returned {got}, expected a boolean or a number")]
    WrongType { name: String, got: String },
}

fn or_list(counts: &[usize]) -> String {
    let counts: Vec<String> = counts.iter().map(usize::to_string).collect();
    counts.join(" or ")
}

fn location(file: &str, line: &Option<usize>, column: &Option<usize>) -> String {
    match (*line, *column) {
        (Some(line), Some(column)) => format!(" at {file}:{line}:{column}"),
        (Some(line), None) => format!(" at {file}:{line}"),
        _ => format!(" in {file}"),
    }
}

/// The compiled functions of a rules folder, ready to be called from any thread.
pub struct RuleSet {
    engine: Engine,
    ast: AST,
    /// The public functions (what `rule()` may call), sorted by name, then parameter count.
    functions: Vec<RuleSignature>,
    /// Every function name (private and anonymous ones included) to the file defining it.
    files: HashMap<String, String>,
    limits: RuleLimits,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSet")
            .field("functions", &self.functions)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for RuleSet {
    /// An empty rule set with the default limits.
    fn default() -> Self {
        RuleSet::from_sources(&[]).expect("an empty rule set always compiles")
    }
}

impl RuleSet {
    /// Compiles every `*.rhai` file of `dir` (not its sub-folders), in file-name order, with the
    /// default limits. A missing folder is an empty rule set.
    pub fn load_dir(dir: &Path) -> Result<RuleSet, RuleError> {
        RuleSet::load_dir_with_limits(dir, RuleLimits::default())
    }

    /// [`RuleSet::load_dir`] with explicit limits.
    pub fn load_dir_with_limits(dir: &Path, limits: RuleLimits) -> Result<RuleSet, RuleError> {
        let io = |path: &Path, err: std::io::Error| RuleError::Io {
            path: path.display().to_string(),
            message: err.to_string(),
        };
        if !dir.exists() {
            return RuleSet::from_sources_with_limits(&[], limits);
        }
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|err| io(dir, err))? {
            let path = entry.map_err(|err| io(dir, err))?.path();
            if path.is_file() && path.extension().is_some_and(|ext| ext == "rhai") {
                paths.push(path);
            }
        }
        paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let source = std::fs::read_to_string(&path).map_err(|err| io(&path, err))?;
            files.push((path.display().to_string(), source));
        }
        RuleSet::from_sources_with_limits(&files, limits)
    }

    /// Compiles `(file name, source)` pairs with the default limits. File names are only used
    /// in error messages and [`RuleSignature::file`].
    pub fn from_sources(files: &[(String, String)]) -> Result<RuleSet, RuleError> {
        RuleSet::from_sources_with_limits(files, RuleLimits::default())
    }

    /// [`RuleSet::from_sources`] with explicit limits: the first problem of
    /// [`RuleSet::check_sources_with_limits`], if any.
    pub fn from_sources_with_limits(
        files: &[(String, String)],
        limits: RuleLimits,
    ) -> Result<RuleSet, RuleError> {
        let (set, mut problems) = RuleSet::check_sources_with_limits(files, limits);
        match set {
            Some(set) => Ok(set),
            None => Err(problems.remove(0)),
        }
    }

    /// Compiles every file and reports **every** problem (each file that does not compile, each
    /// function defined in a second file), in file order; the set only when there is none.
    /// The functions of the files that compiled are still listed by the returned problems'
    /// absence: use [`RuleSet::functions_of`] to describe a set that failed.
    pub fn check_sources_with_limits(
        files: &[(String, String)],
        limits: RuleLimits,
    ) -> (Option<RuleSet>, Vec<RuleError>) {
        let engine = sandbox::build_engine(&limits);
        let mut merged = AST::empty();
        let mut functions = Vec::new();
        let mut files_by_name: HashMap<String, String> = HashMap::new();
        let mut problems = Vec::new();

        for (file, source) in files {
            let mut ast = match engine.compile(source) {
                Ok(ast) => ast,
                Err(err) => {
                    problems.push(convert::compile_error(file, &err));
                    continue;
                }
            };
            ast.set_source(file.as_str());
            if let Some(position) = sandbox::first_top_level_statement(&ast) {
                problems.push(RuleError::Compile {
                    file: file.clone(),
                    line: position.line().unwrap_or(0),
                    column: position.position().unwrap_or(0),
                    message: "a rules file may only define functions: move this statement into a \
                              function"
                        .to_string(),
                    forbidden: None,
                });
                continue;
            }
            let mut defined_here: Vec<&str> = Vec::new();
            let mut duplicate = false;
            for function in ast.iter_functions() {
                let name = function.name;
                if sandbox::is_anonymous(name) {
                    files_by_name
                        .entry(name.to_string())
                        .or_insert_with(|| file.clone());
                    continue;
                }
                // Overloads within one file are rhai's business; a name seen in an earlier file
                // is a duplicate.
                let earlier = if defined_here.contains(&name) {
                    None
                } else {
                    files_by_name.get(name)
                };
                if let Some(first) = earlier {
                    problems.push(RuleError::Duplicate {
                        name: name.to_string(),
                        first: first.clone(),
                        second: file.clone(),
                    });
                    duplicate = true;
                    continue;
                }
                defined_here.push(name);
                files_by_name.insert(name.to_string(), file.clone());
                if !function.access.is_private() {
                    functions.push(RuleSignature {
                        name: name.to_string(),
                        params: function.params.len(),
                        file: file.clone(),
                    });
                }
            }
            if !duplicate {
                merged = merged.merge(&ast);
            }
        }
        functions.sort();
        if !problems.is_empty() {
            return (None, problems);
        }
        let set = RuleSet {
            engine,
            ast: merged,
            functions,
            files: files_by_name,
            limits,
        };
        (Some(set), problems)
    }

    /// The public functions the files that compile define (first definition of each name
    /// wins), whatever the problems of the others: what a checker may still rely on.
    pub fn functions_of(files: &[(String, String)]) -> Vec<RuleSignature> {
        let engine = sandbox::build_engine(&RuleLimits::default());
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut out = Vec::new();
        for (file, source) in files {
            let Ok(ast) = engine.compile(source) else {
                continue;
            };
            for function in ast.iter_functions() {
                let name = function.name;
                if sandbox::is_anonymous(name) {
                    continue;
                }
                if seen.get(name).is_some_and(|f| f != file) {
                    continue;
                }
                seen.insert(name.to_string(), file.clone());
                if !function.access.is_private() {
                    out.push(RuleSignature {
                        name: name.to_string(),
                        params: function.params.len(),
                        file: file.clone(),
                    });
                }
            }
        }
        out.sort();
        out
    }

    /// The public functions of the set, sorted by name then parameter count; a function called
    /// as `rule("name", a, b)` must appear with `params == 4`. `private fn` helpers are left out:
    /// `rule()` cannot call them.
    pub fn functions(&self) -> Vec<RuleSignature> {
        self.functions.clone()
    }

    /// Whether the set has no public function.
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }

    /// The limits every call of this set runs under.
    pub fn limits(&self) -> &RuleLimits {
        &self.limits
    }

    /// Runs `name(invoice, customer, args…)` under the sandbox. Never panics: every failure,
    /// including a budget overrun or a result that is not a boolean or a number, is an `Err`.
    pub fn call(
        &self,
        name: &str,
        invoice: &RuleInvoice,
        customer: &Customer,
        args: &[RuleArg],
    ) -> Result<RuleValue, RuleError> {
        let params = 2 + args.len();
        let arities: Vec<&RuleSignature> =
            self.functions.iter().filter(|f| f.name == name).collect();
        if arities.is_empty() {
            return Err(RuleError::Unknown {
                name: name.to_string(),
                suggestion: relance_dsl::suggest::closest(
                    name,
                    self.functions.iter().map(|f| f.name.as_str()),
                )
                .map(String::from),
            });
        }
        if !arities.iter().any(|f| f.params == params) {
            return Err(RuleError::Arity {
                name: name.to_string(),
                file: arities[0].file.clone(),
                expected: arities.iter().map(|f| f.params).collect(),
                got: params,
            });
        }

        let mut values = Vec::with_capacity(params);
        values.push(convert::invoice_map(invoice));
        values.push(convert::customer_map(customer, invoice));
        values.extend(args.iter().map(convert::arg_value));

        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _deadline = sandbox::Deadline::start(self.limits.max_duration);
            let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
            self.engine.call_fn_with_options::<Dynamic>(
                options,
                &mut Scope::new(),
                &self.ast,
                name,
                values,
            )
        }));
        match outcome {
            Ok(Ok(value)) => convert::rule_value(name, value),
            Ok(Err(err)) => Err(self.runtime_error(name, *err)),
            Err(_) => Err(RuleError::Runtime {
                name: name.to_string(),
                message: "internal error in the rule engine".to_string(),
                file: arities[0].file.clone(),
                line: None,
                column: None,
            }),
        }
    }

    /// Turns a rhai error into a [`RuleError`], locating it in the innermost failing function.
    fn runtime_error(&self, name: &str, err: EvalAltResult) -> RuleError {
        let mut function = name.to_string();
        let mut current = err;
        while let EvalAltResult::ErrorInFunctionCall(callee, _, inner, _) = current {
            function = callee;
            current = *inner;
        }
        let budget = match &current {
            EvalAltResult::ErrorTooManyOperations(_) => {
                Some(RuleBudget::Operations(self.limits.max_operations))
            }
            EvalAltResult::ErrorStackOverflow(_) => {
                Some(RuleBudget::CallLevels(self.limits.max_call_levels))
            }
            EvalAltResult::ErrorTooManyVariables(_) => {
                Some(RuleBudget::Variables(self.limits.max_variables))
            }
            EvalAltResult::ErrorTerminated(..) => Some(RuleBudget::Time(self.limits.max_duration)),
            EvalAltResult::ErrorDataTooLarge(what, _) => Some(if what.contains("array") {
                RuleBudget::ArraySize(self.limits.max_array_size)
            } else if what.contains("map") {
                RuleBudget::MapSize(self.limits.max_map_size)
            } else {
                RuleBudget::StringSize(self.limits.max_string_size)
            }),
            _ => None,
        };
        if let Some(which) = budget {
            return RuleError::Budget {
                name: name.to_string(),
                which,
            };
        }
        let position = current.position();
        let mut message = match &mut current {
            EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
            other => other.clear_position().to_string(),
        };
        if function != name && !sandbox::is_anonymous(&function) {
            message = format!("{message} (in `{function}`)");
        }
        let file = self
            .files
            .get(&function)
            .or_else(|| self.files.get(name))
            .cloned()
            .unwrap_or_default();
        RuleError::Runtime {
            name: name.to_string(),
            message,
            file,
            line: position.line(),
            column: position.position(),
        }
    }
}
