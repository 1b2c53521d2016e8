//! Diagnostics: what the parser and the checker tell the user, and how it is shown.
//!
//! A [`Diagnostic`] is data (a [`Code`], which gives the stable code string and the severity,
//! a message, the primary span and label, help, and the replacement a "did you mean" proposes,
//! for editors' quick fixes). This module renders it like rustc (`file:line:col`, the source line, the span underlined)
//! through codespan-reporting, or as one JSON object per diagnostic. It must not decide *what*
//! is wrong: that is the parser's and the checks' job.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::{SimpleFile, SimpleFiles};
use codespan_reporting::term::{self, termcolor};
use serde::Serialize;

pub use crate::check::codes::Code;
use crate::syntax::ast::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What kind of finding, documented in `docs/DIAGNOSTICS.md`; it gives the severity.
    pub code: Code,
    pub message: String,
    pub span: Span,
    /// Short text under the underlined span.
    pub label: String,
    /// A suggestion or explanation shown after the snippet.
    pub help: Option<String>,
    /// Other places worth showing (the first definition of a duplicate, …).
    pub related: Vec<(Span, String)>,
    /// The replacement the help proposes ("did you mean"), as data: editors offer it as a
    /// quick fix. Set together with its help by [`Diagnostic::with_did_you_mean`].
    pub suggestion: Option<Suggestion>,
}

/// Replace the text at `span` with `text` (a "did you mean" applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub span: Span,
    pub text: String,
}

impl Diagnostic {
    /// A finding of kind `code` at `span`; its severity is the code's.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
            related: Vec::new(),
            suggestion: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a help line only when there is one (a "did you mean" that found nothing adds none).
    pub fn with_help_opt(self, help: Option<String>) -> Diagnostic {
        match help {
            Some(h) => self.with_help(h),
            None => self,
        }
    }

    /// The help "did you mean `word`?" and, as data, the replacement of the diagnostic's span
    /// by `word`. Adds nothing when there is no close word (`None`).
    pub fn with_did_you_mean(self, word: Option<&str>) -> Diagnostic {
        self.with_did_you_mean_as(word, str::to_string)
    }

    /// Like [`Diagnostic::with_did_you_mean`], when the span's text is written differently
    /// from the word (a string literal: `replacement` quotes it).
    pub fn with_did_you_mean_as(
        mut self,
        word: Option<&str>,
        replacement: impl FnOnce(&str) -> String,
    ) -> Diagnostic {
        let Some(word) = word else {
            return self;
        };
        self.suggestion = Some(Suggestion {
            span: self.span,
            text: replacement(word),
        });
        self.with_help(crate::suggest::help(word))
    }

    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push((span, label.into()));
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// A secondary label of a diagnostic in another file of the set (where a rule is defined, in
/// its `.rhai` file): the diagnostic is the one of code `code` whose primary span is `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elsewhere {
    pub code: Code,
    pub at: Span,
    /// The other file's path, as shown to users.
    pub file: String,
    pub span: Span,
    pub label: String,
}

/// 1-based line and column (in characters) of byte offsets in one source text.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(source: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// `(line, column)`, both 1-based; the column counts characters, not bytes.
    pub fn line_col(&self, source: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(source.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let col = source
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

/// The JSON form of a diagnostic (`relance check --format json`): one object each.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JsonDiagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub severity: Severity,
    /// The code string (`E0110`) of the [`Code`]; a loader outside the checker may put its own
    /// word here (the daemon's `rules` for a rule file that does not compile).
    pub code: String,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn to_json(&self, file: &str, source: &str) -> JsonDiagnostic {
        let index = LineIndex::new(source);
        let (line, column) = index.line_col(source, self.span.start);
        let (end_line, end_column) = index.line_col(source, self.span.end);
        JsonDiagnostic {
            file: file.to_string(),
            line,
            column,
            end_line,
            end_column,
            severity: self.severity(),
            code: self.code.code().to_string(),
            message: self.message.clone(),
            help: self.help.clone(),
        }
    }
}

/// Renders diagnostics like rustc. `color` is for terminals; tests and pipes use `false`.
pub fn render(diagnostics: &[Diagnostic], file: &str, source: &str, color: bool) -> String {
    let files = SimpleFile::new(file, source);
    let config = term::Config::default();
    let mut buffer = if color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    for d in diagnostics {
        // Rendering into memory cannot fail for spans inside the source; clamp to be sure.
        let _ = term::emit(&mut buffer, &config, &files, &to_codespan(d, source.len()));
    }
    String::from_utf8_lossy(buffer.as_slice()).into_owned()
}

/// [`render`] with the labels `elsewhere` puts into other files: `others` gives those files'
/// `(path, source)`; a label whose file is not among them is left out.
pub fn render_set(
    diagnostics: &[Diagnostic],
    elsewhere: &[Elsewhere],
    file: &str,
    source: &str,
    others: &[(&str, &str)],
    color: bool,
) -> String {
    let mut files = SimpleFiles::new();
    let main = files.add(file, source);
    let ids: Vec<(&str, usize, usize)> = others
        .iter()
        .map(|(path, text)| (*path, files.add(*path, *text), text.len()))
        .collect();
    let config = term::Config::default();
    let mut buffer = if color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    for d in diagnostics {
        let mut cs = to_codespan_in(d, source.len(), main);
        for e in elsewhere
            .iter()
            .filter(|e| e.code == d.code && e.at == d.span)
        {
            if let Some(&(_, id, len)) = ids.iter().find(|(path, _, _)| *path == e.file) {
                cs.labels
                    .push(Label::secondary(id, clamp(e.span, len)).with_message(&e.label));
            }
        }
        let _ = term::emit(&mut buffer, &config, &files, &cs);
    }
    String::from_utf8_lossy(buffer.as_slice()).into_owned()
}

fn clamp(s: Span, len: usize) -> std::ops::Range<usize> {
    s.start.min(len)..s.end.min(len).max(s.start.min(len))
}

fn to_codespan(d: &Diagnostic, len: usize) -> CsDiagnostic<()> {
    to_codespan_in(d, len, ())
}

fn to_codespan_in<F: Copy>(d: &Diagnostic, len: usize, file: F) -> CsDiagnostic<F> {
    let clamp = |s: Span| clamp(s, len);
    let base = match d.severity() {
        Severity::Error => CsDiagnostic::error(),
        Severity::Warning => CsDiagnostic::warning(),
    };
    let mut labels = vec![Label::primary(file, clamp(d.span)).with_message(&d.label)];
    labels.extend(
        d.related
            .iter()
            .map(|(s, m)| Label::secondary(file, clamp(*s)).with_message(m)),
    );
    let mut out = base
        .with_code(d.code.code())
        .with_message(&d.message)
        .with_labels(labels);
    if let Some(help) = &d.help {
        out = out.with_notes(vec![format!("help: {help}")]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let src = "ab\ncé d\n";
        let idx = LineIndex::new(src);
        assert_eq!(idx.line_col(src, 0), (1, 1));
        assert_eq!(idx.line_col(src, 3), (2, 1));
        // "é" is two bytes: "d" is at byte 7 but column 4.
        assert_eq!(idx.line_col(src, 7), (2, 4));
        assert_eq!(idx.line_col(src, 999), (3, 1));
    }

    #[test]
    fn render_names_file_line_and_code() {
        let src = "scenario x {\n  titel \"a\"\n}\n";
        let d = Diagnostic::new(Code::SyntaxError, Span::new(15, 20), "unexpected `titel`")
            .with_label("expected a scenario member")
            .with_help("did you mean `title`?");
        let out = render(&[d], "a.relance", src, false);
        assert!(out.contains("error[E0001]: unexpected `titel`"), "{out}");
        assert!(out.contains("a.relance:2:3"), "{out}");
        assert!(out.contains("help: did you mean `title`?"), "{out}");
    }
}
