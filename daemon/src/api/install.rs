//! Install endpoints: targets, install and upgrade (NDJSON streams), list,
//! remove, rollback, pin.

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::install::{
    AutoremoveRequest, ChangeResponse, InstallRequest, InstallResponse, ListRequest, ListResponse,
    PinRequest, RemoveRequest, RollbackRequest, TargetInfo, TargetsResponse, UpgradeRequest,
    UpgradeResponse,
};
use skilld_proto::stream::Progress;

use super::stream::ndjson;
use super::{ApiError, ApiResponse, body, json};
use crate::index::installs;
use crate::install::{apply, dependents, list, ops, plan, select, targets};
use crate::state::State;
use crate::upgrade::known::Found;

pub async fn targets(state: &State) -> Result<ApiResponse, ApiError> {
    let defaults = plan::default_targets(
        state.target_env(),
        state.config().install.default_target.as_deref(),
    );
    let list = targets::all()
        .iter()
        .filter_map(|t| {
            let (path, overridden_by) = t.resolve(state.target_env(), None)?;
            Some(TargetInfo {
                name: t.name.to_string(),
                exists: path.is_dir(),
                path,
                agents: t.agents.to_string(),
                overridden_by: overridden_by.map(str::to_string),
                installed: t.installed(state.target_env()),
            })
        })
        .collect();
    Ok(json(
        hyper::StatusCode::OK,
        &TargetsResponse {
            targets: list,
            default: defaults
                .first()
                .map(|t| t.name.to_string())
                .unwrap_or_default(),
            default_targets: defaults.iter().map(|t| t.name.to_string()).collect(),
            mode: state.config().install.mode,
        },
    ))
}

pub async fn install(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: InstallRequest = body::read_json(req, &state.config().limits).await?;
    let install_config = &state.config().install;
    let places = plan::plan(
        state.target_env(),
        plan::Request {
            names: &request.targets,
            project: request.project.as_deref(),
            output: request.output.as_deref(),
            mode: request.mode.unwrap_or(install_config.mode),
            configured_default: install_config.default_target.as_deref(),
        },
    )?;
    // A `reject` rule refuses before anything is fetched.
    let reference = crate::image::reference::Reference::parse(&request.reference)?;
    if let Err(refused) = crate::trust::enforce::precheck(state, &reference) {
        for place in &places {
            apply::record_refusal(state, &place.target, &reference, &refused).await;
        }
        return Err(refused.into());
    }
    let (tx, response) = ndjson::<InstallResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let report = tx.reporter();
        let outcome = async {
            let image = ops::resolve_image(&state, &request.reference, &report).await?;
            // Nothing of an image the trust policy refuses is read: the
            // plain install refuses it, and records the refusal.
            let trusted = image.verdict(&state).await.is_ok();
            let graph = match request.no_dependencies || !trusted {
                true => None,
                false => crate::install::graph::resolve(&state, &image, &places).await?,
            };
            if graph.is_none() {
                crate::install::graph::check_needed(&state, &image, &places).await?;
            }
            match graph {
                Some(graph) => {
                    let author = crate::install::batch::Author {
                        actor: "cli".into(),
                        message: format!("install of {} with its dependencies", image.reference),
                    };
                    let placed = crate::install::graph::install(
                        &state,
                        &places,
                        &graph,
                        request.force,
                        &author,
                    )
                    .await?;
                    Ok(placed.response)
                }
                None => install_places(&state, &places, &image, request.force).await,
            }
        }
        .await;
        tx.finish(outcome).await;
    });
    Ok(response)
}

/// Install `image` into each place of a plan: copies first (with the links
/// already made to them), then links to the first copy.
async fn install_places(
    state: &State,
    places: &[plan::Place],
    image: &apply::Image,
    force: bool,
) -> Result<InstallResponse, ApiError> {
    let mut response = InstallResponse {
        installed: Vec::new(),
        backups: Vec::new(),
        seen_by: Vec::new(),
    };
    let mut copy: Option<installs::InstallRow> = None;
    for place in places {
        if !place.agents.is_empty() && !response.seen_by.contains(&place.agents) {
            response.seen_by.push(place.agents.clone());
        }
        let already_linked = response
            .installed
            .iter()
            .any(|i| i.link.is_some() && i.path.parent() == Some(place.dir.as_path()));
        let applied = match (place.how, &copy) {
            (plan::How::Link, _) if already_linked => continue,
            (plan::How::Link, Some(copy)) => {
                apply::link_into(
                    state,
                    &place.target,
                    &place.dir,
                    image,
                    copy,
                    force,
                    "cli",
                    apply::Action::Install,
                )
                .await?
            }
            _ => {
                let applied = apply::install_set(
                    state,
                    &place.target,
                    &place.dir,
                    image,
                    force,
                    "cli",
                    apply::Action::Install,
                )
                .await?;
                if copy.is_none() {
                    let path = applied.installed.path.display().to_string();
                    copy = state
                        .index()
                        .read(move |conn| installs::by_path(conn, &path))
                        .await?;
                }
                applied
            }
        };
        response.backups.extend(applied.backup);
        response.installed.push(applied.installed);
        response.installed.extend(applied.linked);
    }
    Ok(response)
}

pub async fn list(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: ListRequest = body::read_optional_json(req, &state.config().limits).await?;
    let mut installs = match &request.project {
        Some(project) => {
            let root = crate::project::root(project)?;
            crate::project::status::status(state, &root).await?
        }
        None => list::list(state, request.target.as_deref()).await?,
    };
    if request.upgradable {
        let rows = state.index().read(installs::all).await?;
        for item in installs.iter_mut() {
            if let Some(row) = rows
                .iter()
                .find(|r| std::path::Path::new(&r.path) == item.path)
            {
                let (newer, skipped) = select::newer_and_skipped(state, row).await?;
                item.latest = newer.map(|(v, _)| v.to_string());
                item.unpublished = skipped;
                state.known_upgrades().record(
                    &row.path,
                    &row.digest,
                    Found {
                        latest: item.latest.clone(),
                        unpublished: item.unpublished.clone(),
                    },
                );
            }
        }
    } else if request.known_upgrades {
        for item in installs.iter_mut() {
            let path = item.path.display().to_string();
            if let Some(found) = state.known_upgrades().get(&path, &item.digest) {
                item.latest = found.latest;
                item.unpublished = found.unpublished;
            }
        }
    }
    Ok(json(hyper::StatusCode::OK, &ListResponse { installs }))
}

/// The wire answer of a remove, rollback or pin; when nothing changed and
/// something failed, the first failure as the error (one install: the same
/// answer as a single change).
fn change_response(mut outcomes: ops::Outcomes) -> Result<ChangeResponse, ApiError> {
    if outcomes.changed.is_empty() && !outcomes.failed.is_empty() {
        return Err(outcomes.failed.swap_remove(0).1.into());
    }
    Ok(ChangeResponse {
        changed: outcomes.changed,
        backups: outcomes.backups,
        failed: outcomes
            .failed
            .into_iter()
            .map(|(row, e)| {
                let e = ApiError::from(e);
                skilld_proto::install::ChangeFailure {
                    name: row.name,
                    target: row.target,
                    path: std::path::PathBuf::from(row.path),
                    code: e.code(),
                    message: e.0.message,
                }
            })
            .collect(),
        orphans: Vec::new(),
    })
}

/// The install a request selects; a path must be absolute.
fn selector<'a>(
    name: &'a str,
    target: Option<&'a str>,
    path: Option<&'a std::path::Path>,
) -> Result<ops::Selector<'a>, ApiError> {
    if path.is_some_and(|p| !p.is_absolute()) {
        return Err(ApiError::new(
            skilld_proto::ErrorCode::InvalidRequest,
            "the install path must be absolute (skillc sends one)",
        ));
    }
    Ok(ops::Selector { name, target, path })
}

pub async fn remove(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: RemoveRequest = body::read_json(req, &state.config().limits).await?;
    if let Some(project) = &request.project
        && request.target.is_none()
        && request.path.is_none()
    {
        let root = crate::project::root(project)?;
        if crate::project::remove::lists(&root, &request.name) {
            let synced =
                crate::project::remove::remove(state, &root, &request.name, request.force).await?;
            let changed = synced
                .changes
                .into_iter()
                .filter(|c| c.action == "remove")
                .map(|c| skilld_proto::install::Installed {
                    version: c.from,
                    ..skilld_proto::install::Installed::bare(
                        c.name,
                        String::new(),
                        c.path,
                        "removed",
                    )
                })
                .collect();
            let response = ChangeResponse {
                changed,
                backups: synced.backups,
                failed: Vec::new(),
                orphans: Vec::new(),
            };
            return Ok(json(hyper::StatusCode::OK, &response));
        }
    }
    let which = selector(
        &request.name,
        request.target.as_deref(),
        request.path.as_deref(),
    )?;
    let outcomes = ops::remove(state, which, request.force).await?;
    let mut response = change_response(outcomes)?;
    response.orphans = dependents::orphans(state, None)
        .await?
        .iter()
        .map(crate::install::to_wire)
        .collect();
    Ok(json(hyper::StatusCode::OK, &response))
}

pub async fn autoremove(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: AutoremoveRequest = body::read_optional_json(req, &state.config().limits).await?;
    let outcomes = dependents::autoremove(
        state,
        request.target.as_deref(),
        request.dry_run,
        request.force,
    )
    .await?;
    let response = change_response(outcomes)?;
    Ok(json(hyper::StatusCode::OK, &response))
}

pub async fn rollback(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: RollbackRequest = body::read_json(req, &state.config().limits).await?;
    let which = selector(
        &request.name,
        request.target.as_deref(),
        request.path.as_deref(),
    )?;
    let outcomes = ops::rollback(state, which, request.force).await?;
    Ok(json(hyper::StatusCode::OK, &change_response(outcomes)?))
}

pub async fn pin(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: PinRequest = body::read_json(req, &state.config().limits).await?;
    let which = selector(
        &request.name,
        request.target.as_deref(),
        request.path.as_deref(),
    )?;
    let outcomes = ops::pin(state, which, request.pinned).await?;
    Ok(json(hyper::StatusCode::OK, &change_response(outcomes)?))
}

pub async fn upgrade(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: UpgradeRequest = body::read_json(req, &state.config().limits).await?;
    if request.names.is_empty() && !request.all {
        return Err(ApiError::new(
            skilld_proto::ErrorCode::InvalidRequest,
            "name the skills to upgrade, or use --all",
        ));
    }
    let mut rows = Vec::new();
    if request.all {
        rows = state
            .index()
            .read(installs::all)
            .await?
            .into_iter()
            .filter(|r| request.target.as_deref().is_none_or(|t| r.target == t))
            .collect();
    } else {
        for name in &request.names {
            rows.extend(ops::matching(state, name, request.target.as_deref()).await?);
        }
    }
    // A link is upgraded with its copy, once.
    let all = state.index().read(installs::all).await?;
    let rows = crate::install::links::owners(&all, rows);
    let (tx, response) = ndjson::<UpgradeResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let (mut outcomes, mut backups) = (Vec::new(), Vec::new());
        for (i, row) in rows.iter().enumerate() {
            tx.progress(Progress {
                phase: "upgrade".into(),
                current: i as u64,
                total: Some(rows.len() as u64),
                unit: Some("skills".into()),
                message: Some(row.name.clone()),
                item: None,
            });
            let (outcome, backup) =
                select::upgrade_one(&state, row, request.dry_run, request.force, "cli").await;
            outcomes.push(outcome);
            backups.extend(backup);
        }
        tx.finish(Ok(UpgradeResponse { outcomes, backups })).await;
    });
    Ok(response)
}

pub async fn check(state: &State) -> Result<ApiResponse, ApiError> {
    let response = crate::upgrade::check::run(state).await;
    Ok(json(hyper::StatusCode::OK, &response))
}

pub async fn policy(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: skilld_proto::install::PolicyRequest =
        body::read_json(req, &state.config().limits).await?;
    if crate::upgrade::policy::Policy::parse(&request.policy).is_none() {
        return Err(ApiError::new(
            skilld_proto::ErrorCode::InvalidRequest,
            format!(
                "{:?} is not a policy; use one of {}",
                request.policy,
                crate::upgrade::policy::Policy::NAMES
            ),
        ));
    }
    let rows = ops::matching(state, &request.name, request.target.as_deref()).await?;
    // Linked installs change together.
    let all = state.index().read(installs::all).await?;
    let rows = crate::install::links::whole_sets(&all, rows);
    let mut changed = Vec::new();
    for row in rows {
        let (path, policy) = (row.path.clone(), request.policy.clone());
        state
            .index()
            .write(move |conn| installs::set_policy(conn, &path, &policy))
            .await?;
        crate::install::audit(
            state,
            skilld_proto::events::HistoryEntry {
                at: crate::events::now(),
                action: "policy".into(),
                actor: "cli".into(),
                skill: row.name.clone(),
                target: row.target.clone(),
                from_version: row.version.clone(),
                to_version: None,
                from_digest: Some(row.digest.clone()),
                to_digest: None,
                outcome: "ok".into(),
                message: Some(format!("policy {}", request.policy)),
            },
        )
        .await;
        changed.push(crate::install::to_wire(&row));
    }
    Ok(json(
        hyper::StatusCode::OK,
        &ChangeResponse {
            changed,
            backups: Vec::new(),
            failed: Vec::new(),
            orphans: Vec::new(),
        },
    ))
}
