//! Operations on installs: resolve the image to install, find installs by
//! name, remove, rollback, pin. (Listing is in `list`, choosing upgrades in
//! `select`.)

use std::path::{Path, PathBuf};

use skilld_proto::install::Installed;
use skilld_proto::stream::Progress;

use super::apply::{self, Image};
use super::error::InstallError;
use super::{targets, to_wire};
use crate::events::EventBus;
use crate::image::reference::Reference;
use crate::index::installs::{self, InstallRow};
use crate::oci::Descriptor;
use crate::registry::fetch::{Fetched, fetch_manifest};
use crate::registry::pull;
use crate::registry::transport::Endpoint;
use crate::state::State;
use crate::store::catalog::FindError;
use crate::store::digest::Digest;
use skilld_proto::events::{EventKind, HistoryEntry};

/// The image for `input`: from the store, else pulled from its registry.
pub async fn resolve_image(
    state: &State,
    input: &str,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Image, InstallError> {
    resolve_image_fetched(state, input, progress, None).await
}

/// [`resolve_image`], with the manifest of `input` already fetched (by an
/// upgrade check that read its status), so a pull does not ask again.
pub async fn resolve_image_fetched(
    state: &State,
    input: &str,
    progress: &(dyn Fn(Progress) + Sync),
    prefetched: Option<(Fetched, Endpoint)>,
) -> Result<Image, InstallError> {
    let parsed = Reference::parse(input)?;
    // What resolves an image is about to write or scan it.
    state.config().scan.prepare();
    let (mut signatures, mut pulled_tag) = (None, None);
    let (reference, descriptor) = match state.catalog().find(input).await {
        Ok(found) => found,
        Err(FindError::NotFound { .. }) if parsed.registry.is_some() => {
            let wanted = if parsed.tag.is_some() || parsed.digest.is_some() {
                parsed.clone()
            } else {
                parsed.with_tag("latest")
            };
            let (fetched, endpoint) = match prefetched {
                Some(known) => known,
                // A missing tag is told with the tags that are there.
                None => match fetch_manifest(state.registries(), &wanted).await {
                    Ok(fetched) => fetched,
                    Err(e) => {
                        let explained = crate::registry::remote::explain_not_found(
                            state.registries(),
                            &wanted,
                            e,
                        )
                        .await;
                        return Err(explained.into());
                    }
                },
            };
            // Under a signed rule, the signatures download with the blobs,
            // on another task: the pull blocks its thread while it fsyncs.
            let prefetch = crate::trust::enforce::prefetch(state, &wanted, &fetched.digest);
            // The layers are scanned as they download, if the policy scans.
            let scan = state.config().scan.scan_pulls(state.scanning());
            let tee = scan.as_ref().map(|s| s as &dyn pull::Tee);
            let pulled =
                pull::pull_fetched(state.catalog(), &wanted, fetched, endpoint, progress, tee)
                    .await;
            if let Some(fetching) = prefetch {
                signatures = fetching.await.ok().flatten().map(std::sync::Arc::new);
            }
            let pulled = pulled?;
            pulled_tag = Some(pulled.name);
            (wanted, pulled.descriptor)
        }
        Err(FindError::NotFound { message, .. }) if parsed.registry.is_none() => {
            // A newcomer's `install acme/tool` may expect a default registry.
            return Err(InstallError::not_found(format!(
                "{message}. {input} names no registry, and skilld adds none: to install from a registry, name it, e.g. quay.io/{input}"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let digest = descriptor.digest.clone();
    let (manifest, _) = state
        .catalog()
        .blocking(move |store| store.manifest(&digest))
        .await?;
    let index = descriptor
        .annotations
        .get(crate::oci::annotation::INDEX_DIGEST)
        .and_then(|d| Digest::parse(d).ok());
    Ok(Image {
        reference,
        descriptor,
        manifest,
        signatures,
        pulled_tag,
        index,
    })
}

/// Which installs a remove, rollback or pin is about: a name, in one
/// target or all, or the one install at `path`.
#[derive(Debug, Clone, Copy)]
pub struct Selector<'a> {
    pub name: &'a str,
    pub target: Option<&'a str>,
    pub path: Option<&'a Path>,
}

/// Installs named `name` (in `target`, if given).
pub async fn matching(
    state: &State,
    name: &str,
    target: Option<&str>,
) -> Result<Vec<InstallRow>, InstallError> {
    select(
        state,
        Selector {
            name,
            target,
            path: None,
        },
    )
    .await
}

/// The installs `selector` names; `not_found` when there are none.
pub async fn select(
    state: &State,
    selector: Selector<'_>,
) -> Result<Vec<InstallRow>, InstallError> {
    let Selector { name, target, path } = selector;
    if let Some(t) = target
        && t != targets::DIR_TARGET
    {
        targets::find(t).map_err(|e| InstallError::invalid(e.to_string()))?;
    }
    // The folder as the index has it: its parent resolved, as at install.
    let path = match path {
        Some(p) => {
            let parent = p
                .parent()
                .ok_or_else(|| InstallError::invalid("the install path names no folder"))?;
            let parent = super::folders::canonical_folder(parent).map_err(InstallError::invalid)?;
            Some(parent.join(p.file_name().unwrap_or_default()))
        }
        None => None,
    };
    let rows: Vec<InstallRow> = state
        .index()
        .read(installs::all)
        .await?
        .into_iter()
        .filter(|r| {
            r.name == name
                && target.is_none_or(|t| r.target == t)
                && path.as_ref().is_none_or(|p| Path::new(&r.path) == p)
        })
        .collect();
    if rows.is_empty() {
        let place = match (&path, target) {
            (Some(p), _) => format!(" at {}", p.display()),
            (None, Some(t)) => format!(" in target {t}"),
            (None, None) => String::new(),
        };
        return Err(InstallError::not_found(format!(
            "no skill named {name:?} is installed{place}; see `skillc list`"
        )));
    }
    Ok(rows)
}

/// The outcome of a change over several installs: what changed, backups,
/// what failed and why.
#[derive(Debug, Default)]
pub struct Outcomes {
    pub changed: Vec<Installed>,
    pub backups: Vec<PathBuf>,
    pub failed: Vec<(InstallRow, InstallError)>,
}

/// A history entry about `row` (no version change).
fn entry(
    row: &InstallRow,
    action: &str,
    actor: &str,
    outcome: &str,
    message: Option<String>,
) -> HistoryEntry {
    HistoryEntry {
        at: crate::events::now(),
        action: action.into(),
        actor: actor.into(),
        skill: row.name.clone(),
        target: row.target.clone(),
        from_version: row.version.clone(),
        to_version: None,
        from_digest: Some(row.digest.clone()),
        to_digest: None,
        outcome: outcome.into(),
        message,
    }
}

/// Remove the installs `selector` names, each on its own: a hand-edited
/// one is refused (kept) unless `force`, the others go.
pub async fn remove(
    state: &State,
    selector: Selector<'_>,
    force: bool,
) -> Result<Outcomes, InstallError> {
    let rows = select(state, selector).await?;
    // A copy goes with its links, which go first.
    let all = state.index().read(installs::all).await?;
    let rows = super::links::with_links_first(&all, rows);
    if !force {
        super::dependents::refuse_needed(state, &rows).await?;
    }
    // A hand-edited copy stays without `force`: so do the links to it,
    // or its agents would lose a skill that is still there.
    let kept: Vec<String> = rows
        .iter()
        .filter(|r| !force && super::is_modified(r))
        .map(|r| r.path.clone())
        .collect();
    let mut out = Outcomes::default();
    for row in rows {
        let removed = match row.link_of.as_ref().filter(|copy| kept.contains(copy)) {
            Some(copy) => Err(InstallError::conflict(format!(
                "{} links to {copy}, which was edited by hand; nothing was removed. Use --force to remove both (the edited copy is kept in a backup folder)",
                row.path
            ))),
            None => remove_one(state, &row, force).await,
        };
        match removed {
            Ok((wire, backup)) => {
                out.changed.push(wire);
                out.backups.extend(backup);
            }
            Err(e) => {
                let outcome = if e.is_refusal() { "refused" } else { "failed" };
                super::audit(
                    state,
                    entry(&row, "remove", "cli", outcome, Some(e.to_string())),
                )
                .await;
                out.failed.push((row, e));
            }
        }
    }
    Ok(out)
}

async fn remove_one(
    state: &State,
    row: &InstallRow,
    force: bool,
) -> Result<(Installed, Option<PathBuf>), InstallError> {
    let dest = PathBuf::from(&row.path);
    let parent = dest.parent().map(Path::to_path_buf).unwrap_or_default();
    let _folder = state.folders().lock(&parent).await;
    let modified = super::is_modified(row);
    if modified && !force {
        return Err(InstallError::conflict(format!(
            "{} was edited by hand since it was installed; nothing was removed. Use --force to remove it (the edited copy is kept in a backup folder)",
            row.path
        )));
    }
    let mut backup = None;
    if std::fs::symlink_metadata(&dest).is_ok() && modified {
        backup = Some(super::backup(state, &dest, &row.name)?);
    }
    if std::fs::symlink_metadata(&dest).is_ok() {
        let displaced = super::swap::sibling(&dest, "old");
        super::swap::take_away(state.index(), &dest, &displaced)
            .await
            .map_err(|e| InstallError::internal(e.to_string()))?;
        let _ = std::fs::remove_dir_all(&displaced);
        super::swap::tidy_area(&parent);
    } else {
        let path = row.path.clone();
        state
            .index()
            .write(move |conn| installs::delete(conn, &path))
            .await?;
    }
    state.watch().refresh().await;
    tracing::info!(name = %row.name, target = %row.target, path = %row.path, "removed");
    let mut event = EventBus::event(EventKind::Removed);
    event.skill = Some(row.name.clone());
    event.target = Some(row.target.clone());
    event.from_version = row.version.clone();
    event.from_digest = Some(row.digest.clone());
    state.events().emit(event);
    super::audit(state, entry(row, "remove", "cli", "ok", None)).await;
    let mut wire = to_wire(row);
    wire.status = "removed".into();
    Ok((wire, backup))
}

/// Go back to the version installed before, from the store.
pub async fn rollback(
    state: &State,
    selector: Selector<'_>,
    force: bool,
) -> Result<Outcomes, InstallError> {
    let rows = select(state, selector).await?;
    // A link rolls back with its copy, once.
    let all = state.index().read(installs::all).await?;
    let rows = super::links::owners(&all, rows);
    let mut out = Outcomes::default();
    for row in rows {
        match rollback_one(state, &row, force).await {
            Ok(applied) => {
                out.backups.extend(applied.backup);
                out.changed.push(applied.installed);
                out.changed.extend(applied.linked);
            }
            // Recorded in the history already (by rollback_one or install_into).
            Err(e) => out.failed.push((row, e)),
        }
    }
    Ok(out)
}

async fn rollback_one(
    state: &State,
    row: &InstallRow,
    force: bool,
) -> Result<apply::Applied, InstallError> {
    // A failure before the install is recorded here; install_into records
    // its own outcome.
    let checked = async {
        let image = earlier_image(state, row).await?;
        // What the earlier version needs must be there, at versions it
        // accepts.
        let owner = apply::owner_of(state, row).await?;
        let place = super::plan::Place {
            target: owner.target.clone(),
            dir: apply::parent_of(&owner.path),
            how: super::plan::How::Copy,
            agents: String::new(),
        };
        let edges = super::dependents::rollback_needs(state, &image, &place).await?;
        Ok::<_, InstallError>((image, edges))
    }
    .await;
    let (image, edges) = match checked {
        Ok(checked) => checked,
        Err(e) => {
            let outcome = if e.is_refusal() { "refused" } else { "failed" };
            let message = Some(e.to_string());
            super::audit(state, entry(row, "rollback", "cli", outcome, message)).await;
            return Err(e);
        }
    };
    let applied =
        apply::replace_install(state, row, &image, force, "cli", apply::Action::Rollback).await?;
    let links = applied
        .linked
        .iter()
        .map(|l| l.path.display().to_string())
        .collect();
    let path = applied.installed.path.display().to_string();
    super::dependents::set_needs(state, &path, edges, links).await?;
    Ok(applied)
}

/// The version installed before `row`'s, from the store.
async fn earlier_image(state: &State, row: &InstallRow) -> Result<Image, InstallError> {
    let (Some(previous_ref), Some(previous_digest)) =
        (row.previous_ref.clone(), row.previous_digest.clone())
    else {
        return Err(InstallError::conflict(format!(
            "{} in {} has no earlier version to roll back to",
            row.name, row.target
        )));
    };
    let digest =
        Digest::parse(&previous_digest).map_err(|e| InstallError::internal(e.to_string()))?;
    let lookup = digest.clone();
    let (manifest, size) = state
        .catalog()
        .blocking(move |store| store.manifest(&lookup))
        .await
        .map_err(|_| {
            InstallError::conflict(
                format!("the earlier version {previous_ref} is no longer in the store; install it again by reference"),
            )
        })?;
    let descriptor = Descriptor {
        media_type: manifest.media_type.clone().unwrap_or_default(),
        digest,
        size,
        artifact_type: manifest.artifact_type.clone(),
        annotations: Default::default(),
    };
    Ok(Image {
        reference: Reference::parse(&previous_ref)?,
        descriptor,
        manifest,
        // No network on a rollback: the store's signatures, else the registry's.
        signatures: None,
        pulled_tag: None,
        index: None,
    })
}

/// Pin or unpin the installs `selector` names.
pub async fn pin(
    state: &State,
    selector: Selector<'_>,
    pinned: bool,
) -> Result<Outcomes, InstallError> {
    let rows = select(state, selector).await?;
    // Linked installs change together.
    let all = state.index().read(installs::all).await?;
    let rows = super::links::whole_sets(&all, rows);
    let mut out = Outcomes::default();
    for mut row in rows {
        let path = row.path.clone();
        let written = state
            .index()
            .write(move |conn| installs::set_pinned(conn, &path, pinned))
            .await;
        let action = if pinned { "pin" } else { "unpin" };
        match written {
            Ok(_) => {
                super::audit(state, entry(&row, action, "cli", "ok", None)).await;
                row.pinned = pinned;
                out.changed.push(to_wire(&row));
            }
            Err(e) => {
                let e = InstallError::from(e);
                super::audit(
                    state,
                    entry(&row, action, "cli", "failed", Some(e.to_string())),
                )
                .await;
                out.failed.push((row, e));
            }
        }
    }
    Ok(out)
}
