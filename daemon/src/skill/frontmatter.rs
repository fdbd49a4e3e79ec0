//! `SKILL.md`: split off the YAML frontmatter and check it against the Agent
//! Skills specification (agentskills.io).
//!
//! A UTF-8 BOM and CRLF line ends are accepted. A file with no frontmatter or
//! with broken YAML is an error, never a silent default. Unknown keys are
//! warnings (real skills carry `version`, `disable-model-invocation`, ...)
//! unless the caller is strict.

use std::collections::BTreeMap;

use serde_norway::{Mapping, Value};
use skilld_proto::skill::Severity;

use super::report::{FileReport, type_name};
use super::rules;

/// The keys the specification defines.
const KNOWN: &[&str] = &[
    "name",
    "description",
    "license",
    "compatibility",
    "metadata",
    "allowed-tools",
];

/// What SKILL.md says, once read.
#[derive(Debug, Default, Clone)]
pub struct SkillMd {
    pub name: Option<String>,
    pub description: Option<String>,
    pub license: Option<String>,
    pub compatibility: Option<String>,
    pub allowed_tools: Option<String>,
    /// `metadata`, string values only.
    pub metadata: BTreeMap<String, String>,
    /// Every frontmatter key as JSON, for `validate --json`.
    pub raw: BTreeMap<String, serde_json::Value>,
    /// Words of the body (after the frontmatter).
    pub words: u64,
    /// Line of each top-level key, for problems found later.
    pub yaml: String,
}

/// Normalise line ends and strip a BOM.
fn normalise(text: &str) -> String {
    text.strip_prefix('\u{feff}')
        .unwrap_or(text)
        .replace("\r\n", "\n")
}

/// Split `---\nYAML\n---\nbody`; the YAML and the body.
fn split(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("---")?;
    let rest = rest.trim_start_matches([' ', '\t']).strip_prefix('\n')?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

/// Read and check SKILL.md; `folder` is the skill folder's name.
pub fn check(
    text: &str,
    folder: &str,
    strict: bool,
    report: &mut Vec<skilld_proto::skill::Problem>,
) -> Option<SkillMd> {
    let text = normalise(text);
    let Some((yaml, body)) = split(&text) else {
        let mut r = FileReport::new("SKILL.md", "", 0);
        r.error_at(
            Some(1),
            "has no YAML frontmatter",
            "start the file with a line '---', then `name:` and `description:`, then a closing '---'",
        );
        report.extend(r.problems);
        return None;
    };
    // The YAML starts on line 2 of the file.
    let mut r = FileReport::new("SKILL.md", yaml, 1);
    let value: Value = match serde_norway::from_str(yaml) {
        Ok(v) => v,
        Err(e) => {
            let line = e.location().map(|l| l.line() as u32 + 1);
            r.error_at(
                line,
                format!(
                    "frontmatter is not valid YAML: {}",
                    super::report::shift_lines(&e.to_string(), 1)
                ),
                "fix the YAML between the '---' lines",
            );
            report.extend(r.problems);
            return None;
        }
    };
    let map = match value {
        Value::Mapping(map) => map,
        Value::Null => {
            r.error_at(
                Some(1),
                "frontmatter is empty",
                "add `name:` and `description:` between the '---' lines",
            );
            report.extend(r.problems);
            return None;
        }
        other => {
            r.error_at(
                Some(2),
                format!(
                    "frontmatter is {}, not a mapping of keys",
                    type_name(&other)
                ),
                "write `key: value` lines",
            );
            report.extend(r.problems);
            return None;
        }
    };
    let md = fields(&map, folder, strict, &mut r, yaml, body);
    report.extend(r.problems);
    Some(md)
}

fn string_field(map: &Mapping, key: &str, r: &mut FileReport<'_>) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => {
            r.error(
                &[key],
                format!("must be a string, not {}", type_name(other)),
                "quote the value",
            );
            None
        }
    }
}

fn fields(
    map: &Mapping,
    folder: &str,
    strict: bool,
    r: &mut FileReport<'_>,
    yaml: &str,
    body: &str,
) -> SkillMd {
    let mut md = SkillMd {
        yaml: yaml.to_string(),
        words: body.split_whitespace().count() as u64,
        ..SkillMd::default()
    };
    for (key, value) in map {
        let Some(key) = key.as_str() else {
            r.error_at(
                None,
                format!("a key is not a string: {key:?}"),
                "keys must be plain words",
            );
            continue;
        };
        md.raw.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
        if !KNOWN.contains(&key) {
            let severity = if strict {
                Severity::Error
            } else {
                Severity::Warning
            };
            r.push(
                severity,
                &[key],
                format!("`{key}` is not a field of the Agent Skills specification"),
                "move it under `metadata:` to keep it, or remove it",
            );
        }
    }

    md.name = string_field(map, "name", r);
    match &md.name {
        None if !map.contains_key("name") => r.error_at(
            Some(1),
            "`name` is missing",
            format!("add `name: {}`", rules::suggest_name(folder)),
        ),
        None => {}
        Some(name) => {
            for p in rules::name_problems(name) {
                r.error(
                    &["name"],
                    format!("name {name:?} {p}"),
                    format!("try {:?}", rules::suggest_name(name)),
                );
            }
            if name != folder {
                let hint = if rules::name_problems(name).is_empty() {
                    format!("rename the folder to {name:?} or set `name: {folder}`")
                } else {
                    let good = rules::suggest_name(name);
                    format!("set `name: {good}` and name the folder {good:?}")
                };
                r.error(
                    &["name"],
                    format!("name {name:?} differs from the folder name {folder:?}"),
                    hint,
                );
            }
        }
    }

    md.description = string_field(map, "description", r);
    match &md.description {
        None if !map.contains_key("description") => r.error_at(
            Some(1),
            "`description` is missing",
            "add `description:` saying what the skill does and when to use it",
        ),
        None => {}
        Some(d) if d.trim().is_empty() => r.error(
            &["description"],
            "description is empty",
            "say what the skill does and when to use it",
        ),
        // Agents load longer descriptions: over the spec's limit is a
        // warning, an error only under --strict.
        Some(d) if d.chars().count() > rules::MAX_DESCRIPTION => r.push(
            limit_severity(strict),
            &["description"],
            format!(
                "description is {} characters; the Agent Skills specification allows {}",
                d.chars().count(),
                rules::MAX_DESCRIPTION
            ),
            "shorten it; put details in the body of SKILL.md",
        ),
        Some(_) => {}
    }

    md.license = string_field(map, "license", r);
    md.compatibility = string_field(map, "compatibility", r);
    if let Some(c) = &md.compatibility
        && c.chars().count() > rules::MAX_COMPATIBILITY
    {
        r.push(
            limit_severity(strict),
            &["compatibility"],
            format!(
                "compatibility is {} characters; the Agent Skills specification allows {}",
                c.chars().count(),
                rules::MAX_COMPATIBILITY
            ),
            "shorten it",
        );
    }
    md.allowed_tools = string_field(map, "allowed-tools", r);

    match map.get("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(meta)) => {
            for (k, v) in meta {
                let key = k
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{k:?}"));
                match v {
                    Value::String(s) => {
                        md.metadata.insert(key, s.clone());
                    }
                    other => r.error(
                        &["metadata", &key],
                        format!("metadata.{key} must be a string, not {}", type_name(other)),
                        "quote the value, e.g. version: \"1.0.0\"",
                    ),
                }
            }
        }
        Some(other) => r.error(
            &["metadata"],
            format!(
                "metadata must be a mapping of strings, not {}",
                type_name(other)
            ),
            "write `metadata:` then indented `key: \"value\"` lines",
        ),
    }
    md
}

/// A length limit of the specification that agents do not enforce: a
/// warning, an error only under `--strict`. (Name rules stay errors: they
/// decide where the folder lands.)
fn limit_severity(strict: bool) -> Severity {
    if strict {
        Severity::Error
    } else {
        Severity::Warning
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skilld_proto::skill::Problem;

    fn run(text: &str) -> (Option<SkillMd>, Vec<Problem>) {
        let mut problems = Vec::new();
        let md = check(text, "demo", false, &mut problems);
        (md, problems)
    }

    #[test]
    fn crlf_and_bom_are_read() {
        let (md, problems) = run(
            "\u{feff}---\r\nname: demo\r\ndescription: Does things.\r\n---\r\n# Demo\r\nThree body words\r\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let md = md.unwrap();
        assert_eq!(md.name.as_deref(), Some("demo"));
        assert_eq!(md.words, 5);
    }

    #[test]
    fn missing_frontmatter_is_an_error() {
        let (md, problems) = run("# Just markdown\n");
        assert!(md.is_none());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("no YAML frontmatter"));
    }

    #[test]
    fn unterminated_frontmatter_is_an_error() {
        let (_, problems) = run("---\nname: demo\ndescription: x\n");
        assert!(problems[0].message.contains("no YAML frontmatter"));
    }

    #[test]
    fn broken_yaml_has_a_file_line() {
        let (_, problems) = run("---\nname: demo\ndescription: [unclosed\n---\n");
        assert!(
            problems[0].message.contains("not valid YAML"),
            "{problems:?}"
        );
        assert!(problems[0].line.unwrap() >= 3, "{problems:?}");
    }

    #[test]
    fn problems_point_at_lines_and_all_are_reported() {
        let (_, problems) = run(
            "---\nname: Demo_X\ndescription: \"\"\ncompatibility: 3\nmetadata:\n  version: 1.0\nextra: yes\n---\n",
        );
        let summary: Vec<(Option<u32>, &str)> = problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert!(summary.contains(&(Some(2), "name")), "{summary:?}");
        assert!(summary.contains(&(Some(3), "description")), "{summary:?}");
        assert!(summary.contains(&(Some(4), "compatibility")), "{summary:?}");
        assert!(
            summary.contains(&(Some(6), "metadata.version")),
            "{summary:?}"
        );
        assert!(summary.contains(&(Some(7), "extra")), "{summary:?}");
        let extra = problems.iter().find(|p| p.field == "extra").unwrap();
        assert_eq!(extra.severity, Severity::Warning);
    }

    #[test]
    fn strict_makes_unknown_keys_errors() {
        let mut problems = Vec::new();
        check(
            "---\nname: demo\ndescription: d\nversion: 1\n---\n",
            "demo",
            true,
            &mut problems,
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].severity, Severity::Error);
    }
}
