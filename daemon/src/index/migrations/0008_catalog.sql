-- 0008: the catalog of the skills in configured registries, read from
-- manifests alone.

-- One repository a source listed, and the tag list it had when last read
-- (its hash): an unchanged list costs one request and nothing else. The
-- version a search shows without filters (newest published, else newest)
-- is kept here, so such a search reads one row per repository.
CREATE TABLE catalog_repos (
    id          INTEGER PRIMARY KEY,
    registry    TEXT NOT NULL,          -- canonical host[:port]
    path        TEXT NOT NULL,
    name        TEXT NOT NULL,          -- the path's last segment
    tags_hash   TEXT NOT NULL,
    checked_at  TEXT NOT NULL,
    shown_tag   TEXT,                   -- NULL: no skill version
    shown       INTEGER,                -- its catalog_manifests id
    versions    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (registry, path)
);

-- A manifest read once by digest (never fetched again). `skill` is 0 for
-- a manifest that is not a skill image, kept so it is not asked again.
-- Text fields are the annotations, bounded and without control characters.
CREATE TABLE catalog_manifests (
    id             INTEGER PRIMARY KEY,
    digest         TEXT NOT NULL UNIQUE,
    skill          INTEGER NOT NULL,
    version        TEXT,
    status         TEXT,
    display_name   TEXT,
    description    TEXT NOT NULL DEFAULT '',
    namespace      TEXT,
    authors        TEXT,
    license        TEXT,
    compatibility  TEXT,
    tags_json      TEXT NOT NULL DEFAULT '[]',
    word_count     INTEGER NOT NULL DEFAULT 0,
    created        TEXT,
    source         TEXT,
    revision       TEXT
);

-- A manifest's tags (`io.skillimage.tags`), lower-cased, for filters.
CREATE TABLE catalog_keywords (
    manifest  INTEGER NOT NULL REFERENCES catalog_manifests (id) ON DELETE CASCADE,
    keyword   TEXT NOT NULL,
    PRIMARY KEY (manifest, keyword)
) WITHOUT ROWID;

-- Each tag of a repository and the manifest it names.
CREATE TABLE catalog_tags (
    repo      INTEGER NOT NULL REFERENCES catalog_repos (id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    manifest  INTEGER NOT NULL REFERENCES catalog_manifests (id),
    PRIMARY KEY (repo, tag)
);
CREATE INDEX catalog_tags_manifest ON catalog_tags (manifest);

-- The text searched, one row per repository (rowid = catalog_repos.id):
-- its path, and the title, description and tags of its shown version.
CREATE VIRTUAL TABLE catalog_text USING fts5 (path, title, description, tags);

-- When the catalog was last refreshed.
CREATE TABLE catalog_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
