-- Where each stored object's bytes are. New objects stay where their merge
-- wrote them (`merged/<upload id>`): publishing by renaming would be a
-- server-side copy on S3, limited to 5 GiB. Older objects keep their place.
ALTER TABLE upload_objects ADD COLUMN location TEXT NOT NULL DEFAULT '';
UPDATE upload_objects SET location = 'objects/' || substr(sha256, 1, 2) || '/' || sha256;

-- Blobs nothing refers to any more, recorded in the transaction that
-- orphans them and forgotten once deleted: a crash in between leaves the
-- row, and the next sweep (on any node) deletes the blob.
CREATE TABLE blob_trash (
    location TEXT PRIMARY KEY,
    since_ms INTEGER NOT NULL
);
