//! The scenario set of a document: every `*.relance` file of its folder, parsed, with the
//! folder's templates (names and texts) and rules, as `relance check FOLDER` sees them.
//!
//! A set is read from disk through [`relance_core::scenario_set`] (so the server and the command
//! agree on what a set is), then open documents overlay their in-memory text. Each file's
//! parse is kept, so a change re-parses one file only (and of it, only what the edit
//! touched). This module owns reading from disk;
//! it must not speak LSP (positions, URIs) nor decide what to publish (`workspace` does).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use relance_dsl::{Diagnostic, SetContext, SourceFile, check_set_full};

use super::incremental;
use relance_core::rules::calls::RuleCall;
use relance_core::rules::{RuleError, RuleSignature};
use relance_core::scenario_set::{self, RulesFile, SetError};

/// Why the set could not be read as `relance check` would, and where (a file it cannot read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub message: String,
    /// `(file, 1-based line, 1-based column)` when the error points into a file.
    pub location: Option<(PathBuf, usize, usize)>,
}

/// A scenario set held in memory.
#[derive(Debug)]
pub struct SetState {
    /// The folder holding `templates/` and `rules/`; `None` for a document that is not a file.
    pub root: Option<PathBuf>,
    /// The files, sorted by path (the order of `relance check`, which decides which of two
    /// duplicate definitions is "first").
    pub files: Vec<SourceFile>,
    /// Each file's path, parallel to `files`.
    pub paths: Vec<PathBuf>,
    pub context: SetContext,
    /// The public functions of `rules/`.
    pub rules: Vec<RuleSignature>,
    /// The files of `templates/` by name (the settings file included), as on disk.
    pub templates: BTreeMap<String, String>,
    /// Whether the set has a `rules/` folder.
    pub rules_folder: bool,
    /// The `rules/*.rhai` files (open ones with their editor text) and their diagnostics,
    /// as `relance check` gives them ([`scenario_set::check_rules`]), kept until a rules
    /// file changes.
    pub rules_files: Vec<RulesFile>,
    pub rule_diagnostics: Vec<Vec<Diagnostic>>,
    /// The calls each rules file makes (parallel to `rules_files`), for W0190.
    pub rule_calls: Vec<Vec<RuleCall>>,
    pub error: Option<LoadError>,
    /// Each template file's own diagnostics, reused while its text is the same.
    pub template_cache: std::sync::Mutex<relance_templates::TemplateCache>,
}

/// What [`SetState::check`] finds: the diagnostics of each `.relance` file (parallel to
/// `files`, the templates' findings about them included), of each template file and of
/// each rules file.
#[derive(Debug, Default)]
pub struct SetCheck {
    pub files: Vec<Vec<Diagnostic>>,
    /// Every file of `templates/`, sorted by name, with its diagnostics (`relance check`'s).
    pub templates: Vec<relance_templates::FileDiagnostics>,
    /// Every file of `rules/` with its diagnostics (`relance check`'s): `(path, text,
    /// diagnostics)`.
    pub rules: Vec<(PathBuf, String, Vec<Diagnostic>)>,
}

impl SetState {
    /// Reads the set in `folder` as `relance check` does. A `rules/` file with a problem is
    /// a diagnostic of that file (the scenarios are then checked without rule names); only a
    /// file that cannot be read is a [`LoadError`], and the `.relance` files that could be
    /// read are still checked.
    pub fn load(folder: &Path) -> SetState {
        let mut state = SetState::empty(Some(folder.to_path_buf()));
        state.templates = templates_of(folder);
        match scenario_set::template_names(&folder.join("templates")) {
            Ok(names) => state.context.templates = names,
            Err(e) => state.error = Some(load_error(&e)),
        }
        match scenario_set::read_rules(folder) {
            Ok(read) => {
                state.rules_folder = folder.join("rules").is_dir();
                state.set_rules(read);
            }
            Err(e) => state.error = Some(load_error(&e)),
        }
        match scenario_set::relance_files(folder) {
            Ok(paths) => {
                for path in paths {
                    match std::fs::read_to_string(&path) {
                        Ok(text) => {
                            state.upsert(&path, &text);
                        }
                        Err(e) => {
                            state.error = Some(LoadError {
                                message: format!("{}: {e}", path.display()),
                                location: Some((path, 1, 1)),
                            });
                        }
                    }
                }
            }
            Err(e) => state.error = Some(load_error(&e)),
        }
        state
    }

    /// Keeps a checked `rules/` folder: its files, diagnostics, and what scenarios see of it.
    fn set_rules(&mut self, read: scenario_set::RulesRead) {
        self.context.rules = read.arities;
        self.context.rule_sites = read.sites;
        self.rules = read.signatures;
        self.rules_files = read.files;
        self.rule_diagnostics = read.diagnostics;
        self.rule_calls = read.calls;
    }

    /// Sets a `rules/*.rhai` file's text (an editor's buffer) and checks the rules again.
    pub fn upsert_rules(&mut self, path: &Path, text: &str) {
        let name = path.display().to_string();
        let mut files = self.rules_files.clone();
        match files.iter_mut().find(|f| f.path == name) {
            Some(f) if f.text == text => return,
            Some(f) => f.text = text.to_string(),
            None => files.push(RulesFile {
                path: name,
                text: text.to_string(),
            }),
        }
        self.rules_folder = true;
        self.set_rules(scenario_set::check_rules(true, files));
    }

    /// Puts a rules file back to its disk content (or drops it) and checks the rules again.
    pub fn revert_rules(&mut self, path: &Path) {
        let name = path.display().to_string();
        let mut files = self.rules_files.clone();
        files.retain(|f| f.path != name);
        if let Ok(text) = std::fs::read_to_string(path) {
            files.push(RulesFile { path: name, text });
        }
        self.set_rules(scenario_set::check_rules(self.rules_folder, files));
    }

    /// A set with no file yet.
    pub fn empty(root: Option<PathBuf>) -> SetState {
        SetState {
            root,
            files: Vec::new(),
            paths: Vec::new(),
            context: SetContext::default(),
            rules: Vec::new(),
            templates: BTreeMap::new(),
            rules_folder: false,
            rules_files: Vec::new(),
            rule_diagnostics: Vec::new(),
            rule_calls: Vec::new(),
            error: None,
            template_cache: std::sync::Mutex::default(),
        }
    }

    pub fn index_of(&self, path: &Path) -> Option<usize> {
        self.paths.binary_search_by(|p| p.as_path().cmp(path)).ok()
    }

    /// Sets a file's text, adding the file in path order when it is new. A known file is
    /// re-parsed from its previous parse (only what the edit touched, see `incremental`).
    pub fn upsert(&mut self, path: &Path, text: &str) -> usize {
        match self.paths.binary_search_by(|p| p.as_path().cmp(path)) {
            Ok(i) => {
                let file = &mut self.files[i];
                if file.text != text {
                    let parsed = std::mem::take(&mut file.parsed);
                    file.parsed = incremental::reparse(&file.text, parsed, text);
                    file.text = text.to_string();
                }
                i
            }
            Err(i) => {
                self.paths.insert(i, path.to_path_buf());
                self.files
                    .insert(i, SourceFile::new(path.display().to_string(), text));
                i
            }
        }
    }

    /// Puts a file back to its disk content, or drops it when it is not on disk.
    pub fn revert(&mut self, path: &Path) {
        match std::fs::read_to_string(path) {
            Ok(text) if path.is_file() => {
                self.upsert(path, &text);
            }
            _ => {
                if let Some(i) = self.index_of(path) {
                    self.paths.remove(i);
                    self.files.remove(i);
                }
            }
        }
    }

    /// The diagnostics of every file, as `relance check` gives them: the scenario checker's,
    /// and the templates' (`relance_templates::check_set`: each template file's, and a
    /// template a scenario uses but missing in a declared language, on the scenario file).
    pub fn check(&self) -> SetCheck {
        let checked = check_set_full(&self.files, &self.context);
        let mut files = checked.diagnostics;
        if self.root.is_none() {
            return SetCheck {
                files,
                ..SetCheck::default()
            };
        }
        // A rules file no scenario calls (W0190), unless a scenario does not parse.
        let parsed = self
            .files
            .iter()
            .all(|f| f.parsed.diagnostics.iter().all(|d| !d.is_error()));
        let unused = if parsed {
            scenario_set::unused_rules(
                &self.rules_files,
                &self.rule_diagnostics,
                &self.rules,
                &self.rule_calls,
                &checked.rules_used,
            )
        } else {
            Vec::new()
        };
        let rules = self
            .rules_files
            .iter()
            .zip(&self.rule_diagnostics)
            .enumerate()
            .map(|(i, (f, d))| {
                let mut d = d.clone();
                d.extend(unused.get(i).cloned().flatten());
                (PathBuf::from(&f.path), f.text.clone(), d)
            })
            .collect();
        let mut checked = {
            // A panic while checking leaves whole entries only: the cache stays usable.
            let mut cache = self
                .template_cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            relance_templates::check_set_cached(&self.files, &self.templates, &mut cache)
        };
        for (i, diags) in files.iter_mut().enumerate() {
            if let Some(more) = checked.scenarios.remove(&i) {
                diags.extend(more);
                diags.sort_by_key(|d| d.span);
            }
        }
        SetCheck {
            files,
            templates: checked.templates,
            rules,
        }
    }
}

/// The files of `root/templates/` (none when it cannot be read: the set's own loading
/// reports a folder it cannot read).
fn templates_of(root: &Path) -> BTreeMap<String, String> {
    relance_templates::read_dir(&root.join("templates")).unwrap_or_default()
}

fn load_error(e: &SetError) -> LoadError {
    let location = match e {
        SetError::Rules(RuleError::Compile {
            file, line, column, ..
        }) => Some((PathBuf::from(file), (*line).max(1), (*column).max(1))),
        SetError::Io { path, .. } | SetError::NotASet { path } => Some((PathBuf::from(path), 1, 1)),
        SetError::Rules(_) => None,
    };
    LoadError {
        message: e.to_string(),
        location,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_keeps_path_order_and_revert_drops_unsaved_files() {
        let mut set = SetState::empty(None);
        set.upsert(Path::new("/x/b.relance"), "policy p { use s otherwise }");
        set.upsert(Path::new("/x/a.relance"), "scenario s { step a at due {} }");
        assert_eq!(
            set.paths,
            [PathBuf::from("/x/a.relance"), PathBuf::from("/x/b.relance")]
        );
        assert_eq!(set.index_of(Path::new("/x/b.relance")), Some(1));
        let diags = set.check().files;
        assert!(diags.iter().flatten().all(|d| !d.is_error()), "{diags:?}");
        set.revert(Path::new("/x/a.relance"));
        assert_eq!(set.paths.len(), 1);
        assert_eq!(
            set.check().files[0][0].code,
            relance_dsl::Code::UnknownScenario,
            "the policy's scenario is gone"
        );
    }
}
