//! The canonical formatter, end to end.
//!
//! - `fmt-cases/NAME.input.relance` must format to `fmt-cases/NAME.expected.relance` (and the
//!   expected file must be its own format);
//! - every `.relance` file of the repository that parses is a fixpoint after one pass, parses
//!   back to the same tree (spans aside) and keeps its comments, in order;
//! - the same holds for other layouts of those files: a comment in every gap between tokens
//!   (with and without blank lines around it), everything squeezed onto as few lines as possible;
//! - a file with syntax errors is refused, with the diagnostics.

use std::path::{Path, PathBuf};

use relance_dsl::Code;
use relance_dsl::fmt::{format_file, format_source};
use relance_dsl::syntax::ast::File;
use relance_dsl::syntax::parse;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fmt-cases")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A unified-looking line diff (longest common subsequence), enough to read a failure.
fn line_diff(expected: &str, actual: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out += &format!("   {}\n", a[i]);
            (i, j) = (i + 1, j + 1);
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out += &format!("+  {}\n", b[j]);
            j += 1;
        } else {
            out += &format!("-  {}\n", a[i]);
            i += 1;
        }
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out += "(the texts differ in their final line feed)\n";
    }
    out
}

fn format_ok(source: &str, what: &str) -> String {
    format_source(source).unwrap_or_else(|e| panic!("{what}: {e}: {:#?}", e.diagnostics))
}

#[test]
fn cases_format_to_their_expected_output() {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/fmt-cases exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".input.relance"))
        .collect();
    inputs.sort();
    assert!(
        inputs.len() >= 8,
        "expected at least 8 cases, found {}",
        inputs.len()
    );

    let mut failures = Vec::new();
    for input in &inputs {
        let name = input
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".input.relance", "");
        let expected_path = cases_dir().join(format!("{name}.expected.relance"));
        let expected = read(&expected_path);
        let actual = format_ok(&read(input), &name);
        if actual != expected {
            failures.push(format!(
                "case `{name}`: format(input) differs from {} (- expected, + actual):\n{}",
                expected_path.display(),
                line_diff(&expected, &actual)
            ));
        }
        let again = format_ok(&expected, &name);
        if again != expected {
            failures.push(format!(
                "case `{name}`: the expected output is not canonical itself (- expected, + \
                 format(expected)):\n{}",
                line_diff(&expected, &again)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ----- invariants on every file ---------------------------------------------------------------

/// Every `*.relance` under the workspace root, build and dependency folders left out.
fn relance_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && name != "node_modules" && !name.starts_with('.') {
                    walk(&path, out);
                }
            } else if name.ends_with(".relance") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."), &mut out);
    out.sort();
    out
}

/// The tree as JSON with every span removed, so two parses of differently laid out texts
/// compare equal exactly when they mean the same.
fn without_spans(file: &File) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.remove("span");
                map.remove("event_span");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(file).expect("the AST serializes");
    strip(&mut v);
    v
}

fn comment_texts(source: &str) -> Vec<String> {
    parse(source).comments.into_iter().map(|c| c.text).collect()
}

/// Checks the three invariants on one source that parses; returns what went wrong.
fn check_invariants(source: &str) -> Result<(), String> {
    let original = parse(source);
    let once = format_file(&original.file, &original.comments, source);
    let reparsed = parse(&once);
    if !reparsed.diagnostics.is_empty() {
        return Err(format!(
            "the formatted text does not parse: {:#?}\n--- formatted ---\n{once}",
            reparsed.diagnostics
        ));
    }
    if without_spans(&reparsed.file) != without_spans(&original.file) {
        return Err(format!(
            "the formatted text means something else:\n--- formatted ---\n{once}"
        ));
    }
    let (before, after) = (comment_texts(source), comment_texts(&once));
    if before != after {
        return Err(format!(
            "comments were lost or reordered:\nbefore: {before:?}\nafter:  {after:?}\n--- \
             formatted ---\n{once}"
        ));
    }
    let twice = format_file(&reparsed.file, &reparsed.comments, &once);
    if twice != once {
        return Err(format!(
            "not a fixpoint (- first pass, + second pass):\n{}",
            line_diff(&once, &twice)
        ));
    }
    Ok(())
}

#[test]
fn every_relance_file_in_the_repository_is_a_fixpoint_with_the_same_meaning_and_comments() {
    let files = relance_files();
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in &files {
        let source = read(path);
        if parse(&source).diagnostics.iter().any(|d| d.is_error()) {
            continue;
        }
        checked += 1;
        if let Err(e) = check_invariants(&source) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    // The walk must have found at least the formatter's own cases and the language sketch.
    assert!(
        checked >= 16,
        "only {checked} parsing .relance files found among {}",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// How [`relayout`] rewrites each run of blanks between tokens.
#[derive(Clone, Copy, Debug)]
enum Gap {
    /// Keep it and add `#cN` + line feed: a comment in every place the grammar allows one.
    Comment,
    /// The same, surrounded by blank lines.
    CommentAndBlankLines,
    /// One space (a line feed after a comment): the whole file on as few lines as possible.
    Squeeze,
}

/// Rewrites every run of blanks outside strings and comments (every gap between tokens).
fn relayout(source: &str, how: Gap) -> String {
    let bytes = source.as_bytes();
    let (mut out, mut i, mut n, mut after_comment) = (String::new(), 0, 0, false);
    let is_blank = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    while i < bytes.len() {
        let start = i;
        let comment = bytes[i] == b'#';
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                out.push_str(&source[start..i]);
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                out.push_str(&source[start..i]);
            }
            b if is_blank(b) => {
                while i < bytes.len() && is_blank(bytes[i]) {
                    i += 1;
                }
                n += 1;
                match how {
                    Gap::Comment => out.push_str(&format!("{}#c{n}\n", &source[start..i])),
                    Gap::CommentAndBlankLines => out.push_str(&format!("\n\n#c{n}\n\n")),
                    Gap::Squeeze if after_comment => out.push('\n'),
                    Gap::Squeeze => out.push(' '),
                }
            }
            _ => {
                i += 1;
                while i < bytes.len() && !source.is_char_boundary(i) {
                    i += 1;
                }
                out.push_str(&source[start..i]);
            }
        }
        after_comment = comment;
    }
    out
}

#[test]
fn any_layout_of_every_file_formats_to_a_stable_text_with_the_same_meaning_and_comments() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in relance_files() {
        let source = read(&path);
        let plain = parse(&source);
        if plain.diagnostics.iter().any(|d| d.is_error()) {
            continue;
        }
        checked += 1;
        for how in [Gap::Comment, Gap::CommentAndBlankLines, Gap::Squeeze] {
            let variant = relayout(&source, how);
            let parsed = parse(&variant);
            // The rewrite itself must keep the meaning, or the check below proves nothing.
            if !parsed.diagnostics.is_empty()
                || without_spans(&parsed.file) != without_spans(&plain.file)
            {
                failures.push(format!(
                    "{} ({how:?}): the rewrite broke the file",
                    path.display()
                ));
            } else if let Err(e) = check_invariants(&variant) {
                failures.push(format!("{} ({how:?}): {e}", path.display()));
            }
        }
    }
    assert!(checked >= 16, "only {checked} files checked");
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ----- refusal and small guarantees -------------------------------------------------------------

#[test]
fn a_file_with_syntax_errors_is_refused_with_its_diagnostics() {
    let src = "scenario ok {}\nscenario broken {\n  step a at {\n}\n";
    let err = format_source(src).expect_err("a broken file is not formatted");
    assert!(!err.diagnostics.is_empty());
    assert!(
        err.diagnostics.iter().all(|d| d.code == Code::SyntaxError),
        "{:#?}",
        err.diagnostics
    );
    assert!(err.to_string().contains("1 syntax error"), "{err}");

    // An unreadable literal is refused too: its placeholder value must not be printed.
    let err = format_source("test \"t\" {\n  from 2026-02-30\n}\n").expect_err("bad date");
    assert_eq!(err.diagnostics[0].code, Code::ImpossibleDate);
}

#[test]
fn crlf_and_tabs_become_canonical() {
    let src = "scenario a {\r\n\ttitle \"A\"\t# t\r\n\r\n\tcalendar fr\r\n}\r\n";
    assert_eq!(
        format_ok(src, "crlf"),
        "scenario a {\n  title \"A\"  # t\n\n  calendar fr\n}\n"
    );
}

#[test]
fn a_tree_without_source_prints_without_comments() {
    let parsed = parse("scenario a {\n  # c\n  step s at due { pause }\n}\n");
    let out = format_file(&parsed.file, &[], "");
    assert_eq!(out, "scenario a {\n  step s at due {\n    pause\n  }\n}\n");
}

#[test]
fn the_diff_helper_shows_changed_lines() {
    let d = line_diff("a\nb\nc\n", "a\nx\nc\n");
    assert_eq!(d, "   a\n+  x\n-  b\n   c\n");
}
