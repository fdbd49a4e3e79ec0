//! The `install_needs` and `dependency_installs` tables: which installs
//! need which (by folder), and which were installed only as a dependency.

use rusqlite::{Connection, params};

/// One edge: the install at `dependent` needs the one at `dependency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub dependent: String,
    pub dependency: String,
    pub requirement: String,
}

/// Replace what the install at `dependent` needs.
pub fn set(conn: &Connection, dependent: &str, needs: &[(String, String)]) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM install_needs WHERE dependent = ?1",
        [dependent],
    )?;
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO install_needs (dependent, dependency, requirement) VALUES (?1, ?2, ?3)",
    )?;
    for (dependency, requirement) in needs {
        stmt.execute(params![dependent, dependency, requirement])?;
    }
    Ok(())
}

/// Mark the install at `path` as installed only for others (`true`), or
/// as wanted for itself.
pub fn set_dependency_only(conn: &Connection, path: &str, only: bool) -> rusqlite::Result<()> {
    if only {
        conn.execute(
            "INSERT OR IGNORE INTO dependency_installs (path) VALUES (?1)",
            [path],
        )?;
    } else {
        conn.execute("DELETE FROM dependency_installs WHERE path = ?1", [path])?;
    }
    Ok(())
}

/// Edges from each of several installs (each replaced, see [`set`]), and
/// each one's mark (see [`set_dependency_only`]).
pub type Edges = Vec<(String, Vec<(String, String)>)>;

/// [`set`] and [`set_dependency_only`] for many installs at once.
pub fn record(conn: &Connection, edges: &Edges, marks: &[(String, bool)]) -> rusqlite::Result<()> {
    for (path, needs) in edges {
        set(conn, path, needs)?;
    }
    for (path, only) in marks {
        set_dependency_only(conn, path, *only)?;
    }
    Ok(())
}

/// Whether the install at `path` was installed only for others.
pub fn is_dependency_only(conn: &Connection, path: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM dependency_installs WHERE path = ?1)",
        [path],
        |r| r.get(0),
    )
}

/// Every edge between installs that exist, sorted.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<Need>> {
    let mut stmt = conn.prepare_cached(
        "SELECT n.dependent, n.dependency, n.requirement FROM install_needs n
         JOIN installs a ON a.path = n.dependent
         JOIN installs b ON b.path = n.dependency
         ORDER BY n.dependent, n.dependency",
    )?;
    stmt.query_map([], |r| {
        Ok(Need {
            dependent: r.get(0)?,
            dependency: r.get(1)?,
            requirement: r.get(2)?,
        })
    })?
    .collect()
}

/// The folders of installs installed only for others.
pub fn dependency_only(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.path FROM dependency_installs d JOIN installs i ON i.path = d.path ORDER BY d.path",
    )?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

/// The installs (folders) that need the one at `path`.
pub fn dependents(conn: &Connection, path: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT n.dependent FROM install_needs n JOIN installs i ON i.path = n.dependent
         WHERE n.dependency = ?1 ORDER BY n.dependent",
    )?;
    stmt.query_map([path], |r| r.get(0))?.collect()
}

/// What the installs that need the one at `path` require of it: each
/// requirement with the name of the install that has it.
pub fn requirements_on(conn: &Connection, path: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT n.requirement, i.name FROM install_needs n JOIN installs i ON i.path = n.dependent
         WHERE n.dependency = ?1 ORDER BY i.name",
    )?;
    stmt.query_map([path], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// Installs made only for others that nothing needs any more.
pub fn orphans(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.path FROM dependency_installs d JOIN installs i ON i.path = d.path
         WHERE NOT EXISTS (
           SELECT 1 FROM install_needs n JOIN installs a ON a.path = n.dependent
           WHERE n.dependency = d.path)
         ORDER BY d.path",
    )?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

/// The install at `path` is gone: what it needed and its mark go too (what
/// needed it keeps saying so, should it come back).
pub fn forget(conn: &Connection, path: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM install_needs WHERE dependent = ?1", [path])?;
    conn.execute("DELETE FROM dependency_installs WHERE path = ?1", [path])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::installs::{self, InstallRow};

    fn row(path: &str) -> InstallRow {
        InstallRow {
            name: path.rsplit('/').next().unwrap().into(),
            target: "claude".into(),
            path: path.into(),
            source_ref: format!("r/{path}:1.0.0"),
            registry: None,
            repository: format!("r/{path}"),
            digest: "sha256:00".into(),
            version: Some("1.0.0".into()),
            content_hash: "sha256:11".into(),
            status: "ok".into(),
            pinned: false,
            installed_at: "2026-12-03T00:00:00Z".into(),
            installed_by: "cli".into(),
            previous_ref: None,
            previous_digest: None,
            previous_version: None,
            signer: None,
            link_of: None,
            project: None,
            subscription: None,
            findings: None,
        }
    }

    #[test]
    fn orphans_are_dependency_installs_nothing_needs() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::index::migrations::migrate(&mut conn).unwrap();
        for p in ["/s/app", "/s/left", "/s/base", "/s/own"] {
            installs::upsert(&conn, &row(p)).unwrap();
        }
        set(&conn, "/s/app", &[("/s/left".into(), "^1".into())]).unwrap();
        set(&conn, "/s/left", &[("/s/base".into(), "^1".into())]).unwrap();
        set_dependency_only(&conn, "/s/left", true).unwrap();
        set_dependency_only(&conn, "/s/base", true).unwrap();
        assert_eq!(dependents(&conn, "/s/left").unwrap(), ["/s/app"]);
        assert!(orphans(&conn).unwrap().is_empty());
        assert_eq!(all(&conn).unwrap().len(), 2);

        installs::delete(&conn, "/s/app").unwrap();
        assert_eq!(orphans(&conn).unwrap(), ["/s/left"]);
        installs::delete(&conn, "/s/left").unwrap();
        assert_eq!(orphans(&conn).unwrap(), ["/s/base"]);
        // Installed by name: no longer an orphan candidate.
        set_dependency_only(&conn, "/s/base", false).unwrap();
        assert!(orphans(&conn).unwrap().is_empty());
        assert!(!is_dependency_only(&conn, "/s/base").unwrap());
    }
}
