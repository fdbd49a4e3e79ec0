//! What a `skills.json` entry's `version` asks for. Other tools read it as
//! a tag; skilld reads a strict semver version as exactly that version, a
//! semver requirement (`^1.2`, `~1.4.0`, `>=1.2, <2`) as the newest
//! published version it allows, any other text as a tag, and no version
//! as the newest published version. Published: a strict semver tag
//! without pre-release whose image is not draft, testing, deprecated or
//! archived (the rule upgrades follow).

use std::fmt;

/// A parsed `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// The newest published version.
    Newest,
    /// Exactly this version (its tag).
    Exact(semver::Version),
    /// The newest published version this allows.
    Range(semver::VersionReq),
    /// This tag, whatever it holds (`latest`, `1.2.0-testing`).
    Tag(String),
}

impl Requirement {
    pub fn parse(version: Option<&str>) -> Requirement {
        let Some(v) = version.map(str::trim).filter(|v| !v.is_empty()) else {
            return Requirement::Newest;
        };
        if let Ok(exact) = semver::Version::parse(v) {
            return Requirement::Exact(exact);
        }
        let looks_like_range = v.starts_with(['^', '~', '=', '>', '<', '*'])
            || v.contains(',')
            || v.chars().next().is_some_and(|c| c.is_ascii_digit()) && !v.contains('-');
        match semver::VersionReq::parse(v) {
            Ok(req) if looks_like_range => Requirement::Range(req),
            _ => Requirement::Tag(v.to_string()),
        }
    }

    /// Whether a published `version` satisfies this (a tag requirement is
    /// matched by tag, not here).
    pub fn accepts(&self, version: &semver::Version) -> bool {
        match self {
            Requirement::Newest => true,
            Requirement::Exact(v) => v == version,
            Requirement::Range(req) => req.matches(version),
            Requirement::Tag(_) => false,
        }
    }

    /// Whether what was locked (`tag`, and its version if it is one) still
    /// satisfies this.
    pub fn satisfied_by(&self, tag: &str) -> bool {
        match self {
            Requirement::Tag(t) => t == tag,
            _ => semver::Version::parse(tag).is_ok_and(|v| self.accepts(&v)),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Newest => write!(f, "the newest published version"),
            Requirement::Exact(v) => write!(f, "version {v}"),
            Requirement::Range(r) => write!(f, "{r}"),
            Requirement::Tag(t) => write!(f, "tag {t}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_requirements_and_tags() {
        let v = |s: &str| semver::Version::parse(s).unwrap();
        assert_eq!(Requirement::parse(None), Requirement::Newest);
        assert_eq!(
            Requirement::parse(Some("1.2.0")),
            Requirement::Exact(v("1.2.0"))
        );
        assert!(
            !Requirement::parse(Some("1.2.0")).accepts(&v("1.2.1")),
            "exact, not ^"
        );
        let caret = Requirement::parse(Some("^1.2"));
        assert!(caret.accepts(&v("1.9.0")) && !caret.accepts(&v("2.0.0")));
        let tilde = Requirement::parse(Some("~1.4.0"));
        assert!(tilde.accepts(&v("1.4.7")) && !tilde.accepts(&v("1.5.0")));
        assert!(Requirement::parse(Some(">=1.2, <2")).accepts(&v("1.3.0")));
        assert!(Requirement::parse(Some("1.2")).accepts(&v("1.2.5")));
        assert_eq!(
            Requirement::parse(Some("latest")),
            Requirement::Tag("latest".into())
        );
        assert_eq!(
            Requirement::parse(Some("1.0.0-testing")),
            Requirement::Exact(v("1.0.0-testing")),
            "a pre-release tag is an exact version"
        );
        assert!(Requirement::parse(Some("latest")).satisfied_by("latest"));
        assert!(caret.satisfied_by("1.3.0") && !caret.satisfied_by("latest"));
    }
}
