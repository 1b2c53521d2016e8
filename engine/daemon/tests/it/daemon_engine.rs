//! The daemon drives the same transition function as the simulator: on the bundled example
//! portfolio, 60 virtual days through the durable daily run decide exactly the actions the
//! simulator decides (through the set's contact cadence on both sides), and leave every case
//! in the same state. Then the backup round trip:
//! export, restore into a fresh store, export again: nothing lost, nothing changed.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{Days, NaiveDate};

use relance_core::domain::Portfolio;
use relance_core::interest::RateTable;
use relance_core::runtime::Shared;
use relance_core::scenario_set;
use relance_daemon::Engine;
use relance_daemon::backup;
use relance_daemon::config::Config;
use relance_daemon::server::{self, ClockMode};
use relance_daemon::store::{SledStore, Store, Tree};
use relance_data::portfolio;

use relance_sim::simulator::Simulator;

use crate::support::TempDir;

fn root() -> PathBuf {
    crate::workspace()
}

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// A daemon engine over a fresh store in `tmp` (virtual clock on `from`, the stdlib set
/// deployed), with `p` imported and its first day run. The portfolio tests start theirs so
/// too.
pub(crate) fn started(tmp: &TempDir, from: NaiveDate, p: &Portfolio) -> Arc<Engine> {
    let config = Config {
        data: tmp.0.join("data"),
        spool: tmp.0.join("spool"),
        ..Config::default()
    };
    let scenarios = root().join("stdlib-scenarios");
    let engine = server::open(
        &config,
        ClockMode::Virtual { start: Some(from) },
        Some(&scenarios),
    )
    .expect("engine");
    engine.import(p).expect("import");
    engine.catch_up(from).expect("first day");
    engine
}

#[test]
fn the_daemon_decides_what_the_simulator_decides() {
    let tmp = TempDir::new("engine");
    let from = d("2026-04-01");
    let until = from.checked_add_days(Days::new(59)).expect("date");
    let scenarios = root().join("stdlib-scenarios");
    let p = portfolio::load_dir(&root().join("examples")).expect("examples");

    let engine = started(&tmp, from, &p);
    let days = engine.advance_to(until).expect("advance");
    assert_eq!(days.len(), 59);
    let daemon_keys: BTreeSet<String> = engine
        .outbox()
        .expect("outbox")
        .iter()
        .flat_map(|m| m.items.iter().map(|i| i.key.clone()))
        .collect();

    let set = scenario_set::load(&scenarios).expect("set");
    let compiled = set.compile();
    let ir = compiled.set.as_ref().expect("stdlib compiles");
    let shared = Shared {
        set: ir,
        rules: &set.rules,
        rates: RateTable::builtin(),
    };
    let mut run = Simulator::new(shared, &p).run(from, until, &mut |_| {});
    // Through the set's contact cadence, as `relance plan` applies it (the daemon does too).
    let invoices: Vec<_> = p.invoices.iter().collect();
    let closed = relance_sim::cadence::closed_on(&invoices, &run.cases);
    let decided = std::mem::take(&mut run.actions);
    let (sent, _) = relance_sim::cadence::apply(ir, decided, until, &closed);
    let sim_keys: BTreeSet<String> = sent.iter().map(|a| a.key.clone()).collect();

    assert!(
        sim_keys.len() > 300,
        "a meaningful run: {} actions",
        sim_keys.len()
    );
    let missing: Vec<_> = sim_keys.difference(&daemon_keys).take(5).collect();
    let extra: Vec<_> = daemon_keys.difference(&sim_keys).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );

    for (inv, case) in p.invoices.iter().zip(&run.cases) {
        let stored = engine.case(&inv.id).expect("read").map(|r| r.case);
        assert_eq!(stored.as_ref(), case.as_ref(), "state of {}", inv.id);
    }

    // Backup round trip: export, restore into an empty store, export again.
    let mut first = Vec::new();
    let stats = backup::export(engine.store(), &mut first).expect("export");
    assert!(stats.entries > 1000, "{} entries", stats.entries);
    let restored_dir = tmp.0.join("restored");
    let restored = SledStore::open(&restored_dir).expect("open");
    let n = backup::restore(&restored, &mut first.as_slice(), false).expect("restore");
    assert_eq!(n.entries, stats.entries);
    let mut second = Vec::new();
    backup::export(&restored, &mut second).expect("export again");
    assert_eq!(
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
    for tree in Tree::ALL {
        assert_eq!(
            engine.store().count(tree),
            restored.count(tree),
            "{}",
            tree.name()
        );
    }
    // Refused: into a non-empty store, and a truncated file.
    assert!(backup::restore(&restored, &mut first.as_slice(), false).is_err());
    let cut = &first[..first.len() / 2];
    let cut = &cut[..cut.iter().rposition(|b| *b == b'\n').expect("a line") + 1];
    let partial_dir = tmp.0.join("partial");
    let partial = SledStore::open(&partial_dir).expect("open");
    assert!(backup::restore(&partial, &mut &cut[..], false).is_err());
    assert!(
        backup::check_complete(&partial_dir, Some(&partial)).is_err(),
        "an unfinished restore is refused at start-up"
    );
    // Restored again, over what the interrupted one left: the whole store.
    let again = backup::restore(&partial, &mut first.as_slice(), false).expect("restore again");
    assert_eq!(again.entries, stats.entries);
    assert!(backup::check_complete(&partial_dir, Some(&partial)).is_ok());
    drop(engine);
}

#[test]
fn an_idempotency_key_and_its_reply_survive_restart_and_backup() {
    use relance_core::domain::{Event, EventKind};
    use relance_daemon::DaemonError;
    use relance_daemon::engine::{Idem, Keyed};
    use relance_daemon::keys;

    let tmp = TempDir::new("idem");
    let today = d("2026-04-01");
    let scenarios = root().join("stdlib-scenarios");
    let p = portfolio::load_dir(&root().join("examples")).expect("examples");
    let config = |data: &str| Config {
        data: tmp.0.join(data),
        spool: tmp.0.join("spool"),
        ..Config::default()
    };
    let open = |data: &str| {
        server::open(
            &config(data),
            ClockMode::Virtual { start: Some(today) },
            Some(&scenarios),
        )
        .expect("engine")
    };
    let engine = open("data");
    engine.import(&p).expect("import");
    engine
        .catch_up(today)
        .expect("the day's run opens the cases");
    let invoice = p
        .invoices
        .iter()
        .find(|i| {
            engine
                .case(&i.id)
                .expect("case")
                .is_some_and(|r| r.case.is_open())
        })
        .expect("an open case")
        .id
        .clone();
    let promise = [Event {
        date: today,
        kind: EventKind::PromiseMade {
            invoice,
            promised_date: d("2026-04-15"),
            amount: None,
        },
    }];
    let idem = Idem {
        key: keys::idempotency("erp", "promise-1"),
        fingerprint: "request-1".into(),
    };
    let Keyed::Fresh(first) = engine
        .apply_events_keyed(&promise, Some(&idem))
        .expect("write")
    else {
        panic!("the first write is fresh");
    };
    let first = serde_json::to_value(&first).expect("json");
    engine.flush().expect("flush");
    drop(engine);

    let replayed = |engine: &relance_daemon::Engine| match engine
        .apply_events_keyed(&promise, Some(&idem))
        .expect("replay")
    {
        Keyed::Replay(r) => (r.status, r.body),
        Keyed::Fresh(_) => panic!("a repeat must not write"),
    };
    let engine = open("data");
    let history = engine.store().count(Tree::History);
    assert_eq!(replayed(&engine), (200, first.clone()));
    assert_eq!(engine.store().count(Tree::History), history);
    let reused = Idem {
        fingerprint: "request-2".into(),
        ..idem.clone()
    };
    assert!(matches!(
        engine.apply_events_keyed(&promise, Some(&reused)),
        Err(DaemonError::Invalid(_))
    ));

    let mut dump = Vec::new();
    backup::export(engine.store(), &mut dump).expect("export");
    drop(engine);
    {
        let restored = SledStore::open(&tmp.0.join("restored")).expect("open");
        backup::restore(&restored, &mut dump.as_slice(), false).expect("restore");
    }
    let engine = open("restored");
    assert_eq!(replayed(&engine), (200, first));
}

/// Payment behaviour in the daemon: a customer that paid its earlier invoices 45 and 35 days
/// late (history imported with them) gets `high-risk` for its next invoice under the standard
/// policy, a customer 10 days late on average does not; the simulator agrees.
#[test]
fn chronic_late_payers_go_to_high_risk_in_the_daemon_as_in_the_simulator() {
    let tmp = TempDir::new("behaviour");
    let from = d("2026-04-01");
    let scenarios = root().join("stdlib-scenarios");
    let p = portfolio::from_json(
        r#"{
  "customers": [{"id": "SLOW", "segment": "b2b"}, {"id": "FAIR", "segment": "b2b"}],
  "invoices": [
    {"id": "S-0", "customer": "SLOW", "amount": "900", "currency": "EUR", "issued": "2025-10-01", "due": "2025-10-31"},
    {"id": "S-00", "customer": "SLOW", "amount": "700", "currency": "EUR", "issued": "2025-11-01", "due": "2025-12-01"},
    {"id": "F-0", "customer": "FAIR", "amount": "900", "currency": "EUR", "issued": "2025-10-01", "due": "2025-10-31"},
    {"id": "F-00", "customer": "FAIR", "amount": "700", "currency": "EUR", "issued": "2025-11-01", "due": "2025-12-01"},
    {"id": "S-1", "customer": "SLOW", "amount": "3000", "currency": "EUR", "issued": "2026-04-10", "due": "2026-05-10"},
    {"id": "F-1", "customer": "FAIR", "amount": "3000", "currency": "EUR", "issued": "2026-04-10", "due": "2026-05-10"}
  ],
  "events": [
    {"date": "2025-12-15", "type": "payment", "invoice": "S-0", "amount": "900"},
    {"date": "2026-01-05", "type": "payment", "invoice": "S-00", "amount": "700"},
    {"date": "2025-11-20", "type": "payment", "invoice": "F-0", "amount": "900"},
    {"date": "2025-12-01", "type": "payment", "invoice": "F-00", "amount": "700"}
  ]
}"#,
    )
    .expect("a valid portfolio");
    let engine = started(&tmp, from, &p);
    engine.advance_to(d("2026-04-15")).expect("advance");
    let scenario = |id: &str| {
        engine
            .case(id)
            .expect("read")
            .map(|r| r.case.scenario)
            .unwrap_or_default()
    };
    assert_eq!(scenario("S-1"), "high-risk");
    assert_eq!(scenario("F-1"), "standard-b2b");

    let set = scenario_set::load(&scenarios).expect("set");
    let compiled = set.compile();
    let shared = Shared {
        set: compiled.set.as_ref().expect("stdlib compiles"),
        rules: &set.rules,
        rates: RateTable::builtin(),
    };
    let run = Simulator::new(shared, &p).run(from, d("2026-04-15"), &mut |_| {});
    let simulated = |id: &str| {
        let i = p
            .invoices
            .iter()
            .position(|inv| inv.id == id)
            .expect("invoice");
        run.cases[i]
            .as_ref()
            .map(|c| c.scenario.clone())
            .unwrap_or_default()
    };
    assert_eq!(simulated("S-1"), scenario("S-1"));
    assert_eq!(simulated("F-1"), scenario("F-1"));
    drop(engine);
}

/// A customer with invoices in two currencies: each invoice's totals count its own currency
/// (`customer.outstanding` …), and `on paid` sees them without the invoice just paid, in the
/// daemon as in the simulator (debug builds also check the daemon's per-currency ledger against
/// a full pass on every read).
#[test]
fn mixed_currencies_count_apart_in_the_daemon_as_in_the_simulator() {
    let tmp = TempDir::new("currencies");
    let scenarios = tmp.0.join("set");
    std::fs::create_dir_all(&scenarios).expect("set dir");
    std::fs::write(
        scenarios.join("totals.relance"),
        r#"
policy default {
  use eur when invoice.currency == "EUR"
  use usd otherwise
}

scenario eur {
  step check at due + 3 days {
    if customer.outstanding == 199 EUR and customer.open_invoices == 2 {
      tag "eur-199-on-2"
    }
  }

  on paid {
    if customer.outstanding == 0 EUR and customer.open_invoices == 0 {
      unblock deliveries
    }
  }
}

scenario usd {
  step check at due + 3 days {
    if customer.outstanding == 120 USD and customer.average_invoice == 120 USD {
      tag "usd-120"
    }
  }
}
"#,
    )
    .expect("write the set");
    let p = portfolio::from_json(
        r#"{
  "customers": [{"id": "ACME", "segment": "b2b"}],
  "invoices": [
    {"id": "F-1", "customer": "ACME", "amount": "149", "currency": "EUR", "issued": "2026-04-01", "due": "2026-04-30"},
    {"id": "F-2", "customer": "ACME", "amount": "120", "currency": "USD", "issued": "2026-04-01", "due": "2026-04-30"},
    {"id": "F-3", "customer": "ACME", "amount": "50", "currency": "EUR", "issued": "2026-04-01", "due": "2026-04-30"}
  ],
  "events": [
    {"date": "2026-05-10", "type": "payment", "invoice": "F-1", "amount": "149"},
    {"date": "2026-05-12", "type": "payment", "invoice": "F-3", "amount": "50"}
  ]
}"#,
    )
    .expect("a valid portfolio");
    let from = d("2026-04-01");
    let until = d("2026-05-20");
    let config = Config {
        data: tmp.0.join("data"),
        spool: tmp.0.join("spool"),
        ..Config::default()
    };
    let engine = server::open(
        &config,
        ClockMode::Virtual { start: Some(from) },
        Some(&scenarios),
    )
    .expect("engine");
    // Each fact on its own day, before that day's run (as the differential test feeds them).
    let mut invoices = p.clone();
    invoices.events.clear();
    engine.import(&invoices).expect("import");
    let mut day = from;
    while day <= until {
        engine.move_virtual_clock(day).expect("clock");
        let mut facts = p.clone();
        facts.customers.clear();
        facts.invoices.clear();
        facts.events.retain(|e| e.date == day);
        if !facts.events.is_empty() {
            engine.import(&facts).expect("the day's facts");
        }
        engine.catch_up(day).expect("the day's run");
        day = day.succ_opt().expect("date");
    }
    let daemon_keys: BTreeSet<String> = engine
        .outbox()
        .expect("outbox")
        .iter()
        .flat_map(|m| m.items.iter().map(|i| i.key.clone()))
        .collect();

    let set = scenario_set::load(&scenarios).expect("set");
    let compiled = set.compile();
    let shared = Shared {
        set: compiled.set.as_ref().expect("the set compiles"),
        rules: &set.rules,
        rates: RateTable::builtin(),
    };
    let run = Simulator::new(shared, &p).run(from, until, &mut |_| {});
    let sim: BTreeSet<(String, String)> = run
        .actions
        .iter()
        .map(|a| (a.invoice.clone(), a.action.to_string()))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("F-1", "tag \"eur-199-on-2\""),
        ("F-3", "tag \"eur-199-on-2\""),
        ("F-2", "tag \"usd-120\""),
        ("F-3", "unblock deliveries"),
    ]
    .into_iter()
    .map(|(i, a)| (i.to_string(), a.to_string()))
    .collect();
    assert_eq!(sim, expected);
    let sim_keys: BTreeSet<String> = run.actions.iter().map(|a| a.key.clone()).collect();
    assert_eq!(daemon_keys, sim_keys);
    for (inv, case) in p.invoices.iter().zip(&run.cases) {
        let stored = engine.case(&inv.id).expect("read").map(|r| r.case);
        assert_eq!(stored.as_ref(), case.as_ref(), "state of {}", inv.id);
    }
    drop(engine);
}
