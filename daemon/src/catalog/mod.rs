//! Discovery: an index of the skills in configured registries, read from
//! manifests alone (never a layer), searched with SQLite FTS5.
//!
//! `catalog.sources` in config.yaml names registries and namespaces (their
//! repositories listed with distribution's `/v2/_catalog`) or explicit
//! repositories. [`refresh`] brings the index up to date incrementally: a
//! repository whose tag list is unchanged costs that one request, and a
//! manifest already indexed by digest is never fetched again.
//! [`search`] answers from the index alone.

pub mod background;
pub mod entry;
pub mod listing;
pub mod refresh;
pub mod search;
pub mod server;
pub mod show;

use std::time::Duration;

use serde::Deserialize;

/// `catalog:` in config.yaml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogConfig {
    /// What to index.
    pub sources: Vec<Source>,
    /// Time between background refreshes (`0s`: only on request).
    #[serde(with = "humantime_serde")]
    pub refresh_interval: Duration,
    /// Repositories whose tag lists are read at once.
    pub concurrency: usize,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig {
            sources: Vec::new(),
            refresh_interval: Duration::from_secs(6 * 3600),
            concurrency: 8,
        }
    }
}

/// One source of the catalog: a registry, narrowed to a namespace, or a
/// list of its repositories.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `HOST[:PORT]` (credentials, CA and mirrors as for any pull).
    pub registry: String,
    /// Only repositories under this path (`acme` takes `acme/…`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// These repositories (paths under the registry) instead of listing
    /// the registry's catalog: for registries that do not offer one.
    #[serde(default)]
    pub repositories: Vec<String>,
    /// How the repositories are listed: `catalog` (`/v2/_catalog`),
    /// `quay` (Quay's `/api/v1/repository?namespace=`), `harbor`
    /// (Harbor's `/api/v2.0/projects/{namespace}/repositories`), or
    /// `auto` (the default: quay for a host whose name holds "quay", as
    /// skillctl decides, else catalog).
    #[serde(default)]
    pub api: Api,
}

/// How a source's repositories are listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    #[default]
    Auto,
    Catalog,
    Quay,
    Harbor,
}

impl Source {
    /// The listing this source uses (`auto` decided).
    pub fn api(&self) -> Api {
        match self.api {
            Api::Auto if self.registry.to_ascii_lowercase().contains("quay") => Api::Quay,
            Api::Auto => Api::Catalog,
            other => other,
        }
    }
}

impl CatalogConfig {
    /// Canonical registry names, namespaces without slashes at the ends,
    /// and repositories that are valid paths; or what is wrong.
    pub fn resolve(mut self) -> Result<CatalogConfig, String> {
        for source in &mut self.sources {
            source.registry = crate::image::registry_name::canonical(&source.registry)
                .map_err(|e| format!("catalog.sources: registry {:?}: {e}", source.registry))?;
            if let Some(ns) = &mut source.namespace {
                *ns = ns.trim_matches('/').to_string();
                if !ns.split('/').all(crate::image::reference::component_ok) {
                    return Err(format!(
                        "catalog.sources: namespace {ns:?} of {} is not a repository path (lowercase letters, digits, . _ -)",
                        source.registry
                    ));
                }
            }
            if matches!(source.api(), Api::Quay | Api::Harbor)
                && source.namespace.is_none()
                && source.repositories.is_empty()
            {
                return Err(format!(
                    "catalog.sources: {} is listed through its {} API, which lists one namespace (organisation or project): set namespace",
                    source.registry,
                    if source.api() == Api::Quay {
                        "Quay"
                    } else {
                        "Harbor"
                    }
                ));
            }
            for repo in &source.repositories {
                if !repo.split('/').all(crate::image::reference::component_ok) {
                    return Err(format!(
                        "catalog.sources: repository {repo:?} of {} is not a repository path (lowercase letters, digits, . _ -)",
                        source.registry
                    ));
                }
            }
        }
        if self.concurrency == 0 || self.concurrency > 64 {
            return Err("catalog.concurrency must be from 1 to 64".into());
        }
        Ok(self)
    }
}

/// Why a catalog operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error(
        "no catalog sources are configured; add `catalog: {{sources: [{{registry: HOST, namespace: NS}}]}}` to config.yaml"
    )]
    NoSources,
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
}
