//! `GET /v1/status`: what the daemon is, where its files are, what it holds.
//!
//! Errors: none beyond the generic ones (`internal` if the index cannot be read).

use serde::{Deserialize, Serialize};

use crate::Paths;

/// Route of the status endpoint.
pub const ROUTE: &str = "/v1/status";

/// Response of `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StatusResponse {
    /// The daemon's crate version.
    pub version: String,
    /// The daemon's wire protocol number ([`crate::PROTOCOL`]).
    pub protocol: u32,
    pub pid: u32,
    /// Seconds since the daemon started serving.
    pub uptime_secs: u64,
    pub paths: Paths,
    pub counts: Counts,
    /// When the next background upgrade check is due (RFC 3339), if any.
    #[serde(default)]
    pub next_check: Option<String>,
    /// When the last upgrade check finished (RFC 3339).
    #[serde(default)]
    pub last_check: Option<String>,
    /// Registries the checks cannot reach, with why and when they are retried.
    #[serde(default)]
    pub failing_registries: Vec<crate::install::FailingRegistry>,
}

/// How much the daemon holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Counts {
    /// Tagged images in the local store.
    pub images: u64,
    /// Installed skills, across all targets.
    pub installs: u64,
    /// Open client connections, this one included.
    pub connections: u64,
}

/// Route of the shutdown endpoint: `POST /v1/shutdown` replies, then the
/// daemon drains in-flight work and exits.
pub const SHUTDOWN_ROUTE: &str = "/v1/shutdown";

/// Response of `POST /v1/shutdown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ShutdownResponse {
    pub pid: u32,
    pub shutting_down: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_v1_fixture_still_parses() {
        // Compatibility fixture: a status payload as protocol 1 first shipped it.
        let fixture = r#"{
            "version": "0.1.0", "protocol": 1, "pid": 42, "uptime_secs": 7,
            "paths": {"config_file": "/h/config.yaml", "data_dir": "/h",
                      "store_dir": "/h/store", "index_db": "/h/index.db",
                      "socket": "/h/run/skilld.sock", "lock_file": "/h/skilld.lock",
                      "autostart_lock": "/h/autostart.lock", "autostart_log": "/h/skilld.log"},
            "counts": {"images": 0, "installs": 0, "connections": 1},
            "next_check": null
        }"#;
        let status: StatusResponse = serde_json::from_str(fixture).unwrap();
        assert_eq!(status.pid, 42);
        assert_eq!(status.counts.connections, 1);
    }
}
