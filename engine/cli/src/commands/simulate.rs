//! `relance simulate`: the dated timeline of one case (customers, invoices, events); a
//! message whose template is not in its customer's language says which one it is written in.

use std::path::Path;

use chrono::{Days, NaiveDate};

use super::{Format, exit};
use relance_core::interest::RateTable;
use relance_core::runtime::Shared;
use relance_data::portfolio;
use relance_sim::simulator::Simulator;

pub fn run(set_path: &Path, case: &Path, until: Option<NaiveDate>, format: Format) -> u8 {
    let (set, ir) = match super::runnable_set(set_path) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let ir = &ir;
    let text = match std::fs::read_to_string(case) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", case.display());
            return exit::USAGE;
        }
    };
    let p = match portfolio::from_json(&text) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}: {e}", case.display());
            return exit::FINDINGS;
        }
    };
    let Some(from) = p.start() else {
        eprintln!("error: {}: the case has no invoice", case.display());
        return exit::FINDINGS;
    };
    let until = until.unwrap_or_else(|| {
        let last = p
            .invoices
            .iter()
            .map(|i| i.due)
            .chain(p.events.iter().map(|e| e.date))
            .max()
            .unwrap_or(from);
        last.checked_add_days(Days::new(180)).unwrap_or(last)
    });
    let shared = Shared {
        set: ir,
        rules: &set.rules,
        rates: RateTable::builtin(),
    };
    let run = Simulator::new(shared, &p).run(from, until, &mut |_| {});
    let mut timeline = relance_sim::cadence::timeline(ir, &p.invoices, run, until, true);
    let templates = super::SetTemplates::read(&set.root);
    timeline.note_languages(&p.customers, &|lang, t| templates.note(lang, t));
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&timeline).unwrap_or_default()
        ),
        Format::Text => print!("{}", timeline.to_text()),
    }
    exit::OK
}
