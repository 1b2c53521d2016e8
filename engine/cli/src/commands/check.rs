//! `relance check`: parse and check sets and their templates (`relance_templates::check_set`),
//! print every diagnostic (text or JSON).

use std::path::PathBuf;

use relance_dsl::diagnostics::{JsonDiagnostic, render};
use serde::Serialize;

use super::{Format, exit};
use relance_core::scenario_set;

#[derive(Serialize)]
struct Report {
    files: usize,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonDiagnostic>,
}

pub fn run(paths: &[PathBuf], format: Format, deny_warnings: bool) -> u8 {
    let mut report = Report {
        files: 0,
        errors: 0,
        warnings: 0,
        diagnostics: Vec::new(),
    };
    let mut text = String::new();
    for path in paths {
        let set = match scenario_set::load(path) {
            Ok(set) => set,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        };
        let compiled = set.compile();
        let templates_dir = set.root.join("templates");
        let templates = match relance_templates::read_dir(&templates_dir) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        };
        let mut checked = relance_templates::check_set(&set.files, &templates);
        for (i, (file, diags)) in set.files.iter().zip(&compiled.diagnostics).enumerate() {
            report.files += 1;
            let mut diags = diags.clone();
            if let Some(more) = checked.scenarios.remove(&i) {
                diags.extend(more);
                diags.sort_by_key(|d| d.span);
            }
            let diags = &diags;
            for d in diags {
                if d.is_error() {
                    report.errors += 1;
                } else {
                    report.warnings += 1;
                }
                report.diagnostics.push(d.to_json(&file.path, &file.text));
            }
            text.push_str(&render(diags, &file.path, &file.text, super::color()));
        }
        let dir = templates_dir.display().to_string();
        report.files += checked.templates.len();
        for d in checked.all() {
            if d.is_error() {
                report.errors += 1;
            } else {
                report.warnings += 1;
            }
        }
        report.diagnostics.extend(checked.templates_json(&dir));
        text.push_str(&checked.render_templates(&dir, super::color()));
    }
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        Format::Text => {
            print!("{text}");
            println!(
                "checked {} file(s): {} error(s), {} warning(s)",
                report.files, report.errors, report.warnings
            );
        }
    }
    if report.errors > 0 || (deny_warnings && report.warnings > 0) {
        exit::FINDINGS
    } else {
        exit::OK
    }
}
