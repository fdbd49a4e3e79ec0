//! `POST /v1/keygen`, `POST /v1/sign`, `POST /v1/verify`.

use std::os::unix::fs::OpenOptionsExt;

use hyper::Request;
use hyper::body::Incoming;
use skilld_proto::ErrorCode;
use skilld_proto::trust::{
    KeygenRequest, KeygenResponse, SignRequest, SignResponse, SignatureCheck, VerifyRequest,
    VerifyResponse,
};

use super::images::resolve_local;
use super::{ApiError, ApiResponse, body, json};
use crate::image::reference::Reference;
use crate::state::State;
use crate::store::digest::Digest;
use crate::trust::keys::{self, KeyError};
use crate::trust::{cosign, signatures};

fn key_error(e: KeyError) -> ApiError {
    ApiError::new(ErrorCode::InvalidRequest, e.to_string())
}

fn registry_reference(input: &str) -> Result<Reference, ApiError> {
    let reference = Reference::parse(input)?;
    if reference.registry.is_none() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "{input} names no registry; signatures live on a registry (push the image first)"
            ),
        ));
    }
    Ok(reference)
}

pub async fn keygen(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: KeygenRequest = body::read_json(req, &state.config().limits).await?;
    if !request.prefix.is_absolute() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "the key prefix must be an absolute path (skillc sends one)",
        ));
    }
    let private = request.prefix.with_extension("key");
    let public = request.prefix.with_extension("pub");
    for path in [&private, &public] {
        if path.exists() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "{} exists; move it away or choose another --output-key-prefix",
                    path.display()
                ),
            ));
        }
    }
    let password = request.password;
    let (private_pem, public_pem, fingerprint) =
        tokio::task::spawn_blocking(move || keys::generate(&password))
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
            .map_err(key_error)?;
    let write = |path: &std::path::Path, text: &str, mode: u32| -> Result<(), ApiError> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!("cannot write {}: {e}", path.display()),
                )
            })?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))
    };
    write(&private, &private_pem, 0o600)?;
    write(&public, &public_pem, 0o644)?;
    Ok(json(
        hyper::StatusCode::OK,
        &KeygenResponse {
            private_key: private,
            public_key: public,
            fingerprint,
        },
    ))
}

pub async fn sign(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: SignRequest = body::read_json(req, &state.config().limits).await?;
    let reference = registry_reference(&request.reference)?;
    let (key, password) = (request.key.clone(), request.password.clone());
    let (signer, fingerprint) = tokio::task::spawn_blocking(move || keys::signer(&key, &password))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
        .map_err(key_error)?;
    let (digest, signature_tag, signatures) = cosign::sign(
        state.registries(),
        &reference,
        &signer,
        &request.annotations,
    )
    .await?;
    tracing::info!(reference = %reference, %digest, %fingerprint, "signed");
    Ok(json(
        hyper::StatusCode::OK,
        &SignResponse {
            reference: reference.to_string(),
            digest: digest.to_string(),
            signature_tag,
            fingerprint,
            signatures,
        },
    ))
}

/// Verify the store's image `input` against the signatures the store keeps.
async fn verify_local(
    state: &State,
    input: &str,
    verifiers: &[signatures::Key],
) -> Result<(Reference, Digest, Vec<SignatureCheck>), ApiError> {
    let (reference, descriptor) = resolve_local(state.catalog(), input).await?;
    let kept =
        signatures::kept(state.catalog(), &reference.repository(), &descriptor.digest).await?;
    let checks = kept
        .map(|found| signatures::check(&found, &descriptor.digest, verifiers))
        .unwrap_or_default();
    Ok((reference, descriptor.digest, checks))
}

pub async fn verify(state: &State, req: Request<Incoming>) -> Result<ApiResponse, ApiError> {
    let request: VerifyRequest = body::read_json(req, &state.config().limits).await?;
    if request.keys.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "give at least one public key (--key cosign.pub)",
        ));
    }
    let mut verifiers = Vec::new();
    for path in &request.keys {
        verifiers.push(keys::verifier(path).map_err(key_error)?);
    }
    let parsed = Reference::parse(&request.reference)?;
    let (reference, digest, signatures) = if request.local || parsed.registry.is_none() {
        verify_local(state, &request.reference, &verifiers).await?
    } else {
        let (digest, signatures) = cosign::verify(state.registries(), &parsed, &verifiers).await?;
        (parsed, digest, signatures)
    };
    Ok(json(
        hyper::StatusCode::OK,
        &VerifyResponse {
            reference: reference.to_string(),
            digest: digest.to_string(),
            verified: signatures.iter().any(|s| s.verified),
            signatures,
        },
    ))
}
