//! Byte encodings of the store's keys, chosen so that a key range scan returns records in
//! the order the daemon needs them (timers by fire date, history by decision order).
//!
//! This module owns the layouts documented in `docs/DAEMON.md`; it must not know what the
//! values hold.

use chrono::{Datelike, NaiveDate};
use relance_core::fact_order::FactKey;

/// A date as 4 big-endian bytes that sort like the dates (days from the common era, with the
/// sign bit flipped so that the order of signed values is kept).
pub fn date(d: NaiveDate) -> [u8; 4] {
    ((d.num_days_from_ce() as u32) ^ 0x8000_0000).to_be_bytes()
}

/// The inverse of [`date`].
pub fn parse_date(bytes: &[u8]) -> Option<NaiveDate> {
    let raw: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    let days = (u32::from_be_bytes(raw) ^ 0x8000_0000) as i32;
    NaiveDate::from_num_days_from_ce_opt(days)
}

/// `timers`: fire date, then the invoice id: a range scan up to a day yields due timers in
/// date order, then invoice order.
pub fn timer(d: NaiveDate, invoice: &str) -> Vec<u8> {
    let mut k = date(d).to_vec();
    k.extend_from_slice(invoice.as_bytes());
    k
}

/// The date and invoice of a `timers` key.
pub fn parse_timer(key: &[u8]) -> Option<(NaiveDate, String)> {
    let d = parse_date(key)?;
    let id = std::str::from_utf8(key.get(4..)?).ok()?;
    Some((d, id.to_string()))
}

/// `history`: the invoice id, a zero byte, the entry's sequence number (big-endian).
pub fn history(invoice: &str, seq: u64) -> Vec<u8> {
    let mut k = owner_prefix(invoice);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// `by_customer`: the customer id, a zero byte, the invoice id.
pub fn by_customer(customer: &str, invoice: &str) -> Vec<u8> {
    let mut k = owner_prefix(customer);
    k.extend_from_slice(invoice.as_bytes());
    k
}

/// The prefix of every `history` key of an invoice (or `by_customer` key of a customer).
pub fn owner_prefix(owner: &str) -> Vec<u8> {
    let mut k = owner.as_bytes().to_vec();
    k.push(0);
    k
}

/// `agenda`: the day, then the message id: a day's agenda is one range.
pub fn agenda(d: NaiveDate, id: u64) -> Vec<u8> {
    let mut k = date(d).to_vec();
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// `idempotency`: the caller (token name), a zero byte, the client's `Idempotency-Key`: keys
/// of different callers never meet.
pub fn idempotency(caller: &str, key: &str) -> Vec<u8> {
    let mut k = owner_prefix(caller);
    k.extend_from_slice(key.as_bytes());
    k
}

/// `event_index`: `i` and the invoice id, or `c` and the customer id, a zero byte, the event
/// id: an owner's facts in log order, invoice and customer ids never meeting.
pub fn event_index(owner: EventOwner<'_>, event: u64) -> Vec<u8> {
    let mut k = event_owner_prefix(owner);
    k.extend_from_slice(&event.to_be_bytes());
    k
}

/// Whose fact an event is, for [`event_index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOwner<'a> {
    Invoice(&'a str),
    Customer(&'a str),
}

/// The prefix of every `event_index` key of one owner.
pub fn event_owner_prefix(owner: EventOwner<'_>) -> Vec<u8> {
    let (tag, id) = match owner {
        EventOwner::Invoice(id) => (b'i', id),
        EventOwner::Customer(id) => (b'c', id),
    };
    let mut k = vec![tag];
    k.extend_from_slice(id.as_bytes());
    k.push(0);
    k
}

/// The event id ending an `event_index` or `pending` key.
pub fn trailing_id(key: &[u8]) -> Option<u64> {
    let raw: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(u64::from_be_bytes(raw))
}

/// `pending`: a fact's key in the canonical order of one day's facts
/// (`StoredEvent::order_key`: date, the fact's rank, import batch, file, line, event id), as
/// bytes that sort as the key does: a range scan up to a day yields the facts the day's run
/// applies, in that order. Ends with the event id ([`trailing_id`]).
pub fn pending(key: &FactKey) -> Vec<u8> {
    let mut k = date(key.date).to_vec();
    k.push(key.rank);
    k.extend_from_slice(&key.import.to_be_bytes());
    k.extend_from_slice(&key.file.to_be_bytes());
    k.extend_from_slice(&key.line.to_be_bytes());
    k.extend_from_slice(&key.receipt.to_be_bytes());
    k
}

/// The length of a [`pending`] key (a shorter one is a schema-3 key: date, event id).
pub const PENDING_LEN: usize = 4 + 1 + 8 + 4 + 8 + 8;

/// `due`: the instant a message may next be attempted (milliseconds since 1970, big-endian;
/// 0 for "now": not sealed yet, or never attempted), then its id: a range scan up to now
/// yields the messages a dispatcher pass has work for, and nothing else.
pub fn due(at_millis: u64, message: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&at_millis.to_be_bytes());
    k[8..].copy_from_slice(&message.to_be_bytes());
    k
}

/// A `message_items` key: the message id (u64 BE) and the item's place in the message (u32
/// BE), so that a message's items are one prefix range, in order.
pub fn message_item(message: u64, index: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&message.to_be_bytes());
    k[8..].copy_from_slice(&index.to_be_bytes());
    k
}

/// The message id and item index of a `message_items` key.
pub fn parse_message_item(key: &[u8]) -> Option<(u64, u32)> {
    let id: [u8; 8] = key.get(..8)?.try_into().ok()?;
    let index: [u8; 4] = key.get(8..)?.try_into().ok()?;
    Some((u64::from_be_bytes(id), u32::from_be_bytes(index)))
}

/// The instant and message id of a `due` key.
pub fn parse_due(key: &[u8]) -> Option<(u64, u64)> {
    if key.len() != 16 {
        return None;
    }
    let at: [u8; 8] = key[..8].try_into().ok()?;
    Some((u64::from_be_bytes(at), trailing_id(key)?))
}

/// `outbox`, `delivered`, `handoffs`, `events`: the message or event id, big-endian (creation order).
pub fn id(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

/// The smallest key greater than `key` (a range starting there resumes after `key`: a page's
/// cursor).
pub fn successor(key: &[u8]) -> Vec<u8> {
    let mut k = key.to_vec();
    k.push(0);
    k
}

/// The end (exclusive) of the keys `kind` + date (4 bytes) + … dated up to `day`: a range
/// bound for a tree keyed by a one-byte kind and a date (`cadence`, `accounts`).
pub fn dated_through(kind: u8, day: NaiveDate) -> Vec<u8> {
    match day.succ_opt() {
        Some(next) => {
            let mut k = vec![kind];
            k.extend_from_slice(&date(next));
            k
        }
        None => vec![kind + 1],
    }
}

/// The smallest key greater than every key starting with `prefix` (for prefix ranges).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance_core::fact_order::{Arrival, FileKind, FileLine};

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }

    #[test]
    fn dates_sort_like_their_bytes() {
        let days = [
            d("1999-12-31"),
            d("2026-01-31"),
            d("2026-02-01"),
            d("2100-01-01"),
        ];
        for w in days.windows(2) {
            assert!(date(w[0]) < date(w[1]));
        }
        assert_eq!(parse_date(&date(d("2026-02-01"))), Some(d("2026-02-01")));
    }

    #[test]
    fn timer_keys_round_trip_and_order_by_date_first() {
        let a = timer(d("2026-02-01"), "Z-9");
        let b = timer(d("2026-02-02"), "A-1");
        assert!(a < b);
        assert_eq!(parse_timer(&a), Some((d("2026-02-01"), "Z-9".to_string())));
    }

    #[test]
    fn event_index_keys_keep_invoices_and_customers_apart() {
        let inv = event_index(EventOwner::Invoice("A"), 7);
        let cust = event_index(EventOwner::Customer("A"), 7);
        assert_ne!(inv, cust);
        assert!(inv.starts_with(&event_owner_prefix(EventOwner::Invoice("A"))));
        assert_eq!(trailing_id(&inv), Some(7));
        let key = FactKey::new(d("2026-02-01"), Arrival::Api, 9);
        assert_eq!(trailing_id(&pending(&key)), Some(9));
        assert_eq!(pending(&key).len(), PENDING_LEN);
    }

    /// Every pair of a grid of keys (each field at a low and a high value, API facts too):
    /// the bytes sort exactly as the keys do.
    #[test]
    fn pending_keys_sort_as_the_canonical_order_of_a_day() {
        let mut keys = Vec::new();
        for date in [d("2026-01-31"), d("2026-02-01")] {
            for receipt in [1, u64::MAX - 1] {
                keys.push(FactKey::new(date, Arrival::Api, receipt));
                for kind in [FileKind::Fec, FileKind::Payments, FileKind::Statement] {
                    for payment in [true, false] {
                        for import in [2, 300] {
                            for file in [0, 70_000] {
                                for line in [2, 1 << 40] {
                                    let at = FileLine { kind, file, line };
                                    let arrival = Arrival::File {
                                        import,
                                        at,
                                        payment,
                                    };
                                    keys.push(FactKey::new(date, arrival, receipt));
                                }
                            }
                        }
                    }
                }
            }
        }
        for a in &keys {
            for b in &keys {
                assert_eq!(a.cmp(b), pending(a).cmp(&pending(b)), "{a:?} / {b:?}");
            }
        }
    }

    #[test]
    fn a_successor_resumes_right_after_its_key() {
        let ids = ["A-1", "A-1\u{1}", "A-10", "A-2"];
        let keys: Vec<Vec<u8>> = ids.iter().map(|i| by_customer("C", i)).collect();
        for (i, k) in keys.iter().enumerate() {
            let next = successor(k);
            assert!(*k < next);
            assert!(
                keys[i + 1..].iter().all(|later| next <= *later),
                "{}",
                ids[i]
            );
        }
        let a = agenda(d("2026-02-01"), u64::MAX);
        assert!(a < successor(&a) && successor(&a) < agenda(d("2026-02-02"), 0));
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 255]), Some(vec![2]));
        assert_eq!(prefix_end(&[255]), None);
    }
}
