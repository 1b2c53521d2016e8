//! W0175 for a scenario's `late-interest N%`: a yearly rate below the L441-10 II floor (three
//! times the taux d'intérêt légal) of the latest half-year whose legal rate the table gives,
//! as `relance check` reports it. The checker of relance-dsl knows no rate table, so it judges
//! only `N times legal rate` (under 3); this module judges percentages against a table.
//!
//! It owns the diagnostic and nothing else: it must not read files (the caller gives the
//! table: the set folder's `rates.csv` over the built-in one) nor change a rate.

use relance_dsl::syntax::ast::{Item, LateInterestRate, MemberKind};
use relance_dsl::{Code, Diagnostic, SourceFile};

use crate::interest::{RateTable, half_year_name};

/// Per file (parallel to `files`), the W0175 of each `late-interest N%` below the floor of
/// the table's latest half-year with a legal rate. The setting applies to professional
/// debtors only (the runtime charges no late interest to a consumer), so every scenario that
/// sets it is judged.
pub fn diagnostics(files: &[SourceFile], table: &RateTable) -> Vec<Vec<Diagnostic>> {
    let Some((start, floor)) = table.latest_floor() else {
        return vec![Vec::new(); files.len()];
    };
    files
        .iter()
        .map(|f| {
            let mut out = Vec::new();
            for item in &f.parsed.file.items {
                let Item::Scenario(s) = item else { continue };
                for m in &s.members {
                    let MemberKind::LateInterest(LateInterestRate::Percent(rate)) = m.kind else {
                        continue;
                    };
                    if rate.is_zero() || rate >= floor {
                        continue;
                    }
                    let half = half_year_name(start);
                    out.push(
                        Diagnostic::new(
                            Code::RateBelowLegalFloor,
                            m.span,
                            format!(
                                "`late-interest {rate}%` is below the legal floor of {half}, \
                                 {floor}% (three times the legal rate)"
                            ),
                        )
                        .with_label("L441-10 II: at least three times the legal interest rate")
                        .with_help(format!(
                            "a contract may not set less than {floor}% in {half}: raise the rate, \
                             write `late-interest 3 times legal rate`, or remove the setting to \
                             charge ECB + 10 points"
                        )),
                    );
                }
            }
            out
        })
        .collect()
}
