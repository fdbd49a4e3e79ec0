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
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    target        TEXT NOT NULL,
    path          TEXT NOT NULL UNIQUE,
    source_ref    TEXT NOT NULL,
    digest        TEXT NOT NULL,
    version       TEXT,
    installed_at  TEXT NOT NULL,
    installed_by  TEXT NOT NULL CHECK (installed_by IN ('cli', 'auto'))
);
CREATE INDEX installs_name ON installs (name);
