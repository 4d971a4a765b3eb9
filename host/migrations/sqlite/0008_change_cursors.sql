-- Change cursors are allocated as MAX(rooms.changed) + 1 inside the write
-- transaction (writes are serial in SQLite); the counter row is gone.
DROP TABLE change_counter;
