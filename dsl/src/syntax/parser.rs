//! From source text to [`ast::File`]: the pest grammar, the Pratt expression folding, the
//! pairs-to-tree builder, and the parsing of a large file's items on several threads.
//!
//! Invariant: parsing never fails and never panics. A file is parsed item by item (each
//! top-level `scenario`, `policy` or `test`), so one broken item yields one syntax diagnostic
//! and the others still reach the checker. This module must not judge meaning (unknown names,
//! types): only shape, plus literals that cannot be read (an impossible date, a number too big).

use std::str::FromStr;
use std::sync::LazyLock;

use chrono::NaiveDate;
use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use rust_decimal::Decimal;

use super::ast::*;
use super::comments::{Comment, collect_comments};
use super::expected::syntax_error;
use crate::diagnostics::{Code, Diagnostic};

#[derive(pest_derive::Parser)]
#[grammar = "syntax/relance.pest"]
pub(crate) struct RelanceParser;

/// The result of parsing one file: the tree of every item that parsed, the diagnostics of
/// those that did not, and the comments (a side table for the formatter).
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub file: File,
    pub diagnostics: Vec<Diagnostic>,
    pub comments: Vec<Comment>,
    /// The items that did not parse but whose kind and name could be read: the checker does
    /// not report references to them as unknown (the syntax error is the one to fix).
    pub broken: Vec<BrokenItem>,
}

/// A top-level item with a syntax error, known by its header (`scenario NAME`, `policy NAME`,
/// `test "NAME"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenItem {
    pub kind: ItemKind,
    pub name: String,
    /// The name's span.
    pub span: Span,
}

/// The kind of a top-level item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemKind {
    Scenario,
    Policy,
    Test,
}

/// The kind and name of an item whose text starts at `offset`, read from its header alone.
fn item_header(source: &str, offset: usize) -> Option<BrokenItem> {
    let text = &source[offset..];
    let lead = text.len() - text.trim_start().len();
    let text = &text[lead..];
    let (kind, rest) = [
        (ItemKind::Scenario, "scenario"),
        (ItemKind::Policy, "policy"),
        (ItemKind::Test, "test"),
    ]
    .into_iter()
    .find_map(|(k, kw)| Some((k, text.strip_prefix(kw)?)))?;
    let gap = rest.len() - rest.trim_start().len();
    if gap == 0 {
        return None;
    }
    let at = offset + lead + (text.len() - rest.len()) + gap;
    let rule = if kind == ItemKind::Test {
        Rule::string
    } else {
        Rule::name
    };
    let pair = RelanceParser::parse(rule, &source[at..]).ok()?.next()?;
    let span = pair.as_span();
    let name = match kind {
        ItemKind::Test => pair.into_inner().next()?.as_str().to_string(),
        _ => span.as_str().to_string(),
    };
    Some(BrokenItem {
        kind,
        name,
        span: Span::new(at + span.start(), at + span.end()),
    })
}

/// Parses a whole file. Never fails: see the module invariant.
///
/// Items are independent (see [`split_items`]), so a large file's items are parsed on several
/// threads ([`parse_chunks`]); the result is the same as parsing them one after the other.
pub fn parse(source: &str) -> Parsed {
    let comments = collect_comments(source);
    let comment_starts = comments
        .iter()
        .map(|c| (c.span.end, c.span.start))
        .collect();
    let chunks = split_items(source);
    let mut parsed = Parsed {
        comments,
        ..Parsed::default()
    };
    for chunk in parse_chunks(source, &comment_starts, &chunks, parse_threads()) {
        parsed.file.items.extend(chunk.items);
        parsed.diagnostics.extend(chunk.diagnostics);
        parsed.broken.extend(chunk.broken);
    }
    parsed
}

/// What one chunk of [`split_items`] gave: its items, or its syntax error and header.
#[derive(Default)]
struct ChunkParsed {
    items: Vec<Item>,
    diagnostics: Vec<Diagnostic>,
    broken: Option<BrokenItem>,
}

/// Parses one chunk of `source` (one top-level item, give or take blanks and comments).
fn parse_chunk(
    source: &str,
    comment_starts: &std::collections::HashMap<usize, usize>,
    chunk: std::ops::Range<usize>,
) -> ChunkParsed {
    let mut out = ChunkParsed::default();
    match RelanceParser::parse(Rule::file, &source[chunk.clone()]) {
        Ok(mut pairs) => {
            let mut b = Builder {
                offset: chunk.start,
                source,
                comment_starts,
                diags: &mut out.diagnostics,
            };
            out.items = pairs.next().map(|p| b.file(p)).unwrap_or_default().items;
        }
        Err(e) => {
            out.diagnostics.push(syntax_error(&e, source, chunk.start));
            out.broken = item_header(source, chunk.start);
        }
    }
    out
}

/// Below this many bytes a file is parsed on the calling thread alone (a thread costs more
/// than it saves).
const PARALLEL_MIN_BYTES: usize = 16 * 1024;

/// A chunk nested deeper than this (brackets and braces, counted roughly) is parsed on the
/// calling thread: pest refuses input that would exhaust the stack ("stack limit reached"),
/// and where that happens must not depend on which thread parsed it.
const WORKER_MAX_NESTING: usize = 64;

/// The stack of a parsing thread: as large as a main thread's usual one, so a chunk within
/// [`WORKER_MAX_NESTING`] is nowhere near pest's stack limit (memory is only touched as used).
const WORKER_STACK: usize = 8 * 1024 * 1024;

/// Parses every chunk, in order: on the calling thread for a small file or when `threads` is
/// 1, else in up to `threads` contiguous groups of about equal size, the first on the calling
/// thread and each other on a thread of its own. The chunks' results come back in the chunks'
/// order, so the items and diagnostics are those of a serial parse.
fn parse_chunks(
    source: &str,
    comment_starts: &std::collections::HashMap<usize, usize>,
    chunks: &[std::ops::Range<usize>],
    threads: usize,
) -> Vec<ChunkParsed> {
    let serial = |chunks: &[std::ops::Range<usize>]| -> Vec<ChunkParsed> {
        chunks
            .iter()
            .map(|c| parse_chunk(source, comment_starts, c.clone()))
            .collect()
    };
    let threads = threads.min(chunks.len());
    if source.len() < PARALLEL_MIN_BYTES || threads < 2 {
        return serial(chunks);
    }
    // Contiguous groups of about source.len() / threads bytes each.
    let share = source.len().div_ceil(threads);
    let mut groups: Vec<&[std::ops::Range<usize>]> = Vec::with_capacity(threads);
    let mut first = 0;
    for (i, c) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        if last || c.end >= chunks[first].start + share {
            groups.push(&chunks[first..=i]);
            first = i + 1;
        }
    }
    let worker = |group: &[std::ops::Range<usize>]| -> Vec<Option<ChunkParsed>> {
        group
            .iter()
            .map(|c| {
                (max_nesting(&source[c.clone()]) <= WORKER_MAX_NESTING)
                    .then(|| parse_chunk(source, comment_starts, c.clone()))
            })
            .collect()
    };
    let (head, rest) = groups.split_first().expect("at least one chunk");
    let mut done: Vec<Vec<Option<ChunkParsed>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .iter()
            .map(|group| {
                std::thread::Builder::new()
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, || worker(group))
            })
            .collect();
        let mut done = vec![serial(head).into_iter().map(Some).collect()];
        for (group, handle) in rest.iter().zip(handles) {
            // A thread that cannot be started or that panicked: its chunks are parsed here
            // (a panic there would be one here too, as in a serial parse).
            let parsed = handle.ok().and_then(|h| h.join().ok()).unwrap_or_default();
            if parsed.len() == group.len() {
                done.push(parsed);
            } else {
                done.push(group.iter().map(|_| None).collect());
            }
        }
        done
    });
    // Chunks left to this thread (too deep, or their thread failed), in order.
    let mut out = Vec::with_capacity(chunks.len());
    for (group, parsed) in groups.iter().zip(done.iter_mut()) {
        for (c, p) in group.iter().zip(parsed.drain(..)) {
            out.push(p.unwrap_or_else(|| parse_chunk(source, comment_starts, c.clone())));
        }
    }
    out
}

/// How many threads [`parse_chunks`] may use: the cores available, at most 4; asked once.
fn parse_threads() -> usize {
    static THREADS: LazyLock<usize> =
        LazyLock::new(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)));
    *THREADS
}

/// The deepest nesting of `(`, `[` and `{` in `text`, strings and comments included (an
/// over-estimate is harmless: the chunk is then parsed on the calling thread).
fn max_nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for &b in text.as_bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Cuts the source before every top-level keyword that starts a line at brace depth 0, so
/// each item parses on its own. Strings and comments are skipped while counting braces.
fn split_items(source: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = source.as_bytes();
    let mut cuts = vec![0];
    let (mut depth, mut i, mut line_start) = (0i64, 0usize, true);
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' => depth += 1,
            b'}' => depth = (depth - 1).max(0),
            b'\n' => {
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            _ if line_start && depth == 0 && starts_item(&source[i..]) && i > 0 => cuts.push(i),
            _ => {}
        }
        line_start = false;
        i += 1;
    }
    cuts.push(source.len());
    cuts.dedup();
    cuts.windows(2).map(|w| w[0]..w[1]).collect()
}

fn starts_item(rest: &str) -> bool {
    ["scenario", "policy", "test"].iter().any(|kw| {
        rest.starts_with(kw)
            && !rest[kw.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left)
            | Op::infix(Rule::op_not_in, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

/// Is this rule a keyword token (which carries no data beyond its presence)?
fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_scenario
            | Rule::kw_policy
            | Rule::kw_test
            | Rule::kw_title
            | Rule::kw_applies
            | Rule::kw_when
            | Rule::kw_group
            | Rule::kw_by
            | Rule::kw_calendar
            | Rule::kw_tolerance
            | Rule::kw_grace
            | Rule::kw_per
            | Rule::kw_level
            | Rule::kw_cadence
            | Rule::kw_step
            | Rule::kw_at
            | Rule::kw_required
            | Rule::kw_due
            | Rule::kw_issued
            | Rule::kw_business
            | Rule::kw_days
            | Rule::kw_weeks
            | Rule::kw_months
            | Rule::kw_end
            | Rule::kw_of
            | Rule::kw_repeat
            | Rule::kw_every
            | Rule::kw_times
            | Rule::kw_skip
            | Rule::kw_stop
            | Rule::kw_if
            | Rule::kw_else
            | Rule::kw_goto
            | Rule::kw_pause
            | Rule::kw_resume
            | Rule::kw_after
            | Rule::kw_wait
            | Rule::kw_until
            | Rule::kw_on
            | Rule::kw_email
            | Rule::kw_sms
            | Rule::kw_letter
            | Rule::kw_registered
            | Rule::kw_to
            | Rule::kw_cc
            | Rule::kw_call
            | Rule::kw_assign
            | Rule::kw_task
            | Rule::kw_webhook
            | Rule::kw_escalate
            | Rule::kw_agency
            | Rule::kw_litigation
            | Rule::kw_alert
            | Rule::kw_block
            | Rule::kw_unblock
            | Rule::kw_deliveries
            | Rule::kw_charge
            | Rule::kw_indemnity
            | Rule::kw_interest
            | Rule::kw_legal
            | Rule::kw_rate
            | Rule::kw_tag
            | Rule::kw_use
            | Rule::kw_otherwise
            | Rule::kw_from
            | Rule::kw_customer
            | Rule::kw_invoice
            | Rule::kw_expect
            | Rule::kw_snapshot
            | Rule::kw_error
            | Rule::kw_for
            | Rule::kw_rule
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_not
            | Rule::kw_in
            | Rule::kw_true
            | Rule::kw_false
            | Rule::kw_payment
            | Rule::kw_dispute
            | Rule::kw_resolve
            | Rule::kw_promise
            | Rule::kw_credit
            | Rule::kw_note
            | Rule::kw_write
            | Rule::kw_off
            | Rule::kw_risk
            | Rule::kw_outcome
            | Rule::kw_bounce
            | Rule::kw_added
            | Rule::kw_removed
            | Rule::kw_reversed
            | Rule::kw_failed
            | Rule::kw_moved
            | Rule::kw_because
            | Rule::kw_amount
            | Rule::kw_catch
            | Rule::kw_up
            | Rule::kw_gradually
            | Rule::kw_latest
            | Rule::kw_min
            | Rule::kw_max
            | Rule::kw_payments
            | Rule::kw_pay
            | Rule::kw_principal
            | Rule::kw_charges
            | Rule::kw_first
            | Rule::kw_keep
            | Rule::kw_the
            | Rule::kw_case
            | Rule::kw_open
    )
}

/// The children of a pair, keywords left out.
fn kids(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

struct Builder<'d> {
    offset: usize,
    source: &'d str,
    /// Comment start by comment end, to trim comments off the end of spans.
    comment_starts: &'d std::collections::HashMap<usize, usize>,
    diags: &'d mut Vec<Diagnostic>,
}

impl Builder<'_> {
    /// The pair's span without trailing blanks and comments: pest's implicit skip after an
    /// optional part that did not match must not stretch a node over what follows it.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let start = s.start() + self.offset;
        let mut end = s.end() + self.offset;
        let bytes = self.source.as_bytes();
        while end > start {
            if bytes[end - 1].is_ascii_whitespace() {
                end -= 1;
            } else if let Some(&c) = self.comment_starts.get(&end).filter(|&&c| c >= start) {
                end = c;
            } else {
                break;
            }
        }
        Span::new(start, end)
    }

    fn file(&mut self, pair: Pair<'_, Rule>) -> File {
        let mut items = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::scenario => items.push(Item::Scenario(self.scenario(p))),
                Rule::policy => items.push(Item::Policy(self.policy(p))),
                Rule::test => items.push(Item::Test(self.test(p))),
                _ => {}
            }
        }
        File { items }
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn string(&self, pair: Pair<'_, Rule>) -> Str {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map_or("", |p| p.as_str());
        Str {
            value: unescape(raw),
            span,
        }
    }

    fn date(&mut self, pair: Pair<'_, Rule>) -> DateLit {
        let span = self.span(&pair);
        let value = NaiveDate::parse_from_str(pair.as_str(), "%Y-%m-%d").unwrap_or_else(|_| {
            self.diags.push(
                Diagnostic::new(
                    Code::ImpossibleDate,
                    span,
                    format!("`{}` is not a date", pair.as_str()),
                )
                .with_label("no such day in the calendar")
                .with_help("dates are written YYYY-MM-DD, e.g. 2026-01-31"),
            );
            NaiveDate::MIN
        });
        DateLit { value, span }
    }

    fn decimal(&mut self, pair: Pair<'_, Rule>) -> Decimal {
        Decimal::from_str(pair.as_str()).unwrap_or_else(|_| {
            let span = self.span(&pair);
            self.diags.push(
                Diagnostic::new(
                    Code::NumberOutOfRange,
                    span,
                    format!("number `{}` is too large", pair.as_str()),
                )
                .with_label("out of range"),
            );
            Decimal::ZERO
        })
    }

    fn count(&mut self, pair: Pair<'_, Rule>) -> u32 {
        pair.as_str()
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= 100_000)
            .unwrap_or_else(|| {
                let span = self.span(&pair);
                self.diags.push(
                    Diagnostic::new(
                        Code::NumberOutOfRange,
                        span,
                        format!("count `{}` is too large", pair.as_str()),
                    )
                    .with_label("at most 100000"),
                );
                0
            })
    }

    fn money(&mut self, pair: Pair<'_, Rule>) -> MoneyLit {
        let span = self.span(&pair);
        let mut it = pair.into_inner();
        let amount = it.next().map(|p| self.decimal(p)).unwrap_or_default();
        let currency = it
            .next()
            .map_or_else(String::new, |p| p.as_str().to_string());
        MoneyLit {
            amount,
            currency,
            span,
        }
    }

    /// `5% "LABEL" [min MONEY] [max MONEY] [MONEY]` (the last money: an `expect` line's amount).
    fn charge_percent(&mut self, pair: Pair<'_, Rule>) -> Charge {
        let (mut rate, mut label) = (Decimal::ZERO, None);
        let (mut min, mut max, mut amount) = (None, None, None);
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::charge_rate => rate = self.percent(p),
                Rule::string => label = Some(self.string(p)),
                Rule::charge_min => min = kids(p).next().map(|m| self.money(m)),
                Rule::charge_max => max = kids(p).next().map(|m| self.money(m)),
                Rule::money => amount = Some(self.money(p)),
                _ => {}
            }
        }
        Charge::Percent {
            rate,
            label: label.expect("grammar"),
            min,
            max,
            amount,
        }
    }

    fn percent(&mut self, pair: Pair<'_, Rule>) -> Decimal {
        pair.into_inner()
            .next()
            .map(|p| self.decimal(p))
            .unwrap_or_default()
    }

    fn duration(&mut self, pair: Pair<'_, Rule>) -> Duration {
        let span = self.span(&pair);
        let mut it = pair.into_inner();
        let count = it.next().map(|p| self.count(p)).unwrap_or_default();
        let unit = it.next().map_or(Unit::Days, |u| {
            let words: Vec<Rule> = u.into_inner().map(|p| p.as_rule()).collect();
            match words.first() {
                Some(Rule::kw_business) => Unit::BusinessDays,
                Some(Rule::kw_weeks) => Unit::Weeks,
                Some(Rule::kw_months) => Unit::Months,
                _ => Unit::Days,
            }
        });
        Duration { count, unit, span }
    }

    fn entity(&self, pair: Pair<'_, Rule>) -> Entity {
        let span = self.span(&pair);
        match pair.into_inner().next() {
            Some(p) if p.as_rule() == Rule::string => Entity {
                id: self.string(p).value,
                quoted: true,
                span,
            },
            Some(p) => Entity {
                id: p.as_str().to_string(),
                quoted: false,
                span,
            },
            None => Entity {
                id: String::new(),
                quoted: false,
                span,
            },
        }
    }

    // ----- scenario -------------------------------------------------------------------------

    fn scenario(&mut self, pair: Pair<'_, Rule>) -> Scenario {
        let span = self.span(&pair);
        let mut it = kids(pair);
        let name = it
            .next()
            .map(|p| self.ident(p))
            .expect("grammar: scenario has a name");
        let members = it.map(|p| self.member(p)).collect();
        Scenario {
            name,
            members,
            span,
        }
    }

    fn member(&mut self, pair: Pair<'_, Rule>) -> Member {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let inner_all: Vec<Pair<'_, Rule>> = pair.clone().into_inner().collect();
        let mut it = kids(pair);
        let kind = match rule {
            Rule::title => MemberKind::Title(self.string(it.next().expect("grammar"))),
            Rule::applies => MemberKind::Applies(self.expr(it.next().expect("grammar"))),
            Rule::group_by => MemberKind::GroupBy(
                if inner_all.iter().any(|p| p.as_rule() == Rule::kw_invoice) {
                    GroupKey::Invoice
                } else {
                    GroupKey::Customer
                },
            ),
            Rule::calendar => MemberKind::Calendar(self.ident(it.next().expect("grammar"))),
            Rule::tolerance => {
                let p = it.next().expect("grammar");
                MemberKind::Tolerance(match p.as_rule() {
                    Rule::money => Tolerance::Amount(self.money(p)),
                    _ => Tolerance::Percent(self.percent(p)),
                })
            }
            Rule::grace => MemberKind::Grace(self.duration(it.next().expect("grammar"))),
            Rule::catch_up => MemberKind::CatchUp(
                match inner_all.iter().find(|p| p.as_rule() == Rule::duration) {
                    Some(d) => CatchUp::Gradually(self.duration(d.clone())),
                    None => CatchUp::Latest,
                },
            ),
            Rule::payments_order => MemberKind::Payments(
                if inner_all.iter().any(|p| p.as_rule() == Rule::kw_charges) {
                    PaymentOrder::ChargesFirst
                } else {
                    PaymentOrder::PrincipalFirst
                },
            ),
            Rule::charges_open => MemberKind::ChargesKeepOpen,
            Rule::late_interest => {
                let p = inner_all
                    .iter()
                    .find(|p| matches!(p.as_rule(), Rule::percent | Rule::legal_multiple))
                    .expect("grammar: late-interest rate")
                    .clone();
                MemberKind::LateInterest(match p.as_rule() {
                    Rule::percent => LateInterestRate::Percent(self.percent(p)),
                    _ => {
                        let n = p.into_inner().next().expect("grammar: multiple");
                        LateInterestRate::LegalTimes(self.decimal(n))
                    }
                })
            }
            Rule::per_customer => MemberKind::PerCustomer,
            Rule::level => {
                let name = self.ident(it.next().expect("grammar: level name"));
                let when = self.expr(it.next().expect("grammar: level condition"));
                let body = self.block(it.next().expect("grammar: level body"));
                MemberKind::Level(Level {
                    name,
                    when,
                    body,
                    span,
                })
            }
            Rule::cadence => MemberKind::Cadence(self.duration(it.next().expect("grammar"))),
            Rule::step => MemberKind::Step(self.step(span, it)),
            Rule::handler => MemberKind::Handler(self.handler(span, it)),
            other => unreachable!("grammar: unexpected scenario member {other:?}"),
        };
        Member { kind, span }
    }

    fn step<'i>(&mut self, span: Span, mut it: impl Iterator<Item = Pair<'i, Rule>>) -> Step {
        let name = self.ident(it.next().expect("grammar: step name"));
        let anchor_pair = it.next().expect("grammar: step anchor");
        let anchor_span = self.span(&anchor_pair);
        let a = anchor_pair.into_inner().next().expect("grammar: anchor");
        let anchor_kind = match a.as_rule() {
            Rule::kw_due => AnchorKind::Due,
            Rule::kw_issued => AnchorKind::Issued,
            _ => AnchorKind::Step(self.ident(a)),
        };
        let anchor = Anchor {
            kind: anchor_kind,
            span: anchor_span,
        };
        let (mut offset, mut required, mut body) = (None, false, None);
        let (mut day_of_month, mut repeat) = (None, None);
        for p in it {
            match p.as_rule() {
                Rule::offset => offset = Some(self.offset(p)),
                Rule::day_of_month => day_of_month = Some(self.day_of_month(p)),
                Rule::repeat => repeat = Some(Box::new(self.repeat(p))),
                Rule::required => required = true,
                Rule::block => body = Some(self.block(p)),
                _ => {}
            }
        }
        let body = body.expect("grammar: step body");
        Step {
            name,
            anchor,
            offset,
            day_of_month,
            repeat,
            required,
            body,
            span,
        }
    }

    fn day_of_month(&mut self, pair: Pair<'_, Rule>) -> DayOfMonth {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().expect("grammar: day of month");
        let kind = match inner.as_rule() {
            Rule::on_day => {
                let n = inner
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::integer)
                    .map(|p| self.count(p))
                    .unwrap_or_default();
                DayOfMonthKind::Day(n)
            }
            _ => DayOfMonthKind::EndOfMonth,
        };
        DayOfMonth { kind, span }
    }

    fn repeat(&mut self, pair: Pair<'_, Rule>) -> Repeat {
        let span = self.span(&pair);
        let (mut every, mut times, mut until) = (None, None, None);
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::duration => every = Some(self.duration(p)),
                Rule::repeat_times => {
                    if let Some(n) = p.into_inner().find(|q| q.as_rule() == Rule::integer) {
                        let span = self.span(&n);
                        times = Some(RepeatTimes {
                            count: self.count(n),
                            span,
                        });
                    }
                }
                Rule::repeat_until => {
                    if let Some(e) = p.into_inner().find(|q| q.as_rule() == Rule::expr) {
                        until = Some(self.expr(e));
                    }
                }
                _ => {}
            }
        }
        Repeat {
            every: every.expect("grammar: repeat duration"),
            times,
            until,
            span,
        }
    }

    fn offset(&mut self, pair: Pair<'_, Rule>) -> Offset {
        let span = self.span(&pair);
        let mut it = pair.into_inner();
        let negative = it.next().is_some_and(|s| s.as_str() == "-");
        let duration = self.duration(it.next().expect("grammar: offset duration"));
        Offset {
            negative,
            duration,
            span,
        }
    }

    fn handler<'i>(&mut self, span: Span, mut it: impl Iterator<Item = Pair<'i, Rule>>) -> Handler {
        let ev = it.next().expect("grammar: handler event");
        let event_span = self.span(&ev);
        let event = ev.into_inner().map(|p| self.ident(p)).collect();
        let body = self.block(it.next().expect("grammar: handler body"));
        Handler {
            event,
            event_span,
            body,
            span,
        }
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let span = self.span(&pair);
        let stmts = pair.into_inner().map(|p| self.stmt(p)).collect();
        Block { stmts, span }
    }

    fn stmt(&mut self, pair: Pair<'_, Rule>) -> Stmt {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let kind = match rule {
            Rule::skip_when => StmtKind::SkipWhen(self.expr(kids(pair).next().expect("grammar"))),
            Rule::stop_when => StmtKind::StopWhen(self.expr(kids(pair).next().expect("grammar"))),
            Rule::if_stmt => StmtKind::If(self.if_stmt(pair)),
            Rule::goto_stmt => StmtKind::Goto(self.ident(kids(pair).next().expect("grammar"))),
            Rule::stop_stmt => StmtKind::Stop(kids(pair).next().map(|p| self.string(p))),
            Rule::pause_stmt => StmtKind::Pause,
            Rule::resume_stmt => StmtKind::Resume(kids(pair).next().map(|p| self.duration(p))),
            Rule::wait_stmt => StmtKind::WaitUntil(self.expr(kids(pair).next().expect("grammar"))),
            _ => StmtKind::Action(self.action(pair)),
        };
        Stmt { kind, span }
    }

    fn if_stmt(&mut self, pair: Pair<'_, Rule>) -> If {
        let mut it = kids(pair);
        let cond = self.expr(it.next().expect("grammar: if condition"));
        let then = self.block(it.next().expect("grammar: if block"));
        let otherwise = it.next().map(|e| {
            let inner = kids(e).next().expect("grammar: else body");
            match inner.as_rule() {
                Rule::if_stmt => Else::If(Box::new(self.stmt(inner))),
                _ => Else::Block(self.block(inner)),
            }
        });
        If {
            cond,
            then,
            otherwise,
        }
    }

    // ----- actions --------------------------------------------------------------------------

    fn roles(&self, pair: Pair<'_, Rule>) -> Vec<Ident> {
        pair.into_inner().map(|p| self.ident(p)).collect()
    }

    fn template(&self, pair: Pair<'_, Rule>) -> Str {
        self.string(pair.into_inner().next().expect("grammar: template string"))
    }

    fn action(&mut self, pair: Pair<'_, Rule>) -> Action {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let all: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
        let has = |r: Rule| all.iter().any(|p| p.as_rule() == r);
        let mut it = all.iter().filter(|p| !is_keyword(p.as_rule())).cloned();
        let kind = match rule {
            Rule::email => {
                let template = self.template(it.next().expect("grammar"));
                let to = self.roles(it.next().expect("grammar"));
                let cc = it
                    .next()
                    .map(|c| self.roles(kids(c).next().expect("grammar")));
                ActionKind::Email {
                    template,
                    to,
                    cc: cc.unwrap_or_default(),
                }
            }
            Rule::sms => {
                let template = self.template(it.next().expect("grammar"));
                ActionKind::Sms {
                    template,
                    to: self.roles(it.next().expect("grammar")),
                }
            }
            Rule::letter => {
                let template = self.template(it.next().expect("grammar"));
                let to = self.roles(it.next().expect("grammar"));
                ActionKind::Letter {
                    template,
                    to,
                    registered: has(Rule::registered),
                }
            }
            Rule::call => {
                let who = self.ident(it.next().expect("grammar"));
                let assign = it
                    .next()
                    .map(|a| self.ident(kids(a).next().expect("grammar")));
                ActionKind::Call { who, assign }
            }
            Rule::task => {
                let text = self.string(it.next().expect("grammar"));
                let assign = it
                    .next()
                    .map(|a| self.ident(kids(a).next().expect("grammar")));
                ActionKind::Task { text, assign }
            }
            Rule::webhook => ActionKind::Webhook {
                name: self.string(it.next().expect("grammar")),
            },
            Rule::escalate => ActionKind::Escalate(if has(Rule::kw_litigation) {
                Escalation::Litigation
            } else {
                Escalation::Agency(it.next().map(|p| self.string(p)))
            }),
            Rule::alert => {
                let text = self.string(it.next().expect("grammar"));
                ActionKind::Alert {
                    text,
                    to: it.next().map(|p| self.roles(p)).unwrap_or_default(),
                }
            }
            Rule::block_deliveries => ActionKind::BlockDeliveries,
            Rule::unblock_deliveries => ActionKind::UnblockDeliveries,
            Rule::charge => ActionKind::Charge(if has(Rule::kw_indemnity) {
                Charge::Indemnity(it.next().map(|p| self.money(p)))
            } else if has(Rule::kw_interest) {
                Charge::LateInterest(it.next().map(|p| self.money(p)))
            } else if has(Rule::charge_percent) {
                self.charge_percent(it.next().expect("grammar"))
            } else {
                let amount = self.money(it.next().expect("grammar"));
                Charge::Fixed {
                    amount,
                    label: self.string(it.next().expect("grammar")),
                }
            }),
            Rule::tag => ActionKind::Tag(self.string(it.next().expect("grammar"))),
            other => unreachable!("grammar: unexpected statement {other:?}"),
        };
        Action { kind, span }
    }

    // ----- expressions ----------------------------------------------------------------------

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        self.fold(pair.into_inner())
    }

    fn fold(&mut self, pairs: Pairs<'_, Rule>) -> Expr {
        // The Pratt parser's closures cannot all borrow `self` mutably: collect diagnostics in
        // a local builder shared through a RefCell.
        let cell = std::cell::RefCell::new(&mut *self);
        PRATT
            .map_primary(|p| cell.borrow_mut().operand(p))
            .map_prefix(|op, rhs| {
                let b = cell.borrow();
                let span = Span::new(b.span(&op).start, rhs.span.end);
                let op = if op.as_rule() == Rule::op_not {
                    UnaryOp::Not
                } else {
                    UnaryOp::Neg
                };
                Expr {
                    kind: ExprKind::Unary {
                        op,
                        expr: Box::new(rhs),
                    },
                    span,
                }
            })
            .map_infix(|lhs, op, rhs| {
                let span = Span::new(lhs.span.start, rhs.span.end);
                let op = binop(op.as_rule());
                Expr {
                    kind: ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    span,
                }
            })
            .parse(pairs)
    }

    fn operand(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::money => ExprKind::Money(self.money(pair)),
            Rule::percent => ExprKind::Percent(self.percent(pair)),
            Rule::duration => ExprKind::Duration(self.duration(pair)),
            Rule::date => ExprKind::Date(self.date(pair).value),
            Rule::number => ExprKind::Number(self.decimal(pair)),
            Rule::string => ExprKind::Str(self.string(pair).value),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::list => ExprKind::List(pair.into_inner().map(|p| self.expr(p)).collect()),
            Rule::rule_call => {
                let mut it = kids(pair);
                let name = self.string(it.next().expect("grammar: rule name"));
                ExprKind::Rule {
                    name,
                    args: it.map(|p| self.expr(p)).collect(),
                }
            }
            Rule::paren => {
                ExprKind::Paren(Box::new(self.expr(kids(pair).next().expect("grammar"))))
            }
            Rule::path => ExprKind::Path(pair.into_inner().map(|p| self.ident(p)).collect()),
            Rule::entity => {
                let e = self.entity(pair);
                if e.quoted {
                    ExprKind::Str(e.id)
                } else {
                    ExprKind::Path(vec![Ident {
                        name: e.id,
                        span: e.span,
                    }])
                }
            }
            other => unreachable!("grammar: unexpected operand {other:?}"),
        };
        Expr { kind, span }
    }

    // ----- policy ---------------------------------------------------------------------------

    fn policy(&mut self, pair: Pair<'_, Rule>) -> Policy {
        let span = self.span(&pair);
        let mut it = kids(pair);
        let name = self.ident(it.next().expect("grammar: policy name"));
        let rules = it
            .map(|r| {
                let span = self.span(&r);
                let mut it = kids(r);
                let scenario = self.ident(it.next().expect("grammar: use name"));
                let when = it
                    .next()
                    .filter(|p| p.as_rule() == Rule::expr)
                    .map(|p| self.expr(p));
                PolicyRule {
                    scenario,
                    when,
                    span,
                }
            })
            .collect();
        Policy { name, rules, span }
    }

    // ----- test -----------------------------------------------------------------------------

    fn test(&mut self, pair: Pair<'_, Rule>) -> Test {
        let span = self.span(&pair);
        let mut it = kids(pair);
        let name = self.string(it.next().expect("grammar: test name"));
        let members = it.map(|p| self.test_member(p)).collect();
        Test {
            name,
            members,
            span,
        }
    }

    fn test_member(&mut self, pair: Pair<'_, Rule>) -> TestMember {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut it = kids(pair);
        let kind = match rule {
            Rule::test_use => TestMemberKind::Use(self.ident(it.next().expect("grammar"))),
            Rule::test_from => TestMemberKind::From(self.date(it.next().expect("grammar"))),
            Rule::test_until => TestMemberKind::Until(self.date(it.next().expect("grammar"))),
            Rule::test_customer | Rule::test_invoice => {
                let id = self.entity(it.next().expect("grammar"));
                let fields = it.map(|f| self.field(f)).collect();
                if rule == Rule::test_customer {
                    TestMemberKind::Customer { id, fields }
                } else {
                    TestMemberKind::Invoice { id, fields }
                }
            }
            Rule::test_event => {
                let date = self.date(it.next().expect("grammar"));
                TestMemberKind::Event {
                    date,
                    event: self.test_event(it.next().expect("grammar")),
                }
            }
            Rule::expect => TestMemberKind::Expect(self.expect(it.collect())),
            Rule::expect_error => TestMemberKind::ExpectError {
                invoice: self.entity(it.next().expect("grammar: expect error invoice")),
                message: self.string(it.next().expect("grammar: expect error text")),
            },
            other => unreachable!("grammar: unexpected test member {other:?}"),
        };
        TestMember { kind, span }
    }

    fn field(&mut self, pair: Pair<'_, Rule>) -> Field {
        let span = self.span(&pair);
        let mut it = pair.into_inner();
        let name = self.ident(it.next().expect("grammar: field name"));
        let value_pair = it
            .next()
            .and_then(|v| v.into_inner().next())
            .expect("grammar: value");
        let value = self.operand(value_pair);
        Field { name, value, span }
    }

    fn test_event(&mut self, pair: Pair<'_, Rule>) -> TestEvent {
        let rule = pair.as_rule();
        let added = pair
            .clone()
            .into_inner()
            .any(|p| p.as_rule() == Rule::kw_added);
        let mut it = kids(pair);
        let mut next = || it.next().expect("grammar: test event part");
        match rule {
            Rule::ev_payment => {
                let invoice = self.entity(next());
                TestEvent::Payment {
                    invoice,
                    amount: self.money(next()),
                }
            }
            Rule::ev_dispute => {
                let invoice = self.entity(next());
                let code = self.string(next());
                let amount = it.next().map(|p| self.money(p));
                TestEvent::Dispute {
                    invoice,
                    code,
                    amount,
                }
            }
            Rule::ev_resolve => TestEvent::Resolve {
                invoice: self.entity(next()),
            },
            Rule::ev_promise => {
                let invoice = self.entity(next());
                let date = self.date(next());
                let amount = it.next().map(|p| self.money(p));
                TestEvent::Promise {
                    invoice,
                    date,
                    amount,
                }
            }
            Rule::ev_credit_note => {
                let invoice = self.entity(next());
                TestEvent::CreditNote {
                    invoice,
                    amount: self.money(next()),
                }
            }
            Rule::ev_write_off => TestEvent::WriteOff {
                invoice: self.entity(next()),
            },
            Rule::ev_risk => {
                let customer = self.entity(next());
                let p = next();
                let score = i64::from(self.count(p));
                TestEvent::Risk { customer, score }
            }
            Rule::ev_outcome => {
                let invoice = self.entity(next());
                let text = self.string(next());
                let promise = it.next().map(|p| self.date(p));
                TestEvent::Outcome {
                    invoice,
                    text,
                    promise,
                }
            }
            Rule::ev_bounce => {
                let customer = self.entity(next());
                TestEvent::Bounce {
                    customer,
                    role: self.ident(next()),
                }
            }
            Rule::ev_tag => {
                let customer = self.entity(next());
                let tag = self.string(next());
                TestEvent::Tag {
                    customer,
                    tag,
                    added,
                }
            }
            Rule::ev_reversed => {
                let invoice = self.entity(next());
                let reason = it.next().map(|p| self.string(p));
                TestEvent::WriteOffReversed { invoice, reason }
            }
            Rule::ev_payment_reversed => {
                let invoice = self.entity(next());
                let amount = self.money(next());
                let (mut reason, mut paid_on) = (None, None);
                for p in it {
                    match p.as_rule() {
                        Rule::date => paid_on = Some(self.date(p)),
                        _ => reason = Some(self.string(p)),
                    }
                }
                TestEvent::PaymentReversed {
                    invoice,
                    amount,
                    reason,
                    paid_on,
                }
            }
            Rule::ev_payment_failed => {
                let invoice = self.entity(next());
                TestEvent::PaymentFailed {
                    invoice,
                    reason: self.string(next()),
                }
            }
            Rule::ev_moved => {
                let invoice = self.entity(next());
                let scenario = self.ident(next());
                let mut rest: Vec<_> = it.collect();
                let because = self.string(rest.pop().expect("grammar: because"));
                let by = self.string(rest.pop().expect("grammar: by"));
                let step = rest.pop().map(|p| self.ident(p));
                TestEvent::Moved {
                    invoice,
                    scenario,
                    step,
                    by,
                    because,
                }
            }
            other => unreachable!("grammar: unexpected test event {other:?}"),
        }
    }

    fn expect(&mut self, parts: Vec<Pair<'_, Rule>>) -> Expect {
        if parts.first().is_some_and(|p| p.as_rule() == Rule::snapshot) {
            return Expect::Snapshot;
        }
        Expect::Lines(parts.into_iter().map(|p| self.expect_line(p)).collect())
    }

    fn expect_line(&mut self, pair: Pair<'_, Rule>) -> ExpectLine {
        let span = self.span(&pair);
        let mut it = kids(pair);
        let date = self.date(it.next().expect("grammar: expect date"));
        let action = self.action(it.next().expect("grammar: expect action"));
        let invoices = it.map(|p| self.entity(p)).collect();
        ExpectLine {
            date,
            action,
            invoices,
            span,
        }
    }
}

fn binop(rule: Rule) -> BinOp {
    match rule {
        Rule::op_or => BinOp::Or,
        Rule::op_and => BinOp::And,
        Rule::op_eq => BinOp::Eq,
        Rule::op_ne => BinOp::Ne,
        Rule::op_lt => BinOp::Lt,
        Rule::op_le => BinOp::Le,
        Rule::op_gt => BinOp::Gt,
        Rule::op_ge => BinOp::Ge,
        Rule::op_in => BinOp::In,
        Rule::op_not_in => BinOp::NotIn,
        Rule::op_add => BinOp::Add,
        Rule::op_sub => BinOp::Sub,
        Rule::op_mul => BinOp::Mul,
        Rule::op_div => BinOp::Div,
        other => unreachable!("grammar: {other:?} is not an infix operator"),
    }
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of every `.relance` file of the stdlib and of the test cases (valid and
    /// invalid: syntax errors, broken headers), twice, then an item nested deeper than a
    /// parsing thread takes: well above [`PARALLEL_MIN_BYTES`].
    fn big_mixed_file() -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths = Vec::new();
        for dir in [
            "../stdlib-scenarios",
            "tests/cases/valid",
            "tests/cases/invalid",
        ] {
            let mut found: Vec<_> = std::fs::read_dir(root.join(dir))
                .expect("a folder of .relance files")
                .map(|e| e.expect("an entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "relance"))
                .collect();
            found.sort();
            paths.extend(found);
        }
        let mut text = String::new();
        for _ in 0..2 {
            for p in &paths {
                text.push_str(&std::fs::read_to_string(p).expect("readable"));
                text.push('\n');
            }
        }
        let deep = "(".repeat(WORKER_MAX_NESTING + 8) + "1" + &")".repeat(WORKER_MAX_NESTING + 8);
        text.push_str(&format!(
            "scenario deep {{\n  applies when {deep} > 0\n  step a at due {{ stop }}\n}}\n"
        ));
        text
    }

    /// Parsing a file's items on several threads gives what parsing them one after the other
    /// gives: the same items, diagnostics (syntax errors included) and broken headers, in the
    /// same order.
    #[test]
    fn threaded_parse_equals_serial_parse() {
        let source = big_mixed_file();
        assert!(source.len() > 4 * PARALLEL_MIN_BYTES, "{}", source.len());
        let comment_starts = collect_comments(&source)
            .iter()
            .map(|c| (c.span.end, c.span.start))
            .collect();
        let chunks = split_items(&source);
        let flat = |parsed: Vec<ChunkParsed>| {
            let items: Vec<Item> = parsed.iter().flat_map(|c| c.items.clone()).collect();
            let diags: Vec<Diagnostic> =
                parsed.iter().flat_map(|c| c.diagnostics.clone()).collect();
            let broken: Vec<BrokenItem> = parsed.iter().filter_map(|c| c.broken.clone()).collect();
            (items, diags, broken)
        };
        let serial = flat(parse_chunks(&source, &comment_starts, &chunks, 1));
        assert!(!serial.0.is_empty() && !serial.1.is_empty() && !serial.2.is_empty());
        for threads in [2, 3, 4] {
            let threaded = flat(parse_chunks(&source, &comment_starts, &chunks, threads));
            assert!(threaded == serial, "{threads} threads differ from one");
        }
        let whole = parse(&source);
        assert!((whole.file.items, whole.diagnostics, whole.broken) == serial);
    }

    /// `is_keyword` is a hand-kept list: it must name exactly the `kw_` rules of the grammar.
    #[test]
    fn is_keyword_lists_exactly_the_keyword_rules() {
        let grammar: std::collections::BTreeSet<&str> = include_str!("relance.pest")
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| w.starts_with("kw_"))
            .collect();
        let source = include_str!("parser.rs");
        let start = source.find("fn is_keyword(").expect("is_keyword exists");
        let end = start + source[start..].find("\n}\n").expect("is_keyword ends");
        let listed: std::collections::BTreeSet<&str> = source[start..end]
            .split("Rule::")
            .skip(1)
            .map(|rest| {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")
            })
            .collect();
        assert_eq!(listed, grammar);
    }
}
