//! Keeps `docs/` honest: the reference pages must follow the code.
//!
//! - `docs/DIAGNOSTICS.md` has one `## CODE: title` section per variant of `Code` (same title,
//!   same order as `Code::ALL`, no code the enum lacks), each heading is the anchor
//!   `Code::docs_url` points at, and each section's `relance` example still produces the
//!   diagnostics its `text` block shows.
//! - `docs/LANGUAGE.md` lists every field (path, type and doc, copied from `schema::fields()`),
//!   every handler event, every role, every test field and every calendar of the schema, says
//!   where each statement may stand as `schema::STATEMENTS` does, and
//!   each of its ```` ```relance ```` blocks is a complete file that compiles without any
//!   diagnostic. A block opened with ```` ```relance fragment ```` is a piece of a file and is not
//!   compiled.
//! - Links between the docs (`LANGUAGE.md#…`, `DIAGNOSTICS.md#…`, `#…`) point at headings that
//!   exist.
//!
//! When a test here fails after a change to the language, update the docs, not the test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use relance_dsl::schema::{self, Body, Type};
use relance_dsl::syntax::grammar;
use relance_dsl::{Code, SetContext, Severity, SourceFile, compile};

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
}

fn read_doc(name: &str) -> String {
    let path = docs_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A fenced code block: its info string (`relance`, `text` …), its body and the 1-based line of
/// its opening fence.
#[derive(Debug)]
struct Fence {
    info: String,
    body: String,
    line: usize,
}

/// A markdown document split into headings and fenced blocks, in order.
#[derive(Debug)]
enum Part {
    Heading {
        level: usize,
        text: String,
        line: usize,
    },
    Fence(Fence),
    Line(String),
}

fn parse_markdown(doc: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut open: Option<Fence> = None;
    for (i, line) in doc.lines().enumerate() {
        if let Some(f) = open.as_mut() {
            if line.trim_end() == "```" {
                parts.push(Part::Fence(open.take().expect("open fence")));
            } else {
                f.body.push_str(line);
                f.body.push('\n');
            }
            continue;
        }
        if let Some(info) = line.strip_prefix("```") {
            open = Some(Fence {
                info: info.trim().to_string(),
                body: String::new(),
                line: i + 1,
            });
        } else if line.starts_with('#') {
            let level = line.chars().take_while(|c| *c == '#').count();
            let text = line[level..].trim().to_string();
            parts.push(Part::Heading {
                level,
                text,
                line: i + 1,
            });
        } else {
            parts.push(Part::Line(line.to_string()));
        }
    }
    assert!(open.is_none(), "a code fence is never closed");
    parts
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, and
/// `-1`, `-2` … on repeated headings.
fn anchors(parts: &[Part]) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for p in parts {
        if let Part::Heading { text, .. } = p {
            let slug: String = text
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect();
            let n = seen.entry(slug.clone()).or_insert(0);
            out.insert(if *n == 0 {
                slug.clone()
            } else {
                format!("{slug}-{n}")
            });
            *n += 1;
        }
    }
    out
}

/// `(code, title)` of a `## E0001: syntax error` heading.
fn code_heading(text: &str) -> Option<(&str, &str)> {
    let (code, title) = text.split_once(": ")?;
    let is_code = code.len() == 5
        && (code.starts_with('E') || code.starts_with('W'))
        && code[1..].chars().all(|c| c.is_ascii_digit());
    is_code.then_some((code, title))
}

/// The set context an example declares in its leading comments, as in `tests/cases`:
/// `# templates: a, b` and `# rules: name/arity, …`.
fn context(source: &str) -> SetContext {
    let mut ctx = SetContext::default();
    for line in source.lines().take_while(|l| l.starts_with('#')) {
        if let Some(list) = line.strip_prefix("# templates:") {
            ctx.templates = Some(
                list.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            );
        }
        if let Some(list) = line.strip_prefix("# rules:") {
            let rules = list
                .split(',')
                .map(|r| {
                    let (name, arity) = r.trim().split_once('/').expect("`# rules: name/arity`");
                    (name.to_string(), arity.parse().expect("rule arity"))
                })
                .collect();
            ctx.rules = Some(rules);
        }
    }
    ctx
}

/// The header lines (`error[E0110]: unknown step `x``) of what `source` produces.
fn diagnostic_headers(name: &str, source: &str) -> Vec<String> {
    let files = vec![SourceFile::new(name, source)];
    let compiled = compile(&files, &context(source));
    compiled.diagnostics[0]
        .iter()
        .map(|d| {
            let sev = match d.severity() {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            format!("{sev}[{}]: {}", d.code, d.message)
        })
        .collect()
}

// ----- DIAGNOSTICS.md -----------------------------------------------------------------------

#[test]
fn every_code_has_its_section_with_the_same_title() {
    let doc = read_doc("DIAGNOSTICS.md");
    let parts = parse_markdown(&doc);
    let mut documented: Vec<(String, String, usize)> = Vec::new();
    for p in &parts {
        if let Part::Heading {
            level: 2,
            text,
            line,
        } = p
            && let Some((code, title)) = code_heading(text)
        {
            documented.push((code.to_string(), title.to_string(), *line));
        }
    }
    let mut problems = Vec::new();
    for (code, title, line) in &documented {
        match Code::from_code(code) {
            None => problems.push(format!(
                "line {line}: `## {code}` names a code that the enum `Code` (dsl/src/check/codes.rs) does not have"
            )),
            Some(c) if c.title() != title => problems.push(format!(
                "line {line}: `## {code}: {title}` should be `## {code}: {}` (the title of Code::{c:?})",
                c.title()
            )),
            Some(_) => {}
        }
    }
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for (code, _, _) in &documented {
        *count.entry(code.as_str()).or_default() += 1;
    }
    for c in Code::ALL {
        match count.get(c.code()) {
            None => problems.push(format!(
                "missing section `## {}: {}` (Code::{c:?})",
                c.code(),
                c.title()
            )),
            Some(n) if *n > 1 => problems.push(format!("`## {}` appears {n} times", c.code())),
            Some(_) => {}
        }
    }
    let order: Vec<&str> = documented
        .iter()
        .map(|(c, _, _)| c.as_str())
        .filter(|c| Code::from_code(c).is_some())
        .collect();
    let expected: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.code())
        .filter(|c| order.contains(c))
        .collect();
    if order != expected {
        problems.push("sections are not in the order of Code::ALL".to_string());
    }
    let heads = anchors(&parts);
    for c in Code::ALL {
        let url = c.docs_url();
        let anchor = url
            .strip_prefix("docs/DIAGNOSTICS.md#")
            .expect("docs_url points into docs/DIAGNOSTICS.md");
        if count.contains_key(c.code()) && !heads.contains(anchor) {
            problems.push(format!(
                "Code::{c:?}.docs_url() is `{url}`, which is no heading's anchor"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/DIAGNOSTICS.md is out of sync with the enum `Code` (dsl/src/check/codes.rs):\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_diagnostic_example_prints_what_the_doc_shows() {
    let doc = read_doc("DIAGNOSTICS.md");
    let parts = parse_markdown(&doc);
    let mut problems = Vec::new();
    let mut current: Option<(String, usize)> = None;
    let mut example: Option<&Fence> = None;
    let mut shown: Option<&Fence> = None;
    let mut sections: Vec<(String, usize, Option<&Fence>, Option<&Fence>)> = Vec::new();
    let mut rhai_sections: BTreeSet<String> = BTreeSet::new();
    for p in &parts {
        match p {
            Part::Heading { level, text, line } if *level <= 2 => {
                if let Some((code, l)) = current.take() {
                    sections.push((code, l, example.take(), shown.take()));
                }
                example = None;
                shown = None;
                if *level == 2 {
                    current = code_heading(text).map(|(c, _)| (c.to_string(), *line));
                }
            }
            Part::Fence(f) if f.info == "rhai" => {
                if let Some((code, _)) = &current {
                    rhai_sections.insert(code.clone());
                }
            }
            Part::Fence(f) if current.is_some() && f.info == "relance" && example.is_none() => {
                example = Some(f)
            }
            Part::Fence(f)
                if current.is_some()
                    && f.info == "text"
                    && example.is_some()
                    && shown.is_none() =>
            {
                shown = Some(f)
            }
            _ => {}
        }
    }
    if let Some((code, l)) = current.take() {
        sections.push((code, l, example, shown));
    }
    for (code, line, example, shown) in sections {
        // A section whose example has `rules/*.rhai` files is checked by relance-core (which
        // compiles rhai): engine/core/tests/it/set_diagnostics.rs. Template codes (`E05…`, `W05…`) are
        // reported by relance-templates, whose own test (`engine/templates/tests/it/docs.rs`)
        // checks their multi-file examples.
        if (rhai_sections.contains(&code) && example.is_some() && shown.is_some())
            || code.starts_with("E05")
            || code.starts_with("W05")
        {
            continue;
        }
        let (Some(example), Some(shown)) = (example, shown) else {
            problems.push(format!(
                "`## {code}` (line {line}) needs a ```relance example followed by a ```text output"
            ));
            continue;
        };
        let got = diagnostic_headers("example.relance", &example.body);
        if !got.iter().any(|h| h.contains(&format!("[{code}]"))) {
            problems.push(format!(
                "the example of {code} (line {}) does not produce {code}; it gives:\n  {}",
                example.line,
                got.join("\n  ")
            ));
        }
        let want: Vec<String> = shown
            .body
            .lines()
            .filter(|l| l.starts_with("error[") || l.starts_with("warning["))
            .map(str::to_string)
            .collect();
        if got != want {
            problems.push(format!(
                "the output shown for {code} (line {}) differs from what the example gives now:\n  doc: {}\n  now: {}\n  (run `relance check example.relance` on the example and paste its output)",
                shown.line,
                want.join("\n       "),
                got.join("\n       ")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/DIAGNOSTICS.md examples are out of date:\n{}",
        problems.join("\n")
    );
}

// ----- LANGUAGE.md --------------------------------------------------------------------------

/// The words LANGUAGE.md uses for a type in its tables.
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "boolean".into(),
        Type::Number => "number".into(),
        Type::Money => "money".into(),
        Type::Percent => "percentage".into(),
        Type::Text => "text".into(),
        Type::Date => "date".into(),
        Type::Duration => "duration".into(),
        Type::List(t) => format!("list of {}", type_name(t)),
        Type::RuleResult => "rule result".into(),
        Type::Unknown => "unknown".into(),
    }
}

/// The cells of the table row whose first cell is `` `key` ``, if any.
fn row<'d>(doc: &'d str, key: &str) -> Option<Vec<&'d str>> {
    let first = format!("`{key}`");
    doc.lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first() == Some(&first.as_str()))
}

/// The rows of the first table whose header's first cell is `first_header`, keyed by their
/// first cell without backticks.
fn table<'d>(doc: &'d str, first_header: &str) -> BTreeMap<String, Vec<&'d str>> {
    let mut lines = doc
        .lines()
        .skip_while(|l| !l.starts_with(&format!("| {first_header} |")));
    let mut out = BTreeMap::new();
    lines.next();
    for l in lines.skip(1).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
        out.insert(cells[0].trim_matches('`').to_string(), cells);
    }
    out
}

#[test]
fn every_field_is_documented_with_its_type_and_doc() {
    let doc = read_doc("LANGUAGE.md");
    let mut problems = Vec::new();
    for f in schema::fields() {
        let want = format!("| `{}` | {} | {} |", f.path, type_name(&f.ty), f.doc);
        match row(&doc, f.path) {
            Some(cells)
                if cells.len() == 3 && cells[1] == type_name(&f.ty) && cells[2] == f.doc => {}
            Some(_) => problems.push(format!("the row of `{}` should read: {want}", f.path)),
            None => problems.push(format!("missing field row: {want}")),
        }
    }
    assert!(
        problems.is_empty(),
        "docs/LANGUAGE.md field table is out of sync with schema.rs:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_event_and_role_is_documented() {
    let doc = read_doc("LANGUAGE.md");
    let mut problems = Vec::new();
    for (words, _, text) in schema::EVENTS {
        match row(&doc, words) {
            Some(cells) if cells.get(1) == Some(text) => {}
            _ => problems.push(format!(
                "missing or changed event row: | `{words}` | {text} |"
            )),
        }
    }
    for (role, text) in schema::ROLES {
        match row(&doc, role) {
            Some(cells) if cells.get(1) == Some(text) => {}
            _ => problems.push(format!(
                "missing or changed role row: | `{role}` | {text} |"
            )),
        }
    }
    for cal in schema::CALENDARS {
        if !doc.contains(&format!("`calendar {cal}`")) {
            problems.push(format!("calendar `{cal}` is not documented"));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/LANGUAGE.md is out of sync with schema.rs:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_test_field_is_documented_with_its_type() {
    let doc = read_doc("LANGUAGE.md");
    let mut problems = Vec::new();
    for (header, fields) in [
        ("customer field", schema::test_customer_fields()),
        ("invoice field", schema::TEST_INVOICE_FIELDS),
    ] {
        let rows = table(&doc, header);
        if rows.is_empty() {
            problems.push(format!("no table starting with `| {header} |`"));
            continue;
        }
        for (name, ty) in fields {
            match rows.get(*name) {
                Some(cells) if cells.get(1).copied() == Some(type_name(ty).as_str()) => {}
                _ => problems.push(format!(
                    "the `{header}` table needs the row | `{name}` | {} | … |",
                    type_name(ty)
                )),
            }
        }
        for name in rows.keys() {
            if !fields.iter().any(|(n, _)| n == name) {
                problems.push(format!(
                    "the `{header}` table documents `{name}`, which schema.rs does not have"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "docs/LANGUAGE.md test fields are out of sync with schema.rs:\n{}",
        problems.join("\n")
    );
}

/// The statement table of LANGUAGE.md §7 (`| statement | … | in steps | in handlers |`) says
/// where each statement may stand as `schema::STATEMENTS` (which the checker follows) does; the
/// row `an [action](…)` stands for every action.
#[test]
fn the_statement_table_says_where_each_statement_may_stand() {
    let doc = read_doc("LANGUAGE.md");
    let rows = table(&doc, "statement");
    assert!(!rows.is_empty(), "no table starting with `| statement |`");
    let actions = grammar::starters("action");
    // The statement a row is about: the longest phrase its first cell starts with.
    let phrase_of = |key: &str| {
        schema::STATEMENTS
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| {
                key.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '`']))
            })
            .max_by_key(|p| p.len())
    };
    let mut problems = Vec::new();
    for (phrase, _) in schema::STATEMENTS {
        let yes = |body| {
            if schema::refused(phrase, body).is_none() {
                "yes"
            } else {
                "no"
            }
        };
        let want = [yes(Body::Step), yes(Body::Handler)];
        let cells = if actions.iter().any(|a| a == phrase) {
            rows.iter()
                .find(|(k, _)| k.starts_with("an [action]"))
                .map(|(_, c)| c)
        } else {
            rows.iter()
                .find(|(k, _)| phrase_of(k) == Some(phrase))
                .map(|(_, c)| c)
        };
        match cells {
            Some(c) if c.len() >= 4 && c[2..4] == want => {}
            Some(c) => problems.push(format!(
                "the row of `{phrase}` says in steps: {}, in handlers: {}; the checker says {}, {}",
                c.get(2).unwrap_or(&"?"),
                c.get(3).unwrap_or(&"?"),
                want[0],
                want[1]
            )),
            None => problems.push(format!("no row for `{phrase}`")),
        }
    }
    assert!(
        problems.is_empty(),
        "docs/LANGUAGE.md §7 Statements is out of sync with schema::STATEMENTS (dsl/src/schema.rs):\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_complete_example_compiles_clean() {
    let doc = read_doc("LANGUAGE.md");
    let mut problems = Vec::new();
    let mut checked = 0;
    for p in parse_markdown(&doc) {
        let Part::Fence(f) = p else { continue };
        match f.info.as_str() {
            "relance" => {
                checked += 1;
                // Padded with the lines before the block, so diagnostics point at LANGUAGE.md's
                // own lines.
                let source = format!("{}{}", "\n".repeat(f.line), f.body);
                let name = "docs/LANGUAGE.md";
                let files = vec![SourceFile::new(name, source.clone())];
                let compiled = compile(&files, &SetContext::default());
                let diags = &compiled.diagnostics[0];
                if !diags.is_empty() || compiled.set.is_none() {
                    let rendered = relance_dsl::diagnostics::render(diags, name, &source, false);
                    problems.push(format!(
                        "the example at line {} is not clean:\n{rendered}",
                        f.line
                    ));
                }
            }
            "relance fragment" => {}
            other if other.starts_with("relance") => problems.push(format!(
                "line {}: unknown fence `{other}` (use `relance` or `relance fragment`)",
                f.line
            )),
            _ => {}
        }
    }
    assert!(checked > 0, "LANGUAGE.md has no ```relance example");
    assert!(
        problems.is_empty(),
        "docs/LANGUAGE.md examples:\n{}",
        problems.join("\n")
    );
}

// ----- links --------------------------------------------------------------------------------

#[test]
fn links_between_the_docs_point_at_existing_headings() {
    let mut names: Vec<String> = std::fs::read_dir(docs_dir())
        .expect("docs/ exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".md"))
        .collect();
    names.sort();
    let docs: BTreeMap<&str, String> = names.iter().map(|n| (n.as_str(), read_doc(n))).collect();
    let heads: BTreeMap<&str, BTreeSet<String>> = docs
        .iter()
        .map(|(n, d)| (*n, anchors(&parse_markdown(d))))
        .collect();
    let mut problems = Vec::new();
    for (name, doc) in &docs {
        let prose: String = parse_markdown(doc)
            .into_iter()
            .filter_map(|p| match p {
                Part::Line(l) => Some(l),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n");
        for (i, _) in prose.match_indices("](") {
            let rest = &prose[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = &rest[..end];
            let (file, anchor) = match target.split_once('#') {
                Some(("", a)) => (*name, Some(a)),
                Some((f, a)) => (f, Some(a)),
                None => (target, None),
            };
            if file.starts_with("http") || file.contains('/') {
                continue;
            }
            let Some(known) = heads.get(file) else {
                if !docs_dir().join(file).is_file() {
                    problems.push(format!("{name}: link to unknown file `{target}`"));
                }
                continue;
            };
            if let Some(a) = anchor
                && !known.contains(a)
            {
                problems.push(format!(
                    "{name}: link `{target}` points at no heading of {file}"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken links in docs/:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_keyword_of_the_grammar_is_listed() {
    let doc = read_doc("LANGUAGE.md");
    let missing: Vec<&str> = grammar::keywords()
        .iter()
        .copied()
        .filter(|word| !doc.contains(&format!("`{word}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/LANGUAGE.md does not list the keywords: {}",
        missing.join(", ")
    );
}

#[test]
fn the_tour_is_the_brief_sketch_case() {
    let doc = read_doc("LANGUAGE.md");
    let case_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cases/valid/brief-sketch.relance");
    let case = std::fs::read_to_string(&case_path).expect("read brief-sketch.relance");
    let tour = parse_markdown(&doc).into_iter().find_map(|p| match p {
        Part::Fence(f) if f.info == "relance" => Some(f.body),
        _ => None,
    });
    assert_eq!(
        tour.as_deref(),
        Some(case.as_str()),
        "the first ```relance block of docs/LANGUAGE.md (the tour) must be tests/cases/valid/brief-sketch.relance, verbatim"
    );
}
