//! One identity per registry. A host can be written many ways (`QUAY.io`,
//! `quay.io:443`, `127.0.0.1:05000`, `[0:0::1]:5000`, `index.docker.io`);
//! the trust policy, credentials, mirrors, the index and provenance must all
//! see the same one, or a rule written for one spelling is bypassed by
//! another. [`canonical`] gives that identity, or refuses a spelling it
//! cannot pin down (a trailing dot, `127.1`, `0x7f.0.0.1`, a zone id).
//!
//! The identity: host lower-cased; an IP address in its standard form
//! (IPv6 in brackets, compressed); the port as a plain number, `:443` (the
//! HTTPS default every registry client assumes) dropped; `index.docker.io`
//! written `docker.io`, as docker and podman do.
//!
//! `localhost` and the loopback addresses stay distinct identities (as in
//! containers' `auth.json` and `policy.json`: credentials saved for one are
//! not sent to the other), but they all name this machine, so the trust
//! policy matches them as one ([`policy_host`]): a rule for `127.0.0.1:5000`
//! also governs `localhost:5000` and `[::1]:5000`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest host name (DNS).
const MAX_HOST: usize = 253;

/// The canonical identity of the registry written `input` (`host[:port]`),
/// or why it has none.
pub fn canonical(input: &str) -> Result<String, String> {
    let (host, port) = split_port(input)?;
    let host = canonical_host(host)?;
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("port {p:?} is not a number from 1 to 65535"));
            }
            match p.parse::<u16>() {
                Ok(0) | Err(_) => {
                    return Err(format!("port {p:?} is not a number from 1 to 65535"));
                }
                Ok(443) => None,
                Ok(n) => Some(n),
            }
        }
    };
    let host = if host == "index.docker.io" {
        "docker.io".to_string()
    } else {
        host
    };
    Ok(match port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// `host` and the text after its port colon, if any.
fn split_port(input: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = input.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| "an IPv6 address must be written [addr]".to_string())?;
        let host = &input[..inside.len() + 2];
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err("only :PORT may follow an IPv6 address".into()),
            },
        };
    }
    match input.split_once(':') {
        Some((host, port)) => Ok((host, Some(port))),
        None => Ok((input, None)),
    }
}

fn canonical_host(host: &str) -> Result<String, String> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: Ipv6Addr = inner.parse().map_err(|_| {
            format!("{host} is not an IPv6 address (zone ids such as %eth0 are not accepted)")
        })?;
        return Ok(format!("[{ip}]"));
    }
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    if host.len() > MAX_HOST {
        return Err("the host is longer than 253 characters".into());
    }
    if host.ends_with('.') {
        return Err(format!(
            "{host:?} ends with '.'; write it without the trailing dot"
        ));
    }
    let lower = host.to_ascii_lowercase();
    let labels: Vec<&str> = lower.split('.').collect();
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(format!(
                "{host:?} is not a host name (labels of a-z, 0-9 and '-', separated by '.')"
            ));
        }
    }
    // A name ending in a number is an IPv4 address to every resolver
    // (`127.1`, `0x7f.0.0.1` and `2130706433` all reach 127.0.0.1): accept
    // only the standard dotted form, so one address has one spelling.
    let last = labels[labels.len() - 1];
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || last
            .strip_prefix("0x")
            .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
    if numeric {
        let ip: Ipv4Addr = lower.parse().map_err(|_| {
            format!("{host:?} looks like an IPv4 address but is not in the standard a.b.c.d form")
        })?;
        return Ok(ip.to_string());
    }
    Ok(lower)
}

/// Whether the canonical registry `registry` is this machine.
pub fn is_loopback(registry: &str) -> bool {
    let host = match split_port(registry) {
        Ok((host, _)) => host,
        Err(_) => return false,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

/// The name the trust policy matches a canonical registry by: itself, except
/// that every loopback spelling of one port is `localhost[:port]`.
pub fn policy_host(registry: &str) -> String {
    if !is_loopback(registry) {
        return registry.to_string();
    }
    match split_port(registry) {
        Ok((_, Some(port))) => format!("localhost:{port}"),
        _ => "localhost".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_registry_have_one_identity() {
        let cases = [
            ("quay.io", "quay.io"),
            ("QUAY.IO", "quay.io"),
            ("quay.io:443", "quay.io"),
            ("quay.io:0443", "quay.io"),
            ("127.0.0.1:005000", "127.0.0.1:5000"),
            ("127.0.0.1:5000", "127.0.0.1:5000"),
            ("127.0.0.1:05000", "127.0.0.1:5000"),
            ("LOCALHOST:5000", "localhost:5000"),
            ("localhost", "localhost"),
            ("[::1]:5000", "[::1]:5000"),
            ("[0:0:0:0:0:0:0:1]:5000", "[::1]:5000"),
            ("[::FFFF:127.0.0.1]", "[::ffff:127.0.0.1]"),
            ("index.docker.io", "docker.io"),
            ("registry.internal:80", "registry.internal:80"),
            (
                "my-registry.example.com:5000",
                "my-registry.example.com:5000",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(canonical(input).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn spellings_without_one_identity_are_refused() {
        for input in [
            "",
            ":5000",
            "quay.io.",
            "quay..io",
            "-quay.io",
            "quay.io:",
            "quay.io:0",
            "quay.io:65536",
            "quay.io:+80",
            "quay.io:5000:1",
            "127.1",
            "127.0.0.01",
            "0x7f.0.0.1",
            "2130706433",
            "[fe80::1%eth0]",
            "[::1",
            "[::1]x",
            "qu ay.io",
            "quay_io",
            "häst.se",
        ] {
            assert!(canonical(input).is_err(), "{input:?} should be refused");
        }
    }

    #[test]
    fn every_loopback_spelling_of_a_port_is_one_policy_host() {
        for r in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.0.0.2:5000",
            "[::1]:5000",
            "[::ffff:127.0.0.1]:5000",
        ] {
            assert_eq!(policy_host(r), "localhost:5000", "{r}");
        }
        assert_eq!(policy_host("127.0.0.1"), "localhost");
        assert_eq!(policy_host("quay.io"), "quay.io");
        assert_eq!(policy_host("10.0.0.1:5000"), "10.0.0.1:5000");
        assert_ne!(policy_host("localhost:5001"), policy_host("localhost:5000"));
    }
}
