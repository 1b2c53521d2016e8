//! Document formatting with the canonical formatter: one edit replacing the whole text.
//!
//! A file with syntax errors is left alone (the formatter refuses it, and so do we: no edit),
//! and a formatted file gets no edit. This module must not format anything itself.

use tower_lsp_server::ls_types::{Range, TextEdit};

use super::position::LineMap;

/// The edits formatting `text`: none when it is already formatted or does not parse.
pub fn format(text: &str, lines: &LineMap) -> Vec<TextEdit> {
    match relance_dsl::fmt::format_source(text) {
        Ok(formatted) if formatted != text => {
            let whole = Range::new(lines.position(text, 0), lines.position(text, text.len()));
            vec![TextEdit::new(whole, formatted)]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_whole_document_edit_or_none() {
        let text = "scenario s {\n step a at due {  pause }\n}";
        let edits = format(text, &LineMap::new(text));
        assert_eq!(edits.len(), 1);
        assert_eq!(
            edits[0].range.end,
            tower_lsp_server::ls_types::Position::new(2, 1)
        );
        let formatted = edits[0].new_text.clone();
        assert!(format(&formatted, &LineMap::new(&formatted)).is_empty());
        let broken = "scenario s {\n step a at {\n}";
        assert!(format(broken, &LineMap::new(broken)).is_empty());
    }
}
