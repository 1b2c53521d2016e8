//! Checking a set's templates, as `relance check`, a deployment and (later) the language
//! server do: every template file parses (minijinja), reads only variables of the documented
//! context (`context`), and every template a scenario uses exists in every language the set
//! declares (`templates.toml`, whose own errors are reported too).
//!
//! Templates are taken in memory, keyed by file name, so unsaved buffers can be checked.
//! Diagnostics are `relance_dsl` ones (codes E0501–E0504 of `dsl/src/check/codes.rs`), with
//! byte spans in the file they are about. This module reports; it must not render a message.

use std::collections::{BTreeMap, BTreeSet};

use relance_dsl::suggest::did_you_mean;
use relance_dsl::syntax::ast::{ActionKind, Block, Else, File, Item, MemberKind, Span, StmtKind};
use relance_dsl::{Code, Diagnostic, SourceFile};

use crate::context;
use crate::render::{describe, environment};
use crate::settings::{SETTINGS_FILE, Settings};
use crate::variant::{EXTENSIONS, languages_of, parse_file_name};

/// The diagnostics of one file of the set's `templates/` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiagnostics {
    /// The file name in `templates/` (`reminder-1.fr.txt`, `templates.toml`).
    pub file: String,
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// What checking a set's templates found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// Every template file and the settings file, sorted by name, with its diagnostics.
    pub templates: Vec<FileDiagnostics>,
    /// Diagnostics about the scenario files (a template used but missing in a declared
    /// language), by index in the `files` given, sorted by position.
    pub scenarios: BTreeMap<usize, Vec<Diagnostic>>,
}

impl Checked {
    /// Every diagnostic, templates and scenario files together.
    pub fn all(&self) -> impl Iterator<Item = &Diagnostic> {
        self.templates
            .iter()
            .flat_map(|f| &f.diagnostics)
            .chain(self.scenarios.values().flatten())
    }

    pub fn has_errors(&self) -> bool {
        self.all().any(Diagnostic::is_error)
    }
}

/// A template named by an action of a scenario (`email "reminder-1" …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// Index of the file in the `files` given.
    pub file: usize,
    pub name: String,
    /// The template's name literal.
    pub span: Span,
}

/// Globals minijinja defines, which a template may call.
const BUILTIN_GLOBALS: &[&str] = &["range", "dict", "namespace", "debug"];

/// The templates the scenarios of `files` use (steps and handlers; not test expectations).
pub fn template_uses(files: &[SourceFile]) -> Vec<Use> {
    fn block(b: &Block, file: usize, out: &mut Vec<Use>) {
        for s in &b.stmts {
            stmt(&s.kind, file, out);
        }
    }
    fn stmt(s: &StmtKind, file: usize, out: &mut Vec<Use>) {
        match s {
            StmtKind::If(i) => {
                block(&i.then, file, out);
                match &i.otherwise {
                    Some(Else::If(s)) => stmt(&s.kind, file, out),
                    Some(Else::Block(b)) => block(b, file, out),
                    None => {}
                }
            }
            StmtKind::Action(a) => match &a.kind {
                ActionKind::Email { template, .. }
                | ActionKind::Sms { template, .. }
                | ActionKind::Letter { template, .. } => out.push(Use {
                    file,
                    name: template.value.clone(),
                    span: template.span,
                }),
                _ => {}
            },
            _ => {}
        }
    }
    fn scenarios(f: &File, file: usize, out: &mut Vec<Use>) {
        for item in &f.items {
            if let Item::Scenario(s) = item {
                for m in &s.members {
                    match &m.kind {
                        MemberKind::Step(st) => block(&st.body, file, out),
                        MemberKind::Handler(h) => block(&h.body, file, out),
                        MemberKind::Level(l) => block(&l.body, file, out),
                        _ => {}
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        scenarios(&f.parsed.file, i, &mut out);
    }
    out
}

/// The diagnostics of each template file by its name, with the text they were found in: a
/// file's own diagnostics (syntax, variables, filters, loops) depend on its text alone, so
/// [`check_set_cached`] reuses them while the text is the same (the language server checks
/// the set at every keystroke in a scenario).
#[derive(Debug, Default)]
pub struct TemplateCache(BTreeMap<String, (String, Vec<Diagnostic>)>);

/// Checks the templates of a set (`templates`: file name → text, the settings file
/// included) against the scenario `files` that use them.
pub fn check_set(files: &[SourceFile], templates: &BTreeMap<String, String>) -> Checked {
    check_set_cached(files, templates, &mut TemplateCache::default())
}

/// [`check_set`], each template file's own diagnostics taken from `cache` when its text has
/// not changed (and kept there; files no longer in `templates` are dropped from it).
pub fn check_set_cached(
    files: &[SourceFile],
    templates: &BTreeMap<String, String>,
    cache: &mut TemplateCache,
) -> Checked {
    cache.0.retain(|file, _| templates.contains_key(file));
    let mut checked = Checked::default();
    let settings = match Settings::of(templates) {
        Ok(s) => s,
        Err(errors) => {
            let text = templates.get(SETTINGS_FILE).cloned().unwrap_or_default();
            checked.templates.push(FileDiagnostics {
                file: SETTINGS_FILE.to_string(),
                diagnostics: errors
                    .into_iter()
                    .map(|e| {
                        Diagnostic::new(Code::InvalidTemplateSettings, e.span, e.message)
                            .with_label("here")
                            .with_help(
                                "templates.toml takes `languages = [\"fr\", \"en\"]` and an optional `fallback = [\"en\"]`",
                            )
                    })
                    .collect(),
                text,
            });
            Settings::default()
        }
    };
    for (file, text) in templates {
        if file == SETTINGS_FILE {
            if !checked.templates.iter().any(|f| f.file == *file) {
                checked.templates.push(FileDiagnostics {
                    file: file.clone(),
                    text: text.clone(),
                    diagnostics: Vec::new(),
                });
            }
            continue;
        }
        let diagnostics = match cache.0.get(file) {
            Some((seen, diagnostics)) if seen == text => diagnostics.clone(),
            _ => {
                let diagnostics = check_template(file, text);
                cache
                    .0
                    .insert(file.clone(), (text.clone(), diagnostics.clone()));
                diagnostics
            }
        };
        checked.templates.push(FileDiagnostics {
            file: file.clone(),
            text: text.clone(),
            diagnostics,
        });
    }
    checked.templates.sort_by(|a, b| a.file.cmp(&b.file));
    let uses = template_uses(files);
    // A scenario that does not parse may hide its uses: no "unused" then.
    let parsed = files
        .iter()
        .all(|f| f.parsed.diagnostics.iter().all(|d| !d.is_error()));
    crate::coverage::check(
        templates,
        &settings,
        parsed.then_some(uses.as_slice()),
        &mut checked.templates,
    );
    // Templates used but missing in a declared language.
    let mut seen = BTreeSet::new();
    for u in uses {
        let have = languages_of(templates, &u.name);
        if have.is_empty() || !seen.insert((u.file, u.span)) {
            // An unknown template is the checker's E0150.
            continue;
        }
        let missing: Vec<&str> = settings
            .languages
            .iter()
            .map(String::as_str)
            .filter(|l| !have.contains(l))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let files: Vec<String> = missing
            .iter()
            .map(|l| format!("templates/{}.{l}.{}", u.name, EXTENSIONS[0]))
            .collect();
        checked.scenarios.entry(u.file).or_default().push(
            Diagnostic::new(
                Code::MissingTemplateLanguage,
                u.span,
                format!(
                    "template `{}` has no variant in {} ({} declared in templates/templates.toml)",
                    u.name,
                    missing.join(", "),
                    if missing.len() == 1 {
                        "a language"
                    } else {
                        "languages"
                    }
                ),
            )
            .with_label(format!("written in {} only", have.join(", ")))
            .with_help(format!("add {}", files.join(" and "))),
        );
    }
    for diags in checked.scenarios.values_mut() {
        diags.sort_by_key(|d| d.span);
    }
    checked
}

/// The diagnostics of one template file: syntax, then variables, filters and the attributes
/// of loop variables (`names`).
pub fn check_template(file: &str, text: &str) -> Vec<Diagnostic> {
    let Some((_, lang, _)) = parse_file_name(file) else {
        return Vec::new();
    };
    let env = environment(lang);
    let template = match env.template_from_named_str(file, text) {
        Ok(t) => t,
        Err(e) => return vec![syntax_error(text, &e)],
    };
    let mut out = crate::names::check(&env, text);
    let mut used: Vec<String> = template.undeclared_variables(true).into_iter().collect();
    used.sort();
    let roots = context::roots();
    for path in used {
        let mut parts = path.split('.');
        let root = parts.next().unwrap_or_default();
        if BUILTIN_GLOBALS.contains(&root) {
            continue;
        }
        if !roots.contains(&root) {
            out.push(
                Diagnostic::new(
                    Code::UnknownTemplateVariable,
                    locate(text, root),
                    format!("unknown template variable `{root}`"),
                )
                .with_label("not in the template context")
                .with_help(
                    did_you_mean(root, roots.iter().copied()).unwrap_or_else(|| {
                        "the variables are listed in stdlib-scenarios/templates/README.md".into()
                    }),
                ),
            );
            continue;
        }
        let Some(attr) = parts.next() else { continue };
        let attrs = context::attributes(root);
        if attrs.contains(&attr) {
            continue;
        }
        let dotted = format!("{root}.{attr}");
        let help = if attrs.is_empty() {
            format!("`{root}` has no attributes")
        } else {
            relance_dsl::suggest::closest(attr, attrs.iter().copied())
                .map(|a| format!("did you mean `{root}.{a}`?"))
                .unwrap_or_else(|| {
                    format!(
                        "`{root}` has {}",
                        attrs
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
        };
        out.push(
            Diagnostic::new(
                Code::UnknownTemplateVariable,
                locate(text, &dotted),
                format!("unknown template variable `{dotted}`"),
            )
            .with_label("not in the template context")
            .with_help(help),
        );
    }
    out.sort_by_key(|d| d.span);
    out
}

fn syntax_error(text: &str, e: &minijinja::Error) -> Diagnostic {
    let span = match (e.range(), e.line()) {
        (Some(r), _) => Span::new(r.start.min(text.len()), r.end.min(text.len())),
        (None, Some(line)) => {
            let start = text
                .split_inclusive('\n')
                .take(line.saturating_sub(1))
                .map(str::len)
                .sum::<usize>();
            Span::new(start, start)
        }
        (None, None) => Span::new(0, 0),
    };
    Diagnostic::new(Code::TemplateSyntaxError, span, describe(e)).with_label("here")
}

/// Where a template first reads `path` (`customer.nme`) inside `{{ }}` or `{% %}`: the
/// whole dotted name, not part of a longer one. The file's start when it is not found.
fn locate(text: &str, path: &str) -> Span {
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut from = 0;
    while let Some(open) = text[from..].find(['{']).map(|i| from + i) {
        let rest = &text[open..];
        let close = if rest.starts_with("{{") {
            "}}"
        } else if rest.starts_with("{%") {
            "%}"
        } else {
            from = open + 1;
            continue;
        };
        let end = rest.find(close).map_or(text.len(), |i| open + i);
        let tag = &text[open..end];
        let mut at = 0;
        while let Some(i) = tag[at..].find(path).map(|i| at + i) {
            let before = tag[..i].chars().next_back();
            let after = tag[i + path.len()..].chars().next();
            if !before.is_some_and(ident) && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            {
                return Span::new(open + i, open + i + path.len());
            }
            at = i + path.len();
        }
        from = end.max(open + 2);
    }
    Span::new(0, 0)
}

impl Checked {
    /// The template files' diagnostics rendered like rustc, each file named
    /// `{templates_dir}/{file}` (scenario files are rendered with their own diagnostics).
    pub fn render_templates(&self, templates_dir: &str, color: bool) -> String {
        self.templates
            .iter()
            .filter(|f| !f.diagnostics.is_empty())
            .map(|f| {
                relance_dsl::diagnostics::render(
                    &f.diagnostics,
                    &format!("{templates_dir}/{}", f.file),
                    &f.text,
                    color,
                )
            })
            .collect()
    }

    /// The template files' diagnostics in the JSON form of `relance check --format json`.
    pub fn templates_json(
        &self,
        templates_dir: &str,
    ) -> Vec<relance_dsl::diagnostics::JsonDiagnostic> {
        self.templates
            .iter()
            .flat_map(|f| {
                let path = format!("{templates_dir}/{}", f.file);
                f.diagnostics.iter().map(move |d| d.to_json(&path, &f.text))
            })
            .collect()
    }
}

/// Reads a set's `templates/` folder: its `NAME.LANG.txt|html` files and `templates.toml`,
/// by file name. An absent folder is an empty map.
pub fn read_dir(dir: &std::path::Path) -> std::io::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if path.is_file() && (name == SETTINGS_FILE || parse_file_name(&name).is_some()) {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            out.insert(name, text);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache gives what a fresh check gives, before and after a template changes, and
    /// forgets a file that is gone.
    #[test]
    fn a_cached_check_is_a_fresh_check() {
        let mut templates = BTreeMap::from([
            ("a.en.txt".to_string(), "{{ customer.nme }}".to_string()),
            ("b.en.txt".to_string(), "{{ customer.name }}".to_string()),
        ]);
        let mut cache = TemplateCache::default();
        for round in 0..3 {
            if round == 1 {
                templates.insert("a.en.txt".into(), "{{ customer.name }} {{ x }}".into());
            }
            if round == 2 {
                templates.remove("b.en.txt");
            }
            let cached = check_set_cached(&[], &templates, &mut cache);
            assert_eq!(cached, check_set(&[], &templates), "round {round}");
            assert_eq!(cache.0.len(), templates.len(), "round {round}");
        }
    }
}
