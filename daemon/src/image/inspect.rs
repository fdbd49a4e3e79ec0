//! What an image says about itself, read from its manifest and config only:
//! the layer is never opened.

use skilld_proto::images::{BlobInfo, ImageFormat, InspectResponse, Lifecycle};

use crate::oci::{self, Descriptor, Manifest, annotation};
use crate::store::{MAX_JSON_BLOB, Store, StoreError};

fn blob_info(d: &Descriptor) -> BlobInfo {
    BlobInfo {
        media_type: d.media_type.clone(),
        digest: d.digest.to_string(),
        size: d.size,
    }
}

/// Which form the manifest has.
pub fn format_of(manifest: &Manifest) -> ImageFormat {
    let agentskills = manifest.artifact_type.as_deref() == Some(oci::AGENTSKILLS_ARTIFACT)
        || manifest.config.media_type == oci::AGENTSKILLS_CONFIG
        || manifest
            .layers
            .iter()
            .any(|l| l.media_type == oci::AGENTSKILLS_LAYER);
    if agentskills {
        ImageFormat::Agentskills
    } else {
        ImageFormat::Skillimage
    }
}

/// Describe the image `reference` whose manifest is `descriptor`.
pub fn inspect(
    store: &Store,
    reference: &str,
    descriptor: &Descriptor,
    also_tagged: Vec<String>,
) -> Result<InspectResponse, StoreError> {
    let (manifest, len) = store.manifest(&descriptor.digest)?;
    let config: serde_json::Value =
        serde_json::from_slice(&store.read(&manifest.config.digest, MAX_JSON_BLOB)?)
            .unwrap_or_default();
    Ok(describe(
        reference,
        descriptor,
        &manifest,
        len,
        &config,
        also_tagged,
    ))
}

/// Describe an image from its parsed manifest and config.
pub fn describe(
    reference: &str,
    descriptor: &Descriptor,
    manifest: &Manifest,
    manifest_len: u64,
    config: &serde_json::Value,
    also_tagged: Vec<String>,
) -> InspectResponse {
    let a = &manifest.annotations;
    let get = |k: &str| a.get(k).cloned();
    let format = format_of(manifest);
    let name = match format {
        ImageFormat::Agentskills => config
            .get("name")
            .and_then(|n| n.as_str())
            .map(str::to_string),
        ImageFormat::Skillimage => None,
    }
    .or_else(|| {
        let repo = reference.split('@').next().unwrap_or(reference);
        let last = repo.rsplit('/').next().unwrap_or(repo);
        Some(last.split(':').next().unwrap_or(last).to_string())
    });
    let diff_ids = config
        .pointer("/rootfs/diff_ids")
        .and_then(|d| d.as_array())
        .map(|ids| {
            ids.iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    InspectResponse {
        reference: reference.to_string(),
        digest: descriptor.digest.to_string(),
        media_type: manifest
            .media_type
            .clone()
            .unwrap_or_else(|| descriptor.media_type.clone()),
        artifact_type: manifest.artifact_type.clone(),
        format,
        name,
        title: get(annotation::TITLE),
        description: get(annotation::DESCRIPTION),
        version: get(annotation::VERSION),
        status: manifest.status().and_then(Lifecycle::parse),
        created: get(annotation::CREATED),
        authors: get(annotation::AUTHORS),
        license: get(annotation::LICENSES),
        vendor: get(annotation::VENDOR),
        source: get(annotation::SOURCE),
        revision: get(annotation::REVISION),
        compatibility: get(annotation::COMPATIBILITY),
        tags: a
            .get(annotation::TAGS)
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default(),
        wordcount: a.get(annotation::WORDCOUNT).and_then(|w| w.parse().ok()),
        annotations: a.clone(),
        config: blob_info(&manifest.config),
        layers: manifest.layers.iter().map(blob_info).collect(),
        diff_ids,
        size: manifest.total_size(manifest_len),
        also_tagged,
    }
}
