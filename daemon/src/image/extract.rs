//! Extracting an image from the store into `PARENT/<name>`, atomically: the
//! layer is unpacked (safely, see [`super::unpack`]) into a temp folder beside
//! the destination, its digest checked to the last byte, the skill's name
//! read from its SKILL.md, and only then renamed into place.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use skilld_proto::images::ImageFormat;

use super::inspect::format_of;
use super::unpack::{Compression, FileTap, Tree, UnpackError, UnpackLimits, Unpacked};
use crate::oci::Manifest;
use crate::skill::rules::name_problems;
use crate::store::{MAX_JSON_BLOB, Store, StoreError};

/// The hidden folder, inside a target folder, where skills are unpacked
/// before they are renamed into place: agents load any folder with a
/// `SKILL.md` one level down, never one two levels down in a dot folder.
pub const STAGING: &str = ".skilld-staging";

/// Why an extraction failed.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{} already exists; remove it or choose another folder", .0.display())]
    Exists(PathBuf),
    #[error("the skill's name {0:?} is not a valid folder name; refused")]
    BadName(String),
    #[error(
        "the image holds no SKILL.md at its root, so it is not a skill: found {0}; a skill image has SKILL.md at the top of its layer (or in its one folder)"
    )]
    NotASkill(String),
    #[error("cannot prepare {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The `name:` in a SKILL.md's frontmatter, if it has a valid one.
pub fn skill_name(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("SKILL.md")).ok()?;
    let mut problems = Vec::new();
    let md = crate::skill::frontmatter::check(&text, "", false, &mut problems)?;
    md.name.filter(|n| name_problems(n).is_empty())
}

/// Make sure `dir` is a skill: SKILL.md at its root, or else exactly one
/// folder at the root holding one (an image built from `COPY . /name/`),
/// whose content then becomes the root (anything beside it is dropped); the
/// name of that folder. Anything else is refused with what was found.
fn skill_at_root(dir: &Path) -> Result<Option<String>, ExtractError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExtractError::Io { path, source }
    };
    let is_file = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file());
    if is_file(&dir.join("SKILL.md")) {
        return Ok(None);
    }
    let mut found: Vec<String> = Vec::new();
    let mut skills: Vec<String> = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .collect::<Result<_, _>>()
        .map_err(io(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in &entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let real_dir = std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir());
        if real_dir && is_file(&entry.path().join("SKILL.md")) {
            skills.push(name.clone());
        }
        found.push(if real_dir { format!("{name}/") } else { name });
    }
    if let [only] = skills.as_slice() {
        let inner = dir.join(format!(".skilld-lift-{}", std::process::id()));
        std::fs::rename(dir.join(only), &inner).map_err(io(&inner))?;
        for entry in &entries {
            let path = entry.path();
            if path == dir.join(only) {
                continue;
            }
            let removed = if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(io(&path))?;
        }
        for entry in std::fs::read_dir(&inner).map_err(io(&inner))? {
            let entry = entry.map_err(io(&inner))?;
            std::fs::rename(entry.path(), dir.join(entry.file_name())).map_err(io(dir))?;
        }
        std::fs::remove_dir(&inner).map_err(io(&inner))?;
        return Ok(Some(only.clone()));
    }
    const SHOWN: usize = 8;
    let mut listed = found
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if found.len() > SHOWN {
        listed.push_str(&format!(" and {} more", found.len() - SHOWN));
    }
    let what = match (skills.len(), found.is_empty()) {
        (0, true) => "an empty layer".to_string(),
        (0, false) => listed,
        (n, _) => format!(
            "{listed} ({n} folders hold a SKILL.md: a set of skills, each to be pushed as its own image)"
        ),
    };
    Err(ExtractError::NotASkill(what))
}

/// Unpack the image whose manifest is `manifest` into the empty folder
/// `dir`, its digest checked to the last byte; the skill's name (from its
/// SKILL.md, else the artifact's root folder, else `fallback_name`).
/// With `tap`, every regular file is handed to it as it is written.
pub fn unpack_image(
    store: &Store,
    manifest: &Manifest,
    dir: &Path,
    fallback_name: &str,
    limits: UnpackLimits,
    tap: Option<&mut dyn FileTap>,
) -> Result<(String, Unpacked), ExtractError> {
    if manifest.layers.is_empty() {
        return Err(UnpackError::Corrupt("the image has no layer".into()).into());
    }
    let root_name = match format_of(manifest) {
        ImageFormat::Agentskills => {
            let config: serde_json::Value =
                serde_json::from_slice(&store.read(&manifest.config.digest, MAX_JSON_BLOB)?)
                    .unwrap_or_default();
            Some(
                config
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or(fallback_name)
                    .to_string(),
            )
        }
        ImageFormat::Skillimage => None,
    };
    // Every layer in order onto one tree (a plain `podman build` image has
    // one per COPY), each read to its end so its digest check runs: a
    // corrupt blob fails here, before anything is moved into place.
    let mut tree = Tree::new(dir, root_name.as_deref(), limits);
    if let Some(tap) = tap {
        tree = tree.tapped(tap);
    }
    for layer in &manifest.layers {
        let compression = Compression::of(&layer.media_type).ok_or_else(|| {
            UnpackError::Corrupt(format!(
                "layer {} is of media type {}, which skilld does not unpack",
                layer.digest, layer.media_type
            ))
        })?;
        let mut reader = store.open_blob(&layer.digest)?;
        tree.apply(&mut reader, compression)?;
        std::io::copy(&mut reader, &mut std::io::sink())
            .map_err(|e| UnpackError::Corrupt(e.to_string()))?;
    }
    let unpacked = tree.finish()?;
    let lifted = skill_at_root(dir)?;
    let name = skill_name(dir)
        .or(lifted)
        .or(root_name)
        .unwrap_or_else(|| fallback_name.to_string());
    if !name_problems(&name).is_empty() {
        return Err(ExtractError::BadName(name));
    }
    Ok((name, unpacked))
}

/// Unpack the image whose manifest is `manifest` into `parent/<name>`.
/// `fallback_name` is used when the skill names itself nowhere.
pub fn extract(
    store: &Store,
    manifest: &Manifest,
    parent: &Path,
    fallback_name: &str,
    limits: UnpackLimits,
) -> Result<(PathBuf, Unpacked), ExtractError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExtractError::Io { path, source }
    };
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    // Unpacked in the hidden staging folder (see `install::swap`), where no
    // agent looks for skills, then renamed into place.
    let area = parent.join(STAGING);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&area)
        .map_err(io(&area))?;
    let tmp = tempfile::Builder::new()
        .prefix("unpack-")
        .tempdir_in(&area)
        .map_err(io(&area))?;
    let unpacked = unpack_image(store, manifest, tmp.path(), fallback_name, limits, None);
    let (name, unpacked) = match unpacked {
        Ok(done) => done,
        Err(e) => {
            drop(tmp);
            let _ = std::fs::remove_dir(&area);
            return Err(e);
        }
    };
    let dest = parent.join(&name);
    if std::fs::symlink_metadata(&dest).is_ok() {
        drop(tmp);
        let _ = std::fs::remove_dir(&area);
        return Err(ExtractError::Exists(dest));
    }
    let kept = tmp.keep();
    std::fs::set_permissions(&kept, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .map_err(io(&kept))?;
    if let Err(e) = std::fs::rename(&kept, &dest) {
        let _ = std::fs::remove_dir_all(&kept);
        return Err(ExtractError::Io {
            path: dest,
            source: e,
        });
    }
    // Empty now, unless another unpack is under way there.
    let _ = std::fs::remove_dir(&area);
    Ok((dest, unpacked))
}
