-- 0006: collections the daemon follows, and the installs they made.

-- The collection reference whose subscription installed this skill; NULL
-- for an install by hand or by a project.
ALTER TABLE installs ADD COLUMN subscription TEXT;

-- One row per followed collection. `digest` is the collection manifest
-- the targets were last converged to; `seen` the one the registry named
-- at the last check (they differ while a change is refused or only
-- reported under `notify`).
CREATE TABLE subscriptions (
    reference   TEXT PRIMARY KEY,
    targets     TEXT NOT NULL,
    mode        TEXT NOT NULL,
    policy      TEXT NOT NULL,
    digest      TEXT,
    seen        TEXT,
    name        TEXT,
    version     TEXT,
    created_at  TEXT NOT NULL,
    checked_at  TEXT,
    updated_at  TEXT,
    outcome     TEXT,
    message     TEXT
);

-- A subscription's changes are made by `subscription:<reference>`: the
-- history's actor check is widened (SQLite rebuilds the table for that).
CREATE TABLE history_new (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    action        TEXT NOT NULL,
    actor         TEXT NOT NULL CHECK (actor IN ('cli', 'auto') OR actor LIKE 'subscription:%'),
    skill         TEXT NOT NULL,
    target        TEXT NOT NULL,
    from_version  TEXT,
    to_version    TEXT,
    from_digest   TEXT,
    to_digest     TEXT,
    outcome       TEXT NOT NULL,
    message       TEXT
);
INSERT INTO history_new (id, at, action, actor, skill, target, from_version, to_version, from_digest, to_digest, outcome, message)
    SELECT id, at, action, actor, skill, target, from_version, to_version, from_digest, to_digest, outcome, message FROM history;
DROP TABLE history;
ALTER TABLE history_new RENAME TO history;
CREATE INDEX history_skill ON history (skill);
