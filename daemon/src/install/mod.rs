//! Installing skills into agents' folders: targets, staging, the atomic
//! swap with crash recovery, provenance, drift protection, and the
//! operations on installs (list, remove, rollback, pin, upgrade selection).
//!
//! The user's edits are never lost: a folder whose content no longer
//! matches what was installed (or that skilld did not install) is only
//! replaced or removed with `force`, and then moved to a backup folder first.

pub mod apply;
pub mod drift;
pub mod error;
pub mod folders;
pub mod list;
pub mod ops;
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
    }
}

/// `(target name, folder)` for each requested target.
pub fn resolve_targets(
    state: &State,
    names: &[String],
    project: Option<&Path>,
    output: Option<&Path>,
) -> Result<Vec<(String, PathBuf)>, InstallError> {
    if let Some(dir) = output {
        if !dir.is_absolute() {
            return Err(InstallError::invalid(
                "-o must be an absolute path (skillc sends one)",
            ));
        }
        let dir = folders::canonical_folder(dir)
            .map_err(|e| InstallError::invalid(format!("-o: {e}")))?;
        refuse_file(&dir)?;
        return Ok(vec![(targets::DIR_TARGET.to_string(), dir)]);
    }
    if let Some(p) = project
        && !p.is_absolute()
    {
        return Err(InstallError::invalid(
            "--project must be an absolute path (skillc sends one)",
        ));
    }
    let names: Vec<String> = if names.is_empty() {
        vec![state.config().install.default_target.clone()]
    } else {
        names.to_vec()
    };
    let mut out = Vec::new();
    for name in names {
        let target = targets::find(&name).map_err(|e| InstallError::invalid(e.to_string()))?;
        let (dir, _) = target.resolve(state.target_env(), project).ok_or_else(|| {
            InstallError::invalid(
                "no home folder is known to the daemon (HOME is unset); use -o DIR or --project",
            )
        })?;
        let dir = folders::canonical_folder(&dir)
            .map_err(|e| InstallError::invalid(format!("target {name}: {e}")))?;
        refuse_file(&dir)?;
        out.push((name, dir));
    }
    out.dedup();
    Ok(out)
}

/// A target folder that exists as something else (a file) is the
/// caller's mistake, said before anything is staged.
fn refuse_file(dir: &Path) -> Result<(), InstallError> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(InstallError::invalid(format!(
            "{} is {}, not a folder; skills are installed into a folder: name another one",
            dir.display(),
            crate::user_file::kind_of(&m)
        ))),
        _ => Ok(()),
    }
}

/// Move a hand-edited or foreign folder out of the way, into the backups.
pub fn backup(state: &State, folder: &Path, name: &str) -> Result<PathBuf, InstallError> {
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

/// Whether the folder of `row` still holds what was installed.
pub fn is_modified(row: &InstallRow) -> bool {
    match tree::digest(Path::new(&row.path)) {
        Ok(d) => d.as_str() != row.content_hash,
        Err(_) => false,
    }
}
