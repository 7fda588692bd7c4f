-- Content: the database registry, cards, dashboards, tabs and dashcards (content.md §2, §3;
-- queries.md §1). Timestamps are microseconds since the Unix epoch (UTC).

CREATE TABLE metabase_database (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL UNIQUE,
    description      TEXT,
    engine           TEXT    NOT NULL,
    details          TEXT    NOT NULL DEFAULT '{}',
    is_sample        BOOLEAN NOT NULL DEFAULT FALSE,
    auto_run_queries BOOLEAN NOT NULL DEFAULT TRUE,
    cache_ttl        INTEGER,
    creator_id       INTEGER REFERENCES core_user (id),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- The bundled Sample Database is the first database (queries.md §1.8).
INSERT INTO metabase_database (id, name, engine, details, is_sample, created_at, updated_at)
VALUES (1, 'Sample Database', 'sqlite', '{"db":"sample-database.sqlite"}', TRUE,
        CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER),
        CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));

CREATE TABLE report_dashboard (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id           TEXT    NOT NULL UNIQUE,
    name                TEXT    NOT NULL,
    description         TEXT,
    collection_id       INTEGER REFERENCES collection (id),
    collection_position INTEGER,
    parameters          TEXT    NOT NULL DEFAULT '[]',
    width               TEXT    NOT NULL DEFAULT 'fixed',
    auto_apply_filters  BOOLEAN NOT NULL DEFAULT TRUE,
    cache_ttl           INTEGER,
    position            INTEGER,
    caveats             TEXT,
    points_of_interest  TEXT,
    archived            BOOLEAN NOT NULL DEFAULT FALSE,
    archived_directly   BOOLEAN NOT NULL DEFAULT FALSE,
    creator_id          INTEGER NOT NULL REFERENCES core_user (id),
    last_editor_id      INTEGER NOT NULL REFERENCES core_user (id),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX report_dashboard_collection ON report_dashboard (collection_id);

CREATE TABLE dashboard_tab (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id    TEXT    NOT NULL UNIQUE,
    dashboard_id INTEGER NOT NULL REFERENCES report_dashboard (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX dashboard_tab_dashboard ON dashboard_tab (dashboard_id);

CREATE TABLE report_card (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id              TEXT    NOT NULL UNIQUE,
    name                   TEXT    NOT NULL,
    description            TEXT,
    type                   TEXT    NOT NULL DEFAULT 'question',
    display                TEXT    NOT NULL,
    dataset_query          TEXT    NOT NULL,
    query_type             TEXT,
    database_id            INTEGER REFERENCES metabase_database (id) ON DELETE CASCADE,
    table_id               INTEGER,
    visualization_settings TEXT    NOT NULL DEFAULT '{}',
    parameters             TEXT    NOT NULL DEFAULT '[]',
    parameter_mappings     TEXT    NOT NULL DEFAULT '[]',
    result_metadata        TEXT,
    collection_id          INTEGER REFERENCES collection (id),
    collection_position    INTEGER,
    collection_preview     BOOLEAN NOT NULL DEFAULT TRUE,
    dashboard_id           INTEGER REFERENCES report_dashboard (id) ON DELETE CASCADE,
    dashboard_tab_id       INTEGER REFERENCES dashboard_tab (id) ON DELETE SET NULL,
    cache_ttl              INTEGER,
    archived               BOOLEAN NOT NULL DEFAULT FALSE,
    archived_directly      BOOLEAN NOT NULL DEFAULT FALSE,
    creator_id             INTEGER NOT NULL REFERENCES core_user (id),
    last_editor_id         INTEGER NOT NULL REFERENCES core_user (id),
    last_used_at           INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX report_card_collection ON report_card (collection_id);
CREATE INDEX report_card_dashboard ON report_card (dashboard_id);

CREATE TABLE report_dashboardcard (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id              TEXT    NOT NULL UNIQUE,
    dashboard_id           INTEGER NOT NULL REFERENCES report_dashboard (id) ON DELETE CASCADE,
    dashboard_tab_id       INTEGER REFERENCES dashboard_tab (id) ON DELETE CASCADE,
    card_id                INTEGER REFERENCES report_card (id) ON DELETE CASCADE,
    row                    INTEGER NOT NULL DEFAULT 0,
    col                    INTEGER NOT NULL DEFAULT 0,
    size_x                 INTEGER NOT NULL DEFAULT 4,
    size_y                 INTEGER NOT NULL DEFAULT 4,
    parameter_mappings     TEXT    NOT NULL DEFAULT '[]',
    visualization_settings TEXT    NOT NULL DEFAULT '{}',
    inline_parameters      TEXT    NOT NULL DEFAULT '[]',
    series                 TEXT    NOT NULL DEFAULT '[]',
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX report_dashboardcard_dashboard ON report_dashboardcard (dashboard_id);
CREATE INDEX report_dashboardcard_card ON report_dashboardcard (card_id);
