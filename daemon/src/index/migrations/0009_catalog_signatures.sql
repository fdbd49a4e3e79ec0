-- 0009: which versions of a catalog repository have a cosign signature
-- published beside them (a `sha256-<hex>.sig` tag in its tag list, never
-- fetched by the refresh): a JSON array of manifest digests.
ALTER TABLE catalog_repos ADD COLUMN signed TEXT NOT NULL DEFAULT '[]';

-- Filters by tag are driven from the tag: its manifests, then their
-- repositories (catalog_tags_manifest), rather than from every
-- repository a broad word matches.
CREATE INDEX catalog_keywords_keyword ON catalog_keywords (keyword);

-- The lifecycle states a repository's skill versions are in, as
-- `,published,testing,` (a status filter reads this row, not every
-- version of every repository a word matches); filled in for what the
-- catalog holds, and kept by each refresh that writes the repository.
ALTER TABLE catalog_repos ADD COLUMN statuses TEXT NOT NULL DEFAULT ',';
UPDATE catalog_repos SET statuses = coalesce(
    (SELECT ',' || group_concat(DISTINCT m.status) || ','
       FROM catalog_tags t JOIN catalog_manifests m ON m.id = t.manifest
      WHERE t.repo = catalog_repos.id AND m.skill = 1
        AND m.status IN ('draft', 'testing', 'published', 'deprecated', 'archived')),
    ',');

-- skillctl's `/api/v1/skills/{ns}/{name}` finds a skill by the last
-- segment of its repository path.
CREATE INDEX catalog_repos_name ON catalog_repos (name);
