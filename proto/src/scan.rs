//! Content scanning.
//!
//! | route | request | response | errors |
//! |---|---|---|---|
//! | `POST /v1/scan` (NDJSON) | [`ScanRequest`] | [`ScanResponse`] | `invalid_request` (no such folder, a bad reference), `not_found`, `upstream` |
//!
//! A refusal by the scan policy on any write path is the error code
//! `unsafe_content`, its `details.findings` the findings that blocked.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub const SCAN_ROUTE: &str = "/v1/scan";

/// Request of `POST /v1/scan`: a folder (absolute) or an image (from the
/// store, pulled when it names a registry and the store lacks it); one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Finding {
    /// The rule's id (`injection.ignore-instructions`).
    pub rule: String,
    /// `critical`, `high`, `medium`, `low` or `info`.
    pub severity: String,
    /// The file, relative to the skill's folder (or layer root).
    pub file: String,
    /// 1-based line and column (in characters) of the match.
    pub line: u64,
    pub column: u64,
    /// The matched text, shortened, invisible characters shown as `<U+200B>`.
    pub text: String,
    /// Why it matters.
    pub why: String,
}

/// Response of `POST /v1/scan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScanResponse {
    /// The folder or image scanned.
    pub subject: String,
    pub findings: Vec<Finding>,
    pub files: u64,
    pub bytes: u64,
    /// False when a cap (files, bytes, time) stopped the scan (a finding
    /// says which).
    pub complete: bool,
    /// `1 critical, 2 medium`, or `no findings`.
    pub summary: String,
}
