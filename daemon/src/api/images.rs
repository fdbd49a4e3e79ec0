//! The local store's endpoints: list, tag, inspect, remove, prune, promote.

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::ErrorCode;
use skilld_proto::images::{
    ImageSummary, ImagesResponse, InspectRequest, Lifecycle, PromoteRequest, PruneResponse,
    RemoveRequest, RemoveResponse, Removed, TagRequest, TagResponse,
};

use super::{ApiError, ApiResponse, body, json};
use crate::image::inspect;
use crate::image::promote::{self, PromoteError};
use crate::image::reference::Reference;
use crate::index::refs::RefRow;
use crate::oci::Descriptor;
use crate::state::State;
use crate::store::catalog::Catalog;
use crate::store::digest::Digest;

fn summary(row: RefRow) -> ImageSummary {
    ImageSummary {
        reference: row.name,
        repository: row.repository,
        tag: row.tag,
        digest: row.digest,
        version: row.version,
        status: row.status.as_deref().and_then(Lifecycle::parse),
        created: row.created,
        size: row.size,
    }
}

/// Find `input` (a reference, or a bare manifest digest) in the local store.
pub async fn resolve_local(
    catalog: &Catalog,
    input: &str,
) -> Result<(Reference, Descriptor), ApiError> {
    Ok(catalog.find(input).await?)
}

pub async fn list(state: &State) -> Result<ApiResponse, ApiError> {
    let rows = state.catalog().list().await?;
    Ok(json(
        hyper::StatusCode::OK,
        &ImagesResponse {
            // Signatures kept beside their images are not images to list.
            images: rows
                .into_iter()
                .filter(|r| !crate::registry::remote::is_cosign_tag(&r.tag))
                .map(summary)
                .collect(),
        },
    ))
}

pub async fn tag(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: TagRequest = body::read_json(req, &state.config().limits).await?;
    let catalog = state.catalog();
    let (_, descriptor) = resolve_local(catalog, &request.source).await?;
    let target = Reference::parse(&request.target)?;
    if target.digest.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "the target of a tag must be name:tag, not a digest",
        ));
    }
    let target = if target.tag.is_some() {
        target
    } else {
        target.with_tag("latest")
    };
    let _hold = catalog.write_guard().await;
    catalog.tag(&target.to_string(), &descriptor).await?;
    Ok(json(
        hyper::StatusCode::OK,
        &TagResponse {
            reference: target.to_string(),
            digest: descriptor.digest.to_string(),
        },
    ))
}

pub async fn inspect(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: InspectRequest = body::read_json(req, &state.config().limits).await?;
    let catalog = state.catalog();
    let parsed = Reference::parse(&request.reference).ok();
    let remote_ok = parsed.as_ref().is_some_and(|r| r.registry.is_some());
    if request.remote && !remote_ok {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "--remote needs a reference that names a registry (HOST[:PORT]/NAME:TAG)",
        ));
    }
    let local = if request.remote {
        None
    } else {
        Some(resolve_local(catalog, &request.reference).await)
    };
    let (reference, descriptor) = match local {
        Some(Ok(found)) => found,
        Some(Err(e)) if !(remote_ok && e.code() == ErrorCode::NotFound) => return Err(e),
        _ => {
            let reference = parsed.expect("checked above");
            let reference = if reference.tag.is_some() || reference.digest.is_some() {
                reference
            } else {
                reference.with_tag("latest")
            };
            let response =
                match crate::registry::remote::inspect(state.registries(), &reference).await {
                    Ok(r) => r,
                    Err(e) => {
                        return Err(crate::registry::remote::explain_not_found(
                            state.registries(),
                            &reference,
                            e,
                        )
                        .await
                        .into());
                    }
                };
            return Ok(json(hyper::StatusCode::OK, &response));
        }
    };
    let name = reference.to_string();
    let digest = descriptor.digest.to_string();
    let also_tagged: Vec<String> = catalog
        .list()
        .await?
        .into_iter()
        .filter(|r| r.digest == digest && r.name != name)
        .map(|r| r.name)
        .collect();
    let response = catalog
        .blocking(move |store| inspect::inspect(store, &name, &descriptor, also_tagged))
        .await?;
    Ok(json(hyper::StatusCode::OK, &response))
}

pub async fn remove(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: RemoveRequest = body::read_json(req, &state.config().limits).await?;
    if request.references.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "name at least one image to remove",
        ));
    }
    let catalog = state.catalog();
    // Resolve all first: one unknown name removes nothing.
    let mut names = Vec::new();
    for input in &request.references {
        if let Ok(digest) = Digest::parse(input) {
            let all = catalog.list().await?;
            let matching: Vec<String> = all
                .into_iter()
                .filter(|r| r.digest == digest.as_str())
                .map(|r| r.name)
                .collect();
            if matching.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::NotFound,
                    format!("no local image has digest {digest}"),
                ));
            }
            names.extend(matching);
        } else {
            let (reference, _) = resolve_local(catalog, input).await?;
            names.push(reference.to_string());
        }
    }
    names.sort();
    names.dedup();
    let mut removed = Vec::new();
    for name in names {
        if let Some(descriptor) = catalog.untag(&name).await? {
            removed.push(Removed {
                reference: name,
                digest: descriptor.digest.to_string(),
            });
        }
    }
    let reclaimable_bytes = catalog.reclaimable().await?;
    Ok(json(
        hyper::StatusCode::OK,
        &RemoveResponse {
            removed,
            reclaimable_bytes,
        },
    ))
}

pub async fn prune(state: &State) -> Result<ApiResponse, ApiError> {
    let (blobs_removed, bytes_freed) = state.catalog().prune().await?;
    tracing::info!(blobs_removed, bytes_freed, "pruned the store");
    Ok(json(
        hyper::StatusCode::OK,
        &PruneResponse {
            blobs_removed,
            bytes_freed,
        },
    ))
}

pub async fn promote(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: PromoteRequest = body::read_json(req, &state.config().limits).await?;
    let parsed = Reference::parse(&request.reference)?;
    if parsed.registry.is_some() && !request.local {
        let response = crate::registry::promote::promote(state.registries(), &parsed, request.to)
            .await
            .map_err(|e| match e {
                crate::registry::promote::RemotePromoteError::Registry(crate::registry::RegistryError::NotFound { reference, .. }) => ApiError::new(
                    ErrorCode::NotFound,
                    format!("{reference} was not found on the registry; push it first, or promote the local image with --local"),
                ),
                crate::registry::promote::RemotePromoteError::Registry(e) => e.into(),
                crate::registry::promote::RemotePromoteError::Rule(PromoteError::Catalog(e)) => e.into(),
                crate::registry::promote::RemotePromoteError::Rule(e) => ApiError::new(ErrorCode::Conflict, e.to_string()),
            })?;
        tracing::info!(from = %request.reference, to = %response.reference, "promoted on the registry");
        return Ok(json(hyper::StatusCode::OK, &response));
    }
    let catalog = state.catalog();
    let (reference, descriptor) = resolve_local(catalog, &request.reference).await?;
    let _hold = catalog.write_guard().await;
    let response = promote::promote(catalog, &reference, &descriptor, request.to)
        .await
        .map_err(|e| match e {
            PromoteError::Catalog(e) => ApiError::from(e),
            other => ApiError::new(ErrorCode::Conflict, other.to_string()),
        })?;
    tracing::info!(from = %request.reference, to = %response.reference, "promoted");
    Ok(json(hyper::StatusCode::OK, &response))
}
