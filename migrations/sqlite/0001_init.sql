-- ferrobase application schema, SQLite flavour. Mirrors ../postgres/0001_init.sql.
-- Timestamps are microseconds since the Unix epoch (UTC) in INTEGER columns on both backends.

CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT
);

CREATE TABLE core_user (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    email            TEXT    NOT NULL UNIQUE,      -- stored lower-cased
    first_name       TEXT,
    last_name        TEXT,
    password_hash    TEXT,
    type             TEXT    NOT NULL CHECK (type IN ('personal', 'api-key')),
    is_active        BOOLEAN NOT NULL,
    is_superuser     BOOLEAN NOT NULL,
    is_qbnewb        BOOLEAN NOT NULL,
    is_installer     BOOLEAN NOT NULL DEFAULT FALSE,
    locale           TEXT,
    login_attributes TEXT,                          -- JSON object or NULL
    date_joined      INTEGER NOT NULL,
    last_login       INTEGER,
    first_login      INTEGER,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX core_user_type_active ON core_user (type, is_active);

CREATE TABLE permissions_group (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL,
    name_lower       TEXT NOT NULL UNIQUE,
    magic_group_type TEXT
);

CREATE TABLE permissions_group_membership (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id  INTEGER NOT NULL REFERENCES core_user (id),
    group_id INTEGER NOT NULL REFERENCES permissions_group (id) ON DELETE CASCADE,
    UNIQUE (user_id, group_id)
);
CREATE INDEX pgm_group ON permissions_group_membership (group_id);

CREATE TABLE core_session (
    id_digest  BLOB    PRIMARY KEY,                -- SHA-256 of the session id
    user_id    INTEGER NOT NULL REFERENCES core_user (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX core_session_user ON core_session (user_id);
CREATE INDEX core_session_created ON core_session (created_at);

CREATE TABLE collection (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id         TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    description       TEXT,
    location          TEXT    NOT NULL DEFAULT '/',
    personal_owner_id INTEGER UNIQUE REFERENCES core_user (id),
    archived          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        INTEGER NOT NULL
);

CREATE TABLE api_key (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    name                     TEXT    NOT NULL UNIQUE,
    user_id                  INTEGER NOT NULL UNIQUE REFERENCES core_user (id),
    key_hash                 BLOB    NOT NULL UNIQUE,
    key_prefix               TEXT    NOT NULL UNIQUE,
    previous_key_hash        BLOB UNIQUE,
    previous_key_prefix      TEXT,
    previous_key_valid_until INTEGER,
    expires_at               INTEGER,
    last_used_at             INTEGER,
    creator_id               INTEGER NOT NULL REFERENCES core_user (id),
    updated_by_id            INTEGER NOT NULL REFERENCES core_user (id),
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    topic     TEXT    NOT NULL,
    timestamp INTEGER NOT NULL,
    user_id   INTEGER,
    model     TEXT    NOT NULL,
    model_id  INTEGER,
    details   TEXT    NOT NULL
);
CREATE INDEX audit_log_model ON audit_log (model, model_id);
