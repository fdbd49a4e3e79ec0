-- 0007: content scans.

-- The findings of one layer under one rule set (its fingerprint), as the
-- JSON of a report: a layer is scanned once.
CREATE TABLE scan_cache (
    layer       TEXT NOT NULL,
    rules       TEXT NOT NULL,
    report      TEXT NOT NULL,
    scanned_at  TEXT NOT NULL,
    PRIMARY KEY (layer, rules)
);

-- What the scan of an install found (`1 high, 2 medium`); NULL before
-- scanning existed.
ALTER TABLE installs ADD COLUMN findings TEXT;
