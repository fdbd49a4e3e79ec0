//! Moving images with their signatures: `copy` (registry to registry, or
//! store to registry), `save` and `load` (OCI layout archives for air-gapped
//! sites), and the store's signatures that `push` sends along.

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::ErrorCode;
use skilld_proto::registry::{
    CopyRequest, CopyResponse, LoadRequest, LoadResponse, SaveRequest, SaveResponse,
};

use super::images::resolve_local;
use super::stream::ndjson;
use super::{ApiError, ApiResponse, body, json};
use crate::image::reference::Reference;
use crate::registry::{RegistryError, copy, push};
use crate::state::State;
use crate::store::digest::Digest;

/// Keep the registry's signatures of `digest` in the store, so `save`
/// carries them; best effort (offline, nothing is carried).
async fn keep_remote_signatures(state: &State, reference: &Reference, digest: &Digest) {
    use crate::trust::signatures;
    let repository = reference.repository();
    match signatures::fetch(state.registries(), reference, digest).await {
        Ok(Some(found)) => {
            if let Err(e) = signatures::keep(
                state.catalog(),
                state.registries(),
                &repository,
                digest,
                &found,
            )
            .await
            {
                tracing::warn!(%reference, error = %e, "cannot keep signatures in the store");
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::info!(%reference, error = %e, "signatures not fetched; saving without them")
        }
    }
}

/// The local `.sig` tag of `reference`'s repository for `descriptor`, if the store has one.
async fn local_signature(
    state: &State,
    reference: &Reference,
    descriptor: &crate::oci::Descriptor,
) -> Result<Option<(Reference, crate::oci::Descriptor)>, ApiError> {
    let sig = reference.with_tag(&copy::signature_tag(&descriptor.digest));
    let name = sig.to_string();
    let found = state
        .catalog()
        .blocking(move |store| store.resolve(&name))
        .await?;
    Ok(found.map(|d| (sig, d)))
}

/// Push the store's signatures of `descriptor` (kept under `local`'s
/// repository) beside `destination`, unless the destination already has
/// signatures for that digest: those are never replaced (they may hold
/// more than ours). The signature tag pushed, if any.
pub(super) async fn push_local_signature(
    state: &State,
    local: &Reference,
    descriptor: &crate::oci::Descriptor,
    destination: &Reference,
    report: &(dyn Fn(skilld_proto::stream::Progress) + Sync),
) -> Result<Option<String>, ApiError> {
    let Some((sig_ref, sig)) = local_signature(state, local, descriptor).await? else {
        return Ok(None);
    };
    let sig_dst = destination.with_tag(sig_ref.tag.as_deref().unwrap_or_default());
    if crate::trust::cosign::existing(state.registries(), &sig_dst)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    push::push(state.catalog(), state.registries(), &sig, &sig_dst, report).await?;
    Ok(Some(sig_dst.to_string()))
}

pub async fn copy(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: CopyRequest = body::read_json(req, &state.config().limits).await?;
    let source = Reference::parse(&request.source)?;
    let destination = Reference::parse(&request.destination)?;
    if destination.registry.is_none() {
        return Err(RegistryError::Invalid {
            reference: destination.to_string(),
            message: "names no registry; copy goes to a registry (HOST[:PORT]/NAME:TAG)".into(),
        }
        .into());
    }
    let source = if source.tag.is_some() || source.digest.is_some() {
        source
    } else {
        source.with_tag("latest")
    };
    let destination = if destination.tag.is_some() {
        destination
    } else {
        destination.with_tag(source.tag.as_deref().unwrap_or("latest"))
    };
    // A source without a registry is a local image.
    let local = match source.registry {
        None => Some(resolve_local(state.catalog(), &source.to_string()).await?),
        Some(_) => None,
    };
    let (tx, response) = ndjson::<CopyResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let report = tx.reporter();
        let outcome = async {
            let copied = match local {
                None => copy::copy_remote(state.registries(), &source, &destination, &report).await?,
                Some((local_ref, descriptor)) => {
                    let pushed = push::push(state.catalog(), state.registries(), &descriptor, &destination, &report).await?;
                    let mut copied = copy::Copied {
                        digest: pushed.digest,
                        copied_blobs: pushed.pushed_blobs,
                        skipped_blobs: pushed.skipped_blobs,
                        copied_bytes: pushed.pushed_bytes,
                        signatures: Vec::new(),
                    };
                    copied.signatures.extend(push_local_signature(&state, &local_ref, &descriptor, &destination, &report).await?);
                    copied
                }
            };
            tracing::info!(source = %source, destination = %destination, blobs = copied.copied_blobs, "copied");
            Ok::<_, ApiError>(CopyResponse {
                source: source.to_string(),
                destination: destination.to_string(),
                digest: copied.digest,
                copied_blobs: copied.copied_blobs,
                skipped_blobs: copied.skipped_blobs,
                copied_bytes: copied.copied_bytes,
                signatures: copied.signatures,
            })
        }
        .await;
        tx.finish(outcome).await;
    });
    Ok(response)
}

pub async fn save(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: SaveRequest = body::read_json(req, &state.config().limits).await?;
    if !request.output.is_absolute() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "-o must be an absolute path (skillc sends one)",
        ));
    }
    if request.references.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "name at least one image to save",
        ));
    }
    let mut entries = Vec::new();
    for input in &request.references {
        let (reference, descriptor) = resolve_local(state.catalog(), input).await?;
        if reference.registry.is_some()
            && local_signature(state, &reference, &descriptor)
                .await?
                .is_none()
        {
            keep_remote_signatures(state, &reference, &descriptor.digest).await;
        }
        if let Some((sig_ref, sig)) = local_signature(state, &reference, &descriptor).await? {
            entries.push((sig_ref.to_string(), sig));
        }
        entries.push((reference.to_string(), descriptor));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    let output = request.output.clone();
    let names: Vec<String> = entries.iter().map(|(n, _)| n.clone()).collect();
    let (blobs, bytes) = state
        .catalog()
        .blocking(move |store| Ok(crate::store::archive::save(store, &entries, &output)))
        .await?
        .map_err(archive_error)?;
    Ok(json(
        hyper::StatusCode::OK,
        &SaveResponse {
            output: request.output,
            references: names,
            blobs,
            bytes,
        },
    ))
}

fn archive_error(e: crate::store::archive::ArchiveError) -> ApiError {
    use crate::store::archive::ArchiveError as A;
    match e {
        A::Store(e) => e.into(),
        A::Io { .. } => ApiError::new(ErrorCode::InvalidRequest, e.to_string()),
        A::Invalid { .. } => ApiError::new(ErrorCode::InvalidRequest, e.to_string()),
    }
}

pub async fn load(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: LoadRequest = body::read_json(req, &state.config().limits).await?;
    if !request.input.is_absolute() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "the archive path must be absolute (skillc sends one)",
        ));
    }
    let catalog = state.catalog();
    let _hold = catalog.write_guard().await;
    let build = state.config().build;
    let limits = crate::store::archive::LoadLimits {
        max_bytes: build.max_bytes.saturating_mul(4),
        max_entries: build.max_files.saturating_mul(4),
    };
    let input = request.input.clone();
    let before = catalog.blocking(|store| store.blobs()).await?.len();
    let tags = catalog
        .blocking(move |store| Ok(crate::store::archive::load(store, &input, limits)))
        .await?
        .map_err(archive_error)?;
    let mut references = Vec::with_capacity(tags.len());
    for (name, descriptor) in &tags {
        let row = catalog.tag(name, descriptor).await?;
        references.push(row.name.clone());
        // An archive's names say which registry its images came from; the
        // trust policy judges them by it whatever they are tagged later.
        if let Ok(reference) = crate::image::reference::Reference::parse(&row.name)
            && reference.registry.is_some()
        {
            catalog
                .record_origin(&descriptor.digest, &reference.repository())
                .await?;
        }
    }
    let after = catalog.blocking(|store| store.blobs()).await?.len();
    Ok(json(
        hyper::StatusCode::OK,
        &LoadResponse {
            references,
            blobs: after.saturating_sub(before) as u64,
        },
    ))
}
