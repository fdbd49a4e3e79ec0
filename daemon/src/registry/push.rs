//! Pushing a local image: every blob the registry lacks (checked with a HEAD
//! first, so nothing is sent twice), streamed from the store, then the
//! manifest bytes exactly as stored, so the digest is the same everywhere.

use futures_util::StreamExt;
use oci_client::errors::OciDistributionError;
use skilld_proto::stream::Progress;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::RegistryError;
use super::progress::{BlobProgress, EVERY, PARALLEL_BLOBS};
use super::pull::TransferError;
use super::transport::Endpoint;
use super::{Registries, oci_reference};
use crate::image::reference::Reference;
use crate::oci::{self, Descriptor};
use crate::store::MAX_JSON_BLOB;
use crate::store::catalog::Catalog;

/// Blobs up to this size are read whole and sent in one request; larger
/// ones stream from their file, with progress as they go.
const IN_MEMORY_PUSH: u64 = 8 * 1024 * 1024;

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub reference: String,
    pub digest: String,
    pub pushed_blobs: u64,
    pub skipped_blobs: u64,
    pub pushed_bytes: u64,
}

/// The endpoint of `target`'s registry, authenticated for a push up front
/// (a refusal is reported before any upload; an open registry needs no
/// auth, and no probe per request), and `target` as oci-client names it.
pub async fn push_endpoint(
    registries: &Registries,
    target: &Reference,
) -> Result<(Endpoint, oci_client::Reference), RegistryError> {
    let oci_ref = oci_reference(target)?;
    let host = target.registry.clone().unwrap_or_default();
    let endpoint = registries.endpoint(&host, &target.path).await?;
    if !endpoint.open {
        endpoint
            .client
            .auth(
                &oci_ref,
                &endpoint.auth,
                oci_client::RegistryOperation::Push,
            )
            .await
            .map_err(|e| {
                RegistryError::from_oci(
                    &host,
                    &target.to_string(),
                    e,
                    endpoint.credential_source.as_deref(),
                )
            })?;
    }
    Ok((endpoint, oci_ref))
}

/// Push the local image `descriptor` to `target` (which names a registry).
pub async fn push(
    catalog: &Catalog,
    registries: &Registries,
    descriptor: &Descriptor,
    target: &Reference,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Pushed, TransferError> {
    let (endpoint, oci_ref) = push_endpoint(registries, target).await?;
    let host = target.registry.clone().unwrap_or_default();
    let name = target.to_string();
    let oci_err = |e: OciDistributionError| {
        RegistryError::from_oci(&host, &name, e, endpoint.credential_source.as_deref())
    };

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
    // Made up front (not in a `map` over the stream): a closure there makes
    // the future's lifetimes too general for the compiler to prove `Send`.
    let uploads: Vec<_> = missing
        .iter()
        .map(|blob| push_blob(catalog, &endpoint, &oci_ref, blob, &oci_err, progress))
        .collect();
    let mut running = futures_util::stream::iter(uploads).buffer_unordered(PARALLEL_BLOBS);
    let mut sent = 0u64;
    while let Some(outcome) = running.next().await {
        sent += outcome?;
    }
    drop(running);
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
        pushed_bytes: sent,
    })
}

/// Send one blob from the store, with its own progress line; its size.
async fn push_blob(
    catalog: &Catalog,
    endpoint: &Endpoint,
    oci_ref: &oci_client::Reference,
    blob: &Descriptor,
    oci_err: &(dyn Fn(OciDistributionError) -> RegistryError + Sync),
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<u64, TransferError> {
    let path = catalog.store().blob_path(&blob.digest);
    let mut line = BlobProgress::start("push", &blob.digest, blob.size, progress);
    if blob.size <= IN_MEMORY_PUSH {
        // Small blobs (nearly every skill) go up in one write.
        let data = tokio::fs::read(&path)
            .await
            .map_err(|e| crate::store::StoreError::io(&path, "read", e))?;
        endpoint
            .client
            .push_blob(oci_ref, data, blob.digest.as_str())
            .await
            .map_err(oci_err)?;
    } else {
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| crate::store::StoreError::io(&path, "read", e))?;
        let read = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&read);
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20).map(move |chunk| {
            if let Ok(c) = &chunk {
                counter.fetch_add(c.len() as u64, Ordering::Relaxed);
            }
            chunk.map_err(OciDistributionError::from)
        });
        let upload = endpoint.client.push_blob_stream(
            oci_ref,
            stream,
            blob.digest.as_str(),
            Some(blob.size),
        );
        tokio::pin!(upload);
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                outcome = &mut upload => {
                    outcome.map_err(oci_err)?;
                    break;
                }
                _ = tick.tick() => line.advance(read.load(Ordering::Relaxed)),
            }
        }
    }
    line.advance(blob.size);
    Ok(blob.size)
}
