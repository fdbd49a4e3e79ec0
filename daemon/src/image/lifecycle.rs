//! Lifecycle tags: `V-draft`, `V-testing`, `V` (published, deprecated and
//! archived all keep the plain version tag so consumers see the status), and
//! `latest` for the highest published version.

use skilld_proto::images::Lifecycle;

/// The tag a version carries in `state`.
pub fn tag_for(version: &str, state: Lifecycle) -> String {
    match state {
        Lifecycle::Draft => format!("{version}-draft"),
        Lifecycle::Testing => format!("{version}-testing"),
        Lifecycle::Published | Lifecycle::Deprecated | Lifecycle::Archived => version.to_string(),
    }
}

/// A tag that names a published release: strict semver, no pre-release.
pub fn release_version(tag: &str) -> Option<semver::Version> {
    semver::Version::parse(tag)
        .ok()
        .filter(|v| v.pre.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_per_state() {
        assert_eq!(tag_for("1.0.0", Lifecycle::Draft), "1.0.0-draft");
        assert_eq!(tag_for("1.0.0", Lifecycle::Testing), "1.0.0-testing");
        assert_eq!(tag_for("1.0.0", Lifecycle::Published), "1.0.0");
        assert_eq!(tag_for("1.0.0", Lifecycle::Archived), "1.0.0");
    }

    #[test]
    fn release_versions() {
        assert!(release_version("1.2.3").is_some());
        assert!(release_version("1.2.3-testing").is_none());
        assert!(release_version("latest").is_none());
        assert!(release_version("v1.2.3").is_none());
    }
}
