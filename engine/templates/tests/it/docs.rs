//! `docs/DIAGNOSTICS.md` documents the template codes (`E05…`, `W05…`) with examples of several files:
//! fences whose info string names the file (```` ```relance example.relance ````,
//! ```` ```jinja templates/reminder-1.en.txt ````, ```` ```toml templates/templates.toml ````),
//! then a ```` ```text ```` block with what `relance check` prints. Each example must still
//! print exactly that.

use std::collections::BTreeMap;
use std::path::Path;

use relance_dsl::SourceFile;
use relance_dsl::diagnostics::render;

struct Section {
    code: String,
    files: Vec<(String, String)>,
    shown: Option<String>,
}

fn sections(doc: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut fence: Option<(String, String)> = None;
    for line in doc.lines() {
        if let Some((info, body)) = fence.as_mut() {
            if line.trim_end() == "```" {
                let (info, body) = (info.clone(), body.clone());
                fence = None;
                if let Some(s) = out.last_mut() {
                    match info.split_once(' ') {
                        Some((_, name)) if s.shown.is_none() => {
                            s.files.push((name.to_string(), body))
                        }
                        None if info == "text" && !s.files.is_empty() && s.shown.is_none() => {
                            s.shown = Some(body)
                        }
                        _ => {}
                    }
                }
            } else {
                body.push_str(line);
                body.push('\n');
            }
            continue;
        }
        if let Some(info) = line.strip_prefix("```") {
            fence = Some((info.trim().to_string(), String::new()));
        } else if let Some(head) = line.strip_prefix("## ") {
            let code = head.split(':').next().unwrap_or_default();
            if code.starts_with("E05") || code.starts_with("W05") {
                out.push(Section {
                    code: code.to_string(),
                    files: Vec::new(),
                    shown: None,
                });
            } else if !out.is_empty() && line.starts_with("## ") {
                out.push(Section {
                    code: String::new(),
                    files: Vec::new(),
                    shown: None,
                });
            }
        }
    }
    out.retain(|s| !s.code.is_empty());
    out
}

fn prints(files: &[(String, String)]) -> String {
    let sources: Vec<SourceFile> = files
        .iter()
        .filter(|(n, _)| n.ends_with(".relance"))
        .map(|(n, t)| SourceFile::new(n.clone(), t.clone()))
        .collect();
    let templates: BTreeMap<String, String> = files
        .iter()
        .filter_map(|(n, t)| Some((n.strip_prefix("templates/")?.to_string(), t.clone())))
        .collect();
    let checked = relance_templates::check_set(&sources, &templates);
    let mut out = String::new();
    for (i, f) in sources.iter().enumerate() {
        if let Some(d) = checked.scenarios.get(&i) {
            out.push_str(&render(d, &f.path, &f.text, false));
        }
    }
    out.push_str(&checked.render_templates("templates", false));
    out
}

#[test]
fn every_template_code_example_prints_what_the_doc_shows() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/DIAGNOSTICS.md");
    let doc = std::fs::read_to_string(path).expect("DIAGNOSTICS.md");
    let sections = sections(&doc);
    let codes: Vec<&str> = sections.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "E0501", "E0502", "E0503", "E0504", "E0505", "W0501", "W0502", "W0503"
        ]
    );
    let mut problems = Vec::new();
    for s in &sections {
        let shown = s.shown.clone().unwrap_or_default();
        let got = prints(&s.files);
        if got.trim_end() != shown.trim_end() {
            problems.push(format!(
                "{}: the doc shows\n{shown}\nthe example prints\n{got}",
                s.code
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
