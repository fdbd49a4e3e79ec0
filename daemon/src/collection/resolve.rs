//! Resolving a collection's entries to exact artifacts: each reference's
//! manifest is fetched (a tag to the digest it names now; a digest checked
//! to be there), so what is installed, locked, pinned or mounted is a
//! skill the registry has. A few at once.

use futures_util::StreamExt;
use skilld_proto::stream::Progress;

use super::CollectionError;
use super::artifact::{Entry, Listing};
use crate::image::reference::Reference;
use crate::registry::fetch::fetch_manifest;
use crate::registry::{Registries, RegistryError};
use crate::store::digest::Digest;

/// Entries resolved at once.
const PARALLEL: usize = 4;

/// One entry, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub name: String,
    /// As the collection wrote it.
    pub written: String,
    /// `registry/repository[:tag]@digest`.
    pub reference: Reference,
    pub digest: Digest,
    /// The entries (by name) this skill needs (its SkillCard's
    /// `spec.dependencies`, resolved).
    pub needs: Vec<String>,
    /// Not listed by the collection: there because another entry needs it.
    pub dependency: bool,
}

impl Resolved {
    /// `registry/repository@digest`: what a pod mounts.
    pub fn by_digest(&self) -> String {
        Reference {
            tag: None,
            ..self.reference.clone()
        }
        .to_string()
    }
}

/// The reference an entry names, checked before any request.
pub fn entry_reference(listing: &Listing, entry: &Entry) -> Result<Reference, CollectionError> {
    if entry.git {
        return Err(CollectionError::Request(format!(
            "{}: the skill {:?} is a git source ({}); skilld installs images only: push the skill (skillc build and push) and list it with image:",
            listing.origin, entry.name, entry.reference
        )));
    }
    let reference = Reference::parse(&entry.reference).map_err(|e| CollectionError::Invalid {
        file: listing.origin.clone(),
        line: None,
        message: format!("the skill {:?}: {e}", entry.name),
    })?;
    if reference.registry.is_none() {
        return Err(CollectionError::Invalid {
            file: listing.origin.clone(),
            line: None,
            message: format!(
                "the skill {:?} ({}) names no registry; write REGISTRY/REPOSITORY:TAG",
                entry.name, entry.reference
            ),
        });
    }
    if let Ok(own) = Reference::parse(&listing.origin)
        && own.repository() == reference.repository()
        && ((own.tag.is_some() && own.tag == reference.tag)
            || (reference.digest.is_some() && reference.digest == listing.digest))
    {
        return Err(CollectionError::Conflict(format!(
            "{}: the skill {:?} is the collection itself ({}); a collection lists skills, not collections",
            listing.origin, entry.name, entry.reference
        )));
    }
    Ok(reference)
}

/// Resolve one skill `name`, written `written` in `origin`, to the exact
/// artifact `reference` names now.
pub async fn resolve_one(
    registries: &Registries,
    origin: &str,
    name: String,
    written: String,
    mut reference: Reference,
) -> Result<Resolved, CollectionError> {
    let (fetched, _) = fetch_manifest(registries, &reference).await.map_err(|e| match e {
        RegistryError::Collection { .. } => CollectionError::Conflict(format!(
            "{origin}: the skill {name:?} ({written}) is itself a collection; a collection lists skills, not collections"
        )),
        RegistryError::NotFound { .. } => CollectionError::NotFound(format!(
            "{origin}: the skill {name:?} ({written}) is not on its registry: {e}"
        )),
        other => other.into(),
    })?;
    let digest = fetched.index.unwrap_or(fetched.digest);
    reference.digest = Some(digest.clone());
    Ok(Resolved {
        name,
        written,
        reference,
        digest,
        needs: Vec::new(),
        dependency: false,
    })
}

/// Resolve every entry of `listing` (all or nothing), a few at once.
pub async fn resolve(
    registries: &Registries,
    listing: &Listing,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Resolved>, CollectionError> {
    let checked: Vec<(String, String, Reference)> = listing
        .entries
        .iter()
        .map(|e| {
            Ok((
                e.name.clone(),
                e.reference.clone(),
                entry_reference(listing, e)?,
            ))
        })
        .collect::<Result<_, CollectionError>>()?;
    let total = checked.len() as u64;
    let origin = listing.origin.as_str();
    let pending: Vec<_> = checked
        .into_iter()
        .map(|(name, written, reference)| resolve_one(registries, origin, name, written, reference))
        .collect();
    let mut stream = futures_util::stream::iter(pending).buffered(PARALLEL);
    let mut out = Vec::new();
    while let Some(resolved) = stream.next().await {
        let resolved = resolved?;
        progress(Progress {
            phase: "resolve".into(),
            current: out.len() as u64 + 1,
            total: Some(total),
            unit: Some("skills".into()),
            message: Some(resolved.name.clone()),
            item: None,
        });
        out.push(resolved);
    }
    Ok(out)
}
