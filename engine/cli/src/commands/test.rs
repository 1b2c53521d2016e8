//! `relance test`: run the `test` blocks of sets; the last line is `N passed, N failed`. A
//! message whose template is not in its customer's language is printed as a `note` line.

use std::path::PathBuf;

use relance_dsl::diagnostics::render;

use super::exit;
use relance_core::interest::RateTable;
use relance_core::scenario_set;
use relance_sim::testing::{self, SnapshotMode, Verdict};

pub fn run(paths: &[PathBuf], update: bool) -> u8 {
    let mode = SnapshotMode {
        update,
        ci: std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0"),
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in paths {
        let set = match scenario_set::load(path) {
            Ok(set) => set,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        };
        let compiled = set.compile();
        let Some(ir) = compiled.set.as_ref() else {
            for (file, diags) in set.files.iter().zip(&compiled.diagnostics) {
                eprint!("{}", render(diags, &file.path, &file.text, super::color()));
            }
            eprintln!(
                "{}: the set does not compile; its tests cannot run",
                path.display()
            );
            failed += 1;
            continue;
        };
        let shared = testing::shared(ir, &set.rules, RateTable::builtin());
        let templates = super::SetTemplates::read(&set.root);
        let note = |lang: &str, t: &str| templates.note(lang, t);
        for tc in &ir.tests {
            let (verdict, notes) = testing::run_noting(shared, tc, mode, &note);
            for n in &notes {
                println!("note    {} ({}:{}): {n}", tc.name, tc.file, tc.line);
            }
            match verdict {
                Verdict::Passed => {
                    passed += 1;
                    println!("ok      {} ({}:{})", tc.name, tc.file, tc.line);
                }
                Verdict::Written(p) => {
                    passed += 1;
                    println!(
                        "ok      {} ({}:{}) — snapshot written to {}",
                        tc.name,
                        tc.file,
                        tc.line,
                        p.display()
                    );
                }
                Verdict::Failed(report) => {
                    failed += 1;
                    println!("FAILED  {} ({}:{})\n{report}", tc.name, tc.file, tc.line);
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 { exit::FINDINGS } else { exit::OK }
}
