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

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::image::registry_name::canonical;

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

/// The `registries:` section with every host and mirror in its canonical
/// form (see [`crate::image::registry_name`]), so settings written as
/// `LOCALHOST:05000` apply to `localhost:5000`; a spelling with no canonical
/// form, or two keys naming one registry, is an error naming the key.
pub fn canonicalize(
    registries: BTreeMap<String, RegistryConfig>,
) -> Result<BTreeMap<String, RegistryConfig>, String> {
    let mut out = BTreeMap::new();
    for (key, mut config) in registries {
        let host = canonical(&key).map_err(|why| format!("registries.{key:?}: {why}"))?;
        for mirror in &mut config.mirrors {
            let (mirror_host, prefix) = match mirror.split_once('/') {
                Some((h, p)) => (h, Some(p)),
                None => (mirror.as_str(), None),
            };
            let canonical_mirror = canonical(mirror_host)
                .map_err(|why| format!("registries.{key:?}.mirrors: {mirror:?}: {why}"))?;
            *mirror = match prefix {
                Some(p) => format!("{canonical_mirror}/{p}"),
                None => canonical_mirror,
            };
        }
        if out.insert(host.clone(), config).is_some() {
            return Err(format!(
                "registries.{key:?}: another key names the same registry ({host}); merge them"
            ));
        }
    }
    Ok(out)
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
    fn registry_settings_are_keyed_by_canonical_identity() {
        let mut map = BTreeMap::new();
        map.insert(
            "LOCALHOST:05000".to_string(),
            RegistryConfig {
                mirrors: vec!["Mirror.Local:443/quay".into()],
                ..Default::default()
            },
        );
        let out = canonicalize(map.clone()).unwrap();
        assert_eq!(out["localhost:5000"].mirrors, ["mirror.local/quay"]);
        map.insert("localhost:5000".into(), RegistryConfig::default());
        let err = canonicalize(map).unwrap_err();
        assert!(err.contains("same registry"), "{err}");
        let mut bad = BTreeMap::new();
        bad.insert("127.1:5000".to_string(), RegistryConfig::default());
        assert!(canonicalize(bad).unwrap_err().contains("127.1:5000"));
    }

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
