//! How long the language server takes to produce diagnostics after a change in a 2,000-line
//! file: runs the server's own pipeline (`Workspace::change`: re-parse the changed part of
//! the file, check the set with the other files' parses cached, convert to LSP diagnostics)
//! 100 times per kind of edit and prints the median (p50) and the 99th percentile; then what
//! an editor asks after each edit besides the diagnostics (semantic tokens, the outline, the
//! quick fixes at the cursor), on the same file.
//!
//! `cargo run --release -p relance-lsp --example lsp_latency` (or without `--release` for
//! the unoptimized figure). `-- --runs N --steps S` changes the number of changes per kind
//! (100) and of steps of the scenario (249, a 2,003-line file): `benches/run --smoke` runs a
//! small one.

use std::time::Instant;

use relance_lsp::{Workspace, semantic, symbols};
use tower_lsp_server::ls_types::{Position, Range, Uri};

/// The number of changes per kind and of steps of the scenario, from `--runs N --steps S`.
fn arguments() -> (usize, usize) {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name} takes a number, not {v}"))
            })
    };
    (value("--runs", 100).max(1), value("--steps", 249).max(2))
}

/// A scenario of `steps` steps, 8 lines each, with conditions, roles, templates, rules,
/// anchors on earlier steps and gotos, then a handler block.
fn big_scenario(steps: usize, variant: usize) -> String {
    let mut s = String::from(
        "# generated\nscenario big {\n  title \"Big — généré\"\n  group by customer\n",
    );
    for i in 0..steps {
        let anchor = if i == 0 {
            "due".to_string()
        } else {
            format!("s{}", i - 1)
        };
        let days = 1 + (i + variant) % 9;
        s.push_str(&format!("  step s{i} at {anchor} + {days} days {{\n"));
        s.push_str(&format!(
            "    skip when invoice.amount < {} EUR or customer.risk_score > 90\n",
            100 + i
        ));
        s.push_str("    if rule(\"large\", 3) and \"vip\" in customer.tags {\n");
        s.push_str(&format!("      goto s{}\n", (i + 1).min(steps - 1)));
        s.push_str("    }\n");
        s.push_str("    email \"reminder\" to accounting, operations cc sales\n");
        s.push_str("    call accounting assign collector\n");
        s.push_str("  }\n");
    }
    s.push_str("  on dispute opened {\n    pause\n  }\n  on dispute resolved {\n    resume after 2 days\n  }\n}\n");
    s
}

/// Times `ws.change` with the texts `edit(1..=RUNS)`, sorted (ms). `version` counts the
/// document versions across calls.
fn measure(
    runs: usize,
    ws: &mut Workspace,
    uri: &Uri,
    version: &mut i32,
    mut edit: impl FnMut(usize) -> String,
) -> Vec<f64> {
    let mut times = Vec::with_capacity(runs);
    for run in 1..=runs {
        let changed = edit(run);
        *version += 1;
        let start = Instant::now();
        let published = ws.change(uri, changed, *version);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(
            !published.is_empty(),
            "the changed document is always published"
        );
    }
    times.sort_by(f64::total_cmp);
    times
}

fn report(what: &str, sorted: &[f64]) {
    let median = sorted[sorted.len() / 2];
    let p99 = sorted[(sorted.len() * 99).div_ceil(100) - 1];
    println!("  {what}: p50 {median:.2} ms, p99 {p99:.2} ms");
}

fn main() {
    let (runs, steps) = arguments();
    let dir = std::env::temp_dir().join(format!("relance-lsp-latency-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("templates")).expect("temp dir");
    std::fs::create_dir_all(dir.join("rules")).expect("temp dir");
    std::fs::write(dir.join("templates/reminder.fr.txt"), "Bonjour").expect("template");
    std::fs::write(
        dir.join("rules/large.rhai"),
        "fn large(invoice, customer, n) { n > 2 }\n",
    )
    .expect("rule");
    std::fs::write(
        dir.join("policy.relance"),
        "policy default {\n  use big otherwise\n}\n",
    )
    .expect("policy");
    let path = dir.join("big.relance");
    let text = big_scenario(steps, 0);
    std::fs::write(&path, &text).expect("scenario");
    let uri = Uri::from_file_path(&path).expect("uri");

    let mut ws = Workspace::new();
    let opened = ws.open(uri.clone(), text.clone(), 0);
    let lines = text.lines().count();
    let diags: usize = opened.iter().map(|p| p.diagnostics.len()).sum();
    println!(
        "{lines}-line file (one scenario of {steps} steps), {diags} diagnostic(s) on open, {runs} changes each:"
    );

    // Typing: one amount changes, in a different step each time (the server re-parses that
    // step only, then checks the whole set).
    let mut version = 0;
    let mut current = text.clone();
    let mut amounts: Vec<usize> = (0..steps).map(|i| 100 + i).collect();
    let typed = measure(runs, &mut ws, &uri, &mut version, |run| {
        let step = (run * 37) % steps;
        current = current.replacen(
            &format!("< {} EUR", amounts[step]),
            &format!("< {} EUR", 1000 + run),
            1,
        );
        amounts[step] = 1000 + run;
        current.clone()
    });
    report("one edit inside a step", &typed);

    // An edit in the scenario's header: the whole scenario (the whole file) is re-parsed.
    let renamed = measure(runs, &mut ws, &uri, &mut version, |run| {
        text.replacen("scenario big {", &format!("scenario big{run} {{"), 1)
    });
    report("renaming the scenario (full re-parse)", &renamed);

    // Typing in a file with a syntax error (an unfinished `goto` in the last step): the
    // parser drops the broken scenario and the whole file is re-parsed at each change.
    let last_goto = format!("      goto s{}\n", steps - 1);
    let broken = text.replacen(&format!("{last_goto}    }}\n    email \"reminder\" to accounting, operations cc sales\n    call accounting assign collector\n  }}\n  on"), "      goto \n    }\n    email \"reminder\" to accounting, operations cc sales\n    call accounting assign collector\n  }\n  on", 1);
    assert_ne!(broken, text, "the last goto was found");
    let mut current = broken.clone();
    // Type `s`, delete it, and so on, after the last `goto ` (the text alternates between a
    // syntax error and an unknown step).
    let at = broken.rfind("goto ").expect("the broken goto") + "goto ".len();
    let typing = measure(runs, &mut ws, &uri, &mut version, |run| {
        if run % 2 == 1 {
            current.insert(at, 's');
        } else {
            current.remove(at);
        }
        current.clone()
    });
    report(
        "typing where a syntax error comes and goes (full re-parse)",
        &typing,
    );

    // After each edit (one amount typed, as above) an editor asks for semantic tokens, the
    // outline and the quick fixes at the cursor: the edit and the three answers, timed together.
    let mut current = text.clone();
    let mut amounts: Vec<usize> = (0..steps).map(|i| 100 + i).collect();
    let mut times = Vec::with_capacity(runs);
    for run in 1..=runs {
        let step = (run * 53) % steps;
        current = current.replacen(
            &format!("< {} EUR", amounts[step]),
            &format!("< {} EUR", 5000 + run),
            1,
        );
        amounts[step] = 5000 + run;
        version += 1;
        let start = Instant::now();
        let published = ws.change(&uri, current.clone(), version);
        let doc = ws.document(&uri).expect("open");
        let tokens = semantic::tokens(doc).len();
        let outline = symbols::document_symbols(doc).len();
        let cursor = Position::new(u32::try_from(step * 8 + 5).unwrap_or(0), 10);
        let fixes = ws.quick_fixes(&uri, Range::new(cursor, cursor)).len();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(
            !published.is_empty() && tokens > 0 && outline == 1,
            "{fixes}"
        );
    }
    times.sort_by(f64::total_cmp);
    report(
        "an edit, then semantic tokens, outline and quick fixes",
        &times,
    );

    let _ = std::fs::remove_dir_all(&dir);
}
