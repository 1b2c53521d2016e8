-- Schema 5 of the daemon's store (engine/daemon/src/store.rs): a message's items stored apart
-- from it, one row per item, keyed by the message id (8 bytes) and the item's place (4 bytes,
-- both big-endian). The daemon's own migration (engine/daemon/src/migrate.rs) moves the items
-- of existing messages here when it opens a store of schema 4.
CREATE TABLE tree_message_items (key bytea PRIMARY KEY, value bytea NOT NULL);
