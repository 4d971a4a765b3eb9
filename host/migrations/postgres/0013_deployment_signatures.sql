-- The publisher's signature of each deployed version (JSON, NULL when it
-- was published unsigned), so a host that requires signatures checks its
-- own policy when it restores or converges on a deployment, without the
-- registry.
ALTER TABLE deployments ADD COLUMN signed TEXT;
