//! Signatures the way `cosign sign --key` writes them: a simple-signing
//! payload naming the repository and the manifest digest, signed with
//! ECDSA P-256, stored as a layer (`application/vnd.dev.cosign.simplesigning.v1+json`)
//! with the base64 signature in `dev.cosignproject.cosign/signature`, in an
//! image tagged `sha256-<hex>.sig` in the same repository. A new signature
//! is appended to those already there.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::json;
use skilld_proto::trust::SignatureCheck;

use crate::image::reference::Reference;
use crate::oci::{self, Descriptor, Manifest, to_canonical_json};
use crate::registry::copy::signature_tag;
use crate::registry::fetch::{MANIFEST_TYPES, fetch_manifest};
use crate::registry::{Registries, RegistryError, oci_reference};
use crate::store::digest::Digest;

pub const PAYLOAD_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// The simple-signing payload for `repository` at `digest`.
pub fn payload(
    repository: &str,
    digest: &Digest,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut value = json!({
        "critical": {
            "identity": {"docker-reference": repository},
            "image": {"docker-manifest-digest": digest.to_string()},
            "type": "cosign container image signature"
        },
        "optional": null
    });
    if !annotations.is_empty() {
        value["optional"] = json!(annotations);
    }
    serde_json::to_vec(&value).expect("JSON serialises")
}

/// The signatures image on `reference`'s `.sig` tag, if any: its manifest.
pub async fn existing(
    registries: &Registries,
    sig_ref: &Reference,
) -> Result<Option<Manifest>, RegistryError> {
    let host = sig_ref.registry.clone().unwrap_or_default();
    let endpoint = registries.endpoint(&host, &sig_ref.path).await?;
    match endpoint
        .client
        .pull_manifest_raw(&oci_reference(sig_ref)?, &endpoint.auth, MANIFEST_TYPES)
        .await
    {
        Ok((bytes, _)) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) => match RegistryError::from_oci(
            &host,
            &sig_ref.to_string(),
            e,
            endpoint.credential_source.as_deref(),
        ) {
            RegistryError::NotFound { .. } => Ok(None),
            other => Err(other),
        },
    }
}

/// Sign `reference` (on a registry) with `signer`; (digest, signatures now).
pub async fn sign(
    registries: &Registries,
    reference: &Reference,
    signer: &sigstore::crypto::SigStoreSigner,
    annotations: &BTreeMap<String, String>,
) -> Result<(Digest, String, u64), RegistryError> {
    // A collection is signed as it is (its manifest); a skill as the
    // manifest it installs from.
    let digest = match fetch_manifest(registries, reference).await {
        Ok((fetched, _)) => fetched.digest,
        Err(RegistryError::Collection { .. }) => {
            let (bytes, _, _) = crate::registry::fetch::fetch_raw(registries, reference).await?;
            Digest::of(&bytes)
        }
        Err(e) => return Err(e),
    };
    let payload = payload(&reference.repository(), &digest, annotations);
    let signature = signer.sign(&payload).map_err(|e| RegistryError::Invalid {
        reference: reference.to_string(),
        message: format!("cannot sign: {e}"),
    })?;
    let signature_b64 = base64::engine::general_purpose::STANDARD.encode(signature);
    let sig_ref = reference.with_tag(&signature_tag(&digest));
    let mut layers = existing(registries, &sig_ref)
        .await?
        .map(|m| m.layers)
        .unwrap_or_default();
    let host = reference.registry.clone().unwrap_or_default();
    let endpoint = registries.endpoint(&host, &reference.path).await?;
    let oci_ref = oci_reference(&sig_ref)?;
    let oci_err = |e| {
        RegistryError::from_oci(
            &host,
            &sig_ref.to_string(),
            e,
            endpoint.credential_source.as_deref(),
        )
    };
    let payload_digest = Digest::of(&payload);
    endpoint
        .client
        .push_blob(&oci_ref, payload.clone(), payload_digest.as_str())
        .await
        .map_err(oci_err)?;
    layers.push(Descriptor {
        media_type: PAYLOAD_TYPE.into(),
        digest: payload_digest,
        size: payload.len() as u64,
        artifact_type: None,
        annotations: [(SIGNATURE_ANNOTATION.to_string(), signature_b64)].into(),
    });
    let config = to_canonical_json(&json!({
        "architecture": "", "config": {}, "created": "0001-01-01T00:00:00Z",
        "history": layers.iter().map(|_| json!({"created": "0001-01-01T00:00:00Z"})).collect::<Vec<_>>(),
        "os": "", "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.digest.to_string()).collect::<Vec<_>>()}
    }));
    let config_digest = Digest::of(&config);
    endpoint
        .client
        .push_blob(&oci_ref, config.clone(), config_digest.as_str())
        .await
        .map_err(oci_err)?;
    let count = layers.len() as u64;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(oci::MANIFEST_V1.into()),
        artifact_type: None,
        config: Descriptor {
            media_type: oci::CONFIG_V1.into(),
            digest: config_digest,
            size: config.len() as u64,
            artifact_type: None,
            annotations: Default::default(),
        },
        layers,
        annotations: Default::default(),
    };
    let header = oci::MANIFEST_V1.parse().expect("a valid header");
    endpoint
        .client
        .push_manifest_raw(&oci_ref, to_canonical_json(&manifest), header)
        .await
        .map_err(oci_err)?;
    Ok((digest, sig_ref.to_string(), count))
}

/// Check every signature on `reference`'s digest (on its registry) against `keys`.
pub async fn verify(
    registries: &Registries,
    reference: &Reference,
    keys: &[super::signatures::Key],
) -> Result<(Digest, Vec<SignatureCheck>), RegistryError> {
    let (fetched, _) = fetch_manifest(registries, reference).await?;
    let digest = fetched.digest;
    let checks = match super::signatures::fetch(registries, reference, &digest).await? {
        Some(signatures) => super::signatures::check(&signatures, &digest, keys),
        None => Vec::new(),
    };
    Ok((digest, checks))
}
