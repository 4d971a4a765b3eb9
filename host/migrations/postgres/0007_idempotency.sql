-- A send is identified by (sender, room, client_id): the same client id in
-- another room is another message.
DROP INDEX messages_idempotency;
CREATE UNIQUE INDEX messages_idempotency ON messages (sender, room, client_id) WHERE client_id IS NOT NULL;
