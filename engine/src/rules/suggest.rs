//! "Did you mean" for rule names (a private edit distance: `strsim` is not a dependency of the
//! engine crate).

/// The candidate closest to `name`, if it is close enough to be a plausible misspelling: at most
/// one edit for short names, a third of the name's length for longer ones. Ties go to the
/// candidate that comes first.
pub(super) fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let budget = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = levenshtein(name, candidate);
        if distance <= budget && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate.to_string())
}

/// Edit distance (insertions, deletions, substitutions) between two strings, by characters.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(levenshtein("", ""), 0);
        assert_eq!(levenshtein("abc", ""), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("large_exposure", "large_exposur"), 1);
    }

    #[test]
    fn closest_within_budget() {
        let names = ["large_exposure", "risky", "vip"];
        assert_eq!(
            closest("large_exposur", names.into_iter()).as_deref(),
            Some("large_exposure")
        );
        assert_eq!(closest("risk", names.into_iter()).as_deref(), Some("risky"));
        assert_eq!(closest("unrelated", names.into_iter()), None);
    }
}
