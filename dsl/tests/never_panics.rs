//! Property tests: the parser and the checker never panic, on arbitrary text and on valid
//! files mutated by deleting, duplicating or swapping slices; every diagnostic span stays
//! inside the source.

use proptest::prelude::*;
use relance_dsl::{SetContext, SourceFile, check_set, compile};

const SEED: &str = include_str!("cases/valid/brief-sketch.relance");

fn assert_sound(source: &str) {
    let files = vec![SourceFile::new("p.relance", source)];
    for d in check_set(&files, &SetContext::default()).concat() {
        assert!(
            d.span.start <= d.span.end && d.span.end <= source.len(),
            "{d:?}"
        );
        assert!(
            source.is_char_boundary(d.span.start) && source.is_char_boundary(d.span.end),
            "{d:?}"
        );
    }
    let _ = compile(&files, &SetContext::default());
}

fn char_floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text(source in "\\PC{0,200}") {
        assert_sound(&source);
    }

    #[test]
    fn language_like_tokens(tokens in prop::collection::vec(prop::sample::select(vec![
        "scenario", "step", "at", "due", "+", "-", "5", "days", "business", "{", "}", "(", ")",
        "email", "\"t\"", "to", "accounting", "if", "else", "goto", "a", "when", "skip", "on",
        "dispute", "opened", "rule", ",", "1000 EUR", "5%", "2026-01-31", "2026-02-30", "in", "[",
        "]", "not", "and", "or", "==", "<", "#c\n", "\n", "test", "policy", "use", "otherwise",
        "expect", "customer", "invoice", "for", "charge", "indemnity", "é", "99999999999999999999",
    ]), 0..80)) {
        assert_sound(&tokens.join(" "));
    }

    #[test]
    fn mutated_valid_file(cuts in prop::collection::vec((0..SEED.len(), 0..SEED.len(), 0u8..3), 1..6)) {
        let mut s = SEED.to_string();
        for (a, b, op) in cuts {
            let (a, b) = (char_floor(&s, a.min(s.len())), char_floor(&s, b.min(s.len())));
            let (lo, hi) = (a.min(b), a.max(b));
            let piece = s[lo..hi].to_string();
            match op {
                0 => s.replace_range(lo..hi, ""),
                1 => s.insert_str(hi, &piece),
                _ => s = format!("{}{}{}", &s[hi..], &piece, &s[..lo]),
            }
        }
        assert_sound(&s);
    }
}
