//! Keeping store ids unique when a store's contents move into another store (`relance
//! restore`, `relance store copy`): [`continue_ids`] moves the destination's
//! [`Store::next_id`] counter past every id found in its trees, so that the events, history
//! entries, messages and cadence orders written afterwards never take (and overwrite) the id
//! of an entry that was brought in.
//!
//! This module owns the list of where ids appear in keys ([`id_in_key`]); it must not read
//! values, and must not write anything but the id counter.

use super::{Store, StoreError, Tree, keys};

/// The meta keys of case actions: `case_action/`, the invoice, 0, the action's id.
const CASE_ACTION: &[u8] = b"case_action/";

/// The store id carried by `key` of `tree`, if that tree's keys carry one (see the trees'
/// documentation in `store.rs` and `docs/DAEMON.md`).
pub fn id_in_key(tree: Tree, key: &[u8]) -> Option<u64> {
    match tree {
        // The whole key is the id.
        Tree::Outbox | Tree::Delivered | Tree::Handoffs | Tree::Events => {
            let raw: [u8; 8] = key.try_into().ok()?;
            Some(u64::from_be_bytes(raw))
        }
        // The key ends with the id (day or owner first).
        Tree::Agenda | Tree::EventIndex | Tree::Pending | Tree::Due | Tree::History => {
            keys::trailing_id(key)
        }
        // Held and waiting messages end with their decision order; `l` keys are customers.
        Tree::Cadence if matches!(key.first(), Some(b'h' | b'w')) => keys::trailing_id(key),
        Tree::Meta if key.starts_with(CASE_ACTION) => keys::trailing_id(key),
        // The message id first, then the item's place.
        Tree::MessageItems => keys::parse_message_item(key).map(|(id, _)| id),
        _ => None,
    }
}

/// Whether some keys of `tree` carry an id (exhaustive: a new tree must be placed here).
fn carries_ids(tree: Tree) -> bool {
    match tree {
        Tree::Outbox
        | Tree::Delivered
        | Tree::Handoffs
        | Tree::Events
        | Tree::Agenda
        | Tree::EventIndex
        | Tree::Pending
        | Tree::Due
        | Tree::History
        | Tree::Cadence
        | Tree::MessageItems
        | Tree::Meta => true,
        Tree::Customers
        | Tree::Invoices
        | Tree::ByCustomer
        | Tree::Instances
        | Tree::Timers
        | Tree::Groups
        | Tree::Versions
        | Tree::Idempotency
        | Tree::Imports
        | Tree::Accounts => false,
    }
}

/// The greatest id found in the keys of `store` (0 if none).
pub fn greatest_id(store: &dyn Store) -> Result<u64, StoreError> {
    let mut greatest = 0;
    for tree in Tree::ALL.into_iter().filter(|t| carries_ids(*t)) {
        store.scan(tree, &mut |k, _| {
            if let Some(id) = id_in_key(tree, k) {
                greatest = greatest.max(id);
            }
            Ok(())
        })?;
    }
    Ok(greatest)
}

/// Makes every later [`Store::next_id`] of `store` greater than every id in its keys and at
/// least `floor` (a source store's own `next_id`, when there is one: it also covers ids that
/// were drawn but are held in no key). Returns the id the counter was moved past.
pub fn continue_ids(store: &dyn Store, floor: u64) -> Result<u64, StoreError> {
    let past = greatest_id(store)?.max(floor);
    store.advance_ids(past)?;
    Ok(past)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_only_where_keys_carry_them() {
        let id = 0x0102_0304_0506_0708u64.to_be_bytes();
        let with = |head: &[u8]| [head, &id[..]].concat();
        let cases: [(Tree, Vec<u8>, Option<u64>); 9] = [
            (Tree::Events, id.to_vec(), Some(0x0102_0304_0506_0708)),
            (Tree::Outbox, with(b""), Some(0x0102_0304_0506_0708)),
            (Tree::Outbox, with(b"x"), None),
            (Tree::History, with(b"F-1\0"), Some(0x0102_0304_0506_0708)),
            (
                Tree::Cadence,
                with(b"h\0\0\0\x01"),
                Some(0x0102_0304_0506_0708),
            ),
            (Tree::Cadence, with(b"lCUSTOMER"), None),
            (
                Tree::Meta,
                with(b"case_action/F-1\0"),
                Some(0x0102_0304_0506_0708),
            ),
            (Tree::Meta, with(b"run_watermark"), None),
            (Tree::Invoices, with(b"F-"), None),
        ];
        for (tree, key, want) in cases {
            assert_eq!(id_in_key(tree, &key), want, "{} {key:?}", tree.name());
        }
    }

    #[test]
    fn a_sled_store_continues_past_its_greatest_id_at_once_and_keeps_it() {
        use crate::store::tests::TempDir;
        use crate::store::{Op, SledStore};

        let tmp = TempDir::new("continue-ids");
        // Far past what drawing ids one by one could reach in a test.
        let far = 1u64 << 40;
        {
            let s = SledStore::open(&tmp.0).expect("open");
            s.commit(&[
                Op::Put(Tree::Events, far.to_be_bytes().to_vec(), b"{}".to_vec()),
                Op::Put(
                    Tree::Customers,
                    u64::MAX.to_be_bytes().to_vec(),
                    b"{}".to_vec(),
                ),
            ])
            .expect("commit");
            let started = std::time::Instant::now();
            assert_eq!(continue_ids(&s, 7).expect("continue"), far);
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
            assert!(s.next_id().expect("id") > far);
            assert_eq!(continue_ids(&s, 0).expect("again"), far, "idempotent");
            assert!(s.next_id().expect("id") > far);
        }
        let s = SledStore::open(&tmp.0).expect("reopen");
        assert!(s.next_id().expect("id") > far, "the id base is durable");
    }
}
