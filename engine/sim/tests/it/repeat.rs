//! Repeating steps, beyond what `expect` lines state (`semantics/repeat.relance` holds the
//! dated cases): each repetition is its own firing, with its own idempotency key and its own
//! record in the timeline. This file only drives the simulator and reads its run; the rules
//! themselves are `relance_core::runtime::repeat`'s.

use relance_core::interest::RateTable;
use relance_core::rules::RuleSet;
use relance_dsl::{SetContext, SourceFile, compile};
use relance_sim::simulator::{Run, Simulator};
use relance_sim::testing;

const SOURCE: &str = r#"
scenario chase {
  step chase at due + 30 days repeat every 7 days times 4 {
    email "chase" to accounting
    call accounting
  }
  step notice at due + 90 days {
    letter "formal-notice" to legal registered
  }
}

test "four chases" {
  use chase
  until 2026-07-31
  customer ACME { segment b2b }
  invoice F-1 { customer ACME amount 1000 EUR issued 2026-02-01 due 2026-03-01 }
  expect {
    2026-03-31 email "chase" to accounting for F-1
    2026-03-31 call accounting for F-1
    2026-04-07 email "chase" to accounting for F-1
    2026-04-07 call accounting for F-1
    2026-04-14 email "chase" to accounting for F-1
    2026-04-14 call accounting for F-1
    2026-04-21 email "chase" to accounting for F-1
    2026-04-21 call accounting for F-1
    2026-05-30 letter "formal-notice" to legal registered for F-1
  }
}
"#;

/// Compiles `source` and runs its first test's portfolio through the simulator.
fn run(source: &str) -> Run {
    let files = vec![SourceFile::new("inline.relance", source)];
    let set = compile(&files, &SetContext::default())
        .set
        .expect("the inline case compiles");
    let rules = RuleSet::default();
    let shared = testing::shared(&set, &rules, RateTable::builtin());
    let tc = &set.tests[0];
    let p = testing::portfolio(tc);
    let from = p.start().expect("a start date");
    Simulator::new(shared, &p).run(from, testing::until(tc, &p), &mut |_| {})
}

#[test]
fn each_repetition_has_its_own_idempotency_keys_and_records() {
    let run = run(SOURCE);
    let chase: Vec<_> = run.actions.iter().filter(|a| a.step == "chase").collect();
    assert_eq!(chase.len(), 8, "4 firings of 2 actions");
    let mut keys: Vec<&str> = chase.iter().map(|a| a.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(
        keys.len(),
        8,
        "every action of every repetition has its own key: {keys:?}"
    );

    let causes: Vec<String> = run
        .records
        .iter()
        .filter(|r| r.step.as_deref() == Some("chase"))
        .map(|r| format!("{} {}", r.date, r.cause))
        .collect();
    assert_eq!(
        causes,
        [
            "2026-03-31 step fired (scheduled)",
            "2026-04-07 step fired (repetition 2 of 4)",
            "2026-04-14 step fired (repetition 3 of 4)",
            "2026-04-21 step fired (repetition 4 of 4)",
        ]
    );
}

#[test]
fn the_next_step_ends_a_repetition_with_a_record() {
    let run = run(r#"
scenario yields {
  step weekly at due + 7 days repeat every 7 days {
    email "weekly" to accounting
  }
  step notice at due + 30 days {
    letter "formal-notice" to legal registered
  }
}

test "yields" {
  use yields
  until 2026-06-30
  customer ACME { segment b2b }
  invoice F-1 { customer ACME amount 1000 EUR issued 2026-02-01 due 2026-03-02 }
}
"#);
    // Due 03-02: weekly 03-09, 16, 23, 30; notice 04-01 ends the repetition that day.
    let ends: Vec<String> = run
        .records
        .iter()
        .filter(|r| r.cause.starts_with("repetition ends"))
        .map(|r| format!("{} {}", r.date, r.cause))
        .collect();
    assert_eq!(ends, ["2026-04-01 repetition ends: step `notice` is due"]);
    let weekly = run.actions.iter().filter(|a| a.step == "weekly").count();
    assert_eq!(weekly, 4);
}
