-- 0002: the audit history of installs, and a per-install upgrade policy.

-- Every change to an install, by the CLI or the scheduler, and its outcome.
CREATE TABLE history (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,                 -- RFC 3339
    action        TEXT NOT NULL,                 -- install, upgrade, remove, rollback, pin, unpin, policy
    actor         TEXT NOT NULL CHECK (actor IN ('cli', 'auto')),
    skill         TEXT NOT NULL,
    target        TEXT NOT NULL,
    from_version  TEXT,
    to_version    TEXT,
    from_digest   TEXT,
    to_digest     TEXT,
    outcome       TEXT NOT NULL,                 -- ok, refused, failed
    message       TEXT
);
CREATE INDEX history_skill ON history (skill);

-- NULL: the configured default policy.
ALTER TABLE installs ADD COLUMN policy TEXT;
