//! Making targets hold a collection's skills, as one transaction: every
//! skill that must change is fetched by digest, checked by the trust
//! policy and staged (a copy in the shared folder, links in the others, as
//! an install plans them), then all are swapped as one batch
//! ([`Batch`]); a failure part-way changes nothing.
//!
//! A subscription owns what it installs (`installs.subscription`): a skill
//! that left the collection is removed when the subscription installed it
//! and nobody edited it since. A hand-edited skill is never overwritten or
//! removed by a subscription: it is kept, reported, and (when it left the
//! collection) no longer followed. A one-off `collection install` treats a
//! hand edit as `install` does: refused without `--force`.

use std::collections::HashMap;
use std::path::PathBuf;

use skilld_proto::install::InstallMode;
use skilld_proto::stream::Progress;

use super::CollectionError;
use super::resolve::Resolved;
use crate::index::installs::{self, InstallRow};
use crate::install::apply::{self, Prepared};
use crate::install::batch::{self, Author, Batch};
use crate::install::plan::{self, How, Place};
use crate::install::{InstallError, drift, links, ops};
use crate::project::sync::Change;
use crate::state::State;

/// How to converge.
#[derive(Debug, Clone)]
pub struct Options {
    /// Target names; empty for the default ones.
    pub targets: Vec<String>,
    pub mode: InstallMode,
    /// Replace hand-edited skills and folders in the way (kept in backups).
    pub force: bool,
    pub dry_run: bool,
    /// The subscription converging (its reference); none for a one-off
    /// install.
    pub owner: Option<String>,
    /// `installed_by`: `cli` or `auto`.
    pub by: &'static str,
    pub author: Author,
}

/// A skill left as it is, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub name: String,
    pub path: PathBuf,
    pub why: String,
}

/// What a convergence did (or would do).
#[derive(Debug, Default)]
pub struct Converged {
    pub changes: Vec<Change>,
    pub kept: Vec<Kept>,
    pub backups: Vec<PathBuf>,
    /// Who reads the targets.
    pub seen_by: Vec<String>,
}

/// Converge the targets of `options` on `resolved` (see the module docs).
pub async fn converge(
    state: &State,
    resolved: &[Resolved],
    options: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Converged, CollectionError> {
    let install = &state.config().install;
    let places = plan::plan(
        state.target_env(),
        plan::Request {
            names: &options.targets,
            project: None,
            output: None,
            mode: options.mode,
            configured_default: install.default_target.as_deref(),
        },
    )?;
    // What the skills need is installed and followed with them.
    let with_needs = super::depend::with_dependencies(state, resolved).await?;
    let resolved = with_needs.as_slice();
    // One writer per folder; taken in one order, so two converging never
    // wait on each other.
    let mut dirs: Vec<&PathBuf> = places.iter().map(|p| &p.dir).collect();
    dirs.sort();
    dirs.dedup();
    let mut _held = Vec::new();
    for dir in dirs {
        _held.push(state.folders().lock(dir).await);
    }
    let rows: HashMap<String, InstallRow> = state.index().read(installs::all_by_path).await?;
    let mut out = Converged::default();
    for p in &places {
        if !p.agents.is_empty() && !out.seen_by.contains(&p.agents) {
            out.seen_by.push(p.agents.clone());
        }
    }
    let mut batch = Batch::default();
    let mut release = Vec::new();
    let planned = async {
        for (i, r) in resolved.iter().enumerate() {
            progress(Progress {
                phase: "converge".into(),
                current: i as u64,
                total: Some(resolved.len() as u64),
                unit: Some("skills".into()),
                message: Some(r.name.clone()),
                item: None,
            });
            plan_skill(state, r, &places, &rows, options, progress, &mut batch, &mut out).await?;
        }
        if let Some(owner) = &options.owner {
            let wanted: Vec<PathBuf> = resolved
                .iter()
                .flat_map(|r| places.iter().map(|p| p.dir.join(&r.name)))
                .collect();
            let owned = |r: &InstallRow| r.subscription.as_deref() == Some(owner.as_str());
            for row in batch::leaving(rows.values(), owned, &wanted) {
                if crate::install::is_modified(row) && !options.force {
                    out.kept.push(Kept {
                        name: row.name.clone(),
                        path: PathBuf::from(&row.path),
                        why: "left the collection but was edited by hand: kept, and no longer followed".into(),
                    });
                    release.push(row.path.clone());
                    continue;
                }
                out.changes.push(Change::removal(row));
                if !options.dry_run {
                    batch.remove(state, row)?;
                }
            }
        }
        Ok::<(), CollectionError>(())
    }
    .await;
    if let Err(e) = planned {
        batch.discard();
        return Err(e);
    }
    if options.dry_run {
        batch.discard();
        return Ok(out);
    }
    out.backups = batch.commit(state, &options.author).await?;
    record_needs(state, resolved, &places).await?;
    for path in release {
        state
            .index()
            .write(move |conn| installs::set_subscription(conn, &path, None))
            .await?;
    }
    Ok(out)
}

/// Record which installs need which in every place, and mark the skills
/// there only because another needs them.
async fn record_needs(
    state: &State,
    resolved: &[Resolved],
    places: &[Place],
) -> Result<(), CollectionError> {
    if resolved.iter().all(|r| r.needs.is_empty() && !r.dependency) {
        return Ok(());
    }
    let mut edges: crate::index::needs::Edges = Vec::new();
    let mut marks: Vec<(String, bool)> = Vec::new();
    for place in places {
        for r in resolved {
            let path = place.dir.join(&r.name).display().to_string();
            let needs = r
                .needs
                .iter()
                .map(|n| (place.dir.join(n).display().to_string(), "*".to_string()))
                .collect();
            edges.push((path.clone(), needs));
            marks.push((path, r.dependency));
        }
    }
    state
        .index()
        .write(move |conn| crate::index::needs::record(conn, &edges, &marks))
        .await?;
    Ok(())
}

/// Mark a staged install as the subscription's.
fn owned(mut p: Prepared, owner: &Option<String>) -> Prepared {
    if owner.is_some() {
        p.record.subscription = owner.clone();
        if let Some(r) = p.item.record.as_mut() {
            r.subscription = owner.clone();
        }
    }
    p
}

/// Stage what one skill needs in every place (nothing when it is there).
#[allow(clippy::too_many_arguments)]
async fn plan_skill(
    state: &State,
    r: &Resolved,
    places: &[Place],
    rows: &HashMap<String, InstallRow>,
    options: &Options,
    progress: &(dyn Fn(Progress) + Sync),
    batch: &mut Batch,
    out: &mut Converged,
) -> Result<(), CollectionError> {
    let Some(copy_place) = places.first() else {
        return Ok(());
    };
    let following = options.owner.is_some() && !options.force;
    let digest = r.digest.as_str();
    let intact =
        |row: &InstallRow| crate::install::holds(row, digest) && drift::status_of(row) == "ok";
    let copy_dest = copy_place.dir.join(&r.name);
    let copy_row = rows.get(&copy_dest.display().to_string());
    let copy_ok = copy_row.is_some_and(|row| row.link_of.is_none() && intact(row));
    let edited = |row: Option<&InstallRow>| row.is_some_and(crate::install::is_modified);
    if !copy_ok && following && edited(copy_row) {
        out.kept.push(Kept {
            name: r.name.clone(),
            path: copy_dest,
            why: format!("edited by hand: kept as it is, not moved to {}", r.written),
        });
        return Ok(());
    }
    let mut needs: Vec<&Place> = Vec::new();
    for place in &places[1..] {
        let dest = place.dir.join(&r.name);
        let row = rows.get(&dest.display().to_string());
        let ok = row.is_some_and(|row| {
            copy_ok
                && intact(row)
                && match place.how {
                    How::Link => row.link_of.as_deref() == Some(&copy_dest.display().to_string()),
                    How::Copy => row.link_of.is_none(),
                }
        });
        if ok {
            continue;
        }
        if following && edited(row) {
            out.kept.push(Kept {
                name: r.name.clone(),
                path: dest,
                why: "edited by hand: kept as it is".into(),
            });
            continue;
        }
        needs.push(place);
    }
    let version = |row: Option<&InstallRow>| row.and_then(|row| row.version.clone());
    if copy_ok && needs.is_empty() {
        out.changes.push(Change {
            name: r.name.clone(),
            action: "keep",
            from: version(copy_row),
            to: version(copy_row),
            path: copy_dest,
        });
        return Ok(());
    }
    let copy_change = |to: Option<String>| Change {
        name: r.name.clone(),
        action: if copy_row.is_some() {
            "update"
        } else {
            "install"
        },
        from: version(copy_row),
        to,
        path: copy_dest.clone(),
    };
    let place_change = |place: &Place, to: Option<String>| Change {
        name: r.name.clone(),
        action: if place.how == How::Link {
            "link"
        } else {
            "install"
        },
        from: None,
        to,
        path: place.dir.join(&r.name),
    };
    if options.dry_run {
        let to = r.reference.tag.clone();
        if !copy_ok {
            out.changes.push(copy_change(to.clone()));
        }
        for place in needs {
            out.changes.push(place_change(place, to.clone()));
        }
        return Ok(());
    }
    let image = ops::resolve_image(state, &r.reference.to_string(), progress).await?;
    let verdict = image.verdict(state).await.map_err(InstallError::from)?;
    let copy = match copy_row.filter(|_| copy_ok) {
        Some(row) => row.clone(),
        None => {
            let p = apply::prepare_copy(
                state,
                &copy_place.target,
                &copy_place.dir,
                &image,
                options.force,
                options.by,
                verdict.signer.clone(),
                None,
            )
            .await?;
            let p = owned(p, &options.owner);
            let record = p.record.clone();
            let wrong_name = p.item.dest != copy_dest;
            batch.add(p);
            if wrong_name {
                return Err(CollectionError::Conflict(format!(
                    "the collection lists {:?} as {}, but that image holds the skill {:?}; a collection names each skill as its SKILL.md does",
                    r.name, r.written, record.name
                )));
            }
            out.changes.push(copy_change(record.version.clone()));
            record
        }
    };
    for place in needs {
        let p = match place.how {
            How::Link => {
                links::prepare(
                    state,
                    &place.target,
                    &place.dir,
                    &copy,
                    options.force,
                    options.by,
                )
                .await?
            }
            How::Copy => {
                apply::prepare_copy(
                    state,
                    &place.target,
                    &place.dir,
                    &image,
                    options.force,
                    options.by,
                    verdict.signer.clone(),
                    None,
                )
                .await?
            }
        };
        out.changes.push(place_change(place, copy.version.clone()));
        batch.add(owned(p, &options.owner));
    }
    Ok(())
}
