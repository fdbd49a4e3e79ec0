-- 0005: installs that are links, installs a project's lock made, and swaps
-- made as one.

-- An install that is a link to another install's folder (the one copy of
-- a skill installed into several targets): that folder's path. NULL for a
-- folder of its own.
ALTER TABLE installs ADD COLUMN link_of TEXT;
CREATE INDEX installs_link_of ON installs (link_of) WHERE link_of IS NOT NULL;

-- The project root whose skills.lock.json this install was synced from;
-- NULL for an install by hand.
ALTER TABLE installs ADD COLUMN project TEXT;

-- Swaps of one sync share a batch: at start, a batch interrupted half-way
-- is undone whole (a project never keeps half of a set).
ALTER TABLE pending ADD COLUMN batch TEXT;
