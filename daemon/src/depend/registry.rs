//! The versions a resolution sees, read where the skills live: one tag
//! list per repository (the store's tags for a local one), then each
//! version tried pulled into the store once (the trust policy's `reject`
//! rules first) and what it needs read from it ([`super::image`]). The
//! images pulled are kept for the install that follows, which then pulls
//! nothing again.
//!
//! The resolver is synchronous; it runs on a blocking thread and this side
//! waits on the daemon's runtime for each registry answer.

use std::collections::BTreeMap;

use semver::Version;
use skilld_proto::images::Lifecycle;

use super::DependError;
use super::name::repository_for;
use super::resolve::{Candidate, Needs, Root, Versions};
use crate::install::apply::Image;
use crate::install::ops;
use crate::state::State;

/// Release versions and images from the registries, with skills the
/// caller already holds fixed at one image each.
pub struct FromRegistries {
    state: State,
    runtime: tokio::runtime::Handle,
    /// Repository → the one image it is fixed at (what the user named).
    fixed: BTreeMap<String, (Candidate, Image)>,
    /// Every image tried, by repository and tag.
    images: BTreeMap<(String, String), Image>,
}

impl FromRegistries {
    /// A source on `runtime` (the daemon's), with nothing fixed.
    pub fn new(state: State, runtime: tokio::runtime::Handle) -> FromRegistries {
        FromRegistries {
            state,
            runtime,
            fixed: BTreeMap::new(),
            images: BTreeMap::new(),
        }
    }

    /// Fix the repository of `image` at it (its version, or `0.0.0` when
    /// it has none); the root the resolution starts from.
    pub fn fix(&mut self, image: Image) -> Root {
        let repository = image.reference.repository();
        let version = crate::image::lifecycle::image_version(
            &image.manifest.annotations,
            image.reference.tag.as_deref(),
        )
        .and_then(|v| Version::parse(&v).ok())
        .unwrap_or(Version::new(0, 0, 0));
        let tag = image
            .reference
            .tag
            .clone()
            .unwrap_or_else(|| version.to_string());
        let requirement = format!("={version}");
        self.fixed.insert(
            repository.clone(),
            (
                Candidate {
                    version,
                    tag: tag.clone(),
                },
                image,
            ),
        );
        Root {
            repository,
            requirement,
        }
    }

    /// The image of `repository` at `tag`, as tried.
    pub fn image(&self, repository: &str, tag: &str) -> Option<&Image> {
        match self.fixed.get(repository) {
            Some((c, image)) if c.tag == tag => Some(image),
            _ => self.images.get(&(repository.to_string(), tag.to_string())),
        }
    }

    fn dependencies_of(
        &self,
        repository: &str,
        image: &Image,
    ) -> Result<Vec<(String, String)>, DependError> {
        let store = self.state.catalog().store().clone();
        let declared = super::image::declared(&store, &image.manifest).map_err(|e| {
            DependError::Undeclared {
                image: image.reference.to_string(),
                message: e.to_string(),
            }
        })?;
        declared
            .into_iter()
            .map(|d| Ok((repository_for(&d.name, repository)?, d.version)))
            .collect()
    }
}

impl Versions for FromRegistries {
    fn versions(&mut self, repository: &str) -> Result<Vec<Candidate>, DependError> {
        if let Some((candidate, _)) = self.fixed.get(repository) {
            return Ok(vec![candidate.clone()]);
        }
        let listed = self
            .runtime
            .block_on(crate::upgrade::versions::Versions::list(
                &self.state,
                repository,
            ));
        match listed {
            Ok(v) => Ok(v
                .list
                .into_iter()
                .map(|(version, tag)| Candidate { version, tag })
                .collect()),
            Err(crate::registry::RegistryError::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(DependError::Unreadable {
                repository: repository.to_string(),
                message: e.to_string(),
            }),
        }
    }

    fn needs(&mut self, repository: &str, tag: &str) -> Result<Option<Needs>, DependError> {
        if let Some((candidate, image)) = self.fixed.get(repository)
            && candidate.tag == tag
        {
            return self.dependencies_of(repository, image).map(Some);
        }
        let input = format!("{repository}:{tag}");
        let unusable = |message: String| DependError::Unreadable {
            repository: input.clone(),
            message,
        };
        let reference = crate::image::reference::Reference::parse(&input)
            .map_err(|e| unusable(e.to_string()))?;
        crate::trust::enforce::precheck(&self.state, &reference).map_err(|e| {
            DependError::Refused {
                image: input.clone(),
                message: e.to_string(),
            }
        })?;
        let image = self
            .runtime
            .block_on(ops::resolve_image(&self.state, &input, &|_| {}))
            .map_err(|e| unusable(e.to_string()))?;
        let status = image.manifest.status().and_then(Lifecycle::parse);
        if !matches!(status, None | Some(Lifecycle::Published)) {
            return Ok(None);
        }
        // Nothing of an image the trust policy refuses is read.
        self.runtime
            .block_on(image.verdict(&self.state))
            .map_err(|e| DependError::Refused {
                image: input.clone(),
                message: e.to_string(),
            })?;
        let needs = self.dependencies_of(repository, &image)?;
        self.images
            .insert((repository.to_string(), tag.to_string()), image);
        Ok(Some(needs))
    }
}

/// A resolution that started from images the caller holds.
pub struct Found {
    /// One root per image given, in order (its repository, fixed).
    pub roots: Vec<Root>,
    pub resolved: super::resolve::Resolved,
    /// The image of every pick, by repository.
    pub images: BTreeMap<String, Image>,
}

impl Found {
    /// A name for every pick: the roots' as given (`listed`, in the order
    /// of the images), each dependency its repository's last segment (the
    /// folder it goes in). Two skills with one name cannot share a folder.
    pub fn names(&self, listed: &[String]) -> Result<BTreeMap<String, String>, DependError> {
        let mut names: BTreeMap<String, String> = self
            .roots
            .iter()
            .zip(listed)
            .map(|(root, name)| (root.repository.clone(), name.clone()))
            .collect();
        for repository in self.resolved.picks.keys() {
            if names.contains_key(repository) {
                continue;
            }
            let name = repository
                .rsplit('/')
                .next()
                .unwrap_or(repository)
                .to_string();
            if let Some((other, _)) = names.iter().find(|(_, n)| **n == name) {
                return Err(DependError::NameClash {
                    name,
                    first: other.clone(),
                    second: repository.clone(),
                });
            }
            names.insert(repository.clone(), name);
        }
        Ok(names)
    }

    /// The names (from [`Found::names`]) of what `repository` needs, sorted.
    pub fn needs_names(&self, repository: &str, names: &BTreeMap<String, String>) -> Vec<String> {
        let mut out: Vec<String> = self
            .resolved
            .picks
            .get(repository)
            .map(|p| {
                p.needs
                    .iter()
                    .filter_map(|n| names.get(n).cloned())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Whether `repository` is one of the roots.
    pub fn is_root(&self, repository: &str) -> bool {
        self.roots.iter().any(|r| r.repository == repository)
    }
}

/// Resolve what `images` need, trying the versions in `prefer` first;
/// `None` when none of them declares a dependency (nothing to resolve,
/// nothing fetched). What is picked also satisfies the `constraints` of
/// installs the graph leaves in place. The caller has checked `images` against the trust
/// policy; every other version tried is checked before it is read.
pub async fn resolve_images(
    state: &State,
    images: Vec<Image>,
    prefer: BTreeMap<String, Version>,
    constraints: Vec<super::resolve::Constraint>,
) -> Result<Option<Found>, DependError> {
    let mut any = false;
    for image in &images {
        let store = state.catalog().store().clone();
        let manifest = image.manifest.clone();
        let declared =
            tokio::task::spawn_blocking(move || super::image::declared(&store, &manifest))
                .await
                .map_err(|e| joined(&e))?;
        match declared {
            Ok(declared) => any |= !declared.is_empty(),
            // Installing it fails on its layer, and says so.
            Err(super::image::Undeclared::Layer(_)) => {}
            Err(e) => {
                return Err(DependError::Undeclared {
                    image: image.reference.to_string(),
                    message: e.to_string(),
                });
            }
        }
    }
    if !any {
        return Ok(None);
    }
    let (state, runtime) = (state.clone(), tokio::runtime::Handle::current());
    tokio::task::spawn_blocking(move || {
        let mut source = FromRegistries::new(state, runtime);
        let roots: Vec<Root> = images.into_iter().map(|i| source.fix(i)).collect();
        let resolved = super::resolve::resolve_within(&roots, &mut source, &prefer, &constraints)?;
        let images = resolved
            .picks
            .iter()
            .filter_map(|(r, p)| source.image(r, &p.tag).map(|i| (r.clone(), i.clone())))
            .collect();
        Ok(Some(Found {
            roots,
            resolved,
            images,
        }))
    })
    .await
    .map_err(|e| joined(&e))?
}

fn joined(e: &tokio::task::JoinError) -> DependError {
    DependError::Unreadable {
        repository: "the dependency graph".into(),
        message: e.to_string(),
    }
}
