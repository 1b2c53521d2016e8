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

/// The closest candidate by edit distance, if within a third of the word's length (at least 1,
/// at most 3 edits).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != word)
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
}
