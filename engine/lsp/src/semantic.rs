//! Semantic tokens (`textDocument/semanticTokens/full`): what each word of a document means,
//! from the tolerant [`scan`], so an editor can colour steps, scenarios, roles, events and
//! fields by meaning rather than by shape (the TextMate grammar colours by shape).
//!
//! A name's meaning is the scan's ([`OccKind`]); strings, numbers and comments keep their
//! lexical type; other words and punctuation get no token. This module only classifies; it
//! must not judge whether a name exists (the checker does).

use tower_lsp_server::ls_types::{
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokensLegend,
};

use super::documents::Document;
use super::scan::{OccKind, TokKind, scan};
use relance_dsl::syntax::ast::Span;

/// The token types, in legend order (a token's type is its index here).
const TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::NAMESPACE,
    SemanticTokenType::TYPE,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::EVENT,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
];

/// The modifiers, in legend order (bit `i` is the `i`th).
const MODIFIERS: &[SemanticTokenModifier] = &[SemanticTokenModifier::DECLARATION];
const DECLARATION: u32 = 1;

pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.to_vec(),
        token_modifiers: MODIFIERS.to_vec(),
    }
}

fn index(t: &SemanticTokenType) -> u32 {
    TYPES
        .iter()
        .position(|x| x == t)
        .and_then(|i| u32::try_from(i).ok())
        .unwrap_or(0)
}

/// The type and modifiers of a name by its meaning.
fn of_occurrence(kind: OccKind) -> (SemanticTokenType, u32) {
    match kind {
        OccKind::Keyword => (SemanticTokenType::KEYWORD, 0),
        OccKind::ScenarioDef => (SemanticTokenType::NAMESPACE, DECLARATION),
        OccKind::ScenarioRef => (SemanticTokenType::NAMESPACE, 0),
        OccKind::PolicyDef => (SemanticTokenType::TYPE, DECLARATION),
        OccKind::TestDef => (SemanticTokenType::STRING, DECLARATION),
        OccKind::StepDef => (SemanticTokenType::FUNCTION, DECLARATION),
        OccKind::StepRef | OccKind::Rule => (SemanticTokenType::FUNCTION, 0),
        OccKind::Template => (SemanticTokenType::STRING, 0),
        OccKind::Role => (SemanticTokenType::ENUM_MEMBER, 0),
        OccKind::Event => (SemanticTokenType::EVENT, 0),
        OccKind::Field | OccKind::TestField => (SemanticTokenType::PROPERTY, 0),
    }
}

/// Every token of the document, relative-encoded as the protocol wants (each token on one
/// line: the scan's tokens and comments never span lines).
pub fn tokens(doc: &Document) -> Vec<SemanticToken> {
    let s = scan(&doc.text);
    let mut found: Vec<(Span, SemanticTokenType, u32)> = Vec::new();
    for (i, t) in s.tokens.iter().enumerate() {
        let typed = match (s.classes[i], t.kind) {
            (Some(o), _) => Some(of_occurrence(s.occurrences[o].kind)),
            (None, TokKind::Str { .. }) => Some((SemanticTokenType::STRING, 0)),
            (None, TokKind::Number) => Some((SemanticTokenType::NUMBER, 0)),
            _ => None,
        };
        if let Some((ty, modifiers)) = typed {
            found.push((t.span, ty, modifiers));
        }
    }
    found.extend(
        s.comments
            .iter()
            .map(|c| (*c, SemanticTokenType::COMMENT, 0)),
    );
    found.sort_by_key(|(span, _, _)| span.start);
    let mut out = Vec::with_capacity(found.len());
    let (mut line, mut col) = (0, 0);
    for (span, ty, modifiers) in found {
        let start = doc.lines.position(&doc.text, span.start);
        let end = doc.lines.position(&doc.text, span.end);
        let length = if end.line == start.line {
            end.character - start.character
        } else {
            continue;
        };
        if length == 0 {
            continue;
        }
        let delta_line = start.line - line;
        let delta_start = if delta_line == 0 {
            start.character - col
        } else {
            start.character
        };
        out.push(SemanticToken {
            delta_line,
            delta_start,
            length,
            token_type: index(&ty),
            token_modifiers_bitset: modifiers,
        });
        (line, col) = (start.line, start.character);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes tokens back to `(line, column, length, type, modifiers)`.
    fn absolute(tokens: &[SemanticToken]) -> Vec<(u32, u32, u32, SemanticTokenType, u32)> {
        let (mut line, mut col) = (0, 0);
        tokens
            .iter()
            .map(|t| {
                line += t.delta_line;
                col = if t.delta_line == 0 {
                    col + t.delta_start
                } else {
                    t.delta_start
                };
                (
                    line,
                    col,
                    t.length,
                    TYPES[t.token_type as usize].clone(),
                    t.token_modifiers_bitset,
                )
            })
            .collect()
    }

    #[test]
    fn names_are_typed_by_meaning_and_columns_are_utf16() {
        let text = "# é😀\nscenario s {\n  step a at due + 3 days {\n    if customer.segment == \"😀\" { goto a }\n    email \"r\" to accounting\n  }\n}\n";
        let doc = Document::new("untitled:a".parse().unwrap(), text.to_string(), 1);
        let got = absolute(&tokens(&doc));
        use SemanticTokenType as T;
        assert_eq!(
            got,
            [
                (0, 0, 5, T::COMMENT, 0),
                (1, 0, 8, T::KEYWORD, 0),
                (1, 9, 1, T::NAMESPACE, DECLARATION),
                (2, 2, 4, T::KEYWORD, 0),
                (2, 7, 1, T::FUNCTION, DECLARATION),
                (2, 9, 2, T::KEYWORD, 0),
                (2, 12, 3, T::KEYWORD, 0),
                (2, 18, 1, T::NUMBER, 0),
                (2, 20, 4, T::KEYWORD, 0),
                (3, 4, 2, T::KEYWORD, 0),
                (3, 7, 16, T::PROPERTY, 0),
                (3, 27, 4, T::STRING, 0),
                (3, 34, 4, T::KEYWORD, 0),
                (3, 39, 1, T::FUNCTION, 0),
                (4, 4, 5, T::KEYWORD, 0),
                (4, 10, 3, T::STRING, 0),
                (4, 14, 2, T::KEYWORD, 0),
                (4, 17, 10, T::ENUM_MEMBER, 0),
            ]
        );
        assert_eq!(legend().token_types.len(), TYPES.len());
    }
}
