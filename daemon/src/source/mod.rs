//! Building from git: a repository (or one folder of it) fetched shallow
//! into a temporary folder by gitoxide (`gix`: no libgit2, no `git`
//! program; ssh URLs run `ssh` as git does), built with exact provenance
//! (the URL, the commit, the folder) and `SOURCE_DATE_EPOCH` from the
//! commit, so the same commit gives the same digest on any machine.
//!
//! - [`url`]: what a user may type (`https://…`, `ssh://…`, `git@host:o/r`,
//!   `file:///…`, `owner/repo` for GitHub), and its form without
//!   credentials, the only one ever shown or recorded.
//! - [`credentials`]: git-credential-store's files, read directly.
//! - [`helpers`]: git's configured credential helpers, run as git runs them.
//! - [`fetch`]: the shallow fetch and checkout.
//! - [`discover`]: every skill folder of a tree, for `build --all`.

pub mod credentials;
pub mod discover;
pub mod fetch;
pub mod helpers;
pub mod url;

/// Why a git source could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{input:?} is not a git URL: {why}")]
    Url { input: String, why: String },
    #[error("cannot fetch {url}: {message}")]
    Fetch { url: String, message: String },
    #[error("{url} has no {reference:?} (a branch, tag, full ref name or commit id)")]
    NoSuchRef { url: String, reference: String },
    #[error("{url} at {commit} has no folder {path:?}")]
    NoSuchPath {
        url: String,
        commit: String,
        path: String,
    },
    #[error("--path {path:?} must be a relative folder inside the repository, without `..`")]
    BadPath { path: String },
    #[error("cannot prepare a folder for the checkout: {0}")]
    Io(#[from] std::io::Error),
}
