-- Data permissions (people-and-groups.md §9): one row per (non-admin group, database) with the
-- five values of the graph. Administrators are never stored (they always have everything).
-- Rows are created when a database or a group is created, and at start-up for any pair that
-- lacks one; rows of deleted groups are ignored by every reader.
CREATE TABLE data_permission (
    group_id       INTEGER NOT NULL,
    database_id    INTEGER NOT NULL,
    view_data      TEXT    NOT NULL,
    create_queries TEXT    NOT NULL,
    download       TEXT    NOT NULL,
    data_model     TEXT    NOT NULL,
    details        TEXT    NOT NULL,
    PRIMARY KEY (group_id, database_id)
);
CREATE INDEX data_permission_database ON data_permission (database_id);

CREATE TABLE data_permission_revision (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    before_graph TEXT    NOT NULL,
    after_graph  TEXT    NOT NULL,
    user_id      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
