//! Numbered SQL migrations, embedded in the binary and applied at start.
//!
//! The schema version lives in SQLite's `user_version`. Each migration runs
//! in its own transaction with the version bump, so a crash leaves the index
//! at a whole version. An index newer than this binary knows is refused and
//! left untouched: an older skilld must never rewrite a newer schema.

use rusqlite::Connection;

/// `(version, sql)`, in order. Append only: never edit a shipped migration.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_history_policy.sql")),
    (3, include_str!("migrations/0003_signer.sql")),
    (4, include_str!("migrations/0004_origins_staging.sql")),
    (5, include_str!("migrations/0005_links_projects.sql")),
    (6, include_str!("migrations/0006_subscriptions.sql")),
    (7, include_str!("migrations/0007_scans.sql")),
    (8, include_str!("migrations/0008_catalog.sql")),
    (9, include_str!("migrations/0009_catalog_signatures.sql")),
    (10, include_str!("migrations/0010_dependencies.sql")),
];

/// The schema version this binary writes.
pub const LATEST: u32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Outcome of a migration failure.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the index has schema version {found}, newer than the {known} this skilld knows; \
         install a newer skilld, or move the index aside to start empty"
    )]
    TooNew { found: u32, known: u32 },
    #[error("migration {version} failed: {source}")]
    Failed {
        version: u32,
        source: rusqlite::Error,
    },
    #[error("cannot read the schema version: {0}")]
    Version(rusqlite::Error),
}

/// The schema version recorded in `conn`.
pub fn current_version(conn: &Connection) -> Result<u32, MigrateError> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(MigrateError::Version)
}

/// Bring `conn` to [`LATEST`]; returns the versions applied.
pub fn migrate(conn: &mut Connection) -> Result<Vec<u32>, MigrateError> {
    let found = current_version(conn)?;
    if found > LATEST {
        return Err(MigrateError::TooNew {
            found,
            known: LATEST,
        });
    }
    let mut applied = Vec::new();
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        let failed = |source| MigrateError::Failed { version, source };
        let tx = conn.transaction().map_err(failed)?;
        tx.execute_batch(sql).map_err(failed)?;
        tx.pragma_update(None, "user_version", version)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        applied.push(version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_strictly_increasing_from_one() {
        for (i, (version, _)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*version as usize, i + 1);
        }
    }

    /// An index a refresh filled before 0009 gets each repository's
    /// lifecycle states from what it holds (a status filter reads them), no
    /// signature known until a refresh reads the tag list again.
    #[test]
    fn catalog_statuses_are_filled_in_for_an_existing_catalog() {
        let mut conn = Connection::open_in_memory().unwrap();
        for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v <= 8) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", version).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO catalog_repos (id, registry, path, name, tags_hash, checked_at) VALUES (1, 'r', 'a/x', 'x', 'h', 't'), (2, 'r', 'a/y', 'y', 'h', 't');
             INSERT INTO catalog_manifests (id, digest, skill, status) VALUES (1, 'd1', 1, 'published'), (2, 'd2', 1, 'testing'), (3, 'd3', 1, 'bogus,published'), (4, 'd4', 0, NULL);
             INSERT INTO catalog_tags (repo, tag, manifest) VALUES (1, '1.0.0', 1), (1, '1.1.0-testing', 2), (1, '1.0.1', 1), (2, 'x', 3), (2, 'y', 4);",
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), [9, 10]);
        let statuses: Vec<(String, String)> = conn
            .prepare("SELECT statuses, signed FROM catalog_repos ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut first: Vec<&str> = statuses[0].0.trim_matches(',').split(',').collect();
        first.sort_unstable();
        assert_eq!(first, ["published", "testing"]);
        assert_eq!(statuses[1], (",".to_string(), "[]".to_string()));
    }

    #[test]
    fn migrate_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(
            migrate(&mut conn).unwrap(),
            (1..=LATEST).collect::<Vec<_>>()
        );
        assert!(migrate(&mut conn).unwrap().is_empty());
        assert_eq!(current_version(&conn).unwrap(), LATEST);
    }

    #[test]
    fn newer_schema_is_refused_and_left_alone() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 999;")
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, MigrateError::TooNew { found: 999, .. }));
        assert!(err.to_string().contains("install a newer skilld"));
        assert_eq!(current_version(&conn).unwrap(), 999);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'refs'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "nothing was created in a newer index");
    }
}
