//! Signing and verification, cosign-compatible.
//!
//! | route | request | response | errors |
//! |---|---|---|---|
//! | `POST /v1/keygen` | [`KeygenRequest`] | [`KeygenResponse`] | `conflict` (files exist), `invalid_request` |
//! | `POST /v1/sign` | [`SignRequest`] | [`SignResponse`] | `invalid_request` (key unreadable, wrong password), `not_found`, `upstream` |
//! | `POST /v1/verify` | [`VerifyRequest`] | [`VerifyResponse`] | `invalid_request` (a key unreadable), `not_found`, `upstream` |

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub const KEYGEN_ROUTE: &str = "/v1/keygen";
pub const SIGN_ROUTE: &str = "/v1/sign";
pub const VERIFY_ROUTE: &str = "/v1/verify";

/// Request of `POST /v1/keygen`: writes `<prefix>.key` (encrypted) and `<prefix>.pub`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct KeygenRequest {
    /// Absolute path prefix, e.g. `/home/me/cosign`.
    pub prefix: PathBuf,
    pub password: String,
}

impl std::fmt::Debug for KeygenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeygenRequest")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KeygenResponse {
    pub private_key: PathBuf,
    pub public_key: PathBuf,
    /// `sha256:` of the public key's DER form.
    pub fingerprint: String,
}

/// Request of `POST /v1/sign`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// A reference on a registry.
    pub reference: String,
    /// Absolute path of the encrypted private key (cosign.key).
    pub key: PathBuf,
    pub password: String,
    /// Extra claims in the payload's `optional` section.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl std::fmt::Debug for SignRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignRequest")
            .field("reference", &self.reference)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SignResponse {
    pub reference: String,
    /// The signed manifest digest.
    pub digest: String,
    /// The signature tag (`sha256-<hex>.sig`).
    pub signature_tag: String,
    pub fingerprint: String,
    /// Signatures on the digest now, this one included.
    pub signatures: u64,
}

/// Request of `POST /v1/verify`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    pub reference: String,
    /// Absolute paths of public keys (PEM); any one suffices.
    pub keys: Vec<PathBuf>,
    /// Check the local store's image and the signatures it keeps (from a
    /// verified install, `save` or `load`), with no network. A reference
    /// without a registry is always checked so.
    #[serde(default)]
    pub local: bool,
}

/// One signature found on the digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SignatureCheck {
    pub verified: bool,
    /// The key that verified it.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// The payload's `optional` claims.
    #[serde(default)]
    pub annotations: BTreeMap<String, serde_json::Value>,
    /// Why it did not verify.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VerifyResponse {
    pub reference: String,
    pub digest: String,
    /// At least one signature verified with one of the keys.
    pub verified: bool,
    pub signatures: Vec<SignatureCheck>,
}
