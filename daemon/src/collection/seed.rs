//! A collection seeding a project: its skills written into the project's
//! `skills.json` (each at its tag) and `skills.lock.json` (at the digest
//! the collection names, not whatever the tag names today), in the format
//! `skillc lock` writes; entries the project already has for other skills
//! are kept. `collection install --project` then syncs the project.

use std::path::Path;

use serde_json::Map;
use skilld_proto::project::LockedSkill;
use skilld_proto::stream::Progress;

use super::CollectionError;
use super::artifact::Listing;
use super::resolve;
use crate::project::files::{Lock, Locked, LockedSource, Manifest, Wanted};
use crate::project::lock::{places, signer_of};
use crate::state::State;

/// Write `listing`'s skills into the project at `root` (see the module
/// docs); `targets` are the folders they are linked into besides
/// `.agents/skills`. What each skill was locked at.
pub async fn lock(
    state: &State,
    root: &Path,
    listing: &Listing,
    targets: &[String],
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<LockedSkill>, CollectionError> {
    for t in targets {
        crate::install::targets::find(t).map_err(|e| CollectionError::Request(e.to_string()))?;
    }
    let resolved = resolve::resolve(state.registries(), listing, progress).await?;
    let mut manifest = Manifest::load(root)?;
    let previous = Lock::load(root)?;
    let mut lock = previous.clone().unwrap_or_else(Lock::empty);
    let mut out = Vec::new();
    for r in &resolved {
        let Some(tag) = r.reference.tag.clone() else {
            return Err(CollectionError::Request(format!(
                "{}: the skill {:?} is listed by digest only ({}); a lock records its tag too: list it as REPOSITORY:TAG@DIGEST (`skillc collection push --pin` writes that)",
                listing.origin, r.name, r.written
            )));
        };
        let wanted = Wanted {
            name: r.name.clone(),
            source: r.reference.repository(),
            version: Some(tag.clone()),
            targets: targets.to_vec(),
            extra: manifest
                .find(&r.name)
                .map(|w| w.extra.clone())
                .unwrap_or_default(),
        };
        let source = LockedSource::new(
            r.reference.registry.as_deref().unwrap_or_default(),
            &r.reference.path,
            &tag,
            r.digest.as_str(),
        );
        let signer = signer_of(state, &source).await?;
        let (path, links) = places(&wanted);
        let before = lock.find(&r.name).cloned();
        let entry = Locked {
            name: r.name.clone(),
            path,
            source,
            installed_at: String::new(),
            additional_installed_paths: links,
            signer,
            dependencies: Vec::new(),
            extra: before
                .as_ref()
                .map(|l| l.extra.clone())
                .unwrap_or_else(Map::new),
        };
        out.push(LockedSkill {
            name: r.name.clone(),
            tag: tag.clone(),
            digest: r.digest.to_string(),
            reference: entry.source.reference.clone(),
            previous: before
                .as_ref()
                .map(|l| l.source.tag.clone())
                .filter(|t| *t != tag),
            changed: before.as_ref().map(|l| &l.source) != Some(&entry.source),
        });
        match lock.skills.iter_mut().find(|l| l.name == r.name) {
            Some(slot) => *slot = entry,
            None => lock.skills.push(entry),
        }
        match manifest.skills.iter_mut().find(|w| w.name == r.name) {
            Some(slot) => *slot = wanted,
            None => manifest.skills.push(wanted),
        }
    }
    // What the listed skills need is locked with them.
    let listed: Vec<Locked> = std::mem::take(&mut lock.skills)
        .into_iter()
        .filter(|l| manifest.find(&l.name).is_some())
        .collect();
    lock.skills = crate::project::depend::with_dependencies(
        state,
        listed,
        previous.as_ref(),
        &crate::project::lock::Update::None,
    )
    .await?;
    manifest.save(root)?;
    lock.save(root, previous.as_ref())?;
    Ok(out)
}
