-- 0004: where each manifest in the store was pulled from (registry
-- repository, canonical), so an install of a local tag of it is judged by
-- the trust rule of where its content came from, not by its new name.
CREATE TABLE origins (
    digest     TEXT NOT NULL,
    repository TEXT NOT NULL,
    PRIMARY KEY (digest, repository)
) WITHOUT ROWID;

-- Folders skilld has staged skills in (install targets and `pull -o`
-- folders), recorded before anything is written there, so leftovers of a
-- crash are found and removed at start even where no install succeeded.
CREATE TABLE staging_areas (
    path TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;
