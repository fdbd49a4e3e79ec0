-- 0001: the first schema. Tagged references of the local store, and installs.

-- Tagged references in the local OCI store: a mirror of index.json with the
-- manifest's metadata, so listing never reads a blob. index.json is the
-- truth; the daemon reconciles this table with it at start.
CREATE TABLE refs (
    name           TEXT PRIMARY KEY,   -- full reference, e.g. acme/review:1.0.0-draft
    repository     TEXT NOT NULL,      -- acme/review
    tag            TEXT NOT NULL,      -- 1.0.0-draft
    digest         TEXT NOT NULL,      -- manifest digest, sha256:<hex>
    media_type     TEXT NOT NULL,
    artifact_type  TEXT,
    version        TEXT,               -- org.opencontainers.image.version
    status         TEXT,               -- io.skillimage.status
    created        TEXT,               -- org.opencontainers.image.created
    size           INTEGER NOT NULL    -- manifest + config + layers, bytes
);
CREATE INDEX refs_digest ON refs (digest);
CREATE INDEX refs_repository ON refs (repository);

-- One row per installed skill folder.
CREATE TABLE installs (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    target            TEXT NOT NULL,          -- claude, agents, ..., or dir (-o)
    path              TEXT NOT NULL UNIQUE,   -- the skill folder
    source_ref        TEXT NOT NULL,          -- the reference installed from
    registry          TEXT,                   -- its host; NULL for a local-only image
    repository        TEXT NOT NULL,
    digest            TEXT NOT NULL,          -- manifest digest
    version           TEXT,
    content_hash      TEXT NOT NULL,          -- tree digest of the folder as installed
    status            TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'modified', 'missing')),
    pinned            INTEGER NOT NULL DEFAULT 0,
    installed_at      TEXT NOT NULL,
    installed_by      TEXT NOT NULL CHECK (installed_by IN ('cli', 'auto')),
    previous_ref      TEXT,                   -- what rollback goes back to
    previous_digest   TEXT,
    previous_version  TEXT
);
CREATE INDEX installs_name ON installs (name);

-- Folder swaps in flight: written before the first rename, removed after
-- the index records the result, so start-up can finish or undo a swap a
-- crash interrupted.
CREATE TABLE pending (
    path       TEXT PRIMARY KEY,   -- the destination folder
    staged     TEXT NOT NULL,      -- the new content, ready beside it
    displaced  TEXT NOT NULL,      -- where the old folder waits during the swap
    record     TEXT NOT NULL       -- JSON of the install row to write on success
);
