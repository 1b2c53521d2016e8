//! Byte offsets ↔ LSP positions for one text.
//!
//! The DSL speaks byte [`Span`]s; LSP speaks zero-based lines and UTF-16 columns. [`LineMap`]
//! converts both ways, clamping out-of-range input instead of failing (a client may send a
//! position past the end of a line or of the file). It must not know anything about the
//! language itself.

use relance_dsl::syntax::ast::Span;
use tower_lsp_server::ls_types::{Position, Range};

/// Where each line of a text starts (lines end at `\n`).
#[derive(Debug, Clone)]
pub struct LineMap {
    starts: Vec<usize>,
}

impl LineMap {
    pub fn new(text: &str) -> LineMap {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineMap { starts }
    }

    /// The position of a byte offset (clamped to the text, and back to a character start).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_char_boundary(text, offset);
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(to_u32(line), to_u32(character))
    }

    /// The byte offset of a position. A line past the end gives the end of the text; a
    /// column past the end of its line gives the end of that line (before `\r\n`); a column
    /// inside a surrogate pair gives the start of that character.
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return text.len();
        };
        let end = self
            .starts
            .get(position.line as usize + 1)
            .map_or(text.len(), |&next| next - 1);
        let line = text[start..end]
            .strip_suffix('\r')
            .unwrap_or(&text[start..end]);
        let target = position.character as usize;
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units + c.len_utf16() > target {
                return start + i;
            }
            units += c.len_utf16();
        }
        start + line.len()
    }

    pub fn range(&self, text: &str, span: Span) -> Range {
        let start = self.position(text, span.start);
        let end = self.position(text, span.end.max(span.start));
        Range::new(start, end)
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_offsets_and_positions_round_trip() {
        let text = "ab\ncd\n";
        let map = LineMap::new(text);
        assert_eq!(map.position(text, 0), Position::new(0, 0));
        assert_eq!(map.position(text, 4), Position::new(1, 1));
        assert_eq!(map.position(text, 6), Position::new(2, 0));
        for offset in 0..=text.len() {
            assert_eq!(map.offset(text, map.position(text, offset)), offset);
        }
    }

    #[test]
    fn columns_count_utf16_code_units() {
        // "é" is 2 bytes and 1 unit, "€" 3 bytes and 1 unit, "😀" 4 bytes and 2 units.
        let text = "title \"é€😀x\"\nnext";
        let map = LineMap::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(map.position(text, x), Position::new(0, 7 + 4));
        assert_eq!(map.offset(text, Position::new(0, 11)), x);
        let emoji = text.find('😀').unwrap();
        assert_eq!(map.position(text, emoji), Position::new(0, 9));
        // Inside the surrogate pair: back to the character's start.
        assert_eq!(map.offset(text, Position::new(0, 10)), emoji);
        // A byte offset inside a character goes back to its start.
        assert_eq!(map.position(text, emoji + 1), Position::new(0, 9));
        assert_eq!(map.position(text, text.len()), Position::new(1, 4));
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let text = "ab\r\ncd";
        let map = LineMap::new(text);
        assert_eq!(
            map.offset(text, Position::new(0, 99)),
            2,
            "before the \\r\\n"
        );
        assert_eq!(map.offset(text, Position::new(9, 0)), text.len());
        assert_eq!(map.position(text, 999), Position::new(1, 2));
        let r = map.range(text, Span::new(4, 6));
        assert_eq!(r, Range::new(Position::new(1, 0), Position::new(1, 2)));
    }
}
