//! Choosing upgrades: the published versions of a repository (strict
//! semver, no pre-release, not deprecated or archived), the newest one above
//! an install's version, and the upgrade itself.

use std::path::PathBuf;

use skilld_proto::images::Lifecycle;
use skilld_proto::install::UpgradeOutcome;

use super::apply;
use super::error::InstallError;
use super::ops::resolve_image_fetched;
use crate::image::lifecycle::release_version;
use crate::image::reference::Reference;
use crate::index::installs::InstallRow;
use crate::registry::fetch::Fetched;
use crate::registry::remote;
use crate::registry::transport::Endpoint;
use crate::state::State;

/// Published versions of `repository`: strict semver, no pre-release, not
/// deprecated or archived; from the registry, or the store for local images.
pub async fn published_versions(
    state: &State,
    row: &InstallRow,
) -> Result<Vec<(semver::Version, String)>, InstallError> {
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
) -> Result<Option<(semver::Version, String)>, InstallError> {
    // An install with no version is never "older" than anything: reinstalling
    // it would change nothing that says so, and would repeat at every check.
    let Some(current) = row
        .version
        .as_deref()
        .and_then(|v| semver::Version::parse(v).ok())
    else {
        return Ok(None);
    };
    let best = published_versions(state, row)
        .await?
        .into_iter()
        .max_by(|a, b| a.0.cmp(&b.0));
    Ok(best.filter(|(v, _)| *v > current))
}

/// Why `row` cannot be upgraded on its own, when it has no version.
pub fn unversioned(row: &InstallRow) -> Option<String> {
    let known = row
        .version
        .as_deref()
        .is_some_and(|v| semver::Version::parse(v).is_ok());
    (!known).then(|| {
        format!(
            "has no version (its image has no version annotation and no semver tag, and its SKILL.md no metadata.version), so no version counts as newer; install one by its tag: skillc install {}:TAG",
            row.repository
        )
    })
}

/// Install `row`'s repository at `tag` in place of `row` (an upgrade).
pub async fn upgrade_to(
    state: &State,
    row: &InstallRow,
    tag: &str,
    force: bool,
    by: &str,
) -> Result<apply::Applied, InstallError> {
    upgrade_to_fetched(state, row, tag, None, force, by).await
}

/// [`upgrade_to`], with the tag's manifest already fetched (see
/// [`super::ops::resolve_image_fetched`]).
pub async fn upgrade_to_fetched(
    state: &State,
    row: &InstallRow,
    tag: &str,
    prefetched: Option<(Fetched, Endpoint)>,
    force: bool,
    by: &str,
) -> Result<apply::Applied, InstallError> {
    let input = format!("{}:{tag}", row.repository);
    let image = resolve_image_fetched(state, &input, &|_| {}, prefetched).await?;
    apply::replace_install(state, row, &image, force, by, apply::Action::Upgrade).await
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
    if let Some(message) = unversioned(row) {
        outcome.result = "unversioned".into();
        outcome.message = Some(message);
        return (outcome, None);
    }
    let found = match newer(state, row).await {
        Ok(found) => found,
        Err(e) => {
            outcome.result = "failed".into();
            outcome.message = Some(e.to_string());
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
            outcome.result = failure_result(&e).into();
            outcome.message = Some(e.to_string());
            (outcome, None)
        }
    }
}

/// An upgrade's result when it did not happen: `untrusted` when the trust
/// policy refused the new version, else `failed`.
pub fn failure_result(e: &InstallError) -> &'static str {
    if e.is_untrusted() {
        "untrusted"
    } else {
        "failed"
    }
}
