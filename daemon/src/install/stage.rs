//! Staging an image as a skill folder beside its destination: safe unpack
//! (digest checked to the last byte), the skill's name from its SKILL.md,
//! provenance written into skill.yaml, and the tree digest taken.

use std::path::{Path, PathBuf};

use super::provenance::{self, Origin};
use super::{swap, tree};
use crate::image::extract::{ExtractError, unpack_image};
use crate::image::lifecycle::image_version;
use crate::image::unpack::{FileTap, UnpackLimits};
use crate::oci::{Manifest, annotation};
use crate::store::Store;
use crate::store::digest::Digest;

/// A skill ready to be swapped in.
#[derive(Debug)]
pub struct Staged {
    /// The staged folder, beside its destination.
    pub dir: PathBuf,
    pub name: String,
    pub content_hash: Digest,
    pub files: u64,
    /// The installed version (see [`crate::image::lifecycle::image_version`],
    /// then the SKILL.md's `metadata.version`); none when nothing says.
    pub version: Option<String>,
}

/// What is being installed.
pub struct Source<'a> {
    pub reference: &'a str,
    pub digest: &'a Digest,
    pub manifest: &'a Manifest,
    /// Used when the skill names itself nowhere.
    pub fallback_name: &'a str,
    pub namespace: Option<&'a str>,
    /// The tag installed from, when one was named.
    pub tag: Option<&'a str>,
}

/// Stage `source` in `parent` (created if missing); with `tap`, every file
/// unpacked is handed to it too (the content scan).
pub fn stage(
    store: &Store,
    source: &Source<'_>,
    parent: &Path,
    limits: UnpackLimits,
    tap: Option<&mut dyn FileTap>,
) -> Result<Staged, ExtractError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e| ExtractError::Io { path, source: e }
    };
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let dir = swap::sibling(&parent.join(source.fallback_name), "staged");
    std::fs::create_dir(&dir).map_err(io(&dir))?;
    let started = std::time::Instant::now();
    let result = fill(store, source, &dir, limits, tap);
    let filled = started.elapsed();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&dir);
        swap::tidy_area(parent);
    }
    let (name, files, version) = result?;
    let content_hash = tree::digest(&dir).map_err(io(&dir))?;
    tracing::debug!(
        files,
        unpack_ms = filled.as_secs_f64() * 1e3,
        digest_ms = (started.elapsed() - filled).as_secs_f64() * 1e3,
        "staged"
    );
    Ok(Staged {
        dir,
        name,
        content_hash,
        files,
        version,
    })
}

fn fill(
    store: &Store,
    source: &Source<'_>,
    dir: &Path,
    limits: UnpackLimits,
    tap: Option<&mut dyn FileTap>,
) -> Result<(String, u64, Option<String>), ExtractError> {
    let manifest = source.manifest;
    let (name, unpacked) = unpack_image(store, manifest, dir, source.fallback_name, limits, tap)?;
    let a = &manifest.annotations;
    let version = image_version(a, source.tag).or_else(|| skill_md_version(dir));
    let origin = Origin {
        reference: source.reference,
        digest: source.digest.as_str(),
        name: &name,
        namespace: source.namespace,
        version: version.as_deref(),
        description: a.get(annotation::DESCRIPTION).map(String::as_str),
    };
    provenance::write(dir, &origin).map_err(|e| ExtractError::Io {
        path: dir.join("skill.yaml"),
        source: e,
    })?;
    Ok((name, unpacked.files, version))
}

/// `metadata.version` in the staged SKILL.md's frontmatter, when it is
/// semver (the last place a version can come from).
fn skill_md_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("SKILL.md")).ok()?;
    let md = crate::skill::frontmatter::check(&text, "", false, &mut Vec::new())?;
    md.metadata
        .get("version")
        .filter(|v| semver::Version::parse(v).is_ok())
        .cloned()
}
