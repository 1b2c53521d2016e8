//! Hover: what the word under the cursor means, in Markdown.
//!
//! Keywords show their shape and a sentence (`docs`), field paths the schema's type and doc,
//! step names the step's anchor line, scenarios their title and file, templates their files,
//! rules their rhai signature, roles and events the schema's doc. This module only describes;
//! it must not resolve anything [`definition`](super::definition) would not.

use relance_dsl::schema;
use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use super::docs;
use super::resources;
use super::scan::{ItemKind, OccKind, Occurrence, Scan, scan};
use super::workspace::SetView;

pub fn hover(view: &SetView, offset: usize) -> Option<Hover> {
    let here = scan(view.text());
    let occ = here.occurrence_at(offset)?;
    let value = markdown(view, &here, occ)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(view.document.range(occ.span)),
    })
}

fn code(text: &str) -> String {
    format!("```relance\n{text}\n```")
}

/// The Markdown describing an occurrence.
fn markdown(view: &SetView, here: &Scan, occ: &Occurrence) -> Option<String> {
    Some(match occ.kind {
        OccKind::Keyword => {
            let d = docs::keyword(&occ.name, occ.place)?;
            format!("{}\n\n{}", code(d.syntax), d.doc)
        }
        OccKind::Field => field(&occ.name)?,
        OccKind::TestField => {
            let fields: &[(&str, schema::Type)] = match occ.place {
                super::scan::Place::Customer => schema::test_customer_fields(),
                _ => schema::TEST_INVOICE_FIELDS,
            };
            let (_, ty) = fields.iter().find(|(n, _)| *n == occ.name)?;
            format!("`{}`: {} (test field)", occ.name, ty.describe())
        }
        OccKind::StepRef | OccKind::StepDef => {
            let item = here.items.get(occ.item?)?;
            match item.step(&occ.name) {
                Some(step) => {
                    let header = &view.text()[step.header.start..step.header.end];
                    let header = header.split_whitespace().collect::<Vec<_>>().join(" ");
                    format!("{}\n\nStep of scenario `{}`", code(&header), item.name)
                }
                None => format!("No step `{}` in scenario `{}`", occ.name, item.name),
            }
        }
        OccKind::ScenarioRef | OccKind::ScenarioDef => scenario(view, &occ.name),
        OccKind::PolicyDef | OccKind::TestDef => return None,
        OccKind::Template => template(view, &occ.name),
        OccKind::Rule => rule(view, &occ.name),
        OccKind::Role => {
            let (_, doc) = schema::ROLES.iter().find(|(r, _)| *r == occ.name)?;
            format!("Role `{}`: {doc}", occ.name)
        }
        OccKind::Event => {
            let (_, _, doc) = schema::EVENTS.iter().find(|(w, _, _)| *w == occ.name)?;
            format!("{}\n\n{doc}", code(&format!("on {}", occ.name)))
        }
    })
}

/// A field path's type and meaning; a bare root's meaning.
pub fn field(path: &str) -> Option<String> {
    if let Some(f) = schema::field(path) {
        return Some(format!(
            "{}\n\n*{}*\n\n{}",
            code(f.path),
            f.ty.describe(),
            f.doc
        ));
    }
    let root = path.trim_end_matches('.');
    docs::root(root).map(|doc| format!("{}\n\n{doc}", code(root)))
}

fn scenario(view: &SetView, name: &str) -> String {
    for (i, file) in view.files.iter().enumerate() {
        let s = scan(if i == view.current {
            view.text()
        } else {
            file.text
        });
        if let Some(item) = s
            .items
            .iter()
            .find(|it| it.kind == ItemKind::Scenario && it.name == name)
        {
            let mut out = code(&format!("scenario {name}"));
            if let Some(title) = &item.title {
                out.push_str(&format!("\n\n{title}"));
            }
            let steps: Vec<&str> = item.steps.iter().map(|s| s.name.as_str()).collect();
            out.push_str(&format!(
                "\n\nSteps: {}",
                if steps.is_empty() {
                    "none".into()
                } else {
                    steps.join(", ")
                }
            ));
            if let Some(file_name) = file
                .uri
                .as_ref()
                .and_then(|u| u.as_str().rsplit('/').next().map(str::to_string))
            {
                out.push_str(&format!("\n\nIn `{file_name}`"));
            }
            return out;
        }
    }
    format!("No scenario `{name}` in this set")
}

fn template(view: &SetView, name: &str) -> String {
    let files = view
        .root
        .map(|root| resources::template_files(root, name))
        .unwrap_or_default();
    if files.is_empty() {
        return format!("Template `{name}`: no file `templates/{name}.LANG.txt` or `.html`");
    }
    let list: Vec<String> = files
        .iter()
        .map(|p| {
            format!(
                "`templates/{}`",
                p.file_name().unwrap_or_default().to_string_lossy()
            )
        })
        .collect();
    format!("Template `{name}`: {}", list.join(", "))
}

fn rule(view: &SetView, name: &str) -> String {
    let defs = resources::rule_defs(view.rules, name);
    if defs.is_empty() {
        return format!("No rule `{name}` in `rules/`");
    }
    let mut out = String::new();
    for def in defs {
        let file = def
            .file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let signature = def
            .signature()
            .map_or_else(|| format!("fn {name}(…)"), str::to_string);
        out.push_str(&format!("```rhai\n{signature}\n```\n\nRule in `rules/{file}`, called as `rule(\"{name}\", …)` with the arguments after `invoice` and `customer`.\n\n"));
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::TempSet;
    use super::super::workspace::Workspace;
    use super::*;

    const SRC: &str = "scenario s {\n  title \"Standard\"\n  step first at due - 5 days {\n    skip when invoice.amount < 1000 EUR\n    email \"hi\" to accounting\n  }\n  step second at first + 3 business days required { goto first }\n  on dispute opened { pause }\n}\n";

    fn hover_text(
        ws: &Workspace,
        uri: &tower_lsp_server::ls_types::Uri,
        needle: &str,
        shift: usize,
    ) -> String {
        let view = ws.view(uri).unwrap();
        let at = view.text().find(needle).unwrap() + shift;
        match hover(&view, at).map(|h| h.contents) {
            Some(HoverContents::Markup(m)) => m.value,
            other => panic!("no hover at {needle}: {other:?}"),
        }
    }

    #[test]
    fn hovers_keywords_fields_steps_roles_events_templates_and_rules() {
        let set = TempSet::new(
            "hover",
            &[
                ("templates/hi.fr.txt", "Salut"),
                (
                    "rules/big.rhai",
                    "fn big(invoice, customer, limit) { true }\n",
                ),
            ],
        );
        let mut ws = Workspace::new();
        let uri = set.uri("s.relance");
        ws.open(uri.clone(), SRC.to_string(), 1);
        assert!(hover_text(&ws, &uri, "skip", 1).contains("skip when CONDITION"));
        assert!(
            hover_text(&ws, &uri, "when invoice", 1).contains("skip when CONDITION"),
            "either word of the phrase"
        );
        let f = hover_text(&ws, &uri, "invoice.amount", 9);
        assert!(
            f.contains("invoice.amount")
                && f.contains("an amount of money")
                && f.contains("as issued"),
            "{f}"
        );
        let step = hover_text(&ws, &uri, "first }", 0);
        assert!(step.contains("step first at due - 5 days"), "{step}");
        let anchor = hover_text(&ws, &uri, "first + 3", 0);
        assert!(anchor.contains("step first at due - 5 days"), "{anchor}");
        assert!(
            hover_text(&ws, &uri, "second", 0)
                .contains("step second at first + 3 business days required")
        );
        assert!(hover_text(&ws, &uri, "accounting", 0).contains("accounts-payable"));
        assert!(hover_text(&ws, &uri, "dispute opened", 9).contains("A dispute was opened"));
        assert!(hover_text(&ws, &uri, "required", 0).contains("catch-up"));
        assert!(hover_text(&ws, &uri, "\"hi\"", 1).contains("templates/hi.fr.txt"));
        assert!(hover_text(&ws, &uri, "scenario s", 9).contains("Standard"));
        let view = ws.view(&uri).unwrap();
        assert!(hover(&view, view.text().find("EUR").unwrap()).is_none());
        assert!(rule(&view, "big").contains("fn big(invoice, customer, limit)"));
    }

    #[test]
    fn field_docs_come_from_the_schema() {
        assert!(field("customer.risk_score").unwrap().contains("a number"));
        assert!(field("customer.").unwrap().contains("customer"));
        assert!(field("today").unwrap().contains("a date"));
        assert!(field("customer.nope").is_none());
    }
}
