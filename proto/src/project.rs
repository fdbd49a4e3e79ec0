//! Project skill sets: a project folder's `skills.json` (what it wants) and
//! `skills.lock.json` (what that resolved to, pinned by digest).
//!
//! | route | request | response | errors |
//! |---|---|---|---|
//! | `POST /v1/project/add` (NDJSON) | [`AddRequest`] | [`SyncResponse`] | `invalid_request` (a malformed file, a bad reference), `not_found` (no version matches), `conflict`, `untrusted`, `upstream` |
//! | `POST /v1/project/lock` (NDJSON) | [`LockRequest`] | [`LockResponse`] | `invalid_request`, `not_found` (no skills.json, no version matches), `upstream` |
//! | `POST /v1/project/sync` (NDJSON) | [`SyncRequest`] | [`SyncResponse`] | `invalid_request`, `not_found` (a locked digest gone), `conflict` (`frozen` and the files disagree; a hand edit in the way), `untrusted`, `upstream` |
//! | `POST /v1/project/outdated` | [`OutdatedRequest`] | [`OutdatedResponse`] | `invalid_request`, `not_found`, `upstream` |

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub const ADD_ROUTE: &str = "/v1/project/add";
pub const LOCK_ROUTE: &str = "/v1/project/lock";
pub const SYNC_ROUTE: &str = "/v1/project/sync";
pub const OUTDATED_ROUTE: &str = "/v1/project/outdated";

/// Request of `POST /v1/project/add`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AddRequest {
    /// The project root (absolute).
    pub project: PathBuf,
    /// `REPOSITORY[:TAG]` or `REPOSITORY@REQUIREMENT` (`@^1.2`).
    pub references: Vec<String>,
    /// Targets to link the skills into besides `.agents/skills`.
    #[serde(default)]
    pub targets: Vec<String>,
}

/// Request of `POST /v1/project/lock`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LockRequest {
    pub project: PathBuf,
    /// Resolve again entries the lock already satisfies: those in `names`,
    /// or all when `names` is empty.
    #[serde(default)]
    pub update: bool,
    #[serde(default)]
    pub names: Vec<String>,
}

/// One skill of a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LockedSkill {
    pub name: String,
    pub tag: String,
    pub digest: String,
    /// `registry/repository:tag@digest`.
    pub reference: String,
    /// The tag locked before, when it was another (or none: new).
    #[serde(default)]
    pub previous: Option<String>,
    pub changed: bool,
}

/// Final result of `POST /v1/project/lock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LockResponse {
    pub skills: Vec<LockedSkill>,
    /// Whether skills.lock.json was written (false: it already said this).
    pub written: bool,
}

/// Request of `POST /v1/project/sync`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    pub project: PathBuf,
    /// Fail, changing nothing, when skills.json and the lock disagree;
    /// never write the lock.
    #[serde(default)]
    pub frozen: bool,
    /// Say what would change; change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Replace or remove hand-edited skills (kept in a backup folder).
    #[serde(default)]
    pub force: bool,
}

/// One change of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SyncChange {
    pub name: String,
    /// `install`, `update`, `link`, `remove` or `keep`.
    pub action: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub path: PathBuf,
}

/// Final result of `POST /v1/project/sync` and `/v1/project/add`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SyncResponse {
    pub changes: Vec<SyncChange>,
    pub backups: Vec<PathBuf>,
    /// Whether skills.lock.json was written first.
    pub relocked: bool,
}

/// Request of `POST /v1/project/outdated`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OutdatedRequest {
    pub project: PathBuf,
}

/// Where one skill of a project stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OutdatedSkill {
    pub name: String,
    /// skills.json's `version` (none: the newest published).
    pub requirement: Option<String>,
    /// The locked tag (none: not locked yet).
    pub locked: Option<String>,
    /// The newest published version the requirement allows.
    pub wanted: Option<String>,
    /// The newest published version.
    pub latest: Option<String>,
    /// Whether a newer published version exists than the one locked.
    pub outdated: bool,
}

/// Final result of `POST /v1/project/outdated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OutdatedResponse {
    pub skills: Vec<OutdatedSkill>,
}
