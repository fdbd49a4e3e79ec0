//! `skillc show`: what an image is before anyone installs it. The image
//! (already in the store) is unpacked into a private temporary folder under
//! the same limits as an install, its SKILL.md and file list read, each
//! install of the same skill compared with it file by file, and the folder
//! removed. Nothing is written where an agent reads.

use std::path::{Path, PathBuf};

use skilld_proto::catalog::{InstalledChange, ShowFile};

use crate::image::extract::{ExtractError, unpack_image};
use crate::image::unpack::UnpackLimits;
use crate::index::installs::InstallRow;
use crate::install::tree::fingerprints;
use crate::oci::Manifest;
use crate::store::Store;

/// The largest SKILL.md returned (bytes).
const MAX_SKILL_MD: usize = 1 << 20;

/// What the unpacked image holds.
#[derive(Debug)]
pub struct Content {
    pub name: String,
    pub skill_md: String,
    pub files: Vec<ShowFile>,
    pub installed: Vec<InstalledChange>,
}

/// Why an image cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error("cannot use the temporary folder {path}: {source}")]
    Temp {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The image to show.
#[derive(Debug, Clone)]
pub struct Subject {
    pub manifest: Manifest,
    /// Its manifest digest and repository (`HOST/PATH`).
    pub digest: String,
    pub repository: String,
    /// Its name when the skill names itself nowhere.
    pub fallback_name: String,
}

/// Unpack `subject` from `store` under `tmp`, and compare it with the
/// installs in `installs` that are the same skill (by name or repository).
pub fn read(
    store: &Store,
    subject: &Subject,
    tmp: &Path,
    limits: UnpackLimits,
    installs: &[InstallRow],
) -> Result<Content, ShowError> {
    let Subject {
        manifest,
        digest,
        repository,
        fallback_name,
    } = subject;
    std::fs::create_dir_all(tmp).map_err(|source| ShowError::Temp {
        path: tmp.to_path_buf(),
        source,
    })?;
    let area = tempfile::Builder::new()
        .prefix("show-")
        .tempdir_in(tmp)
        .map_err(|source| ShowError::Temp {
            path: tmp.to_path_buf(),
            source,
        })?;
    let dir = area.path().join("skill");
    std::fs::create_dir(&dir).map_err(|source| ShowError::Temp {
        path: dir.clone(),
        source,
    })?;
    let (name, _) = unpack_image(store, manifest, &dir, fallback_name, limits, None)?;
    let io = |source| ShowError::Temp {
        path: dir.clone(),
        source,
    };
    let skill_md = match std::fs::read(dir.join("SKILL.md")) {
        Ok(bytes) => {
            let cut = &bytes[..bytes.len().min(MAX_SKILL_MD)];
            String::from_utf8_lossy(cut).into_owned()
        }
        Err(_) => String::new(),
    };
    let theirs = fingerprints(&dir).map_err(io)?;
    let files = theirs
        .keys()
        .map(|path| ShowFile {
            size: std::fs::symlink_metadata(dir.join(path))
                .map(|m| m.len())
                .unwrap_or(0),
            path: path.clone(),
        })
        .collect();
    let installed = installs
        .iter()
        .filter(|i| i.link_of.is_none() && (i.name == name || i.repository == *repository))
        .map(|install| {
            let ours = fingerprints(Path::new(&install.path)).unwrap_or_default();
            let added = theirs
                .keys()
                .filter(|p| !ours.contains_key(*p))
                .cloned()
                .collect();
            let removed = ours
                .keys()
                .filter(|p| !theirs.contains_key(*p))
                .cloned()
                .collect();
            let changed = theirs
                .iter()
                .filter(|(p, f)| ours.get(*p).is_some_and(|o| o != *f))
                .map(|(p, _)| p.clone())
                .collect();
            InstalledChange {
                path: install.path.clone(),
                version: install.version.clone(),
                digest: install.digest.clone(),
                same: install.digest == *digest,
                added,
                removed,
                changed,
            }
        })
        .collect();
    Ok(Content {
        name,
        skill_md,
        files,
        installed,
    })
}
