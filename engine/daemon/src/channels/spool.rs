//! The spool folder, shared by the channels that write files: letters (PDF and HTML, the
//! `letter` channel) and the files of channels told to write instead of send (`.eml` emails,
//! JSON webhooks). File names derive from the message key, so writing again after a crash
//! replaces the same file.
//!
//! It is not a channel itself, and must not decide what to write, only where and how
//! (atomically: temp file + rename).

use std::path::{Path, PathBuf};

use super::super::model::Message;

#[derive(Clone)]
pub struct Spool {
    root: PathBuf,
}

/// A file-name-safe form of a key.
pub fn safe(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Spool {
    pub fn new(root: PathBuf) -> Spool {
        Spool { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `bytes` to `<root>/<kind>/<date>/<customer>-<key>.<ext>` atomically.
    pub fn write(
        &self,
        kind: &str,
        m: &Message,
        ext: &str,
        bytes: &[u8],
    ) -> Result<PathBuf, String> {
        let dir = self.root.join(kind).join(m.date.to_string());
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(format!("{}-{}.{ext}", safe(&m.customer), safe(&m.key)));
        let tmp = path.with_extension(format!("{ext}.tmp"));
        std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }
}
