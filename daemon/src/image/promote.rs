//! Promotion in the local store: one forward lifecycle step at a time.
//!
//! A new manifest is written that differs only in its status annotation (the
//! layer and config are shared); the version's tag for the new state points
//! at it: `V-testing`, then `V` (and `latest`) when published. Tags are never
//! moved backwards, and `latest` never stays on a deprecated or archived
//! version: it moves to the highest remaining published release, or goes.

use skilld_proto::images::{Lifecycle, PromoteResponse};

use super::lifecycle::{release_version, tag_for};
use super::reference::Reference;
use crate::oci::{Descriptor, annotation};
use crate::store::catalog::{Catalog, CatalogError};
use crate::store::{MAX_JSON_BLOB, StoreError};

/// Why a promotion was refused.
#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    #[error(
        "{reference} has no lifecycle status (no {} annotation); it was not built as a skill image",
        annotation::STATUS
    )]
    NoStatus { reference: String },
    #[error("{reference} has no version annotation, so its tags cannot be derived")]
    NoVersion { reference: String },
    #[error(
        "{reference} is {from}; promotion goes one step at a time ({steps}), so it cannot go to {to}"
    )]
    NotNextStep {
        reference: String,
        from: Lifecycle,
        to: Lifecycle,
        steps: String,
    },
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

fn steps(from: Lifecycle) -> String {
    match from.next() {
        Some(next) => format!("{from} → {next}"),
        None => format!("{from} is the last state"),
    }
}

/// Move the manifest JSON `value` one step to `to`: its old status and its
/// version. Every other field is kept as it was.
pub fn advance(
    value: &mut serde_json::Value,
    name: &str,
    to: Lifecycle,
) -> Result<(Lifecycle, String), PromoteError> {
    let annotations = value.get("annotations").and_then(|a| a.as_object());
    let status = annotations
        .and_then(|a| {
            a.get(annotation::STATUS)
                .or_else(|| a.get(annotation::STATUS_LEGACY))
        })
        .and_then(|s| s.as_str())
        .and_then(Lifecycle::parse)
        .ok_or_else(|| PromoteError::NoStatus {
            reference: name.to_string(),
        })?;
    let version = annotations
        .and_then(|a| a.get(annotation::VERSION))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| PromoteError::NoVersion {
            reference: name.to_string(),
        })?;
    if status.next() != Some(to) {
        return Err(PromoteError::NotNextStep {
            reference: name.to_string(),
            from: status,
            to,
            steps: steps(status),
        });
    }
    let map = value["annotations"].as_object_mut().expect("checked above");
    map.remove(annotation::STATUS_LEGACY);
    map.insert(annotation::STATUS.into(), to.as_str().into());
    Ok((status, version))
}

/// Promote the image tagged `name` (its manifest is `descriptor`) to `to`.
pub async fn promote(
    catalog: &Catalog,
    reference: &Reference,
    descriptor: &Descriptor,
    to: Lifecycle,
) -> Result<PromoteResponse, PromoteError> {
    let name = reference.to_string();
    let digest = descriptor.digest.clone();
    let bytes = catalog
        .blocking(move |store| store.read(&digest, MAX_JSON_BLOB))
        .await?;
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        CatalogError::Store(StoreError::BadManifest {
            digest: descriptor.digest.clone(),
            message: e.to_string(),
        })
    })?;
    let (status, version) = advance(&mut value, &name, to)?;
    let new_bytes = serde_json::to_vec(&value).expect("JSON value serialises");
    let new_digest = catalog
        .blocking(move |store| store.put(&new_bytes).map(|d| (d, new_bytes.len() as u64)))
        .await?;
    let new_descriptor = Descriptor {
        digest: new_digest.0.clone(),
        size: new_digest.1,
        ..descriptor.clone()
    };

    let new_ref = reference.with_tag(&tag_for(&version, to));
    let mut tags = vec![new_ref.to_string()];
    let mut untagged = Vec::new();
    catalog.tag(&new_ref.to_string(), &new_descriptor).await?;
    let latest = reference.with_tag("latest").to_string();
    match to {
        Lifecycle::Published => {
            // `latest` goes to this version only if it is the highest release.
            let current = highest_published(catalog, reference, None).await?;
            let this = release_version(&version);
            if current
                .as_ref()
                .map(|(v, _)| Some(v) <= this.as_ref())
                .unwrap_or(true)
            {
                catalog.tag(&latest, &new_descriptor).await?;
                tags.push(latest);
            }
        }
        Lifecycle::Deprecated | Lifecycle::Archived => {
            let points_here = catalog
                .get(&latest)
                .await?
                .is_some_and(|row| row.version.as_deref() == Some(version.as_str()));
            if points_here {
                match highest_published(catalog, reference, Some(&version)).await? {
                    Some((_, row_name)) => {
                        let target = catalog
                            .blocking(move |store| store.resolve(&row_name))
                            .await?;
                        if let Some(target) = target {
                            catalog.tag(&latest, &target).await?;
                            tags.push(latest);
                        }
                    }
                    None => {
                        catalog.untag(&latest).await?;
                        untagged.push(latest);
                    }
                }
            }
        }
        Lifecycle::Draft | Lifecycle::Testing => {}
    }
    Ok(PromoteResponse {
        reference: new_ref.to_string(),
        digest: new_digest.0.to_string(),
        from: status,
        to,
        tags,
        untagged,
    })
}

/// The highest published release in `reference`'s repository (other than
/// `except`): its version and tag name.
async fn highest_published(
    catalog: &Catalog,
    reference: &Reference,
    except: Option<&str>,
) -> Result<Option<(semver::Version, String)>, CatalogError> {
    let rows = catalog.in_repository(&reference.repository()).await?;
    Ok(rows
        .into_iter()
        .filter(|r| r.status.as_deref() == Some(Lifecycle::Published.as_str()))
        .filter(|r| Some(r.tag.as_str()) != except)
        .filter_map(|r| release_version(&r.tag).map(|v| (v, r.name)))
        .max_by(|a, b| a.0.cmp(&b.0)))
}
