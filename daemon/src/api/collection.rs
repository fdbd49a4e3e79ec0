//! Collection and subscription endpoints: push, inspect, pull, install,
//! lock, generate (collections); list, subscribe, unsubscribe.

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::collection::{
    CollectionInfo, CollectionSkill, CollectionSource, GenerateRequest, GenerateResponse,
    InstallRequest, InstallResponse, KeptSkill, LockRequest, Pinned, PushRequest, PushResponse,
    SubscribeRequest, SubscriptionOutcome, SubscriptionsResponse, UnsubscribeRequest,
};
use skilld_proto::project::{LockResponse, SyncChange};
use skilld_proto::stream::Progress;

use super::stream::ndjson;
use super::{ApiError, ApiResponse, body, json};
use crate::collection::converge::{self, Options};
use crate::collection::kube::{self, Init, Kind, Spec};
use crate::collection::resolve::{self, Resolved};
use crate::collection::{self, CollectionError, artifact, format, seed, subscription};
use crate::install::batch::Author;
use crate::state::State;

pub async fn push(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: PushRequest = body::read_json(req, &state.config().limits).await?;
    let source = CollectionSource {
        reference: None,
        file: Some(request.file.clone()),
    };
    let mut listing = collection::read(state.registries(), &source).await?;
    let target = collection::collection_reference(&request.reference)?;
    if target.digest.is_some() {
        return Err(CollectionError::Request(format!(
            "push to a tag ({}): a digest is what the push makes",
            request.reference
        ))
        .into());
    }
    let mut pinned = Vec::new();
    if request.pin {
        let noop = |_: Progress| {};
        let unpinned: Vec<_> = listing
            .entries
            .iter()
            .filter(|e| !e.git && !e.reference.contains("@sha256:"))
            .cloned()
            .collect();
        let only = artifact::Listing {
            entries: unpinned,
            ..listing.clone()
        };
        let resolved = resolve::resolve(state.registries(), &only, &noop).await?;
        let pins: Vec<(String, String)> = resolved
            .iter()
            .map(|r| (r.written.clone(), format!("{}@{}", r.written, r.digest)))
            .collect();
        let text = String::from_utf8_lossy(&listing.yaml).into_owned();
        let yaml = format::pin(&text, &pins).into_bytes();
        listing = artifact::Listing::from_yaml(&listing.origin, None, yaml)?;
        pinned = resolved
            .into_iter()
            .zip(pins)
            .map(|(r, (from, to))| Pinned {
                name: r.name,
                from,
                to,
            })
            .collect();
    }
    let parsed = format::parse(&listing.yaml, &listing.origin)?;
    let digest = artifact::push(state.registries(), &listing.yaml, &parsed, &target).await?;
    Ok(json(
        hyper::StatusCode::OK,
        &PushResponse {
            reference: target.to_string(),
            digest: digest.to_string(),
            skills: listing.entries.len() as u64,
            pinned,
        },
    ))
}

pub async fn inspect(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let source: CollectionSource = body::read_json(req, &state.config().limits).await?;
    let listing = collection::read(state.registries(), &source).await?;
    Ok(json(
        hyper::StatusCode::OK,
        &collection::info(&listing, false),
    ))
}

/// `pull`: the collection, and every skill it lists into the store (not
/// installed), so an install later needs no network.
pub async fn pull(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let source: CollectionSource = body::read_json(req, &state.config().limits).await?;
    let (tx, response) = ndjson::<CollectionInfo>();
    let state = state.clone();
    tokio::spawn(async move {
        let report = tx.reporter();
        let outcome = async {
            let listing = collection::read(state.registries(), &source).await?;
            let resolved = resolve::resolve(state.registries(), &listing, &report).await?;
            for r in &resolved {
                crate::install::ops::resolve_image(&state, &r.reference.to_string(), &report)
                    .await?;
            }
            Ok::<_, CollectionError>(collection::info(&listing, true))
        }
        .await
        .map_err(ApiError::from);
        tx.finish(outcome).await;
    });
    Ok(response)
}

fn kept_wire(kept: Vec<converge::Kept>) -> Vec<KeptSkill> {
    kept.into_iter()
        .map(|k| KeptSkill {
            name: k.name,
            path: k.path,
            why: k.why,
        })
        .collect()
}

pub async fn install(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: InstallRequest = body::read_json(req, &state.config().limits).await?;
    let root = match &request.project {
        Some(p) => Some(crate::project::root(p)?),
        None => None,
    };
    let (tx, response) = ndjson::<InstallResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let report = tx.reporter();
        let outcome = async {
            let listing = collection::read(state.registries(), &request.source).await?;
            let info = collection::info(&listing, false);
            if let Some(root) = root {
                if request.dry_run {
                    return Err(CollectionError::Request(
                        "--dry-run with --project: lock the collection into the project (skillc collection lock), then `skillc sync --dry-run` there".into(),
                    ));
                }
                seed::lock(&state, &root, &listing, &request.targets, &report).await?;
                let synced = crate::project::sync::sync(
                    &state,
                    &root,
                    crate::project::sync::Options {
                        force: request.force,
                        ..Default::default()
                    },
                    &report,
                )
                .await?;
                let wire = super::project::sync_response(synced);
                return Ok(InstallResponse {
                    collection: info,
                    changes: wire.changes,
                    kept: Vec::new(),
                    backups: wire.backups,
                    seen_by: Vec::new(),
                });
            }
            let resolved = resolve::resolve(state.registries(), &listing, &report).await?;
            let done = converge::converge(
                &state,
                &resolved,
                &Options {
                    targets: request.targets.clone(),
                    mode: request.mode.unwrap_or(state.config().install.mode),
                    force: request.force,
                    dry_run: request.dry_run,
                    owner: None,
                    by: "cli",
                    author: Author {
                        actor: "cli".into(),
                        message: format!("collection install of {}", listing.origin),
                    },
                },
                &report,
            )
            .await?;
            Ok(InstallResponse {
                collection: info,
                changes: done.changes.into_iter().map(change_wire).collect(),
                kept: kept_wire(done.kept),
                backups: done.backups,
                seen_by: done.seen_by,
            })
        }
        .await
        .map_err(ApiError::from);
        tx.finish(outcome).await;
    });
    Ok(response)
}

fn change_wire(c: crate::project::sync::Change) -> SyncChange {
    SyncChange {
        name: c.name,
        action: c.action.to_string(),
        from: c.from,
        to: c.to,
        path: c.path,
    }
}

pub async fn lock(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: LockRequest = body::read_json(req, &state.config().limits).await?;
    let root = crate::project::root(&request.project)?;
    let (tx, response) = ndjson::<LockResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let report = tx.reporter();
        let outcome = async {
            let listing = collection::read(state.registries(), &request.source).await?;
            let skills = seed::lock(&state, &root, &listing, &request.targets, &report).await?;
            Ok::<_, CollectionError>(LockResponse {
                written: true,
                skills,
            })
        }
        .await
        .map_err(ApiError::from);
        tx.finish(outcome).await;
    });
    Ok(response)
}

pub async fn generate(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: GenerateRequest = body::read_json(req, &state.config().limits).await?;
    let noop = |_: Progress| {};
    let (default_name, resolved): (String, Vec<Resolved>) = if request.skills.is_empty() {
        let listing = collection::read(state.registries(), &request.source).await?;
        let resolved = resolve::resolve(state.registries(), &listing, &noop).await?;
        (listing.name.clone(), resolved)
    } else {
        // Single skills, resolved as a collection's entries are.
        let mut all = Vec::new();
        for s in &request.skills {
            let reference = collection::collection_reference(s)?;
            let name = reference.name().to_string();
            all.push(
                resolve::resolve_one(state.registries(), "--k8s", name, s.clone(), reference)
                    .await?,
            );
        }
        let first = all.first().map(|r| r.name.clone()).unwrap_or_default();
        (first, all)
    };
    // A pod mounts what its skills need too.
    let resolved = collection::depend::with_dependencies(state, &resolved).await?;
    let (kind, name) = match (&request.deployment, &request.pod) {
        (Some(_), Some(_)) => {
            return Err(CollectionError::Request("--pod or --deployment, not both".into()).into());
        }
        (Some(d), None) => (Kind::Deployment, d.clone()),
        (None, Some(p)) => (Kind::Pod, p.clone()),
        (None, None) => (Kind::Pod, default_name),
    };
    if request.init_container.is_none() && (request.pvc.is_some() || request.key_secret.is_some()) {
        return Err(CollectionError::Request(
            "--pvc and --key-secret go with --init-container IMAGE".into(),
        )
        .into());
    }
    let spec = Spec {
        kind,
        name,
        mount: request
            .mount_path
            .clone()
            .unwrap_or_else(|| "/skills".into()),
        agent_image: request
            .agent_image
            .clone()
            .unwrap_or_else(|| "agent:latest".into()),
        init: request.init_container.clone().map(|image| Init {
            image,
            pvc: request.pvc.clone(),
            key_secret: request
                .key_secret
                .clone()
                .unwrap_or_else(|| "skilld-trust".into()),
        }),
    };
    if !spec.mount.starts_with('/') {
        return Err(
            CollectionError::Request("--mount-path must be an absolute path".into()).into(),
        );
    }
    let skills: Vec<(String, String)> = resolved
        .iter()
        .map(|r| (r.name.clone(), r.by_digest()))
        .collect();
    Ok(json(
        hyper::StatusCode::OK,
        &GenerateResponse {
            yaml: kube::render(&spec, &skills),
            skills: skills
                .into_iter()
                .map(|(name, reference)| CollectionSkill {
                    name,
                    reference,
                    git: false,
                })
                .collect(),
        },
    ))
}

pub async fn subscriptions(state: &State) -> Result<ApiResponse, ApiError> {
    let subscriptions = subscription::list(state).await?;
    Ok(json(
        hyper::StatusCode::OK,
        &SubscriptionsResponse { subscriptions },
    ))
}

pub async fn subscribe(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: SubscribeRequest = body::read_json(req, &state.config().limits).await?;
    let (tx, response) = ndjson::<SubscriptionOutcome>();
    let state = state.clone();
    tokio::spawn(async move {
        let report = tx.reporter();
        let outcome = subscription::subscribe(&state, &request, &report)
            .await
            .map_err(ApiError::from);
        tx.finish(outcome).await;
    });
    Ok(response)
}

pub async fn unsubscribe(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: UnsubscribeRequest = body::read_json(req, &state.config().limits).await?;
    let response = subscription::unsubscribe(state, &request.reference, request.remove).await?;
    Ok(json(hyper::StatusCode::OK, &response))
}
