//! Inline checker tests: each case is a source string and the expected diagnostics, one per
//! line as `CODE line:col message`. An empty expectation means the source is clean.
//! Templates and rules are declared as in `tests/cases`: `# templates: …`, `# rules: n/arity`.

use std::collections::BTreeMap;

use relance_dsl::diagnostics::LineIndex;
use relance_dsl::{SetContext, SourceFile, check_set};

fn check(source: &str, expected: &str) {
    let mut ctx = SetContext::default();
    for line in source.lines() {
        if let Some(list) = line.trim().strip_prefix("# templates:") {
            ctx.templates = Some(list.split(',').map(|s| s.trim().to_string()).collect());
        }
        if let Some(list) = line.trim().strip_prefix("# rules:") {
            let rules: BTreeMap<String, usize> = list
                .split(',')
                .filter_map(|r| {
                    r.trim()
                        .split_once('/')
                        .map(|(n, a)| (n.to_string(), a.parse().unwrap()))
                })
                .collect();
            ctx.rules = Some(rules);
        }
    }
    let files = vec![SourceFile::new("t.relance", source)];
    let diags = check_set(&files, &ctx).remove(0);
    let idx = LineIndex::new(source);
    let got: Vec<String> = diags
        .iter()
        .map(|d| {
            let (l, c) = idx.line_col(source, d.span.start);
            format!("{} {l}:{c} {}", d.code, d.message)
        })
        .collect();
    let want: Vec<String> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    assert_eq!(got, want, "\nsource:\n{source}\ngot:\n{}\n", got.join("\n"));
}

const STEP: &str = "step a at due + 1 day { email \"r\" to accounting }";

#[test]
fn clean_scenario_has_no_diagnostics() {
    check(&format!("scenario s {{ {STEP} }}"), "");
}

#[test]
fn keywords_need_a_word_boundary() {
    check(
        "scenario s { stepa x at due {} }",
        "E0001 1:14 expected `title`, `applies`, `group`, `calendar`, `tolerance`, `cadence`, `step`, `on`, `late-interest`, `promise`, `catch`, `payments`, `charges`, `per` or `level`, found `stepa`",
    );
}

#[test]
fn names_with_keywords_inside_are_names() {
    check(
        "scenario step-due { step due-soon at due - 2 days { pause } step call at due-soon + 1 day { call accounting } }",
        "",
    );
}

#[test]
fn syntax_error_in_one_item_keeps_checking_the_others() {
    check(
        "scenario a { step s at due + x {} }\nscenario b { step s at due + 1 day { goto nowhere } }",
        "E0001 1:30 expected a whole number, found `x`\nE0110 2:43 unknown step `nowhere`",
    );
}

#[test]
fn empty_file_and_comment_only_file_are_clean() {
    check("", "");
    check("# nothing here\n", "");
}

#[test]
fn garbage_never_panics() {
    check(
        "}}}{{{",
        "E0001 1:1 expected `scenario`, `policy` or `test`, found `}`",
    );
}

#[test]
fn goto_suggests_the_closest_step() {
    check(
        "scenario s { step notice at due + 40 days { goto litigaton } step litigation at notice + 15 days { escalate litigation } }",
        "E0110 1:50 unknown step `litigaton`",
    );
}

#[test]
fn anchor_on_unknown_step() {
    check(
        "scenario s { step a at b + 1 day { pause } }",
        "E0110 1:24 unknown step `b`",
    );
}

#[test]
fn mutual_anchors_report_the_forward_one_as_a_cycle() {
    check(
        "scenario s { step a at b + 1 day { pause } step b at a + 1 day { pause } }",
        "E0112 1:24 step `a` is part of an anchor cycle\nE0112 1:54 step `b` is part of an anchor cycle",
    );
}

#[test]
fn business_days_and_weeks_parse() {
    check(
        "scenario s { step a at issued + 2 weeks { pause } step b at a + 3 business days required { pause } }",
        "",
    );
}

#[test]
fn money_compared_with_number_is_an_error() {
    check(
        "scenario s { step a at due { skip when invoice.outstanding >= 50 } }",
        "E0140 1:40 cannot compare an amount of money with a number",
    );
}

#[test]
fn money_arithmetic_with_numbers_and_percentages() {
    check(
        "scenario s { step a at due { skip when invoice.amount > customer.average_invoice * 3 or invoice.outstanding < invoice.amount * 5% } }",
        "",
    );
}

#[test]
fn date_arithmetic() {
    check(
        "scenario s { on promise made { wait until promise.date + 2 days } step a at due { skip when today - invoice.due > 30 and invoice.due < 2026-01-01 } }",
        "",
    );
}

#[test]
fn in_lists_need_matching_types() {
    check(
        r#"scenario s { step a at due { skip when customer.segment in ["b2c", "public"] } }"#,
        "",
    );
    check(
        r#"scenario s { step a at due { skip when "vip" in customer.tags } }"#,
        "",
    );
    check(
        r#"scenario s { step a at due { skip when customer.risk_score in ["a"] } }"#,
        "E0140 1:40 `in` compares a number with a list of other things",
    );
    check(
        r#"scenario s { step a at due { skip when customer.segment not in ["b2c", 3] } }"#,
        "E0140 1:72 list items must all have the same type",
    );
}

#[test]
fn mixed_currencies_in_a_list() {
    check(
        "scenario s { step a at due { skip when invoice.amount in [10 EUR, 20 USD] } }",
        "E0141 1:67 mixed currencies: EUR and USD",
    );
}

#[test]
fn unknown_root_gets_help_with_the_closest_path() {
    check(
        "scenario s { step a at due { skip when custmer.risk_score > 3 } }",
        "E0130 1:40 unknown field `custmer.risk_score`",
    );
}

#[test]
fn rules_are_checked_only_when_the_set_has_a_rules_folder() {
    check(
        "scenario s { step a at due { skip when rule(\"anything\", 1) } }",
        "",
    );
    check(
        "# rules: key_account/0\nscenario s { step a at due { skip when rule(\"key_acount\") } }",
        "E0151 2:45 unknown rule `key_acount`",
    );
}

#[test]
fn rule_results_are_booleans_or_numbers() {
    check(
        "scenario s { step a at due { skip when rule(\"score\") > 3 or rule(\"flag\") } }",
        "",
    );
}

#[test]
fn templates_are_checked_only_with_a_templates_folder() {
    check(
        "# templates: r\nscenario s { step a at due { email \"r\" to accounting sms \"r2\" to accounting } }",
        "E0150 2:58 unknown template `r2`",
    );
}

#[test]
fn every_action_parses() {
    check(
        r#"scenario s { step a at due {
            email "t" to accounting, operations cc sales, collector
            sms "t" to main
            letter "t" to legal registered
            letter "t" to legal
            call accounting assign collector
            call operations
            task "Check PO" assign sales
            task "Check PO"
            webhook "erp"
            escalate agency "default"
            escalate agency
            escalate litigation
            alert "Default risk" to credit-manager
            alert "Default risk"
            block deliveries
            unblock deliveries
            charge indemnity
            charge late-interest
            charge 15.50 EUR "Handling fee"
            tag "chased"
        } }"#,
        "",
    );
}

#[test]
fn every_handler_event_is_known() {
    let events = [
        "dispute opened",
        "dispute resolved",
        "promise made",
        "promise kept",
        "promise broken",
        "payment",
        "paid",
        "credit note",
        "write off",
        "risk changed",
        "contact bounced",
        "task outcome",
    ];
    let handlers: String = events
        .iter()
        .map(|e| format!("on {e} {{ pause }}\n"))
        .collect();
    check(&format!("scenario s {{ {STEP}\n{handlers} }}"), "");
}

#[test]
fn handler_statements() {
    check(
        &format!(
            "scenario s {{ {STEP} on dispute resolved {{ resume after 2 days }} on promise broken {{ goto a }} on paid {{ stop \"paid\" }} on payment {{ if invoice.outstanding < 10 EUR {{ stop }} else {{ resume }} }} }}"
        ),
        "",
    );
}

#[test]
fn else_if_chains() {
    check(
        "scenario s { step a at due { if customer.risk_score > 80 { tag \"r\" } else if customer.risk_score > 50 { tag \"m\" } else { tag \"l\" } } }",
        "",
    );
}

#[test]
fn settings() {
    check(
        "scenario s { title \"T\" applies when customer.segment == \"b2b\" group by invoice calendar none tolerance 5 EUR promise grace 3 days step a at due { pause } }",
        "",
    );
    check("scenario s { tolerance 0.5% step a at due { pause } }", "");
    check("scenario s { cadence 5 days step a at due { pause } }", "");
    check("scenario s { cadence 0 days step a at due { pause } }", "");
}

#[test]
fn cadence_with_group_by_invoice_is_warned() {
    check(
        "scenario s {\n  cadence 5 days\n  group by invoice\n  step a at due { pause }\n}",
        "W0174 3:3 `group by invoice` in a scenario with a `cadence`",
    );
    check(
        "scenario s {\n  cadence 5 days\n  group by customer\n  step a at due { pause }\n}",
        "",
    );
}

#[test]
fn policy_rules() {
    check(
        "scenario a { step s at due { pause } }\npolicy p { use a when customer.credit_insured use a otherwise }",
        "",
    );
    check(
        "scenario a { step s at due { pause } }\npolicy p { use a when customer.risk_score }",
        "W0101 2:8 policy `p` has no `otherwise`\nE0142 2:23 this condition is not a boolean",
    );
}

#[test]
fn duplicate_policy_and_test_names() {
    check(
        "scenario a { step s at due { pause } }\npolicy p { use a otherwise }\npolicy p { use a otherwise }\ntest \"t\" { expect snapshot }\ntest \"t\" { expect snapshot }",
        "E0101 3:8 policy `p` is defined twice\nE0101 5:6 test `t` is defined twice",
    );
}

#[test]
fn test_blocks() {
    check(
        r#"scenario a { step s at due { email "r" to accounting } }
test "full" {
  use a
  from 2026-01-01
  until 2026-06-30
  customer ACME { segment "b2b" risk_score 20 credit_insured false tags ["vip"] language "en" payment_terms_days 30 }
  customer "Dupont & fils" { segment b2c }
  invoice F-1 { customer ACME amount 1200 EUR issued 2026-01-01 due 2026-01-31 po_number "PO-7" }
  invoice "2026/002" { customer "Dupont & fils" amount 80.50 EUR issued 2026-01-05 due 2026-02-04 outstanding 40 EUR }
  on 2026-02-05 dispute F-1 "logistics/missing-delivery-note" amount 200 EUR
  on 2026-02-20 resolve F-1
  on 2026-02-21 promise F-1 2026-03-01 600 EUR
  on 2026-02-22 payment F-1 600 EUR
  on 2026-02-23 credit note F-1 100 EUR
  on 2026-02-24 write off "2026/002"
  on 2026-02-25 risk ACME 85
  on 2026-02-26 outcome F-1 "Will pay" promise 2026-03-10
  on 2026-02-27 bounce ACME accounting
  expect {
    2026-01-31 email "r" to accounting for F-1, "2026/002"
    2026-03-12 charge late-interest 12.34 EUR for F-1
  }
}"#,
        "",
    );
}

#[test]
fn test_without_use_needs_a_default() {
    check(
        "scenario a { step s at due { pause } }\nscenario b { step s at due { pause } }\ntest \"t\" { expect snapshot }",
        "E0160 3:6 this test does not say which scenario runs",
    );
}

#[test]
fn strings_with_escapes_and_hashes() {
    check(
        r#"scenario s { title "Say \"hi\" # not a comment" step a at due { task "line\nbreak" } }"#,
        "",
    );
}

#[test]
fn comments_anywhere() {
    check(
        "# head\nscenario s { # after brace\n  step a # between\n at due # x\n + 1 day { pause } # end\n} # tail",
        "",
    );
}

#[test]
fn unicode_in_strings_and_comments_keeps_columns_in_characters() {
    check(
        "# Relance préventive\nscenario s { title \"Échéance\" step a at dü {} }",
        "E0001 2:42 expected `required`, `repeat`, `+` or `-` and a duration, `end of month` or `on day N` or a block in braces, found `ü`",
    );
}

// ----- issue 16: fewer false and missing diagnostics ------------------------------------------

/// The diagnostics of a one-file set, for tests that look at more than the message.
fn diagnostics(source: &str) -> Vec<relance_dsl::Diagnostic> {
    let files = vec![SourceFile::new("t.relance", source)];
    check_set(&files, &SetContext::default()).remove(0)
}

#[test]
fn a_step_dated_before_a_step_above_it_is_a_warning() {
    check(
        "scenario s {\n  step later at due + 10 days { email \"r\" to accounting }\n  step earlier at due + 5 days { email \"r\" to accounting }\n}",
        "W0111 3:8 step `earlier` is dated before step `later`, written above it",
    );
    // Weeks and days compare; a step anchored on the step above never comes before it.
    check(
        "scenario s {\n  step a at due + 2 weeks { pause }\n  step b at due + 13 days { pause }\n  step c at a + 1 day { pause }\n}",
        "W0111 3:8 step `b` is dated before step `a`, written above it",
    );
    // Business days may stretch: `+ 3 business days` may be as late as `+ 5 days`.
    check(
        "scenario s {\n  step a at due + 3 business days { pause }\n  step b at due + 4 days { pause }\n}",
        "",
    );
    // In date order, or on different bases (due, issued): no warning.
    check(
        "scenario s {\n  step a at issued + 40 days { pause }\n  step b at due + 5 days { pause }\n  step c at due + 5 days { pause }\n}",
        "",
    );
}

#[test]
fn skip_when_after_an_action_is_a_warning() {
    check(
        "scenario s {\n  step a at due {\n    email \"r\" to accounting\n    skip when invoice.amount < 100 EUR\n  }\n}",
        "W0113 4:5 `skip when` comes after an action",
    );
    // At the top, or after other guards: fine.
    check(
        "scenario s {\n  step a at due {\n    stop when customer.segment == \"public\"\n    skip when invoice.amount < 100 EUR\n    email \"r\" to accounting\n  }\n}",
        "",
    );
    // An action inside an `if` above counts too.
    check(
        "scenario s {\n  step a at due {\n    if customer.risk_score > 50 { task \"look\" assign collector }\n    skip when invoice.amount < 100 EUR\n  }\n}",
        "W0113 4:5 `skip when` comes after an action",
    );
}

#[test]
fn indemnity_for_consumers_is_a_warning() {
    // Its `applies when` admits consumers.
    check(
        "scenario s {\n  applies when invoice.amount > 100 EUR\n  step a at due + 30 days { charge indemnity }\n}",
        "W0171 3:29 `charge indemnity` in a scenario that applies to consumers",
    );
    // Chosen for consumers by the policy (`otherwise` after no rule that takes them away).
    check(
        "scenario s {\n  step a at due + 30 days { charge late-interest }\n}\npolicy default {\n  use s otherwise\n}",
        "W0171 2:29 `charge late-interest` in a scenario that applies to consumers",
    );
    // Consumers excluded: by `applies when`, or by the policy.
    check(
        "scenario s {\n  applies when customer.segment != \"b2c\"\n  step a at due + 30 days { charge indemnity }\n}",
        "",
    );
    check(
        "scenario s {\n  step a at due + 30 days { charge indemnity }\n}\nscenario c {\n  step a at due { pause }\n}\npolicy default {\n  use c when customer.segment == \"b2c\"\n  use s when customer.credit_insured and customer.segment in [\"b2b\", \"public\"]\n  use s otherwise\n}",
        "",
    );
}

#[test]
fn a_misspelt_field_suggests_the_field_it_starts() {
    let d = diagnostics("scenario s { step a at due { skip when customer.risk > 50 } }");
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        d[0].help.as_deref(),
        Some("did you mean `customer.risk_score`?")
    );
}

#[test]
fn a_missing_currency_points_at_the_payment() {
    let source = "scenario s { step a at due { pause } }\ntest \"t\" {\n  use s\n  on 2026-02-10 payment F-1 1200\n  expect snapshot\n}\n";
    let d = diagnostics(source);
    assert_eq!(d.len(), 1, "{d:?}");
    let (line, col) = LineIndex::new(source).line_col(source, d[0].span.start);
    assert_eq!((line, col), (4, 29), "{:?}", d[0]);
    assert_eq!(d[0].label, "expected a currency code (`EUR`) after this");
}
/// `source` with every suggestion of its diagnostics applied (each at its diagnostic's span,
/// with a "did you mean" help).
fn apply_suggestions(source: &str, ctx: &SetContext) -> String {
    let files = vec![SourceFile::new("t.relance", source)];
    let diags = check_set(&files, ctx).remove(0);
    let mut fixes: Vec<(usize, usize, String)> = diags
        .iter()
        .filter_map(|d| {
            let s = d.suggestion.as_ref()?;
            assert_eq!(s.span, d.span, "{d:?}");
            let help = d.help.as_deref().unwrap_or_default();
            assert!(help.starts_with("did you mean"), "{d:?}");
            Some((s.span.start, s.span.end, s.text.clone()))
        })
        .collect();
    fixes.sort();
    let mut fixed = source.to_string();
    for (start, end, text) in fixes.iter().rev() {
        fixed.replace_range(start..end, text);
    }
    fixed
}

/// Every "did you mean" carries its replacement as data (editors apply it as a quick fix):
/// applying each suggestion to the source gives the intended text, quotes kept for strings.
#[test]
fn did_you_mean_carries_its_replacement() {
    let source = "scenario std {\n  calendar fx\n  step first at due {\n    email \"x\" to accounting\n  }\n  step b at frist + 1 day {\n    skip when invoice.amout > 1 EUR or rule(\"lareg\")\n    email \"reminder-2\" to acounting\n  }\n  on dispute opend { pause }\n}\npolicy p { use stdd otherwise }\n";
    let ctx = SetContext {
        templates: Some(["reminder-1".to_string(), "x".to_string()].into()),
        rules: Some([("large".to_string(), 0)].into()),
        ..SetContext::default()
    };
    assert_eq!(
        apply_suggestions(source, &ctx),
        source
            .replace("fx", "fr")
            .replace("frist", "first")
            .replace("amout", "amount")
            .replace("\"lareg\"", "\"large\"")
            .replace("reminder-2", "reminder-1")
            .replace("acounting", "accounting")
            .replace("opend", "opened")
            .replace("stdd", "std"),
    );
    let typo = "scenario s {\n  step a at due {\n    emial \"x\" to accounting\n  }\n}\n";
    assert_eq!(
        apply_suggestions(typo, &SetContext::default()),
        typo.replace("emial", "email")
    );
}
