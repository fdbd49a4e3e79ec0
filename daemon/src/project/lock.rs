//! Resolving a project's `skills.json` into its `skills.lock.json`: each
//! requirement to a tag and the digest it names now (one tag list per
//! repository, the manifests of the candidates only, a few repositories at
//! once). An entry the lock already satisfies is kept as it is, unless it
//! is being updated; the lock is written only when something changed.

use std::path::Path;

use futures_util::StreamExt;
use serde_json::Map;

use super::ProjectError;
use super::files::{Lock, Locked, LockedSource, MANIFEST, Manifest, Wanted};
use super::requirement::Requirement;
use crate::image::reference::Reference;
use crate::registry::fetch::fetch_manifest;
use crate::state::State;
use crate::upgrade::versions::Versions;

/// Repositories resolved at once.
const PARALLEL: usize = 4;

/// What a lock did.
#[derive(Debug)]
pub struct Locking {
    pub lock: Lock,
    /// Whether the file was written (false: it already said this).
    pub written: bool,
    /// Per skill: the tag it had in the lock before, if any.
    pub previous: Vec<(String, Option<String>)>,
}

/// Which entries `lock` resolves again even when the lock satisfies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    None,
    All,
    Only(Vec<String>),
}

impl Update {
    /// Whether the entry `name` is being updated.
    pub fn covers(&self, name: &str) -> bool {
        match self {
            Update::None => false,
            Update::All => true,
            Update::Only(names) => names.iter().any(|n| n == name),
        }
    }
}

/// Where a wanted skill goes in the project: its folder (the copy) and
/// the folders it is linked into, relative to the root.
pub fn places(wanted: &Wanted) -> (String, Vec<String>) {
    let path = format!(".agents/skills/{}", wanted.name);
    let links = Manifest::link_bases(wanted)
        .into_iter()
        .map(|base| format!("{base}/{}", wanted.name))
        .collect();
    (path, links)
}

/// Resolve `wanted` to the exact artifact its requirement names now.
pub async fn resolve(state: &State, wanted: &Wanted) -> Result<LockedSource, ProjectError> {
    let requirement = Requirement::parse(wanted.version.as_deref());
    let repository = Reference::parse(&format!("{}:latest", wanted.source))
        .map_err(|e| ProjectError::Request(e.to_string()))?;
    let registry = repository.registry.clone().unwrap_or_default();
    let tag = match &requirement {
        Requirement::Tag(tag) => tag.clone(),
        // A pinned version is that tag, whatever its status.
        Requirement::Exact(v) => v.to_string(),
        Requirement::Newest | Requirement::Range(_) => {
            let mut versions = Versions::list(state, &wanted.source).await?;
            let found = versions.newest(state, |v| requirement.accepts(v)).await;
            // What other tools wrote is a tag: `1` may name one.
            if found.is_none()
                && let Some(tag) = wanted.version.as_deref().map(str::trim)
                && let Ok((fetched, _)) =
                    fetch_manifest(state.registries(), &repository.with_tag(tag)).await
            {
                let digest = fetched.index.unwrap_or(fetched.digest);
                return Ok(LockedSource::new(
                    &registry,
                    &repository.path,
                    tag,
                    digest.as_str(),
                ));
            }
            let Some((_, tag)) = found else {
                let known: Vec<String> = versions.list.iter().map(|(v, _)| v.to_string()).collect();
                return Err(ProjectError::NotFound(format!(
                    "no published version of {} matches {requirement} (release tags: {}); change \"version\" of {:?} in skills.json",
                    wanted.source,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    },
                    wanted.name
                )));
            };
            if let Some((fetched, _)) = versions.take_fetched(&tag) {
                let digest = fetched.index.unwrap_or(fetched.digest);
                return Ok(LockedSource::new(
                    &registry,
                    &repository.path,
                    &tag,
                    digest.as_str(),
                ));
            }
            tag
        }
    };
    let (fetched, _) = fetch_manifest(state.registries(), &repository.with_tag(&tag)).await?;
    let digest = fetched.index.unwrap_or(fetched.digest);
    Ok(LockedSource::new(
        &registry,
        &repository.path,
        &tag,
        digest.as_str(),
    ))
}

/// Resolve the project at `root` and write its lock (see the module docs).
pub async fn lock(state: &State, root: &Path, update: &Update) -> Result<Locking, ProjectError> {
    let manifest = Manifest::load(root)?;
    if manifest.skills.is_empty() && !root.join(MANIFEST).exists() {
        return Err(ProjectError::NotFound(format!(
            "{} has no skills.json; add a skill with `skillc add REF` in that folder",
            root.display()
        )));
    }
    let previous = Lock::load(root)?;
    // A dependency's entry may be updated by name too.
    let known = |n: &String| {
        manifest.find(n).is_some() || previous.as_ref().is_some_and(|p| p.find(n).is_some())
    };
    if let Update::Only(names) = update
        && let Some(unknown) = names.iter().find(|n| !known(n))
    {
        return Err(ProjectError::Request(format!(
            "{unknown:?} is not in skills.json; names there: {}",
            manifest
                .skills
                .iter()
                .map(|w| w.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // The futures are made first: a closure in the stream would not be Send.
    let pending: Vec<_> = manifest
        .skills
        .iter()
        .map(|wanted| entry(state, wanted, previous.as_ref(), update))
        .collect();
    let entries: Vec<Result<Locked, ProjectError>> = futures_util::stream::iter(pending)
        .buffered(PARALLEL)
        .collect()
        .await;
    let mut lock = Lock {
        skills: Vec::new(),
        ..previous.clone().unwrap_or_else(Lock::empty)
    };
    let mut listed = Vec::new();
    for e in entries {
        listed.push(e?);
    }
    lock.skills =
        super::depend::with_dependencies(state, listed, previous.as_ref(), update).await?;
    let before: Vec<(String, Option<String>)> = lock
        .skills
        .iter()
        .map(|l| {
            let old = previous
                .as_ref()
                .and_then(|p| p.find(&l.name))
                .map(|p| p.source.tag.clone());
            (l.name.clone(), old)
        })
        .collect();
    let written = lock.clone().save(root, previous.as_ref())?;
    let lock = Lock::load(root)?.unwrap_or(lock);
    Ok(Locking {
        lock,
        written,
        previous: before,
    })
}

/// The lock entry of `wanted`: the previous one when it still satisfies
/// the requirement and is not being updated, else resolved now.
async fn entry(
    state: &State,
    wanted: &Wanted,
    previous: Option<&Lock>,
    update: &Update,
) -> Result<Locked, ProjectError> {
    let (path, links) = places(wanted);
    let requirement = Requirement::parse(wanted.version.as_deref());
    let kept = previous.and_then(|p| p.find(&wanted.name)).filter(|l| {
        !update.covers(&wanted.name)
            && l.source.repository_ref() == wanted.source
            && satisfies(wanted, &requirement, &l.source.tag)
    });
    let (source, signer, extra) = match kept {
        Some(l) => (l.source.clone(), l.signer.clone(), l.extra.clone()),
        None => {
            let source = resolve(state, wanted).await?;
            let signer = signer_of(state, &source).await?;
            (source, signer, Map::new())
        }
    };
    Ok(Locked {
        name: wanted.name.clone(),
        path,
        source,
        installed_at: String::new(),
        additional_installed_paths: links,
        signer,
        dependencies: Vec::new(),
        extra,
    })
}

/// The key whose signature verifies `source` under the trust policy (a
/// `signed` rule), recorded so a sync can insist on it; none under an
/// `accept` rule. A refusal stops the lock: an untrusted skill is never
/// locked.
pub(crate) async fn signer_of(
    state: &State,
    source: &LockedSource,
) -> Result<Option<String>, ProjectError> {
    let reference =
        Reference::parse(&source.reference).map_err(|e| ProjectError::Request(e.to_string()))?;
    let digest = crate::store::digest::Digest::parse(&source.digest)
        .map_err(|e| ProjectError::Request(e.to_string()))?;
    let verdict = crate::trust::enforce::check(state, &reference, &digest, None)
        .await
        .map_err(crate::install::InstallError::from)?;
    Ok(verdict.signer)
}

/// Whether a lock's `tag` satisfies `wanted`: its requirement allows it, or
/// `version` names that very tag (as arconia-cli and skills-oci read it).
fn satisfies(wanted: &Wanted, requirement: &Requirement, tag: &str) -> bool {
    wanted.version.as_deref().map(str::trim) == Some(tag) || requirement.satisfied_by(tag)
}

/// Why `manifest` and `lock` disagree, if they do: a wanted skill not
/// locked, locked from another repository, at a version its requirement no
/// longer allows, or into other folders; or a locked skill not wanted.
pub fn disagreement(manifest: &Manifest, lock: &Lock) -> Option<String> {
    for wanted in &manifest.skills {
        let Some(locked) = lock.find(&wanted.name) else {
            return Some(format!(
                "{:?} is in skills.json but not locked",
                wanted.name
            ));
        };
        if locked.source.repository_ref() != wanted.source {
            return Some(format!(
                "{:?} is wanted from {} but locked from {}",
                wanted.name,
                wanted.source,
                locked.source.repository_ref()
            ));
        }
        let requirement = Requirement::parse(wanted.version.as_deref());
        if !satisfies(wanted, &requirement, &locked.source.tag) {
            return Some(format!(
                "{:?} wants {requirement} but is locked at {}",
                wanted.name, locked.source.tag
            ));
        }
        let (path, links) = places(wanted);
        if locked.path != path || locked.additional_installed_paths != links {
            return Some(format!(
                "{:?} is locked into other folders than skills.json names",
                wanted.name
            ));
        }
    }
    // An entry skills.json does not list is there because another needs it.
    lock.skills
        .iter()
        .find(|l| {
            manifest.find(&l.name).is_none()
                && !lock.skills.iter().any(|o| o.dependencies.contains(&l.name))
        })
        .map(|l| format!("{:?} is locked but not in skills.json", l.name))
}
