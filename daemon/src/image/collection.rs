//! skillctl's `SkillCollection` (redhat-et/skillimage `pkg/collection`): a
//! YAML list of skills pushed as an OCI artifact (artifactType and layer
//! [`COLLECTION_TYPE`], an empty `{}` config, the annotation
//! `io.skillimage.collection.name`). skilld reads one to say what it holds
//! when someone points `install` or `pull` at it.

use serde::Deserialize;

/// skillctl's artifactType and layer media type of a collection.
pub const COLLECTION_TYPE: &str = "application/vnd.skillimage.collection.v1+yaml";
/// The largest collection YAML read (a list of references).
pub const MAX_COLLECTION: u64 = 1 << 20;

/// A parsed `SkillCollection`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SkillCollection {
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub skills: Vec<SkillEntry>,
}

/// `metadata` of a collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// One skill of a collection: an image reference (`image`, or `source` in
/// later skillctl versions).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SkillEntry {
    pub name: String,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

impl SkillEntry {
    /// Where the skill is: `image`, else `source`.
    pub fn reference(&self) -> Option<&str> {
        self.image.as_deref().or(self.source.as_deref())
    }
}

/// Parse a collection; `kind` must be `SkillCollection`.
pub fn parse(yaml: &[u8]) -> Result<SkillCollection, String> {
    let collection: SkillCollection =
        serde_norway::from_slice(yaml).map_err(|e| format!("not a SkillCollection: {e}"))?;
    if collection.kind != "SkillCollection" {
        return Err(format!(
            "kind is {:?}, not \"SkillCollection\"",
            collection.kind
        ));
    }
    Ok(collection)
}

impl SkillCollection {
    /// One line for a person: its name and version, and each skill with its
    /// reference (at most `shown`, then how many more).
    pub fn summary(&self, shown: usize) -> String {
        let mut skills: Vec<String> = self
            .skills
            .iter()
            .take(shown)
            .map(|s| match s.reference() {
                Some(r) => format!("{} ({r})", s.name),
                None => s.name.clone(),
            })
            .collect();
        if self.skills.len() > shown {
            skills.push(format!("and {} more", self.skills.len() - shown));
        }
        format!(
            "{:?} {} lists {} skill(s): {}",
            self.metadata.name,
            self.metadata.version,
            self.skills.len(),
            skills.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skillctls_collection_parses_and_summarises() {
        let yaml = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../testdata/skillctl/collection/hr-skills.yaml"),
        )
        .unwrap();
        let collection = parse(&yaml).unwrap();
        assert_eq!(collection.api_version, "skillimage.io/v1alpha1");
        assert_eq!(collection.metadata.name, "hr-skills");
        assert_eq!(collection.skills.len(), 2);
        assert_eq!(
            collection.skills[1].reference(),
            Some("ghcr.io/acme/document-reviewer:2.1.0")
        );
        assert_eq!(
            collection.summary(1),
            "\"hr-skills\" 1.0.0 lists 2 skill(s): document-summarizer (quay.io/skillimage/business/document-summarizer:1.0.0), and 1 more"
        );
    }

    #[test]
    fn other_kinds_and_garbage_are_refused() {
        assert!(parse(b"kind: SkillCard\nmetadata: {name: x}\n").is_err());
        assert!(parse(b"\xff\xfe not yaml [").is_err());
        assert!(parse(b"skills: []\n").is_err(), "no kind");
    }
}
