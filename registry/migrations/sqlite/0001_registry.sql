-- Published component versions. Versions are immutable: a row is never
-- updated except to yank it.
CREATE TABLE versions (
    name         TEXT NOT NULL,
    version      TEXT NOT NULL,
    world        TEXT NOT NULL,
    digest       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    publisher    TEXT NOT NULL,
    published_ms INTEGER NOT NULL,
    yanked       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (name, version)
);
