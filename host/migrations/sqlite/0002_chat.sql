-- Chat: conversations (rooms), their messages, and read positions.

-- A global change counter: every change to a room takes the next value, so
-- a client syncs its conversation list with "what changed after N".
CREATE TABLE change_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO change_counter (id, value) VALUES (1, 0);

CREATE TABLE rooms (
    id          TEXT PRIMARY KEY,
    customer    TEXT NOT NULL,
    agent       TEXT,
    status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    -- Bumped when the room's history is reset: clients drop their cache.
    epoch       INTEGER NOT NULL,
    -- Sequence of the newest message; never decreases.
    head_seq    INTEGER NOT NULL DEFAULT 0,
    created_ms  INTEGER NOT NULL,
    last_ms     INTEGER NOT NULL,
    last_sender TEXT,
    last_text   TEXT,
    changed     INTEGER NOT NULL
);
CREATE INDEX rooms_by_change ON rooms (changed);
-- A customer has at most one open conversation.
CREATE UNIQUE INDEX rooms_one_open_per_customer ON rooms (customer) WHERE status = 'open';

CREATE TABLE messages (
    room        TEXT NOT NULL REFERENCES rooms (id),
    seq         INTEGER NOT NULL,
    id          TEXT NOT NULL UNIQUE,
    sender      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('user', 'bot')),
    text        TEXT NOT NULL,
    time_ms     INTEGER NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]',
    client_id   TEXT,
    PRIMARY KEY (room, seq)
);
-- Sends are idempotent by (sender, client message id).
CREATE UNIQUE INDEX messages_idempotency ON messages (sender, client_id) WHERE client_id IS NOT NULL;

CREATE TABLE read_positions (
    room TEXT NOT NULL REFERENCES rooms (id),
    user TEXT NOT NULL,
    seq  INTEGER NOT NULL,
    PRIMARY KEY (room, user)
);
