//! "Did you mean" suggestions for misspelt ids, keys and column names.
//!
//! Distances are `strsim`'s Levenshtein, over lower-cased words, after a length filter that
//! rejects most candidates without computing one. This module must not know what the words
//! mean; it must stay bounded in cost (callers pass a budget for large candidate sets).

/// The candidate closest to `word` (case-insensitively), if close enough to be a plausible typo:
/// at most one edit per three characters of `word` (at least one edit). Ties go to the first
/// candidate. `budget` is decremented for every candidate examined; when it reaches zero the
/// search stops and returns the best so far.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I, budget: &mut usize) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word = word.to_lowercase();
    let length = word.chars().count();
    let limit = (length / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let bound = best.map_or(limit, |(d, _)| d.saturating_sub(1));
        if candidate.chars().count().abs_diff(length) > bound {
            continue;
        }
        let distance = strsim::levenshtein(&word, &candidate.to_lowercase());
        if distance <= bound {
            best = Some((distance, candidate));
            if distance == 0 {
                break;
            }
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// `(did you mean "X"?)` with a leading space, or nothing.
pub(crate) fn hint(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean \"{s}\"?)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
        let mut budget = usize::MAX;
        did_you_mean(word, candidates.iter().copied(), &mut budget)
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("ACM", &["BETA", "ACME", "ACMEE"]), Some("ACME"));
        assert_eq!(suggest("acme", &["BETA", "ACME"]), Some("ACME"));
        assert_eq!(
            suggest("invoice", &["from", "customers", "invoices", "events"]),
            Some("invoices")
        );
        assert_eq!(
            suggest("outstandng", &["amount", "outstanding"]),
            Some("outstanding")
        );
        assert_eq!(suggest("XYZ", &["ACME", "BETA"]), None);
        assert_eq!(suggest("F-3", &[]), None);
    }

    #[test]
    fn the_budget_bounds_the_work() {
        let mut budget = 1;
        assert_eq!(did_you_mean("ACM", ["BETA", "ACME"], &mut budget), None);
        assert_eq!(budget, 0);
    }

    #[test]
    fn hints() {
        assert_eq!(hint(Some("ACME")), " (did you mean \"ACME\"?)");
        assert_eq!(hint(None), "");
    }
}
