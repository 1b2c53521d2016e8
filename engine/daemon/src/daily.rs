//! The daily run: in batches, in three passes, as the simulator does a day. First every
//! invoice due but without a case is opened (policy assignment, which counts in the customer's
//! behaviour the settlements and disputes of the facts waiting for the run, dated up to the
//! day, as the planner's payment log does: `foresight.rs`); then the facts recorded
//! before the run (`pending`, dated up to the day) are applied in the canonical order of a
//! day's facts (`relance_core::fact_order`), those dated before the day as history; then
//! every due case is ticked. Each batch of
//! [`Engine::batch`] timers or facts is one unit of work committed in one atomic commit
//! (states, next timers, outbox messages, history, the `pending` entries consumed), then
//! flushed: a crash loses a whole batch or nothing of it, and the batch runs again from the
//! same state. The day is marked done (`run_through`) only after its last batch is durable.
//!
//! Once a day is marked done, its run deletes the idempotency keys stored before the day minus
//! the retention (`idempotency_retention_days`), by a scan of the whole `idempotency` tree in
//! batches (one commit each, under the writer lock).
//!
//! Missed days (the daemon was down, or the virtual clock jumped) are replayed one by one, in
//! order, so the result is the one an always-up daemon would have produced. This module owns
//! that loop; it must not deliver anything (the dispatcher waits for `run_through`).

use std::time::Instant;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::driver::WorkStats;
use super::engine::{Engine, RUN_THROUGH, VIRTUAL_TODAY};
use super::error::DaemonError;
use super::keys;
use super::metrics::Metrics;
use super::store::{Op, Tree};

/// Meta key: a virtual day whose run is held (4 date bytes), written with the clock's move by
/// [`Engine::advance_and_hold`]: while the clock stands on that day, a start-up does not run
/// it (the day's facts come first); the next advance or `POST /v1/run` does.
pub const VIRTUAL_HELD: &[u8] = b"virtual_held";

/// The part of a stored reply (`model::StoredReply`) the pruning reads: the day it was stored.
#[derive(Deserialize)]
struct Stored {
    date: NaiveDate,
}

/// What one day's run did.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct DayReport {
    pub day: Option<NaiveDate>,
    pub timers: u64,
    /// Facts recorded before the run and applied by it.
    pub facts: u64,
    pub transitions: u64,
    pub opened: u64,
    pub actions: u64,
    pub batches: u64,
    /// Idempotency keys deleted after the run, being older than the retention.
    pub idempotency_pruned: u64,
    pub millis: u64,
}

impl DayReport {
    fn add(&mut self, stats: WorkStats) {
        self.transitions += stats.transitions;
        self.opened += stats.opened;
        self.actions += stats.actions;
    }
}

impl Engine {
    /// Processes every timer due on or before `day`, then marks `day` done.
    pub fn run_day(&self, day: NaiveDate) -> Result<DayReport, DaemonError> {
        let started = Instant::now();
        // The day is marked done only if the store was not opened again while it ran: a
        // batch committed before a reopening may be lost, and then runs again.
        let since = self.generation();
        self.warn_missing_rates(day);
        let mut report = DayReport {
            day: Some(day),
            ..DayReport::default()
        };
        let end = day.succ_opt().map(keys::date);
        let end = end.as_ref().map(|e| &e[..]);
        // First pass: open every case due today (as the simulator opens every invoice
        // entering on a day before it applies the day's facts or ticks any case). The policy
        // sees the settlements and disputes of the facts waiting for the second pass, dated up
        // to today, as the planner's payment log does (`foresight.rs`): read once, before the
        // first opening.
        let mut from: Vec<u8> = Vec::new();
        let mut foreseen = None;
        loop {
            let due = self.store().range(Tree::Timers, &from, end, self.batch)?;
            let Some((last, _)) = due.last() else {
                break;
            };
            from = last.clone();
            from.push(0);
            let foreseen = match &foreseen {
                Some(f) => f,
                None => foreseen.insert(self.foresee(day)?),
            };
            {
                let guard = self.lock();
                let (_, stats) = self.work_locked(&guard, |w| {
                    w.hold_for_cadence();
                    w.foresee(foreseen);
                    w.prefetch(&timer_ids(&due))?;
                    for (k, _) in &due {
                        let Some((date, id)) = keys::parse_timer(k) else {
                            continue;
                        };
                        if w.wake(&id)? != Some(date)
                            || w.case(&id)?.is_some()
                            || w.invoice(&id)?.is_none()
                        {
                            continue;
                        }
                        w.open(&id, day)?;
                    }
                    Ok(())
                })?;
                report.add(stats);
            }
            self.flush()?;
            report.batches += 1;
        }
        // Second pass: the facts recorded before the run, dated up to today, in the canonical
        // order of a day's facts, as their keys sort (each moves its cases' timers to today).
        let mut from: Vec<u8> = Vec::new();
        loop {
            let due = self.store().range(Tree::Pending, &from, end, self.batch)?;
            let Some((last, _)) = due.last() else {
                break;
            };
            from = last.clone();
            from.push(0);
            {
                let guard = self.lock();
                let (applied, stats) = self.work_locked(&guard, |w| {
                    w.hold_for_cadence();
                    let ids: Vec<u64> = due
                        .iter()
                        .filter_map(|(k, _)| keys::trailing_id(k))
                        .collect();
                    w.prefetch_events(&ids)?;
                    let mut applied = 0u64;
                    for (k, _) in &due {
                        let Some(event) = keys::trailing_id(k) else {
                            w.push_op(Op::Delete(Tree::Pending, k.clone()));
                            continue;
                        };
                        applied += u64::from(w.apply_pending(k, event, day)?);
                    }
                    Ok(applied)
                })?;
                report.facts += applied;
                report.add(stats);
            }
            self.flush()?;
            report.batches += 1;
        }
        // Third pass: tick every due case (each tick moves or drops its timer).
        loop {
            let due = self.store().range(Tree::Timers, &[], end, self.batch)?;
            if due.is_empty() {
                break;
            }
            {
                let guard = self.lock();
                let (timers, stats) = self.work_locked(&guard, |w| {
                    w.hold_for_cadence();
                    // Timers read back (stale ones included); an unreadable key is dropped
                    // uncounted, as before the batches.
                    w.prefetch(&timer_ids(&due))?;
                    let mut timers = 0u64;
                    for (k, _) in &due {
                        let Some((date, id)) = keys::parse_timer(k) else {
                            w.push_op(Op::Delete(Tree::Timers, k.clone()));
                            continue;
                        };
                        timers += 1;
                        if w.wake(&id)? != Some(date) || w.case(&id)?.is_none() {
                            w.drop_timer(date, &id);
                            continue;
                        }
                        w.tick(&id, day)?;
                    }
                    Ok(timers)
                })?;
                report.timers += timers;
                report.add(stats);
            }
            self.flush()?;
            report.batches += 1;
        }
        // Account pass: every `per customer` account touched or woken today (see `account.rs`).
        {
            let guard = self.lock();
            let (passed, stats) = self.work_locked(&guard, |w| {
                w.hold_for_cadence();
                w.account_pass(day)
            })?;
            report.add(stats);
            if passed {
                self.flush()?;
                report.batches += 1;
            }
        }
        // Fourth pass: the messages subject to the contact cadence held by the passes above
        // and those whose gap ends today go through it, in one unit (see `cadence.rs`).
        {
            let guard = self.lock();
            let (passed, stats) = self.work_locked(&guard, |w| w.cadence_pass(day))?;
            report.add(stats);
            if passed {
                self.flush()?;
                report.batches += 1;
            }
        }
        {
            let _guard = self.lock();
            self.flush_since(since)?;
            self.store().commit(&[Op::Put(
                Tree::Meta,
                RUN_THROUGH.to_vec(),
                keys::date(day).to_vec(),
            )])?;
        }
        self.flush_since(since)?;
        // Once the day is done: the idempotency keys older than the retention.
        report.idempotency_pruned = self.prune_idempotency(day)?;
        Metrics::add(&self.metrics.daily_runs, 1);
        Metrics::add(&self.metrics.timers_processed, report.timers);
        report.millis = started.elapsed().as_millis() as u64;
        tracing::info!(%day, timers = report.timers, actions = report.actions, pruned = report.idempotency_pruned, ms = report.millis, "daily run");
        Ok(report)
    }

    /// Deletes the idempotency keys whose reply was stored before `day` − the retention
    /// ([`Engine::idempotency_retention_days`]): a key stored on day W replays through day
    /// W + N and is deleted by the run of day W + N + 1; a retry with it afterwards is applied
    /// as a new write. The `idempotency` tree is keyed by caller and key, not by date, so this
    /// reads the whole tree: [`Engine::batch`] entries at a time, each batch read and its
    /// expired keys deleted in one commit under the writer lock (released between batches),
    /// flushed when it deleted something. Returns how many keys it deleted.
    pub fn prune_idempotency(&self, day: NaiveDate) -> Result<u64, DaemonError> {
        let retention = Days::new(u64::from(self.idempotency_retention_days));
        // A retention reaching before the calendar's start: nothing is old enough.
        let Some(cutoff) = day.checked_sub_days(retention) else {
            return Ok(0);
        };
        let mut pruned = 0u64;
        let mut from: Vec<u8> = Vec::new();
        loop {
            let deleted = {
                let _guard = self.lock();
                let batch =
                    self.store()
                        .range(Tree::Idempotency, &from, None, self.batch.max(1))?;
                let Some((last, _)) = batch.last() else {
                    break;
                };
                from = last.clone();
                from.push(0);
                let expired: Vec<Op> = batch
                    .into_iter()
                    .filter(|(k, v)| match serde_json::from_slice::<Stored>(v) {
                        Ok(stored) => stored.date < cutoff,
                        // `verify` refuses such a store on open: left alone, never a failed run.
                        Err(e) => {
                            tracing::warn!(key = ?String::from_utf8_lossy(k), error = %e, "idempotency reply without a date: kept");
                            false
                        }
                    })
                    .map(|(k, _)| Op::Delete(Tree::Idempotency, k))
                    .collect();
                self.store().commit(&expired)?;
                expired.len() as u64
            };
            if deleted > 0 {
                self.flush()?;
                pruned += deleted;
            }
        }
        Ok(pruned)
    }

    /// Runs every day after the last completed one up to `through`, in order. A store that
    /// never ran starts with `through` itself.
    pub fn catch_up(&self, through: NaiveDate) -> Result<Vec<DayReport>, DaemonError> {
        let mut day = match self.run_through()? {
            Some(done) if done >= through => return Ok(Vec::new()),
            Some(done) => done.succ_opt().unwrap_or(through),
            None => through,
        };
        let mut out = Vec::new();
        while day <= through {
            out.push(self.run_day(day)?);
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        Ok(out)
    }

    /// An operator's run (`POST /v1/run`): every owed day up to today; when today is already
    /// done, today's run again, which opens the cases of the invoices imported since, applies
    /// the facts recorded since and ticks what they moved ("the day's imports are complete").
    pub fn run_now(&self) -> Result<Vec<DayReport>, DaemonError> {
        let today = self.today();
        let days = self.catch_up(today)?;
        if !days.is_empty() {
            return Ok(days);
        }
        Ok(vec![self.run_day(today)?])
    }

    /// The day the scheduler owes a run for: today once the run hour has passed (always, on
    /// the virtual clock), else yesterday.
    /// A virtual day held by [`Engine::advance_and_hold`] is not owed yet: yesterday.
    pub fn due_through(&self, run_hour: u32) -> NaiveDate {
        let today = self.today();
        let virtual_clock = self.clock().as_virtual().is_some();
        let held = virtual_clock
            && self
                .store()
                .get(Tree::Meta, VIRTUAL_HELD)
                .ok()
                .flatten()
                .and_then(|b| keys::parse_date(&b))
                == Some(today);
        if !held && (virtual_clock || self.clock().hour() >= run_hour) {
            today
        } else {
            today.pred_opt().unwrap_or(today)
        }
    }

    /// Moves the virtual clock to `to` as [`Engine::advance_to`] does, running every day
    /// before it, but holds the run of `to` itself: the writes that follow are that day's
    /// facts (they wait for its run), and a restart meanwhile does not run it either (the
    /// hold is committed with the clock's move). The next advance or `POST /v1/run` runs it.
    pub fn advance_and_hold(&self, to: NaiveDate) -> Result<Vec<DayReport>, DaemonError> {
        if self.clock().as_virtual().is_none() {
            return Err(DaemonError::Conflict("the clock is not virtual".into()));
        }
        let start = self.today();
        let mut out = Vec::new();
        while self.today() < to {
            let today = self.today();
            out.extend(self.catch_up(today)?);
            let Some(next) = today.succ_opt() else {
                break;
            };
            // The last move commits the hold with the clock (no second commit for it).
            self.set_virtual_day(next, next == to)?;
        }
        if start == to {
            self.set_virtual_day(to, true)?;
        }
        Ok(out)
    }

    /// Moves the virtual clock to `to` one day at a time, each day persisted before its run,
    /// so that a crash resumes exactly where it stopped.
    pub fn advance_to(&self, to: NaiveDate) -> Result<Vec<DayReport>, DaemonError> {
        if self.clock().as_virtual().is_none() {
            return Err(DaemonError::Conflict("the clock is not virtual".into()));
        }
        let mut out = self.catch_up(self.today())?;
        while self.today() < to {
            let Some(next) = self.today().succ_opt() else {
                break;
            };
            self.move_virtual_clock(next)?;
            out.extend(self.catch_up(next)?);
        }
        Ok(out)
    }

    /// Moves the virtual clock to `day` (persisted first, so a restart resumes on it) without
    /// running it: the writes that follow are the day's facts, which wait for its run.
    /// Going back in time is refused.
    pub fn move_virtual_clock(&self, day: NaiveDate) -> Result<(), DaemonError> {
        self.set_virtual_day(day, false)
    }

    /// [`Engine::move_virtual_clock`], with the day's run held when `hold` (one commit).
    fn set_virtual_day(&self, day: NaiveDate, hold: bool) -> Result<(), DaemonError> {
        let Some(clock) = self.clock().as_virtual() else {
            return Err(DaemonError::Conflict("the clock is not virtual".into()));
        };
        if day < self.today() {
            return Err(DaemonError::Conflict(format!(
                "the clock is on {}: it does not go back to {day}",
                self.today()
            )));
        }
        {
            let _guard = self.lock();
            let mut ops = vec![Op::Put(
                Tree::Meta,
                VIRTUAL_TODAY.to_vec(),
                keys::date(day).to_vec(),
            )];
            if hold {
                ops.push(Op::Put(
                    Tree::Meta,
                    VIRTUAL_HELD.to_vec(),
                    keys::date(day).to_vec(),
                ));
            }
            self.store().commit(&ops)?;
        }
        self.flush()?;
        clock.set(day);
        Ok(())
    }
}

/// The invoices of a batch of `timers` keys (an unreadable key names none).
fn timer_ids(due: &[crate::store::Entry]) -> Vec<String> {
    due.iter()
        .filter_map(|(k, _)| keys::parse_timer(k).map(|(_, id)| id))
        .collect()
}
