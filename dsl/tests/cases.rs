//! Data-driven snapshot tests over `tests/cases/`.
//!
//! `valid/*.relance` must compile without errors: the snapshot is the IR (JSON) and any
//! warnings. `invalid/*.relance` must produce errors: the snapshot is the rendered
//! diagnostics, source and message, as a user reads them. A case file may start with
//! `# templates: a, b` and `# rules: name/arity, …` lines to give the set a `templates/`
//! or `rules/` folder.

use std::collections::{BTreeMap, BTreeSet};

use relance_dsl::diagnostics::render;
use relance_dsl::{SetContext, SourceFile, compile};

fn context(source: &str) -> SetContext {
    let mut ctx = SetContext::default();
    for line in source.lines().take_while(|l| l.starts_with('#')) {
        if let Some(list) = line.strip_prefix("# templates:") {
            ctx.templates = Some(
                list.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<BTreeSet<_>>(),
            );
        }
        if let Some(list) = line.strip_prefix("# rules:") {
            let rules: BTreeMap<String, usize> = list
                .split(',')
                .filter_map(|r| {
                    let (name, arity) = r.trim().split_once('/')?;
                    Some((name.to_string(), arity.parse().ok()?))
                })
                .collect();
            ctx.rules = Some(rules);
        }
    }
    ctx
}

fn run(path: &std::path::Path) -> (bool, String) {
    let text = std::fs::read_to_string(path).expect("read case");
    let name = format!(
        "{}/{}",
        path.parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy(),
        path.file_name().unwrap().to_string_lossy()
    );
    let ctx = context(&text);
    let files = vec![SourceFile::new(name.clone(), text.clone())];
    let compiled = compile(&files, &ctx);
    let rendered = render(&compiled.diagnostics[0], &name, &text, false);
    match compiled.set {
        Some(set) => {
            let ir = serde_json::to_string_pretty(&set).expect("IR serializes");
            (true, format!("{rendered}{ir}\n"))
        }
        None => (false, rendered),
    }
}

#[test]
fn valid_cases_compile_and_snapshot_their_ir() {
    insta::glob!("cases/valid/*.relance", |path| {
        let (ok, out) = run(path);
        assert!(ok, "{} should compile:\n{out}", path.display());
        insta::assert_snapshot!(out);
    });
}

#[test]
fn invalid_cases_snapshot_their_diagnostics() {
    insta::glob!("cases/invalid/*.relance", |path| {
        let (ok, out) = run(path);
        assert!(!ok, "{} should not compile", path.display());
        assert!(
            out.contains("error["),
            "{} has no error:\n{out}",
            path.display()
        );
        insta::assert_snapshot!(out);
    });
}
