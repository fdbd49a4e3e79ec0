//! Installing skills into agents' folders: targets, staging, the atomic
//! swap with crash recovery, provenance, drift protection, and the
//! operations on installs (list, remove, rollback, pin, upgrade selection).
//! A skill installed into several targets may be one copy linked into the
//! others ([`links`]): those installs change together.
//!
//! The user's edits are never lost: a folder whose content no longer
//! matches what was installed (or that skilld did not install) is only
//! replaced or removed with `force`, and then moved to a backup folder first.

pub mod apply;
pub mod batch;
pub mod dependents;
pub mod drift;
pub mod error;
pub mod folders;
pub mod graph;
pub mod links;
pub mod list;
pub mod ops;
pub mod plan;
pub mod provenance;
pub mod select;
pub mod stage;
pub mod swap;
pub mod targets;
pub mod tree;
pub mod watch;

use std::path::{Path, PathBuf};

use skilld_proto::install::Installed;

use crate::index::installs::InstallRow;
use crate::state::State;
pub use error::InstallError;

/// An install's view for the wire.
pub fn to_wire(row: &InstallRow) -> Installed {
    Installed {
        name: row.name.clone(),
        version: row.version.clone(),
        target: row.target.clone(),
        path: PathBuf::from(&row.path),
        source: row.source_ref.clone(),
        digest: row.digest.clone(),
        status: row.status.clone(),
        pinned: row.pinned,
        installed_at: Some(row.installed_at.clone()),
        installed_by: Some(row.installed_by.clone()),
        signer: row.signer.clone(),
        latest: None,
        unpublished: Vec::new(),
        link: row.link_of.as_ref().map(PathBuf::from),
        lock_status: None,
        subscription: row.subscription.clone(),
        findings: row.findings.clone(),
        needs: Vec::new(),
        dependency: false,
    }
}

/// Move a hand-edited or foreign folder out of the way, into the backups.
pub fn backup(state: &State, folder: &Path, name: &str) -> Result<PathBuf, InstallError> {
    let target = backup_path(state, name)?;
    // Same filesystem: a rename; otherwise copy is not attempted (never lose
    // the edit half-way): the caller reports the error.
    std::fs::rename(folder, &target).map_err(|e| {
        InstallError::conflict(format!(
            "cannot move {} to the backup folder {}: {e}; nothing was changed",
            folder.display(),
            target.display()
        ))
    })?;
    Ok(target)
}

/// A fresh place in the backup folder for `name`'s folder (the backup
/// folder is made).
pub fn backup_path(state: &State, name: &str) -> Result<PathBuf, InstallError> {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(':', "");
    let dir = state.config().paths.data_dir.join("backups");
    std::fs::create_dir_all(&dir)
        .map_err(|e| InstallError::internal(format!("cannot create {}: {e}", dir.display())))?;
    let mut target = dir.join(format!("{name}-{stamp}"));
    let mut n = 1;
    while target.exists() {
        n += 1;
        target = dir.join(format!("{name}-{stamp}-{n}"));
    }
    Ok(target)
}

/// Record a change (or a refused or failed one) in the history.
pub async fn audit(state: &State, entry: skilld_proto::events::HistoryEntry) {
    if let Err(e) = state
        .index()
        .write(move |conn| crate::index::history::record(conn, &entry))
        .await
    {
        tracing::error!(error = %e, "cannot record history");
    }
}

/// Whether `row` holds the artifact `digest` names (its manifest, or the
/// index it was chosen from).
pub fn holds(row: &InstallRow, digest: &str) -> bool {
    row.digest == digest || row.source_ref.ends_with(&format!("@{digest}"))
}

/// Whether the folder of `row` still holds what was installed.
pub fn is_modified(row: &InstallRow) -> bool {
    match tree::digest(Path::new(&row.path)) {
        Ok(d) => d.as_str() != row.content_hash,
        Err(_) => false,
    }
}
