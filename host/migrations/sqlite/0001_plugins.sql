-- Per-plugin key-value store. A plugin's usage is the sum of the lengths of
-- its keys and values; the runtime enforces the quota on every write.
CREATE TABLE plugin_kv (
    plugin TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  BLOB NOT NULL,
    PRIMARY KEY (plugin, key)
);

-- Alerts raised by plugins (flags) and by the runtime (quarantine).
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_ms INTEGER NOT NULL,
    severity   TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    source     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    room       TEXT,
    message_id TEXT
);
CREATE INDEX alerts_by_time ON alerts (created_ms);
