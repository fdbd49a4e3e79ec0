//! Listing installs, and the skill folders in agents' target folders that
//! skilld did not install (`unmanaged`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use skilld_proto::install::Installed;

use super::error::InstallError;
use super::{targets, to_wire};
use crate::index::{installs, needs};
use crate::state::State;

/// Every install, plus skill folders in known targets that skilld did not install.
pub async fn list(state: &State, target: Option<&str>) -> Result<Vec<Installed>, InstallError> {
    // A typo must not read as "nothing installed".
    if let Some(t) = target
        && t != targets::DIR_TARGET
    {
        targets::find(t).map_err(|e| InstallError::invalid(e.to_string()))?;
    }
    let (rows, edges, only) = state
        .index()
        .read(|conn| {
            Ok((
                installs::all(conn)?,
                needs::all(conn)?,
                needs::dependency_only(conn)?,
            ))
        })
        .await?;
    let mut out: Vec<Installed> = Vec::new();
    let mut known: BTreeSet<PathBuf> = BTreeSet::new();
    for row in &rows {
        if target.is_some_and(|t| row.target != t) {
            continue;
        }
        let mut wire = to_wire(row);
        wire.needs = edges
            .iter()
            .filter(|e| e.dependent == row.path)
            .map(|e| PathBuf::from(&e.dependency))
            .collect();
        wire.dependency = only.contains(&row.path);
        if std::fs::symlink_metadata(&row.path).is_err() {
            wire.status = "missing".into();
        }
        known.insert(PathBuf::from(&row.path));
        out.push(wire);
    }
    // Folders that hold a SKILL.md in a known target but are not ours.
    let mut folders: BTreeMap<PathBuf, String> = BTreeMap::new();
    for t in targets::all() {
        if target.is_some_and(|name| name != t.name) {
            continue;
        }
        // Several agents share a folder (~/.agents/skills): the first
        // target in the table names it.
        if let Some((dir, _)) = t.resolve(state.target_env(), None) {
            folders.entry(dir).or_insert_with(|| t.name.to_string());
        }
    }
    // Project targets hold installs too; a folder given with -o is not a
    // target, so what else is in it is none of our business.
    for row in &rows {
        if let Some(parent) = Path::new(&row.path).parent()
            && row.target != targets::DIR_TARGET
            && target.is_none_or(|t| row.target == t)
        {
            folders
                .entry(parent.to_path_buf())
                .or_insert_with(|| row.target.clone());
        }
    }
    for (dir, target_name) in folders {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || known.contains(&path) || !path.join("SKILL.md").is_file() {
                continue;
            }
            out.push(Installed::bare(
                name,
                target_name.clone(),
                path,
                "unmanaged",
            ));
        }
    }
    out.sort_by(|a, b| (&a.name, &a.target).cmp(&(&b.name, &b.target)));
    Ok(out)
}
