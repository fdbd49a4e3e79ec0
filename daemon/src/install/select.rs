//! Choosing upgrades: the published versions of a repository (strict
//! semver, no pre-release, not deprecated or archived), the newest one above
//! an install's version, and the upgrade itself.

use std::path::PathBuf;

use skilld_proto::images::Lifecycle;
use skilld_proto::install::{UnpublishedVersion, UpgradeOutcome};

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
    Ok(release_versions(state, row)
        .await?
        .into_iter()
        .filter(|(_, _, status)| matches!(status, None | Some(Lifecycle::Published)))
        .map(|(version, tag, _)| (version, tag))
        .collect())
}

/// Every strict-semver release tag of `row`'s repository with its status
/// (none: the image carries no status, which counts as published).
async fn release_versions(
    state: &State,
    row: &InstallRow,
) -> Result<Vec<(semver::Version, String, Option<Lifecycle>)>, InstallError> {
    let repository = Reference::parse(&format!("{}:latest", row.repository))?;
    let tags: Vec<(String, Option<Lifecycle>)> = if repository.registry.is_some() {
        remote::tags(state.registries(), &repository)
            .await?
            .into_iter()
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
        .filter_map(|(tag, status)| release_version(&tag).map(|v| (v, tag, status)))
        .collect())
}

/// The highest published version newer than `row`'s, and the newer
/// release versions an upgrade skips for their status (highest first).
pub async fn newer_and_skipped(
    state: &State,
    row: &InstallRow,
) -> Result<(Option<(semver::Version, String)>, Vec<UnpublishedVersion>), InstallError> {
    let Some(current) = row
        .version
        .as_deref()
        .and_then(|v| semver::Version::parse(v).ok())
    else {
        return Ok((None, Vec::new()));
    };
    let mut all = release_versions(state, row).await?;
    all.retain(|(v, _, _)| *v > current);
    all.sort_by(|a, b| b.0.cmp(&a.0));
    let best = all
        .iter()
        .find(|(_, _, s)| matches!(s, None | Some(Lifecycle::Published)))
        .map(|(v, t, _)| (v.clone(), t.clone()));
    let skipped = all
        .iter()
        .filter(|(v, _, _)| best.as_ref().is_none_or(|(b, _)| v > b))
        .filter_map(|(v, _, s)| match s {
            Some(status) if *status != Lifecycle::Published => Some(UnpublishedVersion {
                version: v.to_string(),
                status: status.to_string(),
            }),
            _ => None,
        })
        .collect();
    Ok((best, skipped))
}

/// `2.0.0 (testing), 1.5.0 (deprecated)`.
pub fn describe_skipped(skipped: &[UnpublishedVersion]) -> String {
    skipped
        .iter()
        .map(|u| format!("{} ({})", u.version, u.status))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The highest published version newer than what `row` has, if any. An
/// install with no version is never "older" than anything: reinstalling it
/// would change nothing that says so, and would repeat at every check.
pub async fn newer(
    state: &State,
    row: &InstallRow,
) -> Result<Option<(semver::Version, String)>, InstallError> {
    Ok(newer_and_skipped(state, row).await?.0)
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
    if let Some(project) = &row.project {
        outcome.result = "locked".into();
        outcome.message = Some(format!(
            "locked by the project {project}; run `skillc lock --update {}` and `skillc sync` there",
            row.name
        ));
        return (outcome, None);
    }
    if let Some(subscription) = &row.subscription {
        outcome.result = "locked".into();
        outcome.message = Some(format!(
            "follows the collection {subscription}: it moves when the collection does (`skillc unsubscribe {subscription}` to manage it by hand)"
        ));
        return (outcome, None);
    }
    if let Some(message) = unversioned(row) {
        outcome.result = "unversioned".into();
        outcome.message = Some(message);
        return (outcome, None);
    }
    let (found, skipped) = match newer_and_skipped(state, row).await {
        Ok(found) => found,
        Err(e) => {
            outcome.result = "failed".into();
            outcome.message = Some(e.to_string());
            return (outcome, None);
        }
    };
    // Say why a newer version that exists is not taken.
    if !skipped.is_empty() {
        outcome.message = Some(format!(
            "newer but not published, so skipped: {}",
            describe_skipped(&skipped)
        ));
    }
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
            if !applied.linked.is_empty() {
                let targets: Vec<&str> = applied.linked.iter().map(|i| i.target.as_str()).collect();
                outcome.message = Some(format!("its links in {} follow", targets.join(", ")));
            }
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
