-- Cross-process API-key invalidation on SQLite (api-keys.md §4.4, key-restrictions.md §5.3):
-- every key write bumps this counter in its own transaction, and a running server, which polls
-- it, empties its key cache when another process (for example `ferrobase keys scan --revoke`)
-- moved it. PostgreSQL uses LISTEN/NOTIFY instead.
CREATE TABLE api_key_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO api_key_epoch (id, seq) VALUES (1, 0);
