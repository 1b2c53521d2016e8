use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::domain::{Customer, Invoice, Segment};

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a valid date")
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("a valid decimal")
}

fn invoice() -> Invoice {
    Invoice {
        id: "F-1".to_string(),
        customer: "ACME".to_string(),
        amount: dec("1200.00"),
        currency: "EUR".to_string(),
        issued: date("2026-01-01"),
        due: date("2026-01-31"),
        outstanding: None,
        po_number: None,
        payment_terms: None,
        delivered_on: None,
        dunning: Default::default(),
        payment_means: None,
        late_interest_rate: None,
        installments: Vec::new(),
    }
}

fn customer() -> Customer {
    Customer {
        risk_score: 20,
        tags: vec!["key-account".to_string()],
        ..Customer::new("ACME")
    }
}

/// F-1 on 2026-02-10 (10 days late), for a customer owing 4000 over 3 invoices averaging 1000.
fn facts(invoice: &Invoice) -> RuleInvoice<'_> {
    RuleInvoice {
        customer_outstanding: dec("4000.00"),
        customer_open_invoices: 3,
        customer_average_invoice: dec("1000.00"),
        ..RuleInvoice::new(invoice, date("2026-02-10"))
    }
}

fn set(source: &str) -> RuleSet {
    RuleSet::from_sources(&[("test.rhai".to_string(), source.to_string())])
        .unwrap_or_else(|err| panic!("compiles: {err}"))
}

fn set_with(limits: RuleLimits, source: &str) -> RuleSet {
    RuleSet::from_sources_with_limits(&[("test.rhai".to_string(), source.to_string())], limits)
        .unwrap_or_else(|err| panic!("compiles: {err}"))
}

fn compile_error(source: &str) -> RuleError {
    RuleSet::from_sources(&[("test.rhai".to_string(), source.to_string())])
        .expect_err("does not compile")
}

fn call(set: &RuleSet, name: &str, args: &[RuleArg]) -> Result<RuleValue, RuleError> {
    let invoice = invoice();
    set.call(name, &facts(&invoice), &customer(), args)
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests-data/rules")
}

fn runtime_message(result: Result<RuleValue, RuleError>) -> String {
    match result {
        Err(RuleError::Runtime { message, .. }) => message,
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

fn budget(result: Result<RuleValue, RuleError>) -> RuleBudget {
    match result {
        Err(RuleError::Budget { which, .. }) => which,
        other => panic!("expected a budget error, got {other:?}"),
    }
}

// --- values in, values out -----------------------------------------------------------------

#[test]
fn boolean_rule_with_an_extra_argument() {
    let rules = RuleSet::load_dir(&fixtures()).expect("fixtures compile");
    // 4000 > 1000 * 3, but not > 1000 * 5
    assert_eq!(
        call(&rules, "large_exposure", &[RuleArg::Int(3)]),
        Ok(RuleValue::Bool(true))
    );
    assert_eq!(
        call(&rules, "large_exposure", &[RuleArg::Int(5)]),
        Ok(RuleValue::Bool(false))
    );
    assert_eq!(
        call(&rules, "large_exposure", &[RuleArg::Decimal(dec("3.99"))]),
        Ok(RuleValue::Bool(true))
    );
}

#[test]
fn numeric_rule_returns_a_decimal_and_integers_convert() {
    let rules = RuleSet::load_dir(&fixtures()).expect("fixtures compile");
    assert_eq!(
        call(&rules, "exposure_ratio", &[]),
        Ok(RuleValue::Number(dec("4")))
    );
    let rules = set("fn answer(invoice, customer) { 40 + 2 }");
    assert_eq!(
        call(&rules, "answer", &[]),
        Ok(RuleValue::Number(Decimal::from(42)))
    );
}

#[test]
fn rules_read_invoice_and_customer_fields() {
    let rules = RuleSet::load_dir(&fixtures()).expect("fixtures compile");
    // 10 days late, 1200 outstanding
    let overdue = |days: i64, minimum: &str| {
        call(
            &rules,
            "overdue_above",
            &[RuleArg::Int(days), RuleArg::Decimal(dec(minimum))],
        )
    };
    assert_eq!(overdue(5, "1000"), Ok(RuleValue::Bool(true)));
    assert_eq!(overdue(10, "1000"), Ok(RuleValue::Bool(false)));
    assert_eq!(overdue(5, "1200.01"), Ok(RuleValue::Bool(false)));
    assert_eq!(
        call(&rules, "due_by", &[RuleArg::Date(date("2026-01-31"))]),
        Ok(RuleValue::Bool(true))
    );
    assert_eq!(
        call(&rules, "due_by", &[RuleArg::Date(date("2026-01-30"))]),
        Ok(RuleValue::Bool(false))
    );

    assert_eq!(call(&rules, "risky", &[]), Ok(RuleValue::Bool(false)));
    let invoice = invoice();
    let watched = Customer {
        tags: vec!["watch".to_string()],
        ..customer()
    };
    assert_eq!(
        rules.call("risky", &facts(&invoice), &watched, &[]),
        Ok(RuleValue::Bool(true))
    );
    let high = Customer {
        risk_score: 80,
        ..customer()
    };
    assert_eq!(
        rules.call("risky", &facts(&invoice), &high, &[]),
        Ok(RuleValue::Bool(true))
    );
}

#[test]
fn every_documented_field_has_its_type() {
    let rules = set(r#"
        fn check(invoice, customer, when, label, flag) {
            invoice.id == "F-1" && invoice.customer == "ACME"
                && type_of(invoice.amount) == "decimal" && invoice.amount == 1200
                && invoice.currency == "EUR"
                && invoice.issued == "2026-01-01" && invoice.due == "2026-01-31"
                && invoice.today == "2026-02-10" && invoice.due < invoice.today
                && invoice.po_number == () && invoice.outstanding == 1200
                && invoice.days_late == 10
                && customer.id == "ACME" && customer.name == () && customer.segment == "b2b"
                && customer.risk_score == 20 && customer.credit_insured == false
                && customer.tags == ["key-account"] && "key-account" in customer.tags
                && customer.language == "fr" && customer.payment_terms_days == ()
                && customer.scenario == ()
                && customer.outstanding == 4000 && customer.open_invoices == 3
                && customer.average_invoice == 1000
                && !("contacts" in customer)
                && when == "2026-03-01" && label == "x" && flag
        }
    "#);
    let args = [
        RuleArg::Date(date("2026-03-01")),
        RuleArg::Text("x".to_string()),
        RuleArg::Bool(true),
    ];
    assert_eq!(call(&rules, "check", &args), Ok(RuleValue::Bool(true)));

    let rules = set(r#"
        fn check(invoice, customer) {
            invoice.po_number == "PO-7" && customer.name == "Acme SA"
                && customer.segment == "public" && customer.payment_terms_days == 45
                && customer.scenario == "gentle" && customer.credit_insured
        }
    "#);
    let invoice = Invoice {
        po_number: Some("PO-7".to_string()),
        ..invoice()
    };
    let customer = Customer {
        name: Some("Acme SA".to_string()),
        segment: Segment::Public,
        payment_terms_days: Some(45),
        scenario: Some("gentle".to_string()),
        credit_insured: true,
        ..customer()
    };
    assert_eq!(
        rules.call(
            "check",
            &RuleInvoice::new(&invoice, date("2026-02-10")),
            &customer,
            &[]
        ),
        Ok(RuleValue::Bool(true))
    );
}

#[test]
fn rule_invoice_new_derives_the_facts_from_the_invoice() {
    let invoice = Invoice {
        outstanding: Some(dec("700")),
        ..invoice()
    };
    let facts = RuleInvoice::new(&invoice, date("2026-01-26"));
    assert_eq!(facts.outstanding, dec("700"));
    assert_eq!(facts.days_late, -5);
    assert_eq!(facts.customer_outstanding, dec("700"));
    assert_eq!(facts.customer_open_invoices, 1);
    assert_eq!(facts.customer_average_invoice, dec("1200.00"));
}

#[test]
fn no_state_survives_a_call() {
    let rules = set(r#"
        fn mutate(invoice, customer) {
            let before = invoice.amount;
            invoice.amount = 0;
            customer.tags.push("touched");
            before
        }
    "#);
    for _ in 0..3 {
        assert_eq!(
            call(&rules, "mutate", &[]),
            Ok(RuleValue::Number(dec("1200.00")))
        );
    }
}

// --- the rule set --------------------------------------------------------------------------

#[test]
fn load_dir_lists_public_functions_of_rhai_files_only() {
    let rules = RuleSet::load_dir(&fixtures()).expect("fixtures compile");
    let listed: Vec<(String, usize, String)> = rules
        .functions()
        .into_iter()
        .map(|f| {
            let file = PathBuf::from(&f.file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (f.name, f.params, file)
        })
        .collect();
    let expected = [
        ("due_by", 3, "risk.rhai"),
        ("exposure_ratio", 2, "exposure.rhai"),
        ("large_exposure", 3, "exposure.rhai"),
        ("overdue_above", 4, "risk.rhai"),
        ("risky", 2, "risk.rhai"),
    ]
    .map(|(name, params, file)| (name.to_string(), params, file.to_string()));
    assert_eq!(listed, expected);
    assert!(
        rules.functions()[0]
            .file
            .starts_with(fixtures().to_str().unwrap())
    );
    assert_eq!(rules.functions()[3].extra_args(), Some(2));
}

#[test]
fn a_missing_folder_is_an_empty_set() {
    let rules = RuleSet::load_dir(&fixtures().join("no-such-folder")).expect("empty");
    assert!(rules.is_empty());
    assert!(rules.functions().is_empty());
    assert!(RuleSet::default().is_empty());
    assert!(matches!(
        call(&rules, "anything", &[]),
        Err(RuleError::Unknown {
            suggestion: None,
            ..
        })
    ));
}

#[test]
fn compile_errors_name_file_line_and_column() {
    let err = compile_error(
        "fn ok(invoice, customer) { true }\n\nfn broken(invoice, customer) {\n    invoice.amount >\n}\n",
    );
    match err {
        RuleError::Compile {
            file, line, column, ..
        } => {
            assert_eq!(file, "test.rhai");
            assert_eq!((line, column), (5, 1));
        }
        other => panic!("expected a compile error, got {other:?}"),
    }

    let err = compile_error("fn f(invoice, customer) {\n  undeclared > 1\n}");
    assert_eq!(
        err,
        RuleError::Compile {
            file: "test.rhai".to_string(),
            line: 2,
            column: 3,
            message: "Undefined variable: undeclared".to_string(),
            forbidden: None,
        }
    );
    assert_eq!(
        err.to_string(),
        "test.rhai:2:3: Undefined variable: undeclared"
    );
}

#[test]
fn a_second_file_names_itself_in_compile_errors() {
    let err = RuleSet::from_sources(&[
        ("a.rhai".to_string(), "fn a(i, c) { true }".to_string()),
        ("b.rhai".to_string(), "fn b(i, c) { true ".to_string()),
    ])
    .expect_err("b does not compile");
    assert!(
        matches!(err, RuleError::Compile { ref file, .. } if file == "b.rhai"),
        "{err:?}"
    );
}

#[test]
fn top_level_statements_are_rejected() {
    let err = compile_error("fn f(i, c) { true }\n\nconst LIMIT = 3;\n");
    assert!(
        matches!(err, RuleError::Compile { line: 3, column: 1, ref message, .. } if message.contains("only define functions")),
        "{err:?}"
    );
    // Comments and doc comments are fine.
    set("//! about this file\n// a comment\n/// doc\nfn f(i, c) { true }\n/* block */");
}

#[test]
fn a_function_in_two_files_is_an_error_naming_both() {
    let err = RuleSet::from_sources(&[
        ("a.rhai".to_string(), "fn risky(i, c) { true }".to_string()),
        (
            "b.rhai".to_string(),
            "fn other(i, c) { 1 }\nfn risky(i, c, x) { false }".to_string(),
        ),
    ])
    .expect_err("duplicate");
    assert_eq!(
        err,
        RuleError::Duplicate {
            name: "risky".to_string(),
            first: "a.rhai".to_string(),
            second: "b.rhai".to_string(),
        }
    );
    assert_eq!(
        err.to_string(),
        "function `risky` is defined in both a.rhai and b.rhai"
    );

    // Private helpers collide too: the set shares one namespace.
    let err = RuleSet::from_sources(&[
        (
            "a.rhai".to_string(),
            "private fn helper(x) { x }".to_string(),
        ),
        (
            "b.rhai".to_string(),
            "private fn helper(x) { x }".to_string(),
        ),
    ])
    .expect_err("duplicate helper");
    assert!(matches!(err, RuleError::Duplicate { .. }));

    // Overloading by arity inside one file is rhai's business, and allowed.
    let rules = set("fn f(i, c) { 1 }\nfn f(i, c, x) { x }");
    assert_eq!(rules.functions().len(), 2);
    assert_eq!(
        call(&rules, "f", &[RuleArg::Int(7)]),
        Ok(RuleValue::Number(Decimal::from(7)))
    );
}

#[test]
fn rules_can_call_helpers_of_other_files() {
    let rules = RuleSet::from_sources(&[
        (
            "a.rhai".to_string(),
            "fn big(i, c) { is_big(i.amount) }".to_string(),
        ),
        (
            "b.rhai".to_string(),
            "private fn is_big(x) { x > 1000 }".to_string(),
        ),
    ])
    .expect("compiles");
    assert_eq!(call(&rules, "big", &[]), Ok(RuleValue::Bool(true)));
    assert!(
        rules.functions().iter().all(|f| f.name != "is_big"),
        "private helpers are not rules"
    );
    assert!(matches!(
        call(&rules, "is_big", &[]),
        Err(RuleError::Unknown { .. })
    ));
}

#[test]
fn unknown_rules_suggest_a_close_name() {
    let rules = RuleSet::load_dir(&fixtures()).expect("fixtures compile");
    let err = call(&rules, "large_exposur", &[RuleArg::Int(3)]).expect_err("unknown");
    assert_eq!(
        err,
        RuleError::Unknown {
            name: "large_exposur".to_string(),
            suggestion: Some("large_exposure".to_string()),
        }
    );
    assert_eq!(
        err.to_string(),
        "unknown rule `large_exposur` (did you mean `large_exposure`?)"
    );
    assert_eq!(
        call(&rules, "completely_different", &[]),
        Err(RuleError::Unknown {
            name: "completely_different".to_string(),
            suggestion: None,
        })
    );
}

#[test]
fn a_wrong_argument_count_is_an_arity_error() {
    let rules = RuleSet::load_dir(&fixtures()).expect("fixtures compile");
    let err = call(&rules, "large_exposure", &[]).expect_err("missing the factor");
    assert!(
        err.to_string().ends_with(
            "takes 3 parameters (invoice, customer, then the rule's arguments), but was called with 2"
        ),
        "{err}"
    );
    match call(&rules, "large_exposure", &[]) {
        Err(RuleError::Arity {
            name,
            expected,
            got,
            ..
        }) => {
            assert_eq!(name, "large_exposure");
            assert_eq!(expected, vec![3]);
            assert_eq!(got, 2);
        }
        other => panic!("expected an arity error, got {other:?}"),
    }
}

// --- the sandbox ---------------------------------------------------------------------------

/// The default limits without the wall-clock guard, for tests that must not depend on the
/// machine's speed.
fn untimed() -> RuleLimits {
    RuleLimits {
        max_duration: Duration::ZERO,
        ..RuleLimits::default()
    }
}

#[test]
fn a_runaway_loop_runs_out_of_budget_quickly() {
    let rules = set("fn spin(invoice, customer) { loop {} }");
    let start = Instant::now();
    // The operation budget normally trips first; on a very slow machine the time guard may.
    let which = budget(call(&rules, "spin", &[]));
    assert!(
        matches!(which, RuleBudget::Operations(100_000) | RuleBudget::Time(_)),
        "{which:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );

    let rules = set_with(untimed(), "fn spin(invoice, customer) { loop {} }");
    let err = call(&rules, "spin", &[]).expect_err("runs out of operations");
    assert_eq!(
        err,
        RuleError::Budget {
            name: "spin".to_string(),
            which: RuleBudget::Operations(100_000),
        }
    );
    assert_eq!(
        err.to_string(),
        "rule `spin` exceeded its operation budget (100000 operations)"
    );
}

#[test]
fn the_wall_clock_guard_stops_a_rule_without_an_operation_budget() {
    let limits = RuleLimits {
        max_operations: 0,
        max_duration: Duration::from_millis(20),
        ..RuleLimits::default()
    };
    let rules = set_with(limits, "fn spin(invoice, customer) { loop {} }");
    let start = Instant::now();
    assert_eq!(
        budget(call(&rules, "spin", &[])),
        RuleBudget::Time(Duration::from_millis(20))
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // The guard is disarmed after the call: a quick rule on the same thread is unaffected.
    let rules = set_with(limits, "fn quick(invoice, customer) { true }");
    assert_eq!(call(&rules, "quick", &[]), Ok(RuleValue::Bool(true)));
}

#[test]
fn deep_recursion_hits_the_call_depth() {
    let rules = set("fn deep(invoice, customer) { down(0) }\nfn down(n) { down(n + 1) }");
    assert_eq!(
        budget(call(&rules, "deep", &[])),
        RuleBudget::CallLevels(32)
    );
    let rules = set("fn deep(invoice, customer) { deep(invoice, customer) }");
    assert_eq!(
        budget(call(&rules, "deep", &[])),
        RuleBudget::CallLevels(32)
    );
}

#[test]
fn deeply_nested_expressions_do_not_compile() {
    let nested = format!("fn f(i, c) {{ {}1{} }}", "(".repeat(100), ")".repeat(100));
    assert!(matches!(compile_error(&nested), RuleError::Compile { .. }));
}

#[test]
fn huge_values_hit_the_size_limits() {
    let set = |source| set_with(untimed(), source);
    let rules = set(r#"fn grow(invoice, customer) { let s = "x"; loop { s += s; } }"#);
    assert_eq!(
        budget(call(&rules, "grow", &[])),
        RuleBudget::StringSize(10_000)
    );
    let rules = set(r#"fn padded(invoice, customer) { "x".pad(1000000, "y"); true }"#);
    assert_eq!(
        budget(call(&rules, "padded", &[])),
        RuleBudget::StringSize(10_000)
    );
    let rules = set("fn grow(invoice, customer) { let a = [1]; loop { a += a; } }");
    assert_eq!(
        budget(call(&rules, "grow", &[])),
        RuleBudget::ArraySize(1_000)
    );
    // rhai checks a map's size when the map is used, not at each `m[key] = value` insertion.
    let rules = set(
        "fn grow(invoice, customer) { let m = #{}; for i in 0..1001 { m[`k${i}`] = i; } m.len() }",
    );
    assert_eq!(
        budget(call(&rules, "grow", &[])),
        RuleBudget::MapSize(1_000)
    );
}

#[test]
fn eval_print_and_import_are_not_available() {
    for (source, keyword) in [
        (r#"fn f(i, c) { eval("1") }"#, "eval"),
        (r#"fn f(i, c) { print("hello"); true }"#, "print"),
        (r#"fn f(i, c) { debug("hello"); true }"#, "debug"),
        ("import \"x\" as y;\nfn f(i, c) { true }", "import"),
        ("fn f(i, c) { import \"x\" as y; true }", "import"),
    ] {
        match compile_error(source) {
            RuleError::Compile { message, .. } => {
                assert!(
                    message.contains(&format!("`{keyword}`")),
                    "{source}: {message}"
                );
                assert!(message.contains("not available in rules"), "{message}");
            }
            other => panic!("{source}: expected a compile error, got {other:?}"),
        }
    }
    // Reaching them through a function pointer does not work either.
    let rules = set(r#"fn f(i, c) { Fn("eval").call("1") }"#);
    assert!(matches!(
        call(&rules, "f", &[]),
        Err(RuleError::Runtime { .. })
    ));
}

#[test]
fn blocking_and_clock_functions_are_not_registered() {
    for source in [
        "fn f(i, c) { sleep(1); true }",
        "fn f(i, c) { timestamp(); true }",
        "fn f(i, c) { exit(1) }",
        r#"fn f(i, c) { parse_json("{}"); true }"#,
    ] {
        let rules = set(source);
        let message = runtime_message(call(&rules, "f", &[]));
        assert!(
            message.contains("Function not found"),
            "{source}: {message}"
        );
    }
}

#[test]
fn mismatched_comparisons_are_errors_not_false() {
    for (condition, expected) in [
        (
            r#"invoice.amount > "1000""#,
            "cannot compare a decimal with a string using `>`",
        ),
        (
            r#"customer.risk_score == "high""#,
            "cannot compare an integer with a string using `==`",
        ),
        (
            r#"customer.risk_score != "high""#,
            "cannot compare an integer with a string using `!=`",
        ),
        (
            "customer.segment == 1",
            "cannot compare a string with an integer using `==`",
        ),
        (
            "customer.credit_insured == 0",
            "cannot compare a boolean with an integer using `==`",
        ),
        (
            r#"invoice.due < 20260131"#,
            "cannot compare a string with an integer using `<`",
        ),
        (
            "customer.credit_insured < true",
            "cannot order a boolean values with `<`",
        ),
        (
            "invoice.po_number < 3",
            "cannot compare () (nothing) with an integer using `<`",
        ),
        (
            r#"1 == "1""#,
            "cannot compare an integer with a string using `==`",
        ),
        (
            "customer.tags == 1",
            "cannot compare an array with an integer using `==`",
        ),
        (
            "1 in customer.tags",
            "cannot compare a string with an integer using `==`",
        ),
    ] {
        let rules = set(&format!("fn f(invoice, customer) {{ {condition} }}"));
        let message = runtime_message(call(&rules, "f", &[]));
        assert!(message.contains(expected), "{condition}: {message}");
    }
}

#[test]
fn well_typed_comparisons_work() {
    for (condition, expected) in [
        ("invoice.amount > 1000", true),
        ("invoice.amount == 1200", true),
        ("1200 == invoice.amount", true),
        ("invoice.amount >= 1200.01", false),
        ("invoice.amount != 1200.00", false),
        ("customer.risk_score < 21", true),
        (r#"customer.segment == "b2b""#, true),
        (r#"customer.segment != "b2c""#, true),
        (r#"invoice.due < "2026-02-01""#, true),
        ("customer.credit_insured == false", true),
        ("customer.credit_insured != true", true),
        ("invoice.po_number == ()", true),
        (r#"invoice.po_number != "PO-1""#, true),
        (r#""key-account" in customer.tags"#, true),
        (r#"customer.tags.contains("vip")"#, false),
        (r#"customer.tags == ["key-account"]"#, true),
        (r#"customer.tags != ["key-account"]"#, false),
        ("#{a: 1} == #{a: 1}", true),
        ("'a' < 'b'", true),
        ("min(customer.risk_score, 5) == 5", true),
        ("max(invoice.amount, 2000) == 2000", true),
        ("[3, 1, 2].filter(|x| x > 1).len() == 2", true),
    ] {
        let rules = set(&format!("fn f(invoice, customer) {{ {condition} }}"));
        assert_eq!(
            call(&rules, "f", &[]),
            Ok(RuleValue::Bool(expected)),
            "{condition}"
        );
    }
}

#[test]
fn a_misspelt_field_is_an_error() {
    let rules = set("fn f(invoice, customer) { customer.risk_scor > 50 }");
    let message = runtime_message(call(&rules, "f", &[]));
    assert!(message.contains("risk_scor"), "{message}");
}

#[test]
fn runtime_errors_locate_the_failing_function() {
    let rules = RuleSet::from_sources(&[
        (
            "a.rhai".to_string(),
            "fn ratio(invoice, customer, by) {\n  divide(invoice.amount, by)\n}".to_string(),
        ),
        (
            "b.rhai".to_string(),
            "private fn divide(x, y) {\n  if y == 0 {\n    throw \"division by zero\";\n  }\n  x / y\n}"
                .to_string(),
        ),
    ])
    .expect("compiles");
    let err = call(&rules, "ratio", &[RuleArg::Int(0)]).expect_err("throws");
    assert_eq!(
        err,
        RuleError::Runtime {
            name: "ratio".to_string(),
            message: "division by zero (in `divide`)".to_string(),
            file: "b.rhai".to_string(),
            line: Some(3),
            column: Some(5),
        }
    );
    assert_eq!(
        err.to_string(),
        "rule `ratio` failed at b.rhai:3:5: division by zero (in `divide`)"
    );
    assert_eq!(
        call(&rules, "ratio", &[RuleArg::Int(4)]),
        Ok(RuleValue::Number(dec("300")))
    );

    let rules = set("fn f(invoice, customer) {\n  invoice.amount / 0\n}");
    let err = call(&rules, "f", &[]).expect_err("division by zero");
    assert!(
        matches!(err, RuleError::Runtime { ref file, line: Some(2), .. } if file == "test.rhai"),
        "{err:?}"
    );
}

#[test]
fn returning_something_else_than_a_boolean_or_a_number_is_wrong_type() {
    for (body, got) in [
        (r#""yes""#, "a string"),
        ("", "() (nothing)"),
        ("[true]", "an array"),
        ("invoice", "an object map"),
    ] {
        let rules = set(&format!("fn f(invoice, customer) {{ {body} }}"));
        assert_eq!(
            call(&rules, "f", &[]),
            Err(RuleError::WrongType {
                name: "f".to_string(),
                got: got.to_string(),
            }),
            "{body}"
        );
    }
    let rules = set(r#"fn f(invoice, customer) { "yes" }"#);
    assert_eq!(
        call(&rules, "f", &[]).unwrap_err().to_string(),
        "rule `f` returned a string, expected a boolean or a number"
    );
}

#[test]
fn the_compiled_set_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RuleSet>();
    assert_send_sync::<RuleError>();

    let rules = Arc::new(RuleSet::load_dir(&fixtures()).expect("fixtures compile"));
    let spin = Arc::new(set("fn spin(invoice, customer) { loop {} }"));
    let handles: Vec<_> = (0..8i64)
        .map(|thread| {
            let rules = Arc::clone(&rules);
            let spin = Arc::clone(&spin);
            std::thread::spawn(move || {
                let invoice = invoice();
                for round in 0..50i64 {
                    let factor = (thread + round) % 6;
                    let expected = Decimal::from(4000) > Decimal::from(1000 * factor);
                    assert_eq!(
                        rules.call(
                            "large_exposure",
                            &facts(&invoice),
                            &customer(),
                            &[RuleArg::Int(factor)]
                        ),
                        Ok(RuleValue::Bool(expected))
                    );
                }
                // A runaway rule on one thread does not disturb the others.
                assert!(matches!(
                    spin.call("spin", &facts(&invoice), &customer(), &[]),
                    Err(RuleError::Budget { .. })
                ));
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("no panic");
    }
}

#[test]
fn check_sources_reports_every_problem_at_once() {
    let (set, problems) = RuleSet::check_sources_with_limits(
        &[
            ("a.rhai".to_string(), "fn a(i, c) { true ".to_string()),
            (
                "b.rhai".to_string(),
                "fn b(i, c) { print(1); true }".to_string(),
            ),
            ("c.rhai".to_string(), "fn d(i, c) { true }".to_string()),
            ("d.rhai".to_string(), "fn d(i, c) { false }".to_string()),
        ],
        RuleLimits::default(),
    );
    assert!(set.is_none());
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        matches!(&problems[0], RuleError::Compile { file, forbidden: None, .. } if file == "a.rhai")
    );
    assert!(
        matches!(&problems[1], RuleError::Compile { file, forbidden: Some(k), .. } if file == "b.rhai" && k == "print")
    );
    assert!(matches!(&problems[2], RuleError::Duplicate { name, .. } if name == "d"));
}
