//! Reading and checking a skill folder: `SKILL.md` frontmatter (the Agent
//! Skills specification) and the optional `skill.yaml` SkillCard. Every
//! problem is collected, located (file, line, field) and given a hint; the
//! card comes back only when there is no error.

pub mod card;
pub mod frontmatter;
pub mod locate;
pub mod report;
pub mod rules;

use std::path::Path;

use skilld_proto::skill::{Problem, Severity, SkillCard};

/// Largest SKILL.md or skill.yaml read (a hostile folder may hold a huge one).
const MAX_METADATA_FILE: u64 = 1024 * 1024;

/// How to read a skill.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Unknown SKILL.md keys are errors.
    pub strict: bool,
    /// Namespace when neither file names one.
    pub namespace: Option<String>,
}

/// The outcome of reading a skill folder.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The card, when there is no error.
    pub card: Option<SkillCard>,
    pub problems: Vec<Problem>,
    /// SKILL.md's frontmatter as JSON.
    pub frontmatter: std::collections::BTreeMap<String, serde_json::Value>,
    /// Words in SKILL.md's body.
    pub words: u64,
}

impl Loaded {
    pub fn is_valid(&self) -> bool {
        self.card.is_some() && !self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

fn problem(file: &str, message: String, hint: &str) -> Problem {
    Problem {
        severity: Severity::Error,
        file: file.to_string(),
        line: None,
        field: String::new(),
        message,
        hint: hint.to_string(),
    }
}

/// Read a metadata file; `Ok(None)` when it does not exist.
fn read_small(path: &Path, name: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            problems.push(problem(
                name,
                format!("cannot read: {e}"),
                "check the file's permissions",
            ));
            return None;
        }
        Ok(meta) => meta,
    };
    if !meta.is_file() {
        problems.push(problem(
            name,
            "is not a regular file".into(),
            "it must be a plain file, not a link or folder",
        ));
        return None;
    }
    if meta.len() > MAX_METADATA_FILE {
        problems.push(problem(
            name,
            format!("is {} bytes; the limit is {MAX_METADATA_FILE}", meta.len()),
            "keep metadata small; move long text to other files",
        ));
        return None;
    }
    match crate::user_file::read_regular(path, MAX_METADATA_FILE) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                problems.push(problem(
                    name,
                    "is not UTF-8 text".into(),
                    "save it as UTF-8",
                ));
                None
            }
        },
        Err(e) => {
            problems.push(problem(
                name,
                format!("cannot read: {e}"),
                "check the file's permissions",
            ));
            None
        }
    }
}

/// Read and check the skill in `dir`.
pub fn load(dir: &Path, options: &LoadOptions) -> Loaded {
    let mut problems = Vec::new();
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let skill_md = read_small(&dir.join("SKILL.md"), "SKILL.md", &mut problems);
    if skill_md.is_none() && problems.is_empty() {
        problems.push(problem(
            "SKILL.md",
            format!("{} has no SKILL.md", dir.display()),
            "a skill folder needs a SKILL.md with `name:` and `description:` frontmatter",
        ));
    }
    let md =
        skill_md.and_then(|text| frontmatter::check(&text, &folder, options.strict, &mut problems));
    let card_text = read_small(&dir.join("skill.yaml"), "skill.yaml", &mut problems);
    let md_ok = md.is_some()
        && !problems
            .iter()
            .any(|p| p.severity == Severity::Error && p.file == "SKILL.md");
    let mut card = match (&card_text, &md) {
        (Some(text), md) => card::check(text, md.as_ref(), &mut problems),
        (None, Some(md)) if md_ok => card::derive(md, &mut problems),
        _ => None,
    };
    if let Some(card) = &mut card
        && card.metadata.namespace.is_none()
    {
        card.metadata.namespace = options.namespace.clone();
    }
    if let Some(ns) = card.as_ref().and_then(|c| c.metadata.namespace.clone())
        && let Some(p) = rules::namespace_problems(&ns).into_iter().next()
    {
        problems.push(problem(
            "",
            format!("namespace {ns:?}: {p}"),
            "use '/'-separated segments of a-z, 0-9 and '-'",
        ));
    }
    let has_error = problems.iter().any(|p| p.severity == Severity::Error);
    Loaded {
        card: if has_error { None } else { card },
        problems,
        frontmatter: md.as_ref().map(|m| m.raw.clone()).unwrap_or_default(),
        words: md.map_or(0, |m| m.words),
    }
}
