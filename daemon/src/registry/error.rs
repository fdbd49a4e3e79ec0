//! Registry failures, each turned into a message that says what to do.

use oci_client::errors::OciDistributionError;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{host} refused the credentials{from}; log in with `skillc login {host}`", from = found_in.as_ref().map(|s| format!(" from {s}")).unwrap_or_default())]
    Unauthorized {
        host: String,
        found_in: Option<String>,
    },
    #[error("{host} needs credentials; log in with `skillc login {host}`")]
    NeedsLogin { host: String },
    #[error(
        "TLS with {host} failed: {detail}; if the registry uses a private CA, set registries.\"{host}\".ca_file in config.yaml"
    )]
    Tls { host: String, detail: String },
    #[error(
        "cannot reach {host}: {detail}; check the host name and port, and that the registry is running"
    )]
    Unreachable { host: String, detail: String },
    #[error("{reference} was not found on the registry{tags}")]
    NotFound { reference: String, tags: String },
    #[error(
        "{reference}: the registry sent content whose digest {actual} is not the {expected} it claims; refused, nothing stored"
    )]
    DigestMismatch {
        reference: String,
        expected: String,
        actual: String,
    },
    #[error(
        "{reference}: the registry sent content that does not match its digest ({detail}); refused, nothing stored"
    )]
    Tampered { reference: String, detail: String },
    #[error(
        "{reference} is not a skill image: found {found}; skilld installs the skillimage form (files at the layer root), the Agent Skills artifact, or an image of tar layers (gzip, zstd or uncompressed)"
    )]
    Unsupported { reference: String, found: String },
    #[error(
        "{reference} is a skill collection, not a skill: {summary}; install all of it with `skillc collection install {reference}`, or follow it with `skillc subscribe {reference}`"
    )]
    Collection { reference: String, summary: String },
    #[error("{reference}: {message}")]
    Invalid { reference: String, message: String },
    #[error("{host}: {message}")]
    Other { host: String, message: String },
}

impl RegistryError {
    /// Classify an oci-client error for `host`.
    pub fn from_oci(
        host: &str,
        reference: &str,
        error: OciDistributionError,
        credential_source: Option<&str>,
    ) -> RegistryError {
        let unauthorized = || {
            if credential_source.is_some() {
                RegistryError::Unauthorized {
                    host: host.to_string(),
                    found_in: credential_source.map(str::to_string),
                }
            } else {
                RegistryError::NeedsLogin {
                    host: host.to_string(),
                }
            }
        };
        match error {
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => unauthorized(),
            OciDistributionError::ImageManifestNotFoundError(_) => RegistryError::NotFound {
                reference: reference.to_string(),
                tags: String::new(),
            },
            OciDistributionError::ServerError { code: 401, .. } => unauthorized(),
            OciDistributionError::ServerError { code: 404, .. } => RegistryError::NotFound {
                reference: reference.to_string(),
                tags: String::new(),
            },
            OciDistributionError::RegistryError { envelope, .. } => {
                let text = envelope.to_string();
                let lower = text.to_lowercase().replace('_', " ");
                if lower.contains("unauthorized")
                    || lower.contains("denied")
                    || lower.contains("authentication required")
                {
                    unauthorized()
                } else if lower.contains("manifest unknown")
                    || lower.contains("name unknown")
                    || lower.contains("blob unknown")
                {
                    RegistryError::NotFound {
                        reference: reference.to_string(),
                        tags: String::new(),
                    }
                } else {
                    RegistryError::Other {
                        host: host.to_string(),
                        message: text,
                    }
                }
            }
            OciDistributionError::DigestError(e) => RegistryError::Tampered {
                reference: reference.to_string(),
                detail: e.to_string(),
            },
            OciDistributionError::RequestError(e)
                if e.status()
                    .is_some_and(|s| s.as_u16() == 401 || s.as_u16() == 403) =>
            {
                unauthorized()
            }
            OciDistributionError::RequestError(e)
                if e.status().is_some_and(|s| s.as_u16() == 404) =>
            {
                RegistryError::NotFound {
                    reference: reference.to_string(),
                    tags: String::new(),
                }
            }
            OciDistributionError::RequestError(e) => from_request(host, &e),
            other => RegistryError::Other {
                host: host.to_string(),
                message: other.to_string(),
            },
        }
    }
}

/// An error and its causes on one line.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        source = e.source();
    }
    out
}

/// Classify a transport error.
pub fn from_request(host: &str, e: &reqwest::Error) -> RegistryError {
    let detail = chain(e);
    let lower = detail.to_lowercase();
    if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("unknownissuer")
    {
        RegistryError::Tls {
            host: host.to_string(),
            detail,
        }
    } else if e.is_connect() || e.is_timeout() || lower.contains("dns") || lower.contains("resolve")
    {
        RegistryError::Unreachable {
            host: host.to_string(),
            detail,
        }
    } else {
        RegistryError::Other {
            host: host.to_string(),
            message: detail,
        }
    }
}
