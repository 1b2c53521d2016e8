//! `relance demo`: the newcomer's tour on bundled data — check and test the stdlib scenarios,
//! then plan the example portfolio and print the agenda.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use super::{Format, exit};
use crate::interest::RateTable;
use crate::scenario_set;
use crate::testing::{self, SnapshotMode, Verdict};

pub fn run(scenarios: &Path, data: &Path, from: NaiveDate, days: u32) -> u8 {
    println!("== 1. relance check {}", scenarios.display());
    let code = super::check::run(&[scenarios.to_path_buf()], Format::Text, false);
    if code != exit::OK {
        return code;
    }
    println!("\n== 2. relance test {}", scenarios.display());
    let Ok(set) = scenario_set::load(scenarios) else { return exit::USAGE };
    let compiled = set.compile();
    let Some(ir) = compiled.set.as_ref() else { return exit::FINDINGS };
    let shared = testing::shared(ir, &set.rules, RateTable::builtin());
    let mode = SnapshotMode { update: false, ci: true };
    let mut by_file: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for tc in &ir.tests {
        let ok = matches!(testing::run(shared, tc, mode), Verdict::Passed);
        let e = by_file.entry(tc.file.as_str()).or_default();
        if ok { e.0 += 1 } else { e.1 += 1 }
    }
    for (file, (ok, ko)) in &by_file {
        println!("{file}: {ok} passed, {ko} failed");
    }
    println!("\n== 3. relance plan --data {} --from {from} --days {days}", data.display());
    super::plan::run(data, scenarios, from, days, Format::Text)
}
