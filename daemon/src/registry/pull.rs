//! Pulling an image into the local store: the manifest (see [`super::fetch`]),
//! then every blob the store lacks, each streamed into a temp file and
//! checked against its digest before it is stored. A lie anywhere stores
//! nothing of the pull.

use std::io::Write;

use futures_util::StreamExt;
use skilld_proto::stream::Progress;

use super::error::RegistryError;
use super::fetch::{Fetched, fetch_manifest};
use super::progress::{BlobProgress, PARALLEL_BLOBS};
use super::transport::Endpoint;
use super::{Registries, oci_reference};
use crate::image::reference::Reference;
use crate::oci::{self, Descriptor, Manifest};
use crate::store::catalog::{Catalog, CatalogError};
use crate::store::digest::Digest;
use crate::store::{MAX_JSON_BLOB, StoreError};

/// What a pull did.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub name: String,
    pub descriptor: Descriptor,
    pub manifest: Manifest,
    pub fetched_blobs: u64,
    pub present_blobs: u64,
    pub fetched_bytes: u64,
    pub source: String,
}

/// Why a pull failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl From<StoreError> for TransferError {
    fn from(e: StoreError) -> TransferError {
        TransferError::Catalog(CatalogError::Store(e))
    }
}

/// Something that reads blobs as they download (the scan policy, for a
/// pull about to be installed): a sink for each blob it wants.
pub trait Tee: Sync {
    fn sink(&self, blob: &Descriptor) -> Option<Box<dyn Sink>>;
}

/// One blob's bytes, handed over as they arrive. A sink dropped without
/// [`Sink::verified`] saw a download that failed or lied.
pub trait Sink: Send {
    fn bytes(&mut self, chunk: &bytes::Bytes);
    /// The whole blob was handed over and its digest checked.
    fn verified(self: Box<Self>);
}

/// Pull `reference` into the store and tag it locally with its full name
/// (`tee` reads the blobs it wants as they come).
pub async fn pull(
    catalog: &Catalog,
    registries: &Registries,
    reference: &Reference,
    progress: &(dyn Fn(Progress) + Sync),
    tee: Option<&dyn Tee>,
) -> Result<Pulled, TransferError> {
    let (fetched, endpoint) = fetch_manifest(registries, reference).await?;
    pull_fetched(catalog, reference, fetched, endpoint, progress, tee).await
}

/// The rest of a pull once its manifest is fetched (from `endpoint`): the
/// blobs the store lacks, then the manifest and its tag. Lets a caller do
/// other work with the digest (fetch its signatures) while blobs download.
pub async fn pull_fetched(
    catalog: &Catalog,
    reference: &Reference,
    fetched: Fetched,
    endpoint: Endpoint,
    progress: &(dyn Fn(Progress) + Sync),
    tee: Option<&dyn Tee>,
) -> Result<Pulled, TransferError> {
    let source_ref = oci_reference(&fetched.source)?;
    let blobs: Vec<Descriptor> = std::iter::once(fetched.manifest.config.clone())
        .chain(fetched.manifest.layers.iter().cloned())
        .collect();
    let _hold = catalog.write_guard().await;
    let store = catalog.store().clone();
    let missing: Vec<&Descriptor> = blobs
        .iter()
        .filter(|d| !store.has_blob(&d.digest))
        .collect();
    let outcome = fetch_blobs(
        &endpoint,
        &source_ref,
        reference,
        &missing,
        &store,
        progress,
        tee,
    )
    .await;
    let done = match outcome {
        Ok(done) => done,
        Err(e) => {
            // Nothing partial stays behind: drop the blobs this pull added
            // (the write guard kept anyone else from adding them meanwhile,
            // and every blob still downloading was dropped with its temp file).
            for descriptor in &missing {
                let _ = store.delete_blob(&descriptor.digest);
            }
            return Err(e);
        }
    };
    finish(
        catalog,
        reference,
        fetched,
        missing.len(),
        blobs.len(),
        done,
    )
    .await
}

async fn finish(
    catalog: &Catalog,
    reference: &Reference,
    fetched: Fetched,
    missing: usize,
    all: usize,
    done: u64,
) -> Result<Pulled, TransferError> {
    let store = catalog.store();
    let result = finish_inner(catalog, reference, &fetched).await;
    let (name, descriptor) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = store.delete_blob(&fetched.digest);
            return Err(e);
        }
    };
    Ok(Pulled {
        name,
        descriptor,
        manifest: fetched.manifest,
        fetched_blobs: missing as u64,
        present_blobs: (all - missing) as u64,
        fetched_bytes: done,
        source: fetched.source.to_string(),
    })
}

/// Fetch the `missing` blobs, [`PARALLEL_BLOBS`] at a time, each with its
/// own progress line; the bytes fetched. Stops at the first failure.
async fn fetch_blobs(
    endpoint: &Endpoint,
    source_ref: &oci_client::Reference,
    reference: &Reference,
    missing: &[&Descriptor],
    store: &std::sync::Arc<crate::store::Store>,
    progress: &(dyn Fn(Progress) + Sync),
    tee: Option<&dyn Tee>,
) -> Result<u64, TransferError> {
    // Made up front (not in a `map` over the stream): a closure there makes
    // the future's lifetimes too general for the compiler to prove `Send`.
    let fetches: Vec<_> = missing
        .iter()
        .map(|descriptor| {
            let sink = tee.and_then(|t| t.sink(descriptor));
            fetch_blob(
                endpoint, source_ref, reference, descriptor, store, progress, sink,
            )
        })
        .collect();
    let mut running = futures_util::stream::iter(fetches).buffer_unordered(PARALLEL_BLOBS);
    let mut done = 0;
    while let Some(outcome) = running.next().await {
        done += outcome?;
    }
    Ok(done)
}

/// Fetch one blob into the store, its size and digest checked as it comes.
async fn fetch_blob(
    endpoint: &Endpoint,
    source_ref: &oci_client::Reference,
    reference: &Reference,
    descriptor: &Descriptor,
    store: &std::sync::Arc<crate::store::Store>,
    progress: &(dyn Fn(Progress) + Sync),
    mut sink: Option<Box<dyn Sink>>,
) -> Result<u64, TransferError> {
    let host = &endpoint.host;
    if descriptor.size > u64::MAX / 2 {
        return Err(RegistryError::Invalid {
            reference: reference.to_string(),
            message: "a blob descriptor has an impossible size".into(),
        }
        .into());
    }
    let mut line = BlobProgress::start("pull", &descriptor.digest, descriptor.size, progress);
    let mut sized = endpoint
        .client
        .pull_blob_stream(source_ref, descriptor.digest.as_str())
        .await
        .map_err(|e| {
            RegistryError::from_oci(
                host,
                &reference.to_string(),
                e,
                endpoint.credential_source.as_deref(),
            )
        })?;
    let mut writer = store.writer()?;
    while let Some(chunk) = sized.stream.next().await {
        let chunk = chunk.map_err(|e| {
            let text = e.to_string();
            if text.contains("digest") {
                RegistryError::Tampered {
                    reference: reference.to_string(),
                    detail: text,
                }
            } else {
                RegistryError::Other {
                    host: host.clone(),
                    message: format!("the download of {} broke off: {e}", descriptor.digest),
                }
            }
        })?;
        if writer.size() + chunk.len() as u64 > descriptor.size {
            return Err(RegistryError::DigestMismatch {
                reference: reference.to_string(),
                expected: format!("{} ({} bytes)", descriptor.digest, descriptor.size),
                actual: "more bytes than the manifest declares".into(),
            }
            .into());
        }
        writer
            .write_all(&chunk)
            .map_err(|e| StoreError::io(store.root(), "write", e))?;
        if let Some(sink) = sink.as_mut() {
            sink.bytes(&chunk);
        }
        line.advance(writer.size());
    }
    let size = writer.size();
    match store.commit(writer, Some(&descriptor.digest)) {
        Ok(_) => {
            if let Some(sink) = sink {
                sink.verified();
            }
            Ok(size)
        }
        Err(StoreError::DigestMismatch { expected, actual }) => {
            Err(RegistryError::DigestMismatch {
                reference: reference.to_string(),
                expected: expected.to_string(),
                actual: actual.to_string(),
            }
            .into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Check the config, store the manifest and tag it; the local name.
async fn finish_inner(
    catalog: &Catalog,
    reference: &Reference,
    fetched: &Fetched,
) -> Result<(String, Descriptor), TransferError> {
    let store = catalog.store();
    // The config is small JSON: refuse a config over the cap, like the manifest.
    store.read(&fetched.manifest.config.digest, MAX_JSON_BLOB)?;
    store.put(&fetched.bytes)?;
    let descriptor = Descriptor {
        media_type: fetched
            .manifest
            .media_type
            .clone()
            .unwrap_or_else(|| oci::MANIFEST_V1.to_string()),
        digest: fetched.digest.clone(),
        size: fetched.bytes.len() as u64,
        artifact_type: fetched.manifest.artifact_type.clone(),
        annotations: fetched
            .index
            .iter()
            .map(|d| (oci::annotation::INDEX_DIGEST.to_string(), d.to_string()))
            .collect(),
    };
    let name = match (&reference.tag, &reference.digest) {
        (Some(_), _) | (None, None) => reference
            .with_tag(reference.tag.as_deref().unwrap_or("latest"))
            .to_string(),
        (None, Some(d)) => format!("{}@{d}", reference.repository()),
    };
    catalog.tag(&name, &descriptor).await?;
    catalog
        .record_origin(&descriptor.digest, &reference.repository())
        .await?;
    Ok((name, descriptor))
}

/// Fetch a small blob (a config) of at most `max` bytes, digest checked.
pub async fn fetch_small_blob(
    endpoint: &Endpoint,
    reference: &Reference,
    descriptor: &Descriptor,
    max: u64,
) -> Result<Vec<u8>, RegistryError> {
    let oci_ref = oci_reference(reference)?;
    if descriptor.size > max {
        return Err(RegistryError::Invalid {
            reference: reference.to_string(),
            message: format!(
                "blob {} is {} bytes, over the {max} allowed",
                descriptor.digest, descriptor.size
            ),
        });
    }
    // An open registry is asked with one plain GET (no auth bookkeeping).
    let mut stream: futures_util::stream::BoxStream<'_, Result<bytes::Bytes, String>> =
        if endpoint.open {
            let path = format!("{}/blobs/{}", reference.path, descriptor.digest);
            super::transport::open_get(endpoint, &path, None, &reference.to_string())
                .await?
                .bytes_stream()
                .map(|c| c.map_err(|e| e.to_string()))
                .boxed()
        } else {
            endpoint
                .client
                .pull_blob_stream(&oci_ref, descriptor.digest.as_str())
                .await
                .map_err(|e| {
                    RegistryError::from_oci(
                        &endpoint.host,
                        &reference.to_string(),
                        e,
                        endpoint.credential_source.as_deref(),
                    )
                })?
                .stream
                .map(|c| c.map_err(|e| e.to_string()))
                .boxed()
        };
    let mut data = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|message| RegistryError::Other {
            host: endpoint.host.clone(),
            message,
        })?;
        data.extend_from_slice(&chunk);
        if data.len() as u64 > max {
            return Err(RegistryError::Invalid {
                reference: reference.to_string(),
                message: format!("blob {} is larger than {max} bytes", descriptor.digest),
            });
        }
    }
    let actual = Digest::of(&data);
    if actual != descriptor.digest {
        return Err(RegistryError::DigestMismatch {
            reference: reference.to_string(),
            expected: descriptor.digest.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(data)
}
