//! `skillc add REF[@REQ]…`: add skills to a project's `skills.json`
//! (creating it), lock them, and sync the project.
//!
//! A reference is a repository with its registry, and optionally a tag
//! (`quay.io/acme/tone:1.2.0`, kept as the version) or a requirement after
//! `@` (`quay.io/acme/tone@^1.2`). The skill's name in the files is the
//! repository's last part (as arconia-cli and skills-oci name it).

use std::path::Path;

use skilld_proto::stream::Progress;

use super::ProjectError;
use super::files::{Manifest, Wanted};
use super::lock::{self, Update};
use super::sync::{self, Options, Synced};
use crate::image::reference::Reference;
use crate::state::State;

/// `(name, repository, version)` of one `add` argument.
pub fn parse(input: &str) -> Result<(String, String, Option<String>), ProjectError> {
    let bad = |why: &str| {
        ProjectError::Request(format!(
            "{input:?}: {why}; write REGISTRY/REPOSITORY[:TAG] or REGISTRY/REPOSITORY@REQUIREMENT (e.g. quay.io/acme/tone@^1.2)"
        ))
    };
    let (reference, requirement) = match input.rsplit_once('@') {
        Some((_, digest)) if digest.starts_with("sha256:") => {
            return Err(bad(
                "skills.json names versions, not digests (the lock keeps the digest)",
            ));
        }
        Some((r, req)) => (r, Some(req.to_string())),
        None => (input, None),
    };
    let parsed = Reference::parse(reference).map_err(|e| bad(&e.to_string()))?;
    if parsed.registry.is_none() {
        return Err(bad("it names no registry"));
    }
    let tagged = reference
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'));
    let version = match (requirement, tagged) {
        (Some(_), true) => return Err(bad("give a tag or a requirement, not both")),
        (Some(req), false) => Some(req),
        (None, true) => parsed.tag.clone(),
        (None, false) => None,
    };
    Ok((parsed.name().to_string(), parsed.repository(), version))
}

/// Add `inputs` to the project at `root`, lock and sync it.
pub async fn add(
    state: &State,
    root: &Path,
    inputs: &[String],
    targets: &[String],
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Synced, ProjectError> {
    if inputs.is_empty() {
        return Err(ProjectError::Request(
            "name the skills to add: skillc add REGISTRY/REPOSITORY[:TAG]…".into(),
        ));
    }
    for t in targets {
        crate::install::targets::find(t).map_err(|e| ProjectError::Request(e.to_string()))?;
    }
    let mut manifest = Manifest::load(root)?;
    let mut names = Vec::new();
    for input in inputs {
        let (name, source, version) = parse(input)?;
        let entry = Wanted {
            name: name.clone(),
            source,
            version,
            targets: targets.to_vec(),
            extra: Default::default(),
        };
        match manifest.skills.iter_mut().find(|w| w.name == name) {
            Some(existing) => {
                let extra = std::mem::take(&mut existing.extra);
                *existing = Wanted { extra, ..entry };
            }
            None => manifest.skills.push(entry),
        }
        names.push(name);
    }
    let path = root.join(super::files::MANIFEST);
    let before = std::fs::read(&path).ok();
    manifest.save(root)?;
    // A skill that cannot be locked leaves skills.json as it was.
    if let Err(e) = lock::lock(state, root, &Update::Only(names)).await {
        let _ = match before {
            Some(bytes) => std::fs::write(&path, bytes),
            None => std::fs::remove_file(&path),
        };
        return Err(e);
    }
    sync::sync(state, root, Options::default(), progress).await
}
