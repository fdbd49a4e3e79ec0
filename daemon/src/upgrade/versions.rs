//! The release versions of a repository (strict semver tags, highest
//! first), with each one's lifecycle status asked of the registry once and
//! only when needed: an upgrade check or a project lock reads one tag list
//! per repository and the manifests of the candidates it considers.

use std::collections::HashMap;

use skilld_proto::images::Lifecycle;

use crate::image::lifecycle::release_version;
use crate::image::reference::Reference;
use crate::registry::RegistryError;
use crate::registry::fetch::{Fetched, fetch_manifest};
use crate::registry::remote;
use crate::registry::transport::Endpoint;
use crate::state::State;

/// Release versions of a repository, highest first, with a status cache.
pub struct Versions {
    pub repository: String,
    pub list: Vec<(semver::Version, String)>,
    status: HashMap<String, Option<Lifecycle>>,
    /// Manifests fetched to read a status, kept for the pull that follows
    /// (so it is not asked for twice).
    fetched: HashMap<String, (Fetched, Endpoint)>,
}

impl Versions {
    /// List the release versions of `repository` (one request for a
    /// registry; the store's tags for a local repository).
    pub async fn list(state: &State, repository: &str) -> Result<Versions, RegistryError> {
        let reference = Reference::parse(&format!("{repository}:latest")).map_err(|e| {
            RegistryError::Invalid {
                reference: repository.to_string(),
                message: e.to_string(),
            }
        })?;
        let tags: Vec<String> = match &reference.registry {
            Some(_) => remote::tag_names(state.registries(), &reference).await?,
            None => state
                .catalog()
                .in_repository(repository)
                .await
                .map(|rows| rows.into_iter().map(|r| r.tag).collect())
                .unwrap_or_default(),
        };
        let mut list: Vec<(semver::Version, String)> = tags
            .into_iter()
            .filter_map(|t| release_version(&t).map(|v| (v, t)))
            .collect();
        list.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(Versions {
            repository: repository.to_string(),
            list,
            status: HashMap::new(),
            fetched: HashMap::new(),
        })
    }

    /// Whether `tag` is published (asks the registry once per tag).
    pub async fn published(&mut self, state: &State, tag: &str) -> bool {
        if !self.status.contains_key(tag) {
            let reference = Reference::parse(&format!("{}:{tag}", self.repository)).ok();
            let status = match reference {
                Some(r) if r.registry.is_some() => {
                    match fetch_manifest(state.registries(), &r).await {
                        Ok((fetched, endpoint)) => {
                            let status = fetched.manifest.status().and_then(Lifecycle::parse);
                            self.fetched.insert(tag.to_string(), (fetched, endpoint));
                            status
                        }
                        Err(_) => None,
                    }
                }
                Some(_) => state
                    .catalog()
                    .get(&format!("{}:{tag}", self.repository))
                    .await
                    .ok()
                    .flatten()
                    .and_then(|row| row.status.as_deref().and_then(Lifecycle::parse)),
                None => Some(Lifecycle::Archived),
            };
            self.status.insert(tag.to_string(), status);
        }
        matches!(self.status[tag], None | Some(Lifecycle::Published))
    }

    /// The highest published version `accepts` takes, and its tag.
    pub async fn newest(
        &mut self,
        state: &State,
        accepts: impl Fn(&semver::Version) -> bool,
    ) -> Option<(semver::Version, String)> {
        let candidates: Vec<(semver::Version, String)> = self
            .list
            .iter()
            .filter(|(v, _)| accepts(v))
            .cloned()
            .collect();
        for (version, tag) in candidates {
            if self.published(state, &tag).await {
                return Some((version, tag));
            }
        }
        None
    }

    /// The manifest fetched for `tag` while reading its status, if any.
    pub fn take_fetched(&mut self, tag: &str) -> Option<(Fetched, Endpoint)> {
        self.fetched.remove(tag)
    }
}
