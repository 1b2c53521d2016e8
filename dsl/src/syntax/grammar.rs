//! The grammar read as text, for the tools that must follow it without parsing with it: the
//! language server's keyword list, two-word phrases and line starters come from here, and tests
//! compare their own lists with these.
//!
//! It reads `relance.pest` (the very file the parser is generated from) with a small tokenizer:
//! rule names, string literals and punctuation, nothing more. It must not parse `.relance`
//! text nor decide what is valid (the parser and the checker do); it only answers "which words
//! does the grammar spell, and in which order".

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The text of `dsl/src/syntax/relance.pest`.
pub const SOURCE: &str = include_str!("relance.pest");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// A rule name (`kw_step`, `expr`, `ASCII_DIGIT`).
    Ident(&'static str),
    /// The content of a string literal, between the quotes (escapes left as written).
    Str(&'static str),
    Punct(char),
}

struct Grammar {
    /// Every rule, in the order of the file: its name and the tokens between its braces.
    rules: Vec<(&'static str, Vec<Tok>)>,
    /// The words of each `kw_` rule (`kw_days` → `days`, `day`).
    keyword_rules: BTreeMap<&'static str, Vec<&'static str>>,
}

static GRAMMAR: LazyLock<Grammar> = LazyLock::new(|| read(SOURCE));

fn lex(text: &'static str) -> Vec<Tok> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if text[i..].starts_with("//") {
            i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
        } else if c == b'"' {
            let start = i + 1;
            i = start;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            out.push(Tok::Str(&text[start..i.min(bytes.len())]));
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(&text[start..i]));
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            out.push(Tok::Punct(ch));
            i += ch.len_utf8();
        }
    }
    out
}

fn read(text: &'static str) -> Grammar {
    let toks = lex(text);
    let mut rules = Vec::new();
    let mut i = 0;
    // name = [_@$!]{ body }
    while i + 2 < toks.len() {
        let (Tok::Ident(name), Tok::Punct('=')) = (toks[i], toks[i + 1]) else {
            i += 1;
            continue;
        };
        let mut j = i + 2;
        // The modifier of a silent (`_`, lexed as a name), atomic or compound-atomic rule.
        if matches!(toks[j], Tok::Ident("_") | Tok::Punct('@' | '$' | '!')) {
            j += 1;
        }
        if toks.get(j) != Some(&Tok::Punct('{')) {
            i += 1;
            continue;
        }
        let mut depth = 0usize;
        let start = j + 1;
        let mut end = start;
        for (k, t) in toks.iter().enumerate().skip(j) {
            match t {
                Tok::Punct('{') => depth += 1,
                Tok::Punct('}') => {
                    depth -= 1;
                    if depth == 0 {
                        end = k;
                        break;
                    }
                }
                _ => {}
            }
        }
        rules.push((name, toks[start..end].to_vec()));
        i = end + 1;
    }
    let keyword_rules = rules
        .iter()
        .filter(|(name, _)| name.starts_with("kw_"))
        .map(|(name, body)| {
            let words = body
                .iter()
                .filter_map(|t| match t {
                    Tok::Str(s) => Some(*s),
                    _ => None,
                })
                .collect();
            (*name, words)
        })
        .collect();
    Grammar {
        rules,
        keyword_rules,
    }
}

impl Grammar {
    fn body(&self, rule: &str) -> Option<&[Tok]> {
        self.rules
            .iter()
            .find(|(name, _)| *name == rule)
            .map(|(_, body)| body.as_slice())
    }

    fn starters(&self, rule: &str, out: &mut Vec<String>) {
        let Some(body) = self.body(rule) else { return };
        let mut depth = 0usize;
        let mut alternatives: Vec<Vec<Tok>> = vec![Vec::new()];
        for t in body {
            match t {
                Tok::Punct('(') => depth += 1,
                Tok::Punct(')') => depth = depth.saturating_sub(1),
                Tok::Punct('|') if depth == 0 => {
                    alternatives.push(Vec::new());
                    continue;
                }
                _ => {}
            }
            alternatives.last_mut().expect("one alternative").push(*t);
        }
        for alt in alternatives {
            match alt.as_slice() {
                [Tok::Ident(r)] if !r.starts_with("kw_") => self.starters(r, out),
                _ => {
                    let mut words = Vec::new();
                    for t in &alt {
                        match t {
                            Tok::Ident(r) if r.starts_with("kw_") => {
                                words.extend(self.keyword_rules[r].first().copied())
                            }
                            Tok::Punct('~') => {}
                            _ => break,
                        }
                    }
                    if !words.is_empty() {
                        out.push(words.join(" "));
                    }
                }
            }
        }
    }
}

/// Every keyword of the grammar (the words of its `kw_` rules, `day` and `days` both), in the
/// order of the file.
pub fn keywords() -> &'static [&'static str] {
    static WORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        GRAMMAR
            .rules
            .iter()
            .filter_map(|(name, _)| GRAMMAR.keyword_rules.get(name))
            .flatten()
            .copied()
            .collect()
    });
    &WORDS
}

/// The two-word keyword phrases: every place where the grammar writes one keyword right after
/// another (`kw_skip ~ kw_when` → `("skip", "when")`), each word form included
/// (`business days`, `business day`). In the order of the file, without repeats.
pub fn phrases() -> &'static [(&'static str, &'static str)] {
    static PAIRS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
        let kw = &GRAMMAR.keyword_rules;
        let mut out = Vec::new();
        for (_, body) in &GRAMMAR.rules {
            for w in body.windows(3) {
                let [Tok::Ident(a), Tok::Punct('~'), Tok::Ident(b)] = w else {
                    continue;
                };
                let (Some(first), Some(second)) = (kw.get(a), kw.get(b)) else {
                    continue;
                };
                for x in first {
                    for y in second {
                        if !out.contains(&(*x, *y)) {
                            out.push((*x, *y));
                        }
                    }
                }
            }
        }
        out
    });
    &PAIRS
}

/// The keyword phrases that can start `rule`: for each of its alternatives, the keywords it
/// opens with (`skip_when = { kw_skip ~ kw_when ~ expr }` → `skip when`); an alternative that
/// is another rule's name stands for that rule's own starters. `starters("statement")` lists
/// every statement and action, `starters("scenario_member")` every scenario line. Empty for a
/// rule the grammar lacks.
pub fn starters(rule: &str) -> Vec<String> {
    let mut out = Vec::new();
    GRAMMAR.starters(rule, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_the_words_of_the_kw_rules() {
        let kw_rules = SOURCE.lines().filter(|l| l.starts_with("kw_")).count();
        // `kw_days`, `kw_weeks` and `kw_months` spell two words each.
        assert_eq!(keywords().len(), kw_rules + 3);
        for w in [
            "scenario",
            "day",
            "days",
            "late-interest",
            "amount",
            "otherwise",
        ] {
            assert!(keywords().contains(&w), "{w}");
        }
        assert!(!keywords().contains(&"kw_step"));
        assert!(
            !keywords().contains(&"{"),
            "no punctuation of a string literal"
        );
    }

    #[test]
    fn phrases_are_adjacent_keywords() {
        assert_eq!(
            phrases(),
            [
                ("business", "days"),
                ("business", "day"),
                ("applies", "when"),
                ("group", "by"),
                ("promise", "grace"),
                ("catch", "up"),
                ("gradually", "every"),
                ("to", "latest"),
                ("payments", "pay"),
                ("charges", "keep"),
                ("keep", "the"),
                ("the", "case"),
                ("case", "open"),
                ("times", "legal"),
                ("legal", "rate"),
                ("per", "customer"),
                ("end", "of"),
                ("of", "months"),
                ("of", "month"),
                ("on", "days"),
                ("on", "day"),
                ("repeat", "every"),
                ("skip", "when"),
                ("stop", "when"),
                ("wait", "until"),
                ("block", "deliveries"),
                ("unblock", "deliveries"),
                ("not", "in"),
                ("credit", "note"),
                ("write", "off"),
                ("off", "reversed"),
                ("payment", "failed"),
                ("payment", "reversed"),
                ("to", "scenario"),
                ("expect", "error"),
            ]
        );
    }

    #[test]
    fn starters_follow_alternatives_into_their_rules() {
        assert_eq!(starters("item"), ["scenario", "policy", "test"]);
        assert_eq!(
            starters("statement"),
            [
                "skip when",
                "stop when",
                "if",
                "goto",
                "stop",
                "pause",
                "resume",
                "wait until",
                "email",
                "sms",
                "letter",
                "call",
                "task",
                "webhook",
                "escalate",
                "alert",
                "block deliveries",
                "unblock deliveries",
                "charge",
                "tag",
            ]
        );
        assert_eq!(
            starters("unit"),
            ["business days", "days", "weeks", "months"]
        );
        assert_eq!(starters("policy_rule"), ["use"]);
        assert!(starters("no_such_rule").is_empty());
    }
}
