-- Who finishes an upload's merge: a node holds the lease while it merges
-- and renews it; another node's complete waits for the upload to finish,
-- or takes the lease over once it expired (its holder died).
CREATE TABLE merge_leases (
    upload_id  TEXT PRIMARY KEY,
    node       TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
