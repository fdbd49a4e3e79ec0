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
    // Installs that need this one keep it within what they require.
    let held = super::dependents::held(state, row).await?;
    let best = all
        .iter()
        .filter(|(v, _, _)| held.iter().all(|(req, _)| req.matches(v)))
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
    let action = apply::Action::Upgrade;
    // A version the trust policy refuses is refused (and recorded) as any
    // upgrade is, before anything of it or of what it needs is read.
    if image.verdict(state).await.is_err() {
        return apply::replace_install(state, row, &image, force, by, action).await;
    }
    let owner = apply::owner_of(state, row).await?;
    let mut places = vec![super::plan::Place {
        target: owner.target.clone(),
        dir: apply::parent_of(&owner.path),
        how: super::plan::How::Copy,
        agents: String::new(),
    }];
    let graph = super::graph::resolve(state, &image, &places).await?;
    let Some(mut graph) = graph else {
        return apply::replace_install(state, row, &image, force, by, action).await;
    };
    // The links other targets have to the copy move with it, and get what
    // it needs beside them; one replaced by hand is left to
    // `follow_links`, as in any upgrade.
    let lookup = owner.path.clone();
    let links = state
        .index()
        .read(move |conn| crate::index::installs::links_to(conn, &lookup))
        .await?;
    let moved: Vec<String> = links
        .iter()
        .filter(|l| super::drift::status_of(l) == "ok")
        .map(|l| l.path.clone())
        .collect();
    for link in links.iter().filter(|l| moved.contains(&l.path)) {
        places.push(super::plan::Place {
            target: link.target.clone(),
            dir: apply::parent_of(&link.path),
            how: super::plan::How::Link,
            agents: String::new(),
        });
    }
    // The new version and what it needs, swapped in as one. The upgraded
    // install keeps its standing (there for itself, or only for others).
    graph.root = None;
    let author = super::batch::Author {
        actor: by.to_string(),
        message: format!("upgrade of {} to {tag} with what it needs", owner.name),
    };
    let placed = super::graph::install(state, &places, &graph, force, &author).await;
    let result = placed.and_then(|placed| {
        // The upgraded skill is the last node, in every place.
        let mut upgraded = placed
            .folders
            .into_iter()
            .filter_map(|folders| folders.last().cloned());
        let (path, backup) = upgraded.next().unwrap_or_default();
        let linked: Vec<String> = upgraded.map(|(path, _)| path).collect();
        let mut installed = None;
        let mut links = Vec::new();
        for wire in placed.response.installed {
            let at = wire.path.display().to_string();
            if at == path {
                installed = Some(wire);
            } else if linked.contains(&at) {
                links.push(wire);
            }
        }
        Ok(apply::Applied {
            installed: installed
                .ok_or_else(|| InstallError::internal(format!("{path} was not installed")))?,
            backup,
            previous: Some((owner.version.clone(), owner.digest.clone())),
            linked: links,
        })
    });
    let mut applied = match result {
        Ok(applied) => applied,
        Err(e) => {
            let failed = Err(e);
            apply::record(state, &owner.target, &image, by, action, &failed).await;
            return failed;
        }
    };
    apply::follow_links(state, &image, force, by, action, &mut applied, &moved).await?;
    Ok(applied)
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
    // Say what holds it back, when installs that need it do.
    if let Ok(held) = super::dependents::held(state, row).await
        && !held.is_empty()
    {
        let who: Vec<&str> = held.iter().map(|(_, by)| by.as_str()).collect();
        let note = format!("kept within what needs it: {}", who.join(", "));
        outcome.message = Some(match outcome.message.take() {
            Some(m) => format!("{m}; {note}"),
            None => note,
        });
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
