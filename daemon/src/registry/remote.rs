//! Reading a registry without pulling: inspect (manifest and config only,
//! never the layer) and the tags of a repository with their lifecycle status.

use futures_util::StreamExt;
use skilld_proto::images::{InspectResponse, Lifecycle};
use skilld_proto::registry::RemoteTag;

use super::error::RegistryError;
use super::fetch::{MANIFEST_TYPES, fetch_manifest};
use super::pull::fetch_small_blob;
use super::transport::Endpoint;
use super::{Registries, oci_reference};
use crate::image::inspect::describe;
use crate::image::lifecycle::release_version;
use crate::image::reference::Reference;
use crate::oci::Descriptor;
use crate::store::MAX_JSON_BLOB;
use crate::store::digest::Digest;

/// How many manifests are read at once when listing tags.
const CONCURRENCY: usize = 8;

/// Inspect `reference` on its registry.
pub async fn inspect(
    registries: &Registries,
    reference: &Reference,
) -> Result<InspectResponse, RegistryError> {
    let (fetched, endpoint) = fetch_manifest(registries, reference).await?;
    let config = fetch_small_blob(
        &endpoint,
        &fetched.source,
        &fetched.manifest.config,
        MAX_JSON_BLOB,
    )
    .await?;
    let config: serde_json::Value = serde_json::from_slice(&config).unwrap_or_default();
    let descriptor = Descriptor {
        media_type: fetched.manifest.media_type.clone().unwrap_or_default(),
        digest: fetched.digest.clone(),
        size: fetched.bytes.len() as u64,
        artifact_type: fetched.manifest.artifact_type.clone(),
        annotations: Default::default(),
    };
    Ok(describe(
        &reference.to_string(),
        &descriptor,
        &fetched.manifest,
        fetched.bytes.len() as u64,
        &config,
        Vec::new(),
    ))
}

/// The digest of the manifest `reference` names now, from one HEAD
/// request (a registry that sends no `Docker-Content-Digest` is asked with
/// a GET instead); mirrors first, as for a pull.
pub async fn head_digest(
    registries: &Registries,
    reference: &Reference,
) -> Result<Digest, RegistryError> {
    let sources = registries.pull_sources(reference);
    let last = sources.len() - 1;
    let mut error = None;
    for (i, source) in sources.into_iter().enumerate() {
        let host = source.registry.clone().unwrap_or_default();
        let attempt = async {
            let endpoint = registries.endpoint(&host, &source.path).await?;
            head_one(&endpoint, &source).await
        };
        match attempt.await {
            Ok(digest) => return Ok(digest),
            Err(e) if i < last => error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(error.unwrap_or_else(|| RegistryError::Invalid {
        reference: reference.to_string(),
        message: "no source to ask".into(),
    }))
}

async fn head_one(endpoint: &Endpoint, source: &Reference) -> Result<Digest, RegistryError> {
    let name = source.to_string();
    let invalid = |message: String| RegistryError::Invalid {
        reference: name.clone(),
        message,
    };
    let header = if endpoint.open {
        let reference = match (&source.digest, &source.tag) {
            (Some(d), _) => d.to_string(),
            (None, t) => t.clone().unwrap_or_else(|| "latest".into()),
        };
        let url = format!(
            "{}://{}/v2/{}/manifests/{reference}",
            endpoint.scheme, endpoint.host, source.path
        );
        let response = endpoint
            .http
            .head(&url)
            .header(reqwest::header::ACCEPT, MANIFEST_TYPES.join(", "))
            .send()
            .await
            .map_err(|e| super::error::from_request(&endpoint.host, &e))?;
        match response.status().as_u16() {
            404 => {
                return Err(RegistryError::NotFound {
                    reference: name,
                    tags: String::new(),
                });
            }
            401 | 403 => {
                return Err(RegistryError::NeedsLogin {
                    host: endpoint.host.clone(),
                });
            }
            s if !(200..300).contains(&s) => {
                return Err(RegistryError::Other {
                    host: endpoint.host.clone(),
                    message: format!("HEAD {url} answered {}", response.status()),
                });
            }
            _ => {}
        }
        response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    } else {
        let oci_ref = oci_reference(source)?;
        Some(
            endpoint
                .client
                .fetch_manifest_digest(&oci_ref, &endpoint.auth)
                .await
                .map_err(|e| {
                    RegistryError::from_oci(
                        &endpoint.host,
                        &name,
                        e,
                        endpoint.credential_source.as_deref(),
                    )
                })?,
        )
    };
    match header {
        Some(h) => Digest::parse(&h).map_err(|e| invalid(format!("the registry's digest: {e}"))),
        None => {
            let bytes = super::fetch::get_manifest_open(endpoint, source).await?;
            Ok(Digest::of(&bytes))
        }
    }
}

/// cosign's signature, attestation and SBOM tags are not versions.
pub fn is_cosign_tag(tag: &str) -> bool {
    tag.starts_with("sha256-")
        && (tag.ends_with(".sig") || tag.ends_with(".att") || tag.ends_with(".sbom"))
}

/// Every tag of `repository` (a reference whose tag is ignored), semver
/// order first (highest last), then the others by name.
pub async fn tags(
    registries: &Registries,
    repository: &Reference,
) -> Result<Vec<RemoteTag>, RegistryError> {
    let host = repository
        .registry
        .clone()
        .ok_or_else(|| RegistryError::Invalid {
            reference: repository.to_string(),
            message: "names no registry; write HOST[:PORT]/NAME".into(),
        })?;
    let endpoint = registries.endpoint(&host, &repository.path).await?;
    let names = tag_names(registries, repository).await?;
    let endpoint = &endpoint;
    let host = &host;
    let mut tags: Vec<RemoteTag> = futures_util::stream::iter(names)
        .map(|tag| async move {
            let tag_ref =
                oci_client::Reference::with_tag(host.clone(), repository.path.clone(), tag.clone());
            let fetched = endpoint
                .client
                .pull_manifest_raw(&tag_ref, &endpoint.auth, super::fetch::MANIFEST_TYPES)
                .await
                .ok()
                .map(|(bytes, _)| bytes);
            let manifest: Option<crate::oci::Manifest> = fetched
                .as_ref()
                .and_then(|b| serde_json::from_slice(b).ok());
            let status = manifest
                .as_ref()
                .and_then(|m| m.status())
                .and_then(Lifecycle::parse);
            let version = manifest
                .as_ref()
                .and_then(|m| m.annotations.get(crate::oci::annotation::VERSION).cloned());
            let published = release_version(&tag).is_some()
                && matches!(status, None | Some(Lifecycle::Published));
            RemoteTag {
                digest: fetched.map(|b| crate::store::digest::Digest::of(&b).to_string()),
                tag,
                version,
                status,
                published,
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    sort_tags(&mut tags);
    Ok(tags)
}

/// Semver order first (highest last), then the other tags by name.
pub fn sort_tags(tags: &mut [RemoteTag]) {
    tags.sort_by(|a, b| {
        match (
            semver::Version::parse(&a.tag),
            semver::Version::parse(&b.tag),
        ) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            (Ok(_), Err(_)) => std::cmp::Ordering::Less,
            (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
            (Err(_), Err(_)) => a.tag.cmp(&b.tag),
        }
    });
}

/// A not-found error enriched with the tags the repository does have.
pub async fn explain_not_found(
    registries: &Registries,
    reference: &Reference,
    error: RegistryError,
) -> RegistryError {
    let RegistryError::NotFound {
        reference: name, ..
    } = error
    else {
        return error;
    };
    let tags = match tags(registries, reference).await {
        Ok(list) if !list.is_empty() => format!(
            "; {} has tags: {}",
            reference.repository(),
            list.iter()
                .map(|t| t.tag.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Ok(_) => format!("; {} has no tags", reference.repository()),
        Err(_) => String::new(),
    };
    RegistryError::NotFound {
        reference: name,
        tags,
    }
}

/// The tags of `repository` but cosign's: one tag-list request, nothing
/// else.
pub async fn tag_names(
    registries: &Registries,
    repository: &Reference,
) -> Result<Vec<String>, RegistryError> {
    Ok(all_tag_names(registries, repository)
        .await?
        .into_iter()
        .filter(|t| !is_cosign_tag(t))
        .collect())
}

/// Every tag of `repository`, cosign's signature, attestation and SBOM
/// tags among them: one tag-list request.
pub async fn all_tag_names(
    registries: &Registries,
    repository: &Reference,
) -> Result<Vec<String>, RegistryError> {
    let host = repository.registry.clone().unwrap_or_default();
    let endpoint = registries.endpoint(&host, &repository.path).await?;
    let tags = if endpoint.open {
        list_open(&endpoint, repository).await?
    } else {
        let oci_ref = oci_reference(&repository.with_tag("latest"))?;
        endpoint
            .client
            .list_tags(&oci_ref, &endpoint.auth, None, None)
            .await
            .map_err(|e| {
                RegistryError::from_oci(
                    &host,
                    &repository.repository(),
                    e,
                    endpoint.credential_source.as_deref(),
                )
            })?
            .tags
    };
    Ok(tags)
}

/// `GET /v2/<name>/tags/list` on an open registry (no auth probe).
async fn list_open(
    endpoint: &super::transport::Endpoint,
    repository: &Reference,
) -> Result<Vec<String>, RegistryError> {
    let response = super::transport::open_get(
        endpoint,
        &format!("{}/tags/list", repository.path),
        None,
        &repository.repository(),
    )
    .await?;
    #[derive(serde::Deserialize)]
    struct List {
        #[serde(default)]
        tags: Option<Vec<String>>,
    }
    let list: List = response
        .json()
        .await
        .map_err(|e| super::error::from_request(&endpoint.host, &e))?;
    Ok(list.tags.unwrap_or_default())
}
