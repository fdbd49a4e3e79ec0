//! Building a skill image into the store: walk, layer, config, manifest.
//!
//! Blocking work: the caller runs it on a blocking thread and tags the result.
//! The layer streams from the files through tar and gzip into a blob, so
//! memory stays flat whatever the skill's size.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use skilld_proto::images::{ImageFormat, Lifecycle, MediaTypes};
use skilld_proto::skill::{Problem, SkillCard};

use super::walk::{self, WalkLimits};
use super::{annotations, layer};
use crate::oci::{self, Descriptor, History, ImageConfig, Manifest, RootFs, to_canonical_json};
use crate::store::digest::Digest;
use crate::store::{Store, StoreError};

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildSpec<'a> {
    pub dir: &'a Path,
    pub card: &'a SkillCard,
    /// Words in SKILL.md's body (`io.skillimage.wordcount`).
    pub words: u64,
    /// SKILL.md's frontmatter (the Agent Skills config is made from it).
    pub frontmatter: &'a std::collections::BTreeMap<String, serde_json::Value>,
    pub format: ImageFormat,
    pub media_types: MediaTypes,
    /// `SOURCE_DATE_EPOCH`: file times and `created`; else file times are 0
    /// and `created` is now.
    pub epoch: Option<i64>,
    pub limits: WalkLimits,
}

/// The Agent Skills config (`application/vnd.agentskills.skill.config.v1+json`)
/// as arconia-cli's `SkillConfig` writes it and salaboy/skills-oci reads it:
/// `schemaVersion` "1", the skill's name and version, SKILL.md's
/// description, license and compatibility, `allowed-tools` as a list
/// (split at white space, as arconia does), and SKILL.md's `metadata`;
/// absent fields are left out.
fn agentskills_config(spec: &BuildSpec<'_>) -> serde_json::Value {
    let m = &spec.card.metadata;
    let mut config = serde_json::Map::new();
    config.insert("schemaVersion".into(), "1".into());
    config.insert("name".into(), m.name.clone().into());
    config.insert("version".into(), m.version.clone().into());
    let description = spec
        .frontmatter
        .get("description")
        .and_then(|d| d.as_str())
        .map(str::to_string)
        .or_else(|| Some(m.description.clone()).filter(|d| !d.is_empty()));
    for (key, value) in [
        ("description", description),
        ("license", m.license.clone()),
        ("compatibility", m.compatibility.clone()),
    ] {
        if let Some(value) = value {
            config.insert(key.into(), value.into());
        }
    }
    if let Some(tools) = m.allowed_tools.as_deref() {
        let tools: Vec<serde_json::Value> = tools
            .split_whitespace()
            .map(|t| t.to_string().into())
            .collect();
        if !tools.is_empty() {
            config.insert("allowedTools".into(), tools.into());
        }
    }
    if let Some(serde_json::Value::Object(meta)) = spec.frontmatter.get("metadata")
        && !meta.is_empty()
    {
        config.insert("metadata".into(), serde_json::Value::Object(meta.clone()));
    }
    serde_json::Value::Object(config)
}

/// The manifest's annotations: the skillimage set, plus for an Agent
/// Skills artifact `io.agentskills.skill.name` (and `.compatibility`).
fn manifest_annotations(
    spec: &BuildSpec<'_>,
    created: &str,
) -> std::collections::BTreeMap<String, String> {
    let mut a = annotations::for_card(spec.card, spec.words, created, Lifecycle::Draft);
    if spec.format == ImageFormat::Agentskills {
        let m = &spec.card.metadata;
        a.insert(oci::annotation::AGENTSKILLS_NAME.into(), m.name.clone());
        if let Some(c) = &m.compatibility {
            a.insert(oci::annotation::AGENTSKILLS_COMPATIBILITY.into(), c.clone());
        }
    }
    a
}

/// An Agent Skills layer is annotated as ORAS annotates a pushed folder
/// (its title, the skill's folder name; the uncompressed tar's digest; and
/// that it unpacks), so generic ORAS clients unpack it into that folder
/// instead of saving an opaque blob.
fn layer_annotations(
    spec: &BuildSpec<'_>,
    diff_id: &impl std::fmt::Display,
) -> std::collections::BTreeMap<String, String> {
    let mut a = std::collections::BTreeMap::new();
    if spec.format == ImageFormat::Agentskills {
        a.insert(
            oci::annotation::TITLE.to_string(),
            spec.card.metadata.name.clone(),
        );
        a.insert(ORAS_CONTENT_DIGEST.to_string(), diff_id.to_string());
        a.insert(ORAS_CONTENT_UNPACK.to_string(), "true".to_string());
    }
    a
}

/// ORAS's layer annotations for a folder pushed as a tar.gz.
const ORAS_CONTENT_DIGEST: &str = "io.deis.oras.content.digest";
const ORAS_CONTENT_UNPACK: &str = "io.deis.oras.content.unpack";

/// What was built.
#[derive(Debug, Clone)]
pub struct Built {
    pub manifest: Descriptor,
    pub config: Digest,
    pub layer: Digest,
    pub files: u64,
    pub content_bytes: u64,
    /// Manifest, config and layer bytes.
    pub size: u64,
}

/// The latest `SOURCE_DATE_EPOCH` accepted: the last second an RFC 3339
/// date (the `created` annotation) can name.
pub const MAX_EPOCH: i64 = 253_402_300_799;

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the skill folder has problems")]
    Problems(Vec<Problem>),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot pack the skill: {0}")]
    Io(#[from] std::io::Error),
}

/// Progress of a build: bytes of file content packed, out of a total.
pub type ProgressFn<'a> = dyn FnMut(u64, u64) + 'a;

fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// Build the image for `spec` into `store`; the manifest is stored but not tagged.
pub fn build(
    store: &Store,
    spec: &BuildSpec<'_>,
    progress: &mut ProgressFn<'_>,
) -> Result<Built, BuildError> {
    if spec.format == ImageFormat::Agentskills && spec.media_types == MediaTypes::Redhat {
        return Err(BuildError::Invalid(
            "--media-type redhat applies to the skillimage format only; drop it or use --format skillimage".into(),
        ));
    }
    let epoch = match spec.epoch {
        Some(e) if !(0..=MAX_EPOCH).contains(&e) => {
            return Err(BuildError::Invalid(format!(
                "SOURCE_DATE_EPOCH={e} is out of range; use seconds since 1970, from 0 to {MAX_EPOCH} (9999-12-31T23:59:59Z)"
            )));
        }
        Some(e) => Some(e as u64),
        None => None,
    };
    let created = match epoch {
        Some(secs) => rfc3339(secs),
        None => humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    };
    let walked = walk::walk(spec.dir, spec.limits).map_err(BuildError::Problems)?;
    let total = walked.bytes;
    progress(0, total);

    let (layer_media, config_media, prefix) = match (spec.format, spec.media_types) {
        (ImageFormat::Skillimage, MediaTypes::Standard) => {
            (oci::LAYER_TAR_GZIP, oci::CONFIG_V1, None)
        }
        (ImageFormat::Skillimage, MediaTypes::Redhat) => {
            (oci::REDHAT_LAYER, oci::REDHAT_CONFIG, None)
        }
        (ImageFormat::Agentskills, _) => (
            oci::AGENTSKILLS_LAYER,
            oci::AGENTSKILLS_CONFIG,
            Some(spec.card.metadata.name.as_str()),
        ),
    };
    let writer = store.writer()?;
    let (writer, info) = layer::write(
        &walked.entries,
        prefix,
        epoch.unwrap_or(0),
        writer,
        &mut |done| progress(done, total),
    )?;
    let (layer_digest, layer_size) = store.commit(writer, None)?;

    let config_bytes = match spec.format {
        ImageFormat::Skillimage => to_canonical_json(&ImageConfig {
            created: created.clone(),
            architecture: "amd64".into(),
            os: "linux".into(),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: vec![info.diff_id.clone()],
            },
            history: vec![History {
                created: created.clone(),
                created_by: format!("skilld {} build", env!("CARGO_PKG_VERSION")),
            }],
        }),
        // The artifact's config describes the skill, not a filesystem.
        ImageFormat::Agentskills => to_canonical_json(&agentskills_config(spec)),
    };
    let config_digest = store.put(&config_bytes)?;

    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(oci::MANIFEST_V1.into()),
        artifact_type: (spec.format == ImageFormat::Agentskills)
            .then(|| oci::AGENTSKILLS_ARTIFACT.to_string()),
        config: Descriptor {
            media_type: config_media.into(),
            digest: config_digest.clone(),
            size: config_bytes.len() as u64,
            artifact_type: None,
            annotations: Default::default(),
        },
        layers: vec![Descriptor {
            media_type: layer_media.into(),
            digest: layer_digest.clone(),
            size: layer_size,
            artifact_type: None,
            annotations: layer_annotations(spec, &info.diff_id),
        }],
        annotations: manifest_annotations(spec, &created),
    };
    let manifest_bytes = to_canonical_json(&manifest);
    let manifest_digest = store.put(&manifest_bytes)?;
    Ok(Built {
        manifest: Descriptor {
            media_type: oci::MANIFEST_V1.into(),
            digest: manifest_digest,
            size: manifest_bytes.len() as u64,
            artifact_type: manifest.artifact_type.clone(),
            annotations: Default::default(),
        },
        config: config_digest,
        layer: layer_digest,
        files: walked.files,
        content_bytes: total,
        size: manifest.total_size(manifest_bytes.len() as u64),
    })
}
