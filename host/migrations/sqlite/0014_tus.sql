-- tus 1.0 uploads (docs/uploads.md, "tus"). The bytes arrive in order as
-- parts; `received` counts the bytes of the parts recorded, which exist
-- in the object store before their row does.
CREATE TABLE tus_uploads (
    id           TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    -- NULL while the length is deferred (creation-defer-length).
    length       INTEGER,
    received     INTEGER NOT NULL DEFAULT 0,
    -- Upload-Metadata as the client sent it, returned by HEAD.
    metadata     TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    concat       TEXT NOT NULL CHECK (concat IN ('none', 'partial', 'final')),
    -- A final upload's partial uploads, in order, space-separated.
    parts        TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL CHECK (state IN ('open', 'complete')),
    file_id      TEXT,
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL
);
CREATE INDEX tus_uploads_expiry ON tus_uploads (expires_ms);

-- A row exists only once its bytes are wholly in the object store.
CREATE TABLE tus_parts (
    upload_id TEXT NOT NULL REFERENCES tus_uploads (id) ON DELETE CASCADE,
    start     INTEGER NOT NULL,
    len       INTEGER NOT NULL,
    location  TEXT NOT NULL,
    PRIMARY KEY (upload_id, start)
);
