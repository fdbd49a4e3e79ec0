//! The daemon's error type on the wire. Every handler returns
//! `Result<Response, ApiError>`; [`ApiError::into_response`] is the one place
//! an error becomes a status and a JSON body, using the exhaustive
//! [`ErrorCode::http_status`] mapping of the proto crate.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use skilld_proto::{ErrorBody, ErrorCode, ErrorResponse};

use super::ApiBody;
use crate::index::IndexError;

/// A failure to report to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(pub ErrorBody);

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError(ErrorBody::new(code, message))
    }

    pub fn with_details(self, details: serde_json::Value) -> ApiError {
        ApiError(self.0.with_details(details))
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    pub fn not_found_route(method: &hyper::Method, path: &str) -> ApiError {
        ApiError::new(
            ErrorCode::NotFound,
            format!(
                "no route {method} {path}; this daemon speaks protocol {} (see docs/api.md)",
                skilld_proto::PROTOCOL
            ),
        )
        .with_details(serde_json::json!({ "method": method.as_str(), "path": path }))
    }

    pub fn method_not_allowed(method: &hyper::Method, path: &str, allowed: &[&str]) -> ApiError {
        ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!(
                "{path} does not accept {method}; use {}",
                allowed.join(" or ")
            ),
        )
        .with_details(serde_json::json!({ "allowed": allowed }))
    }

    /// The HTTP response carrying this error.
    pub fn into_response(self) -> Response<ApiBody> {
        let code = self.0.code;
        let body = serde_json::to_vec(&ErrorResponse { error: self.0 }).unwrap_or_else(|_| {
            br#"{"error":{"code":"internal","message":"unserialisable error"}}"#.to_vec()
        });
        let status =
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = Response::new(Full::new(Bytes::from(body)).boxed());
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

impl From<IndexError> for ApiError {
    fn from(e: IndexError) -> ApiError {
        tracing::error!(error = %e, "index failure");
        ApiError::new(
            ErrorCode::Internal,
            format!("the index failed: {e}; see the daemon log (skilld -v) for details"),
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message)
    }
}

impl std::error::Error for ApiError {}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        use crate::store::StoreError as S;
        let code = match &e {
            S::Io { .. } => ErrorCode::Internal,
            S::MissingBlob(_)
            | S::Corrupt { .. }
            | S::BadLayout { .. }
            | S::BadManifest { .. }
            | S::DigestMismatch { .. } => ErrorCode::Conflict,
            S::TooLarge { .. } => ErrorCode::InvalidRequest,
        };
        if code == ErrorCode::Internal {
            tracing::error!(error = %e, "store failure");
        }
        ApiError::new(code, e.to_string())
    }
}

impl From<crate::store::catalog::CatalogError> for ApiError {
    fn from(e: crate::store::catalog::CatalogError) -> ApiError {
        match e {
            crate::store::catalog::CatalogError::Store(e) => e.into(),
            crate::store::catalog::CatalogError::Index(e) => e.into(),
        }
    }
}

impl From<crate::catalog::RefreshError> for ApiError {
    fn from(e: crate::catalog::RefreshError) -> ApiError {
        match e {
            crate::catalog::RefreshError::NoSources => {
                ApiError::new(ErrorCode::InvalidRequest, e.to_string())
            }
            crate::catalog::RefreshError::Index(e) => e.into(),
        }
    }
}

impl From<crate::image::reference::BadReference> for ApiError {
    fn from(e: crate::image::reference::BadReference) -> ApiError {
        ApiError::new(ErrorCode::InvalidRequest, e.to_string())
    }
}

impl From<crate::registry::RegistryError> for ApiError {
    fn from(e: crate::registry::RegistryError) -> ApiError {
        use crate::registry::RegistryError as R;
        let (code, kind, host) = match &e {
            R::Unauthorized { host, .. } | R::NeedsLogin { host } => {
                (ErrorCode::Upstream, "unauthorized", Some(host.clone()))
            }
            R::Tls { host, .. } => (ErrorCode::Upstream, "tls", Some(host.clone())),
            R::Unreachable { host, .. } => (ErrorCode::Upstream, "unreachable", Some(host.clone())),
            R::Other { host, .. } => (ErrorCode::Upstream, "registry", Some(host.clone())),
            R::NotFound { .. } => (ErrorCode::NotFound, "not_found", None),
            R::DigestMismatch { .. } | R::Tampered { .. } => {
                (ErrorCode::Conflict, "digest_mismatch", None)
            }
            R::Unsupported { .. } => (ErrorCode::InvalidRequest, "unsupported", None),
            R::Collection { .. } => (ErrorCode::InvalidRequest, "collection", None),
            R::Invalid { .. } => (ErrorCode::InvalidRequest, "invalid", None),
        };
        ApiError::new(code, e.to_string())
            .with_details(serde_json::json!({ "kind": kind, "host": host }))
    }
}

impl From<crate::registry::pull::TransferError> for ApiError {
    fn from(e: crate::registry::pull::TransferError) -> ApiError {
        match e {
            crate::registry::pull::TransferError::Registry(e) => e.into(),
            crate::registry::pull::TransferError::Catalog(e) => e.into(),
        }
    }
}

impl From<crate::image::extract::ExtractError> for ApiError {
    fn from(e: crate::image::extract::ExtractError) -> ApiError {
        use crate::image::extract::ExtractError as X;
        match e {
            X::Store(e) => e.into(),
            X::Exists(_) => ApiError::new(ErrorCode::Conflict, e.to_string()),
            X::Io { .. } => ApiError::new(ErrorCode::Internal, e.to_string()),
            X::Unpack(_) | X::BadName(_) | X::NotASkill(_) => {
                ApiError::new(ErrorCode::InvalidRequest, e.to_string())
            }
        }
    }
}

impl From<crate::store::catalog::FindError> for ApiError {
    fn from(e: crate::store::catalog::FindError) -> ApiError {
        use crate::store::catalog::FindError as F;
        match e {
            F::Reference(e) => e.into(),
            F::Catalog(e) => e.into(),
            F::NotFound {
                message,
                reference,
                tags,
            } => {
                let error = ApiError::new(ErrorCode::NotFound, message);
                match reference {
                    Some(reference) => error
                        .with_details(serde_json::json!({ "reference": reference, "tags": tags })),
                    None => error,
                }
            }
        }
    }
}

impl From<crate::trust::enforce::TrustError> for ApiError {
    fn from(e: crate::trust::enforce::TrustError) -> ApiError {
        use crate::trust::enforce::TrustError as T;
        match e {
            T::Refused {
                message,
                rule: Some(rule),
                kind,
                repository,
            } => ApiError::new(ErrorCode::Untrusted, message).with_details(serde_json::json!({
                "rule": rule,
                "type": kind,
                "repository": repository,
            })),
            T::Refused {
                message,
                rule: None,
                repository,
                ..
            } => ApiError::new(ErrorCode::Untrusted, message)
                .with_details(serde_json::json!({ "repository": repository })),
            T::BadKeys(message) => ApiError::new(ErrorCode::InvalidRequest, message),
            T::Origins { .. } => {
                tracing::error!(error = %e, "trust check failed");
                ApiError::new(ErrorCode::Internal, e.to_string())
            }
        }
    }
}

impl From<crate::depend::DependError> for ApiError {
    fn from(e: crate::depend::DependError) -> ApiError {
        use crate::depend::DependError as D;
        let (code, kind) = match &e {
            D::Conflict { .. } => (ErrorCode::Conflict, "conflict"),
            D::Cycle(_) => (ErrorCode::Conflict, "cycle"),
            D::NameClash { .. } => (ErrorCode::Conflict, "name_clash"),
            D::TooComplex(_) => (ErrorCode::Conflict, "too_complex"),
            D::TooLarge { .. } => (ErrorCode::Conflict, "too_large"),
            D::Missing { .. } => (ErrorCode::NotFound, "missing"),
            D::BadName { .. } => (ErrorCode::Conflict, "bad_name"),
            D::BadRequirement { .. } => (ErrorCode::Conflict, "bad_requirement"),
            D::Unreadable { .. } => (ErrorCode::Upstream, "unreadable"),
            D::Undeclared { .. } => (ErrorCode::Conflict, "undeclared"),
            D::Refused { .. } => (ErrorCode::Untrusted, "refused"),
        };
        ApiError::new(code, format!("{e}; nothing was written"))
            .with_details(serde_json::json!({ "dependency": kind }))
    }
}

impl From<crate::install::InstallError> for ApiError {
    fn from(e: crate::install::InstallError) -> ApiError {
        use crate::install::InstallError as I;
        match e {
            I::Invalid(message) => ApiError::new(ErrorCode::InvalidRequest, message),
            I::NotFound(message) => ApiError::new(ErrorCode::NotFound, message),
            I::Conflict(message) => ApiError::new(ErrorCode::Conflict, message),
            I::Trust(e) => e.into(),
            I::Unsafe(e) => ApiError::new(ErrorCode::UnsafeContent, e.to_string())
                .with_details(serde_json::json!({ "findings": e.findings })),
            I::Depend(e) => e.into(),
            I::Reference(e) => e.into(),
            I::Find(e) => e.into(),
            I::Extract(e) => e.into(),
            I::Registry(e) => e.into(),
            I::Transfer(e) => e.into(),
            I::Catalog(e) => e.into(),
            I::Index(e) => e.into(),
            I::Internal(message) => {
                tracing::error!(error = %message, "install failure");
                ApiError::new(ErrorCode::Internal, message)
            }
        }
    }
}

impl From<crate::project::ProjectError> for ApiError {
    fn from(e: crate::project::ProjectError) -> ApiError {
        use crate::project::ProjectError as P;
        match e {
            P::Malformed { .. } | P::Invalid { .. } | P::Request(_) => {
                ApiError::new(ErrorCode::InvalidRequest, e.to_string())
            }
            P::NotFound(message) => ApiError::new(ErrorCode::NotFound, message),
            P::Conflict(message) => ApiError::new(ErrorCode::Conflict, message),
            P::Io { .. } => ApiError::new(ErrorCode::Internal, e.to_string()),
            P::Install(e) => e.into(),
            P::Registry(e) => e.into(),
            P::Index(e) => e.into(),
        }
    }
}

impl From<crate::collection::CollectionError> for ApiError {
    fn from(e: crate::collection::CollectionError) -> ApiError {
        use crate::collection::CollectionError as C;
        match e {
            C::Invalid { .. } | C::Request(_) => {
                ApiError::new(ErrorCode::InvalidRequest, e.to_string())
            }
            C::NotFound(message) => ApiError::new(ErrorCode::NotFound, message),
            C::Conflict(message) => ApiError::new(ErrorCode::Conflict, message),
            C::Io { .. } => ApiError::new(ErrorCode::InvalidRequest, e.to_string()),
            C::Install(e) => e.into(),
            C::Registry(e) => e.into(),
            C::Project(e) => e.into(),
            C::Index(e) => e.into(),
        }
    }
}
