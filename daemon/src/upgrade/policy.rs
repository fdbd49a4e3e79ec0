//! Upgrade policies: which newer published version an install may move to
//! on its own.
//!
//! - `patch`: the same major.minor.
//! - `minor` (the default) and `auto`: the same major version.
//! - `major`: any newer version.
//! - `notify`: never on its own; newer versions are only reported.
//! - `pin`: never, and nothing is reported.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    Auto,
    Patch,
    Minor,
    Major,
    Notify,
    Pin,
}

impl Policy {
    pub const NAMES: &'static str = "auto, patch, minor, major, notify, pin";

    pub fn parse(s: &str) -> Option<Policy> {
        match s {
            "auto" => Some(Policy::Auto),
            "patch" => Some(Policy::Patch),
            "minor" => Some(Policy::Minor),
            "major" => Some(Policy::Major),
            "notify" => Some(Policy::Notify),
            "pin" => Some(Policy::Pin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Auto => "auto",
            Policy::Patch => "patch",
            Policy::Minor => "minor",
            Policy::Major => "major",
            Policy::Notify => "notify",
            Policy::Pin => "pin",
        }
    }

    /// Whether the daemon may move `current` to `candidate` on its own.
    pub fn allows(self, current: &semver::Version, candidate: &semver::Version) -> bool {
        if candidate <= current {
            return false;
        }
        match self {
            Policy::Patch => candidate.major == current.major && candidate.minor == current.minor,
            Policy::Minor | Policy::Auto => candidate.major == current.major,
            Policy::Major => true,
            Policy::Notify | Policy::Pin => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn each_policy_draws_its_line() {
        let cases = [
            (Policy::Patch, "1.0.1", true),
            (Policy::Patch, "1.1.0", false),
            (Policy::Minor, "1.9.0", true),
            (Policy::Minor, "2.0.0", false),
            (Policy::Auto, "1.9.0", true),
            (Policy::Auto, "2.0.0", false),
            (Policy::Major, "2.0.0", true),
            (Policy::Notify, "1.0.1", false),
            (Policy::Pin, "1.0.1", false),
            (Policy::Major, "1.0.0", false),
        ];
        for (policy, candidate, allowed) in cases {
            assert_eq!(
                policy.allows(&v("1.0.0"), &v(candidate)),
                allowed,
                "{policy:?} {candidate}"
            );
        }
    }
}
