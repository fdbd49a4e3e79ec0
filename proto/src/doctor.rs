//! `GET /v1/doctor`: what the daemon can check about itself and this
//! machine, each finding with a fix. `skillc doctor` adds what only a
//! client can see (is a daemon answering, of the same protocol; the user
//! service) and prints them together.
//!
//! | route | response | errors |
//! |---|---|---|
//! | `GET /v1/doctor` | [`DoctorResponse`] | none beyond the common ones |

use serde::{Deserialize, Serialize};

pub const DOCTOR_ROUTE: &str = "/v1/doctor";

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    /// Works, but something deserves a look.
    Warn,
    /// Broken: the fix says what to do.
    Fail,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Check {
    /// `daemon`, `socket`, `data`, `config`, `disk`, `target`, `registry`,
    /// `trust`, `staging`, `service`.
    pub area: String,
    /// What was checked within the area (a target's name, a registry host,
    /// a key file), or the area again.
    pub name: String,
    pub status: CheckStatus,
    pub message: String,
    /// What to do, when the status is not `ok`.
    #[serde(default)]
    pub fix: Option<String>,
}

/// Response of `GET /v1/doctor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DoctorResponse {
    pub checks: Vec<Check>,
}
