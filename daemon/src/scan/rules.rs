//! Rule files: the shipped `rules.yaml` (compiled into the binary) and an
//! organisation's own (`scan.rules` in config.yaml), in the format that
//! file documents. Every pattern is compiled once, with size limits, by
//! the `regex` crate, which matches in time linear in the input (no
//! backtracking: a hostile file cannot make a scan slow).

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
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
    #[serde(default)]
    unicode: bool,
}

/// How a rule matches. Patterns carry their index in [`RuleSet::set`].
#[derive(Debug)]
pub enum Matcher {
    /// Each match of the pattern.
    Pattern(Regex, usize),
    /// Every pattern matches somewhere in the file (reported at the
    /// first's first match).
    All(Vec<(Regex, usize)>),
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
    /// Every pattern of every rule, matched together in one pass over a
    /// text file: only the rules whose patterns are in it run on their
    /// own (to say where). One pass of a set is many times cheaper than a
    /// pass per rule over a skill that matches nothing.
    pub set: RegexSet,
}

/// The lazy DFA cache of the combined set: large enough that the set
/// stays on the fast engine, allocated only as states are met.
const SET_DFA: usize = 8 << 20;

/// The most bytes a compiled pattern may take (its NFA and lazy DFA).
const REGEX_SIZE: usize = 4 << 20;

/// `pattern` with each word boundary `\b` made an ASCII one: a Unicode
/// word boundary keeps the regex crate off its fast lazy DFA (every byte of
/// a 10 MiB skill would go through the slow engine), and the words the
/// rules name are ASCII.
fn ascii_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut escaped = false;
    for c in pattern.chars() {
        match (escaped, c) {
            (true, 'b') => {
                out.push_str("(?-u:\\b)");
                escaped = false;
            }
            (true, c) => {
                out.push('\\');
                out.push(c);
                escaped = false;
            }
            (false, '\\') => escaped = true,
            (false, c) => out.push(c),
        }
    }
    if escaped {
        out.push('\\');
    }
    out
}

fn compile(id: &str, pattern: &str, ignore_case: bool, unicode: bool) -> Result<Regex, String> {
    // Flags go in the pattern's text, so the combined set reads them too.
    // Without `unicode`, classes and case are ASCII: far smaller automata
    // (the set of every rule stays a few hundred KiB, not megabytes).
    let flags = match (ignore_case, unicode) {
        (true, true) => "i",
        (true, false) => "i-u",
        (false, true) => "",
        (false, false) => "-u",
    };
    let text = format!("(?{flags}:{})", ascii_boundaries(pattern));
    RegexBuilder::new(&text)
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
                (Some(p), true, true) => {
                    Matcher::Pattern(compile(&id, p, r.ignore_case, r.unicode)?, 0)
                }
                (None, false, true) => Matcher::All(
                    r.all
                        .iter()
                        .map(|p| compile(&id, p, r.ignore_case, r.unicode).map(|re| (re, 0)))
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
    // Number every pattern, in order, for the combined set.
    let mut patterns: Vec<String> = Vec::new();
    for rule in &mut rules {
        let mut add = |re: &Regex, index: &mut usize| {
            *index = patterns.len();
            patterns.push(re.as_str().to_string());
        };
        match &mut rule.matcher {
            Matcher::Pattern(re, i) => add(re, i),
            Matcher::All(all) => all.iter_mut().for_each(|(re, i)| add(re, i)),
            Matcher::Magic(_) => {}
        }
    }
    let set = RegexSetBuilder::new(&patterns)
        .size_limit(REGEX_SIZE * 8)
        .dfa_size_limit(SET_DFA)
        .build()
        .map_err(|e| format!("the rules together do not compile: {e}"))?;
    Ok(RuleSet {
        rules,
        fingerprint: hex::encode(hasher.finalize()),
        set,
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
    fn word_boundaries_become_ascii_ones() {
        assert_eq!(ascii_boundaries(r"\bcurl\b"), r"(?-u:\b)curl(?-u:\b)");
        assert_eq!(ascii_boundaries(r"a\\b\d"), r"a\\b\d");
        let re = compile("x", r"\bcurl\b", true, false).unwrap();
        assert!(re.is_match(b"run CURL now"));
        assert!(!re.is_match(b"runcurlnow"));
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
