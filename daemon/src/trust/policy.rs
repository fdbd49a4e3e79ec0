//! The trust policy: which images may be written to disk, in the spirit of
//! containers' `policy.json`. A default rule and rules per scope, where a
//! scope is a registry (`quay.io`), a namespace prefix (`quay.io/acme`) or a
//! repository (`quay.io/acme/code-review`); images built locally have no
//! registry, so their scope is their repository path (`acme/code-review`).
//! The longest scope that contains the image's repository wins.
//!
//! ```yaml
//! trust:
//!   default: {type: accept}
//!   scopes:
//!     quay.io/acme: {type: signed, keys: [/etc/skilld/acme.pub]}
//!     quay.io/acme/experimental: {type: accept}
//!     docker.io: {type: reject}
//! ```
//!
//! Key paths are read when the configuration is loaded, so a missing or
//! unreadable key stops the daemon from starting instead of silently
//! trusting nothing (or everything).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::keys;

/// What a rule asks of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleType {
    /// Written without any check.
    Accept,
    /// Written only when a signature verifies with one of the rule's keys.
    Signed,
    /// Never written.
    Reject,
}

impl RuleType {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleType::Accept => "accept",
            RuleType::Signed => "signed",
            RuleType::Reject => "reject",
        }
    }
}

/// One rule, as written in `config.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(rename = "type")]
    pub kind: RuleType,
    /// Public keys (cosign.pub PEM files); any one suffices. Relative paths
    /// are relative to the folder of `config.yaml`.
    #[serde(default)]
    pub keys: Vec<PathBuf>,
}

impl Rule {
    fn accept() -> Rule {
        Rule {
            kind: RuleType::Accept,
            keys: Vec::new(),
        }
    }
}

/// The `trust:` section of `config.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustConfig {
    pub default: Rule,
    pub scopes: BTreeMap<String, Rule>,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            default: Rule::accept(),
            scopes: BTreeMap::new(),
        }
    }
}

/// The rule that applies to an image, and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied<'a> {
    /// `default`, or `scopes."<scope>"`.
    pub name: String,
    pub rule: &'a Rule,
}

impl std::fmt::Display for Applied<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "trust rule {} ({})", self.name, self.rule.kind.as_str())
    }
}

impl TrustConfig {
    /// The rule for `repository` (`host/path`, or `path` for a local image):
    /// the longest scope equal to it or containing it at a `/` boundary.
    pub fn rule_for(&self, repository: &str) -> Applied<'_> {
        self.scopes
            .iter()
            .filter(|(scope, _)| {
                repository == scope.as_str()
                    || repository
                        .strip_prefix(scope.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|(scope, _)| scope.len())
            .map(|(scope, rule)| Applied {
                name: format!("scopes.{scope:?}"),
                rule,
            })
            .unwrap_or(Applied {
                name: "default".into(),
                rule: &self.default,
            })
    }

    /// Resolve key paths (`~/` against `home`, other relative paths against
    /// `base`) and check every rule: a `signed` rule needs keys that parse,
    /// other rules take none, scopes are names (no tag, digest or trailing
    /// `/`). The message says which.
    pub fn resolve(mut self, base: &Path, home: Option<&Path>) -> Result<TrustConfig, String> {
        let check = |name: &str, rule: &mut Rule| -> Result<(), String> {
            match rule.kind {
                RuleType::Signed if rule.keys.is_empty() => {
                    return Err(format!(
                        "trust.{name}: a signed rule needs `keys:` (public key files, e.g. cosign.pub)"
                    ));
                }
                RuleType::Accept | RuleType::Reject if !rule.keys.is_empty() => {
                    return Err(format!(
                        "trust.{name}: only a signed rule takes keys; this one is {}",
                        rule.kind.as_str()
                    ));
                }
                _ => {}
            }
            for key in &mut rule.keys {
                if let Ok(rest) = key.strip_prefix("~") {
                    let home = home.ok_or_else(|| {
                        format!("trust.{name}: {} starts with ~ but HOME is not set; write the full path", key.display())
                    })?;
                    *key = home.join(rest);
                } else if key.is_relative() {
                    *key = base.join(&*key);
                }
                keys::verifier(key).map_err(|e| format!("trust.{name}: {e}"))?;
            }
            Ok(())
        };
        check("default", &mut self.default)?;
        for (scope, rule) in self.scopes.iter_mut() {
            let name = format!("scopes.{scope:?}");
            if scope.is_empty()
                || scope.ends_with('/')
                || scope.contains('@')
                || (scope.contains('/')
                    && scope
                        .rsplit('/')
                        .next()
                        .is_some_and(|last| last.contains(':')))
            {
                return Err(format!(
                    "trust.{name}: a scope is a registry, a namespace or a repository (like quay.io/acme), without a tag, digest or trailing '/'"
                ));
            }
            check(&name, rule)?;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: RuleType) -> Rule {
        Rule {
            kind,
            keys: Vec::new(),
        }
    }

    fn policy(scopes: &[(&str, RuleType)]) -> TrustConfig {
        TrustConfig {
            default: rule(RuleType::Accept),
            scopes: scopes
                .iter()
                .map(|(s, k)| (s.to_string(), rule(*k)))
                .collect(),
        }
    }

    #[test]
    fn the_most_specific_scope_wins() {
        let p = policy(&[
            ("quay.io", RuleType::Reject),
            ("quay.io/acme", RuleType::Signed),
            ("quay.io/acme/experimental", RuleType::Accept),
        ]);
        let cases = [
            ("quay.io/other/x", "scopes.\"quay.io\"", RuleType::Reject),
            (
                "quay.io/acme/x",
                "scopes.\"quay.io/acme\"",
                RuleType::Signed,
            ),
            (
                "quay.io/acme/experimental",
                "scopes.\"quay.io/acme/experimental\"",
                RuleType::Accept,
            ),
            (
                "quay.io/acme/experimental/deeper",
                "scopes.\"quay.io/acme/experimental\"",
                RuleType::Accept,
            ),
            // A prefix only counts at a '/' boundary.
            ("quay.io/acmeco/x", "scopes.\"quay.io\"", RuleType::Reject),
            ("quay.iox/acme/x", "default", RuleType::Accept),
            ("acme/local", "default", RuleType::Accept),
        ];
        for (repository, name, kind) in cases {
            let applied = p.rule_for(repository);
            assert_eq!(applied.name, name, "{repository}");
            assert_eq!(applied.rule.kind, kind, "{repository}");
        }
    }

    #[test]
    fn rules_are_checked_when_loaded() {
        let signed_without_keys = policy(&[("quay.io/acme", RuleType::Signed)]);
        let err = signed_without_keys
            .resolve(Path::new("/"), None)
            .unwrap_err();
        assert!(err.contains("needs `keys:`"), "{err}");

        let mut accept_with_keys = policy(&[]);
        accept_with_keys.default.keys.push("k.pub".into());
        let err = accept_with_keys.resolve(Path::new("/"), None).unwrap_err();
        assert!(err.contains("only a signed rule takes keys"), "{err}");

        for bad in [
            "quay.io/acme/",
            "quay.io/acme:1.0",
            "quay.io/a@sha256:00",
            "",
        ] {
            let err = policy(&[(bad, RuleType::Reject)])
                .resolve(Path::new("/"), None)
                .unwrap_err();
            assert!(err.contains("a scope is a registry"), "{bad}: {err}");
        }
        // A registry with a port is a scope.
        policy(&[("localhost:5000", RuleType::Reject)])
            .resolve(Path::new("/"), None)
            .unwrap();

        let mut missing = policy(&[]);
        missing.default = Rule {
            kind: RuleType::Signed,
            keys: vec!["nowhere.pub".into()],
        };
        let err = missing
            .clone()
            .resolve(Path::new("/no/such/dir"), None)
            .unwrap_err();
        assert!(err.contains("/no/such/dir/nowhere.pub"), "{err}");
        missing.default.keys = vec!["~/keys/team.pub".into()];
        let err = missing
            .clone()
            .resolve(Path::new("/etc"), Some(Path::new("/home/me")))
            .unwrap_err();
        assert!(err.contains("/home/me/keys/team.pub"), "{err}");
        let err = missing.resolve(Path::new("/etc"), None).unwrap_err();
        assert!(err.contains("HOME is not set"), "{err}");
    }
}
