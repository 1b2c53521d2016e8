//! Small SVG helpers shared by the pictures: escaping text for XML, and making a picture
//! accessible (`role="img"`, `aria-label`, `<title>`, `xml:lang`) whoever drew it.
//!
//! It must not draw anything itself.

use crate::Lang;

/// Text escaped for an XML attribute or element.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Adds `role="img"`, `aria-label` (the summary), `xml:lang` and a `<title>` to the first
/// `<svg …>` element of `svg` (as written by plotters' SVG backend or by [`crate::diagram`]).
pub(crate) fn accessible(svg: &str, title: &str, summary: &str, lang: Lang) -> String {
    let Some(start) = svg.find("<svg") else {
        return svg.to_string();
    };
    let Some(end) = svg[start..].find('>').map(|e| start + e) else {
        return svg.to_string();
    };
    let mut out = String::with_capacity(svg.len() + title.len() + summary.len() + 96);
    out.push_str(&svg[..end]);
    out.push_str(&format!(
        " role=\"img\" aria-label=\"{}\" xml:lang=\"{}\">\n<title>{}</title>",
        esc(summary),
        lang.code(),
        esc(title)
    ));
    out.push_str(&svg[end + 1..]);
    out
}
