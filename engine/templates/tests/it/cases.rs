//! Data-driven checks over `tests/it/cases/`: each folder is a small set (`*.relance` and
//! `templates/`); `expected.txt` holds the diagnostics as `relance check` renders them and
//! `expected.json` their JSON form. `UPDATE_EXPECT=1` rewrites both (read the diff).

use std::path::{Path, PathBuf};

use relance_dsl::SourceFile;
use relance_dsl::diagnostics::render;

fn case_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn run(dir: &Path) -> (String, String) {
    let mut files = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("case")
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
    let templates = relance_templates::read_dir(&dir.join("templates")).expect("templates");
    let checked = relance_templates::check_set(&files, &templates);
    let mut text = String::new();
    let mut json = Vec::new();
    for (i, f) in files.iter().enumerate() {
        if let Some(diags) = checked.scenarios.get(&i) {
            text.push_str(&render(diags, &f.path, &f.text, false));
            json.extend(diags.iter().map(|d| d.to_json(&f.path, &f.text)));
        }
    }
    text.push_str(&checked.render_templates("templates", false));
    json.extend(checked.templates_json("templates"));
    let json = serde_json::to_string_pretty(&json).expect("json") + "\n";
    (text, json)
}

#[test]
fn every_case_gives_its_expected_diagnostics() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    let dirs = case_dirs();
    assert!(!dirs.is_empty(), "no case");
    for dir in dirs {
        let (text, json) = run(&dir);
        for (file, got) in [("expected.txt", &text), ("expected.json", &json)] {
            let path = dir.join(file);
            if update {
                std::fs::write(&path, got).expect("write");
                continue;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if &want != got {
                failures.push(format!(
                    "{}:\n--- want\n{want}\n--- got\n{got}",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The stdlib's templates are the checker's first readers: loops, indexed items, filters and
/// variables all known, not one diagnostic (a false positive here would reach every user).
#[test]
fn the_stdlib_templates_check_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios/templates");
    let templates = relance_templates::read_dir(&dir).expect("stdlib templates");
    assert!(templates.len() > 20, "{} templates", templates.len());
    let found: Vec<String> = templates
        .iter()
        .flat_map(|(file, text)| {
            relance_templates::check::check_template(file, text)
                .into_iter()
                .map(move |d| format!("{file}: {} ({:?})", d.message, d.span))
        })
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}
