//! Registry endpoints: pull and push (NDJSON streams), tags, login, logout.

use std::path::PathBuf;

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::ErrorCode;
use skilld_proto::registry::{
    CopyRequest, CopyResponse, LoadRequest, LoadResponse, LoginRequest, LoginResponse,
    LogoutRequest, LogoutResponse, PullRequest, PullResponse, PushRequest, PushResponse,
    SaveRequest, SaveResponse, TagsRequest, TagsResponse,
};

use super::images::resolve_local;
use super::stream::ndjson;
use super::{ApiError, ApiResponse, body, json};
use crate::image::extract;
use crate::image::reference::Reference;
use crate::image::unpack::UnpackLimits;
use crate::registry::credentials::Credential;
use crate::registry::{RegistryError, copy, pull, push, remote, transport};
use crate::state::State;
use crate::store::digest::Digest;

fn unpack_limits(state: &State) -> UnpackLimits {
    let build = state.config().build;
    UnpackLimits {
        max_bytes: build.max_bytes,
        max_entries: build.max_files.saturating_mul(2),
    }
}

pub async fn pull(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: PullRequest = body::read_json(req, &state.config().limits).await?;
    let reference = Reference::parse(&request.reference)?;
    if reference.registry.is_none() {
        return Err(RegistryError::Invalid {
            reference: reference.to_string(),
            message: "names no registry; write HOST[:PORT]/NAME:TAG".into(),
        }
        .into());
    }
    if let Some(out) = &request.output
        && !out.is_absolute()
    {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "-o must be an absolute path (skillc sends one)",
        ));
    }
    if request.output.is_some() {
        crate::trust::enforce::precheck(state, &reference)?;
    }
    let (tx, response) = ndjson::<PullResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let report = tx.reporter();
        let outcome = async {
            let pulled = match pull::pull(state.catalog(), state.registries(), &reference, &report).await {
                Ok(p) => p,
                Err(pull::TransferError::Registry(e)) => return Err(remote::explain_not_found(state.registries(), &reference, e).await.into()),
                Err(e) => return Err(e.into()),
            };
            tracing::info!(reference = %pulled.name, digest = %pulled.descriptor.digest, fetched = pulled.fetched_blobs, "pulled");
            let digest = &pulled.descriptor.digest;
            let mut signer = None;
            if !request.verify_keys.is_empty() {
                signer = Some(crate::trust::enforce::check_keys(&state, &reference, digest, &request.verify_keys).await?);
            }
            if request.output.is_some() {
                let verdict = crate::trust::enforce::check(&state, &reference, digest, None).await?;
                signer = signer.or(verdict.signer);
            }
            let (unpacked_to, files) = match request.output {
                Some(parent) => {
                    let manifest = pulled.manifest.clone();
                    let fallback = reference.name().to_string();
                    let limits = unpack_limits(&state);
                    let (dest, unpacked) = state
                        .catalog()
                        .blocking(move |store| Ok(extract::extract(store, &manifest, &parent, &fallback, limits)))
                        .await??;
                    (Some(dest), Some(unpacked.files))
                }
                None => (None, None),
            };
            Ok::<_, ApiError>(PullResponse {
                reference: pulled.name,
                digest: pulled.descriptor.digest.to_string(),
                source: pulled.source,
                fetched_blobs: pulled.fetched_blobs,
                present_blobs: pulled.present_blobs,
                fetched_bytes: pulled.fetched_bytes,
                unpacked_to,
                files,
                signer,
            })
        }
        .await;
        tx.finish(outcome).await;
    });
    Ok(response)
}

pub async fn push(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: PushRequest = body::read_json(req, &state.config().limits).await?;
    let (local, descriptor) = resolve_local(state.catalog(), &request.reference).await?;
    let target = match &request.destination {
        Some(d) => {
            let t = Reference::parse(d)?;
            if t.tag.is_some() {
                t
            } else {
                t.with_tag(local.tag.as_deref().unwrap_or("latest"))
            }
        }
        None => local.clone(),
    };
    if target.registry.is_none() {
        return Err(RegistryError::Invalid {
            reference: target.to_string(),
            message: format!(
                "names no registry; push it somewhere with `skillc push {local} HOST[:PORT]/{}`, or tag it with a registry first",
                local.path
            ),
        }
        .into());
    }
    let (tx, response) = ndjson::<PushResponse>();
    let state = state.clone();
    tokio::spawn(async move {
        let report = tx.reporter();
        let outcome = async {
            let p = push::push(state.catalog(), state.registries(), &descriptor, &target, &report).await?;
            tracing::info!(reference = %p.reference, digest = %p.digest, pushed = p.pushed_blobs, "pushed");
            let signatures = push_local_signature(&state, &local, &descriptor, &target, &report).await?;
            Ok::<_, ApiError>(PushResponse {
                reference: p.reference,
                digest: p.digest,
                pushed_blobs: p.pushed_blobs,
                skipped_blobs: p.skipped_blobs,
                pushed_bytes: p.pushed_bytes,
                signatures: signatures.into_iter().collect(),
            })
        }
        .await;
        tx.finish(outcome).await;
    });
    Ok(response)
}

pub async fn tags(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: TagsRequest = body::read_json(req, &state.config().limits).await?;
    let repository = Reference::parse(&request.repository)?;
    let mut tags = remote::tags(state.registries(), &repository).await?;
    if request.published {
        tags.retain(|t| t.published);
    }
    Ok(json(
        hyper::StatusCode::OK,
        &TagsResponse {
            repository: repository.repository(),
            tags,
        },
    ))
}

/// `host[:port]`, from what a user may type (`https://host/`, `host/path`).
fn host_only(registry: &str) -> Result<String, ApiError> {
    let host = registry
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or("").to_string();
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("{registry:?} is not a registry host[:port]"),
        ));
    }
    Ok(host)
}

pub async fn login(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: LoginRequest = body::read_json(req, &state.config().limits).await?;
    let host = host_only(&request.registry)?;
    if request.username.is_empty() || request.password.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "both a user name and a password are needed",
        ));
    }
    let registries = state.registries();
    let endpoint = registries.endpoint(&host, "").await?;
    transport::check_login(&endpoint, &request.username, &request.password).await?;
    let credential = Credential {
        username: request.username.clone(),
        password: request.password,
    };
    let store = registries.credentials().clone();
    let save_host = host.clone();
    tokio::task::spawn_blocking(move || store.save_login(&save_host, &credential))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    registries.forget(&host);
    tracing::info!(registry = %host, username = %request.username, "logged in");
    Ok(json(
        hyper::StatusCode::OK,
        &LoginResponse {
            registry: host,
            username: request.username,
            saved_to: PathBuf::from(registries.credentials().login_file()),
        },
    ))
}

pub async fn logout(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: LogoutRequest = body::read_json(req, &state.config().limits).await?;
    let host = host_only(&request.registry)?;
    let store = state.registries().credentials().clone();
    let remove_host = host.clone();
    let removed = tokio::task::spawn_blocking(move || store.remove_login(&remove_host))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    Ok(json(
        hyper::StatusCode::OK,
        &LogoutResponse {
            registry: host,
            removed,
        },
    ))
}

/// Keep the registry's signatures of `digest` in the store, so `save`
/// carries them; best effort (offline, nothing is carried).
async fn keep_remote_signatures(state: &State, reference: &Reference, digest: &Digest) {
    use crate::trust::signatures;
    let repository = reference.repository();
    match signatures::fetch(state.registries(), reference, digest).await {
        Ok(Some(found)) => {
            if let Err(e) = signatures::keep(state.catalog(), &repository, digest, &found).await {
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
async fn push_local_signature(
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
    for (name, descriptor) in &tags {
        catalog.tag(name, descriptor).await?;
    }
    let after = catalog.blocking(|store| store.blobs()).await?.len();
    Ok(json(
        hyper::StatusCode::OK,
        &LoadResponse {
            references: tags.into_iter().map(|(n, _)| n).collect(),
            blobs: after.saturating_sub(before) as u64,
        },
    ))
}
