//! Fetching a manifest from a registry: the first source that has it
//! (mirrors, then the registry itself), capped in size, its digest checked
//! against a pinned one, and refused unless it is one of the two skill forms
//! (a skillctl collection is refused with the skills it lists).

use bytes::Bytes;
use futures_util::StreamExt;

use super::error::RegistryError;
use super::transport::Endpoint;
use super::{Registries, oci_reference};
use crate::collection::artifact::SKILLCTL_TYPE as COLLECTION_TYPE;
use crate::collection::format::{self as collection, MAX_COLLECTION};
use crate::image::reference::Reference;
use crate::oci::{self, Descriptor, Manifest};
use crate::store::MAX_JSON_BLOB;
use crate::store::digest::Digest;

/// Manifest media types asked for. Index types are asked for too, though
/// not installed: without them a registry answers 404 for an index, and
/// the user would read "not found" for a tag that is there.
pub const MANIFEST_TYPES: &[&str] = &[
    oci::MANIFEST_V1,
    oci::DOCKER_MANIFEST_V2,
    oci::INDEX_V1,
    DOCKER_MANIFEST_LIST,
];
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Layer media types of the two skill forms.
pub const LAYER_TYPES: &[&str] = &[
    oci::LAYER_TAR_GZIP,
    oci::REDHAT_LAYER,
    oci::AGENTSKILLS_LAYER,
    DOCKER_LAYER,
];

/// A manifest fetched from a registry.
pub struct Fetched {
    /// The source it came from (a mirror or the registry itself).
    pub source: Reference,
    pub bytes: Bytes,
    pub digest: Digest,
    pub manifest: Manifest,
    /// When the reference named an image index (a multi-platform list, or
    /// `docker buildx` output with attestations): the index's digest; the
    /// rest of this describes the platform manifest chosen from it.
    pub index: Option<Digest>,
}

fn host_of(r: &Reference) -> String {
    r.registry.clone().unwrap_or_default()
}

/// Fetch and check the manifest of `reference`; the endpoint that had it.
pub async fn fetch_manifest(
    registries: &Registries,
    reference: &Reference,
) -> Result<(Fetched, Endpoint), RegistryError> {
    let (bytes, source, endpoint) = fetch_raw(registries, reference).await?;
    let fetched = match parse_manifest(reference, &source, bytes)? {
        Parsed::Manifest(fetched) => *fetched,
        Parsed::Index { index, .. }
            if index.artifact_type.as_deref() == Some(AGENTSKILLS_COLLECTION) =>
        {
            return Err(RegistryError::Collection {
                reference: reference.to_string(),
                summary: index.summary(8),
            });
        }
        Parsed::Index { digest, index } => {
            from_index(reference, &source, &endpoint, digest, &index).await?
        }
    };
    if let Some(layer) = collection_layer(&fetched.manifest) {
        return Err(describe_collection(reference, &source, &endpoint, layer).await);
    }
    check_form(&reference.to_string(), &fetched.manifest)?;
    Ok((fetched, endpoint))
}

/// The manifest bytes `reference` names, from the first source that has
/// them (mirrors, then the registry), with the source and its endpoint;
/// capped, and checked against a pinned digest. Whatever the bytes are.
pub async fn fetch_raw(
    registries: &Registries,
    reference: &Reference,
) -> Result<(Bytes, Reference, Endpoint), RegistryError> {
    let sources = registries.pull_sources(reference);
    let last = sources.len() - 1;
    let mut error = None;
    for (i, source) in sources.into_iter().enumerate() {
        let host = host_of(&source);
        let attempt = async {
            let endpoint = registries.endpoint(&host, &source.path).await?;
            let bytes = manifest_bytes(&endpoint, &source).await?;
            Ok::<_, RegistryError>((bytes, endpoint))
        };
        match attempt.await {
            Ok((bytes, endpoint)) => {
                check_bytes(reference, &source, &bytes)?;
                return Ok((bytes, source, endpoint));
            }
            Err(e) if i < last => {
                tracing::info!(mirror = %host, error = %e, "mirror failed; trying the next source");
                error = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(error.unwrap_or_else(|| RegistryError::Invalid {
        reference: reference.to_string(),
        message: "no source to pull from".into(),
    }))
}

/// GET a manifest from an open registry: one request, no auth probe.
pub async fn get_manifest_open(
    endpoint: &Endpoint,
    source: &Reference,
) -> Result<Bytes, RegistryError> {
    let reference = match (&source.digest, &source.tag) {
        (Some(d), _) => d.to_string(),
        (None, t) => t.clone().unwrap_or_else(|| "latest".into()),
    };
    let accept = MANIFEST_TYPES.join(", ");
    let response = super::transport::open_get(
        endpoint,
        &format!("{}/manifests/{reference}", source.path),
        Some(&accept),
        &source.to_string(),
    )
    .await?;
    if response.content_length().is_some_and(|n| n > MAX_JSON_BLOB) {
        return Err(RegistryError::Invalid {
            reference: source.to_string(),
            message: format!("the manifest is over the {MAX_JSON_BLOB} bytes allowed; refused"),
        });
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| super::error::from_request(&endpoint.host, &e))?;
        body.extend_from_slice(&chunk);
        if body.len() as u64 > MAX_JSON_BLOB {
            return Err(RegistryError::Invalid {
                reference: source.to_string(),
                message: format!("the manifest is over the {MAX_JSON_BLOB} bytes allowed; refused"),
            });
        }
    }
    Ok(Bytes::from(body))
}

/// The manifest bytes of `source` (a tag or a digest) from `endpoint`.
async fn manifest_bytes(endpoint: &Endpoint, source: &Reference) -> Result<Bytes, RegistryError> {
    if endpoint.open {
        return get_manifest_open(endpoint, source).await;
    }
    let oci_ref = oci_reference(source)?;
    let (bytes, _) = endpoint
        .client
        .pull_manifest_raw(&oci_ref, &endpoint.auth, MANIFEST_TYPES)
        .await
        .map_err(|e| {
            RegistryError::from_oci(
                &endpoint.host,
                &source.to_string(),
                e,
                endpoint.credential_source.as_deref(),
            )
        })?;
    Ok(bytes)
}

/// What manifest bytes turned out to be.
enum Parsed {
    Manifest(Box<Fetched>),
    Index { digest: Digest, index: Index },
}

/// An image index (OCI, or Docker's manifest list): only what choosing a
/// child needs.
#[derive(Debug, serde::Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<IndexChild>,
    #[serde(rename = "artifactType", default)]
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

/// The artifactType of an Agent Skills collection (an image index).
pub const AGENTSKILLS_COLLECTION: &str = "application/vnd.agentskills.collection.v1";

impl Index {
    /// What an Agent Skills collection lists, for a refusal.
    fn summary(&self, shown: usize) -> String {
        let name = self
            .annotations
            .get("io.agentskills.collection.name")
            .map(String::as_str)
            .unwrap_or("");
        let mut skills: Vec<String> = self
            .manifests
            .iter()
            .take(shown)
            .map(|c| {
                c.annotations
                    .get("io.agentskills.skill.name")
                    .cloned()
                    .unwrap_or_else(|| c.digest.to_string())
            })
            .collect();
        if self.manifests.len() > shown {
            skills.push(format!("and {} more", self.manifests.len() - shown));
        }
        format!(
            "{name:?} lists {} skill(s): {}",
            self.manifests.len(),
            skills.join(", ")
        )
    }
}

#[derive(Debug, serde::Deserialize)]
struct IndexChild {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: Digest,
    size: u64,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, serde::Deserialize)]
struct Platform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl IndexChild {
    /// `os/arch[/variant]`, or `unknown`.
    fn platform(&self) -> String {
        match &self.platform {
            Some(p) => match &p.variant {
                Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                None => format!("{}/{}", p.os, p.architecture),
            },
            None => "unknown".into(),
        }
    }

    /// A `docker buildx` attestation (provenance, SBOM), not an image.
    fn is_attestation(&self) -> bool {
        self.annotations
            .get("vnd.docker.reference.type")
            .is_some_and(|t| t == "attestation-manifest")
            || self
                .platform
                .as_ref()
                .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
    }
}

/// The child a skill installs from: linux/amd64, else the only child that
/// is not an attestation, else none (the error names the platforms).
fn choose_child<'a>(name: &str, index: &'a Index) -> Result<&'a IndexChild, RegistryError> {
    let images: Vec<&IndexChild> = index
        .manifests
        .iter()
        .filter(|c| !c.is_attestation())
        .collect();
    let amd64 = images.iter().find(|c| {
        c.platform
            .as_ref()
            .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
    });
    match (amd64, images.as_slice()) {
        (Some(child), _) | (None, [child]) => Ok(child),
        (None, []) => Err(RegistryError::Unsupported {
            reference: name.to_string(),
            found: format!(
                "an image index of {} manifest(s), none of them an image (only attestations, or empty)",
                index.manifests.len()
            ),
        }),
        (None, many) => Err(RegistryError::Unsupported {
            reference: name.to_string(),
            found: format!(
                "an image index for {} and no linux/amd64 manifest to choose (a skill is the same on every platform: push it as one manifest, or add a linux/amd64 one)",
                many.iter()
                    .map(|c| c.platform())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// The platform manifest an index names for a skill, fetched from the
/// same endpoint by its digest and checked against it.
async fn from_index(
    reference: &Reference,
    source: &Reference,
    endpoint: &Endpoint,
    index_digest: Digest,
    index: &Index,
) -> Result<Fetched, RegistryError> {
    let name = reference.to_string();
    let child = choose_child(&name, index)?;
    let is_manifest = [oci::MANIFEST_V1, oci::DOCKER_MANIFEST_V2]
        .contains(&child.media_type.as_str())
        || child.media_type.is_empty();
    if !is_manifest {
        return Err(RegistryError::Unsupported {
            reference: name,
            found: format!(
                "an image index whose {} entry is a {} (an index within an index)",
                child.platform(),
                child.media_type
            ),
        });
    }
    if child.size > MAX_JSON_BLOB {
        return Err(RegistryError::Invalid {
            reference: name,
            message: format!(
                "the index names a manifest of {} bytes, over the {MAX_JSON_BLOB} allowed; refused",
                child.size
            ),
        });
    }
    let mut pinned = source.clone();
    pinned.tag = None;
    pinned.digest = Some(child.digest.clone());
    let bytes = manifest_bytes(endpoint, &pinned).await?;
    if bytes.len() as u64 != child.size {
        return Err(RegistryError::Invalid {
            reference: name,
            message: format!(
                "the image index says its {} manifest {} is {} bytes, but the registry sent {}; refused, nothing stored",
                child.platform(),
                child.digest,
                child.size,
                bytes.len()
            ),
        });
    }
    match parse_manifest(&pinned, &pinned, bytes)? {
        Parsed::Manifest(mut fetched) => {
            fetched.source = source.clone();
            fetched.index = Some(index_digest);
            Ok(*fetched)
        }
        Parsed::Index { .. } => Err(RegistryError::Unsupported {
            reference: name,
            found: "an image index within an image index".into(),
        }),
    }
}

/// The YAML layer of a skillctl collection artifact, if `manifest` is one.
fn collection_layer(manifest: &Manifest) -> Option<&Descriptor> {
    let layer = manifest.layers.first()?;
    let marked = manifest.artifact_type.as_deref() == Some(COLLECTION_TYPE)
        || layer.media_type == COLLECTION_TYPE;
    (marked && manifest.layers.len() == 1).then_some(layer)
}

/// The refusal of a collection, with what it lists (read from its small
/// YAML layer; if that cannot be read, the refusal says so instead).
async fn describe_collection(
    reference: &Reference,
    source: &Reference,
    endpoint: &Endpoint,
    layer: &Descriptor,
) -> RegistryError {
    let summary = match super::pull::fetch_small_blob(endpoint, source, layer, MAX_COLLECTION).await
    {
        Ok(yaml) => match collection::parse(&yaml, &reference.to_string()) {
            Ok(c) => c.summary(8),
            Err(e) => format!("its YAML cannot be read ({e})"),
        },
        Err(e) => format!("its list cannot be fetched ({e})"),
    };
    RegistryError::Collection {
        reference: reference.to_string(),
        summary,
    }
}

/// The size cap and pinned digest of fetched manifest bytes, and that
/// they are not an HTML page; their digest.
fn check_bytes(
    reference: &Reference,
    source: &Reference,
    bytes: &[u8],
) -> Result<Digest, RegistryError> {
    let name = reference.to_string();
    if bytes.len() as u64 > MAX_JSON_BLOB {
        return Err(RegistryError::Invalid {
            reference: name,
            message: format!(
                "the manifest is {} bytes, over the {MAX_JSON_BLOB} allowed; refused",
                bytes.len()
            ),
        });
    }
    let digest = Digest::of(bytes);
    if let Some(expected) = &reference.digest
        && *expected != digest
    {
        return Err(RegistryError::DigestMismatch {
            reference: name,
            expected: expected.to_string(),
            actual: digest.to_string(),
        });
    }
    if looks_like_html(bytes) {
        return Err(RegistryError::Invalid {
            reference: name,
            message: format!(
                "{} answered with an HTML page, not a registry's JSON (a proxy or a login page in the way?); check the registry's address and any proxy settings",
                source.registry.as_deref().unwrap_or("the registry")
            ),
        });
    }
    Ok(digest)
}

/// Size cap, digest and JSON shape of fetched manifest bytes (which skill
/// form it is, if any, is checked by the caller: see [`check_form`]).
fn parse_manifest(
    reference: &Reference,
    source: &Reference,
    bytes: Bytes,
) -> Result<Parsed, RegistryError> {
    let name = reference.to_string();
    let digest = check_bytes(reference, source, &bytes)?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| RegistryError::Invalid {
            reference: name.clone(),
            message: format!("the manifest is not JSON: {e}"),
        })?;
    if value.get("manifests").is_some() {
        let index: Index = serde_json::from_value(value).map_err(|e| RegistryError::Invalid {
            reference: name.clone(),
            message: format!("the image index is not valid: {e}"),
        })?;
        return Ok(Parsed::Index { digest, index });
    }
    let manifest: Manifest = serde_json::from_value(value).map_err(|e| RegistryError::Invalid {
        reference: name.clone(),
        message: format!("the manifest is not an OCI image manifest: {e}"),
    })?;
    Ok(Parsed::Manifest(Box::new(Fetched {
        source: source.clone(),
        bytes,
        digest,
        manifest,
        index: None,
    })))
}

/// Whether `bytes` start like an HTML document (after white space).
fn looks_like_html(bytes: &[u8]) -> bool {
    let start: Vec<u8> = bytes
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(15)
        .map(u8::to_ascii_lowercase)
        .collect();
    start.starts_with(b"<!doctype html")
        || start.starts_with(b"<html")
        || start.starts_with(b"<head")
}

/// Media types with their counts, at most four kinds named: a hostile
/// manifest of a thousand layers must not make a message of 45 KB.
fn summarise(types: &[&str]) -> String {
    const SHOWN: usize = 4;
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for t in types {
        match counted.iter_mut().find(|(seen, _)| seen == t) {
            Some((_, n)) => *n += 1,
            None => counted.push((t, 1)),
        }
    }
    let shown: Vec<String> = counted
        .iter()
        .take(SHOWN)
        .map(|(t, n)| {
            // A media type is at most 255 characters by the spec.
            let t: String = t.chars().take(255).collect();
            if *n == 1 { t } else { format!("{n} × {t}") }
        })
        .collect();
    let mut out = shown.join(", ");
    if counted.len() > SHOWN {
        out.push_str(&format!(" and {} other type(s)", counted.len() - SHOWN));
    }
    out
}

/// Refuse anything that is not a skill image: one layer of a skill form,
/// or several tar layers (gzip, zstd or none: a plain `podman build`
/// image), applied in order.
pub fn check_form(name: &str, manifest: &Manifest) -> Result<(), RegistryError> {
    let layer_types: Vec<&str> = manifest
        .layers
        .iter()
        .map(|l| l.media_type.as_str())
        .collect();
    let agentskills = layer_types.contains(&oci::AGENTSKILLS_LAYER);
    if manifest.layers.len() == 1 && LAYER_TYPES.contains(&layer_types[0]) {
        return Ok(());
    }
    if manifest.layers.len() > 1
        && !agentskills
        && manifest.layers.len() <= MAX_LAYERS
        && layer_types
            .iter()
            .all(|t| crate::image::unpack::Compression::of(t).is_some())
    {
        return Ok(());
    }
    if manifest.layers.len() == 1 && crate::image::unpack::Compression::of(layer_types[0]).is_some()
    {
        return Ok(());
    }
    let mut found = format!("config {}", manifest.config.media_type);
    if let Some(a) = &manifest.artifact_type {
        found.push_str(&format!(", artifactType {a}"));
    }
    found.push_str(&format!(
        ", {} layer(s): {}",
        layer_types.len(),
        summarise(&layer_types)
    ));
    Err(RegistryError::Unsupported {
        reference: name.to_string(),
        found,
    })
}

/// The most layers an image may have (a Containerfile's COPY steps).
pub const MAX_LAYERS: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_types_are_summarised() {
        let many = vec!["application/x"; 1000];
        assert_eq!(summarise(&many), "1000 × application/x");
        let varied: Vec<String> = (0..1000).map(|i| format!("type/{i}")).collect();
        let refs: Vec<&str> = varied.iter().map(String::as_str).collect();
        let out = summarise(&refs);
        assert!(out.len() < 200, "{out}");
        assert!(out.ends_with("and 996 other type(s)"), "{out}");
    }
}
