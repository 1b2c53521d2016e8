//! The stdlib scenarios and the example portfolio, embedded in the binary, so `plan`,
//! `report` and `demo` work outside the checkout: when the user names no set (no
//! `--scenarios`), the embedded stdlib is written to a fresh temporary folder (removed when
//! the command ends) and loaded from there like any set; `demo` without `--data` does the same
//! with the example portfolio.
//!
//! It must not decide anything about the files: they are copied byte for byte.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

static STDLIB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../stdlib-scenarios");
static EXAMPLES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../examples");

/// A folder a command reads: the user's own, or an embedded one written to a temporary
/// folder that lives as long as this value.
pub struct Folder {
    path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Folder {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it is the embedded copy (for messages).
    pub fn embedded(&self) -> bool {
        self._temp.is_some()
    }
}

fn materialize(dir: &Dir<'static>, name: &str) -> Result<Folder, String> {
    let temp = tempfile::Builder::new()
        .prefix("relance-embedded-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let path = temp.path().join(name);
    std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    dir.extract(&path)
        .map_err(|e| format!("cannot write the embedded {name}: {e}"))?;
    Ok(Folder {
        path,
        _temp: Some(temp),
    })
}

/// `--scenarios` when given, else the embedded stdlib.
pub fn scenarios(given: Option<PathBuf>) -> Result<Folder, String> {
    match given {
        Some(path) => Ok(Folder { path, _temp: None }),
        None => materialize(&STDLIB, "stdlib-scenarios"),
    }
}

/// `--data` when given, else the embedded example portfolio.
pub fn examples(given: Option<PathBuf>) -> Result<Folder, String> {
    match given {
        Some(path) => Ok(Folder { path, _temp: None }),
        None => materialize(&EXAMPLES, "examples"),
    }
}
