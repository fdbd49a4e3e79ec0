//! Daemon events for editors and scripts: `GET /v1/events` streams them as
//! NDJSON, one [`Event`] per line, recent ones first (up to 100), then live
//! ones with `?follow=true`. A client that reads too slowly is dropped
//! (its stream ends with a `lagged` event), never waited for.
//!
//! The audit history: `GET /v1/history[?skill=NAME]` → [`HistoryResponse`].

use serde::{Deserialize, Serialize};

pub const EVENTS_ROUTE: &str = "/v1/events";
pub const HISTORY_ROUTE: &str = "/v1/history";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Installed,
    Upgraded,
    Removed,
    RolledBack,
    UpgradeAvailable,
    DriftDetected,
    CheckStarted,
    CheckFinished,
    CheckFailed,
    /// The trust policy refused to write a skill (the message names the rule).
    TrustRefused,
    /// This client read too slowly and was dropped; reconnect.
    Lagged,
    /// A followed collection changed: converged on it (or, under `notify`,
    /// reported). The message names the collection and what changed.
    SubscriptionUpdated,
    /// A followed collection changed but its new version was refused (the
    /// trust policy, a bad entry); the targets keep the previous set.
    SubscriptionRefused,
    /// The scan policy refused to write a skill (the message names the
    /// findings).
    ScanRefused,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Event {
    pub kind: EventKind,
    /// RFC 3339.
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Event {
    pub fn new(kind: EventKind, at: String) -> Event {
        Event {
            kind,
            at,
            skill: None,
            target: None,
            from_version: None,
            to_version: None,
            from_digest: None,
            to_digest: None,
            message: None,
        }
    }
}

/// One recorded change to an install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryEntry {
    pub at: String,
    /// install, upgrade, remove, rollback, pin, unpin, policy.
    pub action: String,
    /// cli or auto.
    pub actor: String,
    pub skill: String,
    pub target: String,
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    pub from_digest: Option<String>,
    pub to_digest: Option<String>,
    /// ok, refused, failed.
    pub outcome: String,
    pub message: Option<String>,
}

/// Response of `GET /v1/history`, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryResponse {
    pub entries: Vec<HistoryEntry>,
}
