//! `relance fmt`: rewrite files in the canonical layout, or report with `--check`.

use std::path::{Path, PathBuf};

use relance_dsl::diagnostics::render;

use super::exit;
use relance_core::scenario_set::relance_files;

pub fn run(paths: &[PathBuf], check: bool) -> u8 {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            match relance_files(p) {
                Ok(list) => files.extend(list),
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::USAGE;
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    let mut changed = 0;
    let mut broken = 0;
    for f in &files {
        match format_one(f, check) {
            Ok(true) => changed += 1,
            Ok(false) => {}
            Err(Some(msg)) => {
                eprint!("{msg}");
                broken += 1;
            }
            Err(None) => return exit::USAGE,
        }
    }
    if check && changed > 0 {
        println!("{changed} file(s) would be reformatted");
    }
    if broken > 0 || (check && changed > 0) {
        exit::FINDINGS
    } else {
        exit::OK
    }
}

/// `Ok(changed)`; `Err(Some(diagnostics))` for a file with syntax errors (left untouched);
/// `Err(None)` after an I/O error (already printed).
fn format_one(path: &Path, check: bool) -> Result<bool, Option<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        None
    })?;
    let formatted = relance_dsl::fmt::format_source(&text).map_err(|e| {
        Some(render(
            &e.diagnostics,
            &path.display().to_string(),
            &text,
            super::color(),
        ))
    })?;
    if formatted == text {
        return Ok(false);
    }
    if check {
        println!("would reformat {}", path.display());
    } else {
        // Write to a temporary file then rename: a crash never leaves half a file.
        let tmp = path.with_extension("relance.fmt-tmp");
        std::fs::write(&tmp, &formatted)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| {
                eprintln!("error: {}: {e}", path.display());
                None
            })?;
        println!("formatted {}", path.display());
    }
    Ok(true)
}
