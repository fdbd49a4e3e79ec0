//! The repository a dependency names. The rule:
//!
//! - a `name` whose first segment is a registry host (it holds a `.` or a
//!   `:`, or is `localhost`) is a full repository: `quay.io/acme/base-tone`;
//! - a `name` with a `/` is a repository path in the depending skill's
//!   registry: `acme/base-tone` from `quay.io/team/review` is
//!   `quay.io/acme/base-tone`;
//! - a bare `name` is a sibling in the depending skill's namespace:
//!   `base-tone` from `quay.io/acme/code-review` is
//!   `quay.io/acme/base-tone`.
//!
//! A name carries no tag or digest: the version is the requirement's.

use super::DependError;

/// The repository (`[registry/]path`) `name` means for a dependency of
/// the skill in `depending` (`[registry/]path`, no tag).
pub fn repository_for(name: &str, depending: &str) -> Result<String, DependError> {
    let bad = |why: &str| DependError::BadName {
        name: name.to_string(),
        by: depending.to_string(),
        why: why.to_string(),
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name.contains('@') {
        return Err(bad("a dependency names a repository, without a digest"));
    }
    let segments: Vec<&str> = name.split('/').collect();
    let last = segments.last().copied().unwrap_or("");
    if last.contains(':') {
        return Err(bad(
            "a dependency names a repository, without a tag; put the version in `version`",
        ));
    }
    let valid = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
    };
    let is_host = |s: &str| s.contains('.') || s.contains(':') || s == "localhost";
    if segments.len() > 1 && is_host(segments[0]) {
        if !segments[1..].iter().all(|s| valid(s)) {
            return Err(bad(
                "repository paths are lower-case letters, digits, `.`, `_`, `-`",
            ));
        }
        return Ok(name.to_string());
    }
    if !segments.iter().all(|s| valid(s)) {
        return Err(bad(
            "repository paths are lower-case letters, digits, `.`, `_`, `-`",
        ));
    }
    let parts: Vec<&str> = depending.split('/').collect();
    let (registry, path) = if parts.len() > 1 && is_host(parts[0]) {
        (Some(parts[0]), &parts[1..])
    } else {
        (None, &parts[..])
    };
    let mut out: Vec<&str> = registry.into_iter().collect();
    if segments.len() == 1 {
        // A sibling: the depending skill's namespace, then the name.
        out.extend_from_slice(&path[..path.len().saturating_sub(1)]);
    }
    out.extend(segments);
    Ok(out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        for (name, depending, want) in [
            (
                "quay.io/acme/base-tone",
                "ghcr.io/team/review",
                "quay.io/acme/base-tone",
            ),
            ("localhost:5000/x/y", "quay.io/a/b", "localhost:5000/x/y"),
            (
                "acme/base-tone",
                "quay.io/team/review",
                "quay.io/acme/base-tone",
            ),
            (
                "base-tone",
                "quay.io/acme/code-review",
                "quay.io/acme/base-tone",
            ),
            (
                "base-tone",
                "quay.io/org/team/code-review",
                "quay.io/org/team/base-tone",
            ),
            (
                "base-tone",
                "127.0.0.1:5000/code-review",
                "127.0.0.1:5000/base-tone",
            ),
            ("base-tone", "acme/code-review", "acme/base-tone"),
            ("base-tone", "code-review", "base-tone"),
        ] {
            assert_eq!(
                repository_for(name, depending).unwrap(),
                want,
                "{name} from {depending}"
            );
        }
    }

    #[test]
    fn refused_names_say_why() {
        for (name, why) in [
            ("", "empty"),
            ("base-tone:1.0", "without a tag"),
            ("base-tone@sha256:00", "without a digest"),
            ("Base-Tone", "lower-case"),
            ("quay.io/acme/Base", "lower-case"),
            ("a//b", "lower-case"),
        ] {
            let e = repository_for(name, "quay.io/acme/x")
                .expect_err(name)
                .to_string();
            assert!(e.contains(why), "{name}: {e}");
        }
    }
}
