//! Loading a scenario set from disk: its `*.relance` files, the names in `templates/`, and
//! the compiled `rules/`. Then checking and compiling it with `relance_dsl`.
//!
//! A folder is a set; a lone file is a set of one, with the templates and rules of its
//! folder. This module reads files and hands them on; it must not interpret scenarios.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use relance_dsl::{Compiled, SetContext, SourceFile, compile};

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
    let rules_dir = root.join("rules");
    let rules = RuleSet::load_dir(&rules_dir)?;
    let context = SetContext {
        templates: template_names(&root.join("templates"))?,
        rules: rule_arities(&rules_dir, &rules),
    };
    Ok(LoadedSet {
        root,
        files,
        context,
        rules,
    })
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
fn template_names(dir: &Path) -> Result<Option<BTreeSet<String>>, SetError> {
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

fn rule_arities(dir: &Path, rules: &RuleSet) -> Option<BTreeMap<String, usize>> {
    dir.is_dir().then(|| {
        rules
            .functions()
            .into_iter()
            .filter_map(|f| Some((f.name.clone(), f.extra_args()?)))
            .collect()
    })
}
