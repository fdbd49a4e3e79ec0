-- 0005: an install that is a link to another install's folder (the one
-- copy of a skill installed into several targets): that folder's path.
-- NULL for a folder of its own.
ALTER TABLE installs ADD COLUMN link_of TEXT;
