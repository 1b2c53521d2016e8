//! How long checking the stdlib's templates takes, in process: `check_set` (every template
//! parsed by minijinja, its variables, filters and item attributes checked, the variants of
//! every template a scenario uses) over `stdlib-scenarios/`, 200 times; prints p50 and p99.
//! The scenario files are parsed once, outside the timing (`relance check` parses them
//! anyway; this is what template checking adds to it).
//!
//! `cargo run -p relance-templates --example check_stdlib` (add `--release` for the optimized
//! figure). It measures only; it must not assert anything about the templates (the test
//! `cases::the_stdlib_templates_check_clean` does).

use std::path::Path;
use std::time::Instant;

use relance_dsl::SourceFile;

const RUNS: usize = 200;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios");
    let mut files = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .expect("stdlib")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "relance"))
        .collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        files.push(SourceFile::new(
            name,
            std::fs::read_to_string(&p).expect("read"),
        ));
    }
    let templates = relance_templates::read_dir(&root.join("templates")).expect("stdlib templates");
    let lines: usize = templates.values().map(|t| t.lines().count()).sum();
    let mut times = Vec::with_capacity(RUNS);
    let mut diagnostics = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let checked = relance_templates::check_set(&files, &templates);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        diagnostics = checked.all().count();
    }
    times.sort_by(f64::total_cmp);
    let p50 = times[RUNS / 2];
    let p99 = times[(RUNS * 99).div_ceil(100) - 1];
    println!(
        "check_set over {} scenario files and {} template files ({lines} lines), {diagnostics} diagnostic(s), {RUNS} runs: p50 {p50:.2} ms, p99 {p99:.2} ms",
        files.len(),
        templates.len()
    );
}
