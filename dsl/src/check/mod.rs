//! Checks: from parsed files to every semantic diagnostic, in one run.
//!
//! The checker sees a whole scenario set (names resolve across its files) and what the set's
//! folder holds (templates, rules), and reports all it finds; it never stops at the first
//! error. It must not build the IR nor evaluate anything: `lower` does the former once the
//! set is free of errors, the engine the latter. Each concern lives in its own module:
//! `items` (names, settings, steps, anchors, statements), `exprs` (fields and types),
//! `test_blocks` (test customers, invoices, events, expectations), `consumers` (charges
//! consumers do not owe).

mod account;
pub mod codes;
mod consumers;
mod exprs;
mod fees;
mod items;
mod standing;
mod test_blocks;
mod timing;
mod values;

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostics::{Code, Diagnostic, Elsewhere};
use crate::syntax::ast::{self, Item, Span};
use crate::syntax::{Parsed, parse};

/// One source file of a set: its path (as shown to users), text and parse.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    pub parsed: Parsed,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let parsed = parse(&text);
        SourceFile {
            path: path.into(),
            text,
            parsed,
        }
    }
}

/// What the set's folder provides besides `.relance` files. `None` means the folder has no
/// `templates/` (or `rules/`) directory, so names are not checked.
#[derive(Debug, Clone, Default)]
pub struct SetContext {
    /// Template names (`reminder-1` for `templates/reminder-1.fr.txt`).
    pub templates: Option<BTreeSet<String>>,
    /// Rule names and their number of extra arguments (the rhai function's parameters
    /// minus `invoice` and `customer`).
    pub rules: Option<BTreeMap<String, usize>>,
    /// Where each rule is defined (its name in its `.rhai` file), for the secondary label of
    /// a wrong-arity call. A rule missing here just gets no such label.
    pub rule_sites: BTreeMap<String, RuleSite>,
}

/// Where a rule function is defined: its `.rhai` file (the path as shown to users) and the
/// span of its name there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSite {
    pub file: String,
    pub span: Span,
}

/// Every diagnostic of a set, with the labels some of them carry into other files.
#[derive(Debug, Clone, Default)]
pub struct SetDiagnostics {
    /// Per file, in the order of `files`, sorted by position (what [`check_set`] returns).
    pub diagnostics: Vec<Vec<Diagnostic>>,
    /// Per file, the secondary labels in other files (a `.rhai` rule definition) of its
    /// diagnostics.
    pub elsewhere: Vec<Vec<Elsewhere>>,
    /// The rule names the set calls (`rule("name", …)`), for an unused rules file.
    pub rules_used: BTreeSet<String>,
    /// The event of the handler being checked (`None` in a step): some fields' values
    /// depend on it (`event.reason` in `on payment reversed`).
    pub handling: Option<crate::schema::EventName>,
}

/// The diagnostics of every file, in the order of `files`, parse errors included, sorted by
/// position.
pub fn check_set(files: &[SourceFile], ctx: &SetContext) -> Vec<Vec<Diagnostic>> {
    check_set_full(files, ctx).diagnostics
}

/// [`check_set`], plus the labels its diagnostics carry into other files.
pub fn check_set_full(files: &[SourceFile], ctx: &SetContext) -> SetDiagnostics {
    let index = SetIndex::build(files);
    let mut out = SetDiagnostics::default();
    for (i, f) in files.iter().enumerate() {
        let mut c = Checker {
            ctx,
            index: &index,
            file: i,
            files,
            diags: Vec::new(),
            elsewhere: Vec::new(),
            rules_used: std::mem::take(&mut out.rules_used),
            handling: None,
        };
        c.diags.extend(f.parsed.diagnostics.iter().cloned());
        c.file_items(&f.parsed.file);
        let mut d = c.diags;
        d.sort_by_key(|d| (d.span.start, d.code));
        out.diagnostics.push(d);
        out.elsewhere.push(c.elsewhere);
        out.rules_used = c.rules_used;
    }
    out
}

/// Where each top-level name is defined across the set.
pub(crate) struct SetIndex {
    pub scenarios: BTreeMap<String, Vec<(usize, Span)>>,
    pub policies: BTreeMap<String, Vec<(usize, Span)>>,
    pub tests: BTreeMap<String, Vec<(usize, Span)>>,
    /// Scenarios that did not parse (`Parsed::broken`): references to them are not reported.
    pub broken_scenarios: BTreeSet<String>,
}

impl SetIndex {
    fn build(files: &[SourceFile]) -> SetIndex {
        let mut idx = SetIndex {
            scenarios: BTreeMap::new(),
            policies: BTreeMap::new(),
            tests: BTreeMap::new(),
            broken_scenarios: BTreeSet::new(),
        };
        for (i, f) in files.iter().enumerate() {
            idx.broken_scenarios.extend(
                f.parsed
                    .broken
                    .iter()
                    .filter(|b| b.kind == crate::syntax::ItemKind::Scenario)
                    .map(|b| b.name.clone()),
            );
            for item in &f.parsed.file.items {
                let (map, name, span) = match item {
                    Item::Scenario(s) => (&mut idx.scenarios, &s.name.name, s.name.span),
                    Item::Policy(p) => (&mut idx.policies, &p.name.name, p.name.span),
                    Item::Test(t) => (&mut idx.tests, &t.name.value, t.name.span),
                };
                map.entry(name.clone()).or_default().push((i, span));
            }
        }
        idx
    }

    /// Whether a test without `use` knows which scenario to run.
    pub fn has_default_choice(&self) -> bool {
        self.policies.len() == 1
            || self.policies.contains_key("default")
            || self.scenarios.len() + self.broken_scenarios.len() == 1
    }
}

pub(crate) struct Checker<'a> {
    pub ctx: &'a SetContext,
    pub index: &'a SetIndex,
    pub file: usize,
    pub files: &'a [SourceFile],
    pub diags: Vec<Diagnostic>,
    pub elsewhere: Vec<Elsewhere>,
    pub rules_used: BTreeSet<String>,
    /// The event of the handler being checked (`None` in a step): some fields' values
    /// depend on it (`event.reason` in `on payment reversed`).
    pub handling: Option<crate::schema::EventName>,
}

impl Checker<'_> {
    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn file_items(&mut self, file: &ast::File) {
        for item in &file.items {
            match item {
                Item::Scenario(s) => {
                    self.duplicate_top("scenario", &s.name.name, s.name.span, |i| &i.scenarios);
                    self.scenario(s);
                }
                Item::Policy(p) => {
                    self.duplicate_top("policy", &p.name.name, p.name.span, |i| &i.policies);
                    self.policy(p);
                }
                Item::Test(t) => {
                    self.duplicate_top("test", &t.name.value, t.name.span, |i| &i.tests);
                    self.test(t);
                }
            }
        }
    }

    /// E0101 on every definition of a name after its first one in the set.
    fn duplicate_top(
        &mut self,
        what: &str,
        name: &str,
        span: Span,
        map: impl Fn(&SetIndex) -> &BTreeMap<String, Vec<(usize, Span)>>,
    ) {
        let Some(defs) = map(self.index).get(name) else {
            return;
        };
        let Some(&(first_file, first_span)) = defs.first() else {
            return;
        };
        if (first_file, first_span) == (self.file, span) {
            return;
        }
        let mut d = Diagnostic::new(
            Code::DuplicateName,
            span,
            format!("{what} `{name}` is defined twice"),
        )
        .with_label("second definition");
        if first_file == self.file {
            d = d.with_related(first_span, "first defined here");
        } else {
            let f = &self.files[first_file];
            let (line, col) =
                crate::diagnostics::LineIndex::new(&f.text).line_col(&f.text, first_span.start);
            d = d.with_help(format!("first defined at {}:{line}:{col}", f.path));
        }
        self.push(d);
    }

    /// E0160 when a name is not a scenario of the set (nor one that failed to parse).
    pub fn scenario_ref(&mut self, name: &ast::Ident) {
        if self.index.scenarios.contains_key(&name.name)
            || self.index.broken_scenarios.contains(&name.name)
        {
            return;
        }
        let help =
            crate::suggest::closest(&name.name, self.index.scenarios.keys().map(String::as_str));
        self.push(
            Diagnostic::new(
                Code::UnknownScenario,
                name.span,
                format!("unknown scenario `{}`", name.name),
            )
            .with_label("no scenario of this name in the set")
            .with_did_you_mean(help),
        );
    }

    fn policy(&mut self, p: &ast::Policy) {
        let mut otherwise: Option<Span> = None;
        for rule in &p.rules {
            if let Some(o) = otherwise {
                self.push(
                    Diagnostic::new(
                        Code::PolicyRuleNeverReached,
                        rule.span,
                        "this rule is never reached",
                    )
                    .with_label("after `otherwise`")
                    .with_related(o, "every invoice matches this first"),
                );
            }
            self.scenario_ref(&rule.scenario);
            match &rule.when {
                Some(cond) => self.condition(cond),
                None => otherwise = otherwise.or(Some(rule.span)),
            }
        }
        if otherwise.is_none() {
            self.push(
                Diagnostic::new(
                    Code::PolicyWithoutOtherwise,
                    p.name.span,
                    format!("policy `{}` has no `otherwise`", p.name.name),
                )
                .with_label("an invoice matching no rule gets no scenario")
                .with_help("end the policy with `use SCENARIO otherwise`"),
            );
        }
    }
}
