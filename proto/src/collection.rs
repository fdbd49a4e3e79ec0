//! Collections (a named set of skills, skillctl's `SkillCollection` or an
//! Agent Skills collection index), subscriptions (the daemon following one)
//! and the Kubernetes YAML that mounts one into pods.
//!
//! | route | request | response | errors |
//! |---|---|---|---|
//! | `POST /v1/collections/push` | [`PushRequest`] | [`PushResponse`] | `invalid_request` (the file, with its line), `not_found` (`pin`: a skill is not there), `upstream` |
//! | `POST /v1/collections/inspect` | [`CollectionSource`] | [`CollectionInfo`] | `invalid_request` (not a collection), `not_found`, `upstream` |
//! | `POST /v1/collections/pull` (NDJSON) | [`CollectionSource`] | [`CollectionInfo`] | as inspect, and `untrusted` |
//! | `POST /v1/collections/install` (NDJSON) | [`InstallRequest`] | [`InstallResponse`] | `invalid_request`, `not_found`, `conflict` (a hand edit or another skill in the way), `untrusted`, `upstream` |
//! | `POST /v1/collections/lock` (NDJSON) | [`LockRequest`] | [`crate::project::LockResponse`] | `invalid_request`, `not_found`, `untrusted`, `upstream` |
//! | `POST /v1/collections/generate` | [`GenerateRequest`] | [`GenerateResponse`] | `invalid_request`, `not_found`, `upstream` |
//! | `GET /v1/subscriptions` | none | [`SubscriptionsResponse`] | none |
//! | `POST /v1/subscriptions` (NDJSON) | [`SubscribeRequest`] | [`SubscriptionOutcome`] | `invalid_request` (not a collection), `not_found`, `conflict`, `untrusted`, `upstream` |
//! | `POST /v1/subscriptions/remove` | [`UnsubscribeRequest`] | [`UnsubscribeResponse`] | `not_found` (no such subscription) |

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::install::InstallMode;
use crate::project::SyncChange;

pub const PUSH_ROUTE: &str = "/v1/collections/push";
pub const INSPECT_ROUTE: &str = "/v1/collections/inspect";
pub const PULL_ROUTE: &str = "/v1/collections/pull";
pub const INSTALL_ROUTE: &str = "/v1/collections/install";
pub const LOCK_ROUTE: &str = "/v1/collections/lock";
pub const GENERATE_ROUTE: &str = "/v1/collections/generate";
pub const SUBSCRIPTIONS_ROUTE: &str = "/v1/subscriptions";
pub const UNSUBSCRIBE_ROUTE: &str = "/v1/subscriptions/remove";

/// A collection: on a registry (`reference`) or in a YAML file (`file`,
/// absolute); exactly one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CollectionSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

/// Request of `POST /v1/collections/push`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "CollectionPushRequest"))]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The collection YAML (absolute path); pushed as its bytes.
    pub file: PathBuf,
    /// Where to: `registry/repository:tag`.
    pub reference: String,
    /// Resolve each `image:` that names a tag and push it as
    /// `repo:tag@digest`, so this version means the same bytes forever.
    #[serde(default)]
    pub pin: bool,
}

/// One `image:` a push pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Pinned {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// Response of `POST /v1/collections/push`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "CollectionPushResponse"))]
pub struct PushResponse {
    pub reference: String,
    /// The collection manifest's digest.
    pub digest: String,
    pub skills: u64,
    pub pinned: Vec<Pinned>,
}

/// One skill of a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CollectionSkill {
    pub name: String,
    /// As the collection lists it.
    pub reference: String,
    /// skillctl's `source:` (a git repository) rather than an image.
    #[serde(default)]
    pub git: bool,
}

/// Response of inspect and pull: what a collection is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CollectionInfo {
    /// The reference or file it was read from.
    pub origin: String,
    /// The collection manifest's digest (none for a file).
    pub digest: Option<String>,
    /// `skillctl` or `agentskills`.
    pub form: String,
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub skills: Vec<CollectionSkill>,
    /// The YAML (pull only): as pushed, or written for an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yaml: Option<String>,
}

/// Request of `POST /v1/collections/install`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "CollectionInstallRequest"))]
#[serde(deny_unknown_fields)]
pub struct InstallRequest {
    #[serde(flatten)]
    pub source: CollectionSource,
    /// Target names; empty for the default targets.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Install into this project instead (absolute): its skills.json and
    /// skills.lock.json get the collection's skills, then it is synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<InstallMode>,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub dry_run: bool,
}

/// A skill left as it was, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KeptSkill {
    pub name: String,
    pub path: PathBuf,
    pub why: String,
}

/// Final result of `POST /v1/collections/install`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "CollectionInstallResponse"))]
pub struct InstallResponse {
    pub collection: CollectionInfo,
    pub changes: Vec<SyncChange>,
    pub kept: Vec<KeptSkill>,
    pub backups: Vec<PathBuf>,
    /// Who reads the folders installed into.
    pub seen_by: Vec<String>,
}

/// Request of `POST /v1/collections/lock`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "CollectionLockRequest"))]
#[serde(deny_unknown_fields)]
pub struct LockRequest {
    #[serde(flatten)]
    pub source: CollectionSource,
    /// The project root (absolute).
    pub project: PathBuf,
    /// Targets the skills are linked into besides `.agents/skills`.
    #[serde(default)]
    pub targets: Vec<String>,
}

/// Request of `POST /v1/collections/generate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// The collection; or, with `skills`, none.
    #[serde(flatten)]
    pub source: CollectionSource,
    /// Single skills to mount (`install --k8s`, `pull --k8s`) instead of a
    /// collection.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Where the skills are mounted (`/skills`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
    /// Print a Pod of this name (the default form, named after the
    /// collection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Print a Deployment of this name instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// The agent container's image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_image: Option<String>,
    /// The older-cluster form: init containers of this image run `skillc
    /// pull --verify` into a shared volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_container: Option<String>,
    /// With `init_container`: a PersistentVolumeClaim instead of `emptyDir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc: Option<String>,
    /// With `init_container`: the Secret holding `cosign.pub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_secret: Option<String>,
}

/// Response of `POST /v1/collections/generate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GenerateResponse {
    pub yaml: String,
    /// Each skill, pinned: `registry/repository@sha256:…`.
    pub skills: Vec<CollectionSkill>,
}

/// What a subscription does when its collection changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionPolicy {
    /// Converge the targets on it.
    #[default]
    Auto,
    /// Only report it (an event, `skillc subscriptions`).
    Notify,
}

impl SubscriptionPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionPolicy::Auto => "auto",
            SubscriptionPolicy::Notify => "notify",
        }
    }
}

/// Request of `POST /v1/subscriptions`: follow a collection (again: its
/// settings are replaced and it converges now).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SubscribeRequest {
    /// The collection, by tag (a digest never moves).
    pub reference: String,
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub policy: SubscriptionPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<InstallMode>,
}

/// One followed collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Subscription {
    pub reference: String,
    pub targets: Vec<String>,
    pub mode: String,
    pub policy: String,
    /// The collection manifest the targets hold.
    pub digest: Option<String>,
    /// The one the registry named at the last check.
    pub seen: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    /// Installs it owns.
    pub installs: u64,
    pub checked_at: Option<String>,
    pub updated_at: Option<String>,
    pub outcome: Option<String>,
    pub message: Option<String>,
}

/// Response of `GET /v1/subscriptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubscriptionsResponse {
    pub subscriptions: Vec<Subscription>,
}

/// What one check (or a subscribe) did for a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubscriptionOutcome {
    pub reference: String,
    /// `unchanged`, `updated`, `available` (notify), `refused` (trust) or
    /// `failed`.
    pub result: String,
    pub from_digest: Option<String>,
    pub to_digest: Option<String>,
    pub version: Option<String>,
    pub changes: Vec<SyncChange>,
    pub kept: Vec<KeptSkill>,
    pub message: Option<String>,
}

/// Request of `POST /v1/subscriptions/remove`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UnsubscribeRequest {
    pub reference: String,
    /// Remove the skills it installed (hand-edited ones are kept); else
    /// they stay, as installs of their own.
    #[serde(default)]
    pub remove: bool,
}

/// Response of `POST /v1/subscriptions/remove`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UnsubscribeResponse {
    pub removed: Vec<SyncChange>,
    pub kept: Vec<KeptSkill>,
    /// Installs left in place, now installs of their own.
    pub released: u64,
}
