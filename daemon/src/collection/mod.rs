//! Collections: a named set of skills published once, as skillctl's
//! `SkillCollection` artifact ([`mod@format`], [`artifact`]) or as an Agent
//! Skills collection index (read only); resolving one to exact digests
//! ([`resolve`]); installing one into targets as one transaction
//! ([`converge`]) or into a project's lock ([`seed`]); following one
//! ([`subscription`]: one HEAD per check, converge when it moves); and
//! Kubernetes YAML that mounts one into pods ([`kube`]).

pub mod artifact;
pub mod converge;
pub mod depend;
pub mod format;
pub mod kube;
pub mod resolve;
pub mod seed;
pub mod subscription;

use crate::index::IndexError;
use crate::install::InstallError;
use crate::project::ProjectError;
use crate::registry::RegistryError;

/// Why a collection could not be read, pushed, installed or followed.
#[derive(Debug, thiserror::Error)]
pub enum CollectionError {
    /// A collection's YAML is wrong (where, and what).
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        file: String,
        line: Option<usize>,
        message: String,
    },
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Request(String),
    #[error("{0}")]
    NotFound(String),
    /// The user's work is in the way, or the collection disagrees with
    /// itself.
    #[error("{0}")]
    Conflict(String),
    #[error("cannot read or write {path}: {message}")]
    Io { path: String, message: String },
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl From<crate::registry::pull::TransferError> for CollectionError {
    fn from(e: crate::registry::pull::TransferError) -> CollectionError {
        match e {
            crate::registry::pull::TransferError::Registry(e) => e.into(),
            crate::registry::pull::TransferError::Catalog(e) => {
                CollectionError::Install(InstallError::internal(e.to_string()))
            }
        }
    }
}

use std::io::Read;

use skilld_proto::collection::{CollectionInfo, CollectionSkill, CollectionSource};

use crate::image::reference::Reference;
use crate::registry::Registries;

/// A registry reference to a collection: a registry, and a tag
/// (`latest` when none is written) or a digest.
pub fn collection_reference(input: &str) -> Result<Reference, CollectionError> {
    let parsed = Reference::parse(input).map_err(|e| CollectionError::Request(e.to_string()))?;
    if parsed.registry.is_none() {
        return Err(CollectionError::Request(format!(
            "{input} names no registry; write REGISTRY/REPOSITORY:TAG"
        )));
    }
    Ok(match (&parsed.tag, &parsed.digest) {
        (None, None) => parsed.with_tag("latest"),
        _ => parsed,
    })
}

/// Read the collection `source` names: from its registry, or its file
/// (absolute; at most [`format::MAX_COLLECTION`] bytes).
pub async fn read(
    registries: &Registries,
    source: &CollectionSource,
) -> Result<artifact::Listing, CollectionError> {
    match (&source.reference, &source.file) {
        (Some(r), None) => artifact::fetch(registries, &collection_reference(r)?).await,
        (None, Some(file)) => {
            if !file.is_absolute() {
                return Err(CollectionError::Request(
                    "the collection file must be an absolute path (skillc sends one)".into(),
                ));
            }
            let name = file.display().to_string();
            let io = |e: std::io::Error| CollectionError::Io {
                path: name.clone(),
                message: e.to_string(),
            };
            let mut bytes = Vec::new();
            std::fs::File::open(file)
                .map_err(io)?
                .take(format::MAX_COLLECTION + 1)
                .read_to_end(&mut bytes)
                .map_err(io)?;
            artifact::Listing::from_yaml(&name, None, bytes)
        }
        _ => Err(CollectionError::Request(
            "name one collection: a registry reference or a YAML file".into(),
        )),
    }
}

/// What a collection is, for the wire (its YAML with `yaml`).
pub fn info(listing: &artifact::Listing, yaml: bool) -> CollectionInfo {
    CollectionInfo {
        origin: listing.origin.clone(),
        digest: listing.digest.as_ref().map(|d| d.to_string()),
        form: listing.form.as_str().into(),
        name: listing.name.clone(),
        version: listing.version.clone(),
        description: listing.description.clone(),
        skills: listing
            .entries
            .iter()
            .map(|e| CollectionSkill {
                name: e.name.clone(),
                reference: e.reference.clone(),
                git: e.git,
            })
            .collect(),
        yaml: yaml.then(|| String::from_utf8_lossy(&listing.yaml).into_owned()),
    }
}
