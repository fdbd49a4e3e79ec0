//! The `origins` table: which registry repositories each manifest in the
//! store was pulled (or loaded) from. A tag can be renamed at will; where
//! the content came from cannot, and the trust policy judges by it.

use rusqlite::{Connection, params};

/// Record that the manifest `digest` came from `repository` (canonical
/// `registry/path`).
pub fn record(conn: &Connection, digest: &str, repository: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO origins (digest, repository) VALUES (?1, ?2)",
        params![digest, repository],
    )?;
    Ok(())
}

/// Every repository the manifest `digest` came from, sorted.
pub fn of(conn: &Connection, digest: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT repository FROM origins WHERE digest = ?1 ORDER BY repository")?;
    stmt.query_map(params![digest], |r| r.get(0))?.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_kept_once_each() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::index::migrations::migrate(&mut conn).unwrap();
        record(&conn, "sha256:a", "r.io/acme/x").unwrap();
        record(&conn, "sha256:a", "r.io/acme/x").unwrap();
        record(&conn, "sha256:a", "other.io/x").unwrap();
        assert_eq!(
            of(&conn, "sha256:a").unwrap(),
            ["other.io/x", "r.io/acme/x"]
        );
        assert!(of(&conn, "sha256:b").unwrap().is_empty());
    }
}
