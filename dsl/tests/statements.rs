//! Keeps the statement table `schema::STATEMENTS` (which statement may stand in a step, which in
//! a handler) true to the grammar and to the checker:
//!
//! - its phrases are exactly the starters of the grammar's `statement` rule (`relance.pest`);
//! - each statement, parsed from a sample, gives its phrase through `StmtKind::keywords`;
//! - the checker refuses it (E0113, with the table's reason) in exactly the bodies the table
//!   says, and accepts it cleanly elsewhere.
//!
//! When a test here fails after adding a statement, follow `docs/ADDING_A_STATEMENT.md`.

use relance_dsl::schema::{self, Body};
use relance_dsl::syntax::ast::{Item, MemberKind, Stmt};
use relance_dsl::syntax::{grammar, parse};
use relance_dsl::{Code, SetContext, SourceFile, check_set};

/// One valid statement for each entry of `schema::STATEMENTS`.
const SAMPLES: &[(&str, &str)] = &[
    ("skip when", "skip when invoice.amount > 100 EUR"),
    ("stop when", "stop when invoice.amount > 100 EUR"),
    ("stop", "stop \"paid\""),
    ("if", "if invoice.amount > 100 EUR { pause }"),
    ("goto", "goto a"),
    ("pause", "pause"),
    ("resume", "resume after 2 days"),
    ("wait until", "wait until today + 3 days"),
    ("email", "email \"reminder\" to accounting"),
    ("sms", "sms \"reminder\" to accounting"),
    ("letter", "letter \"notice\" to legal registered"),
    ("call", "call accounting assign collector"),
    ("task", "task \"check the file\" assign collector"),
    ("webhook", "webhook \"erp\""),
    ("escalate", "escalate litigation"),
    ("alert", "alert \"large invoice\" to credit-manager"),
    ("block deliveries", "block deliveries"),
    ("unblock deliveries", "unblock deliveries"),
    ("charge", "charge indemnity"),
    ("tag", "tag \"watch\""),
];

#[test]
fn the_statement_table_lists_exactly_the_grammars_statements() {
    let grammar = grammar::starters("statement");
    let table: Vec<&str> = schema::STATEMENTS.iter().map(|(k, _)| *k).collect();
    let mut problems = Vec::new();
    for s in &grammar {
        if !table.contains(&s.as_str()) {
            problems.push(format!(
                "the grammar (dsl/src/syntax/relance.pest) has the statement `{s}`, which \
                 schema::STATEMENTS (dsl/src/schema.rs) lacks: add it, with the body the checker \
                 refuses it in"
            ));
        }
    }
    for s in &table {
        if !grammar.iter().any(|g| g == s) {
            problems.push(format!(
                "schema::STATEMENTS (dsl/src/schema.rs) lists `{s}`, which starts no statement of \
                 the grammar (the `statement` rule of dsl/src/syntax/relance.pest)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The statements of the only step (or handler) of the only scenario of `source`.
fn body_of(source: &str) -> Vec<Stmt> {
    let parsed = parse(source);
    assert!(
        parsed.diagnostics.is_empty(),
        "{source}\n{:?}",
        parsed.diagnostics
    );
    let Some(Item::Scenario(s)) = parsed.file.items.first() else {
        panic!("no scenario in {source}")
    };
    s.members
        .iter()
        .find_map(|m| match &m.kind {
            MemberKind::Handler(h) => Some(h.body.stmts.clone()),
            MemberKind::Step(st) if st.name.name == "b" => Some(st.body.stmts.clone()),
            _ => None,
        })
        .expect("a body")
}

#[test]
fn the_checker_refuses_each_statement_where_the_table_says() {
    let mut problems = Vec::new();
    for (phrase, refused) in schema::STATEMENTS {
        let Some((_, sample)) = SAMPLES.iter().find(|(p, _)| p == phrase) else {
            problems.push(format!(
                "`{phrase}` has no sample in SAMPLES (dsl/tests/statements.rs)"
            ));
            continue;
        };
        for body in [Body::Step, Body::Handler] {
            let wrapper = match body {
                Body::Step => "step b at a + 1 day",
                Body::Handler => "on payment",
            };
            let source = format!(
                "scenario s {{\n  step a at due {{}}\n  {wrapper} {{\n    {sample}\n  }}\n}}\n"
            );
            let stmts = body_of(&source);
            if stmts.len() != 1 || stmts[0].kind.keywords() != *phrase {
                problems.push(format!(
                    "the sample `{sample}` parses as {:?}, not as the one statement `{phrase}` \
                     (StmtKind::keywords, dsl/src/syntax/ast.rs)",
                    stmts.iter().map(|s| s.kind.keywords()).collect::<Vec<_>>()
                ));
                continue;
            }
            let diags = check_set(
                &[SourceFile::new("t.relance", source.as_str())],
                &SetContext::default(),
            )
            .remove(0);
            let want = refused.filter(|(b, _)| *b == body).map(|(_, why)| why);
            let got: Vec<_> = diags.iter().map(|d| (d.code, d.label.as_str())).collect();
            let expected: Vec<_> = want
                .iter()
                .map(|why| (Code::StatementNotAllowed, *why))
                .collect();
            if got != expected {
                problems.push(format!(
                    "`{sample}` in a {body:?}: the checker gives {got:?}, the table says {expected:?}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn statements_in_a_body_leave_out_the_refused_ones() {
    let step: Vec<&str> = schema::statements_in(Body::Step).collect();
    let handler: Vec<&str> = schema::statements_in(Body::Handler).collect();
    assert!(step.contains(&"skip when") && !step.contains(&"resume"));
    assert!(handler.contains(&"resume") && !handler.contains(&"skip when"));
    assert_eq!(step.len(), schema::STATEMENTS.len() - 1);
    assert_eq!(handler.len(), schema::STATEMENTS.len() - 1);
}
