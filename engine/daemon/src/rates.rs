//! The late-payment rate table the daemon runs with: the `rates.csv` of its data folder
//! (`data` in the configuration) laid on top of the built-in table, else the built-in table
//! (`relance_data::rates`, the same reading as `relance plan` and `relance rates`). Read when
//! the daemon starts, and again on each deployment (`Engine::reload_rates`, under the writer
//! lock): editing the file and deploying (or restarting) updates the rates, no rebuild.
//!
//! This module owns only where the daemon's table comes from. It must not compute interest
//! (`relance_core::interest`) nor be read in the middle of a unit of work (each unit takes the
//! table in force when it starts).

use std::path::Path;

use relance_core::interest::RateTable;

use relance_data::rates::RatesError;

/// The table of the data folder `dir`: its `rates.csv` over the built-in table, else the
/// built-in table; with the file read, if any. The table lives as long as the process (the
/// engine hands `&'static` tables to the transition function): one small allocation per
/// daemon started (and per changed table a deployment reads). An invalid file is an error
/// naming it and its line: it stops the start-up, or refuses the deployment.
pub fn load(dir: &Path) -> Result<(&'static RateTable, Option<std::path::PathBuf>), RatesError> {
    let rates = relance_data::rates::load(Some(dir))?;
    let table: &'static RateTable = match rates.table {
        std::borrow::Cow::Borrowed(builtin) => builtin,
        std::borrow::Cow::Owned(table) => Box::leak(Box::new(table)),
    };
    Ok((table, rates.file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::TempDir;

    #[test]
    fn a_data_folder_without_rates_runs_on_the_builtin_table() {
        let dir = TempDir::new("rates-builtin");
        let (table, file) = load(&dir.0).expect("loads");
        assert!(std::ptr::eq(table, RateTable::builtin()));
        assert_eq!(file, None);
    }

    #[test]
    fn an_invalid_rates_file_stops_the_start_naming_it() {
        let dir = TempDir::new("rates-invalid");
        std::fs::write(dir.0.join("rates.csv"), "half_year,ecb\n").expect("write");
        let err = load(&dir.0).unwrap_err().to_string();
        assert!(err.contains("rates.csv"), "{err}");
    }
}
