//! Copying an image to another repository or registry with its cosign
//! signature tag (`sha256-<hex>.sig`), so a mirror can still verify it.
//! Blobs the destination has are skipped; on the same registry they are
//! mounted; otherwise they stream from source to destination, never to disk.

use futures_util::StreamExt;
use oci_client::errors::OciDistributionError;
use skilld_proto::stream::Progress;

use super::error::RegistryError;
use super::fetch::{MANIFEST_TYPES, fetch_manifest};
use super::pull::TransferError;
use super::transport::Endpoint;
use super::{Registries, oci_reference};
use crate::image::reference::Reference;
use crate::oci::{self, Manifest};
use crate::store::digest::Digest;

/// cosign's tag for the signatures of the manifest `digest`.
pub fn signature_tag(digest: &Digest) -> String {
    format!("sha256-{}.sig", digest.hex())
}

/// What a copy did.
#[derive(Debug, Clone, Default)]
pub struct Copied {
    pub digest: String,
    pub copied_blobs: u64,
    pub skipped_blobs: u64,
    pub copied_bytes: u64,
    pub signatures: Vec<String>,
}

fn oci_err(
    endpoint: &Endpoint,
    name: &str,
) -> impl Fn(OciDistributionError) -> RegistryError + use<> {
    let host = endpoint.host.clone();
    let source = endpoint.credential_source.clone();
    let name = name.to_string();
    move |e| RegistryError::from_oci(&host, &name, e, source.as_deref())
}

/// One end of a copy.
struct Side<'a> {
    endpoint: &'a Endpoint,
    reference: &'a Reference,
}

/// Copy one manifest (`bytes`, parsed as `manifest`) and its blobs.
async fn copy_manifest(
    from: Side<'_>,
    bytes: &[u8],
    manifest: &Manifest,
    to: Side<'_>,
    counts: &mut Copied,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(), RegistryError> {
    let (src, src_ref, dst, dst_ref) = (from.endpoint, from.reference, to.endpoint, to.reference);
    let src_oci = oci_reference(src_ref)?;
    let dst_oci = oci_reference(dst_ref)?;
    let dst_err = oci_err(dst, &dst_ref.to_string());
    let src_err = oci_err(src, &src_ref.to_string());
    for blob in std::iter::once(&manifest.config).chain(manifest.layers.iter()) {
        if dst
            .client
            .blob_exists(&dst_oci, blob.digest.as_str())
            .await
            .map_err(&dst_err)?
        {
            counts.skipped_blobs += 1;
            continue;
        }
        let same_registry = src.host == dst.host;
        if same_registry
            && dst
                .client
                .mount_blob(&dst_oci, &src_oci, blob.digest.as_str())
                .await
                .is_ok()
        {
            counts.copied_blobs += 1;
            continue;
        }
        let sized = src
            .client
            .pull_blob_stream(&src_oci, blob.digest.as_str())
            .await
            .map_err(&src_err)?;
        let stream = sized
            .stream
            .map(|chunk| chunk.map_err(OciDistributionError::from));
        dst.client
            .push_blob_stream(&dst_oci, stream, blob.digest.as_str(), Some(blob.size))
            .await
            .map_err(&dst_err)?;
        counts.copied_blobs += 1;
        counts.copied_bytes += blob.size;
        progress(Progress {
            phase: "copy".into(),
            current: counts.copied_bytes,
            total: None,
            unit: Some("bytes".into()),
            message: Some(format!("{} blob(s) copied", counts.copied_blobs)),
            item: None,
        });
    }
    let content_type = manifest
        .media_type
        .clone()
        .unwrap_or_else(|| oci::MANIFEST_V1.to_string());
    let header = content_type.parse().map_err(|_| RegistryError::Invalid {
        reference: dst_ref.to_string(),
        message: format!("manifest media type {content_type:?} is not a valid header"),
    })?;
    dst.client
        .push_manifest_raw(&dst_oci, bytes.to_vec(), header)
        .await
        .map_err(&dst_err)?;
    Ok(())
}

/// Copy the remote image `source` to `destination`, and its signatures.
pub async fn copy_remote(
    registries: &Registries,
    source: &Reference,
    destination: &Reference,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Copied, TransferError> {
    let dst_host = destination
        .registry
        .clone()
        .ok_or_else(|| RegistryError::Invalid {
            reference: destination.to_string(),
            message: "names no registry; write HOST[:PORT]/NAME:TAG".into(),
        })?;
    let (fetched, src) = fetch_manifest(registries, source).await?;
    let dst = registries.endpoint(&dst_host, &destination.path).await?;
    dst.client
        .auth(
            &oci_reference(destination)?,
            &dst.auth,
            oci_client::RegistryOperation::Push,
        )
        .await
        .map_err(oci_err(&dst, &destination.to_string()))?;
    let mut counts = Copied {
        digest: fetched.digest.to_string(),
        ..Copied::default()
    };
    let from = Side {
        endpoint: &src,
        reference: &fetched.source,
    };
    let to = Side {
        endpoint: &dst,
        reference: destination,
    };
    copy_manifest(
        from,
        &fetched.bytes,
        &fetched.manifest,
        to,
        &mut counts,
        progress,
    )
    .await?;

    let sig_tag = signature_tag(&fetched.digest);
    let sig_src = fetched.source.with_tag(&sig_tag);
    if let Ok((bytes, _)) = src
        .client
        .pull_manifest_raw(&oci_reference(&sig_src)?, &src.auth, MANIFEST_TYPES)
        .await
        && let Ok(manifest) = serde_json::from_slice::<Manifest>(&bytes)
    {
        let sig_dst = destination.with_tag(&sig_tag);
        let from = Side {
            endpoint: &src,
            reference: &sig_src,
        };
        let to = Side {
            endpoint: &dst,
            reference: &sig_dst,
        };
        copy_manifest(from, &bytes, &manifest, to, &mut counts, progress).await?;
        counts.signatures.push(sig_dst.to_string());
    }
    Ok(counts)
}
