//! Deployed scenario sets: the portable bundle (scenario files, templates, rules as text), its
//! compilation, and the catalog of every deployment the store holds.
//!
//! A deployment never replaces an earlier one: a running case is pinned to the deployment it
//! opened on (its scenario version, rules and templates: [`Catalog::scenario_in`]) until a
//! later deployment migrates it; new cases take the current (latest) set. A case recorded
//! before deployments were pinned runs with the latest deployment holding its version.
//!
//! This module owns the bundle (its two request forms: a map of relative path → text, and
//! the older lists), compiling it (refusing a set without a scenario, or whose templates
//! have errors: `relance_templates::check_set`), and the version
//! lookup; it must not run scenarios or touch the store (the engine persists bundles and
//! checks that a set assigns every open invoice).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use relance_dsl::diagnostics::JsonDiagnostic;
use relance_dsl::ir::{Scenario, ScenarioSet};
use relance_dsl::{SetContext, SourceFile, compile};

use super::error::DaemonError;
use relance_core::rules::RuleSet;
use relance_core::scenario_set;
use relance_templates::SETTINGS_FILE;

/// A file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BundleFile {
    pub path: String,
    pub text: String,
}

/// A scenario set as text: what `POST /v1/scenarios` takes and the store keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct Bundle {
    /// The `*.relance` files.
    pub files: Vec<BundleFile>,
    /// `templates/NAME.LANG.txt` files by file name (`reminder-1.fr.txt`), and the set's
    /// template settings `templates.toml` (languages and fallback), pinned with them.
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
                        None => {
                            p.extension().is_some_and(|e| e == "txt" || e == "html")
                                || p.file_name().is_some_and(|n| n == SETTINGS_FILE)
                        }
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

    /// The bundle of a map of relative path → text: `*.relance` files (at any depth),
    /// `templates/NAME.LANG.txt|html` and `rules/NAME.rhai`. Any other path (absolute, with
    /// `..`, or of another kind) is refused with a diagnostic naming it.
    pub fn from_map(files: BTreeMap<String, String>) -> Result<Bundle, DaemonError> {
        let mut bundle = Bundle::default();
        let mut refused = Vec::new();
        for (path, text) in files {
            let parts: Vec<&str> = path.split('/').collect();
            let safe = !path.is_empty()
                && !path.contains('\\')
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && *p != "." && *p != "..");
            let ext = path.rsplit_once('.').map(|(_, e)| e);
            match (safe, parts.as_slice(), ext) {
                (true, ["templates", name], Some("txt" | "html"))
                | (true, ["templates", name @ SETTINGS_FILE], _) => {
                    bundle.templates.insert((*name).to_string(), text);
                }
                (true, ["rules", _], Some("rhai")) => bundle.rules.push(BundleFile { path, text }),
                (true, _, Some("relance")) if parts[0] != "templates" && parts[0] != "rules" => {
                    bundle.files.push(BundleFile { path, text });
                }
                _ => refused.push(file_diagnostic(
                    &path,
                    1,
                    1,
                    "file",
                    "not a file of a scenario set: give `NAME.relance`, `templates/NAME.LANG.txt` \
                     (or `.html`), `templates/templates.toml` or `rules/NAME.rhai`, relative to \
                     the set's folder",
                )),
            }
        }
        if refused.is_empty() {
            Ok(bundle)
        } else {
            Err(DaemonError::Diagnostics(refused))
        }
    }

    /// The bundle as a map of relative path → text (what [`Bundle::from_map`] reads).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut map: BTreeMap<String, String> = self
            .files
            .iter()
            .chain(&self.rules)
            .map(|f| (f.path.clone(), f.text.clone()))
            .collect();
        for (name, text) in &self.templates {
            map.insert(format!("templates/{name}"), text.clone());
        }
        map
    }

    /// Where a diagnostic about the set's policy points: the `policy` line if the set has
    /// one, else the first `applies when` line, else the first scenario file's first line.
    pub fn policy_place(&self) -> (String, u32, u32) {
        self.place_of(&["policy ", "applies when"])
    }

    /// The first line (file, line, column) that starts with one of `keywords`, tried in
    /// order, else the first file's first line: where a set-wide diagnostic points.
    fn place_of(&self, keywords: &[&str]) -> (String, u32, u32) {
        for keyword in keywords {
            for f in &self.files {
                for (i, line) in f.text.lines().enumerate() {
                    let trimmed = line.trim_start();
                    if trimmed.starts_with(keyword) {
                        let column = line.len() - trimmed.len() + 1;
                        return (f.path.clone(), i as u32 + 1, column as u32);
                    }
                }
            }
        }
        let file = self
            .files
            .first()
            .map(|f| f.path.clone())
            .unwrap_or_default();
        (file, 1, 1)
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
            rule_sites: Default::default(),
        };
        let files: Vec<SourceFile> = self
            .files
            .iter()
            .map(|f| SourceFile::new(f.path.clone(), f.text.clone()))
            .collect();
        let compiled = compile(&files, &context);
        let templates = relance_templates::check_set(&files, &self.templates);
        let template_errors = || {
            let mut diags = Vec::new();
            for (i, list) in &templates.scenarios {
                let file = &files[*i];
                diags.extend(list.iter().map(|d| d.to_json(&file.path, &file.text)));
            }
            diags.extend(templates.templates_json("templates"));
            diags
        };
        match compiled.set {
            Some(_) if !compiled.has_errors() && templates.has_errors() => {
                Err(DaemonError::Diagnostics(template_errors()))
            }
            Some(set) if !compiled.has_errors() && set.scenarios.is_empty() => {
                let (file, line, column) = self.policy_place();
                Err(DaemonError::Diagnostics(vec![file_diagnostic(
                    &file,
                    line,
                    column,
                    "no_scenario",
                    "the set has no scenario: every invoice would stay unassigned",
                )]))
            }
            Some(set) if !compiled.has_errors() => Ok((set, rules)),
            _ => {
                let mut diags = Vec::new();
                for (file, list) in files.iter().zip(&compiled.diagnostics) {
                    diags.extend(list.iter().map(|d| d.to_json(&file.path, &file.text)));
                }
                diags.extend(template_errors());
                Err(DaemonError::Diagnostics(diags))
            }
        }
    }
}

/// An error diagnostic at a place of a set's file.
pub fn file_diagnostic(
    file: &str,
    line: u32,
    column: u32,
    code: &str,
    message: impl Into<String>,
) -> JsonDiagnostic {
    JsonDiagnostic {
        file: file.into(),
        line: line as usize,
        column: column as usize,
        end_line: line as usize,
        end_column: column as usize,
        severity: relance_dsl::Severity::Error,
        code: code.into(),
        message: message.into(),
        help: None,
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

    /// The scenario of a version and the deployment it runs with: the latest holding it.
    pub fn scenario(&self, version: &str) -> Option<(&Scenario, &Deployment)> {
        let (at, name) = self.by_version.get(version)?;
        let d = self.deployments.get(*at)?;
        Some((d.set.scenarios.get(name)?, d))
    }

    /// The scenario of a version as deployment `pinned` holds it (its rules and templates);
    /// without a pin (a case recorded before pinning), or when that deployment does not hold
    /// the version, as [`Catalog::scenario`] finds it.
    pub fn scenario_in(
        &self,
        version: &str,
        pinned: Option<u64>,
    ) -> Option<(&Scenario, &Deployment)> {
        let in_pinned = pinned.and_then(|n| {
            let d = self.deployment(n)?;
            let s = d.set.scenarios.values().find(|s| s.version == version)?;
            Some((s, d))
        });
        in_pinned.or_else(|| self.scenario(version))
    }

    /// The deployment numbered `number`.
    pub fn deployment(&self, number: u64) -> Option<&Deployment> {
        let at = usize::try_from(number).ok()?.checked_sub(1)?;
        self.deployments
            .get(at)
            .filter(|d| d.number == number)
            .or_else(|| self.deployments.iter().find(|d| d.number == number))
    }

    /// Takes the latest deployment back out (its commit failed).
    pub fn remove_last(&mut self) {
        self.deployments.pop();
        self.by_version.clear();
        let all = std::mem::take(&mut self.deployments);
        for d in all {
            self.add(d);
        }
    }

    pub fn deployments(&self) -> &[Deployment] {
        &self.deployments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &str = "scenario all {\n  step reminder-1 at due + 3 days {\n    email \"reminder-1\" to accounting\n  }\n}\n";

    fn bundle(template: &str) -> Bundle {
        Bundle::from_map(BTreeMap::from([
            ("all.relance".to_string(), ALL.to_string()),
            (
                "templates/reminder-1.fr.txt".to_string(),
                template.to_string(),
            ),
        ]))
        .expect("a bundle")
    }

    fn deployment(number: u64, b: Bundle) -> Deployment {
        let (set, rules) = b.compile().expect("compiles");
        Deployment {
            number,
            bundle: b,
            set,
            rules,
        }
    }

    #[test]
    fn a_map_of_paths_becomes_a_bundle_and_other_paths_are_refused() {
        let b = Bundle::from_map(BTreeMap::from([
            ("sub/all.relance".to_string(), ALL.to_string()),
            (
                "templates/reminder-1.fr.html".to_string(),
                "<p>".to_string(),
            ),
            ("rules/r.rhai".to_string(), "fn r() { true }".to_string()),
        ]))
        .expect("a bundle");
        assert_eq!(b.files[0].path, "sub/all.relance");
        assert_eq!(
            b.templates.keys().collect::<Vec<_>>(),
            ["reminder-1.fr.html"]
        );
        assert_eq!(b.rules[0].path, "rules/r.rhai");
        assert_eq!(Bundle::from_map(b.to_map()).expect("again"), b);
        for bad in [
            "../x.relance",
            "/etc/x.relance",
            "a//b.relance",
            "notes.md",
            "templates/x.rhai",
            "rules/x.txt",
            "",
        ] {
            let Err(DaemonError::Diagnostics(d)) =
                Bundle::from_map(BTreeMap::from([(bad.to_string(), String::new())]))
            else {
                panic!("{bad:?} is refused");
            };
            assert_eq!(d[0].file, bad);
        }
    }

    #[test]
    fn a_set_without_scenario_is_refused() {
        let Err(DaemonError::Diagnostics(d)) = Bundle::default().compile() else {
            panic!("refused");
        };
        assert_eq!(d[0].code, "no_scenario");
    }

    #[test]
    fn a_per_customer_scenario_is_served() {
        let text = "scenario accounts {\n  per customer\n  level late when customer.oldest_overdue_days >= 1 {\n    webhook \"late\"\n  }\n}\n";
        let b = Bundle::from_map(BTreeMap::from([(
            "accounts.relance".to_string(),
            text.to_string(),
        )]))
        .expect("a bundle");
        let (set, _) = b.compile().expect("deployable");
        assert!(set.scenarios["accounts"].per_customer);
    }

    #[test]
    fn a_pinned_case_runs_with_its_deployment_s_templates() {
        let mut c = Catalog::default();
        c.add(deployment(1, bundle("v1")));
        c.add(deployment(2, bundle("v2")));
        let version = c.current().expect("current").set.scenarios["all"]
            .version
            .clone();
        fn templates(c: &Catalog, version: &str, pin: Option<u64>) -> Option<String> {
            c.scenario_in(version, pin)
                .map(|(_, d)| d.bundle.templates["reminder-1.fr.txt"].clone())
        }
        assert_eq!(templates(&c, &version, Some(1)).as_deref(), Some("v1"));
        assert_eq!(templates(&c, &version, Some(2)).as_deref(), Some("v2"));
        // Unpinned (recorded before pinning), or pinned to an unknown deployment: the latest.
        assert_eq!(templates(&c, &version, None).as_deref(), Some("v2"));
        assert_eq!(templates(&c, &version, Some(9)).as_deref(), Some("v2"));
        c.remove_last();
        assert_eq!(templates(&c, &version, None).as_deref(), Some("v1"));
    }
}
