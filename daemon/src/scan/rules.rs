//! Rule files: the shipped `rules.yaml` (compiled into the binary) and an
//! organisation's own (`scan.rules` in config.yaml), in the format that
//! file documents. Every pattern is compiled once, with size limits, by
//! the `regex` crate, which matches in time linear in the input (no
//! backtracking: a hostile file cannot make a scan slow).

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::Severity;

/// The shipped rules.
pub const SHIPPED: &str = include_str!("rules.yaml");

/// Which files a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Files {
    /// Every file that is not binary.
    Text,
    /// `.md`, `.mdx`, `.markdown`.
    Markdown,
    /// The skill's `SKILL.md`.
    SkillMd,
    /// Files with a NUL byte in their first 8 KiB.
    Binary,
    Any,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    rules: Vec<RuleText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleText {
    id: String,
    severity: Severity,
    why: String,
    files: Files,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    magic: Vec<String>,
    #[serde(default)]
    ignore_case: bool,
}

/// How a rule matches.
#[derive(Debug)]
pub enum Matcher {
    /// Each match of the pattern.
    Pattern(Regex),
    /// Every pattern matches somewhere in the file (reported at the
    /// first's first match).
    All(Vec<Regex>),
    /// The file starts with one of these.
    Magic(Vec<Vec<u8>>),
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub why: String,
    pub files: Files,
    pub matcher: Matcher,
}

/// Every rule in force, and a fingerprint of their text (findings cached
/// under other rules are not reused).
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub fingerprint: String,
}

/// The most bytes a compiled pattern may take (its NFA and lazy DFA).
const REGEX_SIZE: usize = 4 << 20;

fn compile(id: &str, pattern: &str, ignore_case: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .size_limit(REGEX_SIZE)
        .dfa_size_limit(REGEX_SIZE)
        .build()
        .map_err(|e| format!("rule {id}: the pattern does not compile: {e}"))
}

fn hex(id: &str, text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("rule {id}: magic {text:?} is not hex bytes"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&text[i..i + 2], 16)
                .map_err(|_| format!("rule {id}: magic {text:?} is not hex bytes"))
        })
        .collect()
}

/// Parse and compile the rule files `texts` (`(name, text)`), in order;
/// a later rule with an id already seen replaces it.
pub fn load(texts: &[(String, String)]) -> Result<RuleSet, String> {
    let mut hasher = Sha256::new();
    let mut rules: Vec<Rule> = Vec::new();
    for (name, text) in texts {
        hasher.update(name.as_bytes());
        hasher.update(text.as_bytes());
        let file: File = serde_norway::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        for r in file.rules {
            let id = r.id.clone();
            let matcher = match (&r.pattern, r.all.is_empty(), r.magic.is_empty()) {
                (Some(p), true, true) => Matcher::Pattern(compile(&id, p, r.ignore_case)?),
                (None, false, true) => Matcher::All(
                    r.all
                        .iter()
                        .map(|p| compile(&id, p, r.ignore_case))
                        .collect::<Result<_, _>>()?,
                ),
                (None, true, false) => Matcher::Magic(
                    r.magic
                        .iter()
                        .map(|m| hex(&id, m))
                        .collect::<Result<_, _>>()?,
                ),
                _ => {
                    return Err(format!(
                        "{name}: rule {id}: give exactly one of pattern, all or magic"
                    ));
                }
            };
            let rule = Rule {
                id: r.id,
                severity: r.severity,
                why: r.why,
                files: r.files,
                matcher,
            };
            match rules.iter_mut().find(|x| x.id == rule.id) {
                Some(slot) => *slot = rule,
                None => rules.push(rule),
            }
        }
    }
    Ok(RuleSet {
        rules,
        fingerprint: hex::encode(hasher.finalize()),
    })
}

/// The shipped rules alone.
pub fn shipped() -> RuleSet {
    load(&[("rules.yaml".into(), SHIPPED.into())]).expect("the shipped rules compile")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_compile_and_are_unique() {
        let set = shipped();
        assert!(set.rules.len() >= 25, "{}", set.rules.len());
        let mut ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), set.rules.len());
    }

    #[test]
    fn bad_rule_files_say_which_rule() {
        let bad = |text: &str| load(&[("own.yaml".into(), text.into())]).unwrap_err();
        assert!(
            bad("rules:\n  - {id: x, severity: high, why: w, files: text, pattern: '('}\n")
                .contains("rule x: the pattern does not compile")
        );
        assert!(
            bad("rules:\n  - {id: x, severity: high, why: w, files: text}\n")
                .contains("exactly one of")
        );
        assert!(
            bad("rules:\n  - {id: x, severity: huge, why: w, files: text, pattern: a}\n")
                .contains("own.yaml")
        );
        // A backreference is refused: matching must stay linear.
        assert!(
            bad("rules:\n  - {id: x, severity: high, why: w, files: text, pattern: '(a)\\1'}\n")
                .contains("does not compile")
        );
    }
}
