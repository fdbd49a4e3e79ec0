//! A collection on a registry, in either form:
//!
//! - skillctl's (`skillctl collection push`): an image manifest with
//!   `artifactType` [`SKILLCTL_TYPE`], the empty config `{}`
//!   (`application/vnd.oci.empty.v1+json`), one layer holding the YAML's
//!   bytes as written, and the annotations skillctl sets. [`push`] writes
//!   exactly that manifest, field for field as Go's `json.Marshal` orders
//!   it, so a collection pushed by skilld and by skillctl differ only in
//!   their `created` time.
//! - the Agent Skills OCI spec's (arconia-cli, salaboy/skills-oci; read
//!   only): an image index with `artifactType` [`AGENTSKILLS_TYPE`] whose
//!   children are the skills' manifests, named by `io.agentskills.skill.name`
//!   and referenced by `io.agentskills.skill.ref` (arconia-cli) or
//!   `org.opencontainers.image.ref.name` (skills-oci). arconia writes a
//!   size of 0 for each child; only a child's digest is used.

use std::collections::BTreeMap;

use serde::Serialize;

use super::CollectionError;
use super::format::{self, MAX_COLLECTION, MAX_SKILLS, SkillCollection};
use crate::image::reference::Reference;
use crate::oci;
use crate::registry::fetch::fetch_raw;
use crate::registry::pull::fetch_small_blob;
use crate::registry::{Registries, RegistryError};
use crate::store::digest::Digest;

/// skillctl's artifactType and layer media type of a collection.
pub const SKILLCTL_TYPE: &str = "application/vnd.skillimage.collection.v1+yaml";
/// The Agent Skills collection index's artifactType.
pub const AGENTSKILLS_TYPE: &str = crate::registry::fetch::AGENTSKILLS_COLLECTION;
/// The empty config of an artifact.
pub const EMPTY_TYPE: &str = "application/vnd.oci.empty.v1+json";
pub const EMPTY_CONFIG: &[u8] = b"{}";
/// skillctl's annotation naming a collection.
pub const NAME_ANNOTATION: &str = "io.skillimage.collection.name";

/// Which tool's form a collection is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Skillctl,
    AgentSkills,
}

impl Form {
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Skillctl => "skillctl",
            Form::AgentSkills => "agentskills",
        }
    }
}

/// One skill a collection lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// As the collection writes it (an image reference; for skillctl a git
    /// `source` too, which skilld does not build).
    pub reference: String,
    /// Whether `reference` is a git source rather than an image.
    pub git: bool,
}

/// A collection read from a registry or a file.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Where it was read (a reference, or a file's path).
    pub origin: String,
    /// The collection manifest's digest (none for a file).
    pub digest: Option<Digest>,
    pub form: Form,
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub entries: Vec<Entry>,
    /// Its YAML: the bytes skillctl pushed, or written for an index.
    pub yaml: Vec<u8>,
}

impl Listing {
    /// A collection read from a skillctl YAML (a file, or a pulled layer).
    pub fn from_yaml(
        origin: &str,
        digest: Option<Digest>,
        yaml: Vec<u8>,
    ) -> Result<Listing, CollectionError> {
        let c = format::parse(&yaml, origin)?;
        Ok(Listing {
            origin: origin.to_string(),
            digest,
            form: Form::Skillctl,
            name: c.metadata.name.clone(),
            version: c.metadata.version.clone(),
            description: c.metadata.description.clone(),
            entries: c
                .skills
                .iter()
                .map(|s| Entry {
                    name: s.name.clone(),
                    reference: s.reference().unwrap_or_default().to_string(),
                    git: s.image.is_none(),
                })
                .collect(),
            yaml,
        })
    }
}

/// Go's `ocispec.Manifest`, fields in its order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GoManifest<'a> {
    schema_version: u32,
    media_type: &'a str,
    artifact_type: &'a str,
    config: GoDescriptor<'a>,
    layers: Vec<GoDescriptor<'a>>,
    annotations: BTreeMap<&'a str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GoDescriptor<'a> {
    media_type: &'a str,
    digest: String,
    size: u64,
}

/// The manifest skillctl pushes for `yaml` (annotations as skillctl's
/// `buildCollectionAnnotations` sets them; `created` in RFC 3339).
pub fn skillctl_manifest(yaml: &[u8], collection: &SkillCollection, created: &str) -> Vec<u8> {
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "org.opencontainers.image.title",
        collection.metadata.name.clone(),
    );
    annotations.insert(
        "org.opencontainers.image.version",
        collection.metadata.version.clone(),
    );
    annotations.insert("org.opencontainers.image.created", created.to_string());
    if let Some(d) = collection
        .metadata
        .description
        .as_ref()
        .filter(|d| !d.is_empty())
    {
        annotations.insert("org.opencontainers.image.description", d.clone());
    }
    annotations.insert(NAME_ANNOTATION, collection.metadata.name.clone());
    let manifest = GoManifest {
        schema_version: 2,
        media_type: oci::MANIFEST_V1,
        artifact_type: SKILLCTL_TYPE,
        config: GoDescriptor {
            media_type: EMPTY_TYPE,
            digest: Digest::of(EMPTY_CONFIG).to_string(),
            size: EMPTY_CONFIG.len() as u64,
        },
        layers: vec![GoDescriptor {
            media_type: SKILLCTL_TYPE,
            digest: Digest::of(yaml).to_string(),
            size: yaml.len() as u64,
        }],
        annotations,
    };
    let json = serde_json::to_string(&manifest).unwrap_or_default();
    // Go's encoder escapes these in strings (they never occur outside one).
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
        .into_bytes()
}

/// Push `yaml` (a checked collection) to `target` as skillctl does: its
/// two blobs where the registry lacks them, then the manifest. Its digest.
pub async fn push(
    registries: &Registries,
    yaml: &[u8],
    collection: &SkillCollection,
    target: &Reference,
) -> Result<Digest, CollectionError> {
    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let manifest = skillctl_manifest(yaml, collection, &created);
    let (endpoint, oci_ref) = crate::registry::push::push_endpoint(registries, target).await?;
    let (host, name) = (
        target.registry.clone().unwrap_or_default(),
        target.to_string(),
    );
    let oci_err =
        |e| RegistryError::from_oci(&host, &name, e, endpoint.credential_source.as_deref());
    for blob in [EMPTY_CONFIG, yaml] {
        let digest = Digest::of(blob).to_string();
        let exists = endpoint
            .client
            .blob_exists(&oci_ref, &digest)
            .await
            .map_err(oci_err)?;
        if !exists {
            endpoint
                .client
                .push_blob(&oci_ref, blob.to_vec(), &digest)
                .await
                .map_err(oci_err)?;
        }
    }
    let header = oci::MANIFEST_V1.parse().map_err(|_| {
        CollectionError::Request("the manifest media type is not a valid header".into())
    })?;
    let digest = Digest::of(&manifest);
    endpoint
        .client
        .push_manifest_raw(&oci_ref, manifest, header)
        .await
        .map_err(oci_err)?;
    Ok(digest)
}

/// Read the collection `reference` names, in either form. Anything else
/// is refused, saying what it is.
pub async fn fetch(
    registries: &Registries,
    reference: &Reference,
) -> Result<Listing, CollectionError> {
    let (bytes, source, endpoint) = fetch_raw(registries, reference).await?;
    let digest = Digest::of(&bytes);
    let origin = reference.to_string();
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        CollectionError::Request(format!("{origin}: the manifest is not JSON: {e}"))
    })?;
    let artifact_type = value
        .get("artifactType")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    if value.get("manifests").is_some() {
        if artifact_type != AGENTSKILLS_TYPE {
            return Err(not_a_collection(
                &origin,
                &format!(
                    "an image index ({})",
                    if artifact_type.is_empty() {
                        "no artifactType"
                    } else {
                        artifact_type.as_str()
                    }
                ),
            ));
        }
        return from_index(reference, digest, &value);
    }
    let manifest: oci::Manifest = serde_json::from_value(value).map_err(|e| {
        CollectionError::Request(format!(
            "{origin}: the manifest is not an OCI image manifest: {e}"
        ))
    })?;
    let layer = match manifest.layers.as_slice() {
        [layer] if artifact_type == SKILLCTL_TYPE || layer.media_type == SKILLCTL_TYPE => layer,
        _ => {
            let what = match manifest.artifact_type.as_deref() {
                Some(a) => format!("an artifact of type {a}"),
                None => format!(
                    "an image with {} layer(s) (a skill, perhaps: install it with `skillc install {origin}`)",
                    manifest.layers.len()
                ),
            };
            return Err(not_a_collection(&origin, &what));
        }
    };
    let yaml = fetch_small_blob(&endpoint, &source, layer, MAX_COLLECTION).await?;
    if Digest::of(&yaml) != layer.digest {
        return Err(RegistryError::DigestMismatch {
            reference: origin,
            expected: layer.digest.to_string(),
            actual: Digest::of(&yaml).to_string(),
        }
        .into());
    }
    Listing::from_yaml(&origin, Some(digest), yaml)
}

fn not_a_collection(origin: &str, what: &str) -> CollectionError {
    CollectionError::Request(format!(
        "{origin} is not a skill collection: it is {what}. A collection is pushed with `skillc collection push FILE REF` (or skillctl, arconia, skills-oci)"
    ))
}

/// The skills an Agent Skills collection index lists.
fn from_index(
    reference: &Reference,
    digest: Digest,
    value: &serde_json::Value,
) -> Result<Listing, CollectionError> {
    let origin = reference.to_string();
    let invalid = |message: String| CollectionError::Invalid {
        file: origin.clone(),
        line: None,
        message,
    };
    let annotations = |v: &serde_json::Value| -> BTreeMap<String, String> {
        v.get("annotations")
            .and_then(|a| serde_json::from_value(a.clone()).ok())
            .unwrap_or_default()
    };
    let top = annotations(value);
    let children = value
        .get("manifests")
        .and_then(|m| m.as_array())
        .cloned()
        .unwrap_or_default();
    if children.len() > MAX_SKILLS {
        return Err(invalid(format!(
            "{} skills listed, over the {MAX_SKILLS} one collection may hold",
            children.len()
        )));
    }
    let mut entries: Vec<Entry> = Vec::new();
    for (i, child) in children.iter().enumerate() {
        let a = annotations(child);
        let child_digest = child
            .get("digest")
            .and_then(|d| d.as_str())
            .map(Digest::parse)
            .transpose()
            .map_err(|e| invalid(format!("manifests[{i}]: {e}")))?
            .ok_or_else(|| invalid(format!("manifests[{i}] has no digest")))?;
        let name = a
            .get("io.agentskills.skill.name")
            .or_else(|| a.get("org.opencontainers.image.title"))
            .cloned()
            .ok_or_else(|| invalid(format!("manifests[{i}] has no io.agentskills.skill.name")))?;
        // The child's repository: from its reference annotation when that is
        // a full reference, else the collection's own.
        let named = a
            .get("io.agentskills.skill.ref")
            .or_else(|| a.get("org.opencontainers.image.ref.name"))
            .and_then(|r| Reference::parse(r).ok())
            .filter(|r| r.registry.is_some());
        let mut pinned = named.unwrap_or_else(|| Reference {
            tag: None,
            digest: None,
            ..reference.clone()
        });
        pinned.digest = Some(child_digest);
        if let Some(problem) = crate::skill::rules::name_problems(&name).first() {
            return Err(invalid(format!(
                "manifests[{i}]: the skill name {name:?}: {problem}"
            )));
        }
        if entries.iter().any(|e| e.name == name) {
            return Err(invalid(format!(
                "the skill {name:?} is listed twice (manifests[{i}])"
            )));
        }
        entries.push(Entry {
            name,
            reference: pinned.to_string(),
            git: false,
        });
    }
    let name = top
        .get("io.agentskills.collection.name")
        .cloned()
        .unwrap_or_default();
    let version = top
        .get("org.opencontainers.image.version")
        .cloned()
        .unwrap_or_default();
    let description = top.get("org.opencontainers.image.description").cloned();
    let pairs: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e.name.clone(), e.reference.clone()))
        .collect();
    let yaml = format::to_yaml(&name, &version, description.as_deref(), &pairs).into_bytes();
    Ok(Listing {
        origin,
        digest: Some(digest),
        form: Form::AgentSkills,
        name,
        version,
        description,
        entries,
        yaml,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_is_skillctls_to_the_byte() {
        let yaml = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../testdata/skillctl/collection/hr-skills.yaml"),
        )
        .unwrap();
        let c = format::parse(&yaml, "x").unwrap();
        let ours = skillctl_manifest(&yaml, &c, "2026-05-06T10:00:00Z");
        let theirs = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../testdata/skillctl/collection/hr-skills.manifest.json"),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap().trim_end()
        );
    }

    #[test]
    fn index_children_name_their_repository() {
        let reference = Reference::parse("127.0.0.1:5000/team/set:1").unwrap();
        let d = "sha256:".to_string() + &"a".repeat(64);
        let value = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "artifactType": AGENTSKILLS_TYPE,
            "manifests": [
                {"mediaType": oci::MANIFEST_V1, "digest": d, "size": 0,
                 "annotations": {"io.agentskills.skill.name": "a", "io.agentskills.skill.ref": "127.0.0.1:5000/team/a:1.0.0"}},
                {"mediaType": oci::MANIFEST_V1, "digest": d, "size": 12,
                 "annotations": {"io.agentskills.skill.name": "b", "org.opencontainers.image.ref.name": "1.0.0"}}
            ],
            "annotations": {"io.agentskills.collection.name": "set", "org.opencontainers.image.version": "1"}
        });
        let listing = from_index(&reference, Digest::of(b"x"), &value).unwrap();
        assert_eq!(listing.name, "set");
        assert_eq!(
            listing.entries[0].reference,
            format!("127.0.0.1:5000/team/a:1.0.0@{d}")
        );
        assert_eq!(
            listing.entries[1].reference,
            format!("127.0.0.1:5000/team/set@{d}")
        );
        let again = Listing::from_yaml("y", None, listing.yaml.clone()).unwrap();
        assert_eq!(again.entries, listing.entries);
    }
}
