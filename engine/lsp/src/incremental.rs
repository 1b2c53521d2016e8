//! Re-parsing a changed document without re-parsing all of it.
//!
//! The parser (pest) costs about 6 µs a line, so a full parse of a 2,000-line file is most of
//! the time between a keystroke and its diagnostics. An edit inside one scenario member (a
//! step, a handler…) or one top-level item is re-parsed alone and spliced into the previous
//! tree, the nodes after it shifted. The result must be exactly what `parse(new)` gives, so
//! this is only done when:
//! - the edit falls in the region of an item of the previous tree (from its start to the
//!   next item's), or of one member of a scenario (to the next member or the closing brace);
//! - the region starts and ends at line starts, the end in unchanged text: the parser's item
//!   split cannot move, and no token, string or comment can run across a boundary;
//! - the region re-parses without a syntax error, as whole items or as whole members (an
//!   item the parser dropped for a syntax error lies inside the region of the item before
//!   it, so editing it is always a full parse).
//!
//! Splitting at members relies on no member keyword being able to continue the member before
//! it (none is an operator or a unit); keeping the syntax errors of other items relies on
//! their message reading at most the first word of the next item, an unchanged keyword.
//! Anything else is a full parse. The tests compare both on thousands of random edits, from
//! valid and broken texts. This module must not change what a parse means.

use relance_dsl::Code;
use relance_dsl::syntax::ast::{Item, Scenario, Span};
use relance_dsl::syntax::comments::collect_comments;
use relance_dsl::syntax::{Parsed, parse};

use super::shift::Shift;

/// The parse of `new`, re-using `parsed` (the parse of `old`) where the edit allows.
pub fn reparse(old: &str, parsed: Parsed, new: &str) -> Parsed {
    match plan(old, &parsed, new) {
        Some(plan) => apply(plan, parsed, new),
        None => parse(new),
    }
}

/// The edit between two texts: `old[start..old_end]` became `new[start..new_end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Edit {
    start: usize,
    old_end: usize,
    new_end: usize,
}

impl Edit {
    fn between(old: &str, new: &str) -> Edit {
        let (o, n) = (old.as_bytes(), new.as_bytes());
        let prefix = o.iter().zip(n).take_while(|(a, b)| a == b).count();
        let room = o.len().min(n.len()) - prefix;
        let suffix = o
            .iter()
            .rev()
            .zip(n.iter().rev())
            .take(room)
            .take_while(|(a, b)| a == b)
            .count();
        Edit {
            start: prefix,
            old_end: o.len() - suffix,
            new_end: n.len() - suffix,
        }
    }

    fn delta(&self) -> isize {
        self.new_end as isize - self.old_end as isize
    }
}

/// What to re-parse: the old region `region` of item `item` (and member `member`), whose
/// new text is parsed into `chunk` with spans `chunk_delta` off.
struct Plan {
    edit: Edit,
    region: Span,
    item: usize,
    member: Option<usize>,
    chunk: Parsed,
    chunk_delta: isize,
}

/// Whether `at` starts a line of `text` (only blanks since the last `\n`), that `\n` being at
/// or after `unchanged_from`.
fn line_start(text: &str, at: usize, unchanged_from: usize) -> bool {
    let before = &text[..at];
    let nl = before.rfind('\n');
    let blanks = before[nl.map_or(0, |i| i + 1)..]
        .bytes()
        .all(|b| b == b' ' || b == b'\t');
    blanks && nl.is_none_or(|i| i >= unchanged_from)
}

fn has_syntax_error(p: &Parsed) -> bool {
    p.diagnostics.iter().any(|d| d.code == Code::SyntaxError)
}

fn plan(old: &str, parsed: &Parsed, new: &str) -> Option<Plan> {
    let edit = Edit::between(old, new);
    let items = &parsed.file.items;
    let k = items.iter().rposition(|it| it.span().start < edit.start)?;
    let start = items[k].span().start;
    let last = k + 1 == items.len();
    let end = items.get(k + 1).map_or(old.len(), |next| next.span().start);
    if (!last && edit.old_end >= end) || !line_start(old, start, 0) {
        return None;
    }
    let new_end = add(end, edit.delta());
    if !last && !line_start(new, new_end, edit.new_end) {
        return None;
    }
    if let Item::Scenario(s) = &items[k]
        && let Some(plan) = plan_members(new, s, k, edit)
    {
        return Some(plan);
    }
    // Re-parsing most of the file alone saves little, and costs twice when it fails.
    if (new_end - start) * 2 > new.len() {
        return None;
    }
    let chunk = parse(&new[start..new_end]);
    (!has_syntax_error(&chunk)).then_some(Plan {
        edit,
        region: Span::new(start, end),
        item: k,
        member: None,
        chunk,
        chunk_delta: start as isize,
    })
}

/// The plan for an edit inside one member of scenario `s` (item `item`), if it is one.
fn plan_members(new: &str, s: &Scenario, item: usize, edit: Edit) -> Option<Plan> {
    const HEADER: &str = "scenario x {\n";
    let j = s.members.iter().rposition(|m| m.span.start < edit.start)?;
    let start = s.members[j].span.start;
    // To the next member, or to the scenario's closing brace.
    let end = s
        .members
        .get(j + 1)
        .map_or(s.span.end.checked_sub(1)?, |m| m.span.start);
    let new_end = add(end, edit.delta());
    if edit.old_end >= end || !line_start(new, start, 0) || !line_start(new, new_end, edit.new_end)
    {
        return None;
    }
    let chunk = parse(&format!("{HEADER}{}\n}}\n", &new[start..new_end]));
    let one_scenario = matches!(chunk.file.items.as_slice(), [Item::Scenario(_)]);
    (one_scenario && !has_syntax_error(&chunk)).then_some(Plan {
        edit,
        region: Span::new(start, end),
        item,
        member: Some(j),
        chunk,
        chunk_delta: start as isize - HEADER.len() as isize,
    })
}

fn apply(plan: Plan, mut parsed: Parsed, new: &str) -> Parsed {
    let Plan {
        edit,
        region,
        item,
        member,
        mut chunk,
        chunk_delta,
    } = plan;
    let delta = edit.delta();
    chunk.file.items.shift(chunk_delta);
    chunk.diagnostics.shift(chunk_delta);

    // Diagnostics: before the region kept, in it replaced, after it shifted.
    parsed
        .diagnostics
        .retain(|d| d.span.start < region.start || d.span.start >= region.end);
    for d in parsed
        .diagnostics
        .iter_mut()
        .filter(|d| d.span.start >= region.end)
    {
        d.shift(delta);
    }
    parsed.diagnostics.extend(chunk.diagnostics);

    let items = &mut parsed.file.items;
    items[item + 1..].shift(delta);
    match member {
        None => {
            items.splice(item..=item, chunk.file.items);
        }
        Some(j) => {
            if let (Some(Item::Scenario(s)), Some(Item::Scenario(fresh))) =
                (items.get_mut(item), chunk.file.items.into_iter().next())
            {
                s.members[j + 1..].shift(delta);
                s.members.splice(j..=j, fresh.members);
                s.span.end = add(s.span.end, delta);
            }
        }
    }
    parsed.comments = collect_comments(new);
    parsed
}

fn add(offset: usize, delta: isize) -> usize {
    offset.checked_add_signed(delta).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence (no dependency needed).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, below: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % below.max(1)
        }
    }

    const SNIPPETS: &[&str] = &[
        "x",
        " ",
        "\n",
        "}",
        "{",
        "\"",
        "#",
        "1",
        "-",
        ".",
        "step z at due {}\n",
        "goto b",
        "  pause\n",
        "scenario q {\n}\n",
        "test \"n\" {}\n",
        "2026-02-30",
        "99999999999999999999999999999",
        " or ",
        "\n  step y at due + 3 days {\n    email \"e\" to accounting\n  }\n",
        "é😀",
    ];

    fn corpus() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios");
        let mut out: Vec<String> = relance_core::scenario_set::relance_files(&root)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        out.push(super::super::test_support::EVERY_NODE.to_string());
        out
    }

    fn char_boundary(text: &str, mut at: usize) -> usize {
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    /// One random edit of `text`: a snippet replacing a few bytes, a digit changed, or a
    /// line duplicated (the last two often keep the file valid, as typing mostly does).
    fn random_edit(rng: &mut Lcg, text: &str) -> (usize, usize, String) {
        let at = char_boundary(text, rng.next(text.len() + 1));
        match rng.next(3) {
            0 => {
                let cut = char_boundary(text, (at + rng.next(12)).min(text.len())).max(at);
                let insert = if rng.next(3) == 0 {
                    ""
                } else {
                    SNIPPETS[rng.next(SNIPPETS.len())]
                };
                (at, cut, insert.to_string())
            }
            1 => match text[at..].find(|c: char| c.is_ascii_digit()) {
                Some(i) => (at + i, at + i + 1, rng.next(10).to_string()),
                None => (at, at, String::new()),
            },
            _ => {
                let line = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
                (line, line, text[line..line_end].to_string())
            }
        }
    }

    /// Random edit sequences: each incremental parse is compared with a full parse, and the
    /// next edit starts from it (so a wrong splice would also show up later); a text with a
    /// syntax error goes back to the original now and then.
    #[test]
    fn incremental_equals_full_parse_on_random_edits() {
        let mut rng = Lcg(7);
        let (mut reused, mut total) = (0, 0);
        for original in corpus() {
            let mut text = original.clone();
            let mut parsed = parse(&text);
            for _ in 0..120 {
                let (at, cut, insert) = random_edit(&mut rng, &text);
                let mut new = text.clone();
                new.replace_range(at..cut, &insert);
                let reusable = plan(&text, &parsed, &new).is_some();
                let incremental = reparse(&text, parsed, &new);
                let full = parse(&new);
                assert_eq!(
                    incremental.file, full.file,
                    "edit at {at}..{cut} with {insert:?} of\n{text}"
                );
                let key = |p: &Parsed| {
                    let mut d: Vec<_> = p
                        .diagnostics
                        .iter()
                        .map(|d| (d.span, d.code, d.message.clone()))
                        .collect();
                    d.sort();
                    d
                };
                assert_eq!(
                    key(&incremental),
                    key(&full),
                    "edit at {at}..{cut} with {insert:?} of\n{text}"
                );
                assert_eq!(incremental.comments, full.comments);
                total += 1;
                reused += usize::from(reusable);
                (text, parsed) = if has_syntax_error(&incremental) && rng.next(2) == 0 {
                    (original.clone(), parse(&original))
                } else {
                    (new, incremental)
                };
            }
        }
        assert!(
            reused * 10 > total,
            "the fast path should be common: {reused} of {total}"
        );
    }

    #[test]
    fn an_edit_inside_a_step_reparses_that_step_only() {
        let old = "scenario s {\n  step a at due {\n    pause\n  }\n  step b at a + 1 day {\n    pause\n  }\n}\n";
        let new = old.replace("a + 1 day", "a + 12 days");
        let p = plan(old, &parse(old), &new).expect("reusable");
        assert_eq!(p.member, Some(1));
        assert_eq!(reparse(old, parse(old), &new).file, parse(&new).file);
    }
}
