//! The outbox's rules: when a message may be sealed, when it is due for an attempt, and how
//! an attempt's result moves it (delivered, retried after an exponential backoff, dead-lettered,
//! bounced).
//!
//! It also owns the `due` index that keeps the dispatcher from reading the whole outbox: a
//! pending or retrying message is indexed at its next attempt ([`due_key`]), and every write
//! of a message goes through [`put_ops`] (or [`header_ops`] with [`item_ops`]) or
//! [`delivered_ops`], which keep the index with it in the same commit. They write a message as
//! stored since schema 5: its header, and only the items it did not have before
//! (`message_items`; reading them back is `messages.rs`).
//!
//! Pure functions over a [`Message`] and an injected instant, so the policy is tested without
//! a clock or a network. It must not perform I/O: the dispatcher does, then applies these.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use super::keys;
use super::model::{Item, Message, MessageHeader, MessageStatus, encode};
use super::store::{Op, Tree};

/// How failed attempts are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before the message is dead-lettered (the first one included).
    pub max_attempts: u32,
    /// Delay after the first failure; each further failure doubles it.
    pub base: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_secs(30),
            max_delay: Duration::from_secs(6 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt: `base × 2^(attempts−1)`, capped.
    pub fn delay(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(30));
        self.base.saturating_mul(factor).min(self.max_delay)
    }
}

/// The result of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Done; the receipt says where it went.
    Delivered(String),
    /// Try again later (connection refused, 4xx SMTP, HTTP 5xx/429…).
    Transient(String),
    /// Retrying cannot help (malformed address, HTTP 4xx, no channel configured…).
    Permanent(String),
    /// The recipient's address is rejected: dead-letter and raise `contact bounced`.
    Bounced { roles: Vec<String>, reason: String },
}

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    Delivered,
    Retry,
    Dead,
    /// Dead, and these contact roles bounced.
    Bounced(Vec<String>),
}

/// Whether the message can be sealed (rendered, closed to further invoices): its day's run
/// is complete, so its group will not grow.
pub fn sealable(m: &MessageHeader, run_through: Option<NaiveDate>) -> bool {
    !m.sealed && m.status == MessageStatus::Pending && run_through.is_some_and(|d| m.date <= d)
}

/// Whether a sealed message is due for an attempt at `now`.
pub fn due(m: &MessageHeader, now: DateTime<Utc>) -> bool {
    m.sealed
        && matches!(m.status, MessageStatus::Pending | MessageStatus::Retrying)
        && m.next_attempt.is_none_or(|t| t <= now)
}

/// A message's key in the `due` index: pending and retrying messages only (dead ones wait for
/// an operator), at their next attempt, or at 0 when they have none (not sealed yet, or due
/// at once).
pub fn due_key(m: &MessageHeader) -> Option<[u8; 16]> {
    matches!(m.status, MessageStatus::Pending | MessageStatus::Retrying).then(|| {
        let at = m
            .next_attempt
            .map_or(0, |t| u64::try_from(t.timestamp_millis()).unwrap_or(0));
        keys::due(at, m.id)
    })
}

/// The exclusive end of the `due` range a pass at `now` reads: every key at or before `now`.
pub fn due_until(now: DateTime<Utc>) -> [u8; 16] {
    let at = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    keys::due(at.saturating_add(1), 0)
}

/// The ops that write the header of `after` to the outbox in place of `before` (`None`: a
/// new message), with its `due` entry moved, added or removed to match. Items are not
/// written ([`item_ops`]).
pub fn header_ops(before: Option<&MessageHeader>, after: &MessageHeader) -> Vec<Op> {
    let mut ops = Vec::with_capacity(3);
    let old = before.and_then(due_key);
    let new = due_key(after);
    if let Some(old) = old.filter(|k| Some(*k) != new) {
        ops.push(Op::Delete(Tree::Due, old.to_vec()));
    }
    ops.push(Op::Put(
        Tree::Outbox,
        keys::id(after.id).to_vec(),
        encode(after),
    ));
    if let Some(new) = new.filter(|k| Some(*k) != old) {
        ops.push(Op::Put(Tree::Due, new.to_vec(), Vec::new()));
    }
    ops
}

/// The ops that store `items` as the items of message `id` from place `first` on (items
/// once stored never change: a message only grows).
pub fn item_ops(id: u64, first: u32, items: &[Item]) -> Vec<Op> {
    (first..)
        .zip(items)
        .map(|(place, item)| {
            Op::Put(
                Tree::MessageItems,
                keys::message_item(id, place).to_vec(),
                encode(item),
            )
        })
        .collect()
}

/// The ops that write `after` to the outbox in place of `before` (`None`: a new message): its
/// header with its `due` entry ([`header_ops`]) and the items `before` did not have.
pub fn put_ops(before: Option<&Message>, after: &Message) -> Vec<Op> {
    let had = before.map_or(0, |b| b.items.len()).min(after.items.len());
    let mut ops = header_ops(before.map(Message::header).as_ref(), &after.header());
    ops.extend(item_ops(
        after.id,
        u32::try_from(had).unwrap_or(u32::MAX),
        &after.items[had..],
    ));
    ops
}

/// The ops that move a delivered message (`before`: as it was in the outbox) out of the
/// outbox and its `due` entry, into `delivered`: its header only (its items stay where they
/// are, under its id).
pub fn delivered_ops(before: &Message, delivered: &Message) -> Vec<Op> {
    let id = keys::id(delivered.id).to_vec();
    let mut ops = vec![
        Op::Delete(Tree::Outbox, id.clone()),
        Op::Put(Tree::Delivered, id, encode(&delivered.header())),
    ];
    if let Some(old) = due_key(&before.header()) {
        ops.push(Op::Delete(Tree::Due, old.to_vec()));
    }
    ops
}

/// Applies an attempt's result to the message.
pub fn record_attempt(
    m: &mut Message,
    result: Delivery,
    now: DateTime<Utc>,
    policy: &RetryPolicy,
) -> After {
    m.attempts += 1;
    match result {
        Delivery::Delivered(receipt) => {
            m.status = MessageStatus::Delivered;
            m.delivered_at = Some(now);
            m.receipt = Some(receipt);
            m.next_attempt = None;
            After::Delivered
        }
        Delivery::Transient(error) if m.attempts < policy.max_attempts => {
            let wait = chrono::Duration::from_std(policy.delay(m.attempts))
                .unwrap_or(chrono::Duration::zero());
            m.status = MessageStatus::Retrying;
            m.next_attempt = Some(now + wait);
            m.last_error = Some(error);
            After::Retry
        }
        Delivery::Transient(error) => {
            m.status = MessageStatus::Dead;
            m.next_attempt = None;
            m.last_error = Some(format!("gave up after {} attempts: {error}", m.attempts));
            After::Dead
        }
        Delivery::Permanent(error) => {
            m.status = MessageStatus::Dead;
            m.next_attempt = None;
            m.last_error = Some(error);
            After::Dead
        }
        Delivery::Bounced { roles, reason } => {
            m.status = MessageStatus::Dead;
            m.next_attempt = None;
            m.last_error = Some(format!("bounced: {reason}"));
            After::Bounced(roles)
        }
    }
}

/// Puts a dead message back in line for an immediate attempt (`POST /v1/outbox/{id}/retry`).
pub fn requeue(m: &mut Message) -> bool {
    if m.status != MessageStatus::Dead {
        return false;
    }
    m.status = MessageStatus::Retrying;
    m.attempts = 0;
    m.next_attempt = None;
    true
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use relance_dsl::ir::Action;

    /// A sealed, pending email message with id 1 (other modules' tests use it too).
    pub(crate) fn message() -> Message {
        Message {
            id: 1,
            key: "F-1/v/reminder-1/1/0".into(),
            group: "g".into(),
            date: "2026-02-03".parse().expect("date"),
            customer: "ACME".into(),
            channel: "email".into(),
            text: "email \"reminder-1\" to accounting".into(),
            action: Action::Email {
                template: "reminder-1".into(),
                to: vec!["accounting".into()],
                cc: vec![],
            },
            scenario: "s".into(),
            items: vec![],
            status: MessageStatus::Pending,
            sealed: true,
            attempts: 0,
            next_attempt: None,
            last_error: None,
            rendered: None,
            delivered_at: None,
            receipt: None,
        }
    }

    fn t0() -> DateTime<Utc> {
        "2026-02-03T06:00:00Z".parse().expect("instant")
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_secs(10),
            max_delay: Duration::from_secs(60),
        };
        let delays: Vec<u64> = (1..=5).map(|n| p.delay(n).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 60, 60]);
    }

    #[test]
    fn transient_failures_retry_with_backoff_then_dead_letter() {
        let p = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_secs(10),
            max_delay: Duration::from_secs(3600),
        };
        let mut m = message();
        let mut now = t0();
        assert!(due(&m.header(), now));
        assert_eq!(
            record_attempt(&mut m, Delivery::Transient("421 busy".into()), now, &p),
            After::Retry
        );
        assert_eq!(m.next_attempt, Some(now + chrono::Duration::seconds(10)));
        assert!(
            !due(&m.header(), now + chrono::Duration::seconds(9)),
            "not before the backoff"
        );
        now += chrono::Duration::seconds(10);
        assert!(due(&m.header(), now));
        assert_eq!(
            record_attempt(&mut m, Delivery::Transient("421 busy".into()), now, &p),
            After::Retry
        );
        assert_eq!(m.next_attempt, Some(now + chrono::Duration::seconds(20)));
        now += chrono::Duration::seconds(20);
        assert_eq!(
            record_attempt(&mut m, Delivery::Transient("421 busy".into()), now, &p),
            After::Dead
        );
        assert_eq!(m.status, MessageStatus::Dead);
        assert!(
            !due(&m.header(), now + chrono::Duration::days(1)),
            "a dead letter is never retried by itself"
        );
        assert!(
            m.last_error
                .as_deref()
                .is_some_and(|e| e.contains("after 3 attempts"))
        );
        assert!(requeue(&mut m));
        assert!(due(&m.header(), now));
    }

    #[test]
    fn permanent_errors_and_bounces_dead_letter_at_once() {
        let p = RetryPolicy::default();
        let mut m = message();
        assert_eq!(
            record_attempt(&mut m, Delivery::Permanent("no webhook".into()), t0(), &p),
            After::Dead
        );
        let mut m = message();
        let bounced = Delivery::Bounced {
            roles: vec!["accounting".into()],
            reason: "550 mailbox unavailable".into(),
        };
        assert_eq!(
            record_attempt(&mut m, bounced, t0(), &p),
            After::Bounced(vec!["accounting".into()])
        );
        assert_eq!(m.status, MessageStatus::Dead);
    }

    #[test]
    fn a_message_is_sealed_only_once_its_day_has_run() {
        let mut m = message();
        m.sealed = false;
        assert!(!sealable(&m.header(), None));
        assert!(!sealable(&m.header(), "2026-02-02".parse().ok()));
        assert!(sealable(&m.header(), "2026-02-03".parse().ok()));
        assert!(!due(&m.header(), t0()), "an unsealed message is not sent");
    }

    /// Each move of a message keeps its `due` entry with it: moved with a retry, removed
    /// when it dies or is delivered, back on a requeue, untouched when it does not move.
    #[test]
    fn writes_keep_the_due_index() {
        let due_ops = |ops: &[Op]| -> Vec<(bool, u64, u64)> {
            ops.iter()
                .filter_map(|op| match op {
                    Op::Put(Tree::Due, k, _) => keys::parse_due(k).map(|(at, id)| (true, at, id)),
                    Op::Delete(Tree::Due, k) => keys::parse_due(k).map(|(at, id)| (false, at, id)),
                    _ => None,
                })
                .collect()
        };
        let pending = message();
        assert_eq!(due_ops(&put_ops(None, &pending)), [(true, 0, 1)]);
        assert!(due_ops(&put_ops(Some(&pending), &pending)).is_empty());

        let now: DateTime<Utc> = "2026-02-03T08:00:00Z".parse().expect("instant");
        let policy = RetryPolicy {
            max_attempts: 2,
            base: Duration::from_secs(30),
            max_delay: Duration::from_secs(60),
        };
        let mut retrying = pending.clone();
        record_attempt(
            &mut retrying,
            Delivery::Transient("down".into()),
            now,
            &policy,
        );
        let at = (now.timestamp_millis() + 30_000) as u64;
        assert_eq!(
            due_ops(&put_ops(Some(&pending), &retrying)),
            [(false, 0, 1), (true, at, 1)]
        );
        assert!(due(&retrying.header(), now + chrono::Duration::seconds(30)));
        assert!(due_until(now) <= due_key(&retrying.header()).expect("indexed"));
        assert!(
            due_until(now + chrono::Duration::seconds(30))
                > due_key(&retrying.header()).expect("indexed")
        );

        let mut dead = retrying.clone();
        record_attempt(&mut dead, Delivery::Transient("down".into()), now, &policy);
        assert_eq!(dead.status, MessageStatus::Dead);
        assert_eq!(due_ops(&put_ops(Some(&retrying), &dead)), [(false, at, 1)]);
        assert_eq!(due_key(&dead.header()), None);

        let mut again = dead.clone();
        assert!(requeue(&mut again));
        assert_eq!(due_ops(&put_ops(Some(&dead), &again)), [(true, 0, 1)]);

        let mut sent = again.clone();
        record_attempt(&mut sent, Delivery::Delivered("ok".into()), now, &policy);
        let ops = delivered_ops(&again, &sent);
        assert_eq!(due_ops(&ops), [(false, 0, 1)]);
        assert!(
            ops.iter()
                .any(|op| matches!(op, Op::Delete(Tree::Outbox, _)))
        );
        assert!(
            ops.iter()
                .any(|op| matches!(op, Op::Put(Tree::Delivered, _, _)))
        );
    }
}
