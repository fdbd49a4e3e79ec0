//! Writing provenance into an installed skill's `skill.yaml`, as skillctl
//! does: `provenance.source` is the reference installed from,
//! `provenance.commit` the manifest digest; `provenance.path` and the rest
//! of the file stay as the image had them. Without a `skill.yaml`, a
//! minimal SkillCard is written.

use std::path::Path;

/// What to record.
#[derive(Debug, Clone)]
pub struct Origin<'a> {
    pub reference: &'a str,
    pub digest: &'a str,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub version: Option<&'a str>,
    pub description: Option<&'a str>,
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Replace the top-level `provenance:` block of `text` (keeping its `path`).
pub fn rewrite(text: &str, origin: &Origin<'_>) -> String {
    let mut out = Vec::new();
    let mut kept_path = None;
    let mut in_block = false;
    for line in text.lines() {
        let top_level =
            !line.starts_with([' ', '\t']) && !line.trim().is_empty() && !line.starts_with('#');
        if top_level {
            in_block = line.starts_with("provenance:");
            if in_block {
                continue;
            }
        }
        if in_block {
            if let Some(path) = line.trim().strip_prefix("path:") {
                kept_path = Some(path.trim().to_string());
            }
            continue;
        }
        out.push(line.to_string());
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.push("provenance:".into());
    out.push(format!("  source: {}", quote(origin.reference)));
    out.push(format!("  commit: {}", quote(origin.digest)));
    if let Some(path) = kept_path {
        out.push(format!("  path: {path}"));
    }
    out.join("\n") + "\n"
}

/// A minimal SkillCard for an image that has none.
pub fn minimal(origin: &Origin<'_>) -> String {
    let mut lines = vec![
        "apiVersion: skillimage.io/v1alpha1".to_string(),
        "kind: SkillCard".to_string(),
        "metadata:".to_string(),
        format!("  name: {}", quote(origin.name)),
    ];
    if let Some(ns) = origin.namespace {
        lines.push(format!("  namespace: {}", quote(ns)));
    }
    // No version is claimed when none is known.
    if let Some(version) = origin.version {
        lines.push(format!("  version: {}", quote(version)));
    }
    lines.push(format!(
        "  description: {}",
        quote(origin.description.unwrap_or(origin.name))
    ));
    lines.join("\n") + "\n"
}

/// Write provenance into `dir/skill.yaml` (creating a minimal card).
pub fn write(dir: &Path, origin: &Origin<'_>) -> std::io::Result<()> {
    let path = dir.join("skill.yaml");
    let text = match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => std::fs::read_to_string(&path)?,
        Ok(_) => return Ok(()), // a link or folder: leave it as the image had it
        Err(_) => minimal(origin),
    };
    std::fs::write(&path, rewrite(&text, origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: Origin<'static> = Origin {
        reference: "r.io/acme/x:1.0.0",
        digest: "sha256:abc",
        name: "x",
        namespace: Some("acme"),
        version: Some("1.0.0"),
        description: Some("Does x."),
    };

    #[test]
    fn replaces_the_block_and_keeps_the_rest_and_the_path() {
        let text = "apiVersion: skillimage.io/v1alpha1\n# a comment\nmetadata:\n  name: x\nprovenance:\n  source: old\n  commit: old\n  path: skills/x\nspec:\n  prompt: hi\n";
        let out = rewrite(text, &ORIGIN);
        assert!(out.starts_with("apiVersion: skillimage.io/v1alpha1\n# a comment\nmetadata:\n  name: x\nspec:\n  prompt: hi\n"), "{out}");
        assert!(out.ends_with("provenance:\n  source: \"r.io/acme/x:1.0.0\"\n  commit: \"sha256:abc\"\n  path: skills/x\n"), "{out}");
        let card: serde_norway::Value = serde_norway::from_str(&out).unwrap();
        assert_eq!(
            card["provenance"]["source"].as_str(),
            Some("r.io/acme/x:1.0.0")
        );
    }

    #[test]
    fn a_minimal_card_is_valid_yaml_with_provenance() {
        let out = rewrite(&minimal(&ORIGIN), &ORIGIN);
        let card: skilld_proto::skill::SkillCard = serde_norway::from_str(&out).unwrap();
        assert_eq!(card.metadata.name, "x");
        assert_eq!(
            card.provenance.unwrap().commit.as_deref(),
            Some("sha256:abc")
        );
    }
}
