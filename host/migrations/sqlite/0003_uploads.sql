-- Upload store: stored content, uploads in progress, their chunks, files,
-- and the conversations a file was sent to.

-- Content, addressed by the SHA-256 the server computed while merging.
-- `refs` counts the files using it; the blob is removed when it reaches 0.
CREATE TABLE upload_objects (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    md5        TEXT NOT NULL,
    refs       INTEGER NOT NULL CHECK (refs >= 0),
    created_ms INTEGER NOT NULL
);

CREATE TABLE uploads (
    id               TEXT PRIMARY KEY,
    owner            TEXT NOT NULL,
    name             TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             INTEGER NOT NULL,
    md5              TEXT NOT NULL,
    chunk_size       INTEGER NOT NULL,
    chunk_count      INTEGER NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('open', 'complete')),
    -- Instant upload: the client's SHA-256 and the range it must prove.
    sha256_claim     TEXT,
    challenge_offset INTEGER,
    challenge_length INTEGER,
    proof_used       INTEGER NOT NULL DEFAULT 0,
    file_id          TEXT,
    created_ms       INTEGER NOT NULL,
    expires_ms       INTEGER NOT NULL
);
-- Opening the same file again resumes the open upload.
CREATE INDEX uploads_resume ON uploads (owner, md5, size, name) WHERE state = 'open';
CREATE INDEX uploads_expiry ON uploads (expires_ms);

-- A row exists only once the chunk is fully written and verified.
CREATE TABLE upload_chunks (
    upload_id TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    md5       TEXT NOT NULL,
    PRIMARY KEY (upload_id, idx)
);

CREATE TABLE files (
    id           TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    md5          TEXT NOT NULL,
    sha256       TEXT NOT NULL REFERENCES upload_objects (sha256),
    content_type TEXT NOT NULL,
    -- Served inline (raster images whose bytes say so), else as attachment.
    inline       INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL
);
CREATE INDEX files_by_object ON files (sha256);

-- Conversations a file was sent to as an attachment: their members may read it.
CREATE TABLE file_shares (
    file_id TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    room    TEXT NOT NULL,
    PRIMARY KEY (file_id, room)
);
