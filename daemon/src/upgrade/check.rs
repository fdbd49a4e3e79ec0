//! One upgrade check over every install.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use skilld_proto::events::{EventKind, HistoryEntry};
use skilld_proto::install::{CheckResponse, UpgradeOutcome};

use super::policy::Policy;
use super::versions::Versions;
use crate::events::EventBus;
use crate::image::reference::Reference;
use crate::index::installs::{self, InstallRow};
use crate::install::select;
use crate::registry::RegistryError;
use crate::state::State;

/// Why a repository could not be checked.
struct RepoFailure {
    host: String,
    error: RegistryError,
}

/// List the release versions of `repository` (one request for a registry).
async fn versions(state: &State, repository: &str) -> Result<Versions, RepoFailure> {
    Versions::list(state, repository)
        .await
        .map_err(|error| RepoFailure {
            host: Reference::parse(&format!("{repository}:latest"))
                .ok()
                .and_then(|r| r.registry)
                .unwrap_or_default(),
            error,
        })
}

fn event(
    kind: EventKind,
    row: &InstallRow,
    to: Option<String>,
    message: Option<String>,
) -> skilld_proto::events::Event {
    let mut e = EventBus::event(kind);
    e.skill = Some(row.name.clone());
    e.target = Some(row.target.clone());
    e.from_version = row.version.clone();
    e.from_digest = Some(row.digest.clone());
    e.to_version = to;
    e.message = message;
    e
}

/// Decide and act for one install.
async fn consider(
    state: &State,
    row: &InstallRow,
    versions: &mut Versions,
    default: Policy,
) -> Option<UpgradeOutcome> {
    let policy = if row.pinned {
        Policy::Pin
    } else if row.project.is_some() {
        // A project's lock decides: newer versions are only reported.
        Policy::Notify
    } else {
        row_policy(state, row).await.unwrap_or(default)
    };
    if policy == Policy::Pin {
        return None;
    }
    if let Some(message) = select::unversioned(row) {
        return Some(UpgradeOutcome {
            name: row.name.clone(),
            target: row.target.clone(),
            from: row.version.clone(),
            to: None,
            result: "unversioned".into(),
            message: Some(message),
        });
    }
    let current = semver::Version::parse(row.version.as_deref()?).ok()?;
    let newer: Vec<(semver::Version, String)> = versions
        .list
        .iter()
        .filter(|(v, _)| *v > current)
        .cloned()
        .collect();
    // Installs that need this one keep it within what they require.
    let held = crate::install::dependents::held(state, row)
        .await
        .unwrap_or_default();
    let mut best_allowed = None;
    let mut best_any = None;
    for (version, tag) in newer {
        if (best_any.is_some() && best_allowed.is_some()) || !versions.published(state, &tag).await
        {
            continue;
        }
        if best_any.is_none() {
            best_any = Some((version.clone(), tag.clone()));
        }
        if best_allowed.is_none()
            && policy.allows(&current, &version)
            && held.iter().all(|(req, _)| req.matches(&version))
        {
            best_allowed = Some((version, tag));
        }
    }
    state.known_upgrades().record(
        &row.path,
        &row.digest,
        super::known::Found {
            latest: best_any.as_ref().map(|(v, _)| v.to_string()),
            unpublished: Vec::new(),
        },
    );
    let mut outcome = UpgradeOutcome {
        name: row.name.clone(),
        target: row.target.clone(),
        from: row.version.clone(),
        to: None,
        result: "up_to_date".into(),
        message: None,
    };
    if let Some((version, tag)) = best_allowed {
        outcome.to = Some(version.to_string());
        if crate::install::is_modified(row) {
            let message = format!(
                "{} was edited by hand; {version} is available but the skill is left as it is",
                row.path
            );
            state.events().emit(event(
                EventKind::UpgradeAvailable,
                row,
                Some(version.to_string()),
                Some(message.clone()),
            ));
            crate::install::audit(
                state,
                HistoryEntry {
                    at: crate::events::now(),
                    action: "upgrade".into(),
                    actor: "auto".into(),
                    skill: row.name.clone(),
                    target: row.target.clone(),
                    from_version: row.version.clone(),
                    to_version: Some(version.to_string()),
                    from_digest: Some(row.digest.clone()),
                    to_digest: None,
                    outcome: "refused".into(),
                    message: Some(message.clone()),
                },
            )
            .await;
            outcome.result = "modified".into();
            outcome.message = Some(message);
            return Some(outcome);
        }
        let prefetched = versions.take_fetched(&tag);
        let result = select::upgrade_to_fetched(state, row, &tag, prefetched, false, "auto").await;
        match result {
            Ok(_) => outcome.result = "upgraded".into(),
            Err(e) => {
                outcome.result = crate::install::select::failure_result(&e).into();
                outcome.message = Some(e.to_string());
            }
        }
        return Some(outcome);
    }
    if let Some((version, _)) = best_any {
        let message = match &row.project {
            Some(project) => format!(
                "{version} is published; {} is locked at {current} by the project {project}: run `skillc lock --update {}` and `skillc sync` there to move it",
                row.name, row.name
            ),
            None => format!(
                "{version} is published; the {} policy keeps {} on {current}",
                policy.as_str(),
                row.name
            ),
        };
        state.events().emit(event(
            EventKind::UpgradeAvailable,
            row,
            Some(version.to_string()),
            Some(message.clone()),
        ));
        outcome.result = "available".into();
        outcome.to = Some(version.to_string());
        outcome.message = Some(message);
    }
    Some(outcome)
}

async fn row_policy(state: &State, row: &InstallRow) -> Option<Policy> {
    let path = row.path.clone();
    let stored = state
        .index()
        .read(move |conn| installs::policy(conn, &path))
        .await
        .ok()
        .flatten()?;
    Policy::parse(&stored)
}

/// Run one check now.
pub async fn run(state: &State) -> CheckResponse {
    let _one_at_a_time = state.health().running.lock().await;
    state
        .events()
        .emit(EventBus::event(EventKind::CheckStarted));
    let all = state.index().read(installs::all).await.unwrap_or_default();
    // A link is upgraded with its copy: the copy stands for the set. A
    // subscription's installs move with their collection (one HEAD each,
    // below), never on their own.
    let rows: Vec<InstallRow> = crate::install::links::owners(&all, all.clone())
        .into_iter()
        .filter(|r| r.subscription.is_none())
        .collect();
    let mut by_repo: BTreeMap<String, Vec<InstallRow>> = BTreeMap::new();
    for row in rows {
        by_repo.entry(row.repository.clone()).or_default().push(row);
    }
    let config = &state.config().upgrades;
    let default = Policy::parse(&config.policy).unwrap_or(Policy::Minor);
    let health = state.health();
    // One tag list per repository; bounded per registry (hosts in parallel).
    let mut by_host: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for repo in by_repo.keys() {
        let host = Reference::parse(&format!("{repo}:latest"))
            .ok()
            .and_then(|r| r.registry)
            .unwrap_or_default();
        if !host.is_empty() && health.backing_off(&host) {
            continue;
        }
        by_host.entry(host).or_default().push(repo.clone());
    }
    let listed: Vec<(String, Result<Versions, RepoFailure>)> =
        futures_util::stream::iter(by_host.into_values().flatten())
            .map(|repo| async move {
                let result = versions(state, &repo).await;
                (repo, result)
            })
            .buffer_unordered(config.concurrency.max(1))
            .collect()
            .await;
    let repositories = listed.len() as u64;
    let mut outcomes = Vec::new();
    let mut failed_hosts: BTreeMap<String, String> = BTreeMap::new();
    let mut ok_hosts: Vec<String> = Vec::new();
    for (repo, result) in listed {
        match result {
            Ok(mut versions) => {
                if let Ok(r) = Reference::parse(&format!("{repo}:latest"))
                    && let Some(host) = r.registry
                {
                    ok_hosts.push(host);
                }
                for row in by_repo.get(&repo).into_iter().flatten() {
                    if let Some(outcome) = consider(state, row, &mut versions, default).await {
                        outcomes.push(outcome);
                    }
                }
            }
            Err(failure) => {
                failed_hosts.insert(failure.host.clone(), failure.error.to_string());
            }
        }
    }
    let base = (config.check_interval / 4).max(Duration::from_secs(1));
    for (host, error) in &failed_hosts {
        health.failed(
            host,
            error.clone(),
            base,
            config.check_interval.max(Duration::from_secs(1)) * 4,
        );
        let mut e = EventBus::event(EventKind::CheckFailed);
        e.message = Some(format!("{host}: {error}"));
        state.events().emit(e);
        tracing::warn!(registry = %host, %error, "upgrade check failed");
    }
    for host in ok_hosts {
        if !failed_hosts.contains_key(&host) {
            health.recovered(&host);
        }
    }
    let subscriptions = crate::collection::subscription::check_all(state).await;
    health.finished();
    state.quiet().work_ended();
    let mut done = EventBus::event(EventKind::CheckFinished);
    done.message = Some(format!(
        "{repositories} repositories checked, {} install(s) considered, {} subscription(s)",
        outcomes.len(),
        subscriptions.len()
    ));
    state.events().emit(done);
    CheckResponse {
        repositories,
        outcomes,
        failing: health.failing(),
        subscriptions,
    }
}
