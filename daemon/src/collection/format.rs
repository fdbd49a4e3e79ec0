//! skillctl's `SkillCollection` YAML (redhat-et/skillimage `pkg/collection`):
//! `apiVersion: skillimage.io/v1alpha1`, `kind: SkillCollection`,
//! `metadata: {name, version, description}`, `skills: [{name, image |
//! source}]`. Read as skillctl reads it (unknown keys refused), checked as
//! its `Validate` checks it and more (the apiVersion, a cap on entries), with
//! the file and line of every problem.
//!
//! A collection is pushed as its bytes: [`pin`] rewrites only the `image:`
//! values it pins, so comments and layout survive.

use serde::Deserialize;

use super::CollectionError;

/// The one apiVersion skillctl writes.
pub const API_VERSION: &str = "skillimage.io/v1alpha1";
pub const KIND: &str = "SkillCollection";
/// The largest collection YAML read.
pub const MAX_COLLECTION: u64 = 1 << 20;
/// The most skills one collection may list.
pub const MAX_SKILLS: usize = 1000;

/// A parsed `SkillCollection`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillCollection {
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub skills: Vec<SkillEntry>,
}

/// `metadata` of a collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// One skill of a collection: an image reference, or (skillctl) a git
/// source to build from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillEntry {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

impl SkillEntry {
    /// Where the skill is: `image`, else `source`.
    pub fn reference(&self) -> Option<&str> {
        self.image.as_deref().or(self.source.as_deref())
    }
}

/// The 1-based line of the `n`th item (0-based) of the top-level `skills:`
/// list in `text`, if it can be found.
fn entry_line(text: &str, n: usize) -> Option<usize> {
    let mut lines = text.lines().enumerate();
    lines.find(|(_, l)| l.starts_with("skills:"))?;
    lines
        .filter(|(_, l)| l.trim_start().starts_with("- ") || l.trim() == "-")
        .nth(n)
        .map(|(i, _)| i + 1)
}

/// The 1-based line of the top-level (or metadata) key `key`.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim_start().starts_with(&format!("{key}:")))
        .map(|i| i + 1)
}

/// Parse and check a collection read from `file` (a path, or a reference
/// for one pulled). Every problem names the file and the line.
pub fn parse(yaml: &[u8], file: &str) -> Result<SkillCollection, CollectionError> {
    let invalid = |line: Option<usize>, message: String| CollectionError::Invalid {
        file: file.to_string(),
        line,
        message,
    };
    if yaml.len() as u64 > MAX_COLLECTION {
        return Err(invalid(
            None,
            format!(
                "the collection is {} bytes, over the {MAX_COLLECTION} allowed",
                yaml.len()
            ),
        ));
    }
    let text =
        std::str::from_utf8(yaml).map_err(|e| invalid(None, format!("not UTF-8 text: {e}")))?;
    let collection: SkillCollection = serde_norway::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        let message = e.to_string();
        // serde_norway appends "at line L column C"; the line is said once.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        invalid(line, format!("not a SkillCollection: {message}"))
    })?;
    if collection.kind != KIND {
        return Err(invalid(
            key_line(text, "kind"),
            format!(
                "kind is {:?}; a collection is kind: {KIND}",
                collection.kind
            ),
        ));
    }
    if collection.api_version != API_VERSION {
        return Err(invalid(
            key_line(text, "apiVersion"),
            format!(
                "apiVersion is {:?}; skilld and skillctl read apiVersion: {API_VERSION}",
                collection.api_version
            ),
        ));
    }
    if collection.metadata.name.trim().is_empty() {
        return Err(invalid(
            key_line(text, "metadata"),
            "metadata.name is required".into(),
        ));
    }
    if collection.metadata.version.trim().is_empty() {
        return Err(invalid(
            key_line(text, "metadata"),
            "metadata.version is required".into(),
        ));
    }
    if collection.skills.is_empty() {
        return Err(invalid(
            key_line(text, "skills"),
            "at least one skill is required under skills:".into(),
        ));
    }
    if collection.skills.len() > MAX_SKILLS {
        return Err(invalid(
            key_line(text, "skills"),
            format!(
                "{} skills listed, over the {MAX_SKILLS} one collection may hold; split it into several collections",
                collection.skills.len()
            ),
        ));
    }
    let mut seen = std::collections::BTreeMap::new();
    for (i, s) in collection.skills.iter().enumerate() {
        let line = entry_line(text, i);
        match (&s.image, &s.source) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    line,
                    format!("skills[{i}]: image and source are mutually exclusive; keep one"),
                ));
            }
            (None, None) => {
                return Err(invalid(
                    line,
                    format!("skills[{i}]: image or source is required"),
                ));
            }
            (Some(_), None) if s.name.is_empty() => {
                return Err(invalid(
                    line,
                    format!("skills[{i}].name is required for image entries"),
                ));
            }
            _ => {}
        }
        if !s.name.is_empty()
            && let Some(problem) = crate::skill::rules::name_problems(&s.name).first()
        {
            return Err(invalid(
                line,
                format!("skills[{i}].name {:?}: {problem}", s.name),
            ));
        }
        if !s.name.is_empty()
            && let Some(first) = seen.insert(s.name.clone(), i)
        {
            return Err(invalid(
                line,
                format!(
                    "duplicate skill name {:?} (skills[{first}] and skills[{i}]); a collection lists each skill once",
                    s.name
                ),
            ));
        }
    }
    Ok(collection)
}

impl SkillCollection {
    /// One line for a person: its name and version, and each skill with its
    /// reference (at most `shown`, then how many more).
    pub fn summary(&self, shown: usize) -> String {
        let mut skills: Vec<String> = self
            .skills
            .iter()
            .take(shown)
            .map(|s| match s.reference() {
                Some(r) => format!("{} ({r})", s.name),
                None => s.name.clone(),
            })
            .collect();
        if self.skills.len() > shown {
            skills.push(format!("and {} more", self.skills.len() - shown));
        }
        format!(
            "{:?} {} lists {} skill(s): {}",
            self.metadata.name,
            self.metadata.version,
            self.skills.len(),
            skills.join(", ")
        )
    }
}

/// `text` with each `image:` value found in `pins` (`(as written,
/// pinned)`) replaced by its pinned form; every other byte kept.
pub fn pin(text: &str, pins: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len() + pins.len() * 72);
    for line in text.split_inclusive('\n') {
        out.push_str(&pin_line(line, pins).unwrap_or_else(|| line.to_string()));
    }
    out
}

fn pin_line(line: &str, pins: &[(String, String)]) -> Option<String> {
    let body = line.trim_end_matches(['\n', '\r']);
    let ending = &line[body.len()..];
    let key = body.find("image:")?;
    let before = &body[..key];
    if !before
        .trim_start_matches(' ')
        .trim_start_matches("- ")
        .trim()
        .is_empty()
    {
        return None;
    }
    let rest = &body[key + "image:".len()..];
    let value = rest.trim();
    let value = value.split(" #").next().unwrap_or(value).trim();
    let unquoted = value.trim_matches(|c| c == '"' || c == '\'');
    let (_, pinned) = pins.iter().find(|(written, _)| written == unquoted)?;
    let start = rest.find(value)?;
    let (space, suffix) = (&rest[..start], &rest[start + value.len()..]);
    let quote = &value[..value.len() - value.trim_start_matches(['"', '\'']).len()];
    Some(format!(
        "{before}image:{space}{quote}{pinned}{quote}{suffix}{ending}"
    ))
}

/// A collection's YAML as skillctl writes one (for an Agent Skills
/// collection index pulled to a file).
pub fn to_yaml(
    name: &str,
    version: &str,
    description: Option<&str>,
    skills: &[(String, String)],
) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = format!(
        "apiVersion: {API_VERSION}\nkind: {KIND}\nmetadata:\n  name: {}\n  version: {}\n",
        quoted(name),
        quoted(version)
    );
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        out.push_str(&format!("  description: {}\n", quoted(d)));
    }
    out.push_str("skills:\n");
    for (name, image) in skills {
        out.push_str(&format!(
            "  - name: {}\n    image: {}\n",
            quoted(name),
            quoted(image)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../testdata/skillctl/collection/hr-skills.yaml"),
        )
        .unwrap()
    }

    fn problem(yaml: &str) -> (Option<usize>, String) {
        match parse(yaml.as_bytes(), "c.yaml") {
            Err(CollectionError::Invalid {
                line,
                message,
                file,
            }) => {
                assert_eq!(file, "c.yaml");
                (line, message)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn skillctls_collection_parses_and_summarises() {
        let collection = parse(&fixture(), "hr-skills.yaml").unwrap();
        assert_eq!(collection.api_version, API_VERSION);
        assert_eq!(collection.metadata.name, "hr-skills");
        assert_eq!(collection.skills.len(), 2);
        assert_eq!(
            collection.skills[1].reference(),
            Some("ghcr.io/acme/document-reviewer:2.1.0")
        );
        assert_eq!(
            collection.summary(1),
            "\"hr-skills\" 1.0.0 lists 2 skill(s): document-summarizer (quay.io/skillimage/business/document-summarizer:1.0.0), and 1 more"
        );
    }

    const HEAD: &str = "apiVersion: skillimage.io/v1alpha1\nkind: SkillCollection\nmetadata:\n  name: c\n  version: 1.0.0\nskills:\n";

    #[test]
    fn bad_collections_say_where() {
        let (line, m) = problem(&format!(
            "{HEAD}  - name: a\n    image: r.io/a:1\n  - name: a\n    image: r.io/b:1\n"
        ));
        assert_eq!(line, Some(9));
        assert!(m.contains("duplicate skill name \"a\""), "{m}");
        let (line, m) = problem(&format!(
            "{HEAD}  - name: a\n    image: r.io/a:1\n    source: https://example.com/x\n"
        ));
        assert_eq!(line, Some(7));
        assert!(m.contains("mutually exclusive"), "{m}");
        let (line, m) = problem(&HEAD.replace("v1alpha1", "v2"));
        assert_eq!(line, Some(1));
        assert!(m.contains("apiVersion is \"skillimage.io/v2\""), "{m}");
        let (line, m) = problem(&format!(
            "{}  - name: a\n    image: r.io/a:1\n",
            HEAD.replace("SkillCollection", "SkillCard")
        ));
        assert_eq!(line, Some(2));
        assert!(m.contains("kind is \"SkillCard\""), "{m}");
        let (line, m) = problem(&format!(
            "{HEAD}  - name: a\n    image: r.io/a:1\n    extra: 1\n"
        ));
        assert_eq!(line, Some(9));
        assert!(m.contains("unknown field `extra`"), "{m}");
        let (line, m) = problem(&format!(
            "{HEAD}  - name: ../../.bashrc\n    image: r.io/a:1\n"
        ));
        assert_eq!(line, Some(7));
        assert!(m.contains("skills[0].name \"../../.bashrc\""), "{m}");
        let (_, m) = problem(HEAD);
        assert!(m.contains("at least one skill"), "{m}");
        let many: String = (0..MAX_SKILLS + 1)
            .map(|i| format!("  - name: s{i}\n    image: r.io/s{i}:1\n"))
            .collect();
        let (line, m) = problem(&format!("{HEAD}{many}"));
        assert_eq!(line, Some(6));
        assert!(m.contains("over the 1000"), "{m}");
        assert!(parse(b"\xff\xfe not yaml [", "x").is_err());
    }

    #[test]
    fn alias_bombs_are_refused_quickly() {
        // "Billion laughs": each level names the one before nine times.
        let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            yaml.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        let bombs = [
            format!("{HEAD}  - name: a\n    image: r.io/a:1\n{yaml}"),
            format!("{yaml}{HEAD}  - *a9\n"),
            HEAD.replace(
                "name: c",
                &format!("name: *a9\n{}", yaml.replace('\n', "\n  ")),
            ) + "  - name: a\n    image: r.io/a:1\n",
        ];
        for bomb in bombs {
            let start = std::time::Instant::now();
            assert!(parse(bomb.as_bytes(), "bomb.yaml").is_err());
            assert!(start.elapsed() < std::time::Duration::from_secs(2));
        }
    }

    #[test]
    fn pinning_changes_only_the_pinned_values() {
        let text = "# ours\napiVersion: skillimage.io/v1alpha1\nskills:\n  - name: a\n    image: r.io/a:1   # first\n  - image: \"r.io/b:2\"\n    name: b\n  - name: c\n    image: r.io/c:3\n";
        let pinned = pin(
            text,
            &[
                ("r.io/a:1".into(), "r.io/a:1@sha256:aa".into()),
                ("r.io/b:2".into(), "r.io/b:2@sha256:bb".into()),
            ],
        );
        assert_eq!(
            pinned,
            "# ours\napiVersion: skillimage.io/v1alpha1\nskills:\n  - name: a\n    image: r.io/a:1@sha256:aa   # first\n  - image: \"r.io/b:2@sha256:bb\"\n    name: b\n  - name: c\n    image: r.io/c:3\n"
        );
    }

    #[test]
    fn written_yaml_reads_back() {
        let yaml = to_yaml(
            "team",
            "2.0.0",
            Some("ours: all"),
            &[("a".into(), "r.io/a@sha256:00".into())],
        );
        let c = parse(yaml.as_bytes(), "x").unwrap();
        assert_eq!(c.metadata.description.as_deref(), Some("ours: all"));
        assert_eq!(c.skills[0].image.as_deref(), Some("r.io/a@sha256:00"));
    }
}
