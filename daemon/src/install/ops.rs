//! Operations on installs: resolve the image to install, list (with
//! folders skilld did not install), remove, rollback, pin, upgrade.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use skilld_proto::ErrorCode;
use skilld_proto::images::Lifecycle;
use skilld_proto::install::{Installed, UpgradeOutcome};
use skilld_proto::stream::Progress;

use super::apply::{self, Image};
use super::{targets, to_wire};
use crate::api::ApiError;
use crate::api::images::resolve_local;
use crate::events::EventBus;
use crate::image::lifecycle::release_version;
use crate::image::reference::Reference;
use crate::index::installs::{self, InstallRow};
use crate::oci::Descriptor;
use crate::registry::{pull, remote};
use crate::state::State;
use crate::store::digest::Digest;
use skilld_proto::events::{EventKind, HistoryEntry};

/// The image for `input`: from the store, else pulled from its registry.
pub async fn resolve_image(
    state: &State,
    input: &str,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Image, ApiError> {
    let parsed = Reference::parse(input)?;
    let (reference, descriptor) = match resolve_local(state.catalog(), input).await {
        Ok(found) => found,
        Err(e) if e.code() == ErrorCode::NotFound && parsed.registry.is_some() => {
            let wanted = if parsed.tag.is_some() || parsed.digest.is_some() {
                parsed.clone()
            } else {
                parsed.with_tag("latest")
            };
            let pulled = pull::pull(state.catalog(), state.registries(), &wanted, progress).await?;
            (wanted, pulled.descriptor)
        }
        Err(e) => return Err(e),
    };
    let digest = descriptor.digest.clone();
    let (manifest, _) = state
        .catalog()
        .blocking(move |store| store.manifest(&digest))
        .await?;
    Ok(Image {
        reference,
        descriptor,
        manifest,
    })
}

/// Installs named `name` (in `target`, if given).
pub async fn matching(
    state: &State,
    name: &str,
    target: Option<&str>,
) -> Result<Vec<InstallRow>, ApiError> {
    if let Some(t) = target
        && t != targets::DIR_TARGET
    {
        targets::find(t).map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.to_string()))?;
    }
    let rows: Vec<InstallRow> = state
        .index()
        .read(installs::all)
        .await?
        .into_iter()
        .filter(|r| r.name == name && target.is_none_or(|t| r.target == t))
        .collect();
    if rows.is_empty() {
        let place = target
            .map(|t| format!(" in target {t}"))
            .unwrap_or_default();
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no skill named {name:?} is installed{place}; see `skillc list`"),
        ));
    }
    Ok(rows)
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

/// Every install, plus skill folders in known targets that skilld did not install.
pub async fn list(state: &State, target: Option<&str>) -> Result<Vec<Installed>, ApiError> {
    let rows = state.index().read(installs::all).await?;
    let mut out: Vec<Installed> = Vec::new();
    let mut known: BTreeSet<PathBuf> = BTreeSet::new();
    for row in &rows {
        if target.is_some_and(|t| row.target != t) {
            continue;
        }
        let mut wire = to_wire(row);
        if std::fs::symlink_metadata(&row.path).is_err() {
            wire.status = "missing".into();
        }
        known.insert(PathBuf::from(&row.path));
        out.push(wire);
    }
    // Folders that hold a SKILL.md in a known target but are not ours.
    let mut folders: BTreeMap<PathBuf, String> = BTreeMap::new();
    for t in targets::TARGETS {
        if target.is_some_and(|name| name != t.name) {
            continue;
        }
        if let Some((dir, _)) = t.resolve(state.target_env(), None) {
            folders.insert(dir, t.name.to_string());
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
            out.push(Installed {
                name,
                version: None,
                target: target_name.clone(),
                path,
                source: String::new(),
                digest: String::new(),
                status: "unmanaged".into(),
                pinned: false,
                installed_at: None,
                installed_by: None,
                latest: None,
            });
        }
    }
    out.sort_by(|a, b| (&a.name, &a.target).cmp(&(&b.name, &b.target)));
    Ok(out)
}

/// Remove the installs named `name`.
pub async fn remove(
    state: &State,
    name: &str,
    target: Option<&str>,
    force: bool,
) -> Result<(Vec<Installed>, Vec<PathBuf>), ApiError> {
    let rows = matching(state, name, target).await?;
    for row in &rows {
        if !force && super::is_modified(row) {
            super::audit(
                state,
                entry(
                    row,
                    "remove",
                    "cli",
                    "refused",
                    Some("edited by hand".into()),
                ),
            )
            .await;
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "{} was edited by hand since it was installed; nothing was removed. Use --force to remove it (the edited copy is kept in a backup folder)",
                    row.path
                ),
            ));
        }
    }
    let (mut changed, mut backups) = (Vec::new(), Vec::new());
    for row in rows {
        let dest = PathBuf::from(&row.path);
        let exists = std::fs::symlink_metadata(&dest).is_ok();
        if exists && super::is_modified(&row) {
            backups.push(super::backup(state, &dest, &row.name)?);
        }
        let displaced = super::swap::sibling(&dest, "old");
        if std::fs::symlink_metadata(&dest).is_ok() {
            super::swap::take_away(state.index(), &dest, &displaced)
                .await
                .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
            let _ = std::fs::remove_dir_all(&displaced);
        } else {
            let path = row.path.clone();
            state
                .index()
                .write(move |conn| installs::delete(conn, &path))
                .await?;
        }
        state.watch().refresh().await;
        tracing::info!(name = %row.name, target = %row.target, "removed");
        let mut event = EventBus::event(EventKind::Removed);
        event.skill = Some(row.name.clone());
        event.target = Some(row.target.clone());
        event.from_version = row.version.clone();
        event.from_digest = Some(row.digest.clone());
        state.events().emit(event);
        super::audit(state, entry(&row, "remove", "cli", "ok", None)).await;
        let mut wire = to_wire(&row);
        wire.status = "removed".into();
        changed.push(wire);
    }
    Ok((changed, backups))
}

/// Go back to the version installed before, from the store.
pub async fn rollback(
    state: &State,
    name: &str,
    target: Option<&str>,
    force: bool,
) -> Result<(Vec<Installed>, Vec<PathBuf>), ApiError> {
    let rows = matching(state, name, target).await?;
    let (mut changed, mut backups) = (Vec::new(), Vec::new());
    for row in rows {
        let (Some(previous_ref), Some(previous_digest)) =
            (row.previous_ref.clone(), row.previous_digest.clone())
        else {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "{} in {} has no earlier version to roll back to",
                    row.name, row.target
                ),
            ));
        };
        let digest = Digest::parse(&previous_digest)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
        let lookup = digest.clone();
        let manifest = state.catalog().blocking(move |store| store.manifest(&lookup)).await.map_err(|_| {
            ApiError::new(ErrorCode::Conflict, format!("the earlier version {previous_ref} is no longer in the store; install it again by reference"))
        })?;
        let descriptor = Descriptor {
            media_type: manifest.0.media_type.clone().unwrap_or_default(),
            digest,
            size: manifest.1,
            artifact_type: manifest.0.artifact_type.clone(),
            annotations: Default::default(),
        };
        let reference = Reference::parse(&previous_ref)?;
        let parent = Path::new(&row.path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let image = Image {
            reference,
            descriptor,
            manifest: manifest.0,
        };
        let applied = apply::install_into(
            state,
            &row.target,
            &parent,
            &image,
            force,
            "cli",
            apply::Action::Rollback,
        )
        .await?;
        backups.extend(applied.backup);
        changed.push(applied.installed);
    }
    Ok((changed, backups))
}

/// Pin or unpin the installs named `name`.
pub async fn pin(
    state: &State,
    name: &str,
    target: Option<&str>,
    pinned: bool,
) -> Result<Vec<Installed>, ApiError> {
    let rows = matching(state, name, target).await?;
    let mut changed = Vec::new();
    for mut row in rows {
        let path = row.path.clone();
        state
            .index()
            .write(move |conn| installs::set_pinned(conn, &path, pinned))
            .await?;
        super::audit(
            state,
            entry(
                &row,
                if pinned { "pin" } else { "unpin" },
                "cli",
                "ok",
                None,
            ),
        )
        .await;
        row.pinned = pinned;
        changed.push(to_wire(&row));
    }
    Ok(changed)
}

/// Published versions of `repository`: strict semver, no pre-release, not
/// deprecated or archived; from the registry, or the store for local images.
pub async fn published_versions(
    state: &State,
    row: &InstallRow,
) -> Result<Vec<(semver::Version, String)>, ApiError> {
    let repository = Reference::parse(&format!("{}:latest", row.repository))?;
    let tags: Vec<(String, Option<Lifecycle>)> = if repository.registry.is_some() {
        remote::tags(state.registries(), &repository)
            .await?
            .into_iter()
            .filter(|t| t.published)
            .map(|t| (t.tag, t.status))
            .collect()
    } else {
        state
            .catalog()
            .in_repository(&row.repository)
            .await?
            .into_iter()
            .map(|r| (r.tag, r.status.as_deref().and_then(Lifecycle::parse)))
            .collect()
    };
    Ok(tags
        .into_iter()
        .filter(|(_, status)| matches!(status, None | Some(Lifecycle::Published)))
        .filter_map(|(tag, _)| release_version(&tag).map(|v| (v, tag)))
        .collect())
}

/// The highest published version newer than what `row` has, if any.
pub async fn newer(
    state: &State,
    row: &InstallRow,
) -> Result<Option<(semver::Version, String)>, ApiError> {
    let current = row
        .version
        .as_deref()
        .and_then(|v| semver::Version::parse(v).ok());
    let best = published_versions(state, row)
        .await?
        .into_iter()
        .max_by(|a, b| a.0.cmp(&b.0));
    Ok(best.filter(|(v, _)| current.as_ref().is_none_or(|c| v > c)))
}

/// Install `row`'s repository at `tag` in place of `row` (an upgrade).
pub async fn upgrade_to(
    state: &State,
    row: &InstallRow,
    tag: &str,
    force: bool,
    by: &str,
) -> Result<apply::Applied, ApiError> {
    let image = resolve_image(state, &format!("{}:{tag}", row.repository), &|_| {}).await?;
    let parent = Path::new(&row.path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    apply::install_into(
        state,
        &row.target,
        &parent,
        &image,
        force,
        by,
        apply::Action::Upgrade,
    )
    .await
}

/// Upgrade one install to the newest published version.
pub async fn upgrade_one(
    state: &State,
    row: &InstallRow,
    dry_run: bool,
    force: bool,
    by: &str,
) -> (UpgradeOutcome, Option<PathBuf>) {
    let mut outcome = UpgradeOutcome {
        name: row.name.clone(),
        target: row.target.clone(),
        from: row.version.clone(),
        to: None,
        result: String::new(),
        message: None,
    };
    if row.pinned {
        outcome.result = "pinned".into();
        return (outcome, None);
    }
    let found = match newer(state, row).await {
        Ok(found) => found,
        Err(e) => {
            outcome.result = "failed".into();
            outcome.message = Some(e.0.message);
            return (outcome, None);
        }
    };
    let Some((version, tag)) = found else {
        outcome.result = "up_to_date".into();
        return (outcome, None);
    };
    outcome.to = Some(version.to_string());
    if dry_run {
        outcome.result = "would_upgrade".into();
        return (outcome, None);
    }
    if !force && super::is_modified(row) {
        outcome.result = "modified".into();
        outcome.message = Some(format!(
            "{} was edited by hand; not upgraded (use --force to upgrade and keep a backup)",
            row.path
        ));
        return (outcome, None);
    }
    let result = upgrade_to(state, row, &tag, force, by).await;
    match result {
        Ok(applied) => {
            outcome.result = "upgraded".into();
            (outcome, applied.backup)
        }
        Err(e) => {
            outcome.result = "failed".into();
            outcome.message = Some(e.0.message);
            (outcome, None)
        }
    }
}
