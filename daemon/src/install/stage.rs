//! Staging an image as a skill folder beside its destination: safe unpack
//! (digest checked to the last byte), the skill's name from its SKILL.md,
//! provenance written into skill.yaml, and the tree digest taken.

use std::path::{Path, PathBuf};

use super::provenance::{self, Origin};
use super::{swap, tree};
use crate::image::extract::{ExtractError, skill_name};
use crate::image::inspect::format_of;
use crate::image::unpack::{UnpackError, UnpackLimits, unpack};
use crate::oci::{Manifest, annotation};
use crate::skill::rules::name_problems;
use crate::store::digest::Digest;
use crate::store::{MAX_JSON_BLOB, Store};

/// A skill ready to be swapped in.
#[derive(Debug)]
pub struct Staged {
    /// The staged folder, beside its destination.
    pub dir: PathBuf,
    pub name: String,
    pub content_hash: Digest,
    pub files: u64,
}

/// What is being installed.
pub struct Source<'a> {
    pub reference: &'a str,
    pub digest: &'a Digest,
    pub manifest: &'a Manifest,
    /// Used when the skill names itself nowhere.
    pub fallback_name: &'a str,
    pub namespace: Option<&'a str>,
}

/// Stage `source` in `parent` (created if missing).
pub fn stage(
    store: &Store,
    source: &Source<'_>,
    parent: &Path,
    limits: UnpackLimits,
) -> Result<Staged, ExtractError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e| ExtractError::Io { path, source: e }
    };
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let dir = swap::sibling(&parent.join(source.fallback_name), "staged");
    std::fs::create_dir(&dir).map_err(io(&dir))?;
    let result = fill(store, source, &dir, limits);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (name, files) = result?;
    let content_hash = tree::digest(&dir).map_err(io(&dir))?;
    Ok(Staged {
        dir,
        name,
        content_hash,
        files,
    })
}

fn fill(
    store: &Store,
    source: &Source<'_>,
    dir: &Path,
    limits: UnpackLimits,
) -> Result<(String, u64), ExtractError> {
    let manifest = source.manifest;
    let layer = manifest.layers.first().ok_or_else(|| {
        ExtractError::Unpack(UnpackError::Corrupt("the image has no layer".into()))
    })?;
    let root = match format_of(manifest) {
        skilld_proto::images::ImageFormat::Agentskills => {
            let config: serde_json::Value =
                serde_json::from_slice(&store.read(&manifest.config.digest, MAX_JSON_BLOB)?)
                    .unwrap_or_default();
            Some(
                config
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or(source.fallback_name)
                    .to_string(),
            )
        }
        skilld_proto::images::ImageFormat::Skillimage => None,
    };
    let mut reader = store.open_blob(&layer.digest)?;
    let unpacked = unpack(&mut reader, dir, root.as_deref(), limits)?;
    std::io::copy(&mut reader, &mut std::io::sink())
        .map_err(|e| UnpackError::Corrupt(e.to_string()))?;
    let name = skill_name(dir)
        .or(root)
        .unwrap_or_else(|| source.fallback_name.to_string());
    if !name_problems(&name).is_empty() {
        return Err(ExtractError::BadName(name));
    }
    let a = &manifest.annotations;
    let origin = Origin {
        reference: source.reference,
        digest: source.digest.as_str(),
        name: &name,
        namespace: source.namespace,
        version: a.get(annotation::VERSION).map(String::as_str),
        description: a.get(annotation::DESCRIPTION).map(String::as_str),
    };
    provenance::write(dir, &origin).map_err(|e| ExtractError::Io {
        path: dir.join("skill.yaml"),
        source: e,
    })?;
    Ok((name, unpacked.files))
}
