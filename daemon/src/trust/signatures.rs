//! The signatures of one manifest digest: fetched from a registry (its
//! mirrors first, as for the image), kept in the store beside the image as
//! the tag `<repository>:sha256-<hex>.sig` (so rollback, `save` and an
//! air-gapped `load` keep them, and checking needs no network), and checked
//! against public keys.
//!
//! Every byte is bounded: the manifest by the store's JSON cap, at most
//! [`MAX_SIGNATURES`] layers of at most [`MAX_PAYLOAD`] bytes each, and each
//! payload's digest is checked before it is read.

use std::collections::BTreeMap;

use sigstore::crypto::{CosignVerificationKey, Signature};
use skilld_proto::trust::SignatureCheck;

use super::cosign::SIGNATURE_ANNOTATION;
use crate::image::reference::Reference;
use crate::oci::{self, Descriptor, Manifest};
use crate::registry::copy::signature_tag;
use crate::registry::fetch::{MANIFEST_TYPES, get_manifest_open};
use crate::registry::pull::fetch_small_blob;
use crate::registry::{Registries, RegistryError, oci_reference};
use crate::store::catalog::{Catalog, CatalogError};
use crate::store::digest::Digest;
use crate::store::{MAX_JSON_BLOB, Store, StoreError};

/// Most signatures read for one digest.
pub const MAX_SIGNATURES: usize = 64;
/// Largest simple-signing payload read.
pub const MAX_PAYLOAD: u64 = 64 * 1024;

/// A public key that may verify signatures, with its fingerprint.
pub type Key = (CosignVerificationKey, String);

/// A signatures image: its manifest bytes and, per layer, the payload (or
/// why it could not be read).
#[derive(Debug)]
pub struct Signatures {
    pub manifest_bytes: Vec<u8>,
    pub manifest: Manifest,
    /// The registry reference they came from (none: from the store). Its
    /// config blob is fetched only when they are kept: checking needs the
    /// payloads alone.
    pub source: Option<Reference>,
    pub payloads: Vec<Result<Vec<u8>, String>>,
}

/// The store's name for the signatures of `digest` in `repository`.
pub fn local_name(repository: &str, digest: &Digest) -> String {
    format!("{repository}:{}", signature_tag(digest))
}

fn parse_manifest(reference: &str, bytes: &[u8]) -> Result<Manifest, RegistryError> {
    let manifest: Manifest = serde_json::from_slice(bytes).map_err(|e| RegistryError::Invalid {
        reference: reference.to_string(),
        message: format!("the signatures manifest is not an OCI manifest: {e}"),
    })?;
    if manifest.layers.len() > MAX_SIGNATURES {
        return Err(RegistryError::Invalid {
            reference: reference.to_string(),
            message: format!(
                "{} signatures, over the {MAX_SIGNATURES} read; refused",
                manifest.layers.len()
            ),
        });
    }
    Ok(manifest)
}

/// The signatures of `digest` from `image`'s registry (mirrors first);
/// `None` when no source has any.
pub async fn fetch(
    registries: &Registries,
    image: &Reference,
    digest: &Digest,
) -> Result<Option<Signatures>, RegistryError> {
    let wanted = image.with_tag(&signature_tag(digest));
    let sources = registries.pull_sources(&wanted);
    let last = sources.len() - 1;
    for (i, source) in sources.into_iter().enumerate() {
        match fetch_from(registries, &source).await {
            Ok(Some(found)) => return Ok(Some(found)),
            Ok(None) if i < last => {}
            Ok(None) => return Ok(None),
            Err(e) if i < last => {
                tracing::info!(source = %source, error = %e, "signatures: trying the next source");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

async fn fetch_from(
    registries: &Registries,
    source: &Reference,
) -> Result<Option<Signatures>, RegistryError> {
    let host = source.registry.clone().unwrap_or_default();
    let endpoint = registries.endpoint(&host, &source.path).await?;
    let name = source.to_string();
    let pulled = if endpoint.open {
        // One GET, no auth probe.
        get_manifest_open(&endpoint, source).await
    } else {
        endpoint
            .client
            .pull_manifest_raw(&oci_reference(source)?, &endpoint.auth, MANIFEST_TYPES)
            .await
            .map(|(bytes, _)| bytes)
            .map_err(|e| {
                RegistryError::from_oci(&host, &name, e, endpoint.credential_source.as_deref())
            })
    };
    let bytes = match pulled {
        Ok(bytes) => bytes,
        Err(RegistryError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    if bytes.len() as u64 > MAX_JSON_BLOB {
        return Err(RegistryError::Invalid {
            reference: name,
            message: format!("the signatures manifest is over {MAX_JSON_BLOB} bytes; refused"),
        });
    }
    let manifest = parse_manifest(&name, &bytes)?;
    // The payloads are small: fetch them all at once.
    let payloads = futures_util::future::join_all(manifest.layers.iter().map(|layer| async {
        fetch_small_blob(&endpoint, source, layer, MAX_PAYLOAD)
            .await
            .map_err(|e| e.to_string())
    }))
    .await;
    Ok(Some(Signatures {
        manifest_bytes: bytes.to_vec(),
        manifest,
        source: Some(source.clone()),
        payloads,
    }))
}

/// Why signatures could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// Keep `signatures` in the store as the signatures of `digest` in
/// `repository` (replacing what was kept before). Only complete
/// signatures images are kept: an unreadable payload is not stored.
pub async fn keep(
    catalog: &Catalog,
    registries: &Registries,
    repository: &str,
    digest: &Digest,
    signatures: &Signatures,
) -> Result<(), KeepError> {
    let Some(source) = &signatures.source else {
        return Ok(()); // Read from the store: kept already.
    };
    let host = source.registry.clone().unwrap_or_default();
    let endpoint = registries.endpoint(&host, &source.path).await?;
    let config = fetch_small_blob(
        &endpoint,
        source,
        &signatures.manifest.config,
        MAX_JSON_BLOB,
    )
    .await?;
    let mut blobs = vec![config];
    for payload in &signatures.payloads {
        match payload {
            Ok(p) => blobs.push(p.clone()),
            Err(_) => return Ok(()),
        }
    }
    let manifest = signatures.manifest_bytes.clone();
    let descriptor = Descriptor {
        media_type: signatures
            .manifest
            .media_type
            .clone()
            .unwrap_or_else(|| oci::MANIFEST_V1.into()),
        digest: Digest::of(&manifest),
        size: manifest.len() as u64,
        artifact_type: None,
        annotations: Default::default(),
    };
    let _hold = catalog.write_guard().await;
    catalog
        .blocking(move |store| {
            for blob in blobs.iter().chain(std::iter::once(&manifest)) {
                store.put(blob)?;
            }
            Ok(())
        })
        .await?;
    catalog
        .tag(&local_name(repository, digest), &descriptor)
        .await?;
    Ok(())
}

/// The signatures of `digest` in `repository` that the store keeps, read
/// on a blocking thread.
pub async fn kept(
    catalog: &Catalog,
    repository: &str,
    digest: &Digest,
) -> Result<Option<Signatures>, CatalogError> {
    let (repository, digest) = (repository.to_string(), digest.clone());
    catalog
        .blocking(move |store| from_store(store, &repository, &digest))
        .await
}

/// The signatures of `digest` in `repository` that the store keeps.
fn from_store(
    store: &Store,
    repository: &str,
    digest: &Digest,
) -> Result<Option<Signatures>, StoreError> {
    let Some(descriptor) = store.resolve(&local_name(repository, digest))? else {
        return Ok(None);
    };
    let manifest_bytes = store.read(&descriptor.digest, MAX_JSON_BLOB)?;
    let Ok(manifest) = parse_manifest(repository, &manifest_bytes) else {
        return Ok(None);
    };
    let payloads = manifest
        .layers
        .iter()
        .map(|layer| {
            if layer.size > MAX_PAYLOAD {
                return Err(format!("payload {} is too large", layer.digest));
            }
            store
                .read(&layer.digest, MAX_PAYLOAD)
                .map_err(|e| e.to_string())
        })
        .collect();
    Ok(Some(Signatures {
        manifest_bytes,
        manifest,
        source: None,
        payloads,
    }))
}

/// Check every signature in `signatures` for `digest` against `keys`.
/// The digest must match; the repository named in the payload may differ
/// (a mirror or a copy keeps its signatures, as cosign allows).
pub fn check(signatures: &Signatures, digest: &Digest, keys: &[Key]) -> Vec<SignatureCheck> {
    signatures
        .manifest
        .layers
        .iter()
        .zip(&signatures.payloads)
        .map(|(layer, payload)| check_one(layer, payload, digest, keys))
        .collect()
}

fn check_one(
    layer: &Descriptor,
    payload: &Result<Vec<u8>, String>,
    digest: &Digest,
    keys: &[Key],
) -> SignatureCheck {
    let mut check = SignatureCheck {
        verified: false,
        fingerprint: None,
        annotations: BTreeMap::new(),
        reason: None,
    };
    let Some(signature) = layer.annotations.get(SIGNATURE_ANNOTATION) else {
        check.reason = Some("a layer without a signature annotation".into());
        return check;
    };
    let payload = match payload {
        Ok(p) => p,
        Err(e) => {
            check.reason = Some(format!("the payload cannot be read: {e}"));
            return check;
        }
    };
    let key = keys.iter().find(|(key, _)| {
        key.verify_signature(Signature::Base64Encoded(signature.as_bytes()), payload)
            .is_ok()
    });
    let Some((_, fingerprint)) = key else {
        check.reason = Some("no given key verifies this signature".into());
        return check;
    };
    check.fingerprint = Some(fingerprint.clone());
    let claims: serde_json::Value = serde_json::from_slice(payload).unwrap_or_default();
    if let Some(optional) = claims.get("optional").and_then(|o| o.as_object()) {
        check.annotations = optional
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    }
    let signed_digest = claims
        .pointer("/critical/image/docker-manifest-digest")
        .and_then(|d| d.as_str());
    if signed_digest != Some(digest.as_str()) {
        check.reason = Some(format!(
            "the signature is for {}, not {digest}",
            signed_digest.unwrap_or("no digest")
        ));
    } else {
        check.verified = true;
    }
    check
}
