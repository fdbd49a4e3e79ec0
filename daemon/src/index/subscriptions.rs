//! The `subscriptions` table: the collections the daemon follows.

use rusqlite::{Connection, OptionalExtension, params};

/// One followed collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    /// The collection reference as subscribed (a tag, usually).
    pub reference: String,
    /// Target names (empty: the default targets).
    pub targets: Vec<String>,
    /// `link` or `copy`.
    pub mode: String,
    /// `auto` or `notify`.
    pub policy: String,
    /// The collection manifest last converged to.
    pub digest: Option<String>,
    /// The collection manifest the registry named at the last check.
    pub seen: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub created_at: String,
    pub checked_at: Option<String>,
    pub updated_at: Option<String>,
    /// The last check's result (`updated`, `unchanged`, `available`, …).
    pub outcome: Option<String>,
    pub message: Option<String>,
}

const COLUMNS: &str = "reference, targets, mode, policy, digest, seen, name, version, created_at, checked_at, updated_at, outcome, message";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SubscriptionRow> {
    let targets: String = r.get(1)?;
    Ok(SubscriptionRow {
        reference: r.get(0)?,
        targets: serde_json::from_str(&targets).unwrap_or_default(),
        mode: r.get(2)?,
        policy: r.get(3)?,
        digest: r.get(4)?,
        seen: r.get(5)?,
        name: r.get(6)?,
        version: r.get(7)?,
        created_at: r.get(8)?,
        checked_at: r.get(9)?,
        updated_at: r.get(10)?,
        outcome: r.get(11)?,
        message: r.get(12)?,
    })
}

pub fn upsert(conn: &Connection, s: &SubscriptionRow) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT OR REPLACE INTO subscriptions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ),
        params![
            s.reference,
            serde_json::to_string(&s.targets).unwrap_or_else(|_| "[]".into()),
            s.mode,
            s.policy,
            s.digest,
            s.seen,
            s.name,
            s.version,
            s.created_at,
            s.checked_at,
            s.updated_at,
            s.outcome,
            s.message
        ],
    )?;
    Ok(())
}

pub fn all(conn: &Connection) -> rusqlite::Result<Vec<SubscriptionRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM subscriptions ORDER BY reference"
    ))?;
    stmt.query_map([], from_row)?.collect()
}

pub fn get(conn: &Connection, reference: &str) -> rusqlite::Result<Option<SubscriptionRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM subscriptions WHERE reference = ?1"),
        [reference],
        from_row,
    )
    .optional()
}

/// Forget a subscription; the installs it made stop being its.
pub fn delete(conn: &mut Connection, reference: &str) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "DELETE FROM subscriptions WHERE reference = ?1",
        [reference],
    )?;
    tx.execute(
        "UPDATE installs SET subscription = NULL WHERE subscription = ?1",
        [reference],
    )?;
    tx.commit()
}
