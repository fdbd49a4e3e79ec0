//! The OCI JSON formats the store reads and writes: descriptors, image
//! manifests, image configs and the image index (`index.json`).
//!
//! Our own small types rather than a general crate's: annotations are a
//! `BTreeMap` so serialisation is byte-for-byte deterministic, which the
//! reproducible build depends on (a `HashMap` would reorder keys per run).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::store::digest::Digest;

pub const MANIFEST_V1: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX_V1: &str = "application/vnd.oci.image.index.v1+json";
pub const CONFIG_V1: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const REDHAT_CONFIG: &str = "application/vnd.redhat.agentskill.config.v1+json";
pub const REDHAT_LAYER: &str = "application/vnd.redhat.agentskill.layer.v1.tar+gzip";
pub const AGENTSKILLS_ARTIFACT: &str = "application/vnd.agentskills.skill.v1";
pub const AGENTSKILLS_CONFIG: &str = "application/vnd.agentskills.skill.config.v1+json";
pub const AGENTSKILLS_LAYER: &str = "application/vnd.agentskills.skill.content.v1.tar+gzip";

/// Annotation keys.
pub mod annotation {
    pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
    pub const TITLE: &str = "org.opencontainers.image.title";
    pub const DESCRIPTION: &str = "org.opencontainers.image.description";
    pub const VERSION: &str = "org.opencontainers.image.version";
    pub const AUTHORS: &str = "org.opencontainers.image.authors";
    pub const LICENSES: &str = "org.opencontainers.image.licenses";
    pub const VENDOR: &str = "org.opencontainers.image.vendor";
    pub const CREATED: &str = "org.opencontainers.image.created";
    pub const SOURCE: &str = "org.opencontainers.image.source";
    pub const REVISION: &str = "org.opencontainers.image.revision";
    pub const STATUS: &str = "io.skillimage.status";
    /// The key older skillctl releases wrote the status under.
    pub const STATUS_LEGACY: &str = "io.skillregistry.status";
    pub const TAGS: &str = "io.skillimage.tags";
    pub const COMPATIBILITY: &str = "io.skillimage.compatibility";
    pub const WORDCOUNT: &str = "io.skillimage.wordcount";
    /// The Agent Skills artifact's skill name and compatibility.
    pub const AGENTSKILLS_NAME: &str = "io.agentskills.skill.name";
    pub const AGENTSKILLS_COMPATIBILITY: &str = "io.agentskills.skill.compatibility";
    /// skilld: the SkillCard's `spec.dependencies` as JSON
    /// (`[{"name":"base-tone","version":"^1.0"}]`, `[]` for none), so a
    /// resolver reads them from the manifest without opening the layer.
    pub const DEPENDENCIES: &str = "io.skilld.dependencies";
    /// On a tag of skilld's local store only: the digest of the image index
    /// the tag named on its registry, when the manifest was chosen from one.
    pub const INDEX_DIGEST: &str = "io.skilld.index.digest";
}

/// A pointer to a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// Manifest, config and layer bytes together.
    pub fn total_size(&self, manifest_len: u64) -> u64 {
        manifest_len + self.config.size + self.layers.iter().map(|l| l.size).sum::<u64>()
    }

    /// The status annotation, under its current or legacy key.
    pub fn status(&self) -> Option<&str> {
        self.annotations
            .get(annotation::STATUS)
            .or_else(|| self.annotations.get(annotation::STATUS_LEGACY))
            .map(String::as_str)
    }
}

/// `rootfs` of an image config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    pub diff_ids: Vec<Digest>,
}

/// One history entry of an image config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub created: String,
    pub created_by: String,
}

/// An image config, as a FROM-scratch image has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    pub created: String,
    pub architecture: String,
    pub os: String,
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

/// The image index: `index.json` of an image layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Default for ImageIndex {
    fn default() -> Self {
        ImageIndex {
            schema_version: 2,
            media_type: Some(INDEX_V1.to_string()),
            manifests: Vec::new(),
            annotations: BTreeMap::new(),
        }
    }
}

/// Canonical JSON bytes of a value (compact, fields in declaration order,
/// maps sorted): the same value always gives the same digest.
pub fn to_canonical_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("OCI types always serialise")
}
