//! The canonical formatter: prints a parsed `.relance` file back in the one canonical layout.
//!
//! The formatter refuses a file that does not parse ([`format_source`] returns the syntax
//! diagnostics in a [`FormatError`]): it never guesses around a syntax error. Formatting never
//! changes meaning (the output parses to the same tree, spans aside), never loses or reorders a
//! comment, and is idempotent (`fmt(fmt(x)) == fmt(x)`). `tests/fmt.rs` checks all three on
//! every `.relance` file of the repository.
//!
//! # Layout rules
//!
//! **Lines and indentation**
//! - Indentation is 2 spaces per level. The output uses `\n` line ends and ends with exactly one
//!   `\n` (an empty file stays empty).
//! - One member, statement, policy rule, test member, field (when not inline) or expect line per
//!   line. Words are separated by exactly one space; nothing is aligned in columns (`use a when
//!   …`, `on dispute opened {`, `group by customer`).
//! - `{` ends the line of its header (`step reminder at due + 3 days {`); `}` is alone on its
//!   line at the header's indentation, except `} else {`, `} else if COND {` and inline test
//!   fields (below).
//! - Every non-empty block is expanded, one statement per line, even when it was written on one
//!   line (`on promise broken { goto reminder-2 }` becomes three lines). A block with no
//!   statement and no comment prints as `{}` on the header line (`if a {} else {`).
//! - Test `customer` / `invoice` fields print inline, `customer ACME { segment "b2b" risk_score
//!   20 }`, when that line (indentation included, trailing comment excluded) fits in 100
//!   columns and no comment lies between the braces; otherwise one field per line. This is the
//!   only width-dependent rule: nothing else is ever wrapped.
//! - `expect { … }` always puts one expected action per line; `expect snapshot` and
//!   `expect error INVOICE "TEXT"` stay one line.
//!
//! **Blank lines**
//! - Inside any `{ … }` body (scenario members, statements, policy rules, test members, fields,
//!   expect lines), a line (code or own-line comment) preceded by at least one blank line in the
//!   source keeps exactly one blank line before it; otherwise none. Never a blank line right
//!   after `{` or right before `}`.
//! - Between two top-level items, exactly one blank line: where the source has its first blank
//!   line between them (comments above it stay with the item above), or, if it has none, right
//!   after the item above (all the comments in between go with the item below). Other blank
//!   lines among the comments between items, before the first item and after the last one
//!   follow the body rule (each run of blank lines becomes one).
//!
//! **Tokens**
//! - A single space around binary operators (`a + b`, `x not in [1, 2]`), after commas (`to
//!   accounting, sales`, `[1, 2]`, `rule("r", a)`, `for F-1, F-2`), none inside brackets or
//!   parentheses; `not x`, `-x` (no space after unary minus); a list's trailing comma is dropped.
//! - Parentheses: the user's own parentheses (`ExprKind::Paren`) are kept, none are added or
//!   removed. Printing the tree's tokens in order cannot change the parse, so no more are ever
//!   needed for a tree that came from the parser.
//! - Strings are re-quoted with `\"`, `\\` and `\n` escaped; quoted ids (`"2026/001"`) stay
//!   quoted, bare ids (`F-1`) stay bare. Money is `AMOUNT CUR` with the amount as written
//!   (`12.50 EUR`), percents `5%`, dates `YYYY-MM-DD`, durations `1 day`, `5 days`,
//!   `1 business day`, `3 business days`, `1 week`, `2 weeks` (singular exactly when the count
//!   is 1). Step offsets are `at due + 3 days`, `at due - 5 days`; event words are joined by one
//!   space.
//!
//! **Comments** (the parser keeps them in a side table; they are re-attached by position)
//! - Comment text is kept verbatim after the `#` (trailing blanks dropped).
//! - An own-line comment prints on its own line before the node that follows it, at that node's
//!   indentation; when it is the last thing in a body, before the `}`, at the body's
//!   indentation. Comments before the first item and after the last one are kept.
//! - A trailing comment (code before it on its line) stays at the end of the printed line of the
//!   code it follows, after two spaces: `group by customer  # one message per day`.
//! - A comment written *inside* a construct that prints as one line (between the tokens of a
//!   header, of a multi-line expression, between `}` and `else`) cannot stay where it was: it
//!   moves to the next line break, i.e. it becomes the trailing comment of that printed line;
//!   when there are several, the first is the trailing comment and the others follow on their
//!   own lines (at the indentation of the next line). Comments never move across other code.

use std::fmt::Write as _;

use crate::diagnostics::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::comments::Comment;
use crate::syntax::parse;

/// Indentation of one nesting level.
const INDENT: &str = "  ";
/// Line width under which test fields are printed inline.
const MAX_WIDTH: usize = 100;

/// The source has syntax errors: the formatter leaves it alone. Holds the parser's diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub diagnostics: Vec<Diagnostic>,
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.diagnostics.iter().filter(|d| d.is_error()).count();
        write!(
            f,
            "not formatted: the file has {n} syntax error{}",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for FormatError {}

/// Parses `source` and prints it in canonical layout, or refuses (with the syntax diagnostics)
/// when it does not parse.
pub fn format_source(source: &str) -> Result<String, FormatError> {
    let parsed = parse(source);
    if parsed.diagnostics.iter().any(Diagnostic::is_error) {
        return Err(FormatError {
            diagnostics: parsed.diagnostics,
        });
    }
    Ok(format_file(&parsed.file, &parsed.comments, source))
}

/// Prints a parsed file in canonical layout. `comments` and `source` must be the ones the tree
/// was parsed with (they place the comments and the preserved blank lines); a tree built by
/// hand can be printed with no comments and an empty source.
pub fn format_file(file: &File, comments: &[Comment], source: &str) -> String {
    let mut p = Printer::new(comments, source);
    for (i, item) in file.items.iter().enumerate() {
        p.force_blank = i > 0 && !p.blank_in_source_before(item.span().start);
        p.item(item);
    }
    p.flush_own_line(usize::MAX);
    p.out
}

/// Prints one expression on one line (the way the formatter prints it inside a statement).
pub fn format_expr(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr);
    out
}

// ----- the line printer ---------------------------------------------------------------------

/// Builds the output line by line. Every printed line knows the source offset where its code
/// ends, which is how comments are placed: before opening a line at offset `S`, the comments
/// starting before `S` are printed on their own lines; when closing a line ending at `E`, the
/// comments starting before `E` and the one right after `E` on the same source line are
/// attached to it.
struct Printer<'a> {
    source: &'a str,
    comments: &'a [Comment],
    /// Index of the first comment not printed yet (comments are printed in source order).
    next: usize,
    out: String,
    /// Current nesting level.
    indent: usize,
    /// The line being built, without its indentation.
    line: String,
    line_indent: usize,
    /// Source offset of the end of the last code or comment printed.
    last_end: usize,
    /// The next line is the first of a body: no blank line before it.
    body_start: bool,
    /// The next line must be preceded by a blank line (between top-level items).
    force_blank: bool,
}

impl<'a> Printer<'a> {
    fn new(comments: &'a [Comment], source: &'a str) -> Printer<'a> {
        Printer {
            source,
            comments,
            next: 0,
            out: String::with_capacity(source.len() + source.len() / 8),
            indent: 0,
            line: String::new(),
            line_indent: 0,
            last_end: 0,
            body_start: false,
            force_blank: false,
        }
    }

    /// Emits one blank line before a line starting at source offset `pos` if the rules ask for
    /// it (forced, or a blank line in the source and not the first line of a body).
    fn blank_before(&mut self, pos: usize) {
        let blank =
            self.force_blank || (!self.body_start && self.blank_line_in(self.last_end, pos));
        if blank && !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
        self.force_blank = false;
        self.body_start = false;
    }

    /// Does the source have a blank line between the last thing printed and `pos`, the
    /// comments in between set aside?
    fn blank_in_source_before(&self, pos: usize) -> bool {
        let mut from = self.last_end;
        for c in self.comments[self.next..]
            .iter()
            .take_while(|c| c.span.start < pos)
        {
            if self.blank_line_in(from, c.span.start) {
                return true;
            }
            from = c.span.end;
        }
        self.blank_line_in(from, pos)
    }

    /// Does the source text `from..to` (blanks only) hold a blank line?
    fn blank_line_in(&self, from: usize, to: usize) -> bool {
        let gap = self.source.get(from..to).unwrap_or_default();
        gap.bytes().filter(|b| *b == b'\n').count() >= 2
    }

    fn write_indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str(INDENT);
        }
    }

    fn write_comment_line(&mut self, c: &Comment, level: usize) {
        self.write_indent(level);
        self.out.push('#');
        self.out.push_str(&c.text);
        self.out.push('\n');
        self.last_end = self.last_end.max(c.span.end);
    }

    /// Prints, on their own lines at the current indentation, the comments starting before
    /// `before`.
    fn flush_own_line(&mut self, before: usize) {
        while let Some(c) = self
            .comments
            .get(self.next)
            .filter(|c| c.span.start < before)
        {
            self.next += 1;
            self.blank_before(c.span.start);
            self.write_comment_line(c, self.indent);
        }
    }

    /// Starts the line of a node whose source starts at `at`.
    fn open_line(&mut self, at: usize) {
        self.flush_own_line(at);
        self.blank_before(at);
        self.line_indent = self.indent;
    }

    fn push(&mut self, s: &str) {
        self.line.push_str(s);
    }

    /// Finishes the current line, whose code ends at source offset `end`.
    fn end_line(&mut self, end: usize) {
        let first = self.next;
        while let Some(c) = self.comments.get(self.next) {
            let inside = c.span.start < end;
            let trailing = !inside
                && self.source.get(end..c.span.start).is_some_and(|gap| {
                    gap.chars()
                        .all(|c| matches!(c, ' ' | '\t' | '\r' | '\u{FEFF}'))
                });
            if !(inside || trailing) {
                break;
            }
            self.next += 1;
            if trailing {
                break;
            }
        }
        let attached = &self.comments[first..self.next];
        self.write_indent(self.line_indent);
        let line = std::mem::take(&mut self.line);
        self.out.push_str(&line);
        if let Some(c) = attached.first() {
            self.out.push_str("  #");
            self.out.push_str(&c.text);
        }
        self.out.push('\n');
        let attached_end = attached.iter().map(|c| c.span.end).max().unwrap_or(0);
        self.last_end = self.last_end.max(end).max(attached_end);
        // More comments than one trailing slot: the others follow on their own lines, at the
        // indentation of the line that comes next (inside the body if this line opened one).
        let level = if line.ends_with('{') {
            self.line_indent + 1
        } else {
            self.line_indent
        };
        for c in attached.iter().skip(1) {
            self.write_comment_line(c, level);
        }
    }

    /// Is there a comment strictly between these two source offsets?
    fn has_comment_between(&self, open: usize, close: usize) -> bool {
        let i = self.comments.partition_point(|c| c.span.start <= open);
        self.comments.get(i).is_some_and(|c| c.span.start < close)
    }

    /// The offset of the first `{` at or after `from`, skipping comments.
    fn find_open(&self, from: usize) -> usize {
        let bytes = self.source.as_bytes();
        let mut i = from;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => return i,
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        from
    }

    /// Prints ` { … }` after the current header: `{}` when empty (and no comment inside), else
    /// one line per element. Leaves the line holding `}` open, so the caller can continue it
    /// (`} else {`) or end it.
    fn body<T>(&mut self, open: usize, close: usize, elems: &[T], elem: fn(&mut Self, &T)) {
        if elems.is_empty() && !self.has_comment_between(open, close) {
            self.push(" {}");
            return;
        }
        self.push(" {");
        self.end_line(open + 1);
        self.indent += 1;
        self.body_start = true;
        for e in elems {
            elem(self, e);
        }
        self.flush_own_line(close);
        self.indent -= 1;
        self.body_start = false;
        self.line_indent = self.indent;
        self.push("}");
    }

    fn block(&mut self, b: &Block) {
        self.body(
            b.span.start,
            b.span.end.saturating_sub(1),
            &b.stmts,
            Self::stmt,
        );
    }

    // ----- items --------------------------------------------------------------------------

    fn item(&mut self, item: &Item) {
        let span = item.span();
        self.open_line(span.start);
        let close = span.end.saturating_sub(1);
        match item {
            Item::Scenario(s) => {
                self.push("scenario ");
                self.push(&s.name.name);
                let open = self.find_open(s.name.span.end);
                self.body(open, close, &s.members, Self::member);
            }
            Item::Policy(p) => {
                self.push("policy ");
                self.push(&p.name.name);
                let open = self.find_open(p.name.span.end);
                self.body(open, close, &p.rules, Self::policy_rule);
            }
            Item::Test(t) => {
                self.push("test ");
                self.push(&quoted(&t.name.value));
                let open = self.find_open(t.name.span.end);
                self.body(open, close, &t.members, Self::test_member);
            }
        }
        self.end_line(span.end);
    }

    fn member(&mut self, m: &Member) {
        self.open_line(m.span.start);
        match &m.kind {
            MemberKind::Title(s) => {
                self.push("title ");
                self.push(&quoted(&s.value));
            }
            MemberKind::Applies(e) => {
                self.push("applies when ");
                self.push(&format_expr(e));
            }
            MemberKind::GroupBy(GroupKey::Customer) => self.push("group by customer"),
            MemberKind::GroupBy(GroupKey::Invoice) => self.push("group by invoice"),
            MemberKind::Calendar(name) => {
                self.push("calendar ");
                self.push(&name.name);
            }
            MemberKind::Tolerance(Tolerance::Amount(m)) => {
                self.push("tolerance ");
                self.push(&money(m));
            }
            MemberKind::Tolerance(Tolerance::Percent(p)) => self.push(&format!("tolerance {p}%")),
            MemberKind::Grace(d) => {
                self.push("promise grace ");
                self.push(&duration(d));
            }
            MemberKind::CatchUp(CatchUp::Latest) => self.push("catch up to latest"),
            MemberKind::CatchUp(CatchUp::Gradually(d)) => {
                self.push("catch up gradually every ");
                self.push(&duration(d));
            }
            MemberKind::Payments(PaymentOrder::PrincipalFirst) => {
                self.push("payments pay principal first")
            }
            MemberKind::Payments(PaymentOrder::ChargesFirst) => {
                self.push("payments pay charges first")
            }
            MemberKind::ChargesKeepOpen => self.push("charges keep the case open"),
            MemberKind::LateInterest(LateInterestRate::Percent(p)) => {
                self.push(&format!("late-interest {p}%"))
            }
            MemberKind::LateInterest(LateInterestRate::LegalTimes(n)) => {
                self.push(&format!("late-interest {n} times legal rate"))
            }
            MemberKind::PerCustomer => self.push("per customer"),
            MemberKind::Level(l) => {
                self.push(&format!(
                    "level {} when {}",
                    l.name.name,
                    format_expr(&l.when)
                ));
                self.block(&l.body);
            }
            MemberKind::Cadence(d) => {
                self.push("cadence ");
                self.push(&duration(d));
            }
            MemberKind::Step(s) => {
                let mut head = format!("step {} at ", s.name.name);
                match &s.anchor.kind {
                    AnchorKind::Due => head.push_str("due"),
                    AnchorKind::Issued => head.push_str("issued"),
                    AnchorKind::Step(name) => head.push_str(&name.name),
                }
                if let Some(o) = &s.offset {
                    head.push_str(if o.negative { " - " } else { " + " });
                    head.push_str(&duration(&o.duration));
                }
                match s.day_of_month.map(|d| d.kind) {
                    Some(DayOfMonthKind::EndOfMonth) => head.push_str(" end of month"),
                    Some(DayOfMonthKind::Day(n)) => head.push_str(&format!(" on day {n}")),
                    None => {}
                }
                if let Some(r) = &s.repeat {
                    head.push_str(" repeat every ");
                    head.push_str(&duration(&r.every));
                    if let Some(t) = r.times {
                        head.push_str(&format!(" times {}", t.count));
                    }
                    if let Some(e) = &r.until {
                        head.push_str(" until ");
                        head.push_str(&format_expr(e));
                    }
                }
                if s.required {
                    head.push_str(" required");
                }
                self.push(&head);
                self.block(&s.body);
            }
            MemberKind::Handler(h) => {
                self.push("on ");
                self.push(&join(h.event.iter().map(|w| w.name.as_str()), " "));
                self.block(&h.body);
            }
        }
        self.end_line(m.span.end);
    }

    fn stmt(&mut self, s: &Stmt) {
        self.open_line(s.span.start);
        if let StmtKind::If(i) = &s.kind {
            self.if_chain(i);
        } else if let Some(line) = simple_stmt(&s.kind) {
            self.push(&line);
        }
        self.end_line(s.span.end);
    }

    /// `if C { … } else if C { … } else { … }`, the `}` lines continued by `else`.
    fn if_chain(&mut self, i: &If) {
        self.push("if ");
        self.push(&format_expr(&i.cond));
        self.block(&i.then);
        match &i.otherwise {
            None => {}
            Some(Else::Block(b)) => {
                self.push(" else");
                self.block(b);
            }
            Some(Else::If(stmt)) => match &stmt.kind {
                StmtKind::If(inner) => {
                    self.push(" else ");
                    self.if_chain(inner);
                }
                // Not produced by the parser; printed as the equivalent `else { stmt }`.
                _ => {
                    self.push(" else");
                    let (start, end) = (stmt.span.start, stmt.span.end);
                    self.body(start, end, std::slice::from_ref(&**stmt), Self::stmt);
                }
            },
        }
    }

    fn policy_rule(&mut self, r: &PolicyRule) {
        self.open_line(r.span.start);
        self.push("use ");
        self.push(&r.scenario.name);
        match &r.when {
            Some(e) => {
                self.push(" when ");
                self.push(&format_expr(e));
            }
            None => self.push(" otherwise"),
        }
        self.end_line(r.span.end);
    }

    fn test_member(&mut self, m: &TestMember) {
        self.open_line(m.span.start);
        let close = m.span.end.saturating_sub(1);
        match &m.kind {
            TestMemberKind::Use(name) => {
                self.push("use ");
                self.push(&name.name);
            }
            TestMemberKind::From(d) => self.push(&format!("from {}", date(d.value))),
            TestMemberKind::Until(d) => self.push(&format!("until {}", date(d.value))),
            TestMemberKind::Customer { id, fields } => {
                self.entity_block("customer", id, fields, close)
            }
            TestMemberKind::Invoice { id, fields } => {
                self.entity_block("invoice", id, fields, close)
            }
            TestMemberKind::Event { date: d, event } => {
                self.push(&format!("on {} {}", date(d.value), test_event(event)));
            }
            TestMemberKind::Expect(Expect::Snapshot) => self.push("expect snapshot"),
            TestMemberKind::ExpectError { invoice, message } => self.push(&format!(
                "expect error {} {}",
                entity(invoice),
                quoted(&message.value)
            )),
            TestMemberKind::Expect(Expect::Lines(lines)) => {
                self.push("expect");
                let open = self.find_open(m.span.start + "expect".len());
                self.body(open, close, lines, Self::expect_line);
            }
        }
        self.end_line(m.span.end);
    }

    /// `customer ID { fields }`: inline when it fits and holds no comment, else expanded.
    fn entity_block(&mut self, keyword: &str, id: &Entity, fields: &[Field], close: usize) {
        self.push(keyword);
        self.push(" ");
        self.push(&entity(id));
        let open = self.find_open(id.span.end);
        if !fields.is_empty() && !self.has_comment_between(open, close) {
            let inline = join(fields.iter().map(field), " ");
            let width = INDENT.len() * self.line_indent
                + self.line.chars().count()
                + " { ".len()
                + inline.chars().count()
                + " }".len();
            if width <= MAX_WIDTH {
                self.push(" { ");
                self.push(&inline);
                self.push(" }");
                return;
            }
        }
        self.body(open, close, fields, Self::field_line);
    }

    fn field_line(&mut self, f: &Field) {
        self.open_line(f.span.start);
        self.push(&field(f));
        self.end_line(f.span.end);
    }

    fn expect_line(&mut self, l: &ExpectLine) {
        self.open_line(l.span.start);
        let ids = join(l.invoices.iter().map(entity), ", ");
        self.push(&format!(
            "{} {} for {ids}",
            date(l.date.value),
            action(&l.action)
        ));
        self.end_line(l.span.end);
    }
}

// ----- one-line pieces ----------------------------------------------------------------------

fn join<S: AsRef<str>>(parts: impl IntoIterator<Item = S>, sep: &str) -> String {
    let mut out = String::new();
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(p.as_ref());
    }
    out
}

/// A string literal: quoted, with `"`, `\` and line feeds escaped.
pub(crate) fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn money(m: &MoneyLit) -> String {
    format!("{} {}", m.amount, m.currency)
}

fn date(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn duration(d: &Duration) -> String {
    let one = d.count == 1;
    let unit = match d.unit {
        Unit::Days if one => "day",
        Unit::Days => "days",
        Unit::BusinessDays if one => "business day",
        Unit::BusinessDays => "business days",
        Unit::Weeks if one => "week",
        Unit::Weeks => "weeks",
        Unit::Months if one => "month",
        Unit::Months => "months",
    };
    format!("{} {unit}", d.count)
}

fn entity(e: &Entity) -> String {
    if e.quoted {
        quoted(&e.id)
    } else {
        e.id.clone()
    }
}

fn roles(rs: &[Ident]) -> String {
    join(rs.iter().map(|r| r.name.as_str()), ", ")
}

fn field(f: &Field) -> String {
    format!("{} {}", f.name.name, format_expr(&f.value))
}

/// Every statement but `if` (`None`), which spans lines.
fn simple_stmt(kind: &StmtKind) -> Option<String> {
    Some(match kind {
        StmtKind::SkipWhen(e) => format!("skip when {}", format_expr(e)),
        StmtKind::StopWhen(e) => format!("stop when {}", format_expr(e)),
        StmtKind::Goto(step) => format!("goto {}", step.name),
        StmtKind::Stop(None) => "stop".to_string(),
        StmtKind::Stop(Some(reason)) => format!("stop {}", quoted(&reason.value)),
        StmtKind::Pause => "pause".to_string(),
        StmtKind::Resume(None) => "resume".to_string(),
        StmtKind::Resume(Some(d)) => format!("resume after {}", duration(d)),
        StmtKind::WaitUntil(e) => format!("wait until {}", format_expr(e)),
        StmtKind::Action(a) => action(a),
        StmtKind::If(_) => return None,
    })
}

fn action(a: &Action) -> String {
    match &a.kind {
        ActionKind::Email { template, to, cc } => {
            let mut s = format!("email {} to {}", quoted(&template.value), roles(to));
            if !cc.is_empty() {
                s.push_str(" cc ");
                s.push_str(&roles(cc));
            }
            s
        }
        ActionKind::Sms { template, to } => {
            format!("sms {} to {}", quoted(&template.value), roles(to))
        }
        ActionKind::Letter {
            template,
            to,
            registered,
        } => {
            let reg = if *registered { " registered" } else { "" };
            format!("letter {} to {}{reg}", quoted(&template.value), roles(to))
        }
        ActionKind::Call { who, assign } => match assign {
            Some(r) => format!("call {} assign {}", who.name, r.name),
            None => format!("call {}", who.name),
        },
        ActionKind::Task { text, assign } => match assign {
            Some(r) => format!("task {} assign {}", quoted(&text.value), r.name),
            None => format!("task {}", quoted(&text.value)),
        },
        ActionKind::Webhook { name } => format!("webhook {}", quoted(&name.value)),
        ActionKind::Escalate(Escalation::Agency(None)) => "escalate agency".to_string(),
        ActionKind::Escalate(Escalation::Agency(Some(name))) => {
            format!("escalate agency {}", quoted(&name.value))
        }
        ActionKind::Escalate(Escalation::Litigation) => "escalate litigation".to_string(),
        ActionKind::Alert { text, to } if to.is_empty() => format!("alert {}", quoted(&text.value)),
        ActionKind::Alert { text, to } => format!("alert {} to {}", quoted(&text.value), roles(to)),
        ActionKind::BlockDeliveries => "block deliveries".to_string(),
        ActionKind::UnblockDeliveries => "unblock deliveries".to_string(),
        ActionKind::Charge(Charge::Indemnity(None)) => "charge indemnity".to_string(),
        ActionKind::Charge(Charge::Indemnity(Some(m))) => format!("charge indemnity {}", money(m)),
        ActionKind::Charge(Charge::LateInterest(None)) => "charge late-interest".to_string(),
        ActionKind::Charge(Charge::LateInterest(Some(m))) => {
            format!("charge late-interest {}", money(m))
        }
        ActionKind::Charge(Charge::Fixed { amount, label }) => {
            format!("charge {} {}", money(amount), quoted(&label.value))
        }
        ActionKind::Charge(Charge::Percent {
            rate,
            label,
            min,
            max,
            amount,
        }) => {
            let mut out = format!("charge {rate}% {}", quoted(&label.value));
            for (word, m) in [("min", min), ("max", max), ("", amount)] {
                if let Some(m) = m {
                    out.push(' ');
                    if !word.is_empty() {
                        out.push_str(word);
                        out.push(' ');
                    }
                    out.push_str(&money(m));
                }
            }
            out
        }
        ActionKind::Tag(t) => format!("tag {}", quoted(&t.value)),
    }
}

fn test_event(e: &TestEvent) -> String {
    match e {
        TestEvent::Payment { invoice, amount } => {
            format!("payment {} {}", entity(invoice), money(amount))
        }
        TestEvent::Dispute {
            invoice,
            code,
            amount,
        } => {
            let mut s = format!("dispute {} {}", entity(invoice), quoted(&code.value));
            if let Some(m) = amount {
                s.push_str(" amount ");
                s.push_str(&money(m));
            }
            s
        }
        TestEvent::Resolve { invoice } => format!("resolve {}", entity(invoice)),
        TestEvent::Promise {
            invoice,
            date: d,
            amount,
        } => {
            let mut s = format!("promise {} {}", entity(invoice), date(d.value));
            if let Some(m) = amount {
                s.push(' ');
                s.push_str(&money(m));
            }
            s
        }
        TestEvent::CreditNote { invoice, amount } => {
            format!("credit note {} {}", entity(invoice), money(amount))
        }
        TestEvent::WriteOff { invoice } => format!("write off {}", entity(invoice)),
        TestEvent::Risk { customer, score } => format!("risk {} {score}", entity(customer)),
        TestEvent::Outcome {
            invoice,
            text,
            promise,
        } => {
            let mut s = format!("outcome {} {}", entity(invoice), quoted(&text.value));
            if let Some(d) = promise {
                s.push_str(" promise ");
                s.push_str(&date(d.value));
            }
            s
        }
        TestEvent::Bounce { customer, role } => {
            format!("bounce {} {}", entity(customer), role.name)
        }
        TestEvent::Tag {
            customer,
            tag,
            added,
        } => format!(
            "tag {} {} {}",
            if *added { "added" } else { "removed" },
            entity(customer),
            quoted(&tag.value)
        ),
        TestEvent::WriteOffReversed { invoice, reason } => {
            let mut s = format!("write off reversed {}", entity(invoice));
            if let Some(r) = reason {
                s.push(' ');
                s.push_str(&quoted(&r.value));
            }
            s
        }
        TestEvent::PaymentReversed {
            invoice,
            amount,
            reason,
            paid_on,
        } => {
            let mut s = format!("payment reversed {} {}", entity(invoice), money(amount));
            if let Some(r) = reason {
                s.push(' ');
                s.push_str(&quoted(&r.value));
            }
            if let Some(d) = paid_on {
                s.push_str(" of ");
                s.push_str(&date(d.value));
            }
            s
        }
        TestEvent::PaymentFailed { invoice, reason } => {
            format!(
                "payment failed {} {}",
                entity(invoice),
                quoted(&reason.value)
            )
        }
        TestEvent::Moved {
            invoice,
            scenario,
            step,
            by,
            because,
        } => {
            let mut s = format!("moved {} to scenario {}", entity(invoice), scenario.name);
            if let Some(st) = step {
                s.push_str(" step ");
                s.push_str(&st.name);
            }
            s.push_str(&format!(
                " by {} because {}",
                quoted(&by.value),
                quoted(&because.value)
            ));
            s
        }
    }
}

// ----- expressions --------------------------------------------------------------------------

/// Prints the tree's tokens in order, one space around binary operators. Parentheses are the
/// tree's `Paren` nodes, no more: see the module rules.
fn write_expr(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Number(n) => {
            let _ = write!(out, "{n}");
        }
        ExprKind::Money(m) => out.push_str(&money(m)),
        ExprKind::Percent(p) => {
            let _ = write!(out, "{p}%");
        }
        ExprKind::Duration(d) => out.push_str(&duration(d)),
        ExprKind::Date(d) => out.push_str(&date(*d)),
        ExprKind::Str(s) => out.push_str(&quoted(s)),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, item);
            }
            out.push(']');
        }
        ExprKind::Rule { name, args } => {
            out.push_str("rule(");
            out.push_str(&quoted(&name.value));
            for arg in args {
                out.push_str(", ");
                write_expr(out, arg);
            }
            out.push(')');
        }
        ExprKind::Path(segments) => {
            out.push_str(&join(segments.iter().map(|s| s.name.as_str()), "."))
        }
        ExprKind::Paren(inner) => {
            out.push('(');
            write_expr(out, inner);
            out.push(')');
        }
        ExprKind::Unary { op, expr } => {
            out.push_str(match op {
                UnaryOp::Not => "not ",
                UnaryOp::Neg => "-",
            });
            write_expr(out, expr);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            write_expr(out, lhs);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write_expr(out, rhs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The condition of `applies when SRC`, parsed and printed back.
    fn expr(src: &str) -> String {
        let source = format!("scenario s {{\n  applies when {src}\n}}\n");
        let parsed = parse(&source);
        assert!(
            parsed.diagnostics.is_empty(),
            "{src}: {:#?}",
            parsed.diagnostics
        );
        let Some(Item::Scenario(s)) = parsed.file.items.first() else {
            panic!("no scenario")
        };
        let MemberKind::Applies(e) = &s.members[0].kind else {
            panic!("no applies")
        };
        let printed = format_expr(e);
        // Printing is a fixpoint and keeps the shape: the printed text prints the same.
        let again = parse(&format!("scenario s {{ applies when {printed} }}"));
        let Some(Item::Scenario(s2)) = again.file.items.first() else {
            panic!("{printed}")
        };
        let MemberKind::Applies(e2) = &s2.members[0].kind else {
            panic!("{printed}")
        };
        assert_eq!(format_expr(e2), printed);
        assert_eq!(shape(e2), shape(e), "{src} → {printed} changed the tree");
        printed
    }

    /// The tree as JSON, spans left out.
    fn shape(e: &Expr) -> serde_json::Value {
        fn strip(v: &mut serde_json::Value) {
            match v {
                serde_json::Value::Object(map) => {
                    map.remove("span");
                    map.values_mut().for_each(strip);
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
                _ => {}
            }
        }
        let mut v = serde_json::to_value(e).expect("serializes");
        strip(&mut v);
        v
    }

    #[test]
    fn precedence_is_printed_as_parsed_and_parentheses_are_the_users() {
        assert_eq!(expr("a or b and c"), "a or b and c");
        assert_eq!(expr("(a or b)and c"), "(a or b) and c");
        assert_eq!(expr("a*(b+c)"), "a * (b + c)");
        assert_eq!(expr("a - b - c"), "a - b - c");
        assert_eq!(expr("a - (b - c)"), "a - (b - c)");
        assert_eq!(expr("((a))"), "((a))");
        assert_eq!(expr("( a )"), "(a)");
        assert_eq!(expr("a+b*c>=d/e==true"), "a + b * c >= d / e == true");
        assert_eq!(expr("not a == b"), "not a == b");
        assert_eq!(expr("not(a) and b"), "not (a) and b");
    }

    #[test]
    fn membership_keeps_not_in_as_one_operator() {
        assert_eq!(expr("x   not   in[1,2,]"), "x not in [1, 2]");
        assert_eq!(expr("x in [\"FR\" , \"BE\"]"), "x in [\"FR\", \"BE\"]");
        assert_eq!(expr("not x in []"), "not x in []");
    }

    #[test]
    fn unary_operators() {
        assert_eq!(expr("- 5 EUR < a"), "-5 EUR < a");
        assert_eq!(expr("a - -b"), "a - -b");
        assert_eq!(expr("- - a"), "--a");
        assert_eq!(expr("-(a + b) * c"), "-(a + b) * c");
        assert_eq!(expr("not not a"), "not not a");
    }

    #[test]
    fn lists_and_rule_calls() {
        assert_eq!(expr("[]"), "[]");
        assert_eq!(expr("[ [1] ,[2,3,] ]"), "[[1], [2, 3]]");
        assert_eq!(expr("rule( \"r\" )"), "rule(\"r\")");
        assert_eq!(
            expr("rule(\"large\",a+1,[1], 10 EUR)"),
            "rule(\"large\", a + 1, [1], 10 EUR)"
        );
        assert_eq!(
            expr("rule(\"r\") or rule(\"s\", x)"),
            "rule(\"r\") or rule(\"s\", x)"
        );
    }

    #[test]
    fn literals() {
        assert_eq!(expr("a == 12.50 EUR"), "a == 12.50 EUR");
        assert_eq!(expr("a > 5.0%"), "a > 5.0%");
        assert_eq!(expr("a == 1.5"), "a == 1.5");
        assert_eq!(
            expr("a + 1 days + 1 business days + 1 weeks"),
            "a + 1 day + 1 business day + 1 week"
        );
        assert_eq!(
            expr("a + 2 day + 2 business day + 2 week"),
            "a + 2 days + 2 business days + 2 weeks"
        );
        assert_eq!(expr("a < 2026-01-31"), "a < 2026-01-31");
        assert_eq!(
            expr("a == \"q\\\"b\\\\s\\nn # x\""),
            "a == \"q\\\"b\\\\s\\nn # x\""
        );
        assert_eq!(expr("a.b.c != false"), "a.b.c != false");
    }

    #[test]
    fn strings_are_reescaped() {
        assert_eq!(quoted("plain"), "\"plain\"");
        assert_eq!(
            quoted("a \"b\" \\ c\nd\te"),
            "\"a \\\"b\\\" \\\\ c\\nd\te\""
        );
    }

    #[test]
    fn a_hand_built_tree_prints_without_source() {
        let span = Span::default();
        let dur = |count, unit| Duration { count, unit, span };
        let stmt = |kind| Stmt { kind, span };
        let step = Step {
            name: Ident {
                name: "s".into(),
                span,
            },
            anchor: Anchor {
                kind: AnchorKind::Due,
                span,
            },
            offset: Some(Offset {
                negative: true,
                duration: dur(1, Unit::BusinessDays),
                span,
            }),
            day_of_month: None,
            repeat: None,
            required: true,
            body: Block {
                stmts: vec![
                    stmt(StmtKind::Resume(Some(dur(1, Unit::Weeks)))),
                    stmt(StmtKind::Pause),
                ],
                span,
            },
            span,
        };
        let file = File {
            items: vec![Item::Scenario(Scenario {
                name: Ident {
                    name: "hand".into(),
                    span,
                },
                members: vec![Member {
                    kind: MemberKind::Step(step),
                    span,
                }],
                span,
            })],
        };
        assert_eq!(
            format_file(&file, &[], ""),
            "scenario hand {\n  step s at due - 1 business day required {\n    resume after 1 week\n    pause\n  }\n}\n"
        );
    }

    #[test]
    fn syntax_errors_are_refused() {
        let err = format_source("scenario {").expect_err("no name");
        assert!(err.diagnostics.iter().any(Diagnostic::is_error));
        assert_eq!(
            err.to_string(),
            "not formatted: the file has 1 syntax error"
        );
        assert_eq!(format_source("").as_deref(), Ok(""));
    }
}
