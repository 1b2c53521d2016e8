//! What the facts waiting for a day's run (`pending`, dated up to the day) will add to their
//! customers' payment behaviour, read before the run's first pass opens the day's cases, so
//! that the policy assigning them sees every settlement and dispute dated up to the day, as
//! the planner's payment log does (`relance_sim::simulator::payment_logs`, read as of the day
//! inclusive): a settlement imported with the day's invoices, dated before the day or on it,
//! counts in their `customer.avg_days_late`, `paid_on_time_pct`, `payment_trend`…
//!
//! This module owns that forecast only: a fold, per invoice, over its pending facts in the
//! order the run applies them (the canonical order of a day's facts,
//! `relance_core::fact_order`), from what its case owes now (what the invoice owed on entry
//! when it has no case yet). It counts a settlement where a payment or a credit note brings
//! what is owed from above zero to zero or below, not while written off, on the day the run
//! applies it (no earlier than the issue), and a dispute where one opens: what
//! `driver::behaviour_change` adds when the facts are applied. It must not write anything; its
//! logs serve the first pass only (the second pass applies the facts, which put the real
//! entries in the ledgers), so nothing is counted twice.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use relance_core::domain::{Event, EventKind};
use relance_core::runtime::PaymentLog;
use relance_core::runtime::behaviour::days_late;

use super::driver::Work;
use super::engine::Engine;
use super::error::DaemonError;
use super::keys;
use super::store::Tree;

/// Per customer: the settlements and disputes the pending facts of a day will add.
pub type Foreseen = Arc<HashMap<String, PaymentLog>>;

/// One invoice's standing while its pending facts are folded.
struct Owed {
    customer: String,
    issued: NaiveDate,
    due: NaiveDate,
    owed: Decimal,
    written_off: bool,
    /// False for a case opened without a scenario: facts do not move it (`Work::step`).
    moves: bool,
}

impl Engine {
    /// The settlements and disputes the facts pending for `day`'s run (dated up to it) will
    /// add to each customer's payment behaviour once applied. Reads `pending` in batches
    /// of [`Engine::batch`] facts (one read-only unit each, under the writer lock).
    pub(crate) fn foresee(&self, day: NaiveDate) -> Result<Foreseen, DaemonError> {
        let end = day.succ_opt().map(keys::date);
        let end = end.as_ref().map(|e| &e[..]);
        let mut state: HashMap<String, Owed> = HashMap::new();
        let mut logs: HashMap<String, PaymentLog> = HashMap::new();
        let mut from: Vec<u8> = Vec::new();
        loop {
            let due = self
                .store()
                .range(Tree::Pending, &from, end, self.batch.max(1))?;
            let Some((last, _)) = due.last() else {
                break;
            };
            from = last.clone();
            from.push(0);
            let guard = self.lock();
            self.work_locked(&guard, |w| {
                let ids: Vec<u64> = due
                    .iter()
                    .filter_map(|(k, _)| keys::trailing_id(k))
                    .collect();
                w.prefetch_events(&ids)?;
                for id in ids {
                    let Some(stored) = w.stored_event(id)? else {
                        continue;
                    };
                    fold(w, &mut state, &mut logs, &stored.event)?;
                }
                Ok(())
            })?;
        }
        Ok(Arc::new(logs))
    }
}

/// Adds what one pending fact will add to its customer's behaviour (see the module's doc).
fn fold(
    w: &mut Work<'_>,
    state: &mut HashMap<String, Owed>,
    logs: &mut HashMap<String, PaymentLog>,
    ev: &Event,
) -> Result<(), DaemonError> {
    let Some(id) = ev.kind.invoice() else {
        return Ok(());
    };
    if !state.contains_key(id) {
        let Some(inv) = w.invoice(id)?.cloned() else {
            return Ok(());
        };
        let case = w.case(id)?;
        let owed = Owed {
            customer: inv.customer.clone(),
            issued: inv.issued,
            due: inv.due,
            owed: case.map_or(inv.opening_outstanding(), |c| c.outstanding),
            written_off: case.is_some_and(|c| c.status.is_written_off()),
            moves: case.is_none_or(|c| !c.scenario.is_empty()),
        };
        state.insert(id.to_string(), owed);
    }
    let Some(s) = state.get_mut(id).filter(|s| s.moves) else {
        return Ok(());
    };
    let on = ev.date.max(s.issued);
    match &ev.kind {
        EventKind::Payment { amount, .. } | EventKind::CreditNote { amount, .. } => {
            let before = s.owed;
            s.owed -= *amount;
            if before > Decimal::ZERO && s.owed <= Decimal::ZERO && !s.written_off {
                logs.entry(s.customer.clone())
                    .or_default()
                    .settle(on, days_late(s.due, on));
            }
        }
        EventKind::PaymentReversed { amount, .. } => s.owed += *amount,
        EventKind::WriteOff { .. } => s.written_off = true,
        EventKind::WriteOffReversed { .. } => s.written_off = false,
        EventKind::DisputeOpened { .. } => logs.entry(s.customer.clone()).or_default().dispute(on),
        _ => {}
    }
    Ok(())
}
