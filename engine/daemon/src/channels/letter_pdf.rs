//! The PDF form of a letter: an A4 page laid out for a French window envelope (DL/C5, window
//! of 100 mm × 45 mm, 20 mm from the right edge and 45 mm from the top), from the text
//! rendered at sealing. It owns the layout (sender block, recipient block in the window, place
//! and date line, registered mention, subject, body wrapped on the glyph widths, page numbers
//! when there is more than one page) and the PDF writing (pdf-writer, the bundled DejaVu Serif
//! fonts embedded as Type 0 fonts with a ToUnicode map so that the text can be copied and
//! extracted: é, è, ç, œ, «», € and the rest of Latin-1 and Latin Extended-A).
//!
//! Pure: the same letter gives the same bytes (the creation date is the message's day, on the
//! engine's clock; no random document ID). It must not read the clock, the store or files:
//! the letter channel writes what it returns.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::super::config::Company;
use super::super::model::LetterText;
use super::super::postal;

/// DejaVu Serif, subset to Latin-1, Latin Extended-A, the general punctuation and the euro
/// sign (licence and subsetting command in `engine/daemon/fonts/README.md`).
const REGULAR: &[u8] = include_bytes!("../../fonts/DejaVuSerif.ttf");
const BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSerif-Bold.ttf");

/// Millimetres to PDF points.
fn mm(v: f32) -> f32 {
    v * 72.0 / 25.4
}

/// A4, in millimetres.
pub const PAGE_WIDTH: f32 = 210.0;
pub const PAGE_HEIGHT: f32 = 297.0;
/// Left and right margins of the sender block, the subject and the body.
const MARGIN: f32 = 20.0;
/// The envelope window (NF / La Poste DL with window): left, top, width, height in mm from
/// the page's top-left corner. The recipient block is printed inside it.
pub const WINDOW: (f32, f32, f32, f32) = (90.0, 45.0, 100.0, 45.0);
/// Where the recipient block's text starts inside the window (mm from the window's left
/// edge, and the first baseline from its top).
const WINDOW_INSET: (f32, f32) = (8.0, 9.0);
/// The first baseline of a page after the first, and the lowest baseline of the body.
const TOP: f32 = 20.0;
const BOTTOM: f32 = 270.0;
/// Body size and leading (pt, mm).
const BODY_SIZE: f32 = 10.5;
const BODY_LEADING: f32 = 4.9;

/// Which of the two bundled fonts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Weight {
    Regular,
    Bold,
}

/// A bundled font: its parsed face and the glyphs used so far (glyph → the character it shows,
/// for the ToUnicode map and the widths array).
struct Font<'f> {
    face: ttf_parser::Face<'f>,
    used: BTreeMap<u16, char>,
}

impl<'f> Font<'f> {
    fn new(data: &'f [u8]) -> Result<Font<'f>, String> {
        let face = ttf_parser::Face::parse(data, 0)
            .map_err(|e| format!("bundled font unreadable: {e}"))?;
        Ok(Font {
            face,
            used: BTreeMap::new(),
        })
    }

    /// The glyph of `c`, with what it shows: a missing character shows as `?` (a tab or
    /// another space as a space).
    fn glyph(&self, c: char) -> (u16, char) {
        if let Some(g) = self.face.glyph_index(c).filter(|_| !c.is_control()) {
            return (g.0, c);
        }
        let fallback = if c.is_whitespace() { ' ' } else { '?' };
        (self.face.glyph_index(fallback).map_or(0, |g| g.0), fallback)
    }

    /// The width of `text` at `size` points, in millimetres.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| {
                let (g, _) = self.glyph(c);
                f32::from(
                    self.face
                        .glyph_hor_advance(ttf_parser::GlyphId(g))
                        .unwrap_or(0),
                )
            })
            .sum();
        units / f32::from(self.face.units_per_em()) * size * 25.4 / 72.0
    }

    /// The Identity-H bytes of `text` (two per glyph), recording the glyphs used.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let (g, shown) = self.glyph(c);
            self.used.entry(g).or_insert(shown);
            bytes.extend_from_slice(&g.to_be_bytes());
        }
        bytes
    }

    /// The advance of glyph `g` in thousandths of the font size (PDF widths).
    fn advance(&self, g: u16) -> f32 {
        let units = self
            .face
            .glyph_hor_advance(ttf_parser::GlyphId(g))
            .unwrap_or(0);
        f32::from(units) * 1000.0 / f32::from(self.face.units_per_em())
    }

    /// A font-unit measure in thousandths of the font size.
    fn scale(&self, units: i16) -> f32 {
        f32::from(units) * 1000.0 / f32::from(self.face.units_per_em())
    }
}

/// One line of text placed on a page: its left edge and baseline in mm from the top-left
/// corner.
struct Line {
    weight: Weight,
    size: f32,
    x: f32,
    y: f32,
    text: String,
}

/// The lines of a letter, page by page.
struct Layout<'f> {
    regular: Font<'f>,
    bold: Font<'f>,
    pages: Vec<Vec<Line>>,
    /// The next baseline on the current page.
    y: f32,
}

impl<'f> Layout<'f> {
    fn font(&self, weight: Weight) -> &Font<'f> {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// Places one line at `(x, y)` on the current page.
    fn put(&mut self, weight: Weight, size: f32, x: f32, y: f32, text: &str) {
        if let Some(page) = self.pages.last_mut() {
            page.push(Line {
                weight,
                size,
                x,
                y,
                text: text.to_string(),
            });
        }
    }

    /// Flows `text` from the margin at the current baseline, wrapped to the text width, on as
    /// many pages as it takes; a line starting with `- ` keeps its continuation lines under
    /// its text (hanging indent).
    fn flow(&mut self, weight: Weight, size: f32, leading: f32, text: &str) {
        let width = PAGE_WIDTH - 2.0 * MARGIN;
        for source in text.lines() {
            let source = source.trim_end();
            if source.is_empty() {
                self.y += leading;
                continue;
            }
            let indent = if source.starts_with("- ") {
                self.font(weight).width("- ", size)
            } else {
                0.0
            };
            let mut first = true;
            for line in wrap(self.font(weight), source, size, width, indent) {
                if self.y > BOTTOM {
                    self.pages.push(Vec::new());
                    self.y = TOP;
                }
                let x = if first { MARGIN } else { MARGIN + indent };
                let y = self.y;
                self.put(weight, size, x, y, &line);
                self.y += leading;
                first = false;
            }
        }
    }
}

/// Greedy word wrapping of one source line on ASCII spaces (no-break spaces hold words
/// together); a word wider than the line is cut where it overflows.
fn wrap(font: &Font, text: &str, size: f32, width: f32, indent: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let room = |lines: &Vec<String>| {
        if lines.is_empty() {
            width
        } else {
            width - indent
        }
    };
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if font.width(&candidate, size) <= room(&lines) {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        for c in word.chars() {
            current.push(c);
            if font.width(&current, size) > room(&lines) && current.chars().count() > 1 {
                current.pop();
                lines.push(std::mem::take(&mut current));
                current.push(c);
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The place and date line: `Paris, le 1er avril 2026` (French, any language but English),
/// `Paris, 1 April 2026` (English); without a city, `Le 1er avril 2026` / `1 April 2026`.
pub fn place_and_date(city: Option<&str>, date: NaiveDate, language: &str) -> String {
    let month = date.month0() as usize;
    if language == "en" {
        let day = format!("{} {} {}", date.day(), MONTHS_EN[month], date.year());
        return match city {
            Some(c) => format!("{c}, {day}"),
            None => day,
        };
    }
    let day = if date.day() == 1 {
        "1er".to_string()
    } else {
        date.day().to_string()
    };
    let day = format!("{day} {} {}", MONTHS_FR[month], date.year());
    match city {
        Some(c) => format!("{c}, le {day}"),
        None => format!("Le {day}"),
    }
}

/// The letter as PDF bytes: `subject` from the template's `Subject:` line, `date` the
/// message's day.
pub fn letter_pdf(
    company: &Company,
    letter: &LetterText,
    subject: Option<&str>,
    date: NaiveDate,
) -> Result<Vec<u8>, String> {
    let layout = lay_out(company, letter, subject, date)?;
    Ok(write(layout, company, subject, date))
}

/// The lines of the letter, page by page.
fn lay_out<'f>(
    company: &Company,
    letter: &LetterText,
    subject: Option<&str>,
    date: NaiveDate,
) -> Result<Layout<'f>, String> {
    let mut layout = Layout {
        regular: Font::new(REGULAR)?,
        bold: Font::new(BOLD)?,
        pages: vec![Vec::new()],
        y: TOP,
    };
    let english = letter.language == "en";

    // The sender, top left.
    let mut y = 20.0;
    layout.put(Weight::Bold, 11.0, MARGIN, y, &company.name);
    let mut sender: Vec<String> = company
        .address
        .as_ref()
        .map(postal::block_lines)
        .unwrap_or_default();
    sender.extend(
        [&company.phone, &company.email]
            .into_iter()
            .filter(|s| !s.is_empty())
            .cloned(),
    );
    for line in &sender {
        y += 4.5;
        layout.put(Weight::Regular, 9.5, MARGIN, y, line);
    }

    // The recipient, in the window: smaller, down to 8 pt, when a line would overflow it, and
    // a line still too wide at 8 pt wraps.
    let (wx, wy, ww, _) = WINDOW;
    let x = wx + WINDOW_INSET.0;
    let mut y = wy + WINDOW_INSET.1;
    let room = ww - WINDOW_INSET.0 - 2.0;
    let widest = std::iter::once(&letter.name)
        .chain(&letter.address)
        .map(|l| layout.regular.width(l, 11.0))
        .fold(0.0_f32, f32::max);
    let size = if widest > room {
        (11.0 * room / widest).max(8.0)
    } else {
        11.0
    };
    let mut lines = Vec::new();
    for line in std::iter::once(&letter.name).chain(&letter.address) {
        lines.extend(wrap(&layout.regular, line, size, room, 0.0));
    }
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            y += 5.0 * size / 11.0;
        }
        layout.put(Weight::Regular, size, x, y, line);
    }

    // Place and date, under the window; the registered mention and the subject at the margin.
    let city = company.address.as_ref().and_then(|a| a.city.as_deref());
    layout.put(
        Weight::Regular,
        BODY_SIZE,
        x,
        WINDOW.1 + WINDOW.3 + 10.0,
        &place_and_date(city, date, &letter.language),
    );
    layout.y = WINDOW.1 + WINDOW.3 + 22.0;
    if letter.registered {
        let mention = if english {
            "Registered letter with acknowledgement of receipt"
        } else {
            "Lettre recommandée avec accusé de réception"
        };
        layout.flow(Weight::Bold, BODY_SIZE, BODY_LEADING, mention);
        layout.y += 2.0;
    }
    if let Some(subject) = subject.filter(|s| !s.trim().is_empty()) {
        let label = if english { "Subject: " } else { "Objet : " };
        layout.flow(
            Weight::Bold,
            BODY_SIZE,
            BODY_LEADING,
            &format!("{label}{subject}"),
        );
    }
    layout.y += BODY_LEADING;
    layout.flow(Weight::Regular, BODY_SIZE, BODY_LEADING, letter.text.trim());

    // Page numbers when there is more than one page.
    let count = layout.pages.len();
    if count > 1 {
        for (i, page) in layout.pages.iter_mut().enumerate() {
            let text = format!("{}/{count}", i + 1);
            let width = layout.regular.width(&text, 9.0);
            page.push(Line {
                weight: Weight::Regular,
                size: 9.0,
                x: (PAGE_WIDTH - width) / 2.0,
                y: PAGE_HEIGHT - 12.0,
                text,
            });
        }
    }
    Ok(layout)
}

/// Writes the laid-out pages as a PDF.
fn write(mut layout: Layout, company: &Company, subject: Option<&str>, date: NaiveDate) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let fonts = [Ref::new(4), Ref::new(9)];
    let mut next = 14;
    let mut page_ids = Vec::new();
    let mut contents = Vec::new();
    let mut streams = Vec::new();
    let pages = std::mem::take(&mut layout.pages);
    for lines in &pages {
        page_ids.push(Ref::new(next));
        contents.push(Ref::new(next + 1));
        next += 2;
        let mut content = Content::new();
        content.begin_text();
        for line in lines {
            let (name, font) = match line.weight {
                Weight::Regular => (Name(b"F1"), &mut layout.regular),
                Weight::Bold => (Name(b"F2"), &mut layout.bold),
            };
            content.set_font(name, line.size);
            content.set_text_matrix([1.0, 0.0, 0.0, 1.0, mm(line.x), mm(PAGE_HEIGHT - line.y)]);
            content.show(Str(&font.encode(&line.text)));
        }
        content.end_text();
        streams.push(deflate(&content.finish()));
    }

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    for (i, id) in page_ids.iter().enumerate() {
        let mut page = pdf.page(*id);
        page.media_box(Rect::new(0.0, 0.0, mm(PAGE_WIDTH), mm(PAGE_HEIGHT)))
            .parent(tree)
            .contents(contents[i]);
        let mut resources = page.resources();
        let mut f = resources.fonts();
        f.pair(Name(b"F1"), fonts[0]);
        f.pair(Name(b"F2"), fonts[1]);
        f.finish();
        resources.finish();
        page.finish();
        pdf.stream(contents[i], &streams[i])
            .filter(Filter::FlateDecode);
    }
    let mut doc = pdf.document_info(info);
    if let Some(s) = subject {
        doc.title(TextStr(s));
    }
    doc.author(TextStr(&company.name))
        .producer(TextStr("Relance"))
        .creation_date(pdf_date(date));
    doc.finish();
    write_font(
        &mut pdf,
        fonts[0],
        &layout.regular,
        b"DejaVuSerif",
        REGULAR,
        false,
    );
    write_font(
        &mut pdf,
        fonts[1],
        &layout.bold,
        b"DejaVuSerif-Bold",
        BOLD,
        true,
    );
    pdf.finish()
}

/// The message's day as a PDF date (a day, no time nor zone: the engine's day, not an
/// instant).
fn pdf_date(d: NaiveDate) -> pdf_writer::Date {
    pdf_writer::Date::new(u16::try_from(d.year()).unwrap_or(0))
        .month(d.month() as u8)
        .day(d.day() as u8)
}

/// zlib-compressed stream data (deterministic).
fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// A Type 0 font with its CID font, descriptor, embedded TrueType file and ToUnicode map, at
/// `id` and the four references after it.
fn write_font(pdf: &mut Pdf, id: Ref, font: &Font, name: &[u8], data: &[u8], bold: bool) {
    let cid = Ref::new(id.get() + 1);
    let descriptor = Ref::new(id.get() + 2);
    let file = Ref::new(id.get() + 3);
    let cmap_id = Ref::new(id.get() + 4);
    let info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(id)
        .base_font(Name(name))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap_id);
    let mut c = pdf.cid_font(cid);
    c.subtype(CidFontType::Type2)
        .base_font(Name(name))
        .system_info(info)
        .font_descriptor(descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    let mut widths = c.widths();
    for g in font.used.keys() {
        widths.consecutive(*g, [font.advance(*g)]);
    }
    widths.finish();
    c.finish();
    let face = &font.face;
    let bbox = face.global_bounding_box();
    let mut flags = FontFlags::SERIF | FontFlags::NON_SYMBOLIC;
    if bold {
        flags |= FontFlags::FORCE_BOLD;
    }
    pdf.font_descriptor(descriptor)
        .name(Name(name))
        .flags(flags)
        .bbox(Rect::new(
            font.scale(bbox.x_min),
            font.scale(bbox.y_min),
            font.scale(bbox.x_max),
            font.scale(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(font.scale(face.ascender()))
        .descent(font.scale(face.descender()))
        .cap_height(font.scale(face.capital_height().unwrap_or(face.ascender())))
        .stem_v(if bold { 140.0 } else { 80.0 })
        .font_file2(file);
    let compressed = deflate(data);
    pdf.stream(file, &compressed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), data.len() as i32);
    let mut cmap = UnicodeCmap::new(Name(b"Relance-UTF16"), info);
    for (g, c) in &font.used {
        cmap.pair(*g, *c);
    }
    pdf.cmap(cmap_id, &cmap.finish());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_line_reads_as_french() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("date");
        assert_eq!(
            place_and_date(Some("Paris"), d("2026-04-01"), "fr"),
            "Paris, le 1er avril 2026"
        );
        assert_eq!(
            place_and_date(None, d("2026-08-15"), "fr"),
            "Le 15 août 2026"
        );
        assert_eq!(
            place_and_date(Some("Lyon"), d("2026-12-02"), "en"),
            "Lyon, 2 December 2026"
        );
    }

    #[test]
    fn the_bundled_fonts_have_the_french_characters() {
        for data in [REGULAR, BOLD] {
            let font = Font::new(data).expect("font");
            for c in "éèêëàâçôûùîïœŒÉÈÀÇ«»€’–—…\u{a0}\u{202f}".chars()
            {
                assert_eq!(font.glyph(c).1, c, "{c:?} is in the font");
            }
            assert_eq!(font.glyph('Ж').1, '?', "a missing character shows as ?");
        }
    }

    #[test]
    fn a_long_recipient_line_is_set_smaller_or_wrapped_to_stay_in_the_window() {
        let letter = LetterText {
            name: "Société Anonyme des Établissements Dupont-Lefèvre et Compagnie".into(),
            address: vec!["1 rue A".into(), "75001 Paris".into()],
            text: "Madame, Monsieur,".into(),
            registered: false,
            language: "fr".into(),
        };
        let day = "2026-04-01".parse().expect("day");
        let layout = lay_out(&Company::default(), &letter, None, day).expect("layout");
        let room = WINDOW.2 - WINDOW_INSET.0 - 2.0;
        assert!(
            layout.regular.width(&letter.name, 11.0) > room,
            "the test name is long"
        );
        let in_window: Vec<&Line> = layout.pages[0]
            .iter()
            .filter(|l| l.x >= WINDOW.0 && l.y > WINDOW.1 && l.y < WINDOW.1 + WINDOW.3)
            .collect();
        let texts: Vec<&str> = in_window.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts.join(" "),
            format!("{} 1 rue A 75001 Paris", letter.name),
            "{texts:?}"
        );
        assert_eq!(texts.len(), 4, "the name on two lines: {texts:?}");
        for line in in_window {
            assert_eq!(line.size, 8.0);
            let right = line.x + layout.regular.width(&line.text, line.size);
            assert!(right <= WINDOW.0 + WINDOW.2, "{right}");
        }
    }

    #[test]
    fn the_same_letter_gives_the_same_bytes() {
        let letter = LetterText {
            name: "Acme SA".into(),
            address: vec!["1 rue A".into(), "75001 Paris".into()],
            text: "Madame, Monsieur,\n\nœuvre « à 40 € »".into(),
            registered: true,
            language: "fr".into(),
        };
        let day = "2026-04-01".parse().expect("day");
        let one = letter_pdf(&Company::default(), &letter, Some("Objet"), day).expect("pdf");
        let two = letter_pdf(&Company::default(), &letter, Some("Objet"), day).expect("pdf");
        assert_eq!(one, two);
    }

    #[test]
    fn words_wrap_on_spaces_and_long_words_are_cut() {
        let font = Font::new(REGULAR).expect("font");
        let lines = wrap(&font, "un deux trois quatre cinq six", 10.0, 25.0, 0.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.join(" "), "un deux trois quatre cinq six");
        assert!(lines.iter().all(|l| font.width(l, 10.0) <= 25.0));
        let cut = wrap(&font, &"x".repeat(80), 10.0, 25.0, 0.0);
        assert!(cut.len() > 1 && cut.concat() == "x".repeat(80), "{cut:?}");
    }
}
