//! Making a project's folders match its lock, as one transaction: every
//! skill that must change is fetched by digest (never by tag), checked by
//! the trust policy (and against the signer the lock recorded), and
//! staged, with every link and removal judged, before anything moves; then
//! all the swaps are made as one batch ([`swap::replace_all`]): a failure
//! or a crash part-way leaves the previous set. Skills a sync of this
//! project installed and that left the lock are removed in the same batch;
//! a hand-edited one stops the sync unless `force` (then it is kept in the
//! backups).
//!
//! [`swap::replace_all`]: crate::install::swap::replace_all

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use skilld_proto::stream::Progress;

use super::ProjectError;
use super::files::{Lock, Locked, MANIFEST, Manifest};
use super::lock::{self, Update};
use crate::index::installs::{self, InstallRow};
use crate::install::apply;
use crate::install::batch::{self, Author, Batch};
use crate::install::{InstallError, links, ops, targets};
use crate::state::State;

/// How to sync.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Fail, writing nothing, when the files disagree; never write the lock.
    pub frozen: bool,
    /// Say what would change; change nothing.
    pub dry_run: bool,
    /// Replace or remove hand-edited skills (kept in the backups).
    pub force: bool,
}

/// One change a sync makes (or would make).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub name: String,
    /// `install`, `update`, `link`, `remove` or `keep`.
    pub action: &'static str,
    pub from: Option<String>,
    pub to: Option<String>,
    pub path: PathBuf,
}

impl Change {
    /// `row` leaving its folder.
    pub fn removal(row: &InstallRow) -> Change {
        Change {
            name: row.name.clone(),
            action: "remove",
            from: row.version.clone(),
            to: None,
            path: PathBuf::from(&row.path),
        }
    }
}

/// What a sync did.
#[derive(Debug, Default)]
pub struct Synced {
    pub changes: Vec<Change>,
    pub backups: Vec<PathBuf>,
    /// Whether the lock was written first (it disagreed with skills.json).
    pub relocked: bool,
}

/// Sync the project at `root` (see the module docs).
pub async fn sync(
    state: &State,
    root: &Path,
    options: Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Synced, ProjectError> {
    // Two syncs of one project: the second waits for the first.
    let _project = state.folders().lock(root).await;
    let (lock, relocked) = current_lock(state, root, options).await?;
    let project = root.display().to_string();
    let rows: HashMap<String, InstallRow> = state.index().read(installs::all_by_path).await?;
    let mut batch = Batch::default();
    let planned = plan(state, root, &lock, &rows, options, progress, &mut batch).await;
    let mut changes = match planned {
        Ok(p) => p,
        Err(e) => {
            batch.discard();
            return Err(e);
        }
    };
    // Installs this project's syncs made that left the lock.
    let wanted: Vec<PathBuf> = lock
        .skills
        .iter()
        .flat_map(|l| std::iter::once(&l.path).chain(&l.additional_installed_paths))
        .map(|p| root.join(p))
        .collect();
    let owned = |r: &InstallRow| r.project.as_deref() == Some(project.as_str());
    for row in batch::leaving(rows.values(), owned, &wanted) {
        if crate::install::is_modified(row) && !options.force {
            batch.discard();
            return Err(ProjectError::Conflict(format!(
                "{} left the lock but was edited by hand since it was installed; nothing was changed. Use --force to remove it (the edited copy is kept in a backup folder)",
                row.path
            )));
        }
        changes.push(Change::removal(row));
        if !options.dry_run {
            batch.remove(state, row)?;
        }
    }
    if options.dry_run {
        batch.discard();
        return Ok(Synced {
            changes,
            backups: Vec::new(),
            relocked,
        });
    }
    let author = Author {
        actor: "cli".into(),
        message: format!("project sync of {project}"),
    };
    let backups = batch.commit(state, &author).await?;
    record_needs(state, root, &lock).await?;
    Ok(Synced {
        changes,
        backups,
        relocked,
    })
}

/// The lock to sync: as it is with `frozen` (which fails when it disagrees
/// with skills.json), else locked again first when it disagrees.
async fn current_lock(
    state: &State,
    root: &Path,
    options: Options,
) -> Result<(Lock, bool), ProjectError> {
    let manifest = Manifest::load(root)?;
    let lock = Lock::load(root)?;
    let has_manifest = root.join(MANIFEST).exists();
    let why = match &lock {
        None => Some("there is no skills.lock.json".to_string()),
        Some(l) if has_manifest => lock::disagreement(&manifest, l),
        Some(_) => None,
    };
    match (lock, why) {
        (Some(l), None) => Ok((l, false)),
        (_, Some(why)) if options.frozen => Err(ProjectError::Conflict(format!(
            "--frozen: {why} ({}); run `skillc lock` and commit skills.lock.json. Nothing was changed",
            root.display()
        ))),
        (None, _) if !has_manifest => Err(ProjectError::NotFound(format!(
            "{} has no skills.json and no skills.lock.json; add a skill with `skillc add REF`",
            root.display()
        ))),
        (_, Some(why)) if options.dry_run => Err(ProjectError::Conflict(format!(
            "the lock must be written first ({why}); run `skillc lock`, then `skillc sync --dry-run`"
        ))),
        _ => {
            let locking = lock::lock(state, root, &Update::None).await?;
            Ok((locking.lock, locking.written))
        }
    }
}

/// The target a project folder `rel` (`.claude/skills`) belongs to, and
/// whether its agent follows links (an unknown folder: `dir`, links).
pub(crate) fn target_of(rel: &str) -> (&'static str, bool) {
    targets::all()
        .iter()
        .find(|t| t.project_path == rel)
        .map(|t| (t.name, t.follows_links))
        .unwrap_or((targets::DIR_TARGET, true))
}

/// Stage every change the lock asks for (into `prepared`, so a failure
/// part-way can drop what was staged); the changes, kept skills included.
#[allow(clippy::too_many_arguments)]
async fn plan(
    state: &State,
    root: &Path,
    lock: &Lock,
    rows: &HashMap<String, InstallRow>,
    options: Options,
    progress: &(dyn Fn(Progress) + Sync),
    batch: &mut Batch,
) -> Result<Vec<Change>, ProjectError> {
    let project = root.display().to_string();
    let mut changes = Vec::new();
    let total = lock.skills.len() as u64;
    for (i, locked) in lock.skills.iter().enumerate() {
        progress(Progress {
            phase: "sync".into(),
            current: i as u64,
            total: Some(total),
            unit: Some("skills".into()),
            message: Some(locked.name.clone()),
            item: None,
        });
        let copy_dest = root.join(&locked.path);
        let copy_row = rows.get(&copy_dest.display().to_string());
        // The locked artifact, on disk as it was installed (not edited,
        // not gone).
        let intact = |r: &InstallRow| {
            crate::install::holds(r, &locked.source.digest)
                && crate::install::drift::status_of(r) == "ok"
        };
        let copy_ok = copy_row.is_some_and(|r| r.link_of.is_none() && intact(r));
        let mut places: Vec<(PathBuf, &'static str, bool)> = Vec::new();
        for rel in &locked.additional_installed_paths {
            let dest = root.join(rel);
            let base = Path::new(rel)
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let (target, follows) = target_of(&base);
            let ok = rows.get(&dest.display().to_string()).is_some_and(|r| {
                intact(r)
                    && copy_ok
                    && match follows {
                        true => r.link_of.as_deref() == Some(&copy_dest.display().to_string()),
                        false => r.link_of.is_none(),
                    }
            });
            if !ok {
                places.push((dest, target, follows));
            }
        }
        if copy_ok && places.is_empty() {
            changes.push(Change {
                name: locked.name.clone(),
                action: "keep",
                from: copy_row.and_then(|r| r.version.clone()),
                to: copy_row.and_then(|r| r.version.clone()),
                path: copy_dest,
            });
            continue;
        }
        let copy_record = if copy_ok { copy_row.cloned() } else { None };
        let from = copy_row.and_then(|r| r.version.clone());
        if options.dry_run {
            changes.push(Change {
                name: locked.name.clone(),
                action: if copy_ok {
                    "link"
                } else if copy_row.is_some() {
                    "update"
                } else {
                    "install"
                },
                from,
                to: Some(locked.source.tag.clone()),
                path: copy_dest,
            });
            continue;
        }
        let image = ops::resolve_image(state, &locked.source.reference, progress)
            .await
            .map_err(|e| not_in_registry(locked, e))?;
        let verdict = image.verdict(state).await.map_err(InstallError::from)?;
        if let Some(expected) = &locked.signer
            && verdict.signer.as_deref() != Some(expected.as_str())
        {
            return Err(ProjectError::Conflict(format!(
                "{} was locked as signed by key {expected}, but {}; nothing was changed. If the team moved to another key, lock again: skillc lock --update {}",
                locked.name,
                match &verdict.signer {
                    Some(s) => format!("its signature now verifies with key {s}"),
                    None => "no signature was checked (the trust policy has no signed rule for it)"
                        .into(),
                },
                locked.name
            )));
        }
        let copy = match copy_record {
            Some(row) => row,
            None => {
                let parent = copy_dest.parent().unwrap_or(root).to_path_buf();
                let p = apply::prepare_copy(
                    state,
                    "agents",
                    &parent,
                    &image,
                    options.force,
                    "cli",
                    verdict.signer.clone(),
                    Some(project.clone()),
                )
                .await?;
                let record = p.record.clone();
                let wrong_name = p.item.dest != copy_dest;
                batch.add(p);
                if wrong_name {
                    return Err(ProjectError::Conflict(format!(
                        "the image locked for {:?} ({}) holds the skill {:?}; a lock entry is named after its skill",
                        locked.name, locked.source.reference, record.name
                    )));
                }
                changes.push(Change {
                    name: locked.name.clone(),
                    action: if copy_row.is_some() {
                        "update"
                    } else {
                        "install"
                    },
                    from: from.clone(),
                    to: record.version.clone(),
                    path: copy_dest.clone(),
                });
                record
            }
        };
        for (dest, target, follows) in places {
            let parent = dest.parent().unwrap_or(root).to_path_buf();
            let p = if follows {
                links::prepare(state, target, &parent, &copy, options.force, "cli").await?
            } else {
                apply::prepare_copy(
                    state,
                    target,
                    &parent,
                    &image,
                    options.force,
                    "cli",
                    verdict.signer.clone(),
                    Some(project.clone()),
                )
                .await?
            };
            changes.push(Change {
                name: locked.name.clone(),
                action: if follows { "link" } else { "install" },
                from: None,
                to: copy.version.clone(),
                path: dest,
            });
            batch.add(p);
        }
    }
    Ok(changes)
}

/// A locked digest the registry does not have says which and what to do;
/// other failures (a registry serving other content, unreachable) as they
/// are.
fn not_in_registry(locked: &Locked, e: InstallError) -> ProjectError {
    use crate::registry::RegistryError;
    match e {
        InstallError::Registry(RegistryError::NotFound { .. }) | InstallError::NotFound(_) => {
            ProjectError::NotFound(format!(
                "{} is locked at {}, which is not in the store and cannot be fetched: {e}. If the registry no longer has it, lock it again: skillc lock --update {}",
                locked.name, locked.source.reference, locked.name
            ))
        }
        other => other.into(),
    }
}

/// Record in the index which of the project's installs need which (as the
/// lock's `dependencies` say, folder by folder), and mark the entries
/// skills.json does not list as there only for others.
async fn record_needs(state: &State, root: &Path, lock: &Lock) -> Result<(), ProjectError> {
    let manifest = Manifest::load(root)?;
    let folders = |l: &Locked| -> Vec<(Option<String>, PathBuf)> {
        std::iter::once((None, root.join(&l.path)))
            .chain(l.additional_installed_paths.iter().map(|p| {
                let base = Path::new(p).parent().map(|b| b.display().to_string());
                (base, root.join(p))
            }))
            .collect()
    };
    let mut edges: crate::index::needs::Edges = Vec::new();
    let mut marks: Vec<(String, bool)> = Vec::new();
    for locked in &lock.skills {
        let only = manifest.find(&locked.name).is_none();
        for (base, path) in folders(locked) {
            let needs = locked
                .dependencies
                .iter()
                .filter_map(|name| lock.find(name))
                .filter_map(|dep| {
                    folders(dep)
                        .into_iter()
                        .find(|(b, _)| *b == base)
                        .map(|(_, p)| (p.display().to_string(), "*".to_string()))
                })
                .collect();
            edges.push((path.display().to_string(), needs));
            marks.push((path.display().to_string(), only));
        }
    }
    state
        .index()
        .write(move |conn| crate::index::needs::record(conn, &edges, &marks))
        .await?;
    Ok(())
}
