//! The drawing shared by the scenario ladder and the what-if timeline: rows on a time axis
//! whose day 0 is the due date. Each row is a marker at its day (rows without a day, such as
//! handlers, have none), a heading with a note, and lines of actions with a channel tag;
//! arrows (`goto`) join rows in the left gutter. Written as plain SVG (a diagram, not a chart),
//! deterministic: the same rows give the same bytes.
//!
//! It draws what it is given and decides nothing about scenarios.

use std::fmt::Write;

use crate::Lang;
use crate::svg::{accessible, esc};

/// How a row's marker looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Step,
    Required,
    Escalation,
    Terminal,
    Action,
}

/// One line under a row's heading: an action with its channel tag, or a statement.
pub(crate) struct Line {
    pub tag: Option<&'static str>,
    pub text: String,
    pub indent: usize,
}

pub(crate) struct Row {
    /// Days from the due date (approximate for the ladder), `None` for a row off the axis.
    pub day: Option<i64>,
    pub marker: Marker,
    pub heading: String,
    pub note: String,
    pub lines: Vec<Line>,
    /// A section title (`Handlers`): heading only, no marker.
    pub section: bool,
}

/// An arrow from one row to another (indices into `rows`), for a `goto`.
pub(crate) struct Arrow {
    pub from: usize,
    pub to: usize,
    /// Drawn dashed: the jump of an event handler rather than of a step.
    pub handler: bool,
}

pub(crate) struct Diagram {
    /// Unique within a page (the arrowhead's id is derived from it).
    pub id: String,
    pub title: String,
    pub summary: String,
    pub lang: Lang,
    pub rows: Vec<Row>,
    pub arrows: Vec<Arrow>,
    /// A marked day on the axis (the what-if's "today") and its label.
    pub today: Option<(i64, String)>,
}

const GUTTER: f64 = 20.0;
const AX0: f64 = 190.0;
const AX1: f64 = 480.0;
const TX: f64 = 510.0;
const AXIS_Y: f64 = 78.0;
const LINE_H: f64 = 18.0;
const CHAR_W: f64 = 7.0;

fn tag_color(tag: &str) -> &'static str {
    match tag {
        "email" | "sms" => "#0b5394",
        "letter" => "#6a1b9a",
        "call" => "#1b5e20",
        "charge" => "#8d4e00",
        "escalate" | "alert" => "#b71c1c",
        _ => "#37474f",
    }
}

fn marker(out: &mut String, m: Marker, x: f64, y: f64) {
    match m {
        Marker::Step => {
            let _ = write!(
                out,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="6" fill="#0072b2"/>"##
            );
        }
        Marker::Required => {
            let _ = write!(
                out,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="6" fill="#0072b2"/><circle cx="{x:.1}" cy="{y:.1}" r="9.5" fill="none" stroke="#0072b2" stroke-width="2"/>"##
            );
        }
        Marker::Escalation => {
            let _ = write!(
                out,
                r##"<polygon points="{x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}" fill="#b71c1c"/>"##,
                y - 8.0,
                x + 8.0,
                y + 8.0,
                x - 8.0
            );
        }
        Marker::Terminal => {
            let _ = write!(
                out,
                r##"<rect x="{:.1}" y="{:.1}" width="12" height="12" fill="#222"/>"##,
                x - 6.0,
                y - 6.0
            );
        }
        Marker::Action => {
            let _ = write!(
                out,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="5" fill="#00795c"/>"##
            );
        }
    }
}

/// A signed day label: `0`, `+15`, `−5`.
fn day_label(day: i64) -> String {
    match day {
        0 => "0".into(),
        d if d > 0 => format!("+{d}"),
        d => format!("−{}", -d),
    }
}

pub(crate) fn draw(d: &Diagram) -> String {
    let lang = d.lang;
    let days: Vec<i64> = d
        .rows
        .iter()
        .filter_map(|r| r.day)
        .chain(d.today.as_ref().map(|t| t.0))
        .chain([0])
        .collect();
    let (lo, hi) = (
        *days.iter().min().unwrap_or(&0),
        *days.iter().max().unwrap_or(&0),
    );
    let span = (hi - lo).max(1) as f64;
    let x = |day: i64| AX0 + (day - lo) as f64 / span * (AX1 - AX0);
    let widest = d
        .rows
        .iter()
        .flat_map(|r| {
            std::iter::once(r.heading.chars().count() + r.note.chars().count() + 3).chain(
                r.lines
                    .iter()
                    .map(|l| l.text.chars().count() + 4 * l.indent + 10),
            )
        })
        .max()
        .unwrap_or(0);
    let width = (TX + widest as f64 * CHAR_W + GUTTER).max(980.0).ceil();
    // Rows, top to bottom.
    let mut y = AXIS_Y + 30.0;
    let mut ys = Vec::with_capacity(d.rows.len());
    for row in &d.rows {
        if row.section {
            y += 12.0;
            ys.push(y);
            y += 22.0;
        } else {
            ys.push(y);
            y += 26.0 + LINE_H * row.lines.len() as f64;
        }
    }
    let legend_y = y + 16.0;
    let height = (legend_y + 30.0).ceil();
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"##
    );
    let arrow_id = format!("arrow-{}", id_safe(&d.id));
    let _ = writeln!(
        out,
        r##"<defs><marker id="{arrow_id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>"##
    );
    let _ = writeln!(
        out,
        r##"<rect width="{width}" height="{height}" fill="#fff"/><text x="{GUTTER}" y="28" font-size="17" font-weight="bold" fill="#111">{}</text>"##,
        esc(&d.title)
    );
    // The axis: a tick and a label at each distinct day, labels kept apart.
    let _ = write!(
        out,
        r##"<g class="axis"><line x1="{AX0}" y1="{AXIS_Y}" x2="{AX1}" y2="{AXIS_Y}" stroke="#333"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#333">{}</text>"##,
        AX0 - 10.0,
        AXIS_Y + 4.0,
        esc(lang.pick("days from due", "jours / échéance"))
    );
    let mut ticks = days.clone();
    ticks.sort_unstable();
    ticks.dedup();
    let mut last_label = f64::NEG_INFINITY;
    for day in &ticks {
        let tx = x(*day);
        let _ = write!(
            out,
            r##"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{:.1}" stroke="#333"/>"##,
            AXIS_Y - 4.0,
            AXIS_Y + 4.0
        );
        if tx - last_label >= 26.0 || *day == 0 {
            let _ = write!(
                out,
                r##"<text x="{tx:.1}" y="{:.1}" text-anchor="middle" fill="#333">{}</text>"##,
                AXIS_Y - 9.0,
                day_label(*day)
            );
            last_label = tx;
        }
    }
    out.push_str("</g>\n");
    // The due date, and the marked day, down the whole ladder.
    let bottom = y - 8.0;
    let _ = writeln!(
        out,
        r##"<line x1="{0:.1}" y1="{AXIS_Y}" x2="{0:.1}" y2="{bottom:.1}" stroke="#555" stroke-dasharray="4 3"/><text x="{0:.1}" y="{1:.1}" text-anchor="middle" fill="#333">{2}</text>"##,
        x(0),
        AXIS_Y + 18.0,
        esc(lang.pick("due", "échéance"))
    );
    if let Some((day, label)) = &d.today {
        let _ = write!(
            out,
            r##"<line x1="{0:.1}" y1="{AXIS_Y}" x2="{0:.1}" y2="{bottom:.1}" stroke="#0072b2" stroke-width="2"/><text x="{0:.1}" y="{1:.1}" text-anchor="middle" fill="#0b5394" font-weight="bold">{2}</text>"##,
            x(*day),
            AXIS_Y - 24.0,
            esc(label)
        );
    }
    // The rows.
    for (row, &ry) in d.rows.iter().zip(&ys) {
        if row.section {
            let _ = writeln!(
                out,
                r##"<text x="{GUTTER}" y="{:.1}" font-size="14" font-weight="bold" fill="#111">{}</text><line x1="{GUTTER}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999"/>"##,
                ry + 5.0,
                esc(&row.heading),
                ry + 10.0,
                width - GUTTER,
                ry + 10.0
            );
            continue;
        }
        out.push_str(r#"<g class="row">"#);
        let _ = write!(
            out,
            r##"<line x1="{:.1}" y1="{ry:.1}" x2="{:.1}" y2="{ry:.1}" stroke="#ccc" stroke-dasharray="2 3"/>"##,
            AX0 - 6.0,
            TX - 8.0
        );
        if let Some(day) = row.day {
            marker(&mut out, row.marker, x(day), ry);
        }
        let _ = write!(
            out,
            r##"<text x="{TX}" y="{:.1}"><tspan font-weight="bold" font-size="13" fill="#111">{}</tspan><tspan fill="#444"> · {}</tspan></text>"##,
            ry + 4.0,
            esc(&row.heading),
            esc(&row.note)
        );
        for (k, line) in row.lines.iter().enumerate() {
            let ly = ry + 4.0 + LINE_H * (k + 1) as f64;
            let lx = TX + 10.0 + 16.0 * line.indent as f64;
            match line.tag {
                Some(tag) => {
                    let w = tag.len() as f64 * 6.5 + 10.0;
                    let _ = write!(
                        out,
                        r##"<rect x="{lx:.1}" y="{:.1}" width="{w:.1}" height="15" rx="3" fill="{}"/><text x="{:.1}" y="{ly:.1}" fill="#fff" font-size="11">{}</text><text x="{:.1}" y="{ly:.1}" fill="#111">{}</text>"##,
                        ly - 11.5,
                        tag_color(tag),
                        lx + 5.0,
                        tag,
                        lx + w + 6.0,
                        esc(&line.text)
                    );
                }
                None => {
                    let _ = write!(
                        out,
                        r##"<text x="{lx:.1}" y="{ly:.1}" fill="#333" font-style="italic">{}</text>"##,
                        esc(&line.text)
                    );
                }
            }
        }
        out.push_str("</g>\n");
    }
    // The jumps, each in its own lane of the gutter.
    for (lane, a) in d.arrows.iter().enumerate() {
        let (fy, ty) = (ys[a.from], ys[a.to]);
        let lx = AX0 - 24.0 - 14.0 * (lane % 9) as f64;
        let dash = if a.handler {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r##"<path d="M{0:.1},{fy:.1} C{lx:.1},{fy:.1} {lx:.1},{ty:.1} {0:.1},{ty:.1}" fill="none" stroke="#444" stroke-width="1.5"{dash} marker-end="url(#{arrow_id})"/>"##,
            AX0 - 8.0
        );
    }
    // The legend: the markers drawn, and the arrow when there is one.
    let items = [
        (Marker::Step, lang.pick("step", "étape")),
        (
            Marker::Required,
            lang.pick("required step", "étape obligatoire"),
        ),
        (Marker::Escalation, lang.pick("escalation", "escalade")),
        (Marker::Terminal, lang.pick("stop", "arrêt")),
        (Marker::Action, lang.pick("planned action", "action prévue")),
    ];
    let used = |m: Marker| d.rows.iter().any(|r| r.day.is_some() && r.marker == m);
    let mut lx = GUTTER + 10.0;
    out.push_str(r#"<g class="legend">"#);
    for (m, label) in items.into_iter().filter(|(m, _)| used(*m)) {
        marker(&mut out, m, lx, legend_y);
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" fill="#333">{}</text>"##,
            lx + 14.0,
            legend_y + 4.0,
            esc(label)
        );
        lx += 30.0 + label.chars().count() as f64 * CHAR_W;
    }
    if !d.arrows.is_empty() {
        let _ = write!(
            out,
            r##"<path d="M{lx:.1},{legend_y:.1} L{:.1},{legend_y:.1}" stroke="#444" stroke-width="1.5" marker-end="url(#{arrow_id})"/><text x="{:.1}" y="{:.1}" fill="#333">goto</text>"##,
            lx + 26.0,
            lx + 32.0,
            legend_y + 4.0
        );
    }
    out.push_str("</g>\n");
    out.push_str("</svg>\n");
    accessible(&out, &d.title, &d.summary, lang)
}

/// An id made of letters, digits and `-` only.
fn id_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}
