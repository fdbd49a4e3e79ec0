//! `skillc list --project`: a project's skills against its lock.

use std::path::{Path, PathBuf};

use skilld_proto::install::Installed;

use super::ProjectError;
use super::files::Lock;
use crate::index::installs;
use crate::state::State;

/// Every place the lock of the project at `root` names (the skill's copy
/// and its links), each with its install and `lock_status`, and the
/// installs in the project's folders the lock does not name.
pub async fn status(state: &State, root: &Path) -> Result<Vec<Installed>, ProjectError> {
    let lock = Lock::load(root)?.ok_or_else(|| {
        ProjectError::NotFound(format!(
            "{} has no skills.lock.json; lock it with `skillc lock` (or add a skill with `skillc add REF`)",
            root.display()
        ))
    })?;
    let rows = state.index().read(installs::all).await?;
    let mut out = Vec::new();
    let mut named: Vec<PathBuf> = Vec::new();
    for locked in &lock.skills {
        for rel in std::iter::once(&locked.path).chain(&locked.additional_installed_paths) {
            let path = root.join(rel);
            named.push(path.clone());
            let row = rows.iter().find(|r| Path::new(&r.path) == path);
            let mut wire = match row {
                Some(row) => crate::install::to_wire(row),
                None => {
                    let base = Path::new(rel)
                        .parent()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    let target = super::sync::target_of(&base).0.to_string();
                    Installed {
                        source: locked.source.reference.clone(),
                        digest: locked.source.digest.clone(),
                        ..Installed::bare(locked.name.clone(), target, path.clone(), "missing")
                    }
                }
            };
            let on_disk = std::fs::symlink_metadata(&path).is_ok();
            let status = match row {
                None => "missing",
                Some(_) if !on_disk => "missing",
                Some(r)
                    if (r.digest == locked.source.digest
                        || r.source_ref
                            .ends_with(&format!("@{}", locked.source.digest)))
                        && crate::install::drift::status_of(r) == "ok" =>
                {
                    "locked"
                }
                Some(_) => "drifted",
            };
            if row.is_some() && !on_disk {
                wire.status = "missing".into();
            }
            wire.lock_status = Some(status.into());
            out.push(wire);
        }
    }
    for row in &rows {
        let path = Path::new(&row.path);
        if path.starts_with(root) && !named.iter().any(|n| n == path) {
            let mut wire = crate::install::to_wire(row);
            wire.lock_status = Some("not in lock".into());
            out.push(wire);
        }
    }
    Ok(out)
}
