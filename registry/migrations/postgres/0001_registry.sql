-- Published component versions. Versions are immutable: a row is never
-- updated except to yank it.
CREATE TABLE versions (
    name         TEXT NOT NULL,
    version      TEXT NOT NULL,
    world        TEXT NOT NULL,
    digest       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    publisher    TEXT NOT NULL,
    published_ms BIGINT NOT NULL,
    yanked       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (name, version)
);
