//! `POST /v1/catalog/search` (from the index alone),
//! `POST /v1/catalog/refresh` (NDJSON progress, then what it asked) and
//! `POST /v1/catalog/show` (NDJSON: the pull's progress, then the card).

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::catalog::{
    RefreshRequest, RefreshResponse, SearchRequest, ShowRequest, ShowResponse,
};
use skilld_proto::images::Lifecycle;
use skilld_proto::registry::RemoteTag;

use super::stream::ndjson;
use super::{ApiError, ApiResponse, body, json};
use crate::catalog::search::MAX_LIMIT;
use crate::state::State;

pub async fn search(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: SearchRequest = body::read_json(req, &state.config().limits).await?;
    if request.limit.is_some_and(|l| l == 0 || l > MAX_LIMIT) {
        return Err(ApiError::new(
            skilld_proto::ErrorCode::InvalidRequest,
            format!("limit must be from 1 to {MAX_LIMIT}"),
        ));
    }
    let answer = crate::catalog::search::search(state.index(), request).await?;
    Ok(json(hyper::StatusCode::OK, &answer))
}

pub async fn refresh(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: RefreshRequest = body::read_optional_json(req, &state.config().limits).await?;
    if state.config().catalog.sources.is_empty() {
        return Err(crate::catalog::RefreshError::NoSources.into());
    }
    let (tx, response) = ndjson::<RefreshResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let progress = tx.reporter();
        let outcome = crate::catalog::refresh::refresh(
            &state.config().catalog,
            state.registries(),
            state.index(),
            request.full,
            &progress,
        )
        .await
        .map_err(ApiError::from);
        tx.finish(outcome).await;
    });
    Ok(response)
}

pub async fn show(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: ShowRequest = body::read_json(req, &state.config().limits).await?;
    let (tx, response) = ndjson::<ShowResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let progress = tx.reporter();
        let outcome = show_inner(&state, &request.reference, &progress).await;
        tx.finish(outcome).await;
    });
    Ok(response)
}

async fn show_inner(
    state: &State,
    reference: &str,
    progress: &(dyn Fn(skilld_proto::stream::Progress) + Sync),
) -> Result<ShowResponse, ApiError> {
    let image = crate::install::ops::resolve_image(state, reference, progress).await?;
    let versions = versions(state, &image.reference).await?;
    let installs = state.index().read(crate::index::installs::all).await?;
    let store = std::sync::Arc::clone(state.catalog().store());
    let subject = crate::catalog::show::Subject {
        manifest: image.manifest.clone(),
        digest: image.descriptor.digest.to_string(),
        repository: image.reference.repository(),
        fallback_name: image.reference.name().to_string(),
    };
    let digest = subject.digest.clone();
    let tmp = state.config().paths.data_dir.join("tmp");
    let limits = crate::image::unpack::UnpackLimits::of_build(&state.config().build);
    let content = tokio::task::spawn_blocking(move || {
        crate::catalog::show::read(&store, &subject, &tmp, limits, &installs)
    })
    .await
    .map_err(|e| ApiError::new(skilld_proto::ErrorCode::Internal, e.to_string()))?
    .map_err(|e| match e {
        crate::catalog::show::ShowError::Extract(e) => ApiError::from(e),
        other => ApiError::new(skilld_proto::ErrorCode::Internal, other.to_string()),
    })?;
    let card = crate::catalog::entry::of_manifest(&image.manifest);
    let dependencies = needed(state, &image).await?;
    Ok(ShowResponse {
        reference: image.reference.to_string(),
        digest,
        name: content.name,
        version: card.version,
        status: card.status.as_deref().and_then(Lifecycle::parse),
        display_name: card.display_name,
        description: card.description,
        namespace: card.namespace,
        license: card.license,
        authors: card.authors,
        compatibility: card.compatibility,
        tags: card.tags,
        source: card.source,
        revision: card.revision,
        versions,
        skill_md: content.skill_md,
        files: content.files,
        installed: content.installed,
        dependencies,
    })
}

/// What `image` declares it needs, each name with the repository it means.
async fn needed(
    state: &State,
    image: &crate::install::apply::Image,
) -> Result<Vec<skilld_proto::catalog::NeededSkill>, ApiError> {
    let store = std::sync::Arc::clone(state.catalog().store());
    let manifest = image.manifest.clone();
    let declared =
        tokio::task::spawn_blocking(move || crate::depend::image::declared(&store, &manifest))
            .await
            .map_err(|e| ApiError::new(skilld_proto::ErrorCode::Internal, e.to_string()))?;
    let repository = image.reference.repository();
    Ok(declared
        .unwrap_or_default()
        .into_iter()
        .map(|d| skilld_proto::catalog::NeededSkill {
            repository: crate::depend::name::repository_for(&d.name, &repository)
                .unwrap_or_else(|e| format!("({e})")),
            name: d.name,
            version: d.version,
        })
        .collect())
}

/// The repository's tags: from the catalog when it indexes the repository
/// (no request), else from the registry; none for a local image.
async fn versions(
    state: &State,
    reference: &crate::image::reference::Reference,
) -> Result<Vec<RemoteTag>, ApiError> {
    let Some(registry) = reference.registry.clone() else {
        return Ok(Vec::new());
    };
    let path = reference.path.clone();
    let indexed = state
        .index()
        .read(move |conn| crate::index::catalog::versions_of_repository(conn, &registry, &path))
        .await?;
    if indexed.is_empty() {
        return Ok(crate::registry::remote::tags(state.registries(), reference)
            .await
            .unwrap_or_default());
    }
    let mut tags: Vec<RemoteTag> = indexed
        .into_iter()
        .map(|v| RemoteTag {
            published: crate::image::lifecycle::release_version(&v.tag).is_some()
                && matches!(v.entry.status.as_deref(), None | Some("published")),
            status: v.entry.status.as_deref().and_then(Lifecycle::parse),
            version: v.entry.version,
            digest: Some(v.digest),
            tag: v.tag,
        })
        .collect();
    crate::registry::remote::sort_tags(&mut tags);
    Ok(tags)
}
