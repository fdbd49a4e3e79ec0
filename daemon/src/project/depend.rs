//! A project's dependencies in its lock: the skills its skills need (their
//! SkillCards' `spec.dependencies`), resolved with the skills skills.json
//! lists fixed at their locked digests, and written as lock entries of
//! their own. Each entry's `dependencies` names the entries it needs; an
//! entry skills.json does not list is there only because another needs
//! it, goes into the folders of the skills that need it, and leaves the
//! lock when nothing needs it any more. A dependency locked before keeps
//! its version while that still fits (unless it is being updated).

use std::collections::{BTreeMap, BTreeSet};

use semver::Version;

use super::ProjectError;
use super::files::{Lock, Locked, LockedSource};
use super::lock::{Update, signer_of};
use crate::depend::registry::resolve_images;
use crate::install::InstallError;
use crate::install::ops;
use crate::state::State;

/// `entries` (what skills.json lists, locked) with what they need added
/// and each one's `dependencies` filled in.
pub async fn with_dependencies(
    state: &State,
    mut entries: Vec<Locked>,
    previous: Option<&Lock>,
    update: &Update,
) -> Result<Vec<Locked>, ProjectError> {
    let mut images = Vec::new();
    for entry in &entries {
        images.push(ops::resolve_image(state, &entry.source.reference, &|_| {}).await?);
    }
    // What the lock had, tried first; not for the entries being updated.
    let prefer: BTreeMap<String, Version> = previous
        .map(|p| {
            p.skills
                .iter()
                .filter(|l| !update.covers(&l.name))
                .filter_map(|l| {
                    let version = crate::image::lifecycle::release_version(&l.source.tag)?;
                    Some((l.source.repository_ref(), version))
                })
                .collect()
        })
        .unwrap_or_default();
    let found = resolve_images(state, images, prefer, Vec::new())
        .await
        .map_err(InstallError::from)?;
    let Some(found) = found else {
        return Ok(entries);
    };
    // Lock entry names by repository: the listed skills', then one per
    // dependency (its repository's last segment, its folder's name).
    let listed: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    let names = found.names(&listed).map_err(InstallError::from)?;
    for (root, entry) in found.roots.iter().zip(entries.iter_mut()) {
        entry.dependencies = found.needs_names(&root.repository, &names);
    }
    let (roots, resolved, picked) = (&found.roots, &found.resolved, &found.images);
    // Each dependency goes where the skills that need it go (links too).
    let mut links: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut frontier: Vec<(String, Vec<String>)> = roots
        .iter()
        .zip(&entries)
        .map(|(r, e)| (r.repository.clone(), link_bases(e)))
        .collect();
    let mut visited: BTreeSet<String> = BTreeSet::new();
    while let Some((repository, bases)) = frontier.pop() {
        for need in &resolved.picks[&repository].needs {
            let known = links.entry(need.clone()).or_default();
            let before = known.len();
            known.extend(bases.iter().cloned());
            if known.len() > before || visited.insert(need.clone()) {
                frontier.push((need.clone(), bases.clone()));
            }
        }
    }
    for (repository, pick) in &resolved.picks {
        if found.is_root(repository) {
            continue;
        }
        let image = picked.get(repository).ok_or_else(|| {
            InstallError::internal(format!("{repository} was resolved but not fetched"))
        })?;
        let registry = image.reference.registry.clone().unwrap_or_default();
        let digest = image
            .index
            .clone()
            .unwrap_or(image.descriptor.digest.clone());
        let source =
            LockedSource::new(&registry, &image.reference.path, &pick.tag, digest.as_str());
        let signer = signer_of(state, &source).await?;
        let name = names[repository].clone();
        let extra = previous
            .and_then(|p| p.find(&name))
            .map(|l| l.extra.clone())
            .unwrap_or_default();
        entries.push(Locked {
            path: format!(".agents/skills/{name}"),
            additional_installed_paths: links
                .get(repository)
                .map(|bases| bases.iter().map(|b| format!("{b}/{name}")).collect())
                .unwrap_or_default(),
            name,
            source,
            installed_at: String::new(),
            signer,
            dependencies: found.needs_names(repository, &names),
            extra,
        });
    }
    Ok(entries)
}

/// The folders (relative to the project) an entry is linked into besides
/// `.agents/skills`: each additional path without its last segment.
fn link_bases(entry: &Locked) -> Vec<String> {
    entry
        .additional_installed_paths
        .iter()
        .filter_map(|p| p.rsplit_once('/').map(|(base, _)| base.to_string()))
        .collect()
}
