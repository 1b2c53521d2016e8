//! "Did you mean" suggestions for misspelt ids, keys and column names.
//!
//! A tiny private Levenshtein distance (the `strsim` crate is not a dependency of the engine;
//! this can be replaced by `strsim::levenshtein` once it is). This module must not know what the
//! words mean; it must stay bounded in cost (callers pass a budget for large candidate sets).

/// The candidate closest to `word` (case-insensitively), if close enough to be a plausible typo:
/// at most one edit per three characters of `word` (at least one edit). Ties go to the first
/// candidate. `budget` is decremented for every candidate examined; when it reaches zero the
/// search stops and returns the best so far.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I, budget: &mut usize) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word: Vec<char> = word.chars().flat_map(char::to_lowercase).collect();
    let limit = (word.len() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    let mut row = Vec::new();
    let mut other = Vec::new();
    for candidate in candidates {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let bound = best.map_or(limit, |(d, _)| d.saturating_sub(1));
        other.clear();
        other.extend(candidate.chars().flat_map(char::to_lowercase));
        if other.len().abs_diff(word.len()) > bound {
            continue;
        }
        if let Some(distance) = bounded_levenshtein(&word, &other, bound, &mut row) {
            best = Some((distance, candidate));
            if distance == 0 {
                break;
            }
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// The Levenshtein distance between `a` and `b` if it is at most `bound`, else `None`.
/// `row` is scratch space reused between calls.
fn bounded_levenshtein(
    a: &[char],
    b: &[char],
    bound: usize,
    row: &mut Vec<usize>,
) -> Option<usize> {
    row.clear();
    row.extend(0..=b.len());
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        let mut row_min = row[0];
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            let value = substitution.min(row[j] + 1).min(row[j + 1] + 1);
            row[j + 1] = value;
            row_min = row_min.min(value);
        }
        if row_min > bound {
            return None;
        }
    }
    row.last().copied().filter(|&d| d <= bound)
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
    fn distances() {
        let mut row = Vec::new();
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        let d = |a: &str, b: &str, row: &mut Vec<usize>| {
            bounded_levenshtein(&chars(a), &chars(b), 10, row)
        };
        assert_eq!(d("kitten", "sitting", &mut row), Some(3));
        assert_eq!(d("", "abc", &mut row), Some(3));
        assert_eq!(d("same", "same", &mut row), Some(0));
        assert_eq!(
            bounded_levenshtein(&chars("kitten"), &chars("sitting"), 2, &mut row),
            None
        );
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
