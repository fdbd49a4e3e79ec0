//! `skillc outdated`: per skill of a project, the version locked, the
//! newest published one its requirement allows, and the newest published.

use std::path::Path;

use skilld_proto::project::OutdatedSkill;

use super::ProjectError;
use super::files::{Lock, Manifest};
use super::requirement::Requirement;
use crate::state::State;
use crate::upgrade::versions::Versions;

/// Where each skill of the project at `root` stands.
pub async fn outdated(state: &State, root: &Path) -> Result<Vec<OutdatedSkill>, ProjectError> {
    let manifest = Manifest::load(root)?;
    let lock = Lock::load(root)?;
    let mut out = Vec::new();
    for wanted in &manifest.skills {
        let requirement = Requirement::parse(wanted.version.as_deref());
        let locked = lock
            .as_ref()
            .and_then(|l| l.find(&wanted.name))
            .map(|l| l.source.tag.clone());
        let mut versions = Versions::list(state, &wanted.source).await?;
        let latest = versions.newest(state, |_| true).await.map(|(v, _)| v);
        let wanted_version = match &requirement {
            Requirement::Tag(tag) => Some(tag.clone()),
            _ => versions
                .newest(state, |v| requirement.accepts(v))
                .await
                .map(|(v, _)| v.to_string()),
        };
        let locked_version = locked
            .as_deref()
            .and_then(|t| semver::Version::parse(t).ok());
        let outdated = match (&locked_version, &latest) {
            (Some(l), Some(newest)) => newest > l,
            (None, Some(_)) => true,
            _ => false,
        };
        out.push(OutdatedSkill {
            name: wanted.name.clone(),
            requirement: wanted.version.clone(),
            locked,
            wanted: wanted_version,
            latest: latest.map(|v| v.to_string()),
            outdated,
        });
    }
    Ok(out)
}
