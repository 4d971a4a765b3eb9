-- The hangar:plugin contract version a component was built against
-- (`0.1.0`, `0.2.0`), when its imports or exports tell; NULL for versions
-- published before it was recorded and for plugins that import nothing of
-- the contract.
ALTER TABLE versions ADD COLUMN contract TEXT;
