-- Per-plugin settings an admin (or the demo manifest) set over the server's
-- defaults, as JSON: {"failure_policy": "fail-closed"}.
ALTER TABLE deployments ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';

-- Facts about this installation, e.g. that the demo finished installing.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
