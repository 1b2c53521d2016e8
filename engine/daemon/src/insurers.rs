//! The credit insurers' policies the daemon runs with: the `insurers.csv` of its data folder
//! (`data` in the configuration), read by `relance_data::insurers` (the same reading as `relance
//! plan` and `relance insurance`). Read when the daemon starts, and again on each deployment
//! (`Engine::read_insurers`, then `apply_insurers` once `rates.csv` is read too, under the writer
//! lock), as `rates.csv` is (`rates.rs`): editing the file and deploying (or restarting) changes
//! the insurer deadlines, no rebuild. Insured running cases are woken under the policies read:
//! by the deployment that changes them, and at every start-up (`Engine::wake_insured`), since
//! the policies are not stored.
//!
//! With the file, each insured customer's cover gets its insurer's deadlines from it when a case is
//! run ([`Insurers::apply`], `relance_data::insurers::attach`, as the planner's
//! `portfolio::load_dir` does): the transition then creates the insurer tasks as in the simulator.
//! Without the file, the deadlines stored with each customer stay. This module owns only where the
//! policies come from; it must not compute deadlines (`relance_core::insurance`) nor change a
//! stored customer.

use std::path::Path;
use std::sync::Arc;

use relance_core::domain::Customer;
use relance_core::insurance::InsurerPolicy;
use relance_data::insurers::InsurersError;

/// The policies in force: `None` when the data folder has no `insurers.csv`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Insurers(pub Option<Arc<Vec<InsurerPolicy>>>);

impl Insurers {
    /// `customer` as the transition sees it: with the file's deadlines on its cover (an
    /// insurer the file does not list gets none, as in `relance plan`); as stored without the
    /// file.
    pub fn apply(&self, customer: &mut Customer) {
        if let Some(policies) = &self.0
            && customer.credit_cover.is_some()
        {
            relance_data::insurers::attach(std::slice::from_mut(customer), policies);
        }
    }
}

/// The policies of the data folder `dir`. An invalid file is an error naming it and its
/// line: it stops the start-up, or refuses the deployment.
pub fn load(dir: &Path) -> Result<Insurers, InsurersError> {
    Ok(Insurers(
        relance_data::insurers::load_file(dir)?.map(Arc::new),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::TempDir;

    #[test]
    fn a_data_folder_without_insurers_keeps_the_stored_deadlines() {
        let dir = TempDir::new("insurers-none");
        assert_eq!(load(&dir.0).expect("loads"), Insurers(None));
    }

    #[test]
    fn an_invalid_insurers_file_is_an_error_naming_it_and_its_line() {
        let dir = TempDir::new("insurers-invalid");
        std::fs::write(
            dir.0.join("insurers.csv"),
            "insurer,max_extension_days,threatened_risk,claim\nacme,sixty,60 days,6 months\n",
        )
        .expect("write");
        let err = load(&dir.0).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.to_string().contains("insurers.csv:2: "), "{err}");
    }
}
