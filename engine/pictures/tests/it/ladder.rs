//! The ladders of every stdlib scenario and every example set (`examples/migrating`): an insta
//! snapshot of each SVG, and structural checks (a marker per step, an arrow per `goto`, every
//! step and handler named, accessible root).

use std::path::{Path, PathBuf};

use relance_dsl::ir::{Scenario, ScenarioSet, Stmt};
use relance_pictures::{Lang, ladder};

use crate::svg::{assert_accessible, elements, texts};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The compiled set at `path` (a folder or one file).
pub fn compiled(path: &Path) -> (ScenarioSet, relance_core::rules::RuleSet) {
    let loaded = relance_core::scenario_set::load(path).expect("loads");
    let set = loaded.compile().set.expect("compiles");
    (set, loaded.rules)
}

/// Every set the ladders are drawn for: the stdlib, and each example file.
fn sets() -> Vec<(String, ScenarioSet)> {
    let mut out = vec![(
        "stdlib".to_string(),
        compiled(&root().join("stdlib-scenarios")).0,
    )];
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples/migrating"))
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "relance"))
        .collect();
    files.sort();
    for f in files {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        out.push((stem, compiled(&f).0));
    }
    out
}

fn gotos(body: &[Stmt]) -> usize {
    body.iter()
        .map(|s| match s {
            Stmt::Goto(_) => 1,
            Stmt::If {
                then, otherwise, ..
            } => gotos(then) + gotos(otherwise),
            _ => 0,
        })
        .sum()
}

fn all_gotos(s: &Scenario) -> usize {
    s.steps.iter().map(|st| gotos(&st.body)).sum::<usize>()
        + s.handlers.values().map(|b| gotos(b)).sum::<usize>()
        + s.levels.iter().map(|l| gotos(&l.body)).sum::<usize>()
}

#[test]
fn every_scenario_has_its_ladder() {
    let mut drawn = 0;
    for (set_name, set) in sets() {
        for (name, scenario) in &set.scenarios {
            let lang = if drawn % 2 == 0 { Lang::En } else { Lang::Fr };
            let picture = ladder(scenario, Lang::En);
            let svg = &picture.svg;
            crate::keep(&format!("ladder-{set_name}-{name}"), svg);
            let title = match &scenario.title {
                Some(t) => format!("{name} — {t}"),
                None => name.clone(),
            };
            assert_accessible(svg, &title);
            let els = elements(svg);
            let rows = els
                .iter()
                .filter(|e| e.name == "g" && e.attr("class") == Some("row"))
                .count();
            assert_eq!(
                rows,
                scenario.steps.len() + scenario.handlers.len() + scenario.levels.len(),
                "{set_name}/{name}: a row per step, handler and level"
            );
            let arrows = els
                .iter()
                .filter(|e| e.name == "path" && e.attr("marker-end").is_some())
                .count();
            // One per goto, and the legend's sample arrow when there is one.
            let gotos = all_gotos(scenario);
            assert_eq!(
                arrows,
                gotos + usize::from(gotos > 0),
                "{set_name}/{name}: arrows"
            );
            let written = texts(svg);
            for step in &scenario.steps {
                assert!(
                    written.contains(&step.name),
                    "{set_name}/{name}: step {} not written",
                    step.name
                );
            }
            for event in scenario.handlers.keys() {
                let heading = format!("on {}", event.words());
                assert!(written.contains(&heading), "{set_name}/{name}: {heading}");
            }
            assert_eq!(picture.steps.len(), scenario.steps.len());
            insta::assert_snapshot!(format!("ladder__{set_name}__{name}"), svg);
            // The other language draws the same structure.
            let other = ladder(scenario, lang);
            assert_eq!(
                elements(&other.svg).len(),
                els.len(),
                "{set_name}/{name}: {lang:?} has the same elements"
            );
            drawn += 1;
        }
    }
    assert!(drawn >= 14, "the stdlib and the examples: {drawn} ladders");
}

/// The standard B2B ladder read as a credit manager would: steps in date order on the axis,
/// the exact rules in the labels, the broken-promise jumps and the escalation marked.
#[test]
fn the_standard_ladder_reads_as_written() {
    let (set, _) = compiled(&root().join("stdlib-scenarios"));
    let s = &set.scenarios["standard-b2b"];
    let picture = ladder(s, Lang::En);
    let steps: Vec<(&str, &str, i64, bool)> = picture
        .steps
        .iter()
        .map(|st| (st.name.as_str(), st.when.as_str(), st.day, st.required))
        .collect();
    assert_eq!(
        steps,
        [
            ("preventive", "due − 5 days", -5, false),
            ("reminder-1", "due + 5 days", 5, false),
            ("reminder-2", "due + 15 days", 15, false),
            ("call", "reminder-2 + 5 business days", 22, false),
            ("notice", "due + 40 days", 40, true),
            ("agency", "notice + 15 days", 55, false),
        ]
    );
    assert_eq!(
        picture.steps[5].lines,
        [
            "if invoice.outstanding < 150 EUR",
            "task \"Small balance left after the formal notice: settle it by phone or write it off\" assign credit-manager",
            "else",
            "escalate agency \"default\"",
        ]
    );
    let els = elements(&picture.svg);
    // The agency step escalates: one red diamond on the axis (and the legend's).
    let diamonds = els.iter().filter(|e| e.name == "polygon").count();
    assert_eq!(diamonds, 2);
    // Three dashed jumps from `on promise broken`.
    let dashed = els
        .iter()
        .filter(|e| e.name == "path" && e.attr("stroke-dasharray").is_some())
        .count();
    assert_eq!(dashed, 3);
    let fr = ladder(s, Lang::Fr);
    assert_eq!(fr.steps[3].when, "reminder-2 + 5 jours ouvrés");
    assert!(texts(&fr.svg).iter().any(|t| t == "Sur événement"));
}
