//! Operations on installs: resolve the image to install, find installs by
//! name, remove, rollback, pin. (Listing is in `list`, choosing upgrades in
//! `select`.)

use std::path::{Path, PathBuf};

use skilld_proto::ErrorCode;
use skilld_proto::install::Installed;
use skilld_proto::stream::Progress;

use super::apply::{self, Image};
use super::{targets, to_wire};
use crate::api::ApiError;
use crate::api::images::resolve_local;
use crate::events::EventBus;
use crate::image::reference::Reference;
use crate::index::installs::{self, InstallRow};
use crate::oci::Descriptor;
use crate::registry::fetch::fetch_manifest;
use crate::registry::pull;
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
    let (mut signatures, mut pulled_tag) = (None, None);
    let (reference, descriptor) = match resolve_local(state.catalog(), input).await {
        Ok(found) => found,
        Err(e) if e.code() == ErrorCode::NotFound && parsed.registry.is_some() => {
            let wanted = if parsed.tag.is_some() || parsed.digest.is_some() {
                parsed.clone()
            } else {
                parsed.with_tag("latest")
            };
            let (fetched, endpoint) = fetch_manifest(state.registries(), &wanted).await?;
            // Under a signed rule, the signatures download with the blobs,
            // on another task: the pull blocks its thread while it fsyncs.
            let prefetch = crate::trust::enforce::prefetch(state, &wanted, &fetched.digest);
            let pulled =
                pull::pull_fetched(state.catalog(), &wanted, fetched, endpoint, progress).await;
            if let Some(fetching) = prefetch {
                signatures = fetching.await.ok().flatten().map(std::sync::Arc::new);
            }
            let pulled = pulled?;
            pulled_tag = Some(pulled.name);
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
        signatures,
        pulled_tag,
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
            // No network on a rollback: the store's signatures, else the registry's.
            signatures: None,
            pulled_tag: None,
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
