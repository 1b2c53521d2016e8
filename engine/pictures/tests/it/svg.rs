//! Reading an SVG back as XML for the tests (quick-xml): it must be well-formed, and its
//! elements are counted and searched by name and attribute.

use quick_xml::Reader;
use quick_xml::events::Event;

/// One element: its name, its attributes and the text directly inside it.
#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Every element of `svg` in document order; panics when it is not well-formed XML.
pub fn elements(svg: &str) -> Vec<Element> {
    let mut reader = Reader::from_str(svg);
    let mut out: Vec<Element> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed SVG") {
            Event::Start(e) => {
                out.push(element(&e));
                open.push(out.len() - 1);
            }
            Event::Empty(e) => out.push(element(&e)),
            Event::End(_) => {
                open.pop().expect("balanced tags");
            }
            Event::Text(t) => {
                if let Some(&i) = open.last() {
                    out[i].text.push_str(&t.unescape().expect("text"));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "unclosed elements");
    out
}

fn element(e: &quick_xml::events::BytesStart<'_>) -> Element {
    Element {
        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.expect("attribute");
                (
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    a.unescape_value().expect("value").into_owned(),
                )
            })
            .collect(),
        text: String::new(),
    }
}

/// The root's accessibility: `role="img"`, an `aria-label`, a `<title>` first.
pub fn assert_accessible(svg: &str, title: &str) {
    let els = elements(svg);
    let root = &els[0];
    assert_eq!(root.name, "svg");
    assert_eq!(
        root.attr("role"),
        Some("img"),
        "{}",
        &svg[..200.min(svg.len())]
    );
    let label = root.attr("aria-label").expect("aria-label");
    assert!(label.len() > title.len(), "the label summarises: {label}");
    assert_eq!(els[1].name, "title");
    assert_eq!(els[1].text, title);
}

/// The root's `aria-label` (the picture's summary).
pub fn aria_label(svg: &str) -> String {
    elements(svg)[0]
        .attr("aria-label")
        .expect("aria-label")
        .to_string()
}

/// How many `name` elements are filled with `color` (plotters writes `fill="#RRGGBB"`, any
/// case).
pub fn filled(svg: &str, name: &str, color: &str) -> usize {
    elements(svg)
        .iter()
        .filter(|e| e.name == name)
        .filter(|e| {
            e.attr("fill")
                .is_some_and(|f| f.eq_ignore_ascii_case(color))
        })
        .count()
}

/// All text written in the picture, element by element, trimmed.
pub fn texts(svg: &str) -> Vec<String> {
    elements(svg)
        .into_iter()
        .filter(|e| e.name == "text" || e.name == "tspan")
        .map(|e| e.text.trim().to_string())
        .collect()
}
