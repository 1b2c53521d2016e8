//! "Did you mean …?": the closest known name to a misspelt one.
//!
//! Used by the parser (keywords) and the checks (steps, scenarios, fields, templates, rules).
//! It only ranks candidates; it must not know where they come from.

/// `Some("did you mean `x`?")` when a candidate is close enough to `word`.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(help)
}

/// The help line proposing `candidate`.
pub fn help(candidate: &str) -> String {
    format!("did you mean `{candidate}`?")
}

/// The closest candidate. A candidate that starts with the word (`customer.risk` →
/// `customer.risk_score`) comes first, the shortest one, when the word has at least 3
/// characters; otherwise the closest by edit distance, if within a third of the word's length
/// (at least 1, at most 3 edits).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().filter(|c| *c != word).collect();
    if word.chars().count() >= 3
        && let Some(c) = candidates
            .iter()
            .filter(|c| c.starts_with(word))
            .min_by_key(|c| (c.len(), **c))
    {
        return Some(c);
    }
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            closest("reminder-3", ["reminder-1", "notice"]),
            Some("reminder-1")
        );
        assert_eq!(closest("titel", ["title", "tag"]), Some("title"));
        assert_eq!(closest("zzz", ["title", "step"]), None);
    }

    #[test]
    fn a_candidate_the_word_starts_comes_first() {
        // `customer.id` is 4 edits away from `customer.risk`, `customer.risk_score` 6: the prefix
        // wins.
        assert_eq!(
            closest("customer.risk", ["customer.id", "customer.risk_score"]),
            Some("customer.risk_score")
        );
        assert_eq!(
            closest("remind", ["reminder-2", "reminder-1"]),
            Some("reminder-1")
        );
        // Too short to be a meaningful prefix.
        assert_eq!(closest("re", ["reminder-1"]), None);
    }
}
