-- Chat: conversations (rooms), their messages, and read positions.

-- Change cursors: every change to a room takes the next value, so a client
-- syncs its conversation list with "what changed after N". Writers that
-- take values hold a shared advisory lock until they commit, and readers
-- take it exclusively for an instant (see hangar-storage's db module).
CREATE SEQUENCE room_changes;

CREATE TABLE rooms (
    id          TEXT PRIMARY KEY,
    customer    TEXT NOT NULL,
    agent       TEXT,
    status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    -- Bumped when the room's history is reset: clients drop their cache.
    epoch       BIGINT NOT NULL,
    -- Sequence of the newest message; never decreases.
    head_seq    BIGINT NOT NULL DEFAULT 0,
    created_ms  BIGINT NOT NULL,
    last_ms     BIGINT NOT NULL,
    last_sender TEXT,
    last_text   TEXT,
    changed     BIGINT NOT NULL
);
CREATE INDEX rooms_by_change ON rooms (changed);
-- A customer has at most one open conversation.
CREATE UNIQUE INDEX rooms_one_open_per_customer ON rooms (customer) WHERE status = 'open';

CREATE TABLE messages (
    room        TEXT NOT NULL REFERENCES rooms (id),
    seq         BIGINT NOT NULL,
    id          TEXT NOT NULL UNIQUE,
    sender      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('user', 'bot')),
    text        TEXT NOT NULL,
    time_ms     BIGINT NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]',
    client_id   TEXT,
    PRIMARY KEY (room, seq)
);
-- Sends are idempotent by (sender, client message id).
CREATE UNIQUE INDEX messages_idempotency ON messages (sender, client_id) WHERE client_id IS NOT NULL;

CREATE TABLE read_positions (
    room   TEXT NOT NULL REFERENCES rooms (id),
    "user" TEXT NOT NULL,
    seq    BIGINT NOT NULL,
    PRIMARY KEY (room, "user")
);
