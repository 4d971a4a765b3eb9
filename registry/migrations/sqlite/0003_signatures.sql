-- A publisher's ed25519 signature over a version's name, version and
-- digest, when it was published signed (see docs/registry.md).
ALTER TABLE versions ADD COLUMN signer TEXT;
ALTER TABLE versions ADD COLUMN signature TEXT;
