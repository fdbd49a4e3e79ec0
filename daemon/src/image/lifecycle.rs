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

/// The version of an image: its `org.opencontainers.image.version`
/// annotation, else its tag when that is a strict semver release (a plain
/// `podman build` image carries no annotation). The skill's own
/// `metadata.version` is the last resort, read by the installer.
pub fn image_version(
    annotations: &std::collections::BTreeMap<String, String>,
    tag: Option<&str>,
) -> Option<String> {
    annotations
        .get(crate::oci::annotation::VERSION)
        .cloned()
        .or_else(|| tag.and_then(release_version).map(|v| v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_comes_from_the_annotation_else_a_release_tag() {
        let mut annotations = std::collections::BTreeMap::new();
        assert_eq!(
            image_version(&annotations, Some("1.4.2")),
            Some("1.4.2".into())
        );
        assert_eq!(image_version(&annotations, Some("1.4.2-draft")), None);
        assert_eq!(image_version(&annotations, Some("latest")), None);
        assert_eq!(image_version(&annotations, None), None);
        annotations.insert(crate::oci::annotation::VERSION.into(), "2.0.0".into());
        assert_eq!(
            image_version(&annotations, Some("1.4.2")),
            Some("2.0.0".into())
        );
    }

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
