//! Completion: what may be typed at the cursor, from the tokens before it.
//!
//! [`context`] reads the tolerant [`scan`] of the text up to the cursor (so an unfinished
//! file is the normal case) and decides what is wanted: the keywords that start a line in
//! this block, step names after `at` and `goto`, field paths in conditions and after
//! `invoice.`, template names in the string after `email`/`sms`/`letter`, rule names in
//! `rule("…")`, roles after `to`/`cc`/`assign`/`call`, events after `on`, scenarios after
//! `use`, and the few words that must follow another (`skip` → `when`); after a complete
//! statement (the parser accepts the text from the line's start), the statements of the body
//! again; in tests, the test's invoice or customer ids after an event, and in `expect`
//! blocks the actions after a date and invoice ids after `for`. [`complete`] turns that into
//! items. Nothing here judges whether the result would be valid: the checker does.

use relance_dsl::schema;
use relance_dsl::syntax::ast::Span;
use relance_dsl::syntax::{grammar, parser};
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, MarkupContent,
    MarkupKind, TextEdit,
};

use super::docs;
use super::scan::{ItemKind, OccKind, Place, Scan, TokKind, scan};
use super::workspace::SetView;

/// What the cursor wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// The keywords starting a line in this block.
    Keywords {
        place: Place,
        after_block: bool,
    },
    /// Step names; with `due` and `issued` for an anchor, leaving out the step being defined.
    Steps {
        anchor: bool,
        except: Option<String>,
    },
    /// An operand: every field path, `rule`, `true`, `false`, `not`.
    Fields,
    /// The field paths under a root (`customer.`).
    FieldsOf(String),
    Templates,
    Rules,
    Roles,
    Events,
    /// The second word of the events starting with this word (`on dispute |`).
    EventRest(String),
    Scenarios,
    /// Words that must or may follow the previous one.
    Words(&'static [&'static str]),
    /// The fields of a test `customer` or `invoice` block.
    TestFields(Place),
    /// After a complete statement: the words that may continue it (`cc` after an email's
    /// roles), then the statements of the body.
    Next {
        place: Place,
        words: &'static [&'static str],
    },
    /// The ids of the test's invoices (`true`) or customers (`false`).
    Entities {
        invoices: bool,
    },
    /// The actions of an `expect` line.
    Actions,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub want: Want,
    /// What the completion replaces: the part of the word (or string) before the cursor.
    pub replace: Span,
    /// Whether a completed template or rule name should close its string.
    pub close_quote: bool,
}

/// The test events (`on DATE …`) and the duration units: a test keeps them equal to the
/// grammar's `event` and `unit` rules.
const TEST_EVENTS: &[&str] = &[
    "payment failed",
    "payment reversed",
    "payment",
    "dispute",
    "resolve",
    "promise",
    "credit note",
    "write off reversed",
    "write off",
    "risk",
    "outcome",
    "bounce",
    "tag",
    "moved",
];
const UNITS: &[&str] = &["days", "business days", "weeks", "months"];
const EXPR_OPENERS: &[&str] = &[
    "when", "if", "and", "or", "not", "in", "==", "!=", "<", "<=", ">", ">=", "*", "/", "(", "[",
    ",",
];

/// What is wanted at `offset` in `text`, or `None` (in a comment, a number, a free string…).
pub fn context(text: &str, offset: usize) -> Option<Context> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let s = scan(&text[..offset]);
    if s.comments.last().is_some_and(|c| c.end == offset) {
        return None;
    }
    let n = s.tokens.len();
    let partial = s.tokens.last().filter(|t| {
        t.span.end == offset
            && matches!(
                t.kind,
                TokKind::Word | TokKind::Number | TokKind::Str { closed: false }
            )
    });
    let prev = if partial.is_some() {
        n.checked_sub(2)
    } else {
        n.checked_sub(1)
    };
    let replace = partial.map_or(Span::new(offset, offset), |t| {
        Span::new(t.span.start, offset)
    });
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let close_quote = !text[offset..line_end].contains('"');
    let at = Cursor { text, s: &s, prev };
    let done = |want| {
        Some(Context {
            want,
            replace,
            close_quote,
        })
    };

    match partial.map(|t| t.kind) {
        Some(TokKind::Number) => return None,
        Some(TokKind::Str { .. }) => {
            let inside = Span::new(replace.start + 1, offset);
            let want = if ["email", "sms", "letter"].iter().any(|k| at.kw(0, k)) {
                Want::Templates
            } else if at.text(0) == Some("(") && at.kw(1, "rule") {
                Want::Rules
            } else {
                return None;
            };
            return Some(Context {
                want,
                replace: inside,
                close_quote,
            });
        }
        Some(_) => {
            let word = &text[replace.start..offset];
            if let Some(dot) = word.rfind('.') {
                return done(Want::FieldsOf(word[..dot].to_string()));
            }
        }
        None => {}
    }

    let place = s.end_place.unwrap_or(Place::Top);
    let body = matches!(place, Place::Step | Place::Handler);
    if at.kw(0, "goto") {
        return done(Want::Steps {
            anchor: false,
            except: None,
        });
    }
    if place == Place::Scenario && at.kw(0, "at") && at.class(1) == Some(OccKind::StepDef) {
        return done(Want::Steps {
            anchor: true,
            except: at.text(1).map(str::to_string),
        });
    }
    let role_list = at.text(0) == Some(",") && at.class(1) == Some(OccKind::Role);
    if ["to", "cc", "assign", "call"].iter().any(|k| at.kw(0, k))
        || role_list
        || (place == Place::Test && at.kw(1, "bounce"))
    {
        return done(Want::Roles);
    }
    if place == Place::Scenario && at.kw(0, "on") {
        return done(Want::Events);
    }
    if place == Place::Scenario && at.kw(1, "on") && at.class(0) == Some(OccKind::Event) {
        return done(Want::EventRest(at.text(0).unwrap_or_default().to_string()));
    }
    if matches!(place, Place::Policy | Place::Test) && at.kw(0, "use") {
        return done(Want::Scenarios);
    }
    if place == Place::Test
        && let Some(invoices) = entity_wanted(&at)
    {
        return done(Want::Entities { invoices });
    }
    if place == Place::Expect {
        if at.token(0).is_some_and(|t| t.kind == TokKind::Number)
            && first_on_line(text, at.token(0).map_or(0, |t| t.span.start))
        {
            return done(Want::Actions);
        }
        if at.kw(0, "for") || at.text(0) == Some(",") {
            return done(Want::Entities { invoices: true });
        }
    }
    let words = following_words(&at, place);
    if body
        && words.is_none_or(|w| w == ["cc"] || w == ["registered"] || w == ["assign"])
        && statement_complete(text, &s, replace.start, place)
    {
        return done(Want::Next {
            place,
            words: words.unwrap_or_default(),
        });
    }
    if let Some(words) = words {
        return done(Want::Words(words));
    }
    let opens_expr = EXPR_OPENERS
        .iter()
        .any(|k| at.text(0) == Some(k) && at.class(0).is_none_or(|c| c == OccKind::Keyword))
        || (body && at.kw(0, "until"))
        || (body && matches!(at.text(0), Some("+" | "-")));
    if opens_expr
        && matches!(
            place,
            Place::Scenario | Place::Step | Place::Handler | Place::Policy
        )
    {
        return done(Want::Fields);
    }
    let first_on_line = first_on_line(text, replace.start);
    let after_brace = matches!(
        at.token(0).map(|t| t.kind),
        None | Some(TokKind::Open | TokKind::Close)
    );
    if first_on_line || after_brace {
        return done(match place {
            Place::Customer | Place::Invoice => Want::TestFields(place),
            _ => Want::Keywords {
                place,
                after_block: at.token(0).is_some_and(|t| t.kind == TokKind::Close),
            },
        });
    }
    None
}

/// Is nothing but blanks before `offset` on its line?
fn first_on_line(text: &str, offset: usize) -> bool {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..offset].trim().is_empty()
}

/// Does the text before `end`, from its line's start (or the last brace on the line), hold
/// complete statements of the body at `place`? The parser decides, on that text alone in a
/// body of its own.
fn statement_complete(text: &str, s: &Scan, end: usize, place: Place) -> bool {
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    let brace = s
        .tokens
        .iter()
        .take_while(|t| t.span.end <= end)
        .filter(|t| matches!(t.kind, TokKind::Open | TokKind::Close))
        .last()
        .map_or(0, |t| t.span.end);
    let statements = &text[line_start.max(brace)..end];
    if statements.trim().is_empty() {
        return false;
    }
    let opener = if place == Place::Handler {
        "on payment"
    } else {
        "step a at due"
    };
    let probe = format!("scenario s {{\n{opener} {{\n{statements}\n}}\n}}\n");
    !parser::parse(&probe)
        .diagnostics
        .iter()
        .any(|d| d.code == relance_dsl::Code::SyntaxError)
}

/// In a test, after `on DATE EVENT`: whether the event names an invoice (`payment`, …) or a
/// customer (`risk`, `bounce`); `None` elsewhere.
fn entity_wanted(at: &Cursor) -> Option<bool> {
    let event = |back: usize| {
        at.token(back + 1)
            .is_some_and(|t| t.kind == TokKind::Number)
            && at.kw(back + 2, "on")
    };
    let one = at.text(0).filter(|_| event(0));
    let two = at
        .text(1)
        .zip(at.text(0))
        .filter(|_| event(1))
        .map(|(a, b)| format!("{a} {b}"));
    match (one, two.as_deref()) {
        (Some("risk" | "bounce"), _) => Some(false),
        (Some("payment" | "dispute" | "resolve" | "promise" | "outcome"), _)
        | (_, Some("credit note" | "write off")) => Some(true),
        _ => None,
    }
}

/// The ids of the `customer ID { … }` (or `invoice ID { … }`) blocks of the test holding
/// `offset`, in order.
fn entity_ids(text: &str, offset: usize, invoices: bool) -> Vec<String> {
    let s = scan(text);
    let Some(item) = s.item_at(offset).and_then(|i| s.items.get(i)) else {
        return Vec::new();
    };
    let kw = if invoices { "invoice" } else { "customer" };
    let mut out: Vec<String> = Vec::new();
    for i in 1..s.tokens.len().saturating_sub(1) {
        let t = s.tokens[i];
        let inside = item.span.start <= t.span.start && t.span.end <= item.span.end;
        if inside
            && s.places[i] == Place::Test
            && s.text(text, i - 1) == kw
            && s.tokens[i + 1].kind == TokKind::Open
        {
            let id = match t.kind {
                TokKind::Word => s.text(text, i).to_string(),
                TokKind::Str { .. } => super::scan::string_value(s.text(text, i)),
                _ => continue,
            };
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// The tokens before the cursor: `back` 0 is the last complete token before the word being
/// typed.
struct Cursor<'a> {
    text: &'a str,
    s: &'a Scan,
    prev: Option<usize>,
}

impl Cursor<'_> {
    fn index(&self, back: usize) -> Option<usize> {
        self.prev?.checked_sub(back)
    }

    fn token(&self, back: usize) -> Option<super::scan::Token> {
        self.index(back).map(|i| self.s.tokens[i])
    }

    fn text(&self, back: usize) -> Option<&str> {
        self.index(back).map(|i| self.s.text(self.text, i))
    }

    fn class(&self, back: usize) -> Option<OccKind> {
        self.index(back)
            .and_then(|i| self.s.classes[i])
            .map(|o| self.s.occurrences[o].kind)
    }

    /// Is the token `back` before the cursor the keyword `kw`?
    fn kw(&self, back: usize, kw: &str) -> bool {
        self.token(back).is_some_and(|t| t.kind == TokKind::Word)
            && self.text(back) == Some(kw)
            && self.class(back).is_none_or(|c| c == OccKind::Keyword)
    }
}

/// Words that follow the previous token: `skip` → `when`, `escalate` → `agency`, …
fn following_words(at: &Cursor, place: Place) -> Option<&'static [&'static str]> {
    let word = at
        .text(0)
        .filter(|_| at.token(0).is_some_and(|t| t.kind == TokKind::Word));
    let phrase_second = |first: &str| at.kw(1, first);
    let found: &'static [&'static str] = match word {
        Some("calendar") => schema::CALENDARS,
        Some("group") => &["by"],
        Some("by") if phrase_second("group") => &["customer", "invoice"],
        Some("skip" | "applies") => &["when"],
        Some("stop") if matches!(place, Place::Step | Place::Handler) => &["when"],
        Some("wait") => &["until"],
        Some("block" | "unblock") => &["deliveries"],
        Some("escalate") => &["agency", "litigation"],
        Some("charge") => &["indemnity", "late-interest"],
        Some("resume") => &["after"],
        Some("promise") if place == Place::Scenario => &["grace"],
        Some("catch") if place == Place::Scenario => &["up"],
        Some("up") if place == Place::Scenario => &["gradually every", "to latest"],
        Some("credit") => &["note"],
        Some("write") => &["off"],
        Some("expect") if place == Place::Test => &["snapshot", "error"],
        Some("days" | "day" | "weeks" | "week" | "months" | "month")
            if place == Place::Scenario =>
        {
            &["end", "on", "repeat", "times", "until", "required"]
        }
        Some("end") if place == Place::Scenario => &["of"],
        Some("of") if place == Place::Scenario && at.kw(1, "end") => &["month"],
        Some("repeat") if place == Place::Scenario => &["every"],
        _ => {
            let number = at.token(0).is_some_and(|t| t.kind == TokKind::Number);
            if number && place == Place::Test && at.kw(1, "on") {
                TEST_EVENTS
            } else if number && place == Place::Scenario && matches!(at.text(1), Some("+" | "-")) {
                UNITS
            } else {
                return after_action(at);
            }
        }
    };
    Some(found)
}

/// The optional words after an action's roles or text: `cc`, `registered`, `assign`.
fn after_action(at: &Cursor) -> Option<&'static [&'static str]> {
    let mut back = 0;
    let mut saw_cc = false;
    loop {
        let class = at.class(back);
        let t = at.text(back)?;
        let word = at.token(back).is_some_and(|t| t.kind == TokKind::Word);
        match (t, class) {
            (_, Some(OccKind::Role)) | (",", _) | ("to", _) => {}
            ("cc", _) => saw_cc = true,
            (_, Some(OccKind::Template)) => {}
            _ if at
                .token(back)
                .is_some_and(|t| matches!(t.kind, TokKind::Str { .. })) => {}
            ("email", _) if word && back > 0 && !saw_cc => return Some(&["cc"]),
            ("letter", _) if word && back > 0 => return Some(&["registered"]),
            ("call" | "task", _) if word && back > 0 => return Some(&["assign"]),
            _ => return None,
        }
        back += 1;
    }
}

/// The completion items at `offset` of the view's document.
pub fn complete(view: &SetView, offset: usize) -> Vec<CompletionItem> {
    let Some(ctx) = context(view.text(), offset) else {
        return Vec::new();
    };
    let range = view.document.range(ctx.replace);
    let item =
        |label: &str, kind: CompletionItemKind, detail: Option<String>, doc: Option<String>| {
            let mut insert = label.to_string();
            if ctx.close_quote && matches!(ctx.want, Want::Templates | Want::Rules) {
                insert.push('"');
            }
            CompletionItem {
                label: label.to_string(),
                kind: Some(kind),
                detail,
                documentation: doc.map(|value| {
                    Documentation::MarkupContent(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value,
                    })
                }),
                filter_text: Some(label.to_string()),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(range, insert))),
                ..CompletionItem::default()
            }
        };
    let keyword = |word: &str, place: Place| {
        let d = docs::keyword(word, place);
        item(
            word,
            CompletionItemKind::KEYWORD,
            d.map(|d| d.syntax.to_string()),
            d.map(|d| d.doc.to_string()),
        )
    };
    let field = |f: &schema::FieldDoc| {
        item(
            f.path,
            CompletionItemKind::FIELD,
            Some(f.ty.describe()),
            Some(f.doc.to_string()),
        )
    };
    let place = scan(&view.text()[..ctx.replace.start])
        .end_place
        .unwrap_or(Place::Top);
    match &ctx.want {
        Want::Keywords { place, after_block } => {
            let mut out: Vec<CompletionItem> = docs::starters(*place)
                .iter()
                .map(|w| keyword(w, *place))
                .collect();
            if *after_block && matches!(place, Place::Step | Place::Handler) {
                out.push(keyword("else", *place));
            }
            out
        }
        Want::Steps { anchor, except } => {
            let full = scan(view.text());
            let mut out: Vec<CompletionItem> = Vec::new();
            if *anchor {
                out.extend(
                    ["due", "issued"]
                        .iter()
                        .map(|w| keyword(w, Place::Scenario)),
                );
            }
            if let Some(it) = full.item_at(offset).and_then(|i| full.items.get(i)) {
                for step in it.steps.iter().filter(|s| Some(&s.name) != except.as_ref()) {
                    let header = view.text()[step.header.start..step.header.end]
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    out.push(item(
                        &step.name,
                        CompletionItemKind::REFERENCE,
                        Some(header),
                        None,
                    ));
                }
            }
            out
        }
        Want::Fields => {
            let mut out: Vec<CompletionItem> = schema::fields().iter().map(field).collect();
            out.extend(
                ["rule", "not", "true", "false"]
                    .iter()
                    .map(|w| keyword(w, place)),
            );
            out
        }
        Want::FieldsOf(root) => {
            let prefix = format!("{root}.");
            schema::fields()
                .iter()
                .filter(|f| f.path.starts_with(&prefix))
                .map(field)
                .collect()
        }
        Want::Templates => view
            .templates
            .into_iter()
            .flatten()
            .map(|t| item(t, CompletionItemKind::FILE, Some("template".into()), None))
            .collect(),
        Want::Rules => {
            let mut names: Vec<(&str, usize)> = view
                .rules
                .iter()
                .filter_map(|r| Some((r.name.as_str(), r.extra_args()?)))
                .collect();
            names.dedup_by_key(|(n, _)| *n);
            names
                .into_iter()
                .map(|(n, extra)| {
                    item(
                        n,
                        CompletionItemKind::FUNCTION,
                        Some(format!("rule, {extra} argument(s)")),
                        None,
                    )
                })
                .collect()
        }
        Want::Roles => schema::ROLES
            .iter()
            .map(|(r, doc)| {
                item(
                    r,
                    CompletionItemKind::VALUE,
                    Some("role".into()),
                    Some(doc.to_string()),
                )
            })
            .collect(),
        Want::Events => schema::EVENTS
            .iter()
            .map(|(w, _, doc)| {
                item(
                    w,
                    CompletionItemKind::EVENT,
                    Some(format!("on {w}")),
                    Some(doc.to_string()),
                )
            })
            .collect(),
        Want::EventRest(first) => schema::EVENTS
            .iter()
            .filter_map(|(w, _, doc)| {
                let rest = w.strip_prefix(first.as_str())?.strip_prefix(' ')?;
                Some(item(
                    rest,
                    CompletionItemKind::EVENT,
                    Some(format!("on {w}")),
                    Some(doc.to_string()),
                ))
            })
            .collect(),
        Want::Scenarios => {
            let mut names: Vec<(String, Option<String>)> = Vec::new();
            for (i, file) in view.files.iter().enumerate() {
                let s = scan(if i == view.current {
                    view.text()
                } else {
                    file.text
                });
                for it in s
                    .items
                    .into_iter()
                    .filter(|it| it.kind == ItemKind::Scenario && !it.name.is_empty())
                {
                    if !names.iter().any(|(n, _)| *n == it.name) {
                        names.push((it.name, it.title));
                    }
                }
            }
            names
                .iter()
                .map(|(n, title)| item(n, CompletionItemKind::MODULE, title.clone(), None))
                .collect()
        }
        Want::Words(words) => words.iter().map(|w| keyword(w, place)).collect(),
        Want::Next { place, words } => words
            .iter()
            .map(|w| keyword(w, *place))
            .chain(docs::starters(*place).iter().map(|w| keyword(w, *place)))
            .collect(),
        Want::Entities { invoices } => entity_ids(view.text(), offset, *invoices)
            .iter()
            .map(|id| {
                let what = if *invoices { "invoice" } else { "customer" };
                item(id, CompletionItemKind::CONSTANT, Some(what.into()), None)
            })
            .collect(),
        Want::Actions => grammar::starters("action")
            .iter()
            .map(|w| keyword(w, Place::Step))
            .collect(),
        Want::TestFields(place) => {
            let fields: &[(&str, schema::Type)] = if *place == Place::Customer {
                schema::test_customer_fields()
            } else {
                schema::TEST_INVOICE_FIELDS
            };
            fields
                .iter()
                .map(|(n, ty)| item(n, CompletionItemKind::FIELD, Some(ty.describe()), None))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::TempSet;
    use super::super::workspace::Workspace;
    use super::*;

    /// The context at the `|` of `marked`.
    fn want(marked: &str) -> Option<Want> {
        let at = marked.find('|').unwrap();
        let text = marked.replacen('|', "", 1);
        context(&text, at).map(|c| c.want)
    }

    #[test]
    fn word_lists_follow_the_grammar() {
        use relance_dsl::syntax::grammar;
        assert_eq!(
            TEST_EVENTS,
            grammar::starters("event"),
            "TEST_EVENTS (engine/lsp/src/completion.rs) must list the grammar's `event` rule \
             (dsl/src/syntax/relance.pest)"
        );
        let mut units = UNITS.to_vec();
        let mut want = grammar::starters("unit");
        units.sort_unstable();
        want.sort_unstable();
        assert_eq!(
            units, want,
            "UNITS (engine/lsp/src/completion.rs) must list the grammar's `unit` rule \
             (dsl/src/syntax/relance.pest)"
        );
    }

    #[test]
    fn keywords_depend_on_the_block() {
        let kw = |place| {
            Some(Want::Keywords {
                place,
                after_block: false,
            })
        };
        assert_eq!(want("|"), kw(Place::Top));
        assert_eq!(want("scen|"), kw(Place::Top));
        assert_eq!(want("scenario s {\n  |\n}"), kw(Place::Scenario));
        assert_eq!(
            want("scenario s {\n  step a at due {\n    sk|\n  }\n}"),
            kw(Place::Step)
        );
        assert_eq!(want("scenario s {\n  on paid {\n    |"), kw(Place::Handler));
        assert_eq!(want("policy p {\n  |"), kw(Place::Policy));
        assert_eq!(want("test \"t\" {\n  |"), kw(Place::Test));
        assert_eq!(
            want("scenario s {\n  step a at due {\n    if x { pause } |"),
            Some(Want::Keywords {
                place: Place::Step,
                after_block: true
            })
        );
        assert_eq!(
            want("test \"t\" {\n  customer A {\n    |"),
            Some(Want::TestFields(Place::Customer))
        );
        assert_eq!(want("# a comment |"), None);
        assert_eq!(want("scenario s {\n  step a at due + 3|"), None);
    }

    #[test]
    fn names_after_their_keyword() {
        let body =
            |line: &str| format!("scenario s {{\n  step a at due {{\n    {line}\n  }}\n}}\n");
        assert_eq!(
            want(&body("goto |")),
            Some(Want::Steps {
                anchor: false,
                except: None
            })
        );
        assert_eq!(
            want(&body("goto lit|")),
            Some(Want::Steps {
                anchor: false,
                except: None
            })
        );
        assert_eq!(
            want("scenario s {\n  step a at due {}\n  step b at |"),
            Some(Want::Steps {
                anchor: true,
                except: Some("b".into())
            })
        );
        assert_eq!(want(&body("email \"x\" to |")), Some(Want::Roles));
        assert_eq!(
            want(&body("email \"x\" to accounting, |")),
            Some(Want::Roles)
        );
        let next = |words| {
            Some(Want::Next {
                place: Place::Step,
                words,
            })
        };
        assert_eq!(want(&body("email \"x\" to accounting |")), next(&["cc"]));
        assert_eq!(
            want(&body("letter \"x\" to legal |")),
            next(&["registered"])
        );
        assert_eq!(want(&body("call accounting |")), next(&["assign"]));
        assert_eq!(
            want(&body("email \"rem|\" to accounting")),
            Some(Want::Templates)
        );
        assert_eq!(want(&body("sms \"|")), Some(Want::Templates));
        assert_eq!(want(&body("if rule(\"|")), Some(Want::Rules));
        assert_eq!(want(&body("skip when |")), Some(Want::Fields));
        assert_eq!(
            want(&body("skip when invoice.amount > 3 and |")),
            Some(Want::Fields)
        );
        assert_eq!(
            want(&body("skip when invoice.|")),
            Some(Want::FieldsOf("invoice".into()))
        );
        assert_eq!(
            want(&body("skip when customer.ri|")),
            Some(Want::FieldsOf("customer".into()))
        );
        assert_eq!(want(&body("skip |")), Some(Want::Words(&["when"])));
        assert_eq!(want(&body("task \"call them\" |")), next(&["assign"]));
        assert_eq!(want("scenario s {\n  on |"), Some(Want::Events));
        assert_eq!(
            want("scenario s {\n  on dispute |"),
            Some(Want::EventRest("dispute".into()))
        );
        assert_eq!(want("policy p {\n  use |"), Some(Want::Scenarios));
        assert_eq!(
            want("policy p {\n  use s when customer.|"),
            Some(Want::FieldsOf("customer".into()))
        );
        assert_eq!(want("test \"t\" {\n  use |"), Some(Want::Scenarios));
        assert_eq!(
            want("test \"t\" {\n  on 2026-01-01 |"),
            Some(Want::Words(TEST_EVENTS))
        );
        assert_eq!(
            want("scenario s {\n  step a at due + 3 |"),
            Some(Want::Words(UNITS))
        );
    }

    #[test]
    fn a_complete_statement_is_followed_by_the_statements_of_its_body() {
        let body =
            |line: &str| format!("scenario s {{\n  step a at due {{\n    {line}\n  }}\n}}\n");
        let next = |place, words| Some(Want::Next { place, words });
        assert_eq!(want(&body("pause |")), next(Place::Step, &[]));
        assert_eq!(want(&body("escalate agency |")), next(Place::Step, &[]));
        assert_eq!(want(&body("goto a |")), next(Place::Step, &[]));
        assert_eq!(
            want(&body("skip when invoice.amount > 3 EUR |")),
            next(Place::Step, &[])
        );
        assert_eq!(
            want(&body("email \"x\" to accounting cc sales pa|")),
            next(Place::Step, &[])
        );
        assert_eq!(
            want("scenario s {\n  on dispute opened {\n    pause |"),
            next(Place::Handler, &[])
        );
        assert_eq!(
            want("scenario s {\n  step a at due { pause |"),
            next(Place::Step, &[]),
            "after the brace on the step's line"
        );
        // Unfinished statements get no statement list.
        assert_eq!(
            want(&body("escalate |")),
            Some(Want::Words(&["agency", "litigation"]))
        );
        assert!(!matches!(
            want(&body("email \"x\" |")),
            Some(Want::Next { .. })
        ));
        assert_eq!(
            want(&body("skip when invoice.amount > |")),
            Some(Want::Fields)
        );
    }

    #[test]
    fn tests_complete_ids_after_events_and_actions_in_expect() {
        let test = |line: &str| {
            format!(
                "test \"t\" {{\n  customer ACME {{ segment \"b2b\" }}\n  invoice F-1 {{ customer ACME amount 1 EUR issued 2026-01-01 due 2026-01-31 }}\n  {line}"
            )
        };
        let invoices = Some(Want::Entities { invoices: true });
        assert_eq!(want(&test("on 2026-02-01 payment |")), invoices);
        assert_eq!(want(&test("on 2026-02-01 write off |")), invoices);
        assert_eq!(
            want(&test("on 2026-02-01 risk |")),
            Some(Want::Entities { invoices: false })
        );
        assert_eq!(
            want(&test("expect {\n    2026-02-05 |")),
            Some(Want::Actions)
        );
        assert_eq!(
            want(&test(
                "expect {\n    2026-02-05 charge indemnity 40 EUR for |"
            )),
            invoices
        );
        let text = test("on 2026-02-01 payment ");
        assert_eq!(entity_ids(&text, text.len(), true), ["F-1"]);
        assert_eq!(entity_ids(&text, text.len(), false), ["ACME"]);
        let actions = grammar::starters("action");
        assert!(actions.iter().any(|a| a == "email"), "{actions:?}");
        assert!(actions.iter().any(|a| a == "charge"), "{actions:?}");
    }

    #[test]
    fn items_carry_names_from_the_set_and_replace_the_typed_part() {
        let text = "scenario s {\n  title \"S\"\n  step first at due {\n    goto li\n  }\n  step litigation at first + 3 days {\n    email \"\n  }\n}\n";
        let set = TempSet::new("complete", &[("templates/reminder-1.fr.txt", "x")]);
        let mut ws = Workspace::new();
        let uri = set.uri("s.relance");
        ws.open(uri.clone(), text.to_string(), 1);
        let view = ws.view(&uri).unwrap();
        let at = text.find("goto li").unwrap() + "goto li".len();
        let items = complete(&view, at);
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["first", "litigation"]);
        let Some(CompletionTextEdit::Edit(edit)) = &items[1].text_edit else {
            panic!()
        };
        assert_eq!(edit.new_text, "litigation");
        assert_eq!(edit.range, view.document.range(Span::new(at - 2, at)));
        let at = text.find("email \"").unwrap() + "email \"".len();
        let items = complete(&view, at);
        assert_eq!(items.len(), 1);
        let Some(CompletionTextEdit::Edit(edit)) = &items[0].text_edit else {
            panic!()
        };
        assert_eq!(edit.new_text, "reminder-1\"", "closes the string");
        let paths = complete(&view, text.find("S\"").unwrap()).len();
        assert_eq!(paths, 0, "nothing inside a title");
    }
}
