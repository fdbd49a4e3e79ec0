//! Per-registry settings in `config.yaml`:
//!
//! ```yaml
//! registries:
//!   registry.internal:5000:
//!     ca_file: /etc/pki/internal-ca.pem   # extra CA to trust
//!     insecure: false                     # skip TLS verification (never by default)
//!     plain_http: false                   # http:// instead of https://
//!     mirrors: [mirror.local/quay]        # tried in order, the registry itself last
//! ```
//!
//! Plain HTTP is allowed without configuration only for loopback hosts.

use std::path::PathBuf;

use serde::Deserialize;

/// Settings of one registry host (`host[:port]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// A PEM file of CA certificates to trust for this registry.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate. Dangerous; for test registries only.
    pub insecure: bool,
    /// Talk plain HTTP.
    pub plain_http: bool,
    /// Pull-through mirrors, `host[:port][/path-prefix]`, tried in order
    /// before the registry itself (registries.conf semantics).
    pub mirrors: Vec<String>,
}

/// Whether `host` (with an optional port) is a loopback address.
pub fn is_loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1:5000",
            "127.0.0.1",
            "localhost:80",
            "[::1]:5000",
            "::1",
            "127.1.2.3:9",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "quay.io",
            "10.0.0.1:5000",
            "example.com:443",
            "[2001:db8::1]:5000",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
