//! The `scan_cache` table: findings by layer digest and rule set.

use rusqlite::{Connection, OptionalExtension, params};

use crate::scan::engine::Report;

pub fn get(conn: &Connection, layer: &str, rules: &str) -> rusqlite::Result<Option<Report>> {
    let text: Option<String> = conn
        .query_row(
            "SELECT report FROM scan_cache WHERE layer = ?1 AND rules = ?2",
            [layer, rules],
            |r| r.get(0),
        )
        .optional()?;
    // A row that no longer reads is scanned again.
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

pub fn put(conn: &Connection, layer: &str, rules: &str, report: &Report) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO scan_cache (layer, rules, report, scanned_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            layer,
            rules,
            serde_json::to_string(report).unwrap_or_default(),
            crate::events::now()
        ],
    )?;
    Ok(())
}
