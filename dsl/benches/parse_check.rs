//! Parse and check throughput on generated scenario files of 1k, 10k and 100k lines.
//!
//! `cargo bench -p relance-dsl --bench parse_check` prints divan's table; lines per second is
//! lines / median time. The generated file mixes every kind of construct (settings, steps with
//! guards and expressions, handlers, a policy and test blocks) so no single rule dominates.

use relance_dsl::{SetContext, SourceFile, check_set, syntax};

fn main() {
    divan::main();
}

/// A file of about `lines` lines: scenarios of 40 lines each, then one policy.
pub fn generate(lines: usize) -> String {
    let mut out = String::with_capacity(lines * 40);
    let scenarios = (lines / 40).max(1);
    for i in 0..scenarios {
        out.push_str(&format!(
            r#"# Scenario {i}: standard collection with guards and handlers
scenario s{i} {{
  title "Scenario {i}"
  applies when customer.segment == "b2b" and customer.risk_score < {r}
  group by customer
  tolerance 5 EUR
  promise grace 2 days

  step preventive at due - 5 days {{
    skip when invoice.amount < 1000 EUR or customer.segment in ["b2c", "public"]
    email "preventive" to accounting
  }}
  step reminder-1 at due + 3 days {{
    email "reminder-1" to accounting cc sales
  }}
  step reminder-2 at reminder-1 + 10 business days {{
    if invoice.outstanding > customer.average_invoice * 3 {{
      call accounting assign collector
    }} else {{
      email "reminder-2" to accounting
    }}
  }}
  step notice at due + 40 days required {{
    if customer.risk_score >= 80 or rule("large_exposure", 3) {{ goto litigation }}
    letter "formal-notice" to legal registered
    charge indemnity
    charge late-interest
  }}
  step litigation at notice + 15 days {{
    escalate agency "default"
  }}

  on dispute opened {{ pause task "Resolve dispute" assign sales }}
  on dispute resolved {{ resume after 2 days }}
  on promise made {{ wait until promise.date + 2 days }}
  on promise broken {{ goto reminder-2 }}
}}
"#,
            r = i % 100
        ));
    }
    out.push_str("policy default {\n");
    for i in 0..scenarios.min(50) {
        out.push_str(&format!(
            "  use s{i} when customer.risk_score >= {}\n",
            i % 100
        ));
    }
    out.push_str("  use s0 otherwise\n}\n");
    out
}

#[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 20)]
fn parse_and_check(bencher: divan::Bencher, lines: usize) {
    let text = generate(lines);
    let counted = text.lines().count();
    bencher
        .counter(divan::counter::ItemsCount::new(counted))
        .bench(|| {
            let files = vec![SourceFile::new("bench.relance", text.as_str())];
            let diags = check_set(&files, &SetContext::default());
            assert!(
                diags[0].iter().all(|d| !d.is_error()),
                "{:?}",
                diags[0].first()
            );
            diags
        });
}

#[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 20)]
fn parse_only(bencher: divan::Bencher, lines: usize) {
    let text = generate(lines);
    let counted = text.lines().count();
    bencher
        .counter(divan::counter::ItemsCount::new(counted))
        .bench(|| syntax::parse(&text));
}
