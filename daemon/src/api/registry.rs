//! Registry endpoints: pull and push (NDJSON streams), tags, login, logout.
//! (Copy, save and load, which move images with their signatures, are in
//! [`super::transfer`].)

use std::path::PathBuf;

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::ErrorCode;
use skilld_proto::registry::{
    LoginRequest, LoginResponse, LogoutRequest, LogoutResponse, PullRequest, PullResponse,
    PushRequest, PushResponse, TagsRequest, TagsResponse,
};

use super::images::resolve_local;
use super::stream::ndjson;
use super::{ApiError, ApiResponse, body, json};
use crate::image::extract;
use crate::image::reference::Reference;
use crate::image::unpack::UnpackLimits;
use crate::registry::credentials::Credential;
use crate::registry::{RegistryError, pull, push, remote, transport};
use crate::state::State;

fn unpack_limits(state: &State) -> UnpackLimits {
    UnpackLimits::of_build(&state.config().build)
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
    // One identity per folder, as for installs.
    let mut request = request;
    if let Some(dir) = &request.output {
        let dir = crate::install::folders::canonical_folder(dir)
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("-o: {e}")))?;
        request.output = Some(dir);
    }
    let (tx, response) = ndjson::<PullResponse>();
    let state = state.clone();
    if request.output.is_some() {
        // The pull is scanned before it is unpacked: compile the rules
        // while it downloads.
        state.config().scan.prepare();
    }
    tokio::spawn(async move {
        let report = tx.reporter();
        let outcome = async {
            // A pull to unpack is scanned as it downloads.
            let scan = request.output.as_ref().and_then(|_| state.config().scan.scan_pulls(state.scanning()));
            let tee = scan.as_ref().map(|s| s as &dyn pull::Tee);
            let pulled = match pull::pull(state.catalog(), state.registries(), &reference, &report, tee).await {
                Ok(p) => p,
                Err(pull::TransferError::Registry(e)) => return Err(remote::explain_not_found(state.registries(), &reference, e).await.into()),
                Err(e) => return Err(e.into()),
            };
            tracing::info!(reference = %pulled.name, digest = %pulled.descriptor.digest, fetched = pulled.fetched_blobs, "pulled");
            let digest = &pulled.descriptor.digest;
            let mut verdicts = Vec::new();
            if !request.verify_keys.is_empty() {
                verdicts.push(crate::trust::enforce::check_keys(&state, &reference, digest, &request.verify_keys).await?);
            }
            if request.output.is_some() {
                verdicts.push(crate::trust::enforce::check(&state, &reference, digest, None).await?);
            }
            let signer = verdicts.iter().find_map(|v| v.signer.clone());
            let (unpacked_to, files) = match request.output {
                Some(parent) => {
                    crate::scan::policy::enforce(&state, &reference, &pulled.manifest, None)
                        .await
                        .map_err(crate::install::InstallError::from)?;
                    let manifest = pulled.manifest.clone();
                    let fallback = reference.name().to_string();
                    let limits = unpack_limits(&state);
                    crate::install::swap::claim_area(state.index(), &parent).await?;
                    let (dest, unpacked) = state
                        .catalog()
                        .blocking(move |store| Ok(extract::extract(store, &manifest, &parent, &fallback, limits)))
                        .await??;
                    (Some(dest), Some(unpacked.files))
                }
                None => (None, None),
            };
            for verdict in verdicts {
                verdict.keep_signatures(&state, digest);
            }
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
            let signatures = super::transfer::push_local_signature(&state, &local, &descriptor, &target, &report).await?;
            let digest = descriptor.digest.clone();
            let (manifest, _) = state.catalog().blocking(move |store| store.manifest(&digest)).await?;
            let scanned = crate::scan::policy::scan_image(&state, &manifest)
                .await
                .map_err(crate::install::InstallError::from)?;
            Ok::<_, ApiError>(PushResponse {
                findings: state.config().scan.warnings(&scanned.findings),
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

/// The canonical `host[:port]`, from what a user may type (`https://host/`,
/// `host/path`, `LOCALHOST:05000`).
fn host_only(registry: &str) -> Result<String, ApiError> {
    let host = registry
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or("");
    crate::image::registry_name::canonical(host).map_err(|why| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            format!("{registry:?} is not a registry host[:port]: {why}"),
        )
    })
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
