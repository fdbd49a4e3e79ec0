//! The local image store's endpoints: build, list, tag, inspect, remove,
//! prune and promote.
//!
//! | route | request | response | errors |
//! |---|---|---|---|
//! | `POST /v1/build` (NDJSON stream) | [`BuildRequest`] | [`BuildResponse`] | `invalid_request` (skill problems in `details.problems`, bad reference, bad git URL or `--path`), `not_found` (folder, git ref), `upstream` (the git fetch failed) |
//! | `POST /v1/build/all` (NDJSON stream) | [`BuildAllRequest`] | [`BuildAllResponse`] | as `/v1/build` for the source; a skill that fails is reported in the answer, not as an error |
//! | `GET /v1/images` | – | [`ImagesResponse`] | – |
//! | `POST /v1/images/tag` | [`TagRequest`] | [`TagResponse`] | `not_found`, `invalid_request` |
//! | `POST /v1/images/inspect` | [`InspectRequest`] | [`InspectResponse`] | `not_found`, `conflict` (corrupt blob) |
//! | `POST /v1/images/remove` | [`RemoveRequest`] | [`RemoveResponse`] | `not_found` |
//! | `POST /v1/images/prune` | – | [`PruneResponse`] | – |
//! | `POST /v1/images/promote` | [`PromoteRequest`] | [`PromoteResponse`] | `not_found`, `conflict` (not one forward step) |

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::skill::Problem;

pub const BUILD_ROUTE: &str = "/v1/build";
pub const BUILD_ALL_ROUTE: &str = "/v1/build/all";
pub const IMAGES_ROUTE: &str = "/v1/images";
pub const TAG_ROUTE: &str = "/v1/images/tag";
pub const INSPECT_ROUTE: &str = "/v1/images/inspect";
pub const REMOVE_ROUTE: &str = "/v1/images/remove";
pub const PRUNE_ROUTE: &str = "/v1/images/prune";
pub const PROMOTE_ROUTE: &str = "/v1/images/promote";

/// Lifecycle states of a skill image, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Draft,
    Testing,
    Published,
    Deprecated,
    Archived,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 5] = [
        Lifecycle::Draft,
        Lifecycle::Testing,
        Lifecycle::Published,
        Lifecycle::Deprecated,
        Lifecycle::Archived,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Draft => "draft",
            Lifecycle::Testing => "testing",
            Lifecycle::Published => "published",
            Lifecycle::Deprecated => "deprecated",
            Lifecycle::Archived => "archived",
        }
    }

    /// The one state a promotion may go to from here.
    pub const fn next(self) -> Option<Lifecycle> {
        match self {
            Lifecycle::Draft => Some(Lifecycle::Testing),
            Lifecycle::Testing => Some(Lifecycle::Published),
            Lifecycle::Published => Some(Lifecycle::Deprecated),
            Lifecycle::Deprecated => Some(Lifecycle::Archived),
            Lifecycle::Archived => None,
        }
    }

    pub fn parse(s: &str) -> Option<Lifecycle> {
        Lifecycle::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl std::fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which media types a skillimage-form build uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MediaTypes {
    /// Standard OCI image media types (podman, skopeo, Kubernetes image volumes).
    #[default]
    Standard,
    /// `application/vnd.redhat.agentskill.*` (for oc-mirror).
    Redhat,
}

/// Which image form to build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImageFormat {
    /// Files at the layer root (redhat-et/skillimage compatible).
    #[default]
    Skillimage,
    /// The Agent Skills OCI artifact: layer rooted at `<name>/`.
    Agentskills,
}

/// A git repository to build from (fetched by the daemon, depth 1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GitSource {
    /// `https://`, `http://`, `ssh://`, `git://` or `file://` URL,
    /// `user@host:path`, or `OWNER/REPO` for GitHub.
    pub url: String,
    /// Branch, tag, full ref name or full commit id; default the remote's HEAD.
    #[serde(default)]
    pub reference: Option<String>,
    /// The folder inside the repository (the skill's, or with `--all` where
    /// to look); default its root.
    #[serde(default)]
    pub path: Option<String>,
}

/// Request of `POST /v1/build`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BuildRequest {
    /// Absolute path of the skill folder (empty when `git` is given).
    #[serde(default)]
    pub path: PathBuf,
    /// Build from a git repository instead of a folder.
    #[serde(default)]
    pub git: Option<GitSource>,
    /// Reference to tag the image with; default `<namespace>/<name>:<version>-draft`.
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub media_types: MediaTypes,
    #[serde(default)]
    pub format: ImageFormat,
    #[serde(default)]
    pub strict: bool,
    #[serde(default)]
    pub namespace: Option<String>,
    /// The client's `SOURCE_DATE_EPOCH`: fixes file times and `created`.
    #[serde(default)]
    pub source_date_epoch: Option<i64>,
}

/// Final result of `POST /v1/build`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BuildResponse {
    pub reference: String,
    /// Manifest digest.
    pub digest: String,
    pub layer_digest: String,
    pub config_digest: String,
    /// Manifest, config and layer bytes together.
    pub size: u64,
    pub files: u64,
    /// Bytes of file content before compression.
    pub content_bytes: u64,
    /// Problems that did not stop the build.
    pub warnings: Vec<Problem>,
    /// Where the skill came from, for a build from git: URL (without
    /// credentials), commit, folder.
    #[serde(default)]
    pub provenance: Option<crate::skill::Provenance>,
    /// Content scan findings at or above `scan.warn` (with `strict`, one at
    /// or above `scan.block` stops the build: `unsafe_content`).
    #[serde(default)]
    pub findings: Vec<crate::scan::Finding>,
}

/// Request of `POST /v1/build/all`: every skill folder of a tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BuildAllRequest {
    /// Absolute path of the tree (empty when `git` is given).
    #[serde(default)]
    pub path: PathBuf,
    #[serde(default)]
    pub git: Option<GitSource>,
    /// `REGISTRY/NAMESPACE` (or any repository prefix): each skill is
    /// tagged `PREFIX/<name>:<version>-draft`; default
    /// `<namespace>/<name>:<version>-draft` as for one skill.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Push each image built to its registry.
    #[serde(default)]
    pub push: bool,
    #[serde(default)]
    pub media_types: MediaTypes,
    #[serde(default)]
    pub format: ImageFormat,
    #[serde(default)]
    pub strict: bool,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub source_date_epoch: Option<i64>,
}

/// What happened to one skill of a `build --all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BuildOutcome {
    /// Built (and pushed, with `push`).
    Built,
    /// The same image was already there (in the store, or with `push` in
    /// the registry under that tag): nothing new written or sent.
    Skipped,
    /// Not built (or not pushed); `problem` says why.
    Failed,
}

/// One skill of a `build --all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SkillBuild {
    /// The skill's folder, relative to the tree (`.` for its root).
    pub path: String,
    pub outcome: BuildOutcome,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
    /// Pushed to (or found in) its registry.
    #[serde(default)]
    pub pushed: bool,
    /// The first problem, for a skill that failed.
    #[serde(default)]
    pub problem: Option<String>,
}

/// Final result of `POST /v1/build/all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BuildAllResponse {
    /// The repository and commit built from, for a git source.
    #[serde(default)]
    pub source: Option<crate::skill::Provenance>,
    pub skills: Vec<SkillBuild>,
    pub built: u32,
    pub skipped: u32,
    pub failed: u32,
}

/// One tagged image of the local store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImageSummary {
    pub reference: String,
    pub repository: String,
    pub tag: String,
    pub digest: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub status: Option<Lifecycle>,
    #[serde(default)]
    pub created: Option<String>,
    /// Manifest, config and layers together.
    pub size: u64,
}

/// Response of `GET /v1/images`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImagesResponse {
    pub images: Vec<ImageSummary>,
}

/// Request of `POST /v1/images/tag`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TagRequest {
    pub source: String,
    pub target: String,
}

/// Response of `POST /v1/images/tag`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TagResponse {
    pub reference: String,
    pub digest: String,
}

/// Request of `POST /v1/images/inspect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct InspectRequest {
    pub reference: String,
    /// Ask the registry even when the local store has the image. Without it,
    /// the local store is asked first and the registry only when the image
    /// is not there and the reference names a registry.
    #[serde(default)]
    pub remote: bool,
}

/// A blob the manifest points to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BlobInfo {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

/// Response of `POST /v1/images/inspect`: read from the manifest and config
/// only, never the layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InspectResponse {
    pub reference: String,
    pub digest: String,
    pub media_type: String,
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// Which form: `skillimage` or `agentskills`.
    pub format: ImageFormat,
    pub name: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub status: Option<Lifecycle>,
    pub created: Option<String>,
    pub authors: Option<String>,
    pub license: Option<String>,
    pub vendor: Option<String>,
    pub source: Option<String>,
    pub revision: Option<String>,
    pub compatibility: Option<String>,
    pub tags: Vec<String>,
    pub wordcount: Option<u64>,
    pub annotations: BTreeMap<String, String>,
    pub config: BlobInfo,
    pub layers: Vec<BlobInfo>,
    /// `rootfs.diff_ids` of the config, when it has them.
    pub diff_ids: Vec<String>,
    /// Manifest, config and layers together.
    pub size: u64,
    /// Other local tags pointing at the same digest.
    pub also_tagged: Vec<String>,
}

/// Request of `POST /v1/images/remove`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "ImageRemoveRequest"))]
#[serde(deny_unknown_fields)]
pub struct RemoveRequest {
    /// References (`repo:tag`), or manifest digests (`sha256:…`) to untag everywhere.
    pub references: Vec<String>,
}

/// One removed tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Removed {
    pub reference: String,
    pub digest: String,
}

/// Response of `POST /v1/images/remove`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "ImageRemoveResponse"))]
pub struct RemoveResponse {
    pub removed: Vec<Removed>,
    /// Bytes that `prune` would now free.
    pub reclaimable_bytes: u64,
}

/// Response of `POST /v1/images/prune`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PruneResponse {
    pub blobs_removed: u64,
    pub bytes_freed: u64,
}

/// Request of `POST /v1/images/promote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PromoteRequest {
    pub reference: String,
    pub to: Lifecycle,
    /// Promote in the local store even though the reference names a
    /// registry (by default such a reference is promoted on its registry).
    #[serde(default)]
    pub local: bool,
}

/// Response of `POST /v1/images/promote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PromoteResponse {
    /// The reference of the promoted image (`repo:V-testing`, `repo:V`, ...).
    pub reference: String,
    /// Digest of the new manifest (only its status annotation differs).
    pub digest: String,
    pub from: Lifecycle,
    pub to: Lifecycle,
    /// Every tag set or moved by this promotion.
    pub tags: Vec<String>,
    /// Tags removed (e.g. `latest` when its version was deprecated and no
    /// other published version remains).
    pub untagged: Vec<String>,
}
