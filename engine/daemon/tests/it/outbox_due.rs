//! The outbox's `due` index: a dispatcher pass reads only the messages it has work for.
//! Messages waiting out a retry delay are not read before their instant, dead letters are not
//! read at all, and the index always agrees with the outbox (`verify`), through retries, dead
//! letters, an operator's requeue and deliveries.
//!
//! Every channel here spools (no SMTP or webhook configured, `spool_unconfigured`), and the
//! spool path is first a plain file, so that every attempt fails transiently until the test
//! makes it a folder.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};

use relance_daemon::config::{Config, Outbox};
use relance_daemon::dispatcher::Dispatcher;
use relance_daemon::model::MessageStatus;
use relance_daemon::server::{self, ClockMode};
use relance_daemon::verify;
use relance_data::portfolio;

use crate::support::TempDir;

fn ids(messages: &[relance_daemon::model::Message]) -> BTreeSet<u64> {
    messages.iter().map(|m| m.id).collect()
}

fn sound(engine: &relance_daemon::Engine) {
    let report = verify::verify(engine.store()).expect("verify");
    assert!(report.ok(), "{:#?}", report.problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_reads_only_due_messages_and_the_index_follows_every_move() {
    let tmp = TempDir::new("due");
    let spool = tmp.0.join("spool");
    std::fs::write(&spool, "not a folder: every spooled delivery fails").expect("file");
    let config = Config {
        data: tmp.0.join("data"),
        spool: spool.clone(),
        spool_unconfigured: true,
        outbox: Outbox {
            max_attempts: 2,
            base_delay_ms: 1500,
            max_delay_ms: 1500,
            ..Outbox::default()
        },
        ..Config::default()
    };
    let from: NaiveDate = "2026-04-01".parse().expect("date");
    let root = crate::workspace();
    let engine = server::open(
        &config,
        ClockMode::Virtual { start: Some(from) },
        Some(&root.join("stdlib-scenarios")),
    )
    .expect("engine");
    let p = portfolio::load_dir(&root.join("examples")).expect("examples");
    engine.import(&p).expect("import");
    engine.catch_up(from).expect("first day");
    let dispatcher = Dispatcher::new(engine.clone(), &config).expect("dispatcher");

    // Before any pass: every message of the day is unsealed, at the head of the index.
    let all = engine.outbox().expect("outbox");
    assert!(all.len() > 5, "the examples' first day sends messages");
    let before_pass = Utc::now();
    assert_eq!(
        ids(&engine.due_messages(before_pass).expect("due")),
        ids(&all)
    );
    sound(&engine);

    // First pass: sealed, attempted, failed: each waits 1.5 s from its attempt. (Agenda
    // entries are delivered into the store itself and leave the outbox.)
    let first = dispatcher.drain_once().await.expect("pass");
    let waiting: Vec<_> = engine
        .outbox()
        .expect("outbox")
        .into_iter()
        .filter(|m| m.status == MessageStatus::Retrying)
        .collect();
    assert!(waiting.len() > 5, "{first:?}");
    assert_eq!(first.retried, waiting.len(), "{first:?}");
    assert!(waiting.iter().all(|m| m.next_attempt > Some(before_pass)));
    // Not read at an instant before their next attempt; all read an hour later.
    assert!(engine.due_messages(before_pass).expect("due").is_empty());
    let later = before_pass + chrono::Duration::hours(1);
    assert_eq!(
        ids(&engine.due_messages(later).expect("due")),
        ids(&waiting)
    );
    sound(&engine);

    // Second attempt once due: still failing, the last one allowed: dead letters, out of
    // the index, while still in the outbox.
    let last = waiting
        .iter()
        .filter_map(|m| m.next_attempt)
        .max()
        .expect("next attempts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Utc::now() <= last {
        assert!(Instant::now() < deadline, "the clock did not pass {last}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let second = dispatcher.drain_once().await.expect("pass");
    assert_eq!(second.dead, waiting.len(), "{second:?}");
    let dead = engine.outbox().expect("outbox");
    assert!(dead.iter().all(|m| m.status == MessageStatus::Dead));
    assert!(ids(&waiting).is_subset(&ids(&dead)));
    assert!(engine.due_messages(later).expect("due").is_empty());
    let idle = dispatcher.drain_once().await.expect("pass");
    assert_eq!((idle.sealed, idle.retried, idle.dead), (0, 0, 0));
    sound(&engine);

    // The spool is repaired; an operator requeues one dead letter: it alone is due, and
    // delivered; the other dead letters stay where they are.
    std::fs::remove_file(&spool).expect("remove");
    std::fs::create_dir(&spool).expect("spool folder");
    let chosen = waiting[0].id;
    engine.requeue(chosen).expect("requeue");
    assert_eq!(
        ids(&engine.due_messages(Utc::now()).expect("due")),
        BTreeSet::from([chosen])
    );
    sound(&engine);
    let third = dispatcher.drain_once().await.expect("pass");
    assert_eq!(third.delivered, 1, "{third:?}");
    let left = engine.outbox().expect("outbox");
    assert_eq!(left.len(), dead.len() - 1);
    assert!(!ids(&left).contains(&chosen));
    assert!(engine.due_messages(later).expect("due").is_empty());
    assert!(
        engine.requeue(chosen).is_err(),
        "a delivered message is not in the outbox"
    );
    sound(&engine);
}
