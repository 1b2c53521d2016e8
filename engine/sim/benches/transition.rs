//! Throughput of the bare transition function (`runtime::transition`), in transitions/s.
//!
//! Setup (untimed): a seeded portfolio from `generator` (`RELANCE_BENCH_INVOICES` invoices,
//! default 20,000, one customer per ten invoices) is written under the temp dir and read back,
//! the stdlib scenarios (`stdlib-scenarios/`) are compiled, and a small driver replays the
//! portfolio day by day from its first issue date to 90 days after its `as_of`, the way the
//! simulator does (cases opened by the policy, the day's payments, disputes and promises, then
//! a tick for every case touched or due, running customer totals and payment behaviour as known
//! on the day). Before each call it keeps a copy of the case state with its input, day and
//! totals: those recorded calls are the benchmark's inputs. Each call is classified by what it
//! did.
//!
//! Timed: only `transition(state, input, day, &facts)` over a batch of recorded calls (the
//! states are cloned before the timer starts; the results are dropped after it stops). Every
//! benchmark counts items, so divan prints transitions/s:
//!
//! - `mixed`: every recorded call in the order the replay made them (the real mix);
//! - `mixed_actions_only`: the same through `transition_with(.., Recording::Off)`, as
//!   `relance plan` calls it (no records of state changes);
//! - `tick_fires`: ticks that planned at least one action;
//! - `tick_idle`: ticks that neither planned nor recorded anything;
//! - `payment`, `dispute_opened`, `dispute_resolved`, `promise_made`: events.
//!
//! `cargo bench -p relance-sim --bench transition` (`benches/run` runs it with the other
//! benchmarks and reads the `mixed` median). The batch is at most `RELANCE_BENCH_BATCH` calls
//! (default 10,000). Creating the case (`open_case`, which evaluates the policy) is not a
//! transition and is not timed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{Days, NaiveDate};
use relance_core::domain::{EventKind, Portfolio};
use relance_core::interest::RateTable;
use relance_core::rules::RuleSet;
use relance_core::runtime::{
    CustomerTotals, Facts, Input, Instance, Outcome, PaymentLog, Recording, Shared, next_wakeup,
    open_case, transition, transition_with,
};
use relance_core::scenario_set;
use relance_data::generator::{self, Spec};
use relance_data::portfolio;
use relance_dsl::ir;
use relance_sim::simulator::payment_logs;
use rust_decimal::Decimal;

fn main() {
    let f = fixture();
    eprintln!(
        "transition bench: {} invoices, {} recorded calls ({})",
        f.portfolio.invoices.len(),
        f.calls.len(),
        Class::ALL
            .iter()
            .map(|c| format!("{}: {}", c.name(), f.of_class(*c).len()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    divan::main();
}

/// What a recorded call did when it was replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    TickFires,
    TickIdle,
    TickOther,
    Payment,
    DisputeOpened,
    DisputeResolved,
    PromiseMade,
    OtherEvent,
}

impl Class {
    const ALL: [Class; 8] = [
        Class::TickFires,
        Class::TickIdle,
        Class::TickOther,
        Class::Payment,
        Class::DisputeOpened,
        Class::DisputeResolved,
        Class::PromiseMade,
        Class::OtherEvent,
    ];

    fn name(self) -> &'static str {
        match self {
            Class::TickFires => "tick_fires",
            Class::TickIdle => "tick_idle",
            Class::TickOther => "tick_other",
            Class::Payment => "payment",
            Class::DisputeOpened => "dispute_opened",
            Class::DisputeResolved => "dispute_resolved",
            Class::PromiseMade => "promise_made",
            Class::OtherEvent => "other_event",
        }
    }
}

/// One call of the transition function as the replay made it.
struct Call {
    state: Instance,
    /// `None` for a tick, else the index of the event in the portfolio.
    event: Option<usize>,
    day: NaiveDate,
    invoice: usize,
    customer: usize,
    totals: CustomerTotals,
    scenario: &'static ir::Scenario,
    class: Class,
}

struct Fixture {
    portfolio: &'static Portfolio,
    rules: &'static RuleSet,
    calls: Vec<Call>,
}

impl Fixture {
    fn of_class(&self, class: Class) -> Vec<&Call> {
        self.calls.iter().filter(|c| c.class == class).collect()
    }

    fn facts<'a>(&'a self, call: &Call) -> Facts<'a> {
        Facts {
            scenario: call.scenario,
            invoice: &self.portfolio.invoices[call.invoice],
            customer: &self.portfolio.customers[call.customer],
            totals: call.totals,
            rules: self.rules,
            rates: RateTable::builtin(),
        }
    }

    fn input<'a>(&'a self, call: &Call) -> Input<'a> {
        match call.event {
            None => Input::Tick,
            Some(e) => Input::Event(&self.portfolio.events[e].kind),
        }
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn batch_limit() -> usize {
    env_usize("RELANCE_BENCH_BATCH", 10_000).max(1)
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

fn build_fixture() -> Fixture {
    let invoices = env_usize("RELANCE_BENCH_INVOICES", 20_000).max(1);
    let as_of = NaiveDate::from_ymd_opt(2026, 3, 31).expect("a date");
    let dir = std::env::temp_dir().join(format!("relance-bench-transition-{}", std::process::id()));
    let spec = Spec {
        customers: (invoices / 10).max(1),
        invoices,
        seed: 1,
        as_of,
    };
    generator::generate(spec, &dir, &mut |_| {}).expect("generate the portfolio");
    let loaded = portfolio::load_dir(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let portfolio: &'static Portfolio = Box::leak(Box::new(loaded.expect("load the portfolio")));

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios");
    let set = scenario_set::load(&root).expect("load the stdlib scenarios");
    let ir: &'static ir::ScenarioSet = Box::leak(Box::new(
        set.compile().set.expect("the stdlib scenarios compile"),
    ));
    let rules: &'static RuleSet = Box::leak(Box::new(set.rules));
    let until = as_of + Days::new(90);
    let calls = record(portfolio, ir, rules, until);
    Fixture {
        portfolio,
        rules,
        calls,
    }
}

/// A customer's running totals over its opened cases (as the simulator keeps them).
#[derive(Default, Clone, Copy)]
struct Running {
    outstanding: Decimal,
    open: i64,
    issued_sum: Decimal,
    issued: i64,
    promises_broken: i64,
}

impl Running {
    /// The totals with the customer's payment behaviour as known on `day`.
    fn totals(&self, log: &PaymentLog, day: NaiveDate) -> CustomerTotals {
        CustomerTotals {
            behaviour: log.on(day, self.promises_broken),
            outstanding: self.outstanding,
            open_invoices: self.open,
            average_invoice: if self.issued > 0 {
                (self.issued_sum / Decimal::from(self.issued)).round_dp(2)
            } else {
                Decimal::ZERO
            },
            ..CustomerTotals::default()
        }
    }

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

/// The replay's state: what the simulator keeps between days.
struct Replay {
    p: &'static Portfolio,
    set: &'static ir::ScenarioSet,
    rules: &'static RuleSet,
    owner: Vec<usize>,
    running: Vec<Running>,
    logs: Vec<PaymentLog>,
    cases: Vec<Option<Instance>>,
    calls: Vec<Call>,
}

/// Replays the portfolio day by day, keeping every transition call it makes.
fn record(
    p: &'static Portfolio,
    set: &'static ir::ScenarioSet,
    rules: &'static RuleSet,
    until: NaiveDate,
) -> Vec<Call> {
    let shared = Shared {
        set,
        rules,
        rates: RateTable::builtin(),
    };
    let customer_index: HashMap<&str, usize> = p
        .customers
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let invoice_index: HashMap<&str, usize> = p
        .invoices
        .iter()
        .enumerate()
        .map(|(i, inv)| (inv.id.as_str(), i))
        .collect();
    let owner: Vec<usize> = p
        .invoices
        .iter()
        .map(|inv| customer_index[inv.customer.as_str()])
        .collect();
    let mut events_by_day: Vec<(NaiveDate, usize)> = p
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind.invoice().is_some())
        .map(|(i, e)| (e.date, i))
        .collect();
    events_by_day.sort();
    let mut issued: Vec<(NaiveDate, usize)> = p
        .invoices
        .iter()
        .enumerate()
        .map(|(i, inv)| (inv.issued, i))
        .collect();
    issued.sort();
    let Some(&(from, _)) = issued.first() else {
        return Vec::new();
    };

    let mut r = Replay {
        p,
        set,
        rules,
        logs: payment_logs(p, &owner, p.customers.len()),
        owner,
        running: vec![Running::default(); p.customers.len()],
        cases: vec![None; p.invoices.len()],
        calls: Vec::new(),
    };
    let mut wake: Vec<Option<NaiveDate>> = vec![None; p.invoices.len()];
    let (mut s, mut e) = (0, 0);
    let mut day = from;
    while day <= until {
        let mut touched = Vec::new();
        let first = s;
        // Every invoice entering today counts in its customer's totals before any is assigned.
        while issued.get(s).is_some_and(|x| x.0 <= day) {
            let i = issued[s].1;
            let inv = &p.invoices[i];
            let run = &mut r.running[r.owner[i]];
            run.issued_sum += inv.amount;
            run.issued += 1;
            run.update(None, Some(inv.opening_outstanding()));
            s += 1;
        }
        for &(_, i) in &issued[first..s] {
            let c = r.owner[i];
            let totals = r.running[c].totals(&r.logs[c], day);
            let case = open_case(shared, &p.invoices[i], &p.customers[c], totals, day);
            r.running[c].update(
                Some(p.invoices[i].opening_outstanding()),
                contribution(&case),
            );
            r.cases[i] = Some(case);
            touched.push(i);
        }
        while events_by_day.get(e).is_some_and(|x| x.0 <= day) {
            let ev = events_by_day[e].1;
            e += 1;
            let id = p.events[ev].kind.invoice().unwrap_or_default();
            if let Some(&i) = invoice_index.get(id) {
                r.step(i, day, Some(ev));
                touched.push(i);
            }
        }
        for (i, w) in wake.iter().enumerate() {
            if *w == Some(day) {
                touched.push(i);
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for i in touched {
            r.step(i, day, None);
            wake[i] = r.cases[i].as_ref().and_then(|case| {
                let scenario = set.scenarios.get(&case.scenario)?;
                let facts = Facts {
                    scenario,
                    invoice: &p.invoices[i],
                    customer: &p.customers[r.owner[i]],
                    totals: CustomerTotals::default(),
                    rules,
                    rates: RateTable::builtin(),
                };
                next_wakeup(case, &facts).map(|w| w.max(day + Days::new(1)))
            });
        }
        day = day + Days::new(1);
    }
    r.calls
}

impl Replay {
    /// One transition of invoice `i`, recorded before it runs and classified by its outcome.
    fn step(&mut self, i: usize, day: NaiveDate, event: Option<usize>) {
        let p = self.p;
        let Some(case) = self.cases[i].take() else {
            return;
        };
        let Some(scenario) = self.set.scenarios.get(&case.scenario) else {
            self.cases[i] = Some(case); // unassigned or in error: the drivers do not call it
            return;
        };
        let c = self.owner[i];
        let totals = self.running[c].totals(&self.logs[c], day);
        let facts = Facts {
            scenario,
            invoice: &p.invoices[i],
            customer: &p.customers[c],
            totals,
            rules: self.rules,
            rates: RateTable::builtin(),
        };
        let input = match event {
            None => Input::Tick,
            Some(ev) => Input::Event(&p.events[ev].kind),
        };
        let saved = case.clone();
        let before = contribution(&case);
        let broken_before = case.counters.promises_broken;
        let (case, outcome) = transition(case, input, day, &facts);
        let run = &mut self.running[c];
        run.update(before, contribution(&case));
        run.promises_broken += i64::from(case.counters.promises_broken) - i64::from(broken_before);
        let class = match event.map(|ev| &p.events[ev].kind) {
            None if !outcome.actions.is_empty() => Class::TickFires,
            None if outcome.records.is_empty() => Class::TickIdle,
            None => Class::TickOther,
            Some(EventKind::Payment { .. }) => Class::Payment,
            Some(EventKind::DisputeOpened { .. }) => Class::DisputeOpened,
            Some(EventKind::DisputeResolved { .. }) => Class::DisputeResolved,
            Some(EventKind::PromiseMade { .. }) => Class::PromiseMade,
            Some(_) => Class::OtherEvent,
        };
        self.calls.push(Call {
            state: saved,
            event,
            day,
            invoice: i,
            customer: c,
            totals,
            scenario,
            class,
        });
        self.cases[i] = Some(case);
    }
}

/// Times the transition function over `calls` (an even sample of at most the batch limit),
/// one item per call.
fn run(bencher: divan::Bencher, calls: Vec<&Call>) {
    run_with(bencher, calls, None);
}

/// [`run`] through `transition_with` when `recording` is given.
fn run_with(bencher: divan::Bencher, calls: Vec<&Call>, recording: Option<Recording>) {
    let f = fixture();
    // An even sample across the whole replay keeps the mix (early days are mostly openings).
    let stride = calls.len().div_ceil(batch_limit()).max(1);
    let batch: Vec<&Call> = calls.into_iter().step_by(stride).collect();
    assert!(!batch.is_empty(), "no recorded call of this kind");
    bencher
        .counter(divan::counter::ItemsCount::new(batch.len()))
        .with_inputs(|| batch.iter().map(|c| c.state.clone()).collect::<Vec<_>>())
        .bench_values(|states| {
            let mut out: Vec<(Instance, Outcome)> = Vec::with_capacity(states.len());
            for (state, call) in states.into_iter().zip(&batch) {
                let facts = f.facts(call);
                out.push(match recording {
                    None => transition(state, f.input(call), call.day, &facts),
                    Some(r) => transition_with(state, f.input(call), call.day, &facts, r),
                });
            }
            out
        });
}

#[divan::bench]
fn mixed(bencher: divan::Bencher) {
    run(bencher, fixture().calls.iter().collect());
}

#[divan::bench]
fn mixed_actions_only(bencher: divan::Bencher) {
    run_with(
        bencher,
        fixture().calls.iter().collect(),
        Some(Recording::Off),
    );
}

#[divan::bench]
fn tick_fires(bencher: divan::Bencher) {
    run(bencher, fixture().of_class(Class::TickFires));
}

#[divan::bench]
fn tick_idle(bencher: divan::Bencher) {
    run(bencher, fixture().of_class(Class::TickIdle));
}

#[divan::bench]
fn payment(bencher: divan::Bencher) {
    run(bencher, fixture().of_class(Class::Payment));
}

#[divan::bench]
fn dispute_opened(bencher: divan::Bencher) {
    run(bencher, fixture().of_class(Class::DisputeOpened));
}

#[divan::bench]
fn dispute_resolved(bencher: divan::Bencher) {
    run(bencher, fixture().of_class(Class::DisputeResolved));
}

#[divan::bench]
fn promise_made(bencher: divan::Bencher) {
    run(bencher, fixture().of_class(Class::PromiseMade));
}
