//! From the checker's diagnostics to LSP diagnostics.
//!
//! Codes and messages are exactly those of `relance check`; the label and the help go into
//! related information at the diagnostic's own place, and related spans become related
//! information in the same file. This module converts; it must not add, drop or reword
//! findings (except the set-loading error, which `relance check` prints as its error line).

use relance_dsl::{Code, Diagnostic, Severity};
use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, Location,
    NumberOrString, Position, Range, Uri,
};

use super::position::LineMap;
use super::sets::LoadError;

pub const SOURCE: &str = "relance";

/// Converts one diagnostic of the document `uri` (whose text and line map are given).
pub fn to_lsp(d: &Diagnostic, uri: &Uri, text: &str, lines: &LineMap) -> lsp::Diagnostic {
    let range = lines.range(text, d.span);
    let here = |message: String| DiagnosticRelatedInformation {
        location: Location::new(uri.clone(), range),
        message,
    };
    let mut related = Vec::new();
    if !d.label.is_empty() {
        related.push(here(d.label.clone()));
    }
    related.extend(
        d.related
            .iter()
            .map(|(span, label)| DiagnosticRelatedInformation {
                location: Location::new(uri.clone(), lines.range(text, *span)),
                message: label.clone(),
            }),
    );
    if let Some(help) = &d.help {
        related.push(here(format!("help: {help}")));
    }
    let unnecessary = matches!(d.code, Code::UnreachableStep | Code::UnreachableStatement);
    lsp::Diagnostic {
        range,
        severity: Some(match d.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.code().to_string())),
        source: Some(SOURCE.to_string()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: unnecessary.then(|| vec![DiagnosticTag::UNNECESSARY]),
        ..lsp::Diagnostic::default()
    }
}

/// The set could not be read whole: one error at the top of each of its open documents,
/// pointing at the culprit when known.
pub fn load_error(e: &LoadError) -> lsp::Diagnostic {
    let related = e.location.as_ref().and_then(|(path, line, column)| {
        let uri = Uri::from_file_path(path)?;
        let at = Position::new(
            to_u32(line.saturating_sub(1)),
            to_u32(column.saturating_sub(1)),
        );
        Some(vec![DiagnosticRelatedInformation {
            location: Location::new(uri, Range::new(at, at)),
            message: "here".to_string(),
        }])
    });
    lsp::Diagnostic {
        range: Range::default(),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some(SOURCE.to_string()),
        message: format!(
            "the scenario set cannot be loaded, templates and rules are not checked: {}",
            e.message
        ),
        related_information: related,
        ..lsp::Diagnostic::default()
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance_dsl::syntax::ast::Span;

    #[test]
    fn converts_range_code_severity_and_related() {
        let text = "é\nabc def\n";
        let lines = LineMap::new(text);
        let uri: Uri = "file:///tmp/a.relance".parse().unwrap();
        let d = Diagnostic::new(
            Code::UnreachableStatement,
            Span::new(7, 10),
            "this statement never runs",
        )
        .with_label("unreachable")
        .with_related(Span::new(3, 6), "control leaves the block here")
        .with_help("remove it");
        let out = to_lsp(&d, &uri, text, &lines);
        assert_eq!(
            out.range,
            Range::new(Position::new(1, 4), Position::new(1, 7))
        );
        assert_eq!(out.code, Some(NumberOrString::String("W0104".into())));
        assert_eq!(out.severity, Some(DiagnosticSeverity::WARNING));
        assert_eq!(out.message, "this statement never runs");
        assert_eq!(out.tags, Some(vec![DiagnosticTag::UNNECESSARY]));
        let related = out.related_information.unwrap();
        let messages: Vec<&str> = related.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "unreachable",
                "control leaves the block here",
                "help: remove it"
            ]
        );
        assert_eq!(
            related[1].location.range,
            Range::new(Position::new(1, 0), Position::new(1, 3))
        );
    }
}
