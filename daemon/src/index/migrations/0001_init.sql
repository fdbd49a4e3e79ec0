-- 0001: the first schema. Tagged references of the local store, and installs.

-- Tagged references in the local OCI store: the fast path over index.json.
CREATE TABLE refs (
    name        TEXT PRIMARY KEY,   -- full reference, e.g. acme/review:1.0.0-draft
    digest      TEXT NOT NULL,      -- manifest digest, sha256:<hex>
    media_type  TEXT NOT NULL,
    size        INTEGER NOT NULL,
    created_at  TEXT NOT NULL       -- RFC 3339
);
CREATE INDEX refs_digest ON refs (digest);

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
