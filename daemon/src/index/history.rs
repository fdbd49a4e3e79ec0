//! The `history` table: every change to an install, and its outcome.

use rusqlite::{Connection, OptionalExtension, params};
use skilld_proto::events::HistoryEntry;

pub fn record(conn: &Connection, e: &HistoryEntry) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO history (at, action, actor, skill, target, from_version, to_version, from_digest, to_digest, outcome, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            e.at,
            e.action,
            e.actor,
            e.skill,
            e.target,
            e.from_version,
            e.to_version,
            e.from_digest,
            e.to_digest,
            e.outcome,
            e.message
        ],
    )?;
    Ok(())
}

const COLUMNS: &str = "at, action, actor, skill, target, from_version, to_version, from_digest, to_digest, outcome, message";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryEntry> {
    Ok(HistoryEntry {
        at: r.get(0)?,
        action: r.get(1)?,
        actor: r.get(2)?,
        skill: r.get(3)?,
        target: r.get(4)?,
        from_version: r.get(5)?,
        to_version: r.get(6)?,
        from_digest: r.get(7)?,
        to_digest: r.get(8)?,
        outcome: r.get(9)?,
        message: r.get(10)?,
    })
}

pub fn list(conn: &Connection, skill: Option<&str>) -> rusqlite::Result<Vec<HistoryEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM history WHERE ?1 IS NULL OR skill = ?1 ORDER BY id"
    ))?;
    stmt.query_map([skill], from_row)?.collect()
}

/// The newest entry about `skill` in `target`.
pub fn latest(
    conn: &Connection,
    skill: &str,
    target: &str,
) -> rusqlite::Result<Option<HistoryEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM history WHERE skill = ?1 AND target = ?2 ORDER BY id DESC LIMIT 1"
    ))?;
    stmt.query_row([skill, target], from_row).optional()
}
