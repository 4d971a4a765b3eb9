-- Low-code pages: the current schema of each page and every saved revision.
CREATE TABLE pages (
    id         TEXT PRIMARY KEY,
    revision   INTEGER NOT NULL,
    schema     TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE page_revisions (
    id       TEXT NOT NULL,
    revision INTEGER NOT NULL,
    schema   TEXT NOT NULL,
    saved_ms INTEGER NOT NULL,
    saved_by TEXT NOT NULL,
    PRIMARY KEY (id, revision)
);
