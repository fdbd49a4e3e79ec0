//! The catalog's tables: repositories with their tag-list hash, manifests
//! by digest, tags, and the searched text (FTS5, one row per repository).

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, params};

use crate::catalog::entry::Entry;

/// What the index knows of one repository.
#[derive(Debug, Default)]
pub struct KnownRepo {
    pub tags_hash: String,
    /// Tag → manifest digest.
    pub tags: HashMap<String, String>,
}

pub fn known_repo(
    conn: &Connection,
    registry: &str,
    path: &str,
) -> rusqlite::Result<Option<KnownRepo>> {
    let Some((id, tags_hash)) = conn
        .query_row(
            "SELECT id, tags_hash FROM catalog_repos WHERE registry = ?1 AND path = ?2",
            [registry, path],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT t.tag, m.digest FROM catalog_tags t JOIN catalog_manifests m ON m.id = t.manifest WHERE t.repo = ?1",
    )?;
    let tags = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(KnownRepo { tags_hash, tags }))
}

/// Whether a manifest with `digest` is indexed (and so never fetched again).
pub fn has_manifest(conn: &Connection, digest: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM catalog_manifests WHERE digest = ?1")?
        .exists([digest])
}

/// One version of a repository as stored.
#[derive(Debug, Clone)]
pub struct Version {
    pub tag: String,
    pub digest: String,
    pub entry: Entry,
}

const ENTRY_COLUMNS: &str = "m.digest, m.version, m.status, m.display_name, m.description, m.namespace, m.authors, m.license, m.compatibility, m.tags_json, m.word_count, m.created, m.source, m.revision";

fn entry_from(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<(String, Entry)> {
    let tags: String = r.get(at + 9)?;
    Ok((
        r.get(at)?,
        Entry {
            skill: true,
            version: r.get(at + 1)?,
            status: r.get(at + 2)?,
            display_name: r.get(at + 3)?,
            description: r.get(at + 4)?,
            namespace: r.get(at + 5)?,
            authors: r.get(at + 6)?,
            license: r.get(at + 7)?,
            compatibility: r.get(at + 8)?,
            tags: serde_json::from_str(&tags).unwrap_or_default(),
            word_count: r.get::<_, i64>(at + 10)?.max(0) as u64,
            created: r.get(at + 11)?,
            source: r.get(at + 12)?,
            revision: r.get(at + 13)?,
        },
    ))
}

/// What a refresh read of one repository.
#[derive(Debug, Clone, Copy)]
pub struct RepoRead<'a> {
    /// The hash of its tag list.
    pub tags_hash: &'a str,
    /// Its tags and the manifest digest each names.
    pub tags: &'a [(String, String)],
    /// The manifests new to the index, by digest.
    pub new: &'a [(String, Entry)],
    /// The digests its cosign signature tags name.
    pub signed: &'a [String],
}

/// Write what a refresh read of one repository: its tag-list hash, its
/// tags (replacing the old ones), the manifests new to the index, the
/// signed digests, and its searched text (from the version `shown` picks).
pub fn write_repo(
    tx: &Connection,
    registry: &str,
    path: &str,
    read: &RepoRead<'_>,
    now: &str,
) -> rusqlite::Result<()> {
    let RepoRead {
        tags_hash,
        tags,
        new,
        signed,
    } = *read;
    for (digest, e) in new {
        let inserted = tx.prepare_cached(
            "INSERT OR IGNORE INTO catalog_manifests (digest, skill, version, status, display_name, description, namespace, authors, license, compatibility, tags_json, word_count, created, source, revision) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?
        .execute(params![
            digest,
            e.skill,
            e.version,
            e.status,
            e.display_name,
            e.description,
            e.namespace,
            e.authors,
            e.license,
            e.compatibility,
            serde_json::to_string(&e.tags).unwrap_or_else(|_| "[]".into()),
            e.word_count as i64,
            e.created,
            e.source,
            e.revision,
        ])?;
        if inserted == 1 {
            let manifest = tx.last_insert_rowid();
            for tag in &e.tags {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO catalog_keywords (manifest, keyword) VALUES (?1, lower(?2))",
                )?
                .execute(params![manifest, tag])?;
            }
        }
    }
    tx.execute(
        "INSERT INTO catalog_repos (registry, path, name, tags_hash, checked_at, signed) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (registry, path) DO UPDATE SET tags_hash = excluded.tags_hash, checked_at = excluded.checked_at, signed = excluded.signed",
        params![
            registry,
            path,
            crate::catalog::search::name_of(path),
            tags_hash,
            now,
            serde_json::to_string(signed).unwrap_or_else(|_| "[]".into())
        ],
    )?;
    let id: i64 = tx.query_row(
        "SELECT id FROM catalog_repos WHERE registry = ?1 AND path = ?2",
        [registry, path],
        |r| r.get(0),
    )?;
    tx.execute("DELETE FROM catalog_tags WHERE repo = ?1", [id])?;
    for (tag, digest) in tags {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO catalog_tags (repo, tag, manifest) SELECT ?1, ?2, id FROM catalog_manifests WHERE digest = ?3",
        )?
        .execute(params![id, tag, digest])?;
    }
    let versions = versions_of(tx, id)?;
    tx.execute("DELETE FROM catalog_text WHERE rowid = ?1", [id])?;
    let all: Vec<&Version> = versions.iter().collect();
    let shown = crate::catalog::search::shown(&all, None);
    let mut statuses: Vec<&str> = versions
        .iter()
        .filter_map(|v| v.entry.status.as_deref())
        .filter(|s| skilld_proto::images::Lifecycle::parse(s).is_some())
        .collect();
    statuses.sort_unstable();
    statuses.dedup();
    tx.execute(
        "UPDATE catalog_repos SET shown_tag = ?2, shown = (SELECT id FROM catalog_manifests WHERE digest = ?3), versions = ?4, statuses = ?5 WHERE id = ?1",
        params![
            id,
            shown.map(|v| v.tag.as_str()),
            shown.map(|v| v.digest.as_str()),
            versions.len() as i64,
            format!(",{},", statuses.join(",")),
        ],
    )?;
    if let Some(shown) = shown {
        let e = &shown.entry;
        tx.execute(
            "INSERT INTO catalog_text (rowid, path, title, description, tags) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                path,
                e.display_name.clone().unwrap_or_default(),
                e.description,
                e.tags.join(" "),
            ],
        )?;
    }
    Ok(())
}

/// The skill versions (tags naming skill manifests) of repository `id`.
pub fn versions_of(conn: &Connection, id: i64) -> rusqlite::Result<Vec<Version>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT t.tag, {ENTRY_COLUMNS} FROM catalog_tags t JOIN catalog_manifests m ON m.id = t.manifest \
         WHERE t.repo = ?1 AND m.skill = 1"
    ))?;
    stmt.query_map([id], |r| {
        let (digest, entry) = entry_from(r, 1)?;
        Ok(Version {
            tag: r.get(0)?,
            digest,
            entry,
        })
    })?
    .collect()
}

/// Drop the repositories of `registry` not in `kept` (gone from their
/// registry or their source); the number dropped.
pub fn remove_repos_except(
    tx: &Connection,
    kept: &BTreeMap<String, Vec<String>>,
) -> rusqlite::Result<u64> {
    let all: Vec<(i64, String, String)> = tx
        .prepare("SELECT id, registry, path FROM catalog_repos")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut removed = 0;
    for (id, registry, path) in all {
        let keep = kept
            .get(&registry)
            .is_some_and(|paths| paths.binary_search(&path).is_ok());
        if !keep {
            tx.execute("DELETE FROM catalog_text WHERE rowid = ?1", [id])?;
            tx.execute("DELETE FROM catalog_repos WHERE id = ?1", [id])?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Drop one repository (gone between the list and its tags).
pub fn remove_repo(tx: &Connection, registry: &str, path: &str) -> rusqlite::Result<bool> {
    let id: Option<i64> = tx
        .query_row(
            "SELECT id FROM catalog_repos WHERE registry = ?1 AND path = ?2",
            [registry, path],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = id {
        tx.execute("DELETE FROM catalog_text WHERE rowid = ?1", [id])?;
        tx.execute("DELETE FROM catalog_repos WHERE id = ?1", [id])?;
    }
    Ok(id.is_some())
}

/// How many skill versions (tags naming skill manifests) the catalog holds.
pub fn version_count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT count(*) FROM catalog_tags t JOIN catalog_manifests m ON m.id = t.manifest WHERE m.skill = 1",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n.max(0) as u64)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO catalog_meta (key, value) VALUES (?1, ?2)",
        [key, value],
    )?;
    Ok(())
}

pub fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT value FROM catalog_meta WHERE key = ?1",
        [key],
        |r| r.get(0),
    )
    .optional()
}

/// One repository a search found, with its versions.
#[derive(Debug)]
pub struct Found {
    pub id: i64,
    pub registry: String,
    pub path: String,
    /// bm25 rank (lower is better; 0 without a query).
    pub rank: f64,
    /// Its skill versions that pass the search's filters, or without
    /// filters only the one shown.
    pub versions: Vec<Version>,
    /// How many skill versions it has.
    pub count: u32,
}

/// What a filtered search keeps: versions in `status`, of `namespace`
/// (ASCII case ignored), whose compatibility holds `compatibility` (ASCII
/// case ignored), carrying every one of `tags` (ASCII case ignored).
#[derive(Debug, Default, Clone, Copy)]
pub struct Filters<'a> {
    pub status: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub compatibility: Option<&'a str>,
    pub tags: &'a [String],
}

/// The SQL condition on manifest `m` that `filters` ask for, binding its
/// values from `?first` on (in the order of [`filter_values`]).
fn filter_sql(filters: &Filters<'_>, first: usize) -> String {
    let mut sql = format!(
        "m.skill = 1 AND (?{a} IS NULL OR m.status = ?{a}) AND (?{b} IS NULL OR m.namespace = ?{b} COLLATE NOCASE) \
         AND (?{c} IS NULL OR instr(lower(m.compatibility), lower(?{c})) > 0)",
        a = first,
        b = first + 1,
        c = first + 2
    );
    for i in 0..filters.tags.len() {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM catalog_keywords k WHERE k.manifest = m.id AND k.keyword = lower(?{}))",
            first + 3 + i
        ));
    }
    sql
}

fn filter_values<'a>(filters: &'a Filters<'a>) -> Vec<&'a dyn rusqlite::ToSql> {
    let mut values: Vec<&dyn rusqlite::ToSql> =
        vec![&filters.status, &filters.namespace, &filters.compatibility];
    for t in filters.tags {
        values.push(t);
    }
    values
}

impl Filters<'_> {
    fn any(&self) -> bool {
        self.status.is_some()
            || self.namespace.is_some()
            || self.compatibility.is_some()
            || !self.tags.is_empty()
    }
}

/// The repositories whose text matches the FTS5 expression `fts` (every
/// repository when None) and that have a skill version passing `filters`:
/// an exact `name` first, then by rank (by path without a query); `limit`
/// of them after the first `offset`, and how many there are in all. Each
/// comes with its versions that pass the filters, or without filters only
/// the version a search shows (kept in `catalog_repos`).
///
/// Ranking and filtering read integer keys and the FTS rank alone; the
/// versions' text is read only for the repositories returned, so a broad
/// word matching a third of the catalog costs its bm25 and little more.
pub fn search(
    conn: &Connection,
    fts: Option<&str>,
    name: &str,
    filters: &Filters<'_>,
    (limit, offset): (usize, usize),
) -> rusqlite::Result<(Vec<Found>, u64)> {
    let source = match fts {
        Some(_) => {
            "(SELECT rowid, bm25(catalog_text, 10.0, 5.0, 1.0, 3.0) AS rank FROM catalog_text WHERE catalog_text MATCH ?1) f \
             JOIN catalog_repos r ON r.id = f.rowid"
        }
        None => "(SELECT ?1 AS q, 0.0 AS rank) f JOIN catalog_repos r",
    };
    let mut passing = String::new();
    if let Some(status) = filters.status {
        // Only the lifecycle states are kept per repository.
        if skilld_proto::images::Lifecycle::parse(status).is_some() {
            passing.push_str(" AND instr(r.statuses, ',' || ?4 || ',') > 0");
        }
    }
    let only_status = filters.namespace.is_none()
        && filters.compatibility.is_none()
        && filters.tags.is_empty()
        && filters
            .status
            .is_some_and(|s| skilld_proto::images::Lifecycle::parse(s).is_some());
    if filters.any() && !only_status {
        // Each tag narrows the repositories first, from its own index.
        for i in 0..filters.tags.len() {
            passing.push_str(&format!(
                " AND r.id IN (SELECT tk.repo FROM catalog_keywords k JOIN catalog_tags tk ON tk.manifest = k.manifest WHERE k.keyword = lower(?{}))",
                7 + i
            ));
        }
        passing.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM catalog_tags t JOIN catalog_manifests m ON m.id = t.manifest WHERE t.repo = r.id AND {})",
            filter_sql(filters, 4)
        ));
    }
    let sql = format!(
        "SELECT r.id, r.registry, r.path, f.rank, r.versions, r.shown, r.shown_tag, count(*) OVER () \
         FROM {source} WHERE r.shown IS NOT NULL{passing} \
         ORDER BY (r.name = ?2) DESC, f.rank, r.path, r.registry, r.id LIMIT ?3 OFFSET {offset}"
    );
    let limit = limit as i64;
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![&fts, &name, &limit];
    if only_status {
        values.push(&filters.status);
    } else if filters.any() {
        values.extend(filter_values(filters));
    }
    let mut total = 0u64;
    let ranked: Vec<(Found, i64, String)> = conn
        .prepare_cached(&sql)?
        .query_map(values.as_slice(), |r| {
            Ok((
                Found {
                    id: r.get(0)?,
                    registry: r.get(1)?,
                    path: r.get(2)?,
                    rank: r.get(3)?,
                    versions: Vec::new(),
                    count: r.get::<_, i64>(4)?.max(0) as u32,
                },
                r.get(5)?,
                r.get(6)?,
                r.get::<_, i64>(7)?,
            ))
        })?
        .map(|row| {
            row.map(|(found, shown, tag, n)| {
                total = n.max(0) as u64;
                (found, shown, tag)
            })
        })
        .collect::<rusqlite::Result<_>>()?;
    if ranked.is_empty() && offset > 0 {
        // Past the last page: the count comes from the first.
        let (_, total) = search(conn, fts, name, filters, (1, 0))?;
        return Ok((Vec::new(), total));
    }
    let mut found = Vec::with_capacity(ranked.len());
    for (mut repo, shown, tag) in ranked {
        repo.versions = if filters.any() {
            passing_versions(conn, repo.id, filters)?
        } else {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM catalog_manifests m WHERE m.id = ?1"
            ))?;
            let (digest, entry) = stmt.query_row([shown], |r| entry_from(r, 0))?;
            vec![Version { tag, digest, entry }]
        };
        found.push(repo);
    }
    Ok((found, total))
}

/// The skill versions of repository `id` that pass `filters`.
fn passing_versions(
    conn: &Connection,
    id: i64,
    filters: &Filters<'_>,
) -> rusqlite::Result<Vec<Version>> {
    let sql = format!(
        "SELECT t.tag, {ENTRY_COLUMNS} FROM catalog_tags t JOIN catalog_manifests m ON m.id = t.manifest \
         WHERE t.repo = ?1 AND {}",
        filter_sql(filters, 2)
    );
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![&id];
    values.extend(filter_values(filters));
    conn.prepare_cached(&sql)?
        .query_map(values.as_slice(), |r| {
            let (digest, entry) = entry_from(r, 1)?;
            Ok(Version {
                tag: r.get(0)?,
                digest,
                entry,
            })
        })?
        .collect()
}

/// Install folders by repository (`HOST/PATH`).
pub fn installed(conn: &Connection) -> rusqlite::Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT repository, path FROM installs ORDER BY path")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (repository, path) = row?;
        out.entry(repository).or_default().push(path);
    }
    Ok(out)
}

/// The skill versions the catalog holds of `registry`/`path` (empty when
/// it does not index that repository).
pub fn versions_of_repository(
    conn: &Connection,
    registry: &str,
    path: &str,
) -> rusqlite::Result<Vec<Version>> {
    let id: Option<i64> = conn
        .query_row(
            "SELECT id FROM catalog_repos WHERE registry = ?1 AND path = ?2",
            [registry, path],
            |r| r.get(0),
        )
        .optional()?;
    match id {
        Some(id) => versions_of(conn, id),
        None => Ok(Vec::new()),
    }
}

/// One tagged skill version (skillctl's catalog row).
#[derive(Debug, Clone)]
pub struct TagRow {
    pub registry: String,
    pub path: String,
    pub version: Version,
    /// When the repository's tag list was last read (RFC 3339).
    pub checked_at: String,
}

/// What skillctl's `GET /api/v1/skills` narrows by: `query` a substring
/// of the name, title or description (ASCII case ignored; `%` and `_` are
/// plain characters), and exact status, namespace and compatibility, and
/// every one of `tags` (ASCII case ignored).
#[derive(Debug, Default, Clone, Copy)]
pub struct TagFilter<'a> {
    pub query: Option<&'a str>,
    pub status: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub compatibility: Option<&'a str>,
    pub tags: &'a [String],
}

const TAG_ROW_COLUMNS: &str = "r.registry, r.path, r.checked_at, t.tag";

fn tag_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TagRow> {
    let (digest, entry) = entry_from(r, 4)?;
    Ok(TagRow {
        registry: r.get(0)?,
        path: r.get(1)?,
        checked_at: r.get(2)?,
        version: Version {
            tag: r.get(3)?,
            digest,
            entry,
        },
    })
}

/// The WHERE clause of `filter` (after the joins of [`list_tags`]) and its
/// values, numbered from `?1`.
fn tag_filter_sql(filter: &TagFilter<'_>) -> (String, Vec<String>) {
    let mut sql = String::from("m.skill = 1");
    let mut values: Vec<String> = Vec::new();
    // Each clause's `?` becomes the number of the value pushed for it.
    fn bind(sql: &mut String, values: &mut Vec<String>, clause: &str, value: String) {
        values.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", values.len())));
    }
    if let Some(status) = filter.status {
        bind(
            &mut sql,
            &mut values,
            " AND m.status = ?",
            status.to_string(),
        );
    }
    if let Some(ns) = filter.namespace {
        bind(
            &mut sql,
            &mut values,
            " AND coalesce(m.namespace, '') = ?",
            ns.to_string(),
        );
    }
    if let Some(c) = filter.compatibility {
        bind(
            &mut sql,
            &mut values,
            " AND coalesce(m.compatibility, '') = ?",
            c.to_string(),
        );
    }
    if let Some(q) = filter.query.filter(|q| !q.is_empty()) {
        let escaped: String = q
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        values.push(format!("%{escaped}%"));
        let n = values.len();
        sql.push_str(&format!(
            " AND (r.name LIKE ?{n} ESCAPE '\\' OR m.display_name LIKE ?{n} ESCAPE '\\' OR m.description LIKE ?{n} ESCAPE '\\')"
        ));
    }
    for tag in filter.tags {
        bind(
            &mut sql,
            &mut values,
            " AND EXISTS (SELECT 1 FROM catalog_keywords k WHERE k.manifest = m.id AND k.keyword = lower(?))",
            tag.clone(),
        );
    }
    (sql, values)
}

/// The tagged skill versions `filter` keeps, in skillctl's order
/// (namespace, name, newest created first), `limit` of them from `offset`.
pub fn list_tags(
    conn: &Connection,
    filter: &TagFilter<'_>,
    limit: u64,
    offset: u64,
) -> rusqlite::Result<Vec<TagRow>> {
    let (clause, mut values) = tag_filter_sql(filter);
    values.push(limit.to_string());
    values.push(offset.to_string());
    let (l, o) = (values.len() - 1, values.len());
    let sql = format!(
        "SELECT {TAG_ROW_COLUMNS}, {ENTRY_COLUMNS} FROM catalog_tags t \
         JOIN catalog_repos r ON r.id = t.repo JOIN catalog_manifests m ON m.id = t.manifest \
         WHERE {clause} \
         ORDER BY coalesce(m.namespace, ''), r.name, m.created DESC, r.registry, r.path, t.tag \
         LIMIT CAST(?{l} AS INTEGER) OFFSET CAST(?{o} AS INTEGER)"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values.iter()), tag_row)?;
    rows.collect()
}

/// How many tagged skill versions `filter` keeps.
pub fn count_tags(conn: &Connection, filter: &TagFilter<'_>) -> rusqlite::Result<u64> {
    let (clause, values) = tag_filter_sql(filter);
    let sql = format!(
        "SELECT count(*) FROM catalog_tags t \
         JOIN catalog_repos r ON r.id = t.repo JOIN catalog_manifests m ON m.id = t.manifest \
         WHERE {clause}"
    );
    conn.prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(values.iter()), |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n.max(0) as u64)
}

/// Every tagged version of the skill `name` (a repository's last path
/// segment) in `namespace` (its vendor annotation), newest created first.
pub fn tags_of_skill(
    conn: &Connection,
    namespace: &str,
    name: &str,
) -> rusqlite::Result<Vec<TagRow>> {
    let sql = format!(
        "SELECT {TAG_ROW_COLUMNS}, {ENTRY_COLUMNS} FROM catalog_tags t \
         JOIN catalog_repos r ON r.id = t.repo JOIN catalog_manifests m ON m.id = t.manifest \
         WHERE m.skill = 1 AND coalesce(m.namespace, '') = ?1 AND r.name = ?2 \
         ORDER BY m.created DESC, r.registry, r.path, t.tag"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([namespace, name], tag_row)?;
    rows.collect()
}

/// Every tagged skill version of `registry`/`path`, and the digests that
/// have a cosign signature published beside them.
pub fn repository_tags(
    conn: &Connection,
    registry: &str,
    path: &str,
) -> rusqlite::Result<(Vec<TagRow>, Vec<String>)> {
    let sql = format!(
        "SELECT {TAG_ROW_COLUMNS}, {ENTRY_COLUMNS} FROM catalog_tags t \
         JOIN catalog_repos r ON r.id = t.repo JOIN catalog_manifests m ON m.id = t.manifest \
         WHERE m.skill = 1 AND r.registry = ?1 AND r.path = ?2"
    );
    let versions = conn
        .prepare_cached(&sql)?
        .query_map([registry, path], tag_row)?
        .collect::<rusqlite::Result<_>>()?;
    let signed: Option<String> = conn
        .query_row(
            "SELECT signed FROM catalog_repos WHERE registry = ?1 AND path = ?2",
            [registry, path],
            |r| r.get(0),
        )
        .optional()?;
    let signed = signed
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    Ok((versions, signed))
}
