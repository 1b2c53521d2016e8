//! `relance check`: parse and check sets, print every diagnostic (text or JSON): those of the
//! `.relance` files, of the `rules/*.rhai` files, and of the templates
//! (`relance_templates::check_set`). It also warns, once per set on standard error, of the
//! half-years up to `--today` (default: the system's date) that the set's rate table lacks:
//! late interest charged for them assumes the last known rate (`relance_core::interest`).

use std::path::PathBuf;

use relance_dsl::diagnostics::{JsonDiagnostic, render, render_set};
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

impl Report {
    fn add(&mut self, diags: &[relance_dsl::Diagnostic], path: &str, text: &str) {
        for d in diags {
            if d.is_error() {
                self.errors += 1;
            } else {
                self.warnings += 1;
            }
            self.diagnostics.push(d.to_json(path, text));
        }
    }
}

pub fn run(paths: &[PathBuf], format: Format, deny_warnings: bool, today: chrono::NaiveDate) -> u8 {
    let mut report = Report {
        files: 0,
        errors: 0,
        warnings: 0,
        diagnostics: Vec::new(),
    };
    let mut text = String::new();
    for path in paths {
        let set = match scenario_set::check(path) {
            Ok(set) => set,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        };
        if let Some(warning) = rates_warning(&set.rates, today) {
            eprintln!("warning: {}: {warning}", path.display());
        }
        let templates_dir = set.root.join("templates");
        let templates = match relance_templates::read_dir(&templates_dir) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        };
        let mut checked = relance_templates::check_set(&set.files, &templates);
        let others: Vec<(&str, &str)> = set
            .rules
            .iter()
            .map(|r| (r.path.as_str(), r.text.as_str()))
            .collect();
        for (i, ((file, diags), elsewhere)) in set
            .files
            .iter()
            .zip(&set.diagnostics)
            .zip(&set.elsewhere)
            .enumerate()
        {
            report.files += 1;
            let mut diags = diags.clone();
            if let Some(more) = checked.scenarios.remove(&i) {
                diags.extend(more);
                diags.sort_by_key(|d| d.span);
            }
            report.add(&diags, &file.path, &file.text);
            text.push_str(&render_set(
                &diags,
                elsewhere,
                &file.path,
                &file.text,
                &others,
                super::color(),
            ));
        }
        for (file, diags) in set.rules.iter().zip(&set.rule_diagnostics) {
            report.add(diags, &file.path, &file.text);
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

/// The one warning of a set whose rate table lacks half-years up to `today` (a row, or a
/// legal rate past the last one it gives), naming them and the rule the engine applies.
fn rates_warning(
    table: &relance_core::interest::RateTable,
    today: chrono::NaiveDate,
) -> Option<String> {
    use relance_core::interest::half_year_name;
    let missing = table.missing(table.first_half_year(), today);
    if missing.is_empty() {
        return None;
    }
    let names: Vec<String> = missing
        .iter()
        .map(|m| {
            let what = if m.ecb_missing {
                "no row"
            } else {
                "no legal rate"
            };
            format!("{} ({what})", half_year_name(m.half_year))
        })
        .collect();
    Some(format!(
        "the late-payment rate table lacks {} up to {today}: late interest for these \
         half-years is charged at the last known rate, marked as assumed (add them to \
         rates.csv; `relance rates --today {today}` lists them)",
        names.join(", ")
    ))
}
