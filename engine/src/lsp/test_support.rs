//! Test helpers shared by the language server's unit tests: temporary scenario sets.

use tower_lsp_server::ls_types::Uri;

/// A set in a fresh temporary folder, removed on drop.
pub struct TempSet(pub std::path::PathBuf);

impl TempSet {
    pub fn new(tag: &str, files: &[(&str, &str)]) -> TempSet {
        let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("relance-lsp-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        TempSet(dir)
    }

    pub fn uri(&self, name: &str) -> Uri {
        Uri::from_file_path(self.0.join(name)).unwrap()
    }
}

impl Drop for TempSet {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

