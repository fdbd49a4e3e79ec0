//! The dependencies an image declares. skilld writes them at build time
//! into the manifest annotation `io.skilld.dependencies`, so a resolver
//! reads manifests only; for an image another tool built, the SkillCard's
//! `spec.dependencies` is read from the `skill.yaml` in its layer (at the
//! layer root, or in the one folder an Agent Skills artifact wraps the
//! skill in), streamed from the store without unpacking anything.

use std::io::Read;

use skilld_proto::skill::Dependency;

use crate::image::unpack::{Compression, zstd_reader};
use crate::oci::{Manifest, annotation};
use crate::store::Store;

/// Largest `skill.yaml` read.
const MAX_CARD: u64 = 1024 * 1024;
/// Tar entries looked at before giving up on finding `skill.yaml`.
const MAX_ENTRIES: usize = 100_000;

/// Why an image's dependencies cannot be known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Undeclared {
    /// Its layer cannot be read (not the compression its media type says,
    /// cut short): installing it fails the same way, and says so better.
    #[error("{0}")]
    Layer(String),
    /// It declares them in a form that cannot be read.
    #[error("{0}")]
    Declaration(String),
}

/// What `manifest` (whose blobs are in `store`) declares it needs.
pub fn declared(store: &Store, manifest: &Manifest) -> Result<Vec<Dependency>, Undeclared> {
    if let Some(json) = manifest.annotations.get(annotation::DEPENDENCIES) {
        return serde_json::from_str(json).map_err(|e| {
            Undeclared::Declaration(format!(
                "its {} annotation is not a list of {{name, version}}: {e}",
                annotation::DEPENDENCIES
            ))
        });
    }
    match card_text(store, manifest).map_err(Undeclared::Layer)? {
        Some(text) => from_card(&text).map_err(Undeclared::Declaration),
        None => Ok(Vec::new()),
    }
}

/// `spec.dependencies` of a SkillCard's text (nothing else in it is
/// judged here: it was checked when the image was built).
pub fn from_card(text: &str) -> Result<Vec<Dependency>, String> {
    #[derive(serde::Deserialize)]
    struct Card {
        #[serde(default)]
        spec: Option<Spec>,
    }
    #[derive(serde::Deserialize)]
    struct Spec {
        #[serde(default)]
        dependencies: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        name: String,
        #[serde(default)]
        version: Option<serde_norway::Value>,
    }
    let card: Card = serde_norway::from_str(text)
        .map_err(|e| format!("its skill.yaml has unreadable spec.dependencies: {e}"))?;
    Ok(card
        .spec
        .map(|s| s.dependencies)
        .unwrap_or_default()
        .into_iter()
        .map(|e| Dependency {
            name: e.name,
            version: match e.version {
                Some(serde_norway::Value::String(s)) => s,
                Some(serde_norway::Value::Number(n)) => n.to_string(),
                _ => "*".to_string(),
            },
        })
        .collect())
}

/// The text of the `skill.yaml` in the image's last layer that has one.
fn card_text(store: &Store, manifest: &Manifest) -> Result<Option<String>, String> {
    for layer in manifest.layers.iter().rev() {
        let Some(compression) = Compression::of(&layer.media_type) else {
            continue;
        };
        let blob = store
            .open_blob(&layer.digest)
            .map_err(|e| format!("cannot read its layer: {e}"))?;
        let found = match compression {
            Compression::Gzip => find_card(flate2::read::GzDecoder::new(blob)),
            Compression::Zstd => find_card(zstd_reader(blob)),
            Compression::None => find_card(blob),
        }
        .map_err(|e| format!("cannot read its layer: {e}"))?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

fn find_card(stream: impl Read) -> std::io::Result<Option<String>> {
    let mut archive = tar::Archive::new(stream);
    for (seen, entry) in archive.entries()?.enumerate() {
        if seen >= MAX_ENTRIES {
            break;
        }
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let parts: Vec<_> = path
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect();
        let is_card = match parts.as_slice() {
            [name] | [_, name] => name.as_os_str() == "skill.yaml",
            _ => false,
        };
        if !is_card || !entry.header().entry_type().is_file() {
            continue;
        }
        if entry.size() > MAX_CARD {
            return Err(std::io::Error::other(format!(
                "its skill.yaml is larger than {MAX_CARD} bytes"
            )));
        }
        let mut text = String::new();
        entry.by_ref().take(MAX_CARD).read_to_string(&mut text)?;
        return Ok(Some(text));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_s_dependencies() {
        let text = "apiVersion: skillimage.io/v1alpha1\nkind: SkillCard\nmetadata:\n  name: a\nspec:\n  dependencies:\n    - name: base-tone\n      version: ^1.0\n    - name: quay.io/acme/lint\n      version: 2\n    - name: any\n";
        let deps = from_card(text).unwrap();
        let got: Vec<(&str, &str)> = deps
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("base-tone", "^1.0"),
                ("quay.io/acme/lint", "2"),
                ("any", "*")
            ]
        );
        assert!(from_card("metadata: {name: a}\n").unwrap().is_empty());
        assert!(
            from_card("spec:\n  dependencies: 7\n")
                .unwrap_err()
                .contains("spec.dependencies")
        );
    }

    fn tar_of(files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, body) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder
                .append_data(&mut header, path, body.as_bytes())
                .unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn the_card_is_found_at_the_root_or_one_folder_down() {
        let card = "spec:\n  dependencies: [{name: b, version: '1'}]\n";
        for layout in [
            vec![("SKILL.md", "x"), ("skill.yaml", card)],
            vec![("a/SKILL.md", "x"), ("a/skill.yaml", card)],
            vec![("./skill.yaml", card)],
        ] {
            let found = find_card(&tar_of(&layout)[..]).unwrap();
            assert_eq!(found.as_deref(), Some(card), "{layout:?}");
        }
        // Deeper: a reference file of that name, not the card.
        let deep = tar_of(&[("a/refs/skill.yaml", card)]);
        assert_eq!(find_card(&deep[..]).unwrap(), None);
    }
}
