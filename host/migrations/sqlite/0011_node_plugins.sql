-- What each node of a cluster runs: after every change an admin makes on
-- any node, each node brings its plugins to the saved deployments and
-- records here which version it runs, or why it could not.
CREATE TABLE node_plugins (
    node       TEXT NOT NULL,
    plugin     TEXT NOT NULL,
    version    TEXT NOT NULL,
    digest     TEXT NOT NULL,
    error      TEXT,
    applied_ms BIGINT NOT NULL,
    PRIMARY KEY (node, plugin)
);
