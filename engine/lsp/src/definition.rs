//! Go to definition, find references, and rename.
//!
//! Steps resolve within their scenario (anchors and `goto` → the `step` line's name),
//! scenarios across the files of the set (policy and test `use` → `scenario NAME`), templates
//! to `templates/NAME.LANG.txt|html`, rules to the rhai `fn NAME`. Both read the tolerant
//! [`scan`] of each file, so they work while a file does not parse. Renaming a step rewrites
//! its definition and every reference in its scenario; renaming a scenario, its definitions and
//! every `use` of it in the set's files (open or not). This module answers locations and
//! edits; it must not read anything the [`SetView`] and `resources` do not provide.

use std::collections::HashMap;

use tower_lsp_server::ls_types::{Location, Position, Range, TextEdit, Uri, WorkspaceEdit};

use super::resources;
use super::scan::{ItemKind, OccKind, Occurrence, Scan, scan};
use super::workspace::SetView;
use crate::position::LineMap;

/// Where the name under the cursor is defined.
pub fn definition(view: &SetView, offset: usize) -> Vec<Location> {
    let here = scan(view.text());
    let Some(occ) = here.occurrence_at(offset) else {
        return Vec::new();
    };
    match occ.kind {
        OccKind::StepRef | OccKind::StepDef => {
            step_definition(view, &here, occ).into_iter().collect()
        }
        OccKind::ScenarioRef | OccKind::ScenarioDef => scenario_definitions(view, &occ.name),
        OccKind::Template => template_locations(view, &occ.name),
        OccKind::Rule => rule_locations(view, &occ.name),
        _ => Vec::new(),
    }
}

/// Every use of the name under the cursor (its definitions too when `declaration`).
pub fn references(view: &SetView, offset: usize, declaration: bool) -> Vec<Location> {
    let here = scan(view.text());
    let Some(occ) = here.occurrence_at(offset) else {
        return Vec::new();
    };
    let (uses, def) = match occ.kind {
        OccKind::StepRef | OccKind::StepDef => {
            let same = |o: &Occurrence| o.item == occ.item && o.name == occ.name;
            let found = here
                .occurrences
                .iter()
                .filter(|o| {
                    same(o)
                        && (o.kind == OccKind::StepRef
                            || (declaration && o.kind == OccKind::StepDef))
                })
                .filter_map(|o| view.location(view.current, o.span))
                .collect();
            return found;
        }
        OccKind::ScenarioRef | OccKind::ScenarioDef => {
            (OccKind::ScenarioRef, Some(OccKind::ScenarioDef))
        }
        OccKind::Template => (OccKind::Template, None),
        OccKind::Rule => (OccKind::Rule, None),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for (i, file) in view.files.iter().enumerate() {
        let scanned;
        let s = if i == view.current {
            &here
        } else {
            scanned = scan(file.text);
            &scanned
        };
        for o in &s.occurrences {
            let wanted = o.kind == uses || (declaration && Some(o.kind) == def);
            if wanted && o.name == occ.name {
                out.extend(view.location(i, o.span));
            }
        }
    }
    if declaration {
        match occ.kind {
            OccKind::Template => out.extend(template_locations(view, &occ.name)),
            OccKind::Rule => out.extend(rule_locations(view, &occ.name)),
            _ => {}
        }
    }
    out
}

/// The name under the cursor, when it can be renamed (a step or a scenario): its range.
pub fn prepare_rename(view: &SetView, offset: usize) -> Option<Range> {
    let here = scan(view.text());
    let occ = here.occurrence_at(offset)?;
    let renamable = matches!(
        occ.kind,
        OccKind::StepDef | OccKind::StepRef | OccKind::ScenarioDef | OccKind::ScenarioRef
    );
    renamable.then(|| view.document.range(occ.span))
}

/// The edits renaming the step or scenario under the cursor to `new_name`: `Ok(None)` when
/// nothing renamable is there, `Err` when `new_name` is not a name.
pub fn rename(
    view: &SetView,
    offset: usize,
    new_name: &str,
) -> Result<Option<WorkspaceEdit>, String> {
    if prepare_rename(view, offset).is_none() {
        return Ok(None);
    }
    let mut chars = new_name.chars();
    let is_name = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !is_name || super::docs::is_keyword(new_name) {
        return Err(format!(
            "`{new_name}` is not a name: a letter or `_`, then letters, digits, `_` or `-`, and no keyword"
        ));
    }
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for l in references(view, offset, true) {
        changes
            .entry(l.uri)
            .or_default()
            .push(TextEdit::new(l.range, new_name.to_string()));
    }
    Ok(Some(WorkspaceEdit {
        changes: Some(changes),
        ..WorkspaceEdit::default()
    }))
}

fn step_definition(view: &SetView, here: &Scan, occ: &Occurrence) -> Option<Location> {
    let step = here.items.get(occ.item?)?.step(&occ.name)?;
    view.location(view.current, step.name_span)
}

/// The `scenario NAME` definitions of the set (more than one when it is defined twice).
fn scenario_definitions(view: &SetView, name: &str) -> Vec<Location> {
    let mut out = Vec::new();
    for (i, file) in view.files.iter().enumerate() {
        let s = scan(if i == view.current {
            view.text()
        } else {
            file.text
        });
        for item in s
            .items
            .iter()
            .filter(|it| it.kind == ItemKind::Scenario && it.name == name)
        {
            out.extend(view.location(i, item.name_span));
        }
    }
    out
}

fn template_locations(view: &SetView, name: &str) -> Vec<Location> {
    let Some(root) = view.root else {
        return Vec::new();
    };
    resources::template_files(root, name)
        .into_iter()
        .filter_map(|p| Some(Location::new(Uri::from_file_path(p)?, Range::default())))
        .collect()
}

fn rule_locations(view: &SetView, name: &str) -> Vec<Location> {
    resources::rule_defs(view.rules, name)
        .into_iter()
        .filter_map(|def| {
            let range = def.name.map_or(
                Range::new(Position::new(0, 0), Position::new(0, 0)),
                |span| LineMap::new(&def.text).range(&def.text, span),
            );
            Some(Location::new(Uri::from_file_path(&def.file)?, range))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::TempSet;
    use super::super::workspace::Workspace;
    use super::*;
    use tower_lsp_server::ls_types::NumberOrString;

    const MAIN: &str = "scenario std {\n  step first at due {\n    email \"hello\" to accounting\n  }\n  step later at first + 3 days {\n    if rule(\"big\") { goto first }\n  }\n}\n";
    const POLICY: &str = "policy default {\n  use std otherwise\n}\n";

    fn pos_of(text: &str, needle: &str) -> usize {
        text.find(needle).unwrap_or_else(|| panic!("{needle}"))
    }

    #[test]
    fn steps_scenarios_templates_and_rules_resolve() {
        let set = TempSet::new(
            "def",
            &[
                ("main.relance", MAIN),
                ("policy.relance", POLICY),
                ("templates/hello.fr.txt", "Bonjour"),
                ("templates/hello.en.html", "Hello"),
                ("templates/hellos.fr.txt", "no"),
                ("rules/big.rhai", "fn big(invoice, customer) {\n  true\n}\n"),
            ],
        );
        let mut ws = Workspace::new();
        let main = set.uri("main.relance");
        ws.open(main.clone(), MAIN.to_string(), 1);
        let view = ws.view(&main).unwrap();

        // goto first → the name in `step first`.
        let defs = definition(&view, pos_of(MAIN, "first }") + 2);
        let first = pos_of(MAIN, "first at");
        assert_eq!(
            defs,
            [Location::new(
                main.clone(),
                view.document
                    .range(relance_dsl::syntax::ast::Span::new(first, first + 5))
            )]
        );
        // The anchor too.
        assert_eq!(definition(&view, pos_of(MAIN, "first + 3")), defs);
        // References of the step: the anchor and the goto, plus the definition on request.
        assert_eq!(references(&view, first, false).len(), 2);
        assert_eq!(references(&view, first, true).len(), 3);

        // The template: both language files, not `hellos`.
        let t = definition(&view, pos_of(MAIN, "\"hello\"") + 2);
        let names: Vec<String> = t
            .iter()
            .map(|l| l.uri.as_str().rsplit('/').next().unwrap().to_string())
            .collect();
        assert_eq!(names, ["hello.en.html", "hello.fr.txt"]);

        // The rule: the rhai function's name.
        let r = definition(&view, pos_of(MAIN, "\"big\"") + 1);
        assert_eq!(r.len(), 1);
        assert!(r[0].uri.as_str().ends_with("rules/big.rhai"));
        assert_eq!(
            r[0].range,
            Range::new(Position::new(0, 3), Position::new(0, 6))
        );
        drop(view);

        // From the policy in another file to the scenario.
        let policy = set.uri("policy.relance");
        ws.open(policy.clone(), POLICY.to_string(), 1);
        let view = ws.view(&policy).unwrap();
        let s = definition(&view, pos_of(POLICY, "std"));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].uri, main);
        assert_eq!(
            s[0].range,
            Range::new(Position::new(0, 9), Position::new(0, 12))
        );
        // References of the scenario from its definition, across files.
        let view = ws.view(&main).unwrap();
        let refs = references(&view, pos_of(MAIN, "std"), true);
        assert_eq!(refs.len(), 2);
        assert!(refs.iter().any(|l| l.uri == policy));
    }

    #[test]
    fn rename_a_step_in_its_scenario_and_a_scenario_across_the_set() {
        let other = "scenario other {\n  step first at due {}\n}\n";
        let set = TempSet::new(
            "rename",
            &[
                ("main.relance", MAIN),
                ("other.relance", other),
                ("policy.relance", POLICY),
            ],
        );
        let mut ws = Workspace::new();
        let main = set.uri("main.relance");
        ws.open(main.clone(), MAIN.to_string(), 1);
        let view = ws.view(&main).unwrap();
        let apply = |edit: &WorkspaceEdit, uri: &Uri, text: &str| {
            let lines = LineMap::new(text);
            let mut edits: Vec<&TextEdit> = edit.changes.as_ref().unwrap()[uri].iter().collect();
            edits.sort_by_key(|e| e.range.start);
            let mut out = text.to_string();
            for e in edits.iter().rev() {
                let (a, b) = (
                    lines.offset(text, e.range.start),
                    lines.offset(text, e.range.end),
                );
                out.replace_range(a..b, &e.new_text);
            }
            out
        };

        // The step: its definition, its anchor and its goto; not `other`'s step of that name.
        let at = pos_of(MAIN, "goto first") + 6;
        assert!(prepare_rename(&view, at).is_some());
        let edit = rename(&view, at, "opening").unwrap().unwrap();
        assert_eq!(edit.changes.as_ref().unwrap().len(), 1, "one file");
        assert_eq!(apply(&edit, &main, MAIN), MAIN.replace("first", "opening"));

        // The scenario: its definition and the policy's `use`, in a file not open.
        let edit = rename(&view, pos_of(MAIN, "std"), "standard")
            .unwrap()
            .unwrap();
        let policy = set.uri("policy.relance");
        assert_eq!(apply(&edit, &main, MAIN), MAIN.replace("std", "standard"));
        assert_eq!(
            apply(&edit, &policy, POLICY),
            POLICY.replace("std", "standard")
        );

        // Not a name, or nothing to rename.
        assert!(rename(&view, at, "two words").is_err());
        assert!(rename(&view, at, "goto").is_err());
        assert_eq!(prepare_rename(&view, pos_of(MAIN, "email")), None);
        assert_eq!(rename(&view, pos_of(MAIN, "email"), "x"), Ok(None));
    }

    #[test]
    fn definitions_work_in_a_file_that_does_not_parse() {
        let broken = "scenario s {\n  step a at due {\n    goto b\n    email \n  }\n  step b at a + {\n  }\n}\n";
        let set = TempSet::new("broken", &[("s.relance", broken)]);
        let mut ws = Workspace::new();
        let uri = set.uri("s.relance");
        let published = ws.open(uri.clone(), broken.to_string(), 1);
        let codes: Vec<_> = published[0]
            .diagnostics
            .iter()
            .filter_map(|d| d.code.clone())
            .collect();
        assert!(
            codes.contains(&NumberOrString::String(
                relance_dsl::Code::SyntaxError.code().into()
            )),
            "{codes:?}"
        );
        let view = ws.view(&uri).unwrap();
        let defs = definition(&view, pos_of(broken, "goto b") + 5);
        assert_eq!(defs.len(), 1);
        let b = pos_of(broken, "b at");
        assert_eq!(defs[0].range.start, view.document.lines.position(broken, b));
    }
}
