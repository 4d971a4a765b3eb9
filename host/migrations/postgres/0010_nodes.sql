-- The nodes of a cluster, for node discovery (`GET /api/lbs`): each node
-- refreshes its row every few seconds; a row not refreshed within the
-- list's TTL is a node that is gone.
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    connections  BIGINT NOT NULL,
    started_ms   BIGINT NOT NULL,
    refreshed_ms BIGINT NOT NULL
);
