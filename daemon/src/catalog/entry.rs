//! What the catalog keeps of one manifest: its annotations, bounded and
//! cleaned. Annotations are whatever a publisher wrote: a description of a
//! megabyte, terminal escape sequences, HTML. Each field is cut to a
//! length, control characters become spaces (so nothing can move a
//! terminal's cursor or colour it), and the rest is kept as text: HTML is
//! escaped where it is shown, never removed here.

use crate::oci::{self, Manifest, annotation as key};

/// The longest description kept (characters).
const DESCRIPTION: usize = 2000;
/// The longest other field kept (characters).
const FIELD: usize = 256;
/// Tags kept per version, and the longest tag.
const TAGS: usize = 32;

/// One manifest as the catalog holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// Whether the manifest is a skill image (else only its digest is kept,
    /// so it is not fetched again).
    pub skill: bool,
    pub version: Option<String>,
    pub status: Option<String>,
    pub display_name: Option<String>,
    pub description: String,
    pub namespace: Option<String>,
    pub authors: Option<String>,
    pub license: Option<String>,
    pub compatibility: Option<String>,
    pub tags: Vec<String>,
    pub word_count: u64,
    pub created: Option<String>,
    pub source: Option<String>,
    pub revision: Option<String>,
}

/// `text` cut to `max` characters, each control character a space, runs of
/// whitespace one space, trimmed.
pub fn clean(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut space = false;
    let mut kept = 0;
    for c in text.chars() {
        if kept >= max {
            out.push('…');
            break;
        }
        let c = if c.is_control() || is_invisible(c) {
            ' '
        } else {
            c
        };
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
            kept += 1;
        }
        space = false;
        out.push(c);
        kept += 1;
    }
    out
}

/// Format characters that hide or reorder text on a terminal or a page:
/// bidirectional controls, zero-width characters, Unicode tags.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}' | '\u{E0000}'..='\u{E007F}')
}

fn field(manifest: &Manifest, name: &str) -> Option<String> {
    manifest
        .annotations
        .get(name)
        .map(|v| clean(v, FIELD))
        .filter(|v| !v.is_empty())
}

/// Whether `manifest` is a skill image: skillctl's status annotation (the
/// test skillctl's catalog uses), or the Agent Skills artifact's types, or
/// a layer of a skill form.
fn is_skill(manifest: &Manifest) -> bool {
    manifest.status().is_some()
        || manifest.artifact_type.as_deref() == Some(oci::AGENTSKILLS_ARTIFACT)
        || manifest.config.media_type == oci::AGENTSKILLS_CONFIG
        || manifest
            .layers
            .iter()
            .any(|l| l.media_type == oci::REDHAT_LAYER || l.media_type == oci::AGENTSKILLS_LAYER)
}

/// What the catalog keeps of the manifest `bytes` (an image index, or JSON
/// that is no manifest, is kept as "not a skill").
pub fn read(bytes: &[u8]) -> Entry {
    match serde_json::from_slice::<Manifest>(bytes) {
        Ok(manifest) if is_skill(&manifest) => of_manifest(&manifest),
        _ => Entry::default(),
    }
}

/// What the catalog keeps of `manifest`'s annotations, whatever it is.
pub fn of_manifest(manifest: &Manifest) -> Entry {
    let tags: Vec<String> = manifest
        .annotations
        .get(key::TAGS)
        .and_then(|t| serde_json::from_str::<Vec<String>>(t).ok())
        .unwrap_or_default()
        .iter()
        .map(|t| clean(t, 64))
        .filter(|t| !t.is_empty())
        .take(TAGS)
        .collect();
    Entry {
        skill: true,
        version: field(manifest, key::VERSION),
        status: manifest.status().map(|s| clean(s, 32).to_ascii_lowercase()),
        display_name: field(manifest, key::TITLE),
        description: manifest
            .annotations
            .get(key::DESCRIPTION)
            .map(|d| clean(d, DESCRIPTION))
            .unwrap_or_default(),
        namespace: field(manifest, key::VENDOR),
        authors: field(manifest, key::AUTHORS),
        license: field(manifest, key::LICENSES),
        compatibility: field(manifest, key::COMPATIBILITY)
            .or_else(|| field(manifest, key::AGENTSKILLS_COMPATIBILITY)),
        tags,
        word_count: manifest
            .annotations
            .get(key::WORDCOUNT)
            .and_then(|w| w.trim().parse().ok())
            .unwrap_or(0),
        created: field(manifest, key::CREATED),
        source: field(manifest, key::SOURCE),
        revision: field(manifest, key::REVISION),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(annotations: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": format!("sha256:{}", "a".repeat(64)), "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": format!("sha256:{}", "b".repeat(64)), "size": 3}],
            "annotations": annotations,
        }))
        .unwrap()
    }

    #[test]
    fn skillctl_annotations_are_read() {
        let e = read(&manifest(serde_json::json!({
            "io.skillimage.status": "published",
            "org.opencontainers.image.version": "1.2.0",
            "org.opencontainers.image.title": "PDF Tools",
            "org.opencontainers.image.description": "Fill   and\nsign PDF forms.",
            "org.opencontainers.image.vendor": "acme",
            "io.skillimage.tags": "[\"pdf\",\"forms\"]",
            "io.skillimage.compatibility": "claude-code",
            "io.skillimage.wordcount": "420",
        })));
        assert!(e.skill);
        assert_eq!(e.version.as_deref(), Some("1.2.0"));
        assert_eq!(e.status.as_deref(), Some("published"));
        assert_eq!(e.description, "Fill and sign PDF forms.");
        assert_eq!(e.tags, ["pdf", "forms"]);
        assert_eq!(e.word_count, 420);
        assert_eq!(e.namespace.as_deref(), Some("acme"));
    }

    #[test]
    fn what_is_not_a_skill_is_said() {
        assert!(
            !read(&manifest(
                serde_json::json!({"org.opencontainers.image.title": "nginx"})
            ))
            .skill
        );
        assert!(!read(b"{\"schemaVersion\": 2, \"manifests\": []}").skill);
        assert!(!read(b"not json").skill);
    }

    #[test]
    fn hostile_annotations_are_bounded_and_cleaned() {
        let e = read(&manifest(serde_json::json!({
            "io.skillimage.status": "published",
            "org.opencontainers.image.description": format!("\u{1b}[2J\u{1b}]0;pwned\u{7}<script>alert(1)</script>\u{202E}txt.exe{}", "x".repeat(100_000)),
            "org.opencontainers.image.title": "a\u{0}b\rc",
            "io.skillimage.tags": serde_json::to_string(&vec!["t"; 1000]).unwrap(),
        })));
        assert!(
            !e.description.chars().any(|c| c.is_control()),
            "{:?}",
            &e.description[..40]
        );
        assert!(!e.description.contains('\u{202E}'));
        assert!(
            e.description.contains("<script>"),
            "kept as text, escaped where shown"
        );
        assert!(e.description.chars().count() <= DESCRIPTION + 1);
        assert_eq!(e.display_name.as_deref(), Some("a b c"));
        assert_eq!(e.tags.len(), TAGS);
    }
}
