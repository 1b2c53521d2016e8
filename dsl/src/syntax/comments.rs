//! The comment side table: every `#` comment of a file with its span.
//!
//! Comments are not in the AST (the grammar skips them), so the formatter re-attaches them
//! from this table by position and can never lose one. This module only finds comments; it
//! must not decide where they are printed.

use serde::Serialize;

use super::ast::Span;

/// One `# …` comment. `text` excludes the `#` and the line end, keeps inner spacing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub span: Span,
    pub text: String,
    /// True when nothing but blanks precedes it on its line.
    pub own_line: bool,
}

/// Finds every comment, skipping `#` inside string literals.
pub fn collect_comments(source: &str) -> Vec<Comment> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line_blank) = (0, true);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                line_blank = false;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'#' => {
                let start = i;
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                let text = source[start + 1..i].trim_end().to_string();
                out.push(Comment {
                    span: Span::new(start, i),
                    text,
                    own_line: line_blank,
                });
            }
            b'\n' => {
                line_blank = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            _ => {
                line_blank = false;
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_own_line_and_trailing_comments_but_not_hashes_in_strings() {
        let src = "# top\nscenario a { # trailing\n  title \"a # b\"\n}\n";
        let c = collect_comments(src);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].text.as_str(), c[0].own_line), (" top", true));
        assert_eq!((c[1].text.as_str(), c[1].own_line), (" trailing", false));
    }
}
