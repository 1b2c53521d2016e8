-- Two trees added after V1 (engine/daemon/src/store.rs): the contact cadence's state (each
-- customer's last contact and the messages waiting out a gap) and the account-level dunning
-- records of `per customer` sets.
CREATE TABLE tree_cadence (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tree_accounts (key bytea PRIMARY KEY, value bytea NOT NULL);
