//! Talking to OCI registries (oci-client over reqwest with rustls): where a
//! reference lives, which client and credentials reach it, and the
//! operations: [`pull`], [`push`], [`remote`] (inspect, tags, promote) and
//! login.

pub mod config;
pub mod copy;
pub mod credentials;
pub mod error;
pub mod fetch;
pub mod progress;
pub mod promote;
pub mod pull;
pub mod push;
pub mod remote;
pub mod transport;

use std::collections::BTreeMap;

pub use config::RegistryConfig;
use credentials::CredentialStore;
pub use error::RegistryError;
use transport::{Endpoint, Transport};

use crate::image::reference::Reference;

/// Cheap-to-share registry access: settings, credentials, transport cache.
#[derive(Debug)]
pub struct Registries {
    configs: BTreeMap<String, RegistryConfig>,
    credentials: CredentialStore,
    transport: Transport,
}

impl Registries {
    pub fn new(
        configs: BTreeMap<String, RegistryConfig>,
        credentials: CredentialStore,
    ) -> Registries {
        Registries {
            configs,
            credentials,
            transport: Transport::default(),
        }
    }

    pub fn credentials(&self) -> &CredentialStore {
        &self.credentials
    }

    /// Drop cached clients of `host`, whose credentials changed.
    pub fn forget(&self, host: &str) {
        self.transport.forget(host);
    }

    /// Settings of `host` (defaults when none are configured).
    pub fn config_for(&self, host: &str) -> RegistryConfig {
        self.configs.get(host).cloned().unwrap_or_default()
    }

    /// A client for `host`, with credentials for `repository`.
    pub async fn endpoint(&self, host: &str, repository: &str) -> Result<Endpoint, RegistryError> {
        let config = self.config_for(host);
        self.transport
            .endpoint(host, repository, &config, &self.credentials)
            .await
    }

    /// Where to pull `reference` from: its mirrors in order, then itself.
    pub fn pull_sources(&self, reference: &Reference) -> Vec<Reference> {
        let Some(host) = &reference.registry else {
            return vec![reference.clone()];
        };
        let mut sources: Vec<Reference> = self
            .config_for(host)
            .mirrors
            .iter()
            .map(|mirror| {
                let (mirror_host, prefix) = match mirror.split_once('/') {
                    Some((h, p)) => (h, Some(p.trim_matches('/'))),
                    None => (mirror.as_str(), None),
                };
                let path = match prefix {
                    Some(p) if !p.is_empty() => format!("{p}/{}", reference.path),
                    _ => reference.path.clone(),
                };
                Reference {
                    registry: Some(mirror_host.to_string()),
                    path,
                    ..reference.clone()
                }
            })
            .collect();
        sources.push(reference.clone());
        sources
    }
}

/// The oci-client reference for one of ours (which must name a registry).
pub fn oci_reference(reference: &Reference) -> Result<oci_client::Reference, RegistryError> {
    let Some(host) = &reference.registry else {
        return Err(RegistryError::Invalid {
            reference: reference.to_string(),
            message: "names no registry; write it as HOST[:PORT]/NAME:TAG, or `skillc tag` it with one first".into(),
        });
    };
    Ok(match (&reference.digest, &reference.tag) {
        (Some(digest), _) => oci_client::Reference::with_digest(
            host.clone(),
            reference.path.clone(),
            digest.to_string(),
        ),
        (None, tag) => oci_client::Reference::with_tag(
            host.clone(),
            reference.path.clone(),
            tag.clone().unwrap_or_else(|| "latest".into()),
        ),
    })
}
