//! Loading a scenario set from disk: its `*.relance` files, the names in `templates/`, and
//! the compiled `rules/`. Then checking and compiling it with `relance_dsl`.
//!
//! A folder is a set; a lone file is a set of one, with the templates and rules of its
//! folder. This module reads files and hands them on; it must not interpret scenarios.
//!
//! Two ways in: [`load`] for running a set (a `rules/` file that does not compile is a
//! [`SetError::Rules`]), and [`check`] for `relance check` (and an editor), where every problem
//! of `rules/` is a [`Diagnostic`] in its `.rhai` file beside those of the `.relance` files;
//! [`read_rules`] gives the `rules/` part alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use relance_dsl::diagnostics::{Elsewhere, LineIndex};
use relance_dsl::syntax::ast::Span;
use relance_dsl::{
    Code, Compiled, Diagnostic, RuleSite, SetContext, SourceFile, check_set_full, compile,
};

use crate::interest::RateTable;
use crate::rules::{RuleError, RuleSet};

/// A set read from disk, ready to compile.
pub struct LoadedSet {
    /// The folder holding `templates/` and `rules/`.
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    pub context: SetContext,
    pub rules: RuleSet,
}

#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a .relance file nor a folder")]
    NotASet { path: String },
    #[error("rules: {0}")]
    Rules(#[from] RuleError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SetError + '_ {
    move |source| SetError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads the set at `path` (a folder, or one `.relance` file).
pub fn load(path: &Path) -> Result<LoadedSet, SetError> {
    let (root, files) = read_relance(path)?;
    let rules = read_rules(&root)?;
    let Some(set) = rules.set else {
        let first = rules.problems.into_iter().next();
        return Err(SetError::Rules(
            first.expect("a rules folder without a set has a problem"),
        ));
    };
    let context = SetContext {
        templates: template_names(&root.join("templates"))?,
        rules: rules.arities,
        rule_sites: rules.sites,
    };
    Ok(LoadedSet {
        root,
        files,
        context,
        rules: set,
    })
}

/// The folder of a set and its `.relance` files, read.
fn read_relance(path: &Path) -> Result<(PathBuf, Vec<SourceFile>), SetError> {
    let (root, sources) = if path.is_dir() {
        (path.to_path_buf(), relance_files(path)?)
    } else if path.extension().is_some_and(|e| e == "relance") {
        let root = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        (root, vec![path.to_path_buf()])
    } else if !path.exists() {
        return Err(SetError::Io {
            path: path.display().to_string(),
            source: std::io::ErrorKind::NotFound.into(),
        });
    } else {
        return Err(SetError::NotASet {
            path: path.display().to_string(),
        });
    };
    let mut files = Vec::with_capacity(sources.len());
    for p in &sources {
        let text = std::fs::read_to_string(p).map_err(io(p))?;
        files.push(SourceFile::new(p.display().to_string(), text));
    }
    Ok((root, files))
}

/// A `rules/*.rhai` file: its path (as shown to users) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesFile {
    pub path: String,
    pub text: String,
}

/// The `rules/` folder of a set, read and compiled, with every problem found.
#[derive(Debug)]
pub struct RulesRead {
    /// Its `*.rhai` files, in file-name order.
    pub files: Vec<RulesFile>,
    /// The diagnostics of each file, parallel to `files`, sorted by position.
    pub diagnostics: Vec<Vec<Diagnostic>>,
    /// The problems behind `diagnostics`, in file order.
    pub problems: Vec<RuleError>,
    /// The compiled rules, when there is no problem (an empty set without a `rules/` folder).
    pub set: Option<RuleSet>,
    /// What the checker knows of the rules (`SetContext::rules`): `None` without a folder, and
    /// while a file has a problem (its functions are unknown, so rule names are not checked
    /// rather than reported unknown).
    pub arities: Option<BTreeMap<String, usize>>,
    /// Where each public function is defined (`SetContext::rule_sites`).
    pub sites: BTreeMap<String, RuleSite>,
    /// The public functions found, even in files with a problem (for completion).
    pub signatures: Vec<crate::rules::RuleSignature>,
    /// The calls each file makes, parallel to `files`, read from rhai's syntax tree (none for
    /// a file that does not compile): what W0190 ([`unused_rules`]) reads.
    pub calls: Vec<Vec<crate::rules::calls::RuleCall>>,
}

/// Reads and compiles the `rules/` folder of the set rooted at `root`. Only reading is an
/// `Err`; a file that does not compile, a forbidden keyword or a function defined twice are
/// diagnostics in [`RulesRead::diagnostics`].
pub fn read_rules(root: &Path) -> Result<RulesRead, SetError> {
    let dir = root.join("rules");
    let mut paths = Vec::new();
    if dir.is_dir() {
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let p = entry.map_err(io(&dir))?.path();
            if p.is_file() && p.extension().is_some_and(|e| e == "rhai") {
                paths.push(p);
            }
        }
    }
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    let mut files = Vec::with_capacity(paths.len());
    for p in &paths {
        let text = std::fs::read_to_string(p).map_err(io(p))?;
        files.push(RulesFile {
            path: p.display().to_string(),
            text,
        });
    }
    Ok(check_rules(dir.is_dir(), files))
}

/// Compiles and checks the files of a `rules/` folder given in memory (`exists`: whether the
/// set has a `rules/` folder at all), as [`read_rules`] does after reading them: the one home
/// of the rules' diagnostics, for `relance check` and for an editor's unsaved buffers.
pub fn check_rules(exists: bool, mut files: Vec<RulesFile>) -> RulesRead {
    files.sort_by(|a, b| {
        Path::new(&a.path)
            .file_name()
            .cmp(&Path::new(&b.path).file_name())
    });
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.path.clone(), f.text.clone()))
        .collect();
    let (set, problems) =
        RuleSet::check_sources_with_limits(&sources, crate::rules::RuleLimits::default());
    let mut diagnostics: Vec<Vec<Diagnostic>> = vec![Vec::new(); files.len()];
    for problem in &problems {
        if let Some((i, d)) = rule_diagnostic(&files, problem) {
            diagnostics[i].push(d);
        }
    }
    for d in &mut diagnostics {
        d.sort_by_key(|d| (d.span.start, d.code));
    }
    let signatures = match &set {
        Some(set) => set.functions(),
        None => RuleSet::functions_of(&sources),
    };
    let mut sites = BTreeMap::new();
    for f in &signatures {
        let Some(file) = files.iter().find(|r| r.path == f.file) else {
            continue;
        };
        if let Some(span) = definition_span(&file.text, &f.name) {
            sites.entry(f.name.clone()).or_insert(RuleSite {
                file: file.path.clone(),
                span,
            });
        }
    }
    let calls = files
        .iter()
        .map(|f| crate::rules::calls::of_source(&f.text))
        .collect();
    let arities = (exists && problems.is_empty()).then(|| {
        signatures
            .iter()
            .filter_map(|f| Some((f.name.clone(), f.extra_args()?)))
            .collect()
    });
    RulesRead {
        files,
        diagnostics,
        problems,
        set,
        arities,
        sites,
        signatures,
        calls,
    }
}

/// The diagnostic of a problem of `rules/`, with the index of the file it belongs to.
fn rule_diagnostic(files: &[RulesFile], problem: &RuleError) -> Option<(usize, Diagnostic)> {
    let index = |path: &str| files.iter().position(|f| f.path == path);
    match problem {
        RuleError::Compile {
            file,
            line,
            column,
            message,
            forbidden,
        } => {
            let i = index(file)?;
            let span = span_at(&files[i].text, *line, *column);
            let d = match forbidden {
                Some(keyword) => Diagnostic::new(
                    Code::ForbiddenInRule,
                    span,
                    format!("`{keyword}` is not available in rules"),
                )
                .with_label("forbidden by the rule sandbox")
                .with_help(
                    "a rule cannot evaluate code, print or load modules: it reads `invoice` and \
                     `customer` and returns a boolean or a number",
                ),
                None => Diagnostic::new(Code::RulesFileError, span, message.clone())
                    .with_label("rhai cannot compile this"),
            };
            Some((i, d))
        }
        RuleError::Duplicate {
            name,
            first,
            second,
        } => {
            let i = index(second)?;
            let text = &files[i].text;
            let span = definition_span(text, name).unwrap_or(Span::new(0, 0));
            let mut d = Diagnostic::new(
                Code::DuplicateRuleFunction,
                span,
                format!("function `{name}` is defined in two rules files"),
            )
            .with_label("second definition");
            if let Some(j) = index(first) {
                let f = &files[j];
                let at = definition_span(&f.text, name).map_or(0, |s| s.start);
                let (line, col) = LineIndex::new(&f.text).line_col(&f.text, at);
                d = d.with_help(format!(
                    "first defined at {}:{line}:{col}; the files of rules/ share one namespace",
                    f.path
                ));
            }
            Some((i, d))
        }
        _ => None,
    }
}

/// The span of the word at rhai's `line` and `column` (1-based, columns in characters; 0 when
/// rhai gave none): an identifier or number whole, else one character.
fn span_at(text: &str, line: usize, column: usize) -> Span {
    let line_start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>()
        .min(text.len());
    let rest = &text[line_start..];
    let line_len = rest.find('\n').unwrap_or(rest.len());
    let start = line_start
        + rest[..line_len]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line_len, |(i, _)| i);
    let word = text[start..]
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(text.len() - start, |(i, _)| i);
    let len = if word > 0 {
        word
    } else {
        text[start..].chars().next().map_or(0, char::len_utf8)
    };
    Span::new(start, start + len)
}

/// The span of `name` where a line of `text` defines it (`fn name(` or `private fn name(`).
fn definition_span(text: &str, name: &str) -> Option<Span> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let head = trimmed
            .strip_prefix("private")
            .filter(|r| r.starts_with(char::is_whitespace))
            .map_or(trimmed, str::trim_start);
        if let Some(rest) = head
            .strip_prefix("fn")
            .filter(|r| r.starts_with(char::is_whitespace))
        {
            let rest = rest.trim_start();
            if rest
                .strip_prefix(name)
                .is_some_and(|after| after.trim_start().starts_with('('))
            {
                let start = offset + (line.len() - rest.len());
                return Some(Span::new(start, start + name.len()));
            }
        }
        offset += line.len();
    }
    None
}

/// A whole set checked as `relance check` reports it: the diagnostics of every `.relance` file
/// and of every `rules/*.rhai` file.
#[derive(Debug)]
pub struct SetCheck {
    /// The folder holding `templates/` and `rules/`.
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    /// Per `.relance` file, parallel to `files`.
    pub diagnostics: Vec<Vec<Diagnostic>>,
    /// Per `.relance` file, the labels its diagnostics carry into `rules` (a rule's definition).
    pub elsewhere: Vec<Vec<Elsewhere>>,
    pub rules: Vec<RulesFile>,
    /// Per rules file, parallel to `rules`.
    pub rule_diagnostics: Vec<Vec<Diagnostic>>,
    /// The rate table the set was checked against (its `rates.csv` over the built-in one):
    /// `relance check --today` warns of the half-years it lacks.
    pub rates: std::borrow::Cow<'static, RateTable>,
}

/// Reads and checks the set at `path`: every problem of its `.relance` files and of its
/// `rules/` folder is a diagnostic. Only reading (a missing path, an unreadable file) is an
/// `Err`.
pub fn check(path: &Path) -> Result<SetCheck, SetError> {
    let (root, files) = read_relance(path)?;
    let rules = read_rules(&root)?;
    let context = SetContext {
        templates: template_names(&root.join("templates"))?,
        rules: rules.arities,
        rule_sites: rules.sites,
    };
    let mut checked = check_set_full(&files, &context);
    // W0175 against the set folder's `rates.csv` over the built-in table.
    let table = set_rates(&root)?;
    for (diags, floor) in checked
        .diagnostics
        .iter_mut()
        .zip(crate::rate_floor::diagnostics(&files, &table))
    {
        if !floor.is_empty() {
            diags.extend(floor);
            diags.sort_by_key(|d| d.span.start);
        }
    }
    let mut rule_diagnostics = rules.diagnostics;
    let parsed = files
        .iter()
        .all(|f| f.parsed.diagnostics.iter().all(|d| !d.is_error()));
    if parsed {
        let unused = unused_rules(
            &rules.files,
            &rule_diagnostics,
            &rules.signatures,
            &rules.calls,
            &checked.rules_used,
        );
        for (diags, d) in rule_diagnostics.iter_mut().zip(unused) {
            diags.extend(d);
        }
    }
    Ok(SetCheck {
        root,
        files,
        diagnostics: checked.diagnostics,
        elsewhere: checked.elsewhere,
        rules: rules.files,
        rule_diagnostics,
        rates: table,
    })
}

/// The rate table the set is checked against: its folder's `rates.csv` laid on the built-in
/// table, else the built-in table. An invalid file is an error naming it.
fn set_rates(root: &Path) -> Result<std::borrow::Cow<'static, RateTable>, SetError> {
    let path = root.join("rates.csv");
    if !path.is_file() {
        return Ok(std::borrow::Cow::Borrowed(RateTable::builtin()));
    }
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    RateTable::parse(&text)
        .and_then(|over| RateTable::builtin().overlay(&over))
        .map(std::borrow::Cow::Owned)
        .map_err(|e| SetError::Io {
            path: path.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
        })
}

/// The warning of each rules file (parallel to `files`) that the set never uses: it defines
/// public functions, compiles, and none of its functions is called by a scenario's
/// `rule("name", …)` (`used`, from the checker) nor from another rules file (a file of
/// helpers): `calls`, parallel to `files`, are the calls each file makes, read from rhai's
/// syntax tree ([`RulesRead::calls`]), so a name in a comment or a string is no call. The one
/// home of W0190, for `relance check` and the language server. Give it only the rules of a set
/// whose scenarios parse (a scenario that does not parse may hide a call). None while any rules
/// file has an error (`diagnostics`, parallel to `files`): a file that does not compile gives
/// no syntax tree, so the calls it makes are unknown. (Only errors count: a warning leaves the
/// file's tree known.)
pub fn unused_rules(
    files: &[RulesFile],
    diagnostics: &[Vec<Diagnostic>],
    signatures: &[crate::rules::RuleSignature],
    calls: &[Vec<crate::rules::calls::RuleCall>],
    used: &BTreeSet<String>,
) -> Vec<Option<Diagnostic>> {
    if diagnostics.iter().flatten().any(Diagnostic::is_error) {
        return vec![None; files.len()];
    }
    files
        .iter()
        .map(|file| {
            let defined: Vec<&crate::rules::RuleSignature> =
                signatures.iter().filter(|s| s.file == file.path).collect();
            let first = defined.first()?.name.as_str();
            let called_elsewhere = |s: &crate::rules::RuleSignature| {
                files
                    .iter()
                    .zip(calls)
                    .filter(|(f, _)| f.path != file.path)
                    .flat_map(|(_, c)| c)
                    .any(|c| c.reaches(&s.name, s.params))
            };
            if defined
                .iter()
                .any(|s| used.contains(&s.name) || called_elsewhere(s))
            {
                return None;
            }
            let span = definition_span(&file.text, first).unwrap_or(Span::new(0, 0));
            let names: Vec<String> = defined.iter().map(|s| format!("`{}`", s.name)).collect();
            Some(
                Diagnostic::new(
                    Code::UnusedRulesFile,
                    span,
                    format!(
                        "no scenario of the set calls the rules of this file ({})",
                        names.join(", ")
                    ),
                )
                .with_label("never called")
                .with_help(format!(
                    "a condition calls a rule with `rule(\"{first}\")`; check the name, or remove \
                     the file if it is obsolete"
                )),
            )
        })
        .collect()
}

impl LoadedSet {
    pub fn compile(&self) -> Compiled {
        compile(&self.files, &self.context)
    }
}

/// The `*.relance` files of a folder (not its subfolders), sorted.
pub fn relance_files(dir: &Path) -> Result<Vec<PathBuf>, SetError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let p = entry.map_err(io(dir))?.path();
        if p.is_file() && p.extension().is_some_and(|e| e == "relance") {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// `reminder-1` for `templates/reminder-1.fr.txt`; `None` without a `templates/` folder.
pub fn template_names(dir: &Path) -> Result<Option<BTreeSet<String>>, SetError> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let name = entry
            .map_err(io(dir))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let mut parts = name.rsplitn(3, '.');
        if let (Some(_ext), Some(_lang), Some(base)) = (parts.next(), parts.next(), parts.next()) {
            names.insert(base.to_string());
        }
    }
    Ok(Some(names))
}
