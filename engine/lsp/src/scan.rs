//! A tolerant scan of one `.relance` text: tokens, the block each token sits in, and what the
//! names mean (step definitions and references, scenarios, templates, rules, roles, events,
//! field paths, keywords).
//!
//! The parser drops a whole scenario on one syntax error, which is the normal state of a file
//! being typed; hover, go to definition, references and completion must keep working then. So
//! they read this scan, which never fails and follows the grammar's shapes token by token:
//! braces give the nesting, the words before a `{` say what it opens, and a name's meaning
//! comes from the keyword before it. This module must not report problems (the checker does)
//! nor build LSP answers (the feature modules do).

use relance_dsl::schema;
use relance_dsl::syntax::ast::Span;
use relance_dsl::syntax::grammar;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// An identifier, keyword or dotted path (`reminder-2`, `invoice.amount`, `invoice.`).
    Word,
    /// A string literal; `closed` is false when the line ends first.
    Str {
        closed: bool,
    },
    /// A number or a date.
    Number,
    Open,
    Close,
    Punct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokKind,
    pub span: Span,
}

/// The block a token sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Top,
    Scenario,
    /// A step body (and the `if`/`else` blocks inside it).
    Step,
    /// An event handler body (and the `if`/`else` blocks inside it).
    Handler,
    Policy,
    Test,
    /// The fields of a test `customer ID { … }`.
    Customer,
    /// The fields of a test `invoice ID { … }`.
    Invoice,
    Expect,
    /// A block the scan could not classify.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Scenario,
    Policy,
    Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OccKind {
    StepDef,
    StepRef,
    ScenarioDef,
    ScenarioRef,
    PolicyDef,
    TestDef,
    /// The string after `email`, `sms` or `letter` (span includes the quotes).
    Template,
    /// The string in `rule("name", …)` (span includes the quotes).
    Rule,
    Role,
    /// Handler event words (`dispute opened`), one occurrence for all the words.
    Event,
    /// A field path (`customer.risk_score`, `today`).
    Field,
    /// A field name in a test `customer` or `invoice` block.
    TestField,
    /// A keyword or a keyword phrase (`skip when`, `block deliveries`).
    Keyword,
}

/// A name or keyword and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub kind: OccKind,
    /// The name, the string's value, or the keyword phrase (words joined by one space).
    pub name: String,
    pub span: Span,
    pub place: Place,
    /// The top-level item it belongs to (an index into [`Scan::items`]).
    pub item: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepInfo {
    pub name: String,
    pub name_span: Span,
    /// From `step` to the end of the header (before `{`).
    pub header: Span,
    /// From `step` to the closing brace (or the last token read, when unclosed).
    pub span: Span,
}

/// An event handler `on EVENT { … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerInfo {
    /// The event words, joined by one space (empty while not yet typed).
    pub event: String,
    /// The event words (the `on` keyword while there are none).
    pub event_span: Span,
    /// From `on` to the closing brace (or the last token read, when unclosed).
    pub span: Span,
}

/// A top-level `scenario`, `policy` or `test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInfo {
    pub kind: ItemKind,
    pub name: String,
    pub name_span: Span,
    pub span: Span,
    pub title: Option<String>,
    pub steps: Vec<StepInfo>,
    pub handlers: Vec<HandlerInfo>,
}

impl ItemInfo {
    pub fn step(&self, name: &str) -> Option<&StepInfo> {
        self.steps.iter().find(|s| s.name == name)
    }
}

/// The result of scanning a text.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub tokens: Vec<Token>,
    /// The block each token sits in (parallel to `tokens`).
    pub places: Vec<Place>,
    /// The occurrence each token belongs to, if any (parallel to `tokens`).
    pub classes: Vec<Option<usize>>,
    pub occurrences: Vec<Occurrence>,
    pub items: Vec<ItemInfo>,
    pub comments: Vec<Span>,
    /// The block the end of the text sits in.
    pub end_place: Option<Place>,
}

impl Scan {
    pub fn text<'t>(&self, source: &'t str, token: usize) -> &'t str {
        let s = self.tokens[token].span;
        &source[s.start..s.end]
    }

    /// The occurrence under a cursor at `offset` (a cursor right after a name counts).
    pub fn occurrence_at(&self, offset: usize) -> Option<&Occurrence> {
        let found = self
            .occurrences
            .iter()
            .filter(|o| o.span.start <= offset && offset <= o.span.end);
        // Prefer the one that starts at the cursor over the one that ends there.
        found.max_by_key(|o| o.span.start)
    }

    /// The item whose text holds `offset`, else the last one starting before it.
    pub fn item_at(&self, offset: usize) -> Option<usize> {
        self.items
            .iter()
            .rposition(|i| i.span.start <= offset && offset <= i.span.end)
            .or_else(|| self.items.iter().rposition(|i| i.span.start <= offset))
    }
}

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

/// Splits a text into tokens, skipping blanks and comments (returned apart).
pub fn lex(text: &str) -> (Vec<Token>, Vec<Span>) {
    let bytes = text.as_bytes();
    let (mut tokens, mut comments) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                comments.push(Span::new(start, i));
                continue;
            }
            b'"' => {
                i += 1;
                let mut closed = false;
                while i < bytes.len() && bytes[i] != b'\n' {
                    match bytes[i] {
                        b'"' => {
                            i += 1;
                            closed = true;
                            break;
                        }
                        b'\\' if bytes.get(i + 1).is_some_and(|&n| n != b'\n') => i += 2,
                        _ => i += 1,
                    }
                }
                TokKind::Str { closed }
            }
            b'{' => {
                i += 1;
                TokKind::Open
            }
            b'}' => {
                i += 1;
                TokKind::Close
            }
            _ if is_word_start(b) => {
                while i < bytes.len() && is_word_char(bytes[i]) {
                    i += 1;
                }
                TokKind::Word
            }
            _ if b.is_ascii_digit() => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b'-')
                {
                    i += 1;
                }
                TokKind::Number
            }
            _ => {
                let two = text.get(i..i + 2);
                i += if matches!(two, Some("==" | "!=" | "<=" | ">=")) {
                    2
                } else {
                    text[i..].chars().next().map_or(1, char::len_utf8)
                };
                TokKind::Punct
            }
        };
        // Escapes may step over a multi-byte character's first byte only: never past the end.
        i = i.min(bytes.len());
        while !text.is_char_boundary(i) {
            i += 1;
        }
        tokens.push(Token {
            kind,
            span: Span::new(start, i),
        });
    }
    (tokens, comments)
}

/// The value of a string token's text (quotes off, escapes read).
pub fn string_value(raw: &str) -> String {
    let inner = raw.strip_prefix('"').unwrap_or(raw);
    let inner = inner
        .strip_suffix('"')
        .filter(|_| raw.len() > 1)
        .unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            },
            (c, false) => out.push(c),
        }
    }
    out
}

/// Scans a text. Never fails.
pub fn scan(text: &str) -> Scan {
    let (tokens, comments) = lex(text);
    let mut s = Scanner {
        text,
        out: Scan {
            classes: vec![None; tokens.len()],
            tokens,
            comments,
            ..Scan::default()
        },
        stack: vec![Place::Top],
        pending: None,
        item: None,
        header: None,
        handler: None,
        owners: vec![None],
    };
    for i in 0..s.out.tokens.len() {
        s.token(i);
    }
    s.out.end_place = s.stack.last().copied();
    s.out
}

struct Scanner<'t> {
    text: &'t str,
    out: Scan,
    stack: Vec<Place>,
    /// What the next `{` opens.
    pending: Option<Place>,
    /// The current top-level item.
    item: Option<usize>,
    /// The step whose header is being read: (item, step index).
    header: Option<(usize, usize)>,
    /// The handler whose event is being read: (item, handler index).
    handler: Option<(usize, usize)>,
    /// The step or handler each open block belongs to (parallel to `stack`).
    owners: Vec<Option<Owner>>,
}

/// What a block's closing brace ends.
#[derive(Debug, Clone, Copy)]
enum Owner {
    Step(usize, usize),
    Handler(usize, usize),
}

impl Scanner<'_> {
    fn place(&self) -> Place {
        self.stack.last().copied().unwrap_or(Place::Top)
    }

    fn word(&self, i: usize) -> Option<&str> {
        let t = self.out.tokens.get(i)?;
        (t.kind == TokKind::Word).then(|| &self.text[t.span.start..t.span.end])
    }

    /// The text of the token `back` places before `i`.
    fn before(&self, i: usize, back: usize) -> Option<&str> {
        let j = i.checked_sub(back)?;
        let t = self.out.tokens.get(j)?;
        Some(&self.text[t.span.start..t.span.end])
    }

    /// Is token `i - back` the keyword `kw` (a word not already taken as a name)?
    fn kw_before(&self, i: usize, back: usize, kw: &str) -> bool {
        let Some(j) = i.checked_sub(back) else {
            return false;
        };
        self.word(j) == Some(kw)
            && self.out.classes[j].is_none_or(|o| self.out.occurrences[o].kind == OccKind::Keyword)
    }

    fn class_before(&self, i: usize, back: usize) -> Option<&Occurrence> {
        let j = i.checked_sub(back)?;
        self.out.classes[j].map(|o| &self.out.occurrences[o])
    }

    fn push(&mut self, i: usize, kind: OccKind, name: String, place: Place) {
        let span = self.out.tokens[i].span;
        self.out.occurrences.push(Occurrence {
            kind,
            name,
            span,
            place,
            item: self.item,
        });
        self.out.classes[i] = Some(self.out.occurrences.len() - 1);
    }

    /// Makes token `i` part of the occurrence of token `i - 1` (a two-word phrase or event).
    fn extend_previous(&mut self, i: usize, word: &str) {
        let Some(o) = self.out.classes[i - 1] else {
            return;
        };
        let occ = &mut self.out.occurrences[o];
        occ.name.push(' ');
        occ.name.push_str(word);
        occ.span.end = self.out.tokens[i].span.end;
        self.out.classes[i] = Some(o);
    }

    fn at_line_start(&self, i: usize) -> bool {
        let start = self.out.tokens[i].span.start;
        start == 0 || self.text.as_bytes()[start - 1] == b'\n'
    }

    fn token(&mut self, i: usize) {
        let t = self.out.tokens[i];
        // A top-level keyword at column 0 starts a new item even after an unclosed brace, so
        // one missing `}` does not swallow the rest of the file.
        if t.kind == TokKind::Word
            && self.stack.len() > 1
            && self.at_line_start(i)
            && let Some("scenario" | "policy" | "test") = self.word(i)
        {
            self.stack.truncate(1);
            self.owners.truncate(1);
            self.pending = None;
            self.header = None;
            self.handler = None;
            self.item = None;
        }
        let place = self.place();
        self.out.places.push(place);
        if let Some(item) = self.item {
            self.out.items[item].span.end = t.span.end;
        }
        for owner in self.owners.iter().flatten() {
            match *owner {
                Owner::Step(item, step) => self.out.items[item].steps[step].span.end = t.span.end,
                Owner::Handler(item, h) => self.out.items[item].handlers[h].span.end = t.span.end,
            }
        }
        match t.kind {
            TokKind::Open => {
                let mut owner = None;
                if let Some((item, step)) = self.header.take() {
                    let end = i
                        .checked_sub(1)
                        .map_or(t.span.start, |j| self.out.tokens[j].span.end);
                    self.out.items[item].steps[step].header.end = end;
                    self.out.items[item].steps[step].span.end = t.span.end;
                    owner = Some(Owner::Step(item, step));
                }
                if let Some((item, h)) = self.handler.take() {
                    owner = Some(Owner::Handler(item, h));
                }
                let opened = self.pending.take().unwrap_or(Place::Other);
                self.stack.push(opened);
                self.owners.push(owner);
            }
            TokKind::Close => {
                self.pending = None;
                self.header = None;
                self.handler = None;
                if self.stack.len() > 1 {
                    self.stack.pop();
                    self.owners.pop();
                    if self.stack.len() == 1 {
                        self.item = None;
                    }
                }
            }
            TokKind::Word => self.word_token(i, place),
            TokKind::Str { .. } => self.string_token(i, place),
            TokKind::Number | TokKind::Punct => {}
        }
    }

    fn word_token(&mut self, i: usize, place: Place) {
        let w = self.word(i).unwrap_or_default().to_string();
        let item = self.item;
        match place {
            Place::Top => {
                let kind = match w.as_str() {
                    "scenario" => Some((ItemKind::Scenario, Place::Scenario)),
                    "policy" => Some((ItemKind::Policy, Place::Policy)),
                    "test" => Some((ItemKind::Test, Place::Test)),
                    _ => None,
                };
                if let Some((kind, opens)) = kind {
                    let span = self.out.tokens[i].span;
                    self.out.items.push(ItemInfo {
                        kind,
                        name: String::new(),
                        name_span: Span::new(span.end, span.end),
                        span,
                        title: None,
                        steps: Vec::new(),
                        handlers: Vec::new(),
                    });
                    self.item = Some(self.out.items.len() - 1);
                    self.pending = Some(opens);
                    return self.push(i, OccKind::Keyword, w, place);
                }
                let def = if self.kw_before(i, 1, "scenario") {
                    Some(OccKind::ScenarioDef)
                } else if self.kw_before(i, 1, "policy") {
                    Some(OccKind::PolicyDef)
                } else {
                    None
                };
                if let (Some(kind), Some(item)) = (def, item) {
                    self.name_item(item, i, &w);
                    return self.push(i, kind, w, place);
                }
            }
            Place::Scenario => {
                if self.kw_before(i, 1, "step") {
                    if let Some(item) = item {
                        let span = self.out.tokens[i].span;
                        let header_start = self.out.tokens[i - 1].span.start;
                        let steps = &mut self.out.items[item].steps;
                        steps.push(StepInfo {
                            name: w.clone(),
                            name_span: span,
                            header: Span::new(header_start, span.end),
                            span: Span::new(header_start, span.end),
                        });
                        self.header = Some((item, steps.len() - 1));
                    }
                    return self.push(i, OccKind::StepDef, w, place);
                }
                if self.kw_before(i, 1, "at")
                    && self
                        .class_before(i, 2)
                        .is_some_and(|o| o.kind == OccKind::StepDef)
                {
                    let kind = if w == "due" || w == "issued" {
                        OccKind::Keyword
                    } else {
                        OccKind::StepRef
                    };
                    return self.push(i, kind, w, place);
                }
                if self.kw_before(i, 1, "on") {
                    self.push(i, OccKind::Event, w.clone(), place);
                    return self.name_handler(i, &w);
                }
                if self.kw_before(i, 2, "on")
                    && self
                        .class_before(i, 1)
                        .is_some_and(|o| o.kind == OccKind::Event)
                {
                    self.extend_previous(i, &w);
                    return self.name_handler(i, &w);
                }
                if self.kw_before(i, 2, "group") && self.kw_before(i, 1, "by") {
                    return self.extend_previous(i, &w);
                }
                match w.as_str() {
                    "step" => self.pending = Some(Place::Step),
                    "on" => {
                        self.pending = Some(Place::Handler);
                        if let Some(item) = item {
                            let span = self.out.tokens[i].span;
                            let handlers = &mut self.out.items[item].handlers;
                            handlers.push(HandlerInfo {
                                event: String::new(),
                                event_span: span,
                                span,
                            });
                            self.handler = Some((item, handlers.len() - 1));
                        }
                    }
                    _ => {}
                }
            }
            Place::Step | Place::Handler => {
                if w == "if" || w == "else" {
                    self.pending = Some(place);
                }
            }
            Place::Test => match w.as_str() {
                "customer" if !self.kw_before(i, 1, "on") => self.pending = Some(Place::Customer),
                "invoice" => self.pending = Some(Place::Invoice),
                "expect" => self.pending = Some(Place::Expect),
                _ => {}
            },
            Place::Customer | Place::Invoice => {
                let fields: Vec<&str> = if place == Place::Customer {
                    schema::test_customer_fields()
                        .iter()
                        .map(|(n, _)| *n)
                        .collect()
                } else {
                    schema::TEST_INVOICE_FIELDS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect()
                };
                let after_field = self
                    .class_before(i, 1)
                    .is_some_and(|o| o.kind == OccKind::TestField);
                if fields.contains(&w.as_str()) && !after_field {
                    return self.push(i, OccKind::TestField, w, place);
                }
                return;
            }
            Place::Policy | Place::Expect | Place::Other => {}
        }
        if self.kw_before(i, 1, "goto") {
            return self.push(i, OccKind::StepRef, w, place);
        }
        if matches!(place, Place::Policy | Place::Test) && self.kw_before(i, 1, "use") {
            return self.push(i, OccKind::ScenarioRef, w, place);
        }
        let after_role_kw = ["to", "cc", "assign", "call"]
            .iter()
            .any(|k| self.kw_before(i, 1, k));
        let in_role_list = self.before(i, 1) == Some(",")
            && self
                .class_before(i, 2)
                .is_some_and(|o| o.kind == OccKind::Role);
        let bounced = place == Place::Test && self.kw_before(i, 2, "bounce");
        if after_role_kw || in_role_list || bounced {
            return self.push(i, OccKind::Role, w, place);
        }
        let root = w.split('.').next().unwrap_or_default();
        if (w.contains('.') && schema::ROOTS.contains(&root))
            || (w == "today" && place != Place::Top)
        {
            return self.push(i, OccKind::Field, w, place);
        }
        if let Some(prev) = self
            .class_before(i, 1)
            .filter(|o| o.kind == OccKind::Keyword)
        {
            let pair = (prev.name.as_str(), w.as_str());
            // Keyword phrases of two words (`skip when`): hovering either word shows the
            // phrase. The grammar says which: one keyword written right after another.
            if grammar::phrases().contains(&pair)
                && prev.span.end == self.out.tokens[i - 1].span.end
            {
                return self.extend_previous(i, &w);
            }
        }
        if super::docs::is_keyword(&w) {
            self.push(i, OccKind::Keyword, w, place);
        }
    }

    fn string_token(&mut self, i: usize, place: Place) {
        let raw = self.before(i, 0).unwrap_or_default();
        let value = string_value(raw);
        if place == Place::Top && self.kw_before(i, 1, "test") {
            if let Some(item) = self.item {
                self.name_item(item, i, &value);
            }
            return self.push(i, OccKind::TestDef, value, place);
        }
        if ["email", "sms", "letter"]
            .iter()
            .any(|k| self.kw_before(i, 1, k))
        {
            return self.push(i, OccKind::Template, value, place);
        }
        if self.before(i, 1) == Some("(") && self.kw_before(i, 2, "rule") {
            return self.push(i, OccKind::Rule, value, place);
        }
        if place == Place::Scenario
            && self.kw_before(i, 1, "title")
            && let Some(item) = self.item
        {
            self.out.items[item].title.get_or_insert(value);
        }
    }

    /// Adds the event word at token `i` to the handler being read.
    fn name_handler(&mut self, i: usize, word: &str) {
        let Some((item, h)) = self.handler else {
            return;
        };
        let span = self.out.tokens[i].span;
        let handler = &mut self.out.items[item].handlers[h];
        if handler.event.is_empty() {
            handler.event = word.to_string();
            handler.event_span = span;
        } else {
            handler.event.push(' ');
            handler.event.push_str(word);
            handler.event_span.end = span.end;
        }
    }

    fn name_item(&mut self, item: usize, token: usize, name: &str) {
        let info = &mut self.out.items[item];
        if info.name.is_empty() {
            info.name = name.to_string();
            info.name_span = self.out.tokens[token].span;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"scenario standard {
  title "Standard"
  step reminder at due + 3 days {
    email "reminder-1" to accounting, sales cc legal
    skip when invoice.amount < 10 EUR
  }
  step notice at reminder + 7 business days required {
    if customer.risk_score >= 80 or rule("big", 2) { goto litigation }
  }
  step litigation at notice + 15 days { escalate agency }
  on dispute opened { pause }
}
policy default {
  use standard otherwise
}
test "t" {
  use standard
  invoice F-1 { customer ACME amount 10 EUR issued 2026-01-01 due 2026-01-31 }
  on 2026-02-01 bounce ACME accounting
}
"#;

    fn find(s: &Scan, kind: OccKind, name: &str) -> Vec<Span> {
        s.occurrences
            .iter()
            .filter(|o| o.kind == kind && o.name == name)
            .map(|o| o.span)
            .collect()
    }

    fn at(src: &str, needle: &str) -> Span {
        let start = src.find(needle).unwrap();
        Span::new(start, start + needle.len())
    }

    #[test]
    fn names_get_their_meaning_from_the_keyword_before_them() {
        let s = scan(SRC);
        assert_eq!(s.items.len(), 3);
        assert_eq!(s.items[0].name, "standard");
        assert_eq!(s.items[0].title.as_deref(), Some("Standard"));
        let steps: Vec<&str> = s.items[0].steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(steps, ["reminder", "notice", "litigation"]);
        assert_eq!(
            find(&s, OccKind::StepRef, "reminder"),
            [at(SRC, "reminder + 7")].map(|s| Span::new(s.start, s.start + 8))
        );
        assert_eq!(find(&s, OccKind::StepRef, "litigation").len(), 1);
        assert_eq!(find(&s, OccKind::StepDef, "litigation").len(), 1);
        assert_eq!(
            find(&s, OccKind::Template, "reminder-1"),
            [at(SRC, "\"reminder-1\"")]
        );
        assert_eq!(find(&s, OccKind::Rule, "big"), [at(SRC, "\"big\"")]);
        for role in ["accounting", "sales", "legal"] {
            assert!(!find(&s, OccKind::Role, role).is_empty(), "{role}");
        }
        assert_eq!(
            find(&s, OccKind::Role, "accounting").len(),
            2,
            "the bounce role too"
        );
        assert_eq!(find(&s, OccKind::Field, "invoice.amount").len(), 1);
        assert_eq!(
            find(&s, OccKind::Event, "dispute opened"),
            [at(SRC, "dispute opened")]
        );
        assert_eq!(find(&s, OccKind::ScenarioRef, "standard").len(), 2);
        assert_eq!(
            find(&s, OccKind::Keyword, "skip when"),
            [at(SRC, "skip when")]
        );
        assert_eq!(find(&s, OccKind::Keyword, "business days").len(), 1);
        assert_eq!(find(&s, OccKind::TestField, "due").len(), 1);
        assert_eq!(find(&s, OccKind::TestField, "customer").len(), 1);
        assert_eq!(
            &SRC[s.items[0].steps[1].header.start..s.items[0].steps[1].header.end],
            "step notice at reminder + 7 business days required"
        );
        let litigation = &s.items[0].steps[2];
        assert_eq!(
            &SRC[litigation.span.start..litigation.span.end],
            "step litigation at notice + 15 days { escalate agency }"
        );
        let h = &s.items[0].handlers;
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].event, "dispute opened");
        assert_eq!(h[0].event_span, at(SRC, "dispute opened"));
        assert_eq!(h[0].span, at(SRC, "on dispute opened { pause }"));
    }

    #[test]
    fn places_follow_the_braces() {
        let s = scan(SRC);
        let place_of = |needle: &str| {
            let start = SRC.find(needle).unwrap();
            let i = s.tokens.iter().position(|t| t.span.start == start).unwrap();
            s.places[i]
        };
        assert_eq!(place_of("title"), Place::Scenario);
        assert_eq!(place_of("email"), Place::Step);
        assert_eq!(place_of("goto"), Place::Step);
        assert_eq!(place_of("pause"), Place::Handler);
        assert_eq!(place_of("use standard otherwise"), Place::Policy);
        assert_eq!(place_of("customer ACME"), Place::Invoice);
        assert_eq!(place_of("bounce"), Place::Test);
        assert_eq!(s.end_place, Some(Place::Top));
    }

    #[test]
    fn broken_input_still_scans() {
        let src = "scenario a {\n  step one at due {\n    goto \n  step two at one + \"unclosed\nscenario b {\n step x at due {}\n}\n";
        let s = scan(src);
        assert_eq!(s.items.len(), 2, "the column-0 keyword starts a new item");
        assert_eq!(
            s.items[0].steps.len(),
            1,
            "`step two` sits inside `one`'s unclosed body"
        );
        assert_eq!(s.items[1].name, "b");
        assert_eq!(s.items[1].steps[0].name, "x");
        let (tokens, _) = lex("\"é\\");
        assert_eq!(tokens.len(), 1);
        assert_eq!(scan("").items.len(), 0);
        assert_eq!(string_value("\"a\\\"b"), "a\"b");
    }
}
