//! The `installs` and `pending` tables.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// One installed skill folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallRow {
    pub name: String,
    pub target: String,
    pub path: String,
    pub source_ref: String,
    pub registry: Option<String>,
    pub repository: String,
    pub digest: String,
    pub version: Option<String>,
    pub content_hash: String,
    pub status: String,
    pub pinned: bool,
    pub installed_at: String,
    pub installed_by: String,
    pub previous_ref: Option<String>,
    pub previous_digest: Option<String>,
    pub previous_version: Option<String>,
    /// Fingerprint of the key that verified it (a `signed` trust rule).
    #[serde(default)]
    pub signer: Option<String>,
    /// The folder of the install this one links to (its path is a link).
    #[serde(default)]
    pub link_of: Option<String>,
    /// The project whose lock this install was synced from.
    #[serde(default)]
    pub project: Option<String>,
    /// The collection whose subscription installed it.
    #[serde(default)]
    pub subscription: Option<String>,
    /// What the content scan found (`1 high, 2 medium`, `no findings`).
    #[serde(default)]
    pub findings: Option<String>,
}

const COLUMNS: &str = "name, target, path, source_ref, registry, repository, digest, version, content_hash, status, pinned, installed_at, installed_by, previous_ref, previous_digest, previous_version, signer, link_of, project, subscription, findings";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InstallRow> {
    Ok(InstallRow {
        name: r.get(0)?,
        target: r.get(1)?,
        path: r.get(2)?,
        source_ref: r.get(3)?,
        registry: r.get(4)?,
        repository: r.get(5)?,
        digest: r.get(6)?,
        version: r.get(7)?,
        content_hash: r.get(8)?,
        status: r.get(9)?,
        pinned: r.get(10)?,
        installed_at: r.get(11)?,
        installed_by: r.get(12)?,
        previous_ref: r.get(13)?,
        previous_digest: r.get(14)?,
        previous_version: r.get(15)?,
        signer: r.get(16)?,
        link_of: r.get(17)?,
        project: r.get(18)?,
        subscription: r.get(19)?,
        findings: r.get(20)?,
    })
}

pub fn upsert(conn: &Connection, r: &InstallRow) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO installs ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
             ON CONFLICT(path) DO UPDATE SET name = excluded.name, target = excluded.target, source_ref = excluded.source_ref,
               registry = excluded.registry, repository = excluded.repository, digest = excluded.digest, version = excluded.version,
               content_hash = excluded.content_hash, status = excluded.status, pinned = excluded.pinned,
               installed_at = excluded.installed_at, installed_by = excluded.installed_by, previous_ref = excluded.previous_ref,
               previous_digest = excluded.previous_digest, previous_version = excluded.previous_version,
               signer = excluded.signer, link_of = excluded.link_of, project = excluded.project,
               subscription = excluded.subscription, findings = excluded.findings"
        ),
        params![
            r.name,
            r.target,
            r.path,
            r.source_ref,
            r.registry,
            r.repository,
            r.digest,
            r.version,
            r.content_hash,
            r.status,
            r.pinned,
            r.installed_at,
            r.installed_by,
            r.previous_ref,
            r.previous_digest,
            r.previous_version,
            r.signer,
            r.link_of,
            r.project,
            r.subscription,
            r.findings
        ],
    )?;
    Ok(())
}

pub fn all(conn: &Connection) -> rusqlite::Result<Vec<InstallRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM installs ORDER BY name, target"
    ))?;
    stmt.query_map([], from_row)?.collect()
}

/// Every install, by its path.
pub fn all_by_path(
    conn: &Connection,
) -> rusqlite::Result<std::collections::HashMap<String, InstallRow>> {
    Ok(all(conn)?
        .into_iter()
        .map(|r| (r.path.clone(), r))
        .collect())
}

pub fn by_path(conn: &Connection, path: &str) -> rusqlite::Result<Option<InstallRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM installs WHERE path = ?1"),
        [path],
        from_row,
    )
    .optional()
}

/// The installs that are links to the install at `path`.
pub fn links_to(conn: &Connection, path: &str) -> rusqlite::Result<Vec<InstallRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM installs WHERE link_of = ?1 ORDER BY name, target"
    ))?;
    stmt.query_map([path], from_row)?.collect()
}

pub fn delete(conn: &Connection, path: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM installs WHERE path = ?1", [path])?;
    super::needs::forget(conn, path)?;
    Ok(())
}

/// Set the status of the install at `path`, if it is still the install
/// whose content was checked (`content_hash`): a check that raced a new
/// install never marks the new one.
pub fn set_status(
    conn: &Connection,
    path: &str,
    content_hash: &str,
    status: &str,
) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE installs SET status = ?3 WHERE path = ?1 AND content_hash = ?2 AND status != ?3",
        [path, content_hash, status],
    )? > 0)
}

/// The policy set for the install at `path` (NULL: the default).
pub fn policy(conn: &Connection, path: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT policy FROM installs WHERE path = ?1", [path], |r| {
        r.get(0)
    })
    .optional()
    .map(Option::flatten)
}

pub fn set_policy(conn: &Connection, path: &str, policy: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE installs SET policy = ?2 WHERE path = ?1",
        [path, policy],
    )?;
    Ok(())
}

/// Rewrite the source of the install at `path` (an older skilld kept
/// registries as they were typed; see [`crate::image::registry_name`]).
pub fn set_source(
    conn: &Connection,
    path: &str,
    source_ref: &str,
    registry: Option<&str>,
    repository: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE installs SET source_ref = ?2, registry = ?3, repository = ?4 WHERE path = ?1",
        params![path, source_ref, registry, repository],
    )?;
    Ok(())
}

/// Set (or clear) the subscription that owns the install at `path`.
pub fn set_subscription(
    conn: &Connection,
    path: &str,
    subscription: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE installs SET subscription = ?2 WHERE path = ?1",
        params![path, subscription],
    )?;
    Ok(())
}

pub fn set_pinned(conn: &Connection, path: &str, pinned: bool) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE installs SET pinned = ?2 WHERE path = ?1",
        params![path, pinned],
    )?;
    Ok(())
}

/// A folder swap in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub path: String,
    pub staged: String,
    pub displaced: String,
    /// JSON of the [`InstallRow`] to record on success; empty for a removal.
    pub record: String,
    /// The swaps made as one (a project sync), undone together.
    pub batch: Option<String>,
}

pub fn begin(conn: &Connection, p: &Pending) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO pending (path, staged, displaced, record, batch) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![p.path, p.staged, p.displaced, p.record, p.batch],
    )?;
    Ok(())
}

/// Record several swaps as pending, in one transaction.
pub fn begin_all(conn: &mut Connection, all: &[Pending]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for p in all {
        begin(&tx, p)?;
    }
    tx.commit()
}

/// Record the outcome of several swaps and drop their pending rows, in one
/// transaction.
pub fn finish_all(
    conn: &mut Connection,
    all: &[(String, Option<InstallRow>)],
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for (path, record) in all {
        match record {
            Some(row) => upsert(&tx, row)?,
            None => delete(&tx, path)?,
        }
        tx.execute("DELETE FROM pending WHERE path = ?1", [path])?;
    }
    tx.commit()
}

/// Forget several pending swaps (undone on disk), in one transaction.
pub fn abandon_all(conn: &mut Connection, paths: &[String]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for path in paths {
        tx.execute("DELETE FROM pending WHERE path = ?1", [path])?;
    }
    tx.commit()
}

pub fn pending(conn: &Connection) -> rusqlite::Result<Vec<Pending>> {
    let mut stmt =
        conn.prepare_cached("SELECT path, staged, displaced, record, batch FROM pending")?;
    stmt.query_map([], |r| {
        Ok(Pending {
            path: r.get(0)?,
            staged: r.get(1)?,
            displaced: r.get(2)?,
            record: r.get(3)?,
            batch: r.get(4)?,
        })
    })?
    .collect()
}

/// Record the outcome of a swap and drop its pending row, in one transaction.
pub fn finish(
    conn: &mut Connection,
    path: &str,
    record: Option<&InstallRow>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    match record {
        Some(row) => upsert(&tx, row)?,
        None => delete(&tx, path)?,
    }
    tx.execute("DELETE FROM pending WHERE path = ?1", [path])?;
    tx.commit()
}

pub fn abandon(conn: &Connection, path: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM pending WHERE path = ?1", [path])?;
    Ok(())
}
