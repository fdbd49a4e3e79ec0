//! Registry endpoints: push, pull, tags, login, logout.
//!
//! | route | request | response | errors |
//! |---|---|---|---|
//! | `POST /v1/pull` (NDJSON stream) | [`PullRequest`] | [`PullResponse`] | `not_found` (with the tags that exist), `upstream` (unreachable, TLS, credentials), `conflict` (digest mismatch), `invalid_request` (not a skill image) |
//! | `POST /v1/push` (NDJSON stream) | [`PushRequest`] | [`PushResponse`] | `not_found`, `upstream`, `invalid_request` |
//! | `POST /v1/tags` | [`TagsRequest`] | [`TagsResponse`] | `not_found`, `upstream` |
//! | `POST /v1/login` | [`LoginRequest`] | [`LoginResponse`] | `upstream` (`details.kind` is `unauthorized` for wrong credentials) |
//! | `POST /v1/logout` | [`LogoutRequest`] | [`LogoutResponse`] | – |
//!
//! Registry failures use the code `upstream` (HTTP 502) with
//! `details.kind`: `unauthorized`, `tls`, `unreachable` or `registry`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::images::Lifecycle;

pub const PULL_ROUTE: &str = "/v1/pull";
pub const PUSH_ROUTE: &str = "/v1/push";
pub const TAGS_ROUTE: &str = "/v1/tags";
pub const LOGIN_ROUTE: &str = "/v1/login";
pub const LOGOUT_ROUTE: &str = "/v1/logout";

/// Request of `POST /v1/pull`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    /// `HOST[:PORT]/NAME[:TAG][@DIGEST]`.
    pub reference: String,
    /// Also unpack into `output/<name>` (an absolute path).
    #[serde(default)]
    pub output: Option<PathBuf>,
    /// Require a signature that one of these public keys (absolute paths)
    /// verifies, whatever the trust policy says; refused with `untrusted`
    /// before anything is unpacked.
    #[serde(default)]
    pub verify_keys: Vec<PathBuf>,
}

/// Final result of `POST /v1/pull`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PullResponse {
    /// The local name the image is tagged with.
    pub reference: String,
    pub digest: String,
    /// Where the manifest came from (a mirror or the registry).
    pub source: String,
    pub fetched_blobs: u64,
    /// Blobs the store already had (not downloaded again).
    pub present_blobs: u64,
    pub fetched_bytes: u64,
    /// The folder the skill was unpacked to, with `output`.
    #[serde(default)]
    pub unpacked_to: Option<PathBuf>,
    #[serde(default)]
    pub files: Option<u64>,
    /// Fingerprint of the key that verified the image (with `verify_keys`
    /// or under a `signed` trust rule).
    #[serde(default)]
    pub signer: Option<String>,
}

/// Request of `POST /v1/push`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The local image.
    pub reference: String,
    /// Where to push it; default: `reference` itself (which must name a registry).
    #[serde(default)]
    pub destination: Option<String>,
}

/// Final result of `POST /v1/push`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PushResponse {
    pub reference: String,
    pub digest: String,
    pub pushed_blobs: u64,
    /// Blobs the registry already had (not sent again).
    pub skipped_blobs: u64,
    pub pushed_bytes: u64,
    /// Signature tags pushed along: the store's signatures of the image
    /// (kept by a verified install, `save` or `load`), when the destination
    /// had none for that digest.
    #[serde(default)]
    pub signatures: Vec<String>,
    /// Content scan findings at or above `scan.warn` (a push is not
    /// refused for them: the registry's readers scan on install).
    #[serde(default)]
    pub findings: Vec<crate::scan::Finding>,
}

/// Request of `POST /v1/tags`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TagsRequest {
    /// `HOST[:PORT]/NAME` (a tag, if given, is ignored).
    pub repository: String,
    /// Only published strict-semver versions.
    #[serde(default)]
    pub published: bool,
}

/// One tag of a remote repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RemoteTag {
    pub tag: String,
    pub digest: Option<String>,
    pub version: Option<String>,
    pub status: Option<Lifecycle>,
    /// A strict-semver release that is published (or carries no status).
    pub published: bool,
}

/// Response of `POST /v1/tags`: semver order, highest last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TagsResponse {
    pub repository: String,
    pub tags: Vec<RemoteTag>,
}

/// Request of `POST /v1/login`. The password travels only over the private
/// socket and is never echoed, logged or returned.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub registry: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("registry", &self.registry)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Response of `POST /v1/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LoginResponse {
    pub registry: String,
    pub username: String,
    /// The auth file the credentials were saved to.
    pub saved_to: PathBuf,
}

/// Request of `POST /v1/logout`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    pub registry: String,
}

/// Response of `POST /v1/logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LogoutResponse {
    pub registry: String,
    /// Whether there was a `skillc login` entry to remove.
    pub removed: bool,
}

pub const COPY_ROUTE: &str = "/v1/copy";
pub const SAVE_ROUTE: &str = "/v1/save";
pub const LOAD_ROUTE: &str = "/v1/load";

/// Request of `POST /v1/copy` (NDJSON stream): registry to registry, or
/// local store to registry, with the image's cosign signature tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CopyRequest {
    pub source: String,
    pub destination: String,
}

/// Final result of `POST /v1/copy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CopyResponse {
    pub source: String,
    pub destination: String,
    pub digest: String,
    pub copied_blobs: u64,
    pub skipped_blobs: u64,
    pub copied_bytes: u64,
    /// Signature tags (`sha256-<hex>.sig`) copied along.
    pub signatures: Vec<String>,
}

/// Request of `POST /v1/save`: local images into an OCI layout archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SaveRequest {
    pub references: Vec<String>,
    /// Absolute path of the `.tar` to write (replaced atomically).
    pub output: PathBuf,
}

/// Response of `POST /v1/save`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SaveResponse {
    pub output: PathBuf,
    /// Tags written, signature tags included.
    pub references: Vec<String>,
    pub blobs: u64,
    pub bytes: u64,
}

/// Request of `POST /v1/load`: an OCI layout archive into the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LoadRequest {
    /// Absolute path of the `.tar`.
    pub input: PathBuf,
}

/// Response of `POST /v1/load`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LoadResponse {
    pub references: Vec<String>,
    pub blobs: u64,
}
