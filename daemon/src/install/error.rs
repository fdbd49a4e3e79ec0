//! Why an install, upgrade, rollback, removal or listing failed. `api/`
//! maps each variant to a wire code in one place (`api/error.rs`); the
//! domain never speaks HTTP.

use crate::image::extract::ExtractError;
use crate::image::reference::BadReference;
use crate::index::IndexError;
use crate::registry::RegistryError;
use crate::registry::pull::TransferError;
use crate::store::catalog::{CatalogError, FindError};
use crate::trust::enforce::TrustError;

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The request cannot be carried out as asked (a relative path, a
    /// target that does not exist, a file where a folder should be).
    #[error("{0}")]
    Invalid(String),
    /// No such install.
    #[error("{0}")]
    NotFound(String),
    /// The user's work or another skill is in the way (edited by hand, not
    /// installed by skilld, another skill of that name, no earlier version):
    /// nothing was changed.
    #[error("{0}")]
    Conflict(String),
    /// The trust policy refused the image.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The scan policy refused the image.
    #[error(transparent)]
    Unsafe(#[from] crate::scan::policy::Unsafe),
    /// The skills it needs cannot be installed together (a conflict, a
    /// cycle, a missing skill): nothing was written.
    #[error(transparent)]
    Depend(#[from] crate::depend::DependError),
    #[error(transparent)]
    Reference(#[from] BadReference),
    #[error(transparent)]
    Find(#[from] FindError),
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Transfer(#[from] TransferError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Index(#[from] IndexError),
    /// Something on this machine failed (a rename, a folder that cannot be
    /// made).
    #[error("{0}")]
    Internal(String),
}

impl From<crate::scan::policy::ScanError> for InstallError {
    fn from(e: crate::scan::policy::ScanError) -> InstallError {
        match e {
            crate::scan::policy::ScanError::Unsafe(u) => InstallError::Unsafe(u),
            crate::scan::policy::ScanError::Failed(m) => InstallError::Internal(m),
        }
    }
}

impl InstallError {
    pub fn invalid(message: impl Into<String>) -> InstallError {
        InstallError::Invalid(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> InstallError {
        InstallError::NotFound(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> InstallError {
        InstallError::Conflict(message.into())
    }

    pub fn internal(message: impl Into<String>) -> InstallError {
        InstallError::Internal(message.into())
    }

    /// Whether this is a refusal (nothing was tried: the user's work or the
    /// trust policy is in the way) rather than a failure, for the history.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            InstallError::Conflict(_)
                | InstallError::Trust(TrustError::Refused { .. })
                | InstallError::Unsafe(_)
        )
    }

    /// Whether the trust policy refused the image.
    pub fn is_untrusted(&self) -> bool {
        matches!(self, InstallError::Trust(TrustError::Refused { .. }))
    }
}
