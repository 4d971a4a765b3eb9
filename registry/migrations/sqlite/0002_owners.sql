-- Who may publish new versions of a package and yank its versions: its
-- first publisher, and whoever an owner adds. Packages published before
-- owners existed are owned by every publisher of their versions.
CREATE TABLE owners (
    name      TEXT NOT NULL,
    publisher TEXT NOT NULL,
    added_ms  INTEGER NOT NULL,
    PRIMARY KEY (name, publisher)
);
INSERT INTO owners (name, publisher, added_ms)
    SELECT DISTINCT name, publisher, MIN(published_ms) FROM versions GROUP BY name, publisher;

-- Every publish, yank and ownership change: who, when, what.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     INTEGER NOT NULL,
    publisher TEXT NOT NULL,
    action    TEXT NOT NULL,
    name      TEXT NOT NULL,
    detail    TEXT NOT NULL
);
