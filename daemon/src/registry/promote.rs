//! Promotion on a registry: the same rules as in the local store (one step,
//! tags never backwards, `latest` on the highest published version), done
//! with manifests only: nothing but manifests is pulled or pushed.

use oci_client::errors::OciDistributionError;
use skilld_proto::images::{Lifecycle, PromoteResponse};

use super::error::RegistryError;
use super::fetch::MANIFEST_TYPES;
use super::transport::Endpoint;
use super::{Registries, oci_reference, remote};
use crate::image::lifecycle::{release_version, tag_for};
use crate::image::promote::{PromoteError, advance};
use crate::image::reference::Reference;
use crate::oci;
use crate::store::digest::Digest;

/// Why a remote promotion failed.
#[derive(Debug, thiserror::Error)]
pub enum RemotePromoteError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Rule(#[from] PromoteError),
}

async fn get(endpoint: &Endpoint, reference: &Reference) -> Result<bytes::Bytes, RegistryError> {
    let (bytes, _) = endpoint
        .client
        .pull_manifest_raw(&oci_reference(reference)?, &endpoint.auth, MANIFEST_TYPES)
        .await
        .map_err(|e| err(endpoint, reference, e))?;
    Ok(bytes)
}

fn err(endpoint: &Endpoint, reference: &Reference, e: OciDistributionError) -> RegistryError {
    RegistryError::from_oci(
        &endpoint.host,
        &reference.to_string(),
        e,
        endpoint.credential_source.as_deref(),
    )
}

async fn put(
    endpoint: &Endpoint,
    reference: &Reference,
    bytes: Vec<u8>,
    media_type: &str,
) -> Result<(), RegistryError> {
    let header = media_type.parse().map_err(|_| RegistryError::Invalid {
        reference: reference.to_string(),
        message: format!("manifest media type {media_type:?} is not a valid header"),
    })?;
    endpoint
        .client
        .push_manifest_raw(&oci_reference(reference)?, bytes, header)
        .await
        .map_err(|e| err(endpoint, reference, e))?;
    Ok(())
}

/// Delete the manifest `digest` (the registry removes the tags on it).
async fn delete(
    endpoint: &Endpoint,
    reference: &Reference,
    digest: &Digest,
) -> Result<(), RegistryError> {
    let url = format!(
        "{}://{}/v2/{}/manifests/{digest}",
        endpoint.scheme, endpoint.host, reference.path
    );
    let mut request = endpoint.http.delete(&url);
    if let oci_client::secrets::RegistryAuth::Basic(user, password) = &endpoint.auth {
        request = request.basic_auth(user, Some(password));
    }
    let response = request
        .send()
        .await
        .map_err(|e| super::error::from_request(&endpoint.host, &e))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(RegistryError::Other {
            host: endpoint.host.clone(),
            message: format!(
                "the registry refused to delete {digest} ({}); enable deletes on it to let `latest` go",
                response.status()
            ),
        })
    }
}

/// Promote `reference` on its registry to `to`.
pub async fn promote(
    registries: &Registries,
    reference: &Reference,
    to: Lifecycle,
) -> Result<PromoteResponse, RemotePromoteError> {
    let host = reference.registry.clone().unwrap_or_default();
    let endpoint = registries.endpoint(&host, &reference.path).await?;
    endpoint
        .client
        .auth(
            &oci_reference(reference)?,
            &endpoint.auth,
            oci_client::RegistryOperation::Push,
        )
        .await
        .map_err(|e| err(&endpoint, reference, e))?;
    let name = reference.to_string();
    let bytes = get(&endpoint, reference).await?;
    let mut value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| RegistryError::Invalid {
            reference: name.clone(),
            message: format!("the manifest is not JSON: {e}"),
        })?;
    let (from, version) = advance(&mut value, &name, to)?;
    let media_type = value
        .get("mediaType")
        .and_then(|m| m.as_str())
        .unwrap_or(oci::MANIFEST_V1)
        .to_string();
    let new_bytes = serde_json::to_vec(&value).expect("JSON value serialises");
    let new_digest = Digest::of(&new_bytes);
    let new_ref = reference.with_tag(&tag_for(&version, to));
    put(&endpoint, &new_ref, new_bytes.clone(), &media_type).await?;
    let mut tags = vec![new_ref.to_string()];
    let mut untagged = Vec::new();

    let latest = reference.with_tag("latest");
    let published_others =
        |list: &[skilld_proto::registry::RemoteTag]| -> Option<(semver::Version, String)> {
            list.iter()
                .filter(|t| t.status == Some(Lifecycle::Published) && t.tag != version)
                .filter_map(|t| release_version(&t.tag).map(|v| (v, t.tag.clone())))
                .max_by(|a, b| a.0.cmp(&b.0))
        };
    match to {
        Lifecycle::Published => {
            let list = remote::tags(registries, reference).await?;
            let this = release_version(&version);
            if published_others(&list)
                .map(|(v, _)| Some(v) <= this)
                .unwrap_or(true)
            {
                put(&endpoint, &latest, new_bytes, &media_type).await?;
                tags.push(latest.to_string());
            }
        }
        Lifecycle::Deprecated | Lifecycle::Archived => {
            let list = remote::tags(registries, reference).await?;
            let latest_entry = list.iter().find(|t| t.tag == "latest");
            if latest_entry.is_some_and(|t| t.version.as_deref() == Some(version.as_str())) {
                match published_others(&list) {
                    Some((_, tag)) => {
                        let other = reference.with_tag(&tag);
                        let other_bytes = get(&endpoint, &other).await?;
                        put(&endpoint, &latest, other_bytes.to_vec(), &media_type).await?;
                        tags.push(latest.to_string());
                    }
                    None => {
                        let digest = latest_entry
                            .and_then(|t| t.digest.as_deref())
                            .and_then(|d| Digest::parse(d).ok());
                        if let Some(digest) = digest
                            && digest != new_digest
                        {
                            delete(&endpoint, reference, &digest).await?;
                            untagged.push(latest.to_string());
                        }
                    }
                }
            }
        }
        Lifecycle::Draft | Lifecycle::Testing => {}
    }
    Ok(PromoteResponse {
        reference: new_ref.to_string(),
        digest: new_digest.to_string(),
        from,
        to,
        tags,
        untagged,
    })
}
