//! Project skill sets: a project folder's `skills.json` (what it wants) and
//! `skills.lock.json` (what that resolved to, pinned by digest), in the
//! format arconia-cli and skills-oci use ([`files`]); resolving one into the
//! other ([`lock`]); and making the project's folders match the lock as one
//! transaction ([`sync`]). What the skills need is locked and synced with
//! them ([`depend`]).
//!
//! The daemon never rewrites a lock or moves a locked skill on its own:
//! the lock is the team's decision.

pub mod add;
pub mod depend;
pub mod files;
pub mod lock;
pub mod outdated;
pub mod remove;
pub mod requirement;
pub mod status;
pub mod sync;

use std::path::{Path, PathBuf};

use crate::index::IndexError;
use crate::install::InstallError;
use crate::registry::RegistryError;

/// Why a project could not be read, locked or synced.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// A project file is not JSON (where, and what).
    #[error("{}:{line}:{column}: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A project file says something skilld cannot do.
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Request(String),
    /// Nothing to work from (no skills.json, no version that matches, a
    /// locked digest the registry no longer has).
    #[error("{0}")]
    NotFound(String),
    /// The files disagree (`--frozen`), or the user's work is in the way.
    #[error("{0}")]
    Conflict(String),
    #[error("cannot read or write {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// The project root a request names: absolute, an existing folder, its
/// links resolved (as install folders are).
pub fn root(path: &Path) -> Result<PathBuf, ProjectError> {
    if !path.is_absolute() {
        return Err(ProjectError::Request(
            "the project must be an absolute path (skillc sends one)".into(),
        ));
    }
    let real = path.canonicalize().map_err(|e| {
        ProjectError::Request(format!(
            "the project folder {} cannot be used: {e}",
            path.display()
        ))
    })?;
    if !real.is_dir() {
        return Err(ProjectError::Request(format!(
            "{} is not a folder; name the project's folder",
            path.display()
        )));
    }
    Ok(real)
}
