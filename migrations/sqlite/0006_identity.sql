-- The identity marker of a ferrobase application database (docs/security.md): a warehouse that
-- holds this table is an application database, so ferrobase refuses to query it whatever path
-- or URL reached it. The marker value identifies this installation.
CREATE TABLE ferrobase_identity (
    marker TEXT NOT NULL
);
INSERT INTO ferrobase_identity (marker) VALUES (lower(hex(randomblob(16))));
