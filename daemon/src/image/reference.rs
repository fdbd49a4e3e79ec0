//! Image references: `[registry/]repository[:tag][@digest]`.
//!
//! The local store keeps a reference exactly as written (no `docker.io/`
//! added), so `acme/review:1.0.0` stays `acme/review:1.0.0`. The first
//! component is a registry when it has a `.` or a `:`, or is `localhost`,
//! as docker and podman decide.

use std::fmt;

use crate::store::digest::Digest;

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub registry: Option<String>,
    /// The path under the registry: `acme/review`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Why a string is not a reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not a valid image reference: {reason} (expected [registry/]name[:tag][@sha256:digest], lowercase name, e.g. acme/code-review:1.0.0)"
)]
pub struct BadReference {
    pub input: String,
    pub reason: String,
}

/// Longest reference accepted.
const MAX_REFERENCE: usize = 255;

fn component_ok(c: &str) -> bool {
    // [a-z0-9]+ ( (. | _ | __ | -+) [a-z0-9]+ )*
    if c.is_empty() || !c.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit()) {
        return false;
    }
    if !c.ends_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit()) {
        return false;
    }
    let bytes = c.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_lowercase() || b.is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && matches!(bytes[i], b'.' | b'_' | b'-') {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn tag_ok(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn registry_ok(r: &str) -> bool {
    let (host, port) = match r.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || r.starts_with('[') => (h, Some(p)),
        _ => (r, None),
    };
    let host_ok = if host.starts_with('[') && host.ends_with(']') {
        host[1..host.len() - 1]
            .parse::<std::net::Ipv6Addr>()
            .is_ok()
    } else {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    };
    host_ok && port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok())
}

impl Reference {
    pub fn parse(input: &str) -> Result<Reference, BadReference> {
        let bad = |reason: &str| BadReference {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        if input.len() > MAX_REFERENCE {
            return Err(bad("longer than 255 characters"));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((rest, d)) => (
                rest,
                Some(Digest::parse(d).map_err(|e| bad(&e.to_string()))?),
            ),
            None => (input, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag
            && !tag_ok(tag)
        {
            return Err(bad(&format!(
                "tag {tag:?} may hold only letters, digits, '_', '.' and '-' (at most 128)"
            )));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':']) || first == "localhost" || first.starts_with('[') =>
            {
                if !registry_ok(first) {
                    return Err(bad(&format!("registry {first:?} is not a host[:port]")));
                }
                (Some(first.to_string()), path)
            }
            _ => (None, name),
        };
        if path.is_empty() {
            return Err(bad("the name is empty"));
        }
        if let Some(c) = path.split('/').find(|c| !component_ok(c)) {
            return Err(bad(&format!(
                "name component {c:?} must be lowercase letters and digits, separated by '.', '_', '__' or '-'"
            )));
        }
        Ok(Reference {
            registry,
            path: path.to_string(),
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// `[registry/]path`, the repository.
    pub fn repository(&self) -> String {
        match &self.registry {
            Some(r) => format!("{r}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// The same repository with another tag (and no digest).
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }

    /// The last path component: a skill's name by convention.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_shapes() {
        let r = Reference::parse("acme/code-review:1.0.0-draft").unwrap();
        assert_eq!(
            (r.registry.as_deref(), r.path.as_str(), r.tag.as_deref()),
            (None, "acme/code-review", Some("1.0.0-draft"))
        );
        assert_eq!(r.name(), "code-review");
        let r = Reference::parse("127.0.0.1:5000/acme/x:1.2.3").unwrap();
        assert_eq!(r.registry.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(r.repository(), "127.0.0.1:5000/acme/x");
        let r = Reference::parse("localhost/x").unwrap();
        assert_eq!((r.registry.as_deref(), r.tag), (Some("localhost"), None));
        let r = Reference::parse(
            "quay.io/a/b@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
        .unwrap();
        assert!(r.digest.is_some());
        let r = Reference::parse("[::1]:5000/x:1").unwrap();
        assert_eq!(r.registry.as_deref(), Some("[::1]:5000"));
        for s in [
            "acme/code-review:1.0.0-draft",
            "127.0.0.1:5000/acme/x:1.2.3",
            "x",
        ] {
            assert_eq!(Reference::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn refuses_bad_shapes() {
        for s in [
            "",
            "Acme/x",
            "acme//x",
            "acme/x:",
            "acme/x:-bad",
            "acme/x:a b",
            "x@sha256:zz",
            "-x",
            "x-",
            "a/../b",
            "host:99999/x",
        ] {
            assert!(Reference::parse(s).is_err(), "{s}");
        }
        assert!(Reference::parse(&"a".repeat(300)).is_err());
    }
}
