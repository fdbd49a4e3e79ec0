//! Image references: `[registry/]repository[:tag][@digest]`.
//!
//! The local store keeps a local reference exactly as written (no
//! `docker.io/` added), so `acme/review:1.0.0` stays `acme/review:1.0.0`.
//! The first component is a registry when it has a `.` or a `:`, or is
//! `localhost`, as docker and podman decide; the registry is kept in its
//! canonical form (see [`super::registry_name`]), so every spelling of one
//! registry gives one reference, and `docker.io/x` is `docker.io/library/x`.

use std::fmt;

use crate::store::digest::Digest;

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The registry's canonical identity ([`super::registry_name::canonical`]).
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

pub(crate) fn component_ok(c: &str) -> bool {
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
        // Any other byte (an upper-case letter, ':', '%') is not allowed;
        // without this the loop would never move past it.
        if i == start {
            return false;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

pub(crate) fn tag_ok(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
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
                if first.contains(['.', ':'])
                    || first.eq_ignore_ascii_case("localhost")
                    || first.starts_with('[') =>
            {
                let registry = super::registry_name::canonical(first)
                    .map_err(|why| bad(&format!("registry {first:?}: {why}")))?;
                (Some(registry), path)
            }
            _ => (None, name),
        };
        // docker.io's official images live under `library/`, as docker and
        // podman spell them.
        let library;
        let path = if registry.as_deref() == Some("docker.io") && !path.contains('/') {
            library = format!("library/{path}");
            library.as_str()
        } else {
            path
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
            // A byte outside [a-z0-9._-] inside a component once made this
            // loop for ever (found by the property tests).
            "acme/aXb",
            "acme/a%b:1",
            "quay.io/a:b/c",
        ] {
            assert!(Reference::parse(s).is_err(), "{s}");
        }
        assert!(Reference::parse(&"a".repeat(300)).is_err());
    }

    #[test]
    fn every_spelling_of_a_registry_gives_one_reference() {
        for (input, want) in [
            ("127.0.0.1:05000/acme/x:1", "127.0.0.1:5000/acme/x:1"),
            ("LOCALHOST:5000/acme/x", "localhost:5000/acme/x"),
            ("Quay.IO:443/acme/x", "quay.io/acme/x"),
            ("[0::1]:5000/x", "[::1]:5000/x"),
            ("index.docker.io/x:1", "docker.io/library/x:1"),
            ("docker.io/library/x", "docker.io/library/x"),
            ("docker.io/acme/x", "docker.io/acme/x"),
        ] {
            assert_eq!(
                Reference::parse(input).unwrap().to_string(),
                want,
                "{input}"
            );
        }
        for input in [
            "127.1:5000/x",
            "quay.io./x",
            "[fe80::1%eth0]:5000/x",
            "host:0/x",
        ] {
            let err = Reference::parse(input).unwrap_err().to_string();
            assert!(err.contains("registry"), "{input}: {err}");
        }
    }
}
