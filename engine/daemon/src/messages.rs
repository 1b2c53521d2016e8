//! Reading outbox and delivered messages as they are stored since schema 5: a
//! [`MessageHeader`] under the message id in `outbox` (not delivered yet) or `delivered`, and
//! its items apart in `message_items`, keyed by the message id and the item's place (so one
//! message's items are one prefix range, in order). A message keeps its items where they are
//! when it is delivered: only its header moves.
//!
//! This module owns putting a message back together (its header, then its items, their count
//! and places checked against the header); the ops that write headers and items are
//! `outbox::put_ops` and `outbox::item_ops`. It must not decide anything about a message.

use super::error::DaemonError;
use super::keys;
use super::model::{Item, Message, MessageHeader, decode};
use super::store::{Store, Tree};

/// The header stored under message `id` in `tree` (`outbox` or `delivered`).
pub fn header(
    store: &dyn Store,
    tree: Tree,
    id: u64,
) -> Result<Option<MessageHeader>, DaemonError> {
    store
        .get(tree, &keys::id(id))?
        .map(|v| decode("message", &v))
        .transpose()
}

/// The items of the message `h` heads, in order: its first `h.item_count` items, at places
/// 0, 1, … (fewer is a damaged store, named as such). Items are only ever appended, each with
/// its header's new count in one commit; a reader outside the writer lock that read the
/// header before a join may find the joined item too, which is not the message it read and is
/// left out (`relance store verify`, with nothing writing, checks the counts exactly).
pub fn items(store: &dyn Store, h: &MessageHeader) -> Result<Vec<Item>, DaemonError> {
    let stored = store.prefix(Tree::MessageItems, &keys::id(h.id), h.item_count as usize)?;
    if stored.len() != h.item_count as usize {
        return Err(fewer_items(h, stored.len()));
    }
    stored
        .iter()
        .enumerate()
        .map(|(place, (k, v))| match keys::parse_message_item(k) {
            Some((_, index)) if index as usize == place => decode("message item", v),
            _ => Err(DaemonError::Corrupt(format!(
                "message {}: item {place} is missing from message_items",
                h.id
            ))),
        })
        .collect()
}

/// The damaged store of a message `h` whose items in `message_items` are `found`, not
/// `h.item_count`.
fn fewer_items(h: &MessageHeader, found: usize) -> DaemonError {
    DaemonError::Corrupt(format!(
        "message {} has {found} item(s) in message_items, its header says {}",
        h.id, h.item_count
    ))
}

/// The whole message `h` heads.
pub fn whole(store: &dyn Store, h: MessageHeader) -> Result<Message, DaemonError> {
    let items = items(store, &h)?;
    Ok(h.with_items(items))
}

/// The whole message stored under `id` in `tree`.
pub fn read(store: &dyn Store, tree: Tree, id: u64) -> Result<Option<Message>, DaemonError> {
    header(store, tree, id)?
        .map(|h| whole(store, h))
        .transpose()
}

/// The whole message of a stored header `bytes`.
pub fn decode_whole(store: &dyn Store, bytes: &[u8]) -> Result<Message, DaemonError> {
    whole(store, decode("message", bytes)?)
}

/// Items of other messages [`all`] accepts reading past in its one range read, beyond twice
/// the items it wants.
pub const RANGE_SLACK: usize = 256;

/// Every message of `tree`, whole, in id order: the headers in one range read, then the
/// items of the ids between the first and the last header in one more (not one read per
/// message: on PostgreSQL each read is a round trip). Items of messages of the other tree that
/// fall in that range are skipped undecoded; when they are many (the range holds more than
/// twice the items the headers count, plus [`RANGE_SLACK`]: an old dead letter in the outbox
/// puts every message delivered since inside the range), the range read stops there and each
/// message's items are read by its own prefix instead. Each message takes its first
/// `item_count` items, as [`items`] does.
pub fn all(store: &dyn Store, tree: Tree) -> Result<Vec<Message>, DaemonError> {
    let headers: Vec<MessageHeader> = store
        .range(tree, &[], None, usize::MAX)?
        .iter()
        .map(|(_, v)| decode("message", v))
        .collect::<Result<_, _>>()?;
    let (Some(first), Some(last)) = (headers.first(), headers.last()) else {
        return Ok(Vec::new());
    };
    let wanted: std::collections::HashMap<u64, usize> = headers
        .iter()
        .map(|h| (h.id, h.item_count as usize))
        .collect();
    let mut items: std::collections::HashMap<u64, Vec<(u32, Item)>> =
        std::collections::HashMap::with_capacity(headers.len());
    let counted: usize = wanted.values().sum();
    let limit = counted.saturating_mul(2).saturating_add(RANGE_SLACK);
    let end = keys::prefix_end(&keys::id(last.id));
    let ranged = store.range(
        Tree::MessageItems,
        &keys::id(first.id),
        end.as_deref(),
        limit.saturating_add(1),
    )?;
    if ranged.len() > limit {
        return headers.into_iter().map(|h| whole(store, h)).collect();
    }
    for (k, v) in ranged {
        let Some((id, place)) = keys::parse_message_item(&k) else {
            continue;
        };
        let Some(&count) = wanted.get(&id) else {
            continue;
        };
        if (place as usize) < count {
            items
                .entry(id)
                .or_default()
                .push((place, decode("message item", &v)?));
        }
    }
    headers
        .into_iter()
        .map(|h| {
            let got = items.remove(&h.id).unwrap_or_default();
            let in_place = got.iter().enumerate().all(|(i, (p, _))| *p as usize == i);
            if got.len() != h.item_count as usize || !in_place {
                return Err(fewer_items(&h, got.len()));
            }
            Ok(h.with_items(got.into_iter().map(|(_, i)| i).collect()))
        })
        .collect()
}
