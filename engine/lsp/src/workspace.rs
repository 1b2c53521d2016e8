//! The server's state: open documents and the scenario sets they belong to, and the
//! diagnostics pipeline run on every open, change, save and close.
//!
//! A change re-parses the changed document only, and of it only what the edit touched (the
//! other files' parses are kept in its [`SetState`]), checks the set, and returns what to
//! publish: the changed document always,
//! other open documents of the set when their diagnostics changed (a renamed scenario
//! breaks a policy in another file), and the set's template files (`templates/`, open or
//! not) when their diagnostics changed. Sets are read from disk when a document opens or is
//! saved and when watched files change. The checker's diagnostics of each open document are
//! kept for its quick fixes ([`Workspace::quick_fixes`]). This module holds no LSP connection:
//! the server sends what it returns. Features read a [`SetView`] of it.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types::{self as lsp, Location, Uri};

use super::diagnostics;
use super::documents::{Document, SetKey};
use super::position::LineMap;
use super::sets::SetState;
use relance_core::rules::RuleSignature;
use relance_dsl::Diagnostic;
use relance_dsl::syntax::ast::Span;

/// Diagnostics to send for one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    pub uri: Uri,
    pub diagnostics: Vec<lsp::Diagnostic>,
    pub version: Option<i32>,
}

#[derive(Debug, Default)]
pub struct Workspace {
    docs: HashMap<Uri, Document>,
    sets: HashMap<SetKey, SetState>,
    published: HashMap<Uri, Vec<lsp::Diagnostic>>,
    /// The checker's diagnostics of each open document at its current version (for quick
    /// fixes).
    checked: HashMap<Uri, Vec<Diagnostic>>,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace::default()
    }

    pub fn document(&self, uri: &Uri) -> Option<&Document> {
        self.docs.get(uri)
    }

    /// An open document that is a scenario file (not a `rules/*.rhai` file, which the
    /// outline, semantic tokens and the formatter must not read as a scenario).
    pub fn scenario_document(&self, uri: &Uri) -> Option<&Document> {
        self.docs.get(uri).filter(|d| !d.is_rules())
    }

    /// A document was opened: (re)read its set from disk, overlay every open document.
    pub fn open(&mut self, uri: Uri, text: String, version: i32) -> Vec<Publish> {
        let doc = Document::new(uri.clone(), text, version);
        let key = doc.key.clone();
        self.docs.insert(uri.clone(), doc);
        self.reload(&key);
        self.publish(&key, Some(&uri))
    }

    /// A document's new full text. Stale versions (an older change arriving late) are
    /// ignored.
    pub fn change(&mut self, uri: &Uri, text: String, version: i32) -> Vec<Publish> {
        let Some(doc) = self.docs.get_mut(uri) else {
            return self.open(uri.clone(), text, version);
        };
        if version < doc.version {
            return Vec::new();
        }
        doc.set_text(text, version);
        let key = doc.key.clone();
        match self.sets.get_mut(&key) {
            Some(set) if doc.is_rules() => set.upsert_rules(&doc.path, &doc.text),
            Some(set) => {
                set.upsert(&doc.path, &doc.text);
            }
            None => self.reload(&key),
        }
        self.publish(&key, Some(uri))
    }

    /// A document was saved: the disk may have changed around it too.
    pub fn save(&mut self, uri: &Uri) -> Vec<Publish> {
        let Some(key) = self.docs.get(uri).map(|d| d.key.clone()) else {
            return Vec::new();
        };
        self.reload(&key);
        self.publish(&key, None)
    }

    /// A document was closed: its diagnostics are cleared, its set goes back to the disk.
    pub fn close(&mut self, uri: &Uri) -> Vec<Publish> {
        let Some(doc) = self.docs.remove(uri) else {
            return Vec::new();
        };
        self.published.remove(uri);
        self.checked.remove(uri);
        let mut out = vec![Publish {
            uri: uri.clone(),
            diagnostics: Vec::new(),
            version: None,
        }];
        if self.docs.values().any(|d| d.key == doc.key) {
            if let Some(set) = self.sets.get_mut(&doc.key) {
                if doc.is_rules() {
                    set.revert_rules(&doc.path);
                } else {
                    set.revert(&doc.path);
                }
            }
            out.extend(self.publish(&doc.key, None));
        } else {
            self.sets.remove(&doc.key);
        }
        out
    }

    /// Files changed on disk (`workspace/didChangeWatchedFiles`): re-read the sets they
    /// belong to (a `.relance` file's folder; for `templates/` and `rules/`, the parent).
    pub fn files_changed(&mut self, paths: &[PathBuf]) -> Vec<Publish> {
        let mut folders = BTreeSet::new();
        for path in paths {
            let Some(parent) = path.parent() else {
                continue;
            };
            folders.insert(parent.to_path_buf());
            if parent
                .file_name()
                .is_some_and(|n| n == "templates" || n == "rules")
            {
                folders.extend(parent.parent().map(Path::to_path_buf));
            }
        }
        let mut out = Vec::new();
        for folder in folders {
            let key = SetKey::Folder(folder);
            if self.sets.contains_key(&key) {
                self.reload(&key);
                out.extend(self.publish(&key, None));
            }
        }
        out
    }

    /// Reads the set from disk, then overlays its open documents.
    fn reload(&mut self, key: &SetKey) {
        let mut set = match key {
            SetKey::Folder(folder) => SetState::load(folder),
            SetKey::Alone(_) => SetState::empty(None),
        };
        for doc in self.docs.values().filter(|d| &d.key == key) {
            if doc.is_rules() {
                set.upsert_rules(&doc.path, &doc.text);
            } else {
                set.upsert(&doc.path, &doc.text);
            }
        }
        self.sets.insert(key.clone(), set);
    }

    /// Checks the set; returns the diagnostics of `force` and of every other open document
    /// of the set whose diagnostics changed since last published.
    fn publish(&mut self, key: &SetKey, force: Option<&Uri>) -> Vec<Publish> {
        let Some(set) = self.sets.get(key) else {
            return Vec::new();
        };
        let checked = set.check();
        let all = &checked.files;
        let mut out = Vec::new();
        for doc in self.docs.values().filter(|d| &d.key == key) {
            let Some(found) = set.index_of(&doc.path).and_then(|i| all.get(i)) else {
                continue;
            };
            let mut diags: Vec<lsp::Diagnostic> =
                set.error.iter().map(diagnostics::load_error).collect();
            diags.extend(
                found
                    .iter()
                    .map(|d| diagnostics::to_lsp(d, &doc.uri, &doc.text, &doc.lines)),
            );
            self.checked.insert(doc.uri.clone(), found.clone());
            if force == Some(&doc.uri) || self.published.get(&doc.uri) != Some(&diags) {
                self.published.insert(doc.uri.clone(), diags.clone());
                out.push(Publish {
                    uri: doc.uri.clone(),
                    diagnostics: diags,
                    version: Some(doc.version),
                });
            }
        }
        // The template and rules files of the set: published when their diagnostics change
        // (cleared when they have none left), whether or not the editor has them open; an
        // open rules file that just changed, always.
        if let Some(root) = &set.root {
            let folder = root.join("templates");
            let templates = checked
                .templates
                .iter()
                .map(|t| (folder.join(&t.file), t.text.as_str(), &t.diagnostics));
            let rules = checked
                .rules
                .iter()
                .map(|(path, text, found)| (path.clone(), text.as_str(), found));
            for (path, text, found) in templates.chain(rules) {
                let Some(uri) = Uri::from_file_path(&path) else {
                    continue;
                };
                let lines = LineMap::new(text);
                let diags: Vec<lsp::Diagnostic> = found
                    .iter()
                    .map(|d| diagnostics::to_lsp(d, &uri, text, &lines))
                    .collect();
                let before = self.published.get(&uri);
                let changed = before.map_or(!diags.is_empty(), |b| *b != diags);
                if changed || force == Some(&uri) {
                    self.published.insert(uri.clone(), diags.clone());
                    let version = self.docs.get(&uri).map(|d| d.version);
                    out.push(Publish {
                        uri,
                        diagnostics: diags,
                        version,
                    });
                }
            }
        }
        out
    }

    /// The quick fixes for the checker's diagnostics of `uri` that touch `range`: each
    /// applies the diagnostic's suggestion (a did-you-mean).
    pub fn quick_fixes(&self, uri: &Uri, range: lsp::Range) -> Vec<lsp::CodeAction> {
        let (Some(doc), Some(found)) = (self.docs.get(uri), self.checked.get(uri)) else {
            return Vec::new();
        };
        found
            .iter()
            .filter(|d| d.suggestion.is_some())
            .filter_map(|d| {
                let l = diagnostics::to_lsp(d, &doc.uri, &doc.text, &doc.lines);
                let touches = l.range.start <= range.end && range.start <= l.range.end;
                touches
                    .then(|| diagnostics::quick_fix(d, &l, &doc.uri, &doc.text, &doc.lines))
                    .flatten()
            })
            .collect()
    }

    /// What features see of a document's set.
    pub fn view(&self, uri: &Uri) -> Option<SetView<'_>> {
        let doc = self.docs.get(uri)?;
        let set = self.sets.get(&doc.key)?;
        let open: HashMap<&Path, &Uri> = self
            .docs
            .values()
            .filter(|d| d.key == doc.key)
            .map(|d| (d.path.as_path(), &d.uri))
            .collect();
        let files = set
            .files
            .iter()
            .zip(&set.paths)
            .map(|(file, path)| FileView {
                uri: open
                    .get(path.as_path())
                    .map(|u| (*u).clone())
                    .or_else(|| Uri::from_file_path(path)),
                text: &file.text,
            })
            .collect();
        Some(SetView {
            current: set.index_of(&doc.path)?,
            document: doc,
            files,
            root: set.root.as_deref(),
            rules: &set.rules,
            templates: set.context.templates.as_ref(),
        })
    }
}

/// One file of a set, as features see it.
#[derive(Debug, Clone)]
pub struct FileView<'a> {
    /// `None` when the path cannot be made a URI.
    pub uri: Option<Uri>,
    pub text: &'a str,
}

/// A document and its set, for hover, definition, references and completion.
#[derive(Debug, Clone)]
pub struct SetView<'a> {
    pub document: &'a Document,
    /// The document's index in `files`.
    pub current: usize,
    pub files: Vec<FileView<'a>>,
    /// The folder holding `templates/` and `rules/`.
    pub root: Option<&'a Path>,
    pub rules: &'a [RuleSignature],
    /// Template names; `None` without a `templates/` folder.
    pub templates: Option<&'a BTreeSet<String>>,
}

impl SetView<'_> {
    pub fn text(&self) -> &str {
        &self.document.text
    }

    /// A location in one of the set's files.
    pub fn location(&self, file: usize, span: Span) -> Option<Location> {
        if file == self.current {
            return Some(Location::new(
                self.document.uri.clone(),
                self.document.range(span),
            ));
        }
        let f = self.files.get(file)?;
        let range = LineMap::new(f.text).range(f.text, span);
        Some(Location::new(f.uri.clone()?, range))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::TempSet;
    use super::*;
    use tower_lsp_server::ls_types::{Position, Range};

    #[test]
    fn quick_fixes_follow_the_current_text_and_the_asked_range() {
        let text = "scenario s {\n  step first at due {}\n  step b at frist {}\n}\n";
        let set = TempSet::new("fixes", &[]);
        let mut ws = Workspace::new();
        let uri = set.uri("s.relance");
        ws.open(uri.clone(), text.to_string(), 1);
        let on = |line, character| {
            Range::new(
                Position::new(line, character),
                Position::new(line, character),
            )
        };
        let fixes = ws.quick_fixes(&uri, on(2, 12));
        assert_eq!(fixes.len(), 1);
        assert_eq!(fixes[0].title, "Replace with `first`");
        assert!(ws.quick_fixes(&uri, on(1, 3)).is_empty(), "another line");
        ws.change(&uri, text.replace("frist", "first"), 2);
        assert!(ws.quick_fixes(&uri, on(2, 12)).is_empty(), "fixed");
        ws.close(&uri);
        assert!(ws.quick_fixes(&uri, on(2, 12)).is_empty(), "closed");
    }

    /// The codes published for `uri`, if anything was.
    fn codes(published: &[Publish], uri: &Uri) -> Option<Vec<String>> {
        let p = published.iter().find(|p| &p.uri == uri)?;
        Some(
            p.diagnostics
                .iter()
                .map(|d| match &d.code {
                    Some(lsp::NumberOrString::String(c)) => c.clone(),
                    other => format!("{other:?}"),
                })
                .collect(),
        )
    }

    #[test]
    fn template_diagnostics_are_published_as_relance_check_reports_them() {
        let scenario =
            "scenario s {\n  step a at due {\n    email \"reminder\" to accounting\n  }\n}\n";
        let set = TempSet::new(
            "templates",
            &[
                ("s.relance", scenario),
                ("templates/templates.toml", "languages = [\"fr\", \"en\"]\n"),
                (
                    "templates/reminder.fr.txt",
                    "Subject: Relance\n\nBonjour {{ customer.nmae }},\n",
                ),
            ],
        );
        let mut ws = Workspace::new();
        let uri = set.uri("s.relance");
        let template = set.uri("templates/reminder.fr.txt");
        let published = ws.open(uri.clone(), scenario.to_string(), 1);
        let missing = relance_dsl::Code::MissingTemplateLanguage
            .code()
            .to_string();
        let unknown = relance_dsl::Code::UnknownTemplateVariable
            .code()
            .to_string();
        assert_eq!(
            codes(&published, &uri),
            Some(vec![missing]),
            "no English variant: {published:?}"
        );
        assert_eq!(codes(&published, &template), Some(vec![unknown]));
        let p = published.iter().find(|p| p.uri == template).unwrap();
        assert_eq!(p.diagnostics[0].range.start, Position::new(2, 11));
        assert_eq!(p.version, None, "not open in the editor");
        let settings = set.uri("templates/templates.toml");
        assert_eq!(
            codes(&published, &settings),
            Some(vec![
                relance_dsl::Code::LanguageWithoutTemplates
                    .code()
                    .to_string()
            ]),
            "`en` is declared, nothing is written in it"
        );

        // Fixed on disk: the template's diagnostics are cleared, the scenario's too.
        let fixed = "Subject: Relance\n\nBonjour {{ customer.name }},\n";
        std::fs::write(set.0.join("templates/reminder.fr.txt"), fixed).unwrap();
        std::fs::write(set.0.join("templates/reminder.en.txt"), fixed).unwrap();
        let published = ws.files_changed(&[set.0.join("templates/reminder.fr.txt")]);
        assert_eq!(codes(&published, &template), Some(vec![]), "{published:?}");
        assert_eq!(codes(&published, &uri), Some(vec![]));
        assert_eq!(codes(&published, &settings), Some(vec![]), "cleared");
        // Nothing changed since: nothing published again.
        let again = ws.files_changed(&[set.0.join("templates/reminder.en.txt")]);
        assert_eq!(codes(&again, &template), None);
    }

    #[test]
    fn rules_diagnostics_are_published_on_the_rhai_file_open_or_not() {
        let scenario = "scenario s {\n  applies when rule(\"big\")\n  step a at due {}\n}\n";
        let broken = "fn big(invoice, customer) {\n    invoice.amount >\n}\n";
        let set = TempSet::new(
            "rules",
            &[("s.relance", scenario), ("rules/big.rhai", broken)],
        );
        let mut ws = Workspace::new();
        let uri = set.uri("s.relance");
        let rules = set.uri("rules/big.rhai");
        let e0190 = relance_dsl::Code::RulesFileError.code().to_string();

        // Opening the scenario publishes the rules file's diagnostic, at its line.
        let published = ws.open(uri.clone(), scenario.to_string(), 1);
        assert_eq!(codes(&published, &uri), Some(vec![]), "{published:?}");
        assert_eq!(codes(&published, &rules), Some(vec![e0190.clone()]));
        let p = published.iter().find(|p| p.uri == rules).unwrap();
        assert_eq!(p.diagnostics[0].range.start.line, 2, "{p:?}");
        assert_eq!(p.version, None, "not open in the editor");
        // A change of the scenario does not send it again: it did not change.
        let published = ws.change(&uri, scenario.replace("step a", "step b"), 2);
        assert_eq!(codes(&published, &rules), None, "{published:?}");

        // Opened and edited in the editor: a forbidden call, then fixed (cleared).
        let published = ws.open(rules.clone(), broken.to_string(), 1);
        assert_eq!(codes(&published, &rules), Some(vec![e0190]));
        let forbidden = "fn big(invoice, customer) {\n    print(1);\n    true\n}\n";
        let published = ws.change(&rules, forbidden.to_string(), 2);
        let e0191 = relance_dsl::Code::ForbiddenInRule.code().to_string();
        assert_eq!(
            codes(&published, &rules),
            Some(vec![e0191]),
            "{published:?}"
        );
        assert_eq!(published[published.len() - 1].version, Some(2));
        let fixed = "fn big(invoice, customer) {\n    invoice.amount > 10\n}\n";
        let published = ws.change(&rules, fixed.to_string(), 3);
        assert_eq!(codes(&published, &rules), Some(vec![]), "{published:?}");
        assert!(
            ws.scenario_document(&rules).is_none(),
            "never read as a scenario"
        );

        // A wrong arity in the scenario is now known (the rules compile).
        let published = ws.change(
            &uri,
            scenario.replace("rule(\"big\")", "rule(\"big\", 1)"),
            3,
        );
        let arity = codes(&published, &uri).unwrap();
        assert_eq!(arity.len(), 1, "{published:?}");

        // No scenario calls it any more: the rules file is never used (W0190), on it.
        let published = ws.change(
            &uri,
            scenario.replace("  applies when rule(\"big\")\n", ""),
            4,
        );
        let w0190 = relance_dsl::Code::UnusedRulesFile.code().to_string();
        assert_eq!(
            codes(&published, &rules),
            Some(vec![w0190]),
            "{published:?}"
        );

        // Closed: back to the disk's text, broken again.
        let published = ws.close(&rules);
        let last = published.iter().rfind(|p| p.uri == rules).unwrap();
        assert_eq!(last.diagnostics.len(), 1, "{published:?}");
    }
}
