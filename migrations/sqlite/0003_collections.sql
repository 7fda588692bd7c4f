-- Collections (content.md §1) and the collection permission graph (people-and-groups.md §8).
ALTER TABLE collection ADD COLUMN namespace TEXT;
ALTER TABLE collection ADD COLUMN type TEXT;
ALTER TABLE collection ADD COLUMN authority_level TEXT;
ALTER TABLE collection ADD COLUMN archived_directly BOOLEAN;
ALTER TABLE collection ADD COLUMN archive_operation_id TEXT;
ALTER TABLE collection ADD COLUMN is_sample BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX collection_location ON collection (location);

-- One row per (group, collection) that is not `none`; collection_id 0 is the root.
-- Rows of deleted groups are removed by the group service (and ignored by every reader).
CREATE TABLE collection_permission (
    group_id      INTEGER NOT NULL,
    collection_id INTEGER NOT NULL,
    level         TEXT    NOT NULL,
    PRIMARY KEY (group_id, collection_id)
);
CREATE INDEX collection_permission_collection ON collection_permission (collection_id);

CREATE TABLE collection_permission_graph_revision (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    before_graph TEXT    NOT NULL,
    after_graph  TEXT    NOT NULL,
    user_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- The Trash: on a fresh database the first collection row (id 1).
INSERT INTO collection (entity_id, name, location, type, created_at)
SELECT substr(hex(randomblob(16)), 1, 21), 'Trash', '/', 'trash',
       CAST(strftime('%s', 'now') AS INTEGER) * 1000000
WHERE NOT EXISTS (SELECT 1 FROM collection WHERE type = 'trash');

-- All Users (group 1, a fixed id) may curate the root.
INSERT INTO collection_permission (group_id, collection_id, level) VALUES (1, 0, 'write');
