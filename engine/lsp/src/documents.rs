//! An open document: its URI, in-memory text, version, line map, and the set it belongs to.
//!
//! A `file:` document belongs to the set of its folder; any other document (an unsaved
//! buffer) is a set of its own. This module only holds text; it must not parse or check.

use std::path::PathBuf;

use tower_lsp_server::ls_types::{Position, Range, Uri};

use super::position::LineMap;
use relance_dsl::syntax::ast::Span;

/// Which set a document belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SetKey {
    /// The folder of a `file:` document.
    Folder(PathBuf),
    /// A document that is not a file on disk.
    Alone(Uri),
}

#[derive(Debug, Clone)]
pub struct Document {
    pub uri: Uri,
    pub text: String,
    pub version: i32,
    pub lines: LineMap,
    pub key: SetKey,
    /// The file's path; for a document that is not a file, its URI as a path.
    pub path: PathBuf,
}

impl Document {
    pub fn new(uri: Uri, text: String, version: i32) -> Document {
        let (key, path) = locate(&uri);
        let lines = LineMap::new(&text);
        Document {
            uri,
            text,
            version,
            lines,
            key,
            path,
        }
    }

    pub fn set_text(&mut self, text: String, version: i32) {
        self.lines = LineMap::new(&text);
        self.text = text;
        self.version = version;
    }

    pub fn offset(&self, position: Position) -> usize {
        self.lines.offset(&self.text, position)
    }

    pub fn range(&self, span: Span) -> Range {
        self.lines.range(&self.text, span)
    }

    /// A `rules/*.rhai` file of a set (checked as rules, never parsed as a scenario).
    pub fn is_rules(&self) -> bool {
        is_rules_file(&self.path)
    }
}

/// Whether `path` is a `rules/*.rhai` file.
pub fn is_rules_file(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "rhai")
        && path
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == "rules")
}

fn locate(uri: &Uri) -> (SetKey, PathBuf) {
    if uri.scheme().as_str().eq_ignore_ascii_case("file")
        && let Some(path) = uri.to_file_path()
        && let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty())
    {
        // A rules file belongs to the set of the folder holding `rules/`.
        let folder = if is_rules_file(&path) {
            folder.parent().unwrap_or(folder)
        } else {
            folder
        };
        return (SetKey::Folder(folder.to_path_buf()), path.into_owned());
    }
    (SetKey::Alone(uri.clone()), PathBuf::from(uri.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_documents_belong_to_their_folder_others_stand_alone() {
        let doc = Document::new(
            "file:///tmp/set%20a/x.relance".parse().unwrap(),
            String::new(),
            1,
        );
        assert_eq!(doc.key, SetKey::Folder(PathBuf::from("/tmp/set a")));
        assert_eq!(doc.path, PathBuf::from("/tmp/set a/x.relance"));
        let doc = Document::new(
            "file:///tmp/set/rules/r.rhai".parse().unwrap(),
            String::new(),
            1,
        );
        assert_eq!(
            doc.key,
            SetKey::Folder(PathBuf::from("/tmp/set")),
            "rules join their set"
        );
        assert!(doc.is_rules());
        let uri: Uri = "untitled:Untitled-1".parse().unwrap();
        let doc = Document::new(uri.clone(), String::new(), 1);
        assert_eq!(doc.key, SetKey::Alone(uri));
    }
}
