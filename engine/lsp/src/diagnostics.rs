//! From the checker's diagnostics to LSP diagnostics.
//!
//! Codes and messages are exactly those of `relance check`, the help appended on a line of
//! its own (`help: did you mean …?`, as `relance check` prints it: editors such as Neovim show
//! the message but not related information); the label goes into related information at the
//! diagnostic's own place, and related spans become related information in the same file. A
//! suggestion the checker carries (a did-you-mean replacement) becomes a quick fix
//! ([`quick_fix`]). This module converts; it must not add, drop or reword findings (except
//! the set-loading error, which `relance check` prints as its error line).

use std::collections::HashMap;

use relance_dsl::{Code, Diagnostic, Severity};
use tower_lsp_server::ls_types::{
    self as lsp, CodeAction, CodeActionKind, DiagnosticRelatedInformation, DiagnosticSeverity,
    DiagnosticTag, Location, NumberOrString, Position, Range, TextEdit, Uri, WorkspaceEdit,
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
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    let unnecessary = matches!(d.code, Code::UnreachableStep | Code::UnreachableStatement);
    lsp::Diagnostic {
        range,
        severity: Some(match d.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.code().to_string())),
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: unnecessary.then(|| vec![DiagnosticTag::UNNECESSARY]),
        ..lsp::Diagnostic::default()
    }
}

/// The quick fix applying the checker's suggestion of `d` (converted to `lsp_diagnostic`), if
/// it carries one: replace the span with the suggested text.
pub fn quick_fix(
    d: &Diagnostic,
    lsp_diagnostic: &lsp::Diagnostic,
    uri: &Uri,
    text: &str,
    lines: &LineMap,
) -> Option<CodeAction> {
    let s = d.suggestion.as_ref()?;
    let edit = TextEdit::new(lines.range(text, s.span), s.text.clone());
    Some(CodeAction {
        title: format!("Replace with `{}`", s.text),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![lsp_diagnostic.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
            ..WorkspaceEdit::default()
        }),
        is_preferred: Some(true),
        ..CodeAction::default()
    })
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
        assert_eq!(out.message, "this statement never runs\nhelp: remove it");
        assert_eq!(out.tags, Some(vec![DiagnosticTag::UNNECESSARY]));
        let related = out.related_information.clone().unwrap();
        let messages: Vec<&str> = related.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages, ["unreachable", "control leaves the block here"]);
        assert_eq!(out, to_lsp(&d, &uri, text, &lines), "deterministic");
        assert!(
            quick_fix(&d, &out, &uri, text, &lines).is_none(),
            "no suggestion"
        );
        assert_eq!(
            related[1].location.range,
            Range::new(Position::new(1, 0), Position::new(1, 3))
        );
    }

    #[test]
    fn a_did_you_mean_is_in_the_message_and_a_quick_fix() {
        let text = "goto litigaton\n";
        let lines = LineMap::new(text);
        let uri: Uri = "file:///tmp/a.relance".parse().unwrap();
        let d = Diagnostic::new(
            Code::UnknownStep,
            Span::new(5, 14),
            "unknown step `litigaton`",
        )
        .with_did_you_mean(Some("litigation"));
        let out = to_lsp(&d, &uri, text, &lines);
        assert_eq!(
            out.message,
            "unknown step `litigaton`\nhelp: did you mean `litigation`?"
        );
        let fix = quick_fix(&d, &out, &uri, text, &lines).expect("a quick fix");
        assert_eq!(fix.kind, Some(CodeActionKind::QUICKFIX));
        assert_eq!(fix.diagnostics, Some(vec![out]));
        let edits = &fix.edit.unwrap().changes.unwrap()[&uri];
        assert_eq!(
            edits,
            &[TextEdit::new(
                Range::new(Position::new(0, 5), Position::new(0, 14)),
                "litigation".into()
            )]
        );
    }
}
