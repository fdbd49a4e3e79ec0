//! The `staging_areas` table: every folder skilld has staged a skill in.

use rusqlite::{Connection, params};

/// Remember `path` (a target folder) as one skilld stages in.
pub fn record(conn: &Connection, path: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO staging_areas (path) VALUES (?1)",
        params![path],
    )?;
    Ok(())
}

/// Whether `path` is recorded already.
pub fn contains(conn: &Connection, path: &str) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM staging_areas WHERE path = ?1")?;
    stmt.exists(params![path])
}

/// Every folder skilld has staged in.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT path FROM staging_areas ORDER BY path")?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

/// Forget `path` (nothing of skilld's is left there).
pub fn forget(conn: &Connection, path: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM staging_areas WHERE path = ?1", params![path])?;
    Ok(())
}
