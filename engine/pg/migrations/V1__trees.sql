-- The store's trees (engine/daemon/src/store.rs, Tree::ALL): one table per tree, keys and
-- values as bytes (bytea compares as memcmp, the order sled gives), plus the id sequence.
-- The tables mirror the key-value store exactly; relance's records stay JSON inside value.
CREATE TABLE tree_meta (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_customers (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_invoices (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_by_customer (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_instances (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_timers (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_outbox (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_groups (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_delivered (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_agenda (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_handoffs (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_history (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_versions (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_idempotency (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_events (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_event_index (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_pending (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_imports (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_due (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE SEQUENCE relance_ids AS bigint MINVALUE 1 START 1;
