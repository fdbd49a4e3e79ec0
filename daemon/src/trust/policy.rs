//! The trust policy: which images may be written to disk, in the spirit of
//! containers' `policy.json`. A default rule and rules per scope, where a
//! scope is a registry (`quay.io`), a namespace prefix (`quay.io/acme`) or a
//! repository (`quay.io/acme/code-review`); images built locally have no
//! registry, so their scope is their repository path (`acme/code-review`).
//! The most specific scope (most path components) that contains the image's
//! repository wins, matched component by component.
//!
//! Scopes are parsed as references are ([`Scope::parse`]): the registry in
//! its canonical form, so `LOCALHOST:05000/acme` is `localhost:5000/acme`,
//! and every loopback spelling of one port is matched as one host (see
//! [`crate::image::registry_name::policy_host`]). A scope that does not
//! parse (a scheme, a wildcard, a tag, an upper-case name, stray spaces), or
//! two that name the same thing, stop the daemon with the line: a rule that
//! silently matches nothing protects nothing.
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

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use super::keys;
use crate::image::reference::{Reference, component_ok};
use crate::image::registry_name::{canonical, policy_host};

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

/// A scope, parsed: a registry (canonical), a repository path prefix, or both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    /// The canonical registry; `None` for a scope of local images.
    pub registry: Option<String>,
    /// Path components under the registry (may be empty for a registry scope).
    pub path: Vec<String>,
}

impl Scope {
    /// Parse a scope as written in `config.yaml`, or say why it is not one.
    pub fn parse(text: &str) -> Result<Scope, String> {
        const SHAPE: &str = "a scope is a registry, a namespace or a repository (like quay.io/acme), without a tag, digest or trailing '/'";
        if text.is_empty() {
            return Err(format!("the scope is empty; {SHAPE}"));
        }
        if text.trim() != text {
            return Err(format!(
                "{text:?} has spaces around it; write {:?}",
                text.trim()
            ));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(format!(
                "{text:?} has a scheme ({scheme}://); write the registry and path alone, like quay.io/acme"
            ));
        }
        if text.contains('*') {
            return Err(format!(
                "{text:?} has a wildcard; a scope already covers everything below it, so write it without '*' (like quay.io/acme)"
            ));
        }
        if text.ends_with('/') || text.contains('@') || text.contains("//") {
            return Err(format!("{text:?}: {SHAPE}"));
        }
        let mut parts = text.split('/');
        let first = parts.next().unwrap_or_default();
        let registry_like = first.contains(['.', ':'])
            || first.eq_ignore_ascii_case("localhost")
            || first.starts_with('[');
        let (registry, rest): (Option<String>, Vec<&str>) = if registry_like {
            let registry =
                canonical(first).map_err(|why| format!("{text:?}: registry {first:?}: {why}"))?;
            (Some(registry), parts.collect())
        } else {
            (None, text.split('/').collect())
        };
        if let Some(last) = rest.last()
            && last.contains(':')
        {
            return Err(format!("{text:?}: {SHAPE}"));
        }
        if let Some(bad) = rest.iter().find(|c| !component_ok(c)) {
            return Err(format!(
                "{text:?}: {bad:?} is not a repository name component (lowercase letters and digits, separated by '.', '_', '__' or '-'), so the scope could match nothing"
            ));
        }
        let mut path: Vec<String> = rest.iter().map(|c| c.to_string()).collect();
        // As for references: docker.io/x is docker.io/library/x.
        if registry.as_deref() == Some("docker.io") && path.len() == 1 {
            path.insert(0, "library".into());
        }
        Ok(Scope { registry, path })
    }

    /// Whether this scope contains `registry`/`path` (a canonical reference's
    /// parts), loopback spellings of one port counting as one host.
    fn contains(&self, registry: Option<&str>, path: &[&str]) -> bool {
        let host_matches = match (&self.registry, registry) {
            (None, None) => true,
            (Some(mine), Some(theirs)) => policy_host(mine) == policy_host(theirs),
            _ => false,
        };
        host_matches
            && self.path.len() <= path.len()
            && self.path.iter().zip(path).all(|(a, b)| a == b)
    }

    /// How specific the scope is: more components win.
    fn depth(&self) -> usize {
        usize::from(self.registry.is_some()) + self.path.len()
    }

    /// What the trust policy matches this scope as: the registry by its
    /// policy host; two scopes with the same key are the same scope.
    fn key(&self) -> (Option<String>, Vec<String>) {
        (self.registry.as_deref().map(policy_host), self.path.clone())
    }
}

/// One scope's rule, with the scope as it was written (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRule {
    pub written: String,
    pub scope: Scope,
    pub rule: Rule,
}

/// The `trust:` section of `config.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustConfig {
    pub default: Rule,
    #[serde(deserialize_with = "deserialize_scopes")]
    pub scopes: Vec<ScopeRule>,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            default: Rule::accept(),
            scopes: Vec::new(),
        }
    }
}

/// A scope key, parsed as it is read, so a bad one is reported at its line.
struct ScopeKey(String, Scope);

impl<'de> Deserialize<'de> for ScopeKey {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let written = String::deserialize(de)?;
        let scope = Scope::parse(&written).map_err(serde::de::Error::custom)?;
        Ok(ScopeKey(written, scope))
    }
}

/// A value that is never read: its deserialization fails with the message,
/// at the value's line.
struct Refuse(String);

impl<'de> serde::de::DeserializeSeed<'de> for Refuse {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, _: D) -> Result<(), D::Error> {
        Err(serde::de::Error::custom(self.0))
    }
}

/// `scopes:` as a map of scope → rule; a bad scope, or a second spelling of
/// one, is an error at its line.
fn deserialize_scopes<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<ScopeRule>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Vec<ScopeRule>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of scopes (like quay.io/acme) to rules")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out: Vec<ScopeRule> = Vec::new();
            while let Some(ScopeKey(written, scope)) = map.next_key()? {
                if let Some(other) = out.iter().find(|o| o.scope.key() == scope.key()) {
                    map.next_value_seed(Refuse(format!(
                        "{written:?} and {:?} name the same scope (loopback hosts of one port are one host); keep one",
                        other.written
                    )))?;
                }
                let rule = map.next_value::<Rule>()?;
                out.push(ScopeRule {
                    written,
                    scope,
                    rule,
                });
            }
            Ok(out)
        }
    }
    de.deserialize_map(Visitor)
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
    /// The rule for the image `reference` (its repository; a local image's
    /// scope is its path): the most specific scope that contains it.
    pub fn rule_for(&self, reference: &Reference) -> Applied<'_> {
        let path: Vec<&str> = reference.path.split('/').collect();
        self.scopes
            .iter()
            .filter(|s| s.scope.contains(reference.registry.as_deref(), &path))
            .max_by_key(|s| s.scope.depth())
            .map(|s| Applied {
                name: format!("scopes.{:?}", s.written),
                rule: &s.rule,
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
        for scope in self.scopes.iter_mut() {
            check(&format!("scopes.{:?}", scope.written), &mut scope.rule)?;
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
                .map(|(s, k)| ScopeRule {
                    written: s.to_string(),
                    scope: Scope::parse(s).unwrap(),
                    rule: rule(*k),
                })
                .collect(),
        }
    }

    fn rule_of<'a>(p: &'a TrustConfig, reference: &str) -> Applied<'a> {
        p.rule_for(&Reference::parse(reference).unwrap())
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
            let applied = rule_of(&p, repository);
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

    #[test]
    fn every_spelling_of_a_registry_meets_its_rule() {
        let p = policy(&[
            ("127.0.0.1:5000/acme", RuleType::Signed),
            ("localhost:6000", RuleType::Reject),
            ("quay.io/acme", RuleType::Reject),
            ("docker.io/nginx", RuleType::Reject),
        ]);
        // (reference as a user may write it, the rule it must meet)
        let cases = [
            (
                "127.0.0.1:5000/acme/tool:1.1.0",
                "scopes.\"127.0.0.1:5000/acme\"",
            ),
            (
                "127.0.0.1:05000/acme/tool:1.1.0",
                "scopes.\"127.0.0.1:5000/acme\"",
            ),
            (
                "localhost:5000/acme/tool:1.1.0",
                "scopes.\"127.0.0.1:5000/acme\"",
            ),
            ("LOCALHOST:5000/acme/tool", "scopes.\"127.0.0.1:5000/acme\""),
            ("[::1]:5000/acme/tool", "scopes.\"127.0.0.1:5000/acme\""),
            ("127.0.0.2:5000/acme/tool", "scopes.\"127.0.0.1:5000/acme\""),
            (
                "[::ffff:127.0.0.1]:5000/acme/tool",
                "scopes.\"127.0.0.1:5000/acme\"",
            ),
            ("127.0.0.1:6000/x", "scopes.\"localhost:6000\""),
            ("quay.io:443/acme/x", "scopes.\"quay.io/acme\""),
            ("QUAY.io/acme/x", "scopes.\"quay.io/acme\""),
            ("index.docker.io/nginx:1", "scopes.\"docker.io/nginx\""),
            ("docker.io/library/nginx", "scopes.\"docker.io/nginx\""),
            // Other ports and other hosts are other registries.
            ("127.0.0.1:5001/acme/tool", "default"),
            ("10.0.0.1:5000/acme/tool", "default"),
            ("acme/tool", "default"),
        ];
        for (reference, name) in cases {
            assert_eq!(rule_of(&p, reference).name, name, "{reference}");
        }
    }

    #[test]
    fn scopes_parse_to_the_canonical_form_or_are_refused() {
        let ok = [
            ("LOCALHOST:5000", Some("localhost:5000"), ""),
            ("127.0.0.1:05000/acme", Some("127.0.0.1:5000"), "acme"),
            ("quay.io:443/acme/x", Some("quay.io"), "acme/x"),
            ("docker.io/nginx", Some("docker.io"), "library/nginx"),
            ("acme/local", None, "acme/local"),
        ];
        for (text, registry, path) in ok {
            let scope = Scope::parse(text).unwrap();
            assert_eq!(scope.registry.as_deref(), registry, "{text}");
            assert_eq!(scope.path.join("/"), path, "{text}");
        }
        let bad = [
            ("127.0.0.1:5000/ACME", "not a repository name component"),
            ("http://127.0.0.1:5000/acme", "scheme"),
            ("docker://quay.io/acme", "scheme"),
            ("quay.io/acme/*", "wildcard"),
            (" quay.io/acme", "spaces"),
            ("quay.io/acme ", "spaces"),
            ("quay.io/acme/", "trailing"),
            ("quay.io/acme:1.0", "tag"),
            ("quay.io/a@sha256:00", "digest"),
            ("quay.io//acme", "a scope is"),
            ("127.1:5000/acme", "standard a.b.c.d"),
            ("quay.io./acme", "trailing dot"),
            ("", "empty"),
        ];
        for (text, why) in bad {
            let err = Scope::parse(text).unwrap_err();
            assert!(err.contains(why), "{text:?}: {err}");
        }
    }

    #[test]
    fn two_spellings_of_one_scope_are_refused() {
        let yaml = "scopes:\n  127.0.0.1:5000/acme: {type: reject}\n  localhost:5000/acme: {type: accept}\n";
        let err = serde_norway::from_str::<TrustConfig>(yaml).unwrap_err();
        assert!(err.to_string().contains("name the same scope"), "{err}");
        let yaml = "scopes:\n  quay.io/acme: {type: reject}\n  http://quay.io/x: {type: reject}\n";
        let err = serde_norway::from_str::<TrustConfig>(yaml).unwrap_err();
        assert!(err.to_string().contains("scheme"), "{err}");
    }
}
