//! The comparison the daemon–planner differential tests share (`differential.rs` in process,
//! the CLI's `crash.rs` with a real `relance serve` killed with SIGKILL): what the planner
//! decides over a window through the set's contact cadence (as `relance plan`), the day each
//! generated fact reaches the daemon, a day's facts split into random batches, the portfolio
//! as the daemon receives those batches (its events in their order of receipt, which the
//! planner must plan), what the daemon decided (its outbox and cases), and the invoices whose
//! dated actions differ. It must not drive a daemon itself: each test feeds the daemon its
//! own way.

#![allow(dead_code)] // each including test binary uses the part it needs

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use relance_core::domain::{Customer, Event, Invoice, Portfolio};
use relance_core::interest::RateTable;
use relance_core::runtime::Shared;
use relance_core::scenario_set;
use relance_daemon::Engine;
use relance_sim::simulator::Simulator;

/// One dated action: its day, its idempotency key (invoice, version, step, occurrence) and
/// the action sent (under a cadence, the most severe of the customer's day).
pub type Actions = BTreeMap<String, BTreeSet<(NaiveDate, String, String)>>;

/// One fact as an integration sends it.
#[derive(Clone)]
pub enum Fact {
    Customer(Customer),
    Invoice(Invoice),
    Event(Event),
}

/// What the planner decides on the whole portfolio, from `from` through `until`, through the
/// set's contact cadence as `relance plan` applies it (the stdlib has one).
/// Also returns how many actions the cadence moved to a later day and how many it merged
/// into a more severe action, so that the comparison is known to exercise it.
pub fn planned(
    p: &Portfolio,
    dir: &std::path::Path,
    from: NaiveDate,
    until: NaiveDate,
) -> (Actions, Vec<String>, (usize, usize)) {
    let set = scenario_set::load(dir).expect("set");
    let compiled = set.compile();
    let shared = Shared {
        set: compiled.set.as_ref().expect("the set compiles"),
        rules: &set.rules,
        rates: RateTable::builtin(),
    };
    let mut run = Simulator::new(shared, p).run(from, until, &mut |_| {});
    let set = compiled.set.as_ref().expect("the set compiles");
    let invoices: Vec<&Invoice> = p.invoices.iter().collect();
    let closed = relance_sim::cadence::closed_on(&invoices, &run.cases);
    let decided = std::mem::take(&mut run.actions);
    let raw: BTreeMap<String, (NaiveDate, String)> = decided
        .iter()
        .map(|a| (a.key.clone(), (a.date, a.action.to_string())))
        .collect();
    let (sent, _) = relance_sim::cadence::apply(set, decided, until, &closed);
    let mut effect = (0, 0);
    for a in &sent {
        if let Some((date, action)) = raw.get(&a.key) {
            effect.0 += usize::from(*date != a.date);
            effect.1 += usize::from(*action != a.action.to_string());
        }
    }
    let mut actions = Actions::new();
    for a in &sent {
        actions.entry(a.invoice.clone()).or_default().insert((
            a.date,
            a.key.clone(),
            a.action.to_string(),
        ));
    }
    let states = p
        .invoices
        .iter()
        .zip(&run.cases)
        .map(|(inv, case)| format!("{}: {case:?}", inv.id))
        .collect();
    (actions, states, effect)
}

/// The day each fact reaches the daemon: its own date (an invoice's issue date), or the first
/// day for what is older; a customer comes with its first invoice.
pub fn arrivals(p: &Portfolio, from: NaiveDate) -> BTreeMap<NaiveDate, Vec<Fact>> {
    let on = |d: NaiveDate| d.max(from);
    let mut first_invoice: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for inv in &p.invoices {
        let day = first_invoice.entry(&inv.customer).or_insert(on(inv.issued));
        *day = (*day).min(on(inv.issued));
    }
    let mut by_day: BTreeMap<NaiveDate, Vec<Fact>> = BTreeMap::new();
    for c in &p.customers {
        let day = first_invoice.get(c.id.as_str()).copied().unwrap_or(from);
        by_day
            .entry(day)
            .or_default()
            .push(Fact::Customer(c.clone()));
    }
    for inv in &p.invoices {
        by_day
            .entry(on(inv.issued))
            .or_default()
            .push(Fact::Invoice(inv.clone()));
    }
    for ev in &p.events {
        by_day
            .entry(on(ev.date))
            .or_default()
            .push(Fact::Event(ev.clone()));
    }
    by_day
}

/// Splits one day's facts into `n` batches at random, a customer no later than its invoices
/// and an invoice no later than its events, each batch in a shuffled order.
pub fn batches(facts: &[Fact], rng: &mut ChaCha8Rng) -> Vec<Portfolio> {
    let n = rng.random_range(1..=4usize);
    let mut customer_batch: BTreeMap<String, usize> = BTreeMap::new();
    let mut invoice_batch: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = vec![Portfolio::default(); n];
    let mut order: Vec<&Fact> = facts.iter().collect();
    // Customers, then invoices, then events: each is placed after what it depends on.
    order.sort_by_key(|f| match f {
        Fact::Customer(_) => 0,
        Fact::Invoice(_) => 1,
        Fact::Event(_) => 2,
    });
    for f in order {
        match f {
            Fact::Customer(c) => {
                let b = rng.random_range(0..n);
                customer_batch.insert(c.id.clone(), b);
                out[b].customers.push(c.clone());
            }
            Fact::Invoice(inv) => {
                let lo = customer_batch.get(&inv.customer).copied().unwrap_or(0);
                let b = rng.random_range(lo..n);
                invoice_batch.insert(inv.id.clone(), b);
                out[b].invoices.push(inv.clone());
            }
            Fact::Event(ev) => {
                let lo = ev
                    .kind
                    .invoice()
                    .and_then(|i| invoice_batch.get(i).copied())
                    .unwrap_or(0);
                let b = rng.random_range(lo..n);
                out[b].events.push(ev.clone());
            }
        }
    }
    for p in &mut out {
        p.customers.shuffle(rng);
        p.invoices.shuffle(rng);
        p.events.shuffle(rng);
    }
    out
}

/// The portfolio as the daemon receives it when `sent` are the batches posted through the
/// API, in the order sent: the same customers and invoices, the events in their order of
/// receipt. Facts posted through the API count in that order within a day (LANGUAGE.md,
/// "What happens first on one day"), so this is the portfolio the planner must plan to
/// decide what the daemon decides; the planner takes a day's events in portfolio order.
pub fn as_received(p: &Portfolio, sent: &[Portfolio]) -> Portfolio {
    let events: Vec<Event> = sent.iter().flat_map(|b| b.events.clone()).collect();
    assert_eq!(events.len(), p.events.len(), "every event is sent once");
    Portfolio {
        events,
        ..p.clone()
    }
}

/// What the daemon decided, read back from its outbox (delivered messages included) and its
/// cases.
pub fn decided(engine: &Engine, p: &Portfolio) -> (Actions, Vec<String>) {
    let mut actions = Actions::new();
    let delivered = engine.delivered(0, usize::MAX).expect("delivered");
    for m in engine.outbox().expect("outbox").iter().chain(&delivered) {
        for item in &m.items {
            actions.entry(item.invoice.clone()).or_default().insert((
                m.date,
                item.key.clone(),
                m.text.clone(),
            ));
        }
    }
    let states = p
        .invoices
        .iter()
        .map(|inv| {
            let case = engine.case(&inv.id).expect("case").map(|r| r.case);
            format!("{}: {case:?}", inv.id)
        })
        .collect();
    (actions, states)
}

/// The invoices whose dated actions differ, with both sides, at most `n`.
pub fn differences(planner: &Actions, daemon: &Actions, n: usize) -> Vec<String> {
    let invoices: BTreeSet<&String> = planner.keys().chain(daemon.keys()).collect();
    let empty = BTreeSet::new();
    invoices
        .into_iter()
        .filter_map(|i| {
            let a = planner.get(i).unwrap_or(&empty);
            let b = daemon.get(i).unwrap_or(&empty);
            (a != b).then(|| {
                format!(
                    "{i}: planner only {:?}; daemon only {:?}",
                    a.difference(b).collect::<Vec<_>>(),
                    b.difference(a).collect::<Vec<_>>()
                )
            })
        })
        .take(n)
        .collect()
}

/// Asserts that the daemon decided what the planner planned: the same dated actions per
/// invoice (the first five differences shown) and the same case states (the first three).
pub fn assert_agree(
    seed: u64,
    (plan, plan_states): (&Actions, &[String]),
    (got, got_states): (&Actions, &[String]),
) {
    let diff = differences(plan, got, 5);
    assert!(
        diff.is_empty(),
        "seed {seed}: the daemon and the planner disagree on {} invoices, first:\n{}",
        differences(plan, got, usize::MAX).len(),
        diff.join("\n")
    );
    let states: Vec<_> = plan_states
        .iter()
        .zip(got_states)
        .filter(|(a, b)| a != b)
        .take(3)
        .collect();
    assert!(
        states.is_empty(),
        "seed {seed}: case states differ:\n{states:#?}"
    );
}
