-- What the admin activated: restored at start, from the compiled cache when
-- the registry is unreachable.
CREATE TABLE deployments (
    name       TEXT PRIMARY KEY,
    version    TEXT NOT NULL,
    digest     TEXT NOT NULL,
    size       BIGINT NOT NULL,
    enabled    BIGINT NOT NULL DEFAULT 1,
    config     TEXT NOT NULL DEFAULT '{}',
    updated_ms BIGINT NOT NULL
);

-- The order of each chain: a JSON array of plugin names.
CREATE TABLE chains (
    hook    TEXT PRIMARY KEY,
    plugins TEXT NOT NULL
);
