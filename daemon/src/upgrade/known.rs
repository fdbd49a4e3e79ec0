//! What the last look at the registries found newer for each install,
//! kept in memory: filled by every upgrade check and by an `installs` list
//! asked with `upgradable`, read by one asked with `known_upgrades`, which
//! needs no registry request (editors refresh on every event). An entry is
//! for one install at one digest: once the install changes, it is not
//! answered.

use std::collections::HashMap;
use std::sync::Mutex;

use skilld_proto::install::UnpublishedVersion;

/// The newer versions found for one install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The highest published version newer than the install's, if any.
    pub latest: Option<String>,
    /// Newer release versions an upgrade skips for their status.
    pub unpublished: Vec<UnpublishedVersion>,
}

/// Per install folder: the digest looked at, and what was found.
#[derive(Debug, Default)]
pub struct Known(Mutex<HashMap<String, (String, Found)>>);

impl Known {
    /// Keep what was found for the install at `path`, at `digest`.
    pub fn record(&self, path: &str, digest: &str, found: Found) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(path.to_string(), (digest.to_string(), found));
        }
    }

    /// What was found for the install at `path`, if it was at `digest`.
    pub fn get(&self, path: &str, digest: &str) -> Option<Found> {
        let map = self.0.lock().ok()?;
        map.get(path)
            .filter(|(at, _)| at == digest)
            .map(|(_, found)| found.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_answers_only_for_its_digest() {
        let known = Known::default();
        let found = Found {
            latest: Some("1.1.0".into()),
            unpublished: Vec::new(),
        };
        known.record("/s/a", "sha256:1", found.clone());
        assert_eq!(known.get("/s/a", "sha256:1"), Some(found));
        assert_eq!(known.get("/s/a", "sha256:2"), None);
        assert_eq!(known.get("/s/b", "sha256:1"), None);
    }
}
