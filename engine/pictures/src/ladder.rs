//! The ladder of a scenario: its steps on a time axis from the due date (day 0), each a marker
//! with its actions; `if` branches as indented lines, `goto` as arrows, handlers and levels
//! listed under the steps, escalation, required and stopping steps marked.
//!
//! It reads the compiled IR (`relance_dsl::ir::Scenario`) and nothing else. A step's day on
//! the axis is approximate where the scenario's rule is not a plain number of days (business
//! days, months, a step anchored on the invoice date or on another step's actual firing): the
//! label says the exact rule. It must not evaluate a condition or run the engine: for the
//! dates of one invoice, see [`crate::what_if`].

use relance_dsl::ir::{Action, Anchor, DayOfMonth, Scenario, Stmt};

use crate::Lang;
use crate::diagram::{Arrow, Diagram, Line, Marker, Row, draw};
use crate::expr::{approx_days, expr, negative, offset};

/// A step anchored on the issue date is drawn this many days before the due date (the
/// usual 30-day terms); its label says `issued + …`.
const ISSUED_BEFORE_DUE: i64 = 30;

/// A drawn ladder and, for the page's text alternative, its steps in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    pub svg: String,
    pub steps: Vec<LadderStep>,
}

/// One step as the ladder shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LadderStep {
    pub name: String,
    /// The rule of its date, as written (`due + 5 days`, `reminder-2 + 5 business days`).
    pub when: String,
    /// Its place on the axis, in days from the due date (approximate, see the module doc).
    pub day: i64,
    pub required: bool,
    /// Its actions and statements, one per line, as written.
    pub lines: Vec<String>,
}

/// Draws `scenario`'s ladder with labels in `lang`.
pub fn ladder(scenario: &Scenario, lang: Lang) -> Ladder {
    let mut days: Vec<i64> = Vec::with_capacity(scenario.steps.len());
    let mut rows = Vec::new();
    let mut arrows = Vec::new();
    let mut steps = Vec::new();
    let mut gotos: Vec<(usize, usize, bool)> = Vec::new();
    for step in &scenario.steps {
        let base = match step.anchor {
            Anchor::Due => 0,
            Anchor::Issued => -ISSUED_BEFORE_DUE,
            Anchor::Step(i) => days.get(i).copied().unwrap_or(0),
        };
        let day = base + approx_days(&step.offset);
        days.push(day);
        let anchor = match step.anchor {
            Anchor::Due => lang.pick("due", "échéance").to_string(),
            Anchor::Issued => lang.pick("issued", "émission").to_string(),
            Anchor::Step(i) => scenario
                .steps
                .get(i)
                .map_or_else(String::new, |s| s.name.clone()),
        };
        let mut when = if step.offset.days == 0 && step.offset.months == 0 {
            anchor
        } else {
            let sign = if negative(&step.offset) { "−" } else { "+" };
            format!("{anchor} {sign} {}", offset(&step.offset, lang))
        };
        match step.day_of_month {
            Some(DayOfMonth::EndOfMonth) => {
                when.push_str(lang.pick(", end of month", ", fin de mois"));
            }
            Some(DayOfMonth::Day(n)) => {
                when.push_str(&format!(", {} {n}", lang.pick("on day", "le")));
            }
            None => {}
        }
        if let Some(r) = &step.repeat {
            when.push_str(&format!(
                ", {} {}",
                lang.pick("every", "tous les"),
                offset(&r.every, lang)
            ));
            if let Some(t) = r.times {
                when.push_str(&format!(" × {t}"));
            }
            if let Some(u) = &r.until {
                when.push_str(&format!(" {} {}", lang.pick("until", "jusqu’à"), expr(u)));
            }
        }
        let mut note = when.clone();
        if step.required {
            note.push_str(lang.pick(" · required", " · obligatoire"));
        }
        let marker = if any_action(&step.body, &|a| matches!(a, Action::Escalate { .. })) {
            Marker::Escalation
        } else if step.body.iter().any(|s| matches!(s, Stmt::Stop(_))) {
            Marker::Terminal
        } else if step.required {
            Marker::Required
        } else {
            Marker::Step
        };
        let mut lines = Vec::new();
        let row = rows.len();
        stmts(scenario, &step.body, 0, &mut lines, &mut |to| {
            gotos.push((row, to, false))
        });
        steps.push(LadderStep {
            name: step.name.clone(),
            when,
            day,
            required: step.required,
            lines: lines.iter().map(|l: &Line| l.text.clone()).collect(),
        });
        rows.push(Row {
            day: Some(day),
            marker,
            heading: step.name.clone(),
            note,
            lines,
            section: false,
        });
    }
    if !scenario.levels.is_empty() {
        rows.push(section(
            lang.pick("Levels (per customer)", "Niveaux (par client)"),
        ));
        for level in &scenario.levels {
            let mut lines = Vec::new();
            let row = rows.len();
            stmts(scenario, &level.body, 0, &mut lines, &mut |to| {
                gotos.push((row, to, true))
            });
            rows.push(Row {
                day: None,
                marker: Marker::Step,
                heading: format!("level {}", level.name),
                note: format!("when {}", expr(&level.when)),
                lines,
                section: false,
            });
        }
    }
    if !scenario.handlers.is_empty() {
        rows.push(section(lang.pick("On events", "Sur événement")));
        for (event, body) in &scenario.handlers {
            let mut lines = Vec::new();
            let row = rows.len();
            stmts(scenario, body, 0, &mut lines, &mut |to| {
                gotos.push((row, to, true))
            });
            rows.push(Row {
                day: None,
                marker: Marker::Step,
                heading: format!("on {}", event.words()),
                note: lang.pick("handler", "gestionnaire").to_string(),
                lines,
                section: false,
            });
        }
    }
    // Steps are the first rows, in order: a goto's target step is its row.
    for (from, to, handler) in gotos {
        arrows.push(Arrow { from, to, handler });
    }
    let title = match &scenario.title {
        Some(t) => format!("{} — {t}", scenario.name),
        None => scenario.name.clone(),
    };
    let summary = summary(scenario, &title, &steps, lang);
    let svg = draw(&Diagram {
        id: format!("ladder-{}", scenario.name),
        title,
        summary,
        lang,
        rows,
        arrows,
        today: None,
    });
    Ladder { svg, steps }
}

fn section(title: &str) -> Row {
    Row {
        day: None,
        marker: Marker::Step,
        heading: title.to_string(),
        note: String::new(),
        lines: vec![],
        section: true,
    }
}

fn summary(scenario: &Scenario, title: &str, steps: &[LadderStep], lang: Lang) -> String {
    let mut s = format!(
        "{} {title}: {} {}",
        lang.pick("Scenario", "Scénario"),
        steps.len(),
        lang.pick("steps", "étapes"),
    );
    if let (Some(first), Some(last)) = (steps.first(), steps.last()) {
        s.push_str(&format!(
            " ({} {}, {} {})",
            lang.pick("first", "première"),
            first.when,
            lang.pick("last", "dernière"),
            last.when
        ));
    }
    if !scenario.levels.is_empty() {
        let levels: Vec<&str> = scenario.levels.iter().map(|l| l.name.as_str()).collect();
        s.push_str(&format!(
            "; {}: {}",
            lang.pick("levels", "niveaux"),
            levels.join(", ")
        ));
    }
    if !scenario.handlers.is_empty() {
        let events: Vec<&str> = scenario.handlers.keys().map(|e| e.words()).collect();
        s.push_str(&format!(
            "; {}: {}",
            lang.pick("handlers", "gestionnaires"),
            events.join(", ")
        ));
    }
    s.push('.');
    s
}

/// Whether `found` holds for an action anywhere in `body`, branches included.
fn any_action(body: &[Stmt], found: &impl Fn(&Action) -> bool) -> bool {
    body.iter().any(|s| match s {
        Stmt::Action(a) => found(a),
        Stmt::If {
            then, otherwise, ..
        } => any_action(then, found) || any_action(otherwise, found),
        _ => false,
    })
}

/// The lines of a body, branches indented; each `goto` reported to `goto` with its target.
fn stmts(
    scenario: &Scenario,
    body: &[Stmt],
    indent: usize,
    lines: &mut Vec<Line>,
    goto: &mut dyn FnMut(usize),
) {
    let plain = |text: String, indent: usize| Line {
        tag: None,
        text,
        indent,
    };
    for s in body {
        match s {
            Stmt::Action(a) => lines.push(Line {
                tag: Some(a.channel()),
                text: a.to_string(),
                indent,
            }),
            Stmt::SkipWhen(e) => lines.push(plain(format!("skip when {}", expr(e)), indent)),
            Stmt::StopWhen(e) => lines.push(plain(format!("stop when {}", expr(e)), indent)),
            Stmt::WaitUntil(e) => lines.push(plain(format!("wait until {}", expr(e)), indent)),
            Stmt::Goto(to) => {
                let name = scenario.steps.get(*to).map_or("?", |s| s.name.as_str());
                lines.push(plain(format!("→ goto {name}"), indent));
                goto(*to);
            }
            Stmt::Stop(reason) => lines.push(plain(
                match reason {
                    Some(r) => format!("stop \"{r}\""),
                    None => "stop".into(),
                },
                indent,
            )),
            Stmt::Pause => lines.push(plain("pause".into(), indent)),
            Stmt::Resume(after) => lines.push(plain(
                match after {
                    Some(o) => format!("resume after {}", offset(o, Lang::En)),
                    None => "resume".into(),
                },
                indent,
            )),
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                lines.push(plain(format!("if {}", expr(cond)), indent));
                stmts(scenario, then, indent + 1, lines, goto);
                let mut rest = otherwise;
                loop {
                    match rest.as_slice() {
                        [] => break,
                        [
                            Stmt::If {
                                cond,
                                then,
                                otherwise,
                            },
                        ] => {
                            lines.push(plain(format!("else if {}", expr(cond)), indent));
                            stmts(scenario, then, indent + 1, lines, goto);
                            rest = otherwise;
                        }
                        other => {
                            lines.push(plain("else".into(), indent));
                            stmts(scenario, other, indent + 1, lines, goto);
                            break;
                        }
                    }
                }
            }
        }
    }
}
