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

/// Write what a refresh read of one repository: its tag-list hash, its
/// tags (replacing the old ones), the manifests new to the index, and its
/// searched text (from the version `shown` picks).
pub fn write_repo(
    tx: &Connection,
    registry: &str,
    path: &str,
    tags_hash: &str,
    tags: &[(String, String)],
    new: &[(String, Entry)],
    now: &str,
) -> rusqlite::Result<()> {
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
        "INSERT INTO catalog_repos (registry, path, name, tags_hash, checked_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (registry, path) DO UPDATE SET tags_hash = excluded.tags_hash, checked_at = excluded.checked_at",
        params![registry, path, crate::catalog::search::name_of(path), tags_hash, now],
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
    tx.execute(
        "UPDATE catalog_repos SET shown_tag = ?2, shown = (SELECT id FROM catalog_manifests WHERE digest = ?3), versions = ?4 WHERE id = ?1",
        params![
            id,
            shown.map(|v| v.tag.as_str()),
            shown.map(|v| v.digest.as_str()),
            versions.len() as i64
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
    /// Its skill versions: all of them, or (from [`search_shown`]) only
    /// the one shown without filters.
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

/// The repositories whose text matches the FTS5 expression `fts` (every
/// repository when None), best first (by path without a query), each with
/// its skill versions that pass `filters` (a repository none passes is
/// left out), and how many skill versions it has.
pub fn search(
    conn: &Connection,
    fts: Option<&str>,
    filters: &Filters<'_>,
) -> rusqlite::Result<Vec<Found>> {
    let source = match fts {
        Some(_) => {
            "(SELECT rowid, bm25(catalog_text, 10.0, 5.0, 1.0, 3.0) AS rank FROM catalog_text WHERE catalog_text MATCH ?1) f \
             JOIN catalog_repos r ON r.id = f.rowid"
        }
        None => "(SELECT ?1 AS q, 0.0 AS rank) f JOIN catalog_repos r ON r.shown IS NOT NULL",
    };
    let mut sql = format!(
        "SELECT r.id, r.registry, r.path, f.rank, t.tag, r.versions, {ENTRY_COLUMNS} \
         FROM {source} \
         JOIN catalog_tags t ON t.repo = r.id JOIN catalog_manifests m ON m.id = t.manifest AND m.skill = 1 \
         WHERE (?2 IS NULL OR m.status = ?2) AND (?3 IS NULL OR m.namespace = ?3 COLLATE NOCASE) \
         AND (?4 IS NULL OR instr(lower(m.compatibility), lower(?4)) > 0)"
    );
    for i in 0..filters.tags.len() {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM catalog_keywords k WHERE k.manifest = m.id AND k.keyword = lower(?{}))",
            5 + i
        ));
    }
    sql.push_str(" ORDER BY f.rank, r.path, r.registry, r.id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![
        &fts,
        &filters.status,
        &filters.namespace,
        &filters.compatibility,
    ];
    for t in filters.tags {
        values.push(t);
    }
    let mut rows = stmt.query(values.as_slice())?;
    let mut found: Vec<Found> = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let (digest, entry) = entry_from(r, 6)?;
        let version = Version {
            tag: r.get(4)?,
            digest,
            entry,
        };
        match found.last_mut() {
            Some(last) if last.id == id => last.versions.push(version),
            _ => found.push(Found {
                id,
                registry: r.get(1)?,
                path: r.get(2)?,
                rank: r.get(3)?,
                versions: vec![version],
                count: r.get::<_, i64>(5)?.max(0) as u32,
            }),
        }
    }
    Ok(found)
}

/// A search without filters: per repository only its shown version, an
/// exact `name` first, then by rank (by path without a query); the first
/// `limit`, and how many match in all.
pub fn search_shown(
    conn: &Connection,
    fts: Option<&str>,
    name: &str,
    limit: usize,
) -> rusqlite::Result<(Vec<Found>, u64)> {
    let (source, total) = match fts {
        Some(q) => (
            "(SELECT rowid, bm25(catalog_text, 10.0, 5.0, 1.0, 3.0) AS rank FROM catalog_text WHERE catalog_text MATCH ?1) f \
             JOIN catalog_repos r ON r.id = f.rowid",
            conn.prepare_cached("SELECT count(*) FROM catalog_text WHERE catalog_text MATCH ?1")?
                .query_row([q], |r| r.get::<_, i64>(0))?,
        ),
        None => (
            "(SELECT ?1 AS q, 0.0 AS rank) f JOIN catalog_repos r ON r.shown IS NOT NULL",
            conn.prepare_cached("SELECT count(*) FROM catalog_repos WHERE shown IS NOT NULL")?
                .query_row([], |r| r.get::<_, i64>(0))?,
        ),
    };
    let sql = format!(
        "SELECT r.id, r.registry, r.path, f.rank, r.shown_tag, r.versions, {ENTRY_COLUMNS} \
         FROM {source} JOIN catalog_manifests m ON m.id = r.shown \
         ORDER BY (r.name = ?2) DESC, f.rank, r.path, r.registry LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![fts.unwrap_or(""), name, limit as i64], |r| {
        let (digest, entry) = entry_from(r, 6)?;
        Ok(Found {
            id: r.get(0)?,
            registry: r.get(1)?,
            path: r.get(2)?,
            rank: r.get(3)?,
            versions: vec![Version {
                tag: r.get(4)?,
                digest,
                entry,
            }],
            count: r.get::<_, i64>(5)?.max(0) as u32,
        })
    })?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, total.max(0) as u64))
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
