//! Pushing a local image: every blob the registry lacks (checked with a HEAD
//! first, so nothing is sent twice), streamed from the store, then the
//! manifest bytes exactly as stored, so the digest is the same everywhere.

use futures_util::StreamExt;
use oci_client::errors::OciDistributionError;
use skilld_proto::stream::Progress;

use super::error::RegistryError;
use super::pull::TransferError;
use super::{Registries, oci_reference};
use crate::image::reference::Reference;
use crate::oci::{self, Descriptor};
use crate::store::MAX_JSON_BLOB;
use crate::store::catalog::Catalog;

/// Blobs up to this size are read whole and sent in one request.
const IN_MEMORY_PUSH: u64 = 64 * 1024 * 1024;

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub reference: String,
    pub digest: String,
    pub pushed_blobs: u64,
    pub skipped_blobs: u64,
    pub pushed_bytes: u64,
}

/// Push the local image `descriptor` to `target` (which names a registry).
pub async fn push(
    catalog: &Catalog,
    registries: &Registries,
    descriptor: &Descriptor,
    target: &Reference,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Pushed, TransferError> {
    let oci_ref = oci_reference(target)?;
    let host = target.registry.clone().unwrap_or_default();
    let name = target.to_string();
    let endpoint = registries.endpoint(&host, &target.path).await?;
    let oci_err = |e: OciDistributionError| {
        RegistryError::from_oci(&host, &name, e, endpoint.credential_source.as_deref())
    };
    // Authenticate for push up front: a refusal is reported before any
    // upload. An open registry needs no auth (and no probe per request).
    if !endpoint.open {
        endpoint
            .client
            .auth(
                &oci_ref,
                &endpoint.auth,
                oci_client::RegistryOperation::Push,
            )
            .await
            .map_err(oci_err)?;
    }

    let digest = descriptor.digest.clone();
    let (manifest, manifest_bytes) = catalog
        .blocking(move |store| {
            let bytes = store.read(&digest, MAX_JSON_BLOB)?;
            let (manifest, _) = store.manifest(&digest)?;
            Ok((manifest, bytes))
        })
        .await?;
    let blobs: Vec<Descriptor> = std::iter::once(manifest.config.clone())
        .chain(manifest.layers.iter().cloned())
        .collect();
    let mut missing = Vec::new();
    for blob in &blobs {
        if !endpoint
            .client
            .blob_exists(&oci_ref, blob.digest.as_str())
            .await
            .map_err(oci_err)?
        {
            missing.push(blob.clone());
        }
    }
    let total: u64 = missing.iter().map(|b| b.size).sum();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let report = |current: u64| {
        progress(Progress {
            phase: "push".into(),
            current,
            total: Some(total),
            unit: Some("bytes".into()),
            message: None,
        })
    };
    report(0);
    for blob in &missing {
        let path = catalog.store().blob_path(&blob.digest);
        if blob.size <= IN_MEMORY_PUSH {
            // Small blobs (nearly every skill) go up in one write.
            let data = tokio::fs::read(&path)
                .await
                .map_err(|e| crate::store::StoreError::io(&path, "read", e))?;
            endpoint
                .client
                .push_blob(&oci_ref, data, blob.digest.as_str())
                .await
                .map_err(oci_err)?;
            sent.fetch_add(blob.size, std::sync::atomic::Ordering::Relaxed);
        } else {
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(|e| crate::store::StoreError::io(&path, "read", e))?;
            let counter = std::sync::Arc::clone(&sent);
            let stream =
                tokio_util::io::ReaderStream::with_capacity(file, 1 << 20).map(move |chunk| {
                    if let Ok(c) = &chunk {
                        counter.fetch_add(c.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                    chunk.map_err(OciDistributionError::from)
                });
            endpoint
                .client
                .push_blob_stream(&oci_ref, stream, blob.digest.as_str(), Some(blob.size))
                .await
                .map_err(oci_err)?;
        }
        report(sent.load(std::sync::atomic::Ordering::Relaxed));
    }
    let content_type = manifest
        .media_type
        .clone()
        .unwrap_or_else(|| oci::MANIFEST_V1.to_string());
    let header = content_type.parse().map_err(|_| RegistryError::Invalid {
        reference: name.clone(),
        message: format!("manifest media type {content_type:?} is not a valid header"),
    })?;
    endpoint
        .client
        .push_manifest_raw(&oci_ref, manifest_bytes, header)
        .await
        .map_err(oci_err)?;
    Ok(Pushed {
        reference: name,
        digest: descriptor.digest.to_string(),
        pushed_blobs: missing.len() as u64,
        skipped_blobs: (blobs.len() - missing.len()) as u64,
        pushed_bytes: sent.load(std::sync::atomic::Ordering::Relaxed),
    })
}
