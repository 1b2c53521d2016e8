//! The document outline (`textDocument/documentSymbol`): scenarios with their steps and event
//! handlers, policies, tests.
//!
//! It reads the tolerant [`scan`], so the outline stays while a file does not parse. This
//! module only lists what the text defines; it must not judge it (the checker does).

use tower_lsp_server::ls_types::{DocumentSymbol, SymbolKind};

use super::documents::Document;
use super::scan::{ItemKind, scan};
use relance_dsl::syntax::ast::Span;

/// The symbols of a document, in text order: scenarios (steps and handlers as children),
/// policies and tests.
pub fn document_symbols(doc: &Document) -> Vec<DocumentSymbol> {
    let s = scan(&doc.text);
    s.items
        .iter()
        .map(|item| {
            let (kind, what) = match item.kind {
                ItemKind::Scenario => (SymbolKind::MODULE, "scenario"),
                ItemKind::Policy => (SymbolKind::NAMESPACE, "policy"),
                ItemKind::Test => (SymbolKind::CLASS, "test"),
            };
            let mut children: Vec<(Span, DocumentSymbol)> = item
                .steps
                .iter()
                .map(|step| {
                    let header = doc.text[step.header.start..step.header.end]
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let detail = header
                        .split_once(" at ")
                        .map_or(header.clone(), |(_, at)| format!("at {at}"));
                    let sym = symbol(
                        doc,
                        &step.name,
                        Some(detail),
                        SymbolKind::FUNCTION,
                        step.span,
                        step.name_span,
                    );
                    (step.span, sym)
                })
                .chain(item.handlers.iter().map(|h| {
                    let name = format!("on {}", h.event);
                    let sym = symbol(
                        doc,
                        name.trim_end(),
                        None,
                        SymbolKind::EVENT,
                        h.span,
                        h.event_span,
                    );
                    (h.span, sym)
                }))
                .collect();
            children.sort_by_key(|(span, _)| span.start);
            let mut sym = symbol(
                doc,
                &item.name,
                item.title.clone().or_else(|| Some(what.to_string())),
                kind,
                item.span,
                item.name_span,
            );
            sym.children =
                (!children.is_empty()).then(|| children.into_iter().map(|(_, c)| c).collect());
            sym
        })
        .collect()
}

fn symbol(
    doc: &Document,
    name: &str,
    detail: Option<String>,
    kind: SymbolKind,
    span: Span,
    name_span: Span,
) -> DocumentSymbol {
    // The name must lie within the whole; an empty name is refused by some editors.
    let name_span = if span.start <= name_span.start && name_span.end <= span.end {
        name_span
    } else {
        Span::new(span.start, span.start)
    };
    #[allow(deprecated)]
    DocumentSymbol {
        name: if name.is_empty() {
            "(unnamed)".to_string()
        } else {
            name.to_string()
        },
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: doc.range(span),
        selection_range: doc.range(name_span),
        children: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outline_lists_scenarios_steps_handlers_policies_and_tests() {
        let text = "scenario std {\n  title \"Standard\"\n  step first at due + 3 days {\n    pause\n  }\n  on dispute opened { pause }\n  step later at first {\n  }\n}\npolicy p {\n  use std otherwise\n}\ntest \"t\" {\n  use std\n}\nscenario broken {\n  step x at due {\n    goto\n";
        let doc = Document::new("untitled:a".parse().unwrap(), text.to_string(), 1);
        let symbols = document_symbols(&doc);
        let names: Vec<(&str, SymbolKind)> =
            symbols.iter().map(|s| (s.name.as_str(), s.kind)).collect();
        assert_eq!(
            names,
            [
                ("std", SymbolKind::MODULE),
                ("p", SymbolKind::NAMESPACE),
                ("t", SymbolKind::CLASS),
                ("broken", SymbolKind::MODULE)
            ]
        );
        assert_eq!(symbols[0].detail.as_deref(), Some("Standard"));
        let children = symbols[0].children.as_ref().unwrap();
        let inner: Vec<(&str, Option<&str>)> = children
            .iter()
            .map(|c| (c.name.as_str(), c.detail.as_deref()))
            .collect();
        assert_eq!(
            inner,
            [
                ("first", Some("at due + 3 days")),
                ("on dispute opened", None),
                ("later", Some("at first"))
            ]
        );
        let first = &children[0];
        assert_eq!(
            (first.range.start.line, first.range.end.line),
            (2, 4),
            "the step's whole block"
        );
        assert_eq!(first.selection_range.start.character, 7);
        assert_eq!(children[1].kind, SymbolKind::EVENT);
        assert_eq!(symbols[3].children.as_ref().unwrap()[0].name, "x");
        for s in &symbols {
            assert!(s.range.start <= s.selection_range.start);
            assert!(s.selection_range.end <= s.range.end);
        }
    }
}
