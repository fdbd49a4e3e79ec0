//! Installing skills into agents' skill folders.
//!
//! | route | request | response | errors |
//! |---|---|---|---|
//! | `GET /v1/targets` | – | [`TargetsResponse`] | – |
//! | `POST /v1/install` (NDJSON) | [`InstallRequest`] | [`InstallResponse`] | `invalid_request` (unknown target, hostile layer), `conflict` (hand-edited or foreign skill in the way; same name from another source), `not_found`, `upstream` |
//! | `POST /v1/installs` | [`ListRequest`] | [`ListResponse`] | `upstream` (with `upgradable`) |
//! | `POST /v1/remove` | [`RemoveRequest`] | [`ChangeResponse`] | `not_found`, `conflict` (hand-edited) |
//! | `POST /v1/rollback` | [`RollbackRequest`] | [`ChangeResponse`] | `not_found`, `conflict` |
//! | `POST /v1/pin` | [`PinRequest`] | [`ChangeResponse`] | `not_found` |
//! | `POST /v1/upgrade` (NDJSON) | [`UpgradeRequest`] | [`UpgradeResponse`] | `not_found`, `upstream` |
//! | `POST /v1/autoremove` | [`AutoremoveRequest`] | [`ChangeResponse`] | `invalid_request` (unknown target) |
//!
//! An install resolves the skills its SkillCard's `spec.dependencies`
//! names (unless `no_dependencies`); a graph that cannot be installed is
//! answered `conflict` (a conflict or a cycle), `not_found` (a missing
//! skill) or `upstream`, with `details.dependency` saying which, before
//! anything is written. A remove of an install others need is refused
//! (`conflict`) without `force`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub const TARGETS_ROUTE: &str = "/v1/targets";
pub const INSTALL_ROUTE: &str = "/v1/install";
pub const LIST_ROUTE: &str = "/v1/installs";
pub const REMOVE_ROUTE: &str = "/v1/remove";
pub const ROLLBACK_ROUTE: &str = "/v1/rollback";
pub const PIN_ROUTE: &str = "/v1/pin";
pub const UPGRADE_ROUTE: &str = "/v1/upgrade";
pub const AUTOREMOVE_ROUTE: &str = "/v1/autoremove";

/// One agent skill folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TargetInfo {
    pub name: String,
    pub path: PathBuf,
    pub exists: bool,
    /// The agents that read this folder.
    pub agents: String,
    /// The environment variable that moved it, when one did.
    #[serde(default)]
    pub overridden_by: Option<String>,
    /// Whether the agent is installed on this machine (its own folder,
    /// such as `~/.claude`, exists).
    #[serde(default)]
    pub installed: bool,
}

/// Response of `GET /v1/targets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TargetsResponse {
    pub targets: Vec<TargetInfo>,
    /// The target used when an install names none (the first of
    /// `default_targets`).
    pub default: String,
    /// The targets an install that names none goes to: the configured
    /// `install.default_target`, else the agents found on this machine (one
    /// per folder), else `agents`.
    #[serde(default)]
    pub default_targets: Vec<String>,
    /// How an install into several targets is made by default.
    #[serde(default)]
    pub mode: InstallMode,
}

/// How a skill installed into several targets is laid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum InstallMode {
    /// One copy in the shared folder (`~/.agents/skills`, or the project's
    /// `.agents/skills`), linked into each other target; an agent that does
    /// not follow links gets a copy.
    #[default]
    Link,
    /// A copy in each target.
    Copy,
}

impl InstallMode {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallMode::Link => "link",
            InstallMode::Copy => "copy",
        }
    }
}

/// Request of `POST /v1/install`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct InstallRequest {
    pub reference: String,
    /// Target names; empty means the configured default.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Put targets under this project root instead of the home folder.
    #[serde(default)]
    pub project: Option<PathBuf>,
    /// Install into this folder instead of a target.
    #[serde(default)]
    pub output: Option<PathBuf>,
    /// Replace a hand-edited or foreign skill (a backup is kept).
    #[serde(default)]
    pub force: bool,
    /// One copy linked into each target, or a copy in each; none: the
    /// configured `install.mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<InstallMode>,
    /// Install this skill only, not the skills its SkillCard's
    /// `spec.dependencies` names.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_dependencies: bool,
}

/// Request of `POST /v1/autoremove`: remove the installs made only
/// because another install needed them, now that nothing does (and then
/// what only they needed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AutoremoveRequest {
    /// Only in this target.
    #[serde(default)]
    pub target: Option<String>,
    /// Say what would go; remove nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Remove hand-edited ones too (a backup is kept).
    #[serde(default)]
    pub force: bool,
}

/// Where an installed skill is and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Installed {
    pub name: String,
    pub version: Option<String>,
    pub target: String,
    pub path: PathBuf,
    pub source: String,
    pub digest: String,
    /// `ok`, `modified`, `missing` or `unmanaged`; in an install answer,
    /// `kept` for a dependency already there at the version picked.
    pub status: String,
    pub pinned: bool,
    #[serde(default)]
    pub installed_at: Option<String>,
    #[serde(default)]
    pub installed_by: Option<String>,
    /// Fingerprint (`sha256:` of the public key) of the key whose signature
    /// was verified when this was installed; none when the trust policy
    /// accepted it unchecked.
    #[serde(default)]
    pub signer: Option<String>,
    /// With `upgradable`: the highest published version, when newer.
    #[serde(default)]
    pub latest: Option<String>,
    /// With `upgradable`: newer release versions that exist but are not
    /// published (testing, deprecated, ...), which upgrades skip, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unpublished: Vec<UnpublishedVersion>,
    /// The skill's one copy, when this target holds a link to it (`path`
    /// is the link): changes to that copy are changes here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<PathBuf>,
    /// With `project`: `locked` (as the lock says), `drifted` (another
    /// digest, or edited by hand), `missing` (locked, not there) or
    /// `not in lock` (in the project's folders, not in its lock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_status: Option<String>,
    /// The collection whose subscription installed it (it moves with the
    /// collection, not on its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    /// What the content scan found when it was installed (`1 high, 2
    /// medium`, `no findings`); none for an install made before scanning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<String>,
    /// The installs (folders) this one needs: the skills its SkillCard's
    /// `spec.dependencies` named, installed beside it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<PathBuf>,
    /// Installed only because another install needs it (`skillc
    /// autoremove` removes it once nothing does).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dependency: bool,
}

impl Installed {
    /// An entry with what is known of it: `name` in `target` at `path`,
    /// with `status` (a folder skilld did not install, a locked skill not
    /// there, a removal); the rest empty.
    pub fn bare(name: String, target: String, path: PathBuf, status: &str) -> Installed {
        Installed {
            name,
            version: None,
            target,
            path,
            source: String::new(),
            digest: String::new(),
            status: status.to_string(),
            pinned: false,
            installed_at: None,
            installed_by: None,
            signer: None,
            latest: None,
            unpublished: Vec::new(),
            link: None,
            lock_status: None,
            subscription: None,
            findings: None,
            needs: Vec::new(),
            dependency: false,
        }
    }
}

/// A release version an upgrade skips because of its lifecycle status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UnpublishedVersion {
    pub version: String,
    /// `draft`, `testing`, `deprecated` or `archived`.
    pub status: String,
}

/// Final result of `POST /v1/install`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InstallResponse {
    pub installed: Vec<Installed>,
    /// Folders a hand-edited or foreign skill was moved to (with `force`).
    pub backups: Vec<PathBuf>,
    /// The agents that read the folders installed into (from the target
    /// table), so a user knows who sees the skill.
    #[serde(default)]
    pub seen_by: Vec<String>,
}

/// Request of `POST /v1/installs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ListRequest {
    #[serde(default)]
    pub target: Option<String>,
    /// Ask the registries for newer published versions.
    #[serde(default)]
    pub upgradable: bool,
    /// Fill `latest` and `unpublished` from what the last upgrade check (or
    /// list with `upgradable`) found for each install at its digest, asking
    /// no registry: for clients that refresh often, such as editors. An
    /// install not looked at since it last changed has neither.
    #[serde(default)]
    pub known_upgrades: bool,
    /// Only the skills of this project (absolute), each with its
    /// `lock_status` against the project's skills.lock.json.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<PathBuf>,
}

/// Response of `POST /v1/installs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ListResponse {
    pub installs: Vec<Installed>,
}

/// Which install a command is about: a name, in one target or all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RemoveRequest {
    pub name: String,
    #[serde(default)]
    pub target: Option<String>,
    /// The install's folder (absolute), to pick one of several installs of
    /// `name` (`skillc remove NAME -o DIR` sends `DIR/NAME`).
    #[serde(default)]
    pub path: Option<PathBuf>,
    #[serde(default)]
    pub force: bool,
    /// The folder the client runs in (absolute): when its skills.json
    /// lists `name` (and no target or path is given), the skill leaves the
    /// project: both files, then its folders, as a sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<PathBuf>,
}

/// Request of `POST /v1/rollback`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    pub name: String,
    #[serde(default)]
    pub target: Option<String>,
    /// The install's folder (absolute), as for [`RemoveRequest::path`].
    #[serde(default)]
    pub path: Option<PathBuf>,
    #[serde(default)]
    pub force: bool,
}

/// Request of `POST /v1/pin`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    pub name: String,
    #[serde(default)]
    pub target: Option<String>,
    /// The install's folder (absolute), as for [`RemoveRequest::path`].
    #[serde(default)]
    pub path: Option<PathBuf>,
    pub pinned: bool,
}

/// What a remove, rollback or pin changed, install by install: the ones
/// it changed, and the ones it could not change with why (each is also in
/// the history). When every matching install failed, the route answers the
/// first failure as an error instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangeResponse {
    pub changed: Vec<Installed>,
    pub backups: Vec<PathBuf>,
    #[serde(default)]
    pub failed: Vec<ChangeFailure>,
    /// After a remove: installs made only for others that nothing needs
    /// any more (`skillc autoremove` removes them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orphans: Vec<Installed>,
}

/// One install a remove, rollback or pin could not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangeFailure {
    pub name: String,
    pub target: String,
    pub path: PathBuf,
    /// The error code it would have been answered with alone.
    pub code: crate::ErrorCode,
    pub message: String,
}

/// Request of `POST /v1/upgrade`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UpgradeRequest {
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub force: bool,
}

/// One install's upgrade outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UpgradeOutcome {
    pub name: String,
    pub target: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `upgraded`, `would_upgrade`, `up_to_date`, `pinned`, `modified`,
    /// `untrusted` (the trust policy refused the new version), `unversioned`
    /// (the install has no version, so none counts as newer), `locked` (a
    /// project's lock decides its version: `skillc lock --update` there),
    /// `available` (a check: newer, but the policy or a lock keeps it),
    /// `failed`.
    pub result: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// Final result of `POST /v1/upgrade`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UpgradeResponse {
    pub outcomes: Vec<UpgradeOutcome>,
    pub backups: Vec<PathBuf>,
}

pub const CHECK_ROUTE: &str = "/v1/check";
pub const POLICY_ROUTE: &str = "/v1/policy";

/// Request of `POST /v1/policy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyRequest {
    pub name: String,
    #[serde(default)]
    pub target: Option<String>,
    /// auto, patch, minor, major, notify or pin.
    pub policy: String,
}

/// A registry the checks cannot reach, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailingRegistry {
    pub host: String,
    pub error: String,
    /// Failures in a row.
    pub failures: u32,
    /// When it is asked again (RFC 3339).
    pub retry_at: String,
}

/// Response of `POST /v1/check`: what one upgrade check did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CheckResponse {
    /// Repositories whose tags were listed (one request each).
    pub repositories: u64,
    pub outcomes: Vec<UpgradeOutcome>,
    pub failing: Vec<FailingRegistry>,
    /// Collections followed: one HEAD each.
    #[serde(default)]
    pub subscriptions: Vec<crate::collection::SubscriptionOutcome>,
}
