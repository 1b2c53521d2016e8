//! The pure transition function: `(state, input, today, facts) -> (state', outcome)`.
//!
//! Everything the engine decides happens here, for one invoice at a time: which steps fire
//! (catch-up included), what guards and handlers do, how payments, disputes and promises
//! move the case, what each action costs. The function reads only its arguments (the clock
//! is `today`, injected) and returns the actions to perform and the transitions to record;
//! it performs no effect. The simulator, the planner, the test runner and the daemon all
//! drive this same function. It must never panic: a failing condition puts the case in a
//! visible error state.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use relance_dsl::ir::{self, Action, EventName, Stmt};

use super::charges;
use super::context::{CustomerTotals, Facts};
use super::eval::{Env, EvalError, shift};
use super::fees;
use super::repeat;
use super::standing;
use super::state::{Allocation, CloseReason, Dispute, Instance, Promise, Status};
use crate::domain::EventKind;

mod changes;
mod insolvency;
mod installments;
mod insurer;
mod reversal;

/// What happens to the case today.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// The day's scheduled work: promise deadlines, waits ending, steps falling due.
    Tick,
    /// Something happened (applied before the day's tick).
    Event(&'a EventKind),
}

/// An action the engine decided, with where it comes from and its idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Planned {
    pub date: NaiveDate,
    pub invoice: String,
    pub customer: String,
    pub scenario: String,
    pub version: String,
    /// The step's name, or `on EVENT` for a handler.
    pub step: String,
    /// The step's index in its scenario (handlers sort after steps).
    pub step_order: usize,
    pub action: Action,
    /// A late-interest charge past the end of the rate table: the half-year assumed and the
    /// one whose rate was used (`relance_core::interest`'s rule). `None` for every other
    /// action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_assumed: Option<crate::interest::AssumedRate>,
    /// For an invoice with installments: each of them on the action's day, as the case stands
    /// after the transition (date, amount, unpaid part, days late, overdue), what the plan's
    /// timeline shows and the daemon's message item keeps (`installments::standing`). Empty
    /// for an invoice with one due date.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub installments: Vec<super::installments::Standing>,
    /// Deterministic: invoice, scenario version, step, occurrence, action index.
    pub key: String,
    /// Order of decision within one transition (actions and records share it).
    #[serde(skip)]
    pub seq: u32,
    /// Order of decision within a run (set by the driver; a shard's run numbers its own).
    #[serde(skip)]
    pub order: u64,
}

/// A recorded transition of the case, with its cause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub date: NaiveDate,
    pub invoice: String,
    pub customer: String,
    pub step: Option<String>,
    pub from: &'static str,
    pub to: &'static str,
    pub cause: String,
    /// The step's index in its scenario when the record concerns a step.
    #[serde(skip)]
    pub step_order: Option<usize>,
    /// Order of decision within one transition (actions and records share it).
    #[serde(skip)]
    pub seq: u32,
    /// Order of decision within a run (set by the driver; a shard's run numbers its own).
    #[serde(skip)]
    pub order: u64,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    pub actions: Vec<Planned>,
    pub records: Vec<Record>,
    /// How many decisions (actions and state changes, recorded or not) were numbered by
    /// `seq`: a driver numbering a whole run advances by this much.
    pub decisions: u32,
}

/// Whether a transition records its state changes with their causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recording {
    /// Every state change is a [`Record`] (the daemon's history, timelines, reports).
    Causes,
    /// Actions only: `Outcome::records` stays empty (a planner that prints only actions).
    /// The actions, their order numbers and the new state are the same as with `Causes`.
    Off,
}

/// The transition function. See the module documentation.
pub fn transition(
    state: Instance,
    input: Input<'_>,
    today: NaiveDate,
    facts: &Facts<'_>,
) -> (Instance, Outcome) {
    transition_with(state, input, today, facts, Recording::Causes)
}

/// [`transition`], choosing whether state changes are recorded.
pub fn transition_with(
    state: Instance,
    input: Input<'_>,
    today: NaiveDate,
    facts: &Facts<'_>,
    recording: Recording,
) -> (Instance, Outcome) {
    let counted = contribution(&state);
    let counted_overdue = super::account::overdue_amount(facts.invoice, &state, today);
    let mut m = Machine {
        inst: state,
        facts,
        today,
        out: Outcome::default(),
        recording,
        seq: 0,
        counted,
        counted_overdue,
        settling: false,
        event: match input {
            Input::Event(e) => Some(e.clone()),
            Input::Tick => None,
        },
    };
    match input {
        Input::Tick => m.tick(),
        Input::Event(e) => m.event(e),
    }
    m.next_installment();
    if !facts.invoice.installments.is_empty() {
        for p in &mut m.out.actions {
            p.installments =
                super::installments::standing(facts.invoice, m.inst.outstanding, p.date);
        }
    }
    m.out.decisions = m.seq;
    (m.inst, m.out)
}

/// The next day this case needs a tick, if any.
pub fn next_wakeup(inst: &Instance, facts: &Facts<'_>) -> Option<NaiveDate> {
    let promise = promise_decision_day(inst, facts);
    let own = match &inst.status {
        Status::Active => (inst.next_step < facts.scenario.steps.len()).then(|| {
            // A gradual catch-up may hold a due step a few days.
            let date = step_date(inst, facts, inst.next_step);
            let own = inst.catch_up_next.map_or(date, |d| d.max(date));
            // A repetition yields to the next step: wake up for it too.
            match repeat::of_step(inst, inst.next_step) {
                Some(_) if inst.next_step + 1 < facts.scenario.steps.len() => {
                    own.min(step_date(inst, facts, inst.next_step + 1))
                }
                _ => own,
            }
        }),
        Status::Waiting { until, .. } => Some(*until),
        _ => None,
    };
    let insurer = insurer::next_task_day(inst, facts);
    [promise, own, insurer].into_iter().flatten().min()
}

/// The date step `i` falls due: its anchor's date (the actual processing date of an earlier
/// step, else that step's own scheduled date) moved by its offset.
fn step_date(inst: &Instance, facts: &Facts<'_>, i: usize) -> NaiveDate {
    let step = &facts.scenario.steps[i];
    if let Some(next) = repeat::next_date(inst, step, i, facts.calendar()) {
        return next;
    }
    let inv = facts.invoice;
    let due = super::installments::due(inv, inst);
    let base = match step.anchor {
        ir::Anchor::Due => due,
        ir::Anchor::Issued => inv.issued,
        ir::Anchor::Step(j) if j < i => {
            inst.done_on[j].unwrap_or_else(|| step_date(inst, facts, j))
        }
        ir::Anchor::Step(_) => due,
    };
    repeat::place(
        shift(base, step.offset, facts.calendar()),
        step.day_of_month,
    )
}

/// The day a pending promise is judged: the promised date plus grace, or the end of a longer
/// wait (so `wait until promise.date + 2 days` judges it after those two days). A dispute (or
/// a `pause`) holds everything, the promise's judgement included.
fn promise_decision_day(inst: &Instance, facts: &Facts<'_>) -> Option<NaiveDate> {
    let p = inst.promise.as_ref()?;
    if matches!(inst.status, Status::Paused { .. }) {
        return None;
    }
    let grace = ir::Offset {
        days: i64::from(facts.scenario.promise_grace_days),
        business: false,
        months: i64::from(facts.scenario.promise_grace_months),
    };
    let deadline = shift(p.date, grace, facts.calendar());
    Some(match inst.status {
        Status::Waiting { until, .. } if until > deadline => until,
        _ => deadline,
    })
}

/// How a block of statements ended.
enum End {
    Normal,
    Skip,
    Goto(usize),
    Stop(Option<String>),
}

const MAX_GOTO_CHAIN: u32 = 16;

/// What a case adds to its customer's totals: its outstanding while it is open.
fn contribution(inst: &Instance) -> Option<Decimal> {
    inst.is_open().then_some(inst.outstanding)
}

struct Machine<'a, 'f> {
    inst: Instance,
    facts: &'a Facts<'f>,
    today: NaiveDate,
    out: Outcome,
    recording: Recording,
    /// Decisions so far (actions and records, recorded or not).
    seq: u32,
    /// What the case added to `facts.totals` as the driver computed them (the state it was
    /// given): conditions see the totals with the case's current contribution instead.
    counted: Option<Decimal>,
    /// The same for the overdue figures (`customer.overdue`, `account::is_overdue`).
    counted_overdue: Option<Decimal>,
    /// Set while `on paid`, `on write off` or a closing `on credit note` runs: the case is
    /// about to close and no longer counts in its customer's totals.
    settling: bool,
    /// The event being applied (`event.tag`, `event.reason` read it), none on a tick.
    event: Option<EventKind>,
}

/// Where a step or handler started, to undo it when it fails (a block is all or nothing).
struct Checkpoint {
    inst: Instance,
    actions: usize,
    records: usize,
}

impl<'f> Machine<'_, 'f> {
    /// The scenario, borrowed for `'f` (independently of `self`, so blocks can run while
    /// `self` changes).
    fn scenario(&self) -> &'f ir::Scenario {
        self.facts.scenario
    }

    fn next_seq(&mut self) -> u32 {
        self.seq += 1;
        self.seq - 1
    }

    fn env(&self) -> Env<'_, '_> {
        Env {
            inst: &self.inst,
            facts: self.facts,
            today: self.today,
            totals: self.totals(),
            event: self.event.as_ref(),
        }
    }

    /// The customer's totals as this case's conditions see them: the driver's (which count the
    /// case as it was given), with the case as it is now, so a handler sees its event (in
    /// `on paid` the invoice no longer counts).
    fn totals(&self) -> CustomerTotals {
        let mut t = self.facts.totals;
        if let Some(o) = self.counted {
            t.outstanding -= o;
            t.open_invoices -= 1;
        }
        if let Some(o) = contribution(&self.inst).filter(|_| !self.settling) {
            t.outstanding += o;
            t.open_invoices += 1;
        }
        if let Some(o) = self.counted_overdue {
            t.overdue -= o;
            t.overdue_count -= 1;
        }
        let overdue = super::account::overdue_amount(self.facts.invoice, &self.inst, self.today);
        if let Some(o) = overdue.filter(|_| !self.settling) {
            t.overdue += o;
            t.overdue_count += 1;
        }
        t
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            inst: self.inst.clone(),
            actions: self.out.actions.len(),
            records: self.out.records.len(),
        }
    }

    /// Undoes everything since `c` (state, actions, records); decision numbers stay used.
    fn rollback(&mut self, c: Checkpoint) {
        self.inst = c.inst;
        self.out.actions.truncate(c.actions);
        self.out.records.truncate(c.records);
    }

    fn steps(&self) -> &[ir::Step] {
        &self.facts.scenario.steps
    }

    fn record(&mut self, step: Option<&str>, from: &'static str, cause: impl Into<String>) {
        let seq = self.next_seq();
        if self.recording == Recording::Off {
            return;
        }
        let step_order = step.and_then(|s| self.facts.scenario.step_index(s));
        self.out.records.push(Record {
            step_order,
            seq,
            order: 0,
            date: self.today,
            invoice: self.inst.invoice.clone(),
            customer: self.inst.customer.clone(),
            step: step.map(String::from),
            from,
            to: self.inst.status.name(),
            cause: cause.into(),
        });
    }

    /// The status a re-opened case takes (a reversed payment or write-off, a procedure that
    /// ended): paused by an open dispute, waiting for a pending promise, else active.
    fn reopened_status(&self) -> Status {
        if self.inst.dispute.is_some() {
            return Status::Paused {
                since: self.today,
                reason: "dispute".into(),
            };
        }
        let mut probe = self.inst.clone();
        probe.status = Status::Active;
        match promise_decision_day(&probe, self.facts).filter(|d| *d > self.today) {
            Some(until) => Status::Waiting {
                until,
                reason: "promise".into(),
            },
            None => Status::Active,
        }
    }

    fn set_status(&mut self, status: Status, step: Option<&str>, cause: impl Into<String>) {
        let from = self.inst.status.name();
        self.inst.status = status;
        self.record(step, from, cause);
    }

    fn activate(&mut self, cause: &str) {
        if matches!(
            self.inst.status,
            Status::Paused { .. } | Status::Waiting { .. }
        ) {
            self.set_status(Status::Active, None, cause);
        }
    }

    /// Ends a pause: back to waiting for a pending promise if its deadline is still ahead,
    /// else active.
    fn release(&mut self, cause: &str) {
        if !matches!(self.inst.status, Status::Paused { .. }) {
            return;
        }
        self.inst.status = Status::Active; // so the promise's day is computed as when active
        let pending = self.promise_decision_day().filter(|d| *d > self.today);
        self.inst.status = Status::Paused {
            since: self.today,
            reason: String::new(),
        };
        match pending {
            Some(until) => self.set_status(
                Status::Waiting {
                    until,
                    reason: "promise".into(),
                },
                None,
                format!("{cause}; the promise holds until {until}"),
            ),
            None => self.set_status(Status::Active, None, cause),
        }
    }

    fn close(&mut self, reason: CloseReason, cause: impl Into<String>) {
        if self.inst.is_open() {
            self.set_status(
                Status::Closed {
                    on: self.today,
                    reason,
                },
                None,
                cause,
            );
        }
    }

    fn fail(&mut self, step: Option<&str>, e: EvalError) {
        // The record's cause is the bare message: `to` already says `error`.
        self.set_status(
            Status::Error {
                on: self.today,
                message: e.0.clone(),
            },
            step,
            e.0,
        );
    }

    // ----- the schedule -----------------------------------------------------------------------

    fn step_date(&self, i: usize) -> NaiveDate {
        step_date(&self.inst, self.facts, i)
    }

    /// The latest date among the steps due today from `next_step` on, in order.
    fn latest_due(&self) -> Option<NaiveDate> {
        (self.inst.next_step..self.steps().len())
            .filter(|&i| !super::installments::kept(&self.inst, self.steps(), i))
            .map(|i| self.step_date(i))
            .take_while(|d| *d <= self.today)
            .max()
    }

    fn tick(&mut self) {
        self.sync_insolvency(self.facts.customer.insolvency);
        self.insurer_tasks();
        if !matches!(
            self.inst.status,
            Status::Active | Status::Paused { .. } | Status::Waiting { .. }
        ) {
            return;
        }
        if self.promise_decision_day().is_some_and(|d| d <= self.today) {
            self.promise_broken();
        }
        if let Status::Waiting { until, .. } = self.inst.status
            && until <= self.today
        {
            self.set_status(Status::Active, None, format!("waited until {until}"));
        }
        self.run_due_steps();
    }

    /// Fires the steps due today: with several due at once, only those of the latest date,
    /// plus every `required` one, in order (catch-up); under `catch up gradually`, the first
    /// due step and then one per interval.
    fn run_due_steps(&mut self) {
        if let ir::CatchUp::Gradual { every } = standing::mode(self.scenario(), self.facts.invoice)
        {
            return self.run_due_gradually(every);
        }
        let guard = self.steps().len() * 4 + 8;
        for _ in 0..guard {
            if self.inst.status != Status::Active || self.inst.next_step >= self.steps().len() {
                return;
            }
            let i = self.inst.next_step;
            if super::installments::kept(&self.inst, self.steps(), i) {
                // Done before the chase moved to this installment, dated from the issue date.
                self.inst.next_step = i + 1;
                continue;
            }
            match self.try_end_repetition(i) {
                None => return,
                Some(true) => continue,
                Some(false) => {}
            }
            let date = self.step_date(i);
            let Some(latest) = self.latest_due() else {
                return;
            };
            let required = self.steps()[i].required;
            if date == latest || required {
                let cause = match (date < latest, date < self.today) {
                    (true, _) => format!("catch-up: required step due {date}"),
                    (false, true) => format!("catch-up: due {date}"),
                    (false, false) => "scheduled".to_string(),
                };
                let cause = repeat::cause(&self.inst, &self.steps()[i], i).unwrap_or(cause);
                self.fire_step(i, 0, cause);
            } else {
                let name = self.steps()[i].name.clone();
                self.inst.next_step = i + 1;
                self.inst.repeating = None;
                self.record(
                    Some(&name),
                    "active",
                    format!("skipped by catch-up: due {date}, a later step is due too"),
                );
            }
        }
    }

    /// [`Self::repetition_ends`], with a failing `until` putting the case in error (`None`).
    fn try_end_repetition(&mut self, i: usize) -> Option<bool> {
        match self.repetition_ends(i) {
            Ok(ended) => Some(ended),
            Err(e) => {
                let name = self.steps()[i].name.clone();
                self.fail(Some(&name), e);
                None
            }
        }
    }

    /// Ends the repetition of step `i` when the next step is due or its `until` holds (on
    /// the repetition's date), moving on to the next step. `Ok(true)`: it ended.
    fn repetition_ends(&mut self, i: usize) -> Result<bool, EvalError> {
        let Some(rep) = repeat::of_step(&self.inst, i) else {
            return Ok(false);
        };
        let step = &self.scenario().steps[i];
        let name = step.name.clone();
        let next = (i + 1 < self.steps().len())
            .then(|| (self.steps()[i + 1].name.clone(), self.step_date(i + 1)))
            .filter(|(_, d)| *d <= self.today);
        let why = if let Some((next, _)) = next {
            format!("repetition ends: step `{next}` is due")
        } else if self.step_date(i) > self.today {
            return Ok(false);
        } else if let Some(until) = step.repeat.as_ref().and_then(|r| r.until.as_ref()) {
            if !self.env().condition(until)? {
                return Ok(false);
            }
            format!("repetition ends after {} firings: `until` holds", rep.fired)
        } else {
            return Ok(false);
        };
        self.inst.repeating = None;
        self.inst.next_step = i + 1;
        self.record(Some(&name), "active", why);
        Ok(true)
    }

    /// `catch up gradually every EVERY`: the due steps fire in order, every one of them, but
    /// after a late step fired, the next one waits `every` if it is already due (a step
    /// skipped by `skip when` costs no interval).
    fn run_due_gradually(&mut self, every: ir::Offset) {
        let guard = self.steps().len() * 4 + 8;
        for _ in 0..guard {
            if self.inst.status != Status::Active
                || self.inst.next_step >= self.steps().len()
                || standing::held(&self.inst, self.today)
            {
                return;
            }
            let i = self.inst.next_step;
            if super::installments::kept(&self.inst, self.steps(), i) {
                // Done before the chase moved to this installment, dated from the issue date.
                self.inst.next_step = i + 1;
                continue;
            }
            match self.try_end_repetition(i) {
                None => return,
                Some(true) => continue,
                Some(false) => {}
            }
            let date = self.step_date(i);
            if date > self.today {
                return;
            }
            let late = date < self.today;
            let fired: u32 = self.inst.fired_count.iter().sum();
            let cause = if late {
                format!("gradual catch-up: due {date}")
            } else {
                "scheduled".to_string()
            };
            let cause = repeat::cause(&self.inst, &self.steps()[i], i).unwrap_or(cause);
            self.fire_step(i, 0, cause);
            if late && self.inst.fired_count.iter().sum::<u32>() > fired {
                // A repeating step stays `next_step` while it repeats: the step that waits
                // is the one after it (the repetition yields to it when it is due).
                let waiting = if repeat::of_step(&self.inst, i).is_some() {
                    i + 1
                } else {
                    self.inst.next_step
                };
                let next = (waiting < self.steps().len()).then(|| self.step_date(waiting));
                self.inst.catch_up_next =
                    standing::next_allowed(self.today, next, every, self.facts.calendar());
            }
        }
    }

    fn fire_step(&mut self, i: usize, depth: u32, cause: String) {
        let name = self.steps()[i].name.clone();
        if depth > MAX_GOTO_CHAIN {
            self.fail(
                Some(&name),
                EvalError(format!("more than {MAX_GOTO_CHAIN} gotos on one day")),
            );
            return;
        }
        // All or nothing: a step that fails leaves no action and the state it found, plus
        // the error.
        let before = self.checkpoint();
        match self.run_step(i, &name, cause) {
            Ok(end) => self.finish(end, &name, depth),
            Err(e) => {
                self.rollback(before);
                self.fail(Some(&name), e);
            }
        }
    }

    /// Runs step `i`'s body and emits its actions; what follows it (`goto`, `stop`) is the
    /// caller's.
    fn run_step(&mut self, i: usize, name: &str, cause: String) -> Result<End, EvalError> {
        let step = &self.scenario().steps[i];
        let body = &step.body;
        if repeat::of_step(&self.inst, i).is_none() {
            // Another step fires (`goto`): a repetition under way ends.
            self.inst.repeating = None;
        }
        let mut buffer = Vec::new();
        let end = self.exec(body, &mut buffer)?;
        self.inst.done_on[i] = Some(self.today);
        self.inst.next_step = i + 1;
        let fired = !matches!(end, End::Skip);
        repeat::after_run(
            &mut self.inst,
            step,
            i,
            self.today,
            fired,
            self.facts.calendar(),
        );
        if let End::Skip = end {
            self.record(Some(name), "active", "skipped: `skip when` holds");
            return Ok(End::Skip);
        }
        self.inst.fired_count[i] += 1;
        self.inst.counters.last_step = Some(name.to_string());
        self.record(Some(name), "active", format!("step fired ({cause})"));
        let occurrence = self.inst.fired_count[i];
        self.emit(buffer, name, i, occurrence)?;
        Ok(end)
    }

    /// What follows a block: a `goto` fires its target today, a `stop` closes the case.
    fn finish(&mut self, end: End, from: &str, depth: u32) {
        match end {
            End::Goto(j) => {
                self.activate("goto");
                self.fire_step(j, depth + 1, format!("goto from {from}"));
            }
            End::Stop(reason) => self.close(
                CloseReason::Stopped,
                reason.unwrap_or_else(|| format!("stop in {from}")),
            ),
            End::Normal | End::Skip => {}
        }
    }

    fn exec(&mut self, stmts: &[Stmt], buffer: &mut Vec<Action>) -> Result<End, EvalError> {
        for s in stmts {
            match s {
                Stmt::SkipWhen(c) => {
                    if self.env().condition(c)? {
                        return Ok(End::Skip);
                    }
                }
                Stmt::StopWhen(c) => {
                    if self.env().condition(c)? {
                        return Ok(End::Stop(Some("`stop when` holds".into())));
                    }
                }
                Stmt::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    let branch = if self.env().condition(cond)? {
                        then
                    } else {
                        otherwise
                    };
                    match self.exec(branch, buffer)? {
                        End::Normal => {}
                        end => return Ok(end),
                    }
                }
                Stmt::Goto(j) => return Ok(End::Goto(*j)),
                Stmt::Stop(reason) => return Ok(End::Stop(reason.clone())),
                Stmt::Pause => {
                    let status = Status::Paused {
                        since: self.today,
                        reason: "pause".into(),
                    };
                    self.set_status(status, None, "pause");
                }
                Stmt::Resume(None) => {
                    if matches!(self.inst.status, Status::Paused { .. }) {
                        self.release("resume");
                    } else {
                        self.activate("resume");
                    }
                }
                Stmt::Resume(Some(after)) => {
                    let until = shift(self.today, *after, self.facts.calendar());
                    self.set_status(
                        Status::Waiting {
                            until,
                            reason: "resume after".into(),
                        },
                        None,
                        format!("resume on {until}"),
                    );
                }
                Stmt::WaitUntil(e) => {
                    if let Some(until) = self.env().date(e)? {
                        self.set_status(
                            Status::Waiting {
                                until,
                                reason: "wait until".into(),
                            },
                            None,
                            format!("wait until {until}"),
                        );
                    }
                }
                Stmt::Action(a) => buffer.push(a.clone()),
            }
        }
        Ok(End::Normal)
    }

    /// Turns decided actions into planned ones: computes charges, counts messages and calls.
    /// A charge that cannot be computed is an error (the caller undoes the whole block).
    fn emit(
        &mut self,
        actions: Vec<Action>,
        step: &str,
        order: usize,
        occurrence: u32,
    ) -> Result<(), EvalError> {
        for (k, action) in actions.into_iter().enumerate() {
            let mut rate_assumed = None;
            // Charges never apply to an invoice that is not late (fees.rs); late interest
            // still does once the principal is paid (`on paid`: interest up to the payment).
            if let Action::Charge { charge, .. } = &action
                && let Some(why) = fees::not_late(&self.inst, self.facts, self.today)
                && !charges::interest_after_payment(charge, self.facts, self.today)
            {
                self.record(Some(step), self.inst.status.name(), why);
                continue;
            }
            let action = match action {
                fixed @ Action::Charge {
                    charge: ir::ChargeKind::Fixed { .. },
                    ..
                } => fixed,
                Action::Charge {
                    charge: ir::ChargeKind::Indemnity,
                    ..
                } if self.inst.charged.indemnity => {
                    self.record(
                        Some(step),
                        self.inst.status.name(),
                        "indemnity already charged for this invoice",
                    );
                    continue;
                }
                Action::Charge { charge, .. } => {
                    match charges::amount(&charge, &self.inst, self.facts, self.today) {
                        Ok(Some(charges::Computed { money: m, assumed })) => {
                            rate_assumed = assumed;
                            match charge {
                                ir::ChargeKind::Indemnity => self.inst.charged.indemnity = true,
                                ir::ChargeKind::LateInterest => {
                                    let basis = charges::interest_basis(
                                        &self.inst, self.facts, self.today, assumed,
                                    );
                                    self.record(
                                        Some(step),
                                        self.inst.status.name(),
                                        format!(
                                            "late interest {} {}: {basis}",
                                            m.amount, m.currency
                                        ),
                                    );
                                    self.inst.charged.interest_until = Some(self.today)
                                }
                                ir::ChargeKind::Fixed { .. } | ir::ChargeKind::Percent { .. } => {}
                            }
                            Action::Charge {
                                charge,
                                amount: Some(m),
                            }
                        }
                        Ok(None) => {
                            self.record(
                                Some(step),
                                self.inst.status.name(),
                                charges::why_not(&charge),
                            );
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
                other => other,
            };
            // What is charged in the invoice's currency is owed with it (`invoice.charges`).
            if let Action::Charge {
                amount: Some(m), ..
            } = &action
                && m.currency == self.facts.invoice.currency
            {
                self.inst.charged.owed += m.amount;
            }
            match &action {
                Action::Email { .. } | Action::Sms { .. } | Action::Letter { .. } => {
                    self.inst.counters.messages += 1
                }
                Action::Call { .. } => self.inst.counters.calls += 1,
                Action::Escalate { target } => {
                    let to = match target {
                        ir::Escalation::Agency(a) => {
                            format!("agency {}", a.as_deref().unwrap_or("default"))
                        }
                        ir::Escalation::Litigation => "litigation".into(),
                    };
                    self.inst.escalated = Some((self.today, to));
                }
                _ => {}
            }
            let key = format!(
                "{}/{}/{}/{}/{}",
                self.inst.invoice, self.inst.version, step, occurrence, k
            );
            self.plan_with(step, order, action, key, rate_assumed);
        }
        Ok(())
    }

    /// Queues `action` for today, decided by `step` (at `step_order` in its scenario; a
    /// built-in task takes the place after the last step), under the idempotency `key`.
    fn plan(&mut self, step: &str, step_order: usize, action: Action, key: String) {
        self.plan_with(step, step_order, action, key, None)
    }

    /// [`Self::plan`] for a charge that may carry an assumed rate.
    fn plan_with(
        &mut self,
        step: &str,
        step_order: usize,
        action: Action,
        key: String,
        rate_assumed: Option<crate::interest::AssumedRate>,
    ) {
        let seq = self.next_seq();
        self.out.actions.push(Planned {
            seq,
            order: 0,
            date: self.today,
            invoice: self.inst.invoice.clone(),
            customer: self.inst.customer.clone(),
            scenario: self.inst.scenario.clone(),
            version: self.inst.version.clone(),
            step: step.to_string(),
            step_order,
            action,
            rate_assumed,
            installments: Vec::new(),
            key,
        });
    }

    // ----- events -----------------------------------------------------------------------------

    /// Runs the scenario's handler for `ev`; without one, runs `default`. Returns whether a
    /// handler ran.
    fn handle(&mut self, ev: EventName, default: impl FnOnce(&mut Self)) {
        let Some(body) = self.scenario().handlers.get(&ev) else {
            return default(self);
        };
        let label = format!("on {}", ev.words());
        // All or nothing, as a step (see `fire_step`).
        let before = self.checkpoint();
        let runs = self
            .inst
            .handler_runs
            .entry(ev.words().to_string())
            .or_insert(0);
        *runs += 1;
        let occurrence = *runs;
        let mut buffer = Vec::new();
        let ran = self.exec(body, &mut buffer).and_then(|end| {
            self.emit(buffer, &label, self.steps().len(), occurrence)
                .map(|()| end)
        });
        match ran {
            Ok(end) => self.finish(end, &label, 0),
            Err(e) => {
                self.rollback(before);
                self.fail(Some(&label), e);
            }
        }
    }

    /// [`Machine::handle`] for an event that closes the case (`paid`, `write off`, a credit note
    /// settling it): its handler sees the customer's totals without this invoice.
    fn handle_closing(&mut self, ev: EventName, default: impl FnOnce(&mut Self)) {
        self.settling = true;
        self.handle(ev, default);
        self.settling = false;
    }

    fn event(&mut self, ev: &EventKind) {
        let open = matches!(
            self.inst.status,
            Status::Active | Status::Paused { .. } | Status::Waiting { .. }
        );
        match ev {
            EventKind::Payment {
                amount, reference, ..
            } => {
                self.inst.last_failed_payment = None;
                self.money_in(*amount, Some(reference.as_deref()))
            }
            EventKind::WriteOffReversed { .. } => {
                self.change(ev);
            }
            EventKind::PaymentReversed {
                amount,
                reason,
                reference,
                payment_date,
                ..
            } => self.payment_reversed(*amount, *reason, reference.as_deref(), *payment_date),
            EventKind::CreditNote { amount, .. } => self.money_in(*amount, None),
            EventKind::InsolvencyOpened { .. }
            | EventKind::InsolvencyClosed { .. }
            | EventKind::DueDateExtended { .. } => self.insolvency_event(ev),
            EventKind::WriteOff { .. } if self.inst.is_open() => {
                if open {
                    self.handle_closing(EventName::WriteOff, |_| {});
                }
                self.close(CloseReason::WrittenOff, "written off");
            }
            _ if !open => {
                let status = self.inst.status.name();
                self.record(
                    None,
                    status,
                    format!("{} ignored: case {status}", ev.type_name()),
                );
            }
            EventKind::DisputeOpened {
                code,
                amount,
                target_date,
                ..
            } => {
                self.inst.dispute = Some(Dispute {
                    code: code.clone(),
                    amount: *amount,
                    opened: self.today,
                    target_date: *target_date,
                });
                self.inst.counters.disputes += 1;
                self.record(
                    None,
                    self.inst.status.name(),
                    format!("dispute opened: {code}"),
                );
                self.handle(EventName::DisputeOpened, |m| {
                    let status = Status::Paused {
                        since: m.today,
                        reason: format!("dispute {code}"),
                    };
                    m.set_status(status, None, "paused by the dispute");
                });
            }
            EventKind::DisputeResolved { .. } => {
                self.inst.dispute = None;
                self.record(None, self.inst.status.name(), "dispute resolved");
                self.handle(EventName::DisputeResolved, |m| {
                    m.release("dispute resolved")
                });
            }
            EventKind::PromiseMade {
                promised_date,
                amount,
                ..
            } => self.promise_made(*promised_date, *amount),
            EventKind::TaskOutcome {
                outcome,
                promised_date,
                ..
            } => {
                self.record(
                    None,
                    self.inst.status.name(),
                    format!("task outcome: {outcome}"),
                );
                self.handle(EventName::TaskOutcome, |_| {});
                if let Some(d) = promised_date {
                    self.promise_made(*d, None);
                }
            }
            EventKind::RiskChanged { risk_score, .. } => {
                self.record(
                    None,
                    self.inst.status.name(),
                    format!("risk score now {risk_score}"),
                );
                self.handle(EventName::RiskChanged, |_| {});
            }
            EventKind::ContactBounced { role, .. } => {
                self.record(
                    None,
                    self.inst.status.name(),
                    format!("contact {role} bounced"),
                );
                self.handle(EventName::ContactBounced, |_| {});
            }
            EventKind::WriteOff { .. } => {}
            _ => {
                self.change(ev);
            }
        }
    }

    /// A payment (or credit note) lowers the outstanding; at or under the tolerance the case
    /// closes. A pending promise may be kept on the way. `payment` is `Some(reference)` for a
    /// payment (its split is recorded for a reversal to take back), `None` for a credit note.
    fn money_in(&mut self, amount: Decimal, payment: Option<Option<&str>>) {
        let reference = payment.flatten();
        let payment = payment.is_some();
        // Balances are kept from the first day anything can be late (the first installment's).
        let due = crate::runtime::installments::interest_from(self.facts.invoice);
        if self.today > due && self.inst.balances.is_empty() {
            self.inst.balances.push((due, self.inst.outstanding));
        }
        // A payment goes to principal or charges as the scenario says; a credit note reduces
        // the invoice itself, never its charges.
        let (to_principal, to_charges) = if payment {
            fees::allocate(
                amount,
                self.inst.outstanding,
                self.inst.charged.owed,
                self.facts.scenario.fees.charges_first,
            )
        } else {
            (amount, Decimal::ZERO)
        };
        self.inst.outstanding -= to_principal;
        self.inst.charged.owed -= to_charges;
        self.inst.paid += amount;
        if payment {
            self.inst.allocations.push(Allocation {
                date: self.today,
                reference: reference.map(str::to_string),
                to_principal,
                to_charges,
            });
        }
        if self.today > due {
            self.inst.balances.push((self.today, self.inst.outstanding));
        }
        if payment {
            self.inst.last_payment = Some((self.today, amount));
        }
        let what = if payment { "payment" } else { "credit note" };
        let charges = if to_charges.is_zero() && self.inst.charged.owed.is_zero() {
            String::new()
        } else {
            format!(
                ", {to_charges} to charges, charges owed {}",
                self.inst.charged.owed
            )
        };
        self.record(
            None,
            self.inst.status.name(),
            format!(
                "{what} of {amount}, outstanding {}{charges}",
                self.inst.outstanding
            ),
        );
        if !self.inst.is_open() {
            return;
        }
        let settled = self.settled();
        let kept = self.inst.promise.as_ref().is_some_and(|p| {
            settled
                || p.amount
                    .is_some_and(|a| self.inst.paid - p.paid_at_promise >= a)
        });
        let live = matches!(
            self.inst.status,
            Status::Active | Status::Paused { .. } | Status::Waiting { .. }
        );
        if kept && live {
            self.inst.promise = None;
            self.record(None, self.inst.status.name(), "promise kept");
            self.handle(EventName::PromiseKept, |m| {
                if matches!(m.inst.status, Status::Waiting { .. }) {
                    m.activate("promise kept");
                }
            });
        }
        match (settled, payment) {
            (true, true) => {
                if live {
                    self.handle_closing(EventName::Paid, |_| {});
                }
                self.close(CloseReason::Paid, "paid");
            }
            (true, false) => {
                if live {
                    self.handle_closing(EventName::CreditNote, |_| {});
                }
                self.close(CloseReason::Credited, "credited");
            }
            (false, true) if live => self.handle(EventName::Payment, |_| {}),
            (false, false) if live => self.handle(EventName::CreditNote, |_| {}),
            _ => {}
        }
    }

    /// Whether the outstanding is at or under the scenario's tolerance.
    /// With `charges keep the case open`, the unpaid charges count too.
    fn settled(&self) -> bool {
        let owed = if self.facts.scenario.fees.keep_open {
            self.inst.charged.owed
        } else {
            Decimal::ZERO
        };
        super::assign::settled(
            self.facts.scenario,
            self.facts.invoice,
            self.inst.outstanding + owed,
        )
    }

    fn promise_made(&mut self, date: NaiveDate, amount: Option<Decimal>) {
        self.inst.promise = Some(Promise {
            date,
            amount,
            paid_at_promise: self.inst.paid,
        });
        self.inst.counters.promises_made += 1;
        self.record(
            None,
            self.inst.status.name(),
            format!("promise to pay by {date}"),
        );
        let grace = i64::from(self.facts.scenario.promise_grace_days);
        let grace_months = i64::from(self.facts.scenario.promise_grace_months);
        self.handle(EventName::PromiseMade, |m| {
            let until = shift(
                date,
                ir::Offset {
                    days: grace,
                    business: false,
                    months: grace_months,
                },
                m.facts.calendar(),
            );
            if until > m.today && !matches!(m.inst.status, Status::Paused { .. }) {
                m.set_status(
                    Status::Waiting {
                        until,
                        reason: "promise".into(),
                    },
                    None,
                    format!("waiting for the promise until {until}"),
                );
            }
        });
    }

    fn promise_decision_day(&self) -> Option<NaiveDate> {
        promise_decision_day(&self.inst, self.facts)
    }

    fn promise_broken(&mut self) {
        self.inst.promise = None;
        self.inst.counters.promises_broken += 1;
        self.record(None, self.inst.status.name(), "promise broken");
        self.handle(EventName::PromiseBroken, |m| {
            if matches!(m.inst.status, Status::Waiting { .. }) {
                m.activate("promise broken");
            }
        });
    }
}
