//! A collection's skills with what they need: each entry's SkillCard
//! `spec.dependencies` resolved (the listed skills fixed at the digests the
//! collection names, one version per skill for the whole collection), and
//! each dependency added as an entry of its own, installed and followed
//! with the others. A dependency leaves with the last entry that needs it.

use std::collections::BTreeMap;

use super::CollectionError;
use super::resolve::Resolved;
use crate::depend::registry::resolve_images;
use crate::image::reference::Reference;
use crate::install::{InstallError, ops};
use crate::state::State;

/// `resolved` with each entry's `needs` filled in and what they need
/// added (marked `dependency`).
pub async fn with_dependencies(
    state: &State,
    resolved: &[Resolved],
) -> Result<Vec<Resolved>, CollectionError> {
    let mut images = Vec::new();
    for r in resolved {
        let image = ops::resolve_image(state, &r.reference.to_string(), &|_| {}).await?;
        // Nothing of an image the trust policy refuses is read.
        image.verdict(state).await.map_err(InstallError::from)?;
        images.push(image);
    }
    let found = resolve_images(state, images, BTreeMap::new(), Vec::new())
        .await
        .map_err(InstallError::from)?;
    let Some(found) = found else {
        return Ok(resolved.to_vec());
    };
    let listed: Vec<String> = resolved.iter().map(|r| r.name.clone()).collect();
    let names = found.names(&listed).map_err(InstallError::from)?;
    let mut out: Vec<Resolved> = found
        .roots
        .iter()
        .zip(resolved)
        .map(|(root, r)| Resolved {
            needs: found.needs_names(&root.repository, &names),
            ..r.clone()
        })
        .collect();
    let graph = &found.resolved;
    for (repository, pick) in &graph.picks {
        if found.is_root(repository) {
            continue;
        }
        let image = found.images.get(repository).ok_or_else(|| {
            InstallError::internal(format!("{repository} was resolved but not fetched"))
        })?;
        let digest = image
            .index
            .clone()
            .unwrap_or(image.descriptor.digest.clone());
        let reference = Reference {
            tag: Some(pick.tag.clone()),
            digest: Some(digest.clone()),
            ..image.reference.clone()
        };
        let needed_by: Vec<&str> = graph
            .needed_by(repository)
            .into_iter()
            .filter_map(|r| names.get(r).map(String::as_str))
            .collect();
        out.push(Resolved {
            name: names[repository].clone(),
            written: format!(
                "{repository}:{} (needed by {})",
                pick.tag,
                needed_by.join(", ")
            ),
            reference,
            digest,
            needs: found.needs_names(repository, &names),
            dependency: true,
        });
    }
    Ok(out)
}
