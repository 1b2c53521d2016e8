//! Deployed scenario sets: the portable bundle (scenario files, templates, rules as text), its
//! compilation, and the catalog of every deployment the store holds.
//!
//! A deployment never replaces an earlier one: running cases stay pinned to their scenario
//! version and keep running with the rules and templates of the latest deployment that holds
//! that version; new cases take the current (latest) set. This module owns deploying and the
//! version lookup; it must not run scenarios or touch the store (the engine persists bundles).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use relance_dsl::diagnostics::JsonDiagnostic;
use relance_dsl::ir::{Scenario, ScenarioSet};
use relance_dsl::{SetContext, SourceFile, compile};

use super::error::DaemonError;
use relance_core::rules::RuleSet;
use relance_core::scenario_set;

/// A file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleFile {
    pub path: String,
    pub text: String,
}

/// A scenario set as text: what `POST /v1/scenarios` takes and the store keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Bundle {
    /// The `*.relance` files.
    pub files: Vec<BundleFile>,
    /// `templates/NAME.LANG.txt` files by file name (`reminder-1.fr.txt`).
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
    /// The `rules/*.rhai` files.
    #[serde(default)]
    pub rules: Vec<BundleFile>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DaemonError + '_ {
    move |e| DaemonError::Io(format!("{}: {e}", path.display()))
}

impl Bundle {
    /// Reads a set folder: its `*.relance` files, `templates/` and `rules/`.
    pub fn read_dir(dir: &Path) -> Result<Bundle, DaemonError> {
        let sources =
            scenario_set::relance_files(dir).map_err(|e| DaemonError::Io(e.to_string()))?;
        let mut bundle = Bundle::default();
        for p in sources {
            let text = std::fs::read_to_string(&p).map_err(io(&p))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            bundle.files.push(BundleFile { path: name, text });
        }
        for (sub, ext) in [("templates", None), ("rules", Some("rhai"))] {
            let folder = dir.join(sub);
            if !folder.is_dir() {
                continue;
            }
            let mut paths = Vec::new();
            for entry in std::fs::read_dir(&folder).map_err(io(&folder))? {
                let p = entry.map_err(io(&folder))?.path();
                let keep = p.is_file()
                    && match ext {
                        Some(ext) => p.extension().is_some_and(|e| e == ext),
                        None => p.extension().is_some_and(|e| e == "txt" || e == "html"),
                    };
                if keep {
                    paths.push(p);
                }
            }
            paths.sort();
            for p in paths {
                let text = std::fs::read_to_string(&p).map_err(io(&p))?;
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if sub == "templates" {
                    bundle.templates.insert(name, text);
                } else {
                    bundle.rules.push(BundleFile {
                        path: format!("rules/{name}"),
                        text,
                    });
                }
            }
        }
        Ok(bundle)
    }

    /// Template names (`reminder-1` for `reminder-1.fr.txt`).
    fn template_names(&self) -> BTreeSet<String> {
        self.templates
            .keys()
            .filter_map(|name| {
                let mut parts = name.rsplitn(3, '.');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(_), Some(_), Some(base)) => Some(base.to_string()),
                    _ => None,
                }
            })
            .collect()
    }

    /// Checks and compiles the bundle; any error rejects it with the JSON diagnostics.
    pub fn compile(&self) -> Result<(ScenarioSet, RuleSet), DaemonError> {
        let sources: Vec<(String, String)> = self
            .rules
            .iter()
            .map(|f| (f.path.clone(), f.text.clone()))
            .collect();
        let rules = RuleSet::from_sources(&sources).map_err(|e| {
            DaemonError::Diagnostics(vec![JsonDiagnostic {
                file: "rules".into(),
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
                severity: relance_dsl::Severity::Error,
                code: "rules".into(),
                message: e.to_string(),
                help: None,
            }])
        })?;
        let arities: BTreeMap<String, usize> = rules
            .functions()
            .into_iter()
            .filter_map(|f| Some((f.name.clone(), f.extra_args()?)))
            .collect();
        let context = SetContext {
            templates: (!self.templates.is_empty()).then(|| self.template_names()),
            rules: (!self.rules.is_empty()).then_some(arities),
        };
        let files: Vec<SourceFile> = self
            .files
            .iter()
            .map(|f| SourceFile::new(f.path.clone(), f.text.clone()))
            .collect();
        let compiled = compile(&files, &context);
        match compiled.set {
            Some(set) if !compiled.has_errors() => Ok((set, rules)),
            _ => {
                let mut diags = Vec::new();
                for (file, list) in files.iter().zip(&compiled.diagnostics) {
                    diags.extend(list.iter().map(|d| d.to_json(&file.path, &file.text)));
                }
                Err(DaemonError::Diagnostics(diags))
            }
        }
    }
}

/// One deployed set, compiled.
pub struct Deployment {
    pub number: u64,
    pub bundle: Bundle,
    pub set: ScenarioSet,
    pub rules: RuleSet,
}

/// Every deployment, and where each scenario version lives.
#[derive(Default)]
pub struct Catalog {
    deployments: Vec<Deployment>,
    /// Version → (deployment index, scenario name); the latest deployment wins.
    by_version: HashMap<String, (usize, String)>,
}

impl Catalog {
    pub fn add(&mut self, d: Deployment) {
        let at = self.deployments.len();
        for (name, s) in &d.set.scenarios {
            self.by_version
                .insert(s.version.clone(), (at, name.clone()));
        }
        self.deployments.push(d);
    }

    /// The latest deployment: new cases open on it.
    pub fn current(&self) -> Option<&Deployment> {
        self.deployments.last()
    }

    /// The scenario of a version and the deployment it runs with.
    pub fn scenario(&self, version: &str) -> Option<(&Scenario, &Deployment)> {
        let (at, name) = self.by_version.get(version)?;
        let d = self.deployments.get(*at)?;
        Some((d.set.scenarios.get(name)?, d))
    }

    pub fn deployments(&self) -> &[Deployment] {
        &self.deployments
    }
}
