//! The virtual-clock driver: runs a whole portfolio through the transition function from a
//! start day to an end day.
//!
//! It jumps from one interesting day to the next (an invoice entering the engine, an event,
//! a case's wake-up), so its cost grows with the work to do, not with the number of days.
//! On each day: invoices issued that day open their case (events dated before a case opens
//! are applied to it first, their actions dropped, as are those of any event dated before the
//! run's first day), then the day's events are applied, then
//! every case touched or due that day gets its tick. Same inputs, same outputs: iteration
//! orders are fixed. It performs no effect; callers decide what to do with the actions.
//! When many invoices enter on one day (a portfolio's first day), their scenarios are chosen
//! ahead on several threads (`ahead`); the cases still open one by one, in the same order.
//! A portfolio can also be split by customer into shards that run apart (`shards`,
//! [`Simulator::shards`]): together they make the same run.

mod accounts;
mod ahead;
mod shards;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::replay::replay;
use relance_core::domain::{Customer, Event, EventKind, Invoice, Portfolio};
use relance_core::runtime::behaviour::{KnownBehaviour, Window, days_late};
use relance_core::runtime::{
    Choice, CustomerTotals, Facts, Input, Instance, Outcome, PaymentLog, Planned, Record,
    Recording, Shared, next_wakeup, open_case, open_chosen, transition_with,
};

/// Everything a run produced.
#[derive(Debug, Default)]
pub struct Run {
    pub actions: Vec<Planned>,
    pub records: Vec<Record>,
    /// The final state of every case opened, by invoice index (for a shard of
    /// [`Simulator::shards`]: by the position of the invoice among the shard's own, in
    /// portfolio order).
    pub cases: Vec<Option<Instance>>,
    /// How many transitions ran (for benchmarks).
    pub transitions: u64,
    /// How many scenarios were chosen ahead (`Simulator::look_ahead`), for tests and
    /// benchmarks.
    pub chosen_ahead: u64,
    /// The next decision number (orders actions and records across the run; a shard numbers
    /// its own).
    pub seq: u64,
}

/// The portfolio in the shape the driver needs.
pub struct Simulator<'a> {
    shared: Shared<'a>,
    customers: Vec<Customer>,
    /// The shard's invoices; a case's number is its invoice's position here.
    invoices: Vec<&'a Invoice>,
    invoice_customer: Vec<usize>,
    /// Each invoice's place in `running`: its customer's sums in its currency (`usize::MAX`
    /// for an unknown customer).
    invoice_slot: Vec<usize>,
    customer_invoices: Vec<Vec<usize>>,
    /// The shard's events by date, with whom each concerns (see `shards::route_events`).
    events: Vec<(&'a Event, shards::Target)>,
    /// Running totals per customer and currency over its opened cases (customer totals count
    /// the invoice's currency only), kept up to date after every transition so a step costs
    /// the same for a customer with 10 or 100,000 invoices.
    running: Vec<Running>,
    /// Promises judged broken so far over all of each customer's cases.
    broken: Vec<i64>,
    /// Each customer's settlements and disputes from the portfolio's events, queried as known
    /// on each day (`customer.avg_days_late` …).
    logs: Vec<PaymentLog>,
    /// The last day each customer's log was read, and what it knew then (the logs do not
    /// change during a run: one read per customer and day).
    windows: Vec<Option<(NaiveDate, Window)>>,
    /// Whether state changes are recorded in `Run::records` (on unless a caller turns it off).
    recording: Recording,
    /// From how many invoices entering on one day their scenarios are chosen ahead, on
    /// several threads (see `ahead`).
    look_ahead: usize,
    /// Account-level dunning: the accounts' states and wake-ups, and whether the overdue
    /// figures are computed (see `accounts`).
    accounts: accounts::Accounts,
}

/// A customer's running totals over its opened cases in one currency.
#[derive(Debug, Clone, Copy, Default)]
struct Running {
    outstanding: Decimal,
    open: i64,
    issued_sum: Decimal,
    issued: i64,
}

impl Running {
    /// The totals, without the behaviour (see `Simulator::totals`).
    fn totals(&self) -> CustomerTotals {
        let average_invoice = if self.issued > 0 {
            (self.issued_sum / Decimal::from(self.issued)).round_dp(2)
        } else {
            Decimal::ZERO
        };
        CustomerTotals {
            outstanding: self.outstanding,
            open_invoices: self.open,
            average_invoice,
            ..CustomerTotals::default()
        }
    }

    /// The totals with the behaviour known on the day (`window`) and the customer's promises
    /// broken.
    fn with_behaviour(&self, window: Window, promises_broken: i64) -> CustomerTotals {
        CustomerTotals {
            behaviour: KnownBehaviour {
                window,
                promises_broken,
            },
            ..self.totals()
        }
    }

    /// Replaces a case's contribution (`before` → `after`, each `Some(outstanding)` when open).
    fn update(&mut self, before: Option<Decimal>, after: Option<Decimal>) {
        if let Some(o) = before {
            self.outstanding -= o;
            self.open -= 1;
        }
        if let Some(o) = after {
            self.outstanding += o;
            self.open += 1;
        }
    }
}

fn contribution(case: &Instance) -> Option<Decimal> {
    case.is_open().then_some(case.outstanding)
}

impl<'a> Simulator<'a> {
    /// Indexes a validated portfolio (`portfolio::validate`): unknown references are skipped.
    /// Cases are numbered by the invoices' positions in the portfolio.
    pub fn new(shared: Shared<'a>, portfolio: &'a Portfolio) -> Simulator<'a> {
        let mut whole = Simulator::shards(shared, portfolio, 1);
        whole.swap_remove(0)
    }

    /// The portfolio split by customer into `k` simulators that run independently (on as
    /// many threads) and give, together, the run of [`Simulator::new`]: customers share
    /// nothing during a run. Shard `s` holds the customers whose ids come in the `s`-th range
    /// in byte order, with about as many invoices in each range, so on any day all of shard
    /// `s`'s timeline entries sort before shard `s + 1`'s. Each shard numbers its cases (its
    /// `Run::cases`) by its own invoices, in portfolio order; its decision numbers order its
    /// own customers' actions only. The portfolio is a validated one, as for `new`.
    pub fn shards(shared: Shared<'a>, portfolio: &'a Portfolio, k: usize) -> Vec<Simulator<'a>> {
        let parts = shards::split(portfolio, k.max(1));
        // The payment logs replay every event, each shard hashes its invoices, the events
        // are sorted and routed to their shards: one thread each.
        let (logs, mut sims, events) = std::thread::scope(|scope| {
            let parts = &parts;
            let logs = scope.spawn(|| {
                payment_logs(
                    portfolio,
                    &parts.invoice_customer,
                    portfolio.customers.len(),
                )
            });
            let events = scope.spawn(|| shards::route_events(portfolio, parts));
            let sims: Vec<_> = parts
                .shards
                .iter()
                .map(|part| scope.spawn(move || Simulator::of_part(shared, portfolio, part, parts)))
                .collect();
            let sims: Vec<Simulator<'a>> = sims.into_iter().map(joined).collect();
            (joined(logs), sims, joined(events))
        });
        let mut logs = logs;
        for ((sim, part), events) in sims.iter_mut().zip(&parts.shards).zip(events) {
            sim.logs = part
                .customers
                .iter()
                .map(|&c| std::mem::take(&mut logs[c]))
                .collect();
            sim.events = events;
        }
        sims
    }

    /// One shard's simulator: its customers and invoices, indexed by their positions within
    /// it; the caller adds its payment logs and events.
    fn of_part(
        shared: Shared<'a>,
        portfolio: &'a Portfolio,
        part: &shards::Part,
        parts: &shards::Parts<'_>,
    ) -> Simulator<'a> {
        let customers: Vec<Customer> = part
            .customers
            .iter()
            .map(|&c| portfolio.customers[c].clone())
            .collect();
        let mut customer_invoices = vec![Vec::new(); customers.len()];
        let mut invoice_customer = Vec::with_capacity(part.invoices.len());
        let mut invoice_slot = Vec::with_capacity(part.invoices.len());
        let mut slots: std::collections::HashMap<(usize, &str), usize> =
            std::collections::HashMap::new();
        let mut invoices = Vec::with_capacity(part.invoices.len());
        for (local, &i) in part.invoices.iter().enumerate() {
            let inv = &portfolio.invoices[i];
            let c = parts.local_customer(parts.invoice_customer[i]);
            invoice_customer.push(c);
            invoice_slot.push(if c < customers.len() {
                let next = slots.len();
                *slots.entry((c, inv.currency.as_str())).or_insert(next)
            } else {
                usize::MAX
            });
            if let Some(list) = customer_invoices.get_mut(c) {
                list.push(local);
            }
            invoices.push(inv);
        }
        let customer_count = customers.len();
        Simulator {
            shared,
            customers,
            invoices,
            invoice_customer,
            invoice_slot,
            customer_invoices,
            running: vec![Running::default(); slots.len()],
            broken: vec![0; customer_count],
            logs: Vec::new(),
            windows: vec![None; customer_count],
            events: Vec::new(),
            recording: Recording::Causes,
            look_ahead: ahead::default_min_batch(),
            accounts: accounts::Accounts {
                reads_overdue: relance_core::runtime::account::reads_overdue(shared.set),
                ..Default::default()
            },
        }
    }

    /// Chooses whether state changes are recorded; with [`Recording::Off`] `Run::records`
    /// stays empty and the actions are the same (a planner that prints only actions).
    pub fn recording(mut self, recording: Recording) -> Simulator<'a> {
        self.recording = recording;
        self
    }

    /// Chooses the scenarios of at least `min_batch` invoices entering on the same day on
    /// several threads before opening them (default 10,000, never on a single core;
    /// `usize::MAX` never does). The run is the same either way: this only spreads the
    /// policy's work.
    pub fn look_ahead(mut self, min_batch: usize) -> Simulator<'a> {
        self.look_ahead = min_batch;
        self
    }

    /// The shard's invoices, in the order of `Run::cases` (a streaming caller reads a case's
    /// state by its invoice: the contact cadence asks which cases closed).
    pub fn invoices(&self) -> &[&'a Invoice] {
        &self.invoices
    }

    /// Runs every day from `from` to `until` inclusive and keeps everything. `progress` is told
    /// how many invoices have entered the engine so far.
    pub fn run(self, from: NaiveDate, until: NaiveDate, progress: &mut dyn FnMut(u64)) -> Run {
        self.run_with(from, until, progress, &mut |_, _| {})
    }

    /// Like [`Simulator::run`], calling `on_day` after each day processed with the run so far:
    /// a streaming caller drains `run.actions` and `run.records` there, so memory stays flat
    /// over any number of days.
    pub fn run_with(
        mut self,
        from: NaiveDate,
        until: NaiveDate,
        progress: &mut dyn FnMut(u64),
        on_day: &mut dyn FnMut(NaiveDate, &mut Run),
    ) -> Run {
        let n = self.invoices.len();
        let mut run = Run {
            cases: vec![None; n],
            ..Run::default()
        };
        let mut starts: Vec<(NaiveDate, usize)> = (0..n)
            .filter(|&i| self.invoice_customer[i] != usize::MAX)
            .map(|i| (self.invoices[i].issued.max(from), i))
            .filter(|(d, _)| *d <= until)
            .collect();
        starts.sort();
        let mut pending: BTreeMap<usize, Vec<&Event>> = BTreeMap::new();
        // Wake-ups by day; a case rescheduled keeps its old entry, ignored (see `scheduled`).
        let mut timers: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
        let mut scheduled: Vec<Option<NaiveDate>> = vec![None; n];
        let (mut s, mut e) = (0, 0);
        let mut opened = 0u64;
        loop {
            let next = [
                starts.get(s).map(|x| x.0),
                self.events.get(e).map(|x| x.0.date.max(from)),
                timers.first_key_value().map(|t| *t.0),
                self.accounts.next_timer(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(day) = next.filter(|d| *d <= until) else {
                break;
            };
            let mut touched: Vec<usize> = Vec::new();
            let first = s;
            while starts.get(s).is_some_and(|x| x.0 == day) {
                s += 1;
            }
            // Every invoice entering today counts in its customer's totals before any of
            // them is assigned a scenario (a policy may read `customer.outstanding`).
            for &(_, i) in &starts[first..s] {
                let inv = self.invoices[i];
                let r = &mut self.running[self.invoice_slot[i]];
                r.issued_sum += inv.amount;
                r.issued += 1;
                r.update(None, Some(inv.opening_outstanding()));
            }
            let mut chosen = ahead::choose(&self, &starts[first..s], day, &pending);
            for (k, &(d, i)) in starts[first..s].iter().enumerate() {
                opened += 1;
                let choice = chosen.get_mut(k).and_then(Option::take);
                run.chosen_ahead += u64::from(choice.is_some());
                self.open(
                    i,
                    d,
                    &mut run,
                    pending.remove(&i).unwrap_or_default(),
                    choice,
                );
                touched.push(i);
            }
            while let Some((ev, target)) = self
                .events
                .get(e)
                .copied()
                .filter(|x| x.0.date.max(from) == day)
            {
                e += 1;
                self.apply_event(ev, target, day, &mut run, &mut pending, &mut touched);
            }
            if let Some(due) = timers.remove(&day) {
                touched.extend(due.into_iter().filter(|&i| scheduled[i] == Some(day)));
            }
            touched.sort_unstable();
            touched.dedup();
            for i in touched {
                self.step(i, day, Input::Tick, &mut run);
                self.touch_account(i, run.cases[i].as_ref());
                let wake = run.cases[i]
                    .as_ref()
                    .and_then(|c| self.with_facts(i, c, |f| next_wakeup(c, f)))
                    .flatten();
                scheduled[i] = wake.map(|w| w.max(day.succ_opt().unwrap_or(day)));
                if let Some(w) = scheduled[i] {
                    timers.entry(w).or_default().push(i);
                }
            }
            self.run_accounts(day, &mut run);
            progress(opened);
            on_day(day, &mut run);
        }
        run
    }

    /// Opens invoice `i`'s case on `day`, with the policy's choice when it was made ahead
    /// (see `ahead`), then applies the events dated before (`earlier`) as history.
    fn open(
        &mut self,
        i: usize,
        day: NaiveDate,
        run: &mut Run,
        earlier: Vec<&Event>,
        choice: Option<Choice<'a>>,
    ) {
        let inv = self.invoices[i];
        let c = self.invoice_customer[i];
        let totals = self.totals(i, day); // already counts this invoice (see `run`)
        let totals = self.with_overdue(i, day, &run.cases, None, totals);
        let customer = &self.customers[c];
        let case = match choice {
            Some(choice) => {
                debug_assert_eq!(
                    choice,
                    relance_core::runtime::choose_scenario(self.shared, inv, customer, totals, day),
                    "a choice made ahead differs from the sequential one for {}",
                    inv.id
                );
                open_chosen(choice, inv, customer, day)
            }
            None => open_case(self.shared, inv, customer, totals, day),
        };
        self.running[self.invoice_slot[i]]
            .update(Some(inv.opening_outstanding()), contribution(&case));
        run.seq += 1;
        if self.recording == Recording::Causes {
            run.records.push(open_record(&case, inv, day, run.seq - 1));
        }
        run.cases[i] = Some(case);
        for ev in earlier {
            let before = run.actions.len();
            self.step(
                i,
                ev.date.clamp(inv.issued, day),
                Input::Event(&ev.kind),
                run,
            );
            run.actions.truncate(before); // what happened before the engine started is history
        }
    }

    /// Applies `ev` to the case or the customer it concerns (`target`); a case not opened
    /// yet keeps it in `pending` for its opening.
    fn apply_event(
        &mut self,
        ev: &'a Event,
        target: shards::Target,
        day: NaiveDate,
        run: &mut Run,
        pending: &mut BTreeMap<usize, Vec<&'a Event>>,
        touched: &mut Vec<usize>,
    ) {
        let cases = match target {
            shards::Target::Nobody => return,
            shards::Target::Invoice(i) if run.cases[i].is_none() => {
                pending.entry(i).or_default().push(ev);
                return;
            }
            shards::Target::Invoice(i) => vec![i],
            shards::Target::Customer(c) => {
                ev.kind.apply_to_customer(&mut self.customers[c]);
                let open = |i: &usize| run.cases[*i].as_ref().is_some_and(Instance::is_open);
                self.customer_invoices[c]
                    .iter()
                    .copied()
                    .filter(open)
                    .collect()
            }
        };
        for i in cases {
            let before = run.actions.len();
            // An event dated before the run's first day is applied on its own date (a
            // `resume after 2 days` counts from it), its actions dropped: it is history.
            self.step(i, ev.date.min(day), Input::Event(&ev.kind), run);
            if ev.date < day {
                run.actions.truncate(before);
            }
            touched.push(i);
        }
    }

    /// One call of the transition function for invoice `i`.
    fn step(&mut self, i: usize, day: NaiveDate, input: Input<'_>, run: &mut Run) {
        let Some(case) = run.cases[i].take() else {
            return;
        };
        if case.scenario.is_empty() {
            run.cases[i] = Some(case);
            return;
        }
        let c = self.invoice_customer[i];
        let totals = self.totals(i, day);
        let totals = self.with_overdue(i, day, &run.cases, Some(&case), totals);
        let before = contribution(&case);
        let broken_before = case.counters.promises_broken;
        // A move to another scenario runs with the facts of the scenario it names (the
        // transition puts the case in error when the set has none).
        let named = match input {
            Input::Event(EventKind::ScenarioChanged { scenario, .. }) => {
                Some(scenario).filter(|s| self.shared.set.scenarios.contains_key(*s))
            }
            _ => None,
        };
        let Some(scenario) = self
            .shared
            .set
            .scenarios
            .get(named.unwrap_or(&case.scenario))
        else {
            run.cases[i] = Some(case);
            return;
        };
        let facts = Facts {
            scenario,
            invoice: self.invoices[i],
            customer: &self.customers[self.invoice_customer[i]],
            totals,
            rules: self.shared.rules,
            rates: self.shared.rates,
        };
        let (
            case,
            Outcome {
                mut actions,
                mut records,
                decisions,
            },
        ) = transition_with(case, input, day, &facts, self.recording);
        self.running[self.invoice_slot[i]].update(before, contribution(&case));
        self.broken[c] += i64::from(case.counters.promises_broken) - i64::from(broken_before);
        let base = run.seq;
        run.seq += u64::from(decisions);
        run.transitions += 1;
        actions
            .iter_mut()
            .for_each(|a| a.order = base + u64::from(a.seq));
        records
            .iter_mut()
            .for_each(|r| r.order = base + u64::from(r.seq));
        run.actions.extend(actions);
        run.records.extend(records);
        run.cases[i] = Some(case);
    }

    /// The totals and behaviour of invoice `i`'s customer on `day`, in the invoice's currency.
    fn totals(&mut self, i: usize, day: NaiveDate) -> CustomerTotals {
        let c = self.invoice_customer[i];
        let window = match self.windows[c] {
            Some((d, w)) if d == day => w,
            _ => {
                let w = self.logs[c].window(day);
                self.windows[c] = Some((day, w));
                w
            }
        };
        self.running[self.invoice_slot[i]].with_behaviour(window, self.broken[c])
    }

    fn with_facts<T>(
        &self,
        i: usize,
        case: &Instance,
        f: impl FnOnce(&Facts<'_>) -> T,
    ) -> Option<T> {
        let scenario = self.shared.set.scenarios.get(&case.scenario)?;
        let facts = Facts {
            scenario,
            invoice: self.invoices[i],
            customer: &self.customers[self.invoice_customer[i]],
            totals: CustomerTotals::default(),
            rules: self.shared.rules,
            rates: self.shared.rates,
        };
        Some(f(&facts))
    }
}

/// The value of a scoped thread, its panic passed on.
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Each customer's settlements (paid or credited in full, not written off) and dispute
/// openings, from the portfolio's events, as the behaviour report counts them: one log per
/// customer position, `invoice_customer[i]` being the position of invoice `i`'s customer
/// (`usize::MAX` when unknown: left out).
pub fn payment_logs(
    portfolio: &Portfolio,
    invoice_customer: &[usize],
    customers: usize,
) -> Vec<PaymentLog> {
    let mut settled = Vec::new();
    let mut disputes = Vec::new();
    for s in replay(portfolio, NaiveDate::MAX) {
        let c = invoice_customer[s.index];
        if let Some(on) = s.settled_on.filter(|_| !s.written_off) {
            settled.push((on, c, days_late(portfolio.invoices[s.index].due, on)));
        }
        disputes.extend(s.disputes.iter().map(|(opened, _)| (*opened, c)));
    }
    // In date order, so every entry is appended (the log inserts in place otherwise).
    settled.sort_unstable();
    disputes.sort_unstable();
    let mut logs = vec![PaymentLog::default(); customers];
    for (on, c, late) in settled {
        if let Some(log) = logs.get_mut(c) {
            log.settle(on, late);
        }
    }
    for (on, c) in disputes {
        if let Some(log) = logs.get_mut(c) {
            log.dispute(on);
        }
    }
    logs
}

/// The record of a case's opening: the scenario it got, or why it got none.
fn open_record(case: &Instance, inv: &Invoice, day: NaiveDate, order: u64) -> Record {
    Record {
        seq: 0,
        step_order: None,
        order,
        date: day,
        invoice: inv.id.clone(),
        customer: inv.customer.clone(),
        step: None,
        from: "new",
        to: case.status.name(),
        cause: match &case.status {
            relance_core::runtime::Status::Unassigned { .. } => "no scenario applies".to_string(),
            relance_core::runtime::Status::Error { message, .. } => message.clone(),
            _ => format!("opened with scenario {} ({})", case.scenario, case.version),
        },
    }
}
