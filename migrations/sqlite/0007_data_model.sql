-- The data model (data-model.md §1): tables and fields discovered by sync, their cached field
-- values, and each database's sync progress. Ids are never reused; sync deactivates instead of
-- deleting. `edited` lists the attributes set by an edit, which sync never overwrites (§2.9).
-- A table without a schema (SQLite) stores `schema` as ''.

ALTER TABLE metabase_database ADD COLUMN initial_sync_status TEXT NOT NULL DEFAULT 'incomplete';
ALTER TABLE metabase_database ADD COLUMN sync_state TEXT NOT NULL DEFAULT 'idle';
ALTER TABLE metabase_database ADD COLUMN sync_last_started_at INTEGER;
ALTER TABLE metabase_database ADD COLUMN sync_last_finished_at INTEGER;
ALTER TABLE metabase_database ADD COLUMN sync_last_succeeded_at INTEGER;
ALTER TABLE metabase_database ADD COLUMN sync_last_error TEXT;

CREATE TABLE metabase_table (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    db_id                   INTEGER NOT NULL REFERENCES metabase_database (id) ON DELETE CASCADE,
    schema                  TEXT    NOT NULL,
    name                    TEXT    NOT NULL,
    display_name            TEXT    NOT NULL,
    description             TEXT,
    entity_type             TEXT,
    visibility_type         TEXT,
    active                  BOOLEAN NOT NULL DEFAULT TRUE,
    field_order             TEXT    NOT NULL DEFAULT 'database',
    initial_sync_status     TEXT    NOT NULL DEFAULT 'incomplete',
    caveats                 TEXT,
    points_of_interest      TEXT,
    show_in_getting_started BOOLEAN NOT NULL DEFAULT FALSE,
    edited                  TEXT    NOT NULL DEFAULT '',
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    deactivated_at          INTEGER,
    UNIQUE (db_id, schema, name)
);

CREATE TABLE metabase_field (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    table_id                   INTEGER NOT NULL REFERENCES metabase_table (id) ON DELETE CASCADE,
    name                       TEXT    NOT NULL,
    display_name               TEXT    NOT NULL,
    description                TEXT,
    database_type              TEXT    NOT NULL,
    base_type                  TEXT    NOT NULL,
    effective_type             TEXT    NOT NULL,
    semantic_type              TEXT,
    coercion_strategy          TEXT,
    fk_target_field_id         INTEGER REFERENCES metabase_field (id) ON DELETE SET NULL,
    visibility_type            TEXT    NOT NULL DEFAULT 'normal',
    has_field_values           TEXT,
    position                   INTEGER NOT NULL DEFAULT 0,
    custom_position            INTEGER NOT NULL DEFAULT 0,
    has_custom_position        BOOLEAN NOT NULL DEFAULT FALSE,
    database_position          INTEGER NOT NULL,
    database_is_pk             BOOLEAN NOT NULL DEFAULT FALSE,
    database_is_nullable       BOOLEAN NOT NULL DEFAULT TRUE,
    database_required          BOOLEAN NOT NULL DEFAULT FALSE,
    database_is_auto_increment BOOLEAN NOT NULL DEFAULT FALSE,
    database_default           TEXT,
    database_is_generated      BOOLEAN NOT NULL DEFAULT FALSE,
    active                     BOOLEAN NOT NULL DEFAULT TRUE,
    json_unfolding             BOOLEAN NOT NULL DEFAULT FALSE,
    preview_display            BOOLEAN NOT NULL DEFAULT TRUE,
    settings                   TEXT,
    nfc_path                   TEXT,
    fingerprint                TEXT,
    last_analyzed              INTEGER,
    caveats                    TEXT,
    points_of_interest         TEXT,
    edited                     TEXT    NOT NULL DEFAULT '',
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL,
    UNIQUE (table_id, name)
);
CREATE INDEX metabase_field_fk_target ON metabase_field (fk_target_field_id);

CREATE TABLE metabase_fieldvalues (
    field_id              INTEGER PRIMARY KEY REFERENCES metabase_field (id) ON DELETE CASCADE,
    "values"              TEXT    NOT NULL,
    human_readable_values TEXT,
    has_more_values       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
