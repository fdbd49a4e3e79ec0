//! The `refs` table: the store's tags with their manifest metadata.

use rusqlite::{Connection, params};

/// One tag of the local store, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefRow {
    pub name: String,
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub version: Option<String>,
    pub status: Option<String>,
    pub created: Option<String>,
    pub size: u64,
}

const COLUMNS: &str =
    "name, repository, tag, digest, media_type, artifact_type, version, status, created, size";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RefRow> {
    Ok(RefRow {
        name: row.get(0)?,
        repository: row.get(1)?,
        tag: row.get(2)?,
        digest: row.get(3)?,
        media_type: row.get(4)?,
        artifact_type: row.get(5)?,
        version: row.get(6)?,
        status: row.get(7)?,
        created: row.get(8)?,
        size: row.get(9)?,
    })
}

pub fn upsert(conn: &Connection, r: &RefRow) -> rusqlite::Result<()> {
    conn.execute(
        &format!("INSERT OR REPLACE INTO refs ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            r.name,
            r.repository,
            r.tag,
            r.digest,
            r.media_type,
            r.artifact_type,
            r.version,
            r.status,
            r.created,
            r.size
        ],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, name: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM refs WHERE name = ?1", [name])?;
    Ok(())
}

pub fn all(conn: &Connection) -> rusqlite::Result<Vec<RefRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM refs ORDER BY repository, tag"
    ))?;
    stmt.query_map([], from_row)?.collect()
}

pub fn get(conn: &Connection, name: &str) -> rusqlite::Result<Option<RefRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM refs WHERE name = ?1"))?;
    let mut rows = stmt.query_map([name], from_row)?;
    rows.next().transpose()
}

pub fn in_repository(conn: &Connection, repository: &str) -> rusqlite::Result<Vec<RefRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM refs WHERE repository = ?1 ORDER BY tag"
    ))?;
    stmt.query_map([repository], from_row)?.collect()
}

/// Manifest digests installs still use, rollback targets included (the
/// store must keep them).
pub fn installed_digests(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT digest FROM installs UNION SELECT previous_digest FROM installs WHERE previous_digest IS NOT NULL",
    )?;
    stmt.query_map([], |r| r.get(0))?.collect()
}
