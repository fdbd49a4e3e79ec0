//! `skill.yaml`, the SkillCard: checked key by key so every problem is
//! reported at once (unknown keys are errors here: the card is ours), then
//! read into [`SkillCard`]. Without a `skill.yaml` the card is derived from
//! SKILL.md.

use serde_norway::{Mapping, Value};
use skilld_proto::skill::{Author, CARD_API_VERSION, CARD_KIND, CardMetadata, Problem, SkillCard};

use super::frontmatter::SkillMd;
use super::report::{FileReport, type_name};
use super::rules;

/// The expected shape of each mapping, by key path.
fn known_keys(path: &[&str]) -> &'static [&'static str] {
    match path {
        [] => &["apiVersion", "kind", "metadata", "provenance", "spec"],
        ["metadata"] => &[
            "name",
            "display-name",
            "namespace",
            "version",
            "description",
            "license",
            "compatibility",
            "tags",
            "authors",
            "allowed-tools",
        ],
        ["metadata", "authors"] => &["name", "email"],
        ["provenance"] => &["source", "commit", "path"],
        ["spec"] => &["prompt", "examples", "dependencies"],
        ["spec", "examples"] => &["input", "output"],
        ["spec", "dependencies"] => &["name", "version"],
        _ => &[],
    }
}

/// Keys that hold a list of mappings.
fn is_list_of_maps(path: &[&str]) -> bool {
    matches!(
        path,
        ["metadata", "authors"] | ["spec", "examples"] | ["spec", "dependencies"]
    )
}

/// Keys that hold a list of strings.
fn is_list_of_strings(path: &[&str]) -> bool {
    matches!(path, ["metadata", "tags"])
}

/// Keys that hold a mapping.
fn is_map(path: &[&str]) -> bool {
    matches!(path, [] | ["metadata"] | ["provenance"] | ["spec"])
}

/// Check every key and value type of the card, recursively.
fn check_shape(value: &Value, path: &mut Vec<&'static str>, r: &mut FileReport<'_>) {
    if is_map(path) {
        let Value::Mapping(map) = value else {
            r.error(
                path,
                format!("must be a mapping, not {}", type_name(value)),
                "write indented `key: value` lines",
            );
            return;
        };
        check_map(map, path, r);
    } else if is_list_of_maps(path) {
        let Value::Sequence(items) = value else {
            r.error(
                path,
                format!("must be a list, not {}", type_name(value)),
                "write one `- key: value` item per entry",
            );
            return;
        };
        for item in items {
            match item {
                Value::Mapping(map) => check_map(map, path, r),
                other => r.error(
                    path,
                    format!("items must be mappings, not {}", type_name(other)),
                    "write `- name: ...` items",
                ),
            }
        }
    } else if is_list_of_strings(path) {
        match value {
            Value::Sequence(items) if items.iter().all(Value::is_string) => {}
            _ => r.error(
                path,
                "must be a list of strings",
                "write `- tag` items, or [a, b]",
            ),
        }
    } else if !value.is_string() {
        r.error(
            path,
            format!("must be a string, not {}", type_name(value)),
            "quote the value",
        );
    }
}

fn check_map(map: &Mapping, path: &mut Vec<&'static str>, r: &mut FileReport<'_>) {
    let known = known_keys(path);
    for (key, value) in map {
        let Some(key) = key.as_str() else {
            r.error(
                path,
                format!("a key is not a string: {key:?}"),
                "keys must be plain words",
            );
            continue;
        };
        match known.iter().find(|k| **k == key) {
            Some(k) => {
                path.push(k);
                check_shape(value, path, r);
                path.pop();
            }
            None => {
                let mut at: Vec<&str> = path.clone();
                at.push(key);
                r.error(
                    &at,
                    format!("unknown key `{key}`"),
                    format!("known keys here: {}", known.join(", ")),
                );
            }
        }
    }
}

fn required(map: &Mapping, path: &[&str], key: &str, r: &mut FileReport<'_>) -> bool {
    if map.get(key).is_some_and(|v| !v.is_null()) {
        return true;
    }
    let parent_line = if path.is_empty() {
        Some(1)
    } else {
        r.line(path)
    };
    r.error_at(
        parent_line,
        format!("`{}` is missing", [path, &[key]].concat().join(".")),
        format!("add `{key}:`"),
    );
    false
}

/// Check `skill.yaml` text against SKILL.md; the card when it has no errors.
pub fn check(text: &str, md: Option<&SkillMd>, problems: &mut Vec<Problem>) -> Option<SkillCard> {
    let text = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .replace("\r\n", "\n");
    let mut r = FileReport::new("skill.yaml", &text, 0);
    let value: Value = match serde_norway::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let line = e.location().map(|l| l.line() as u32);
            r.error_at(line, format!("not valid YAML: {e}"), "fix the YAML syntax");
            problems.extend(r.problems);
            return None;
        }
    };
    check_shape(&value, &mut Vec::new(), &mut r);
    if let Value::Mapping(root) = &value {
        if required(root, &[], "apiVersion", &mut r)
            && root["apiVersion"].as_str() != Some(CARD_API_VERSION)
        {
            r.error(
                &["apiVersion"],
                format!("apiVersion must be {CARD_API_VERSION:?}"),
                format!("set `apiVersion: {CARD_API_VERSION}`"),
            );
        }
        if required(root, &[], "kind", &mut r) && root["kind"].as_str() != Some(CARD_KIND) {
            r.error(
                &["kind"],
                format!("kind must be {CARD_KIND:?}"),
                format!("set `kind: {CARD_KIND}`"),
            );
        }
        if required(root, &[], "metadata", &mut r)
            && let Some(meta) = root["metadata"].as_mapping()
        {
            check_metadata(meta, md, &mut r);
        }
        for (i, item) in root
            .get("metadata")
            .and_then(|m| m.get("authors"))
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(author) = item.as_mapping()
                && !author.get("name").is_some_and(Value::is_string)
            {
                r.error(
                    &["metadata", "authors"],
                    format!("author {} has no `name`", i + 1),
                    "add `name:` to each author",
                );
            }
        }
    }
    if r.has_errors() {
        problems.extend(r.problems);
        return None;
    }
    let card: Result<SkillCard, _> = serde_norway::from_value(value);
    problems.extend(r.problems);
    match card {
        Ok(card) => Some(card),
        Err(e) => {
            problems.push(Problem {
                severity: skilld_proto::skill::Severity::Error,
                file: "skill.yaml".into(),
                line: None,
                field: String::new(),
                message: format!("cannot read the card: {e}"),
                hint: "compare with the SkillCard example in the README".into(),
            });
            None
        }
    }
}

fn check_metadata(meta: &Mapping, md: Option<&SkillMd>, r: &mut FileReport<'_>) {
    let at = ["metadata"];
    if required(meta, &at, "name", r)
        && let Some(name) = meta["name"].as_str()
    {
        for p in rules::name_problems(name) {
            r.error(
                &["metadata", "name"],
                format!("name {name:?} {p}"),
                format!("try {:?}", rules::suggest_name(name)),
            );
        }
        if let Some(md_name) = md.and_then(|m| m.name.as_deref())
            && md_name != name
        {
            r.error(
                &["metadata", "name"],
                format!("name {name:?} differs from SKILL.md's name {md_name:?}"),
                "the two files must name the same skill",
            );
        }
    }
    if required(meta, &at, "version", r)
        && let Some(version) = meta["version"].as_str()
        && let Some((message, hint)) = rules::version_problem(version)
    {
        r.error(&["metadata", "version"], message, hint);
    }
    if required(meta, &at, "description", r)
        && let Some(d) = meta["description"].as_str()
    {
        let n = d.chars().count();
        if d.trim().is_empty() || n > rules::MAX_DESCRIPTION {
            r.error(
                &["metadata", "description"],
                format!(
                    "description must be 1 to {} characters, not {n}",
                    rules::MAX_DESCRIPTION
                ),
                "say what the skill does and when to use it",
            );
        }
    }
    if let Some(ns) = meta.get("namespace").and_then(Value::as_str) {
        for p in rules::namespace_problems(ns) {
            r.error(
                &["metadata", "namespace"],
                format!("namespace {ns:?}: {p}"),
                "use '/'-separated segments of a-z, 0-9 and '-'",
            );
        }
    }
    if let Some(c) = meta.get("compatibility").and_then(Value::as_str)
        && c.chars().count() > rules::MAX_COMPATIBILITY
    {
        r.error(
            &["metadata", "compatibility"],
            format!(
                "compatibility is {} characters; the limit is {}",
                c.chars().count(),
                rules::MAX_COMPATIBILITY
            ),
            "shorten it",
        );
    }
}

/// The card derived from SKILL.md when there is no skill.yaml.
pub fn derive(md: &SkillMd, problems: &mut Vec<Problem>) -> Option<SkillCard> {
    let mut r = FileReport::new("SKILL.md", &md.yaml, 1);
    let version = md
        .metadata
        .get("version")
        .cloned()
        .unwrap_or_else(|| "0.1.0".to_string());
    if let Some((message, hint)) = rules::version_problem(&version) {
        r.error(&["metadata", "version"], message, hint);
    }
    let namespace = md.metadata.get("namespace").cloned();
    if let Some(ns) = &namespace {
        for p in rules::namespace_problems(ns) {
            r.error(
                &["metadata", "namespace"],
                format!("namespace {ns:?}: {p}"),
                "use '/'-separated segments of a-z, 0-9 and '-'",
            );
        }
    }
    let failed = r.has_errors();
    problems.extend(r.problems);
    if failed {
        return None;
    }
    let authors = md
        .metadata
        .get("author")
        .map(|name| {
            vec![Author {
                name: name.clone(),
                email: None,
            }]
        })
        .unwrap_or_default();
    Some(SkillCard {
        api_version: CARD_API_VERSION.to_string(),
        kind: CARD_KIND.to_string(),
        metadata: CardMetadata {
            name: md.name.clone()?,
            display_name: None,
            namespace,
            version,
            description: md.description.clone()?,
            license: md.license.clone(),
            compatibility: md.compatibility.clone(),
            tags: Vec::new(),
            authors,
            allowed_tools: md.allowed_tools.clone(),
        },
        provenance: None,
        spec: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "apiVersion: skillimage.io/v1alpha1\nkind: SkillCard\nmetadata:\n  name: demo\n  namespace: acme\n  version: 1.2.0\n  description: Does things.\n  tags: [a, b]\n  authors:\n    - name: Ada\n      email: ada@example.com\nprovenance:\n  source: https://example.com/repo\n  commit: abc123\nspec:\n  prompt: Be helpful.\n  examples:\n    - input: x\n      output: y\n";

    #[test]
    fn a_full_card_parses() {
        let mut problems = Vec::new();
        let card = check(GOOD, None, &mut problems).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(card.metadata.version, "1.2.0");
        assert_eq!(card.metadata.tags, ["a", "b"]);
        assert_eq!(
            card.metadata.authors[0].email.as_deref(),
            Some("ada@example.com")
        );
        assert_eq!(card.spec.unwrap().examples[0].output, "y");
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "apiVersion: skillimage.io/v1\nkind: SkillCard\nmetadata:\n  name: Demo\n  version: v1.0.0\n  description: d\n  colour: blue\n  tags: yes\nextra: 1\n";
        let mut problems = Vec::new();
        assert!(check(text, None, &mut problems).is_none());
        let located: Vec<(Option<u32>, &str)> = problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        for expected in [
            (Some(1), "apiVersion"),
            (Some(4), "metadata.name"),
            (Some(5), "metadata.version"),
            (Some(7), "metadata.colour"),
            (Some(8), "metadata.tags"),
            (Some(9), "extra"),
        ] {
            assert!(located.contains(&expected), "{expected:?} in {located:?}");
        }
    }

    #[test]
    fn missing_required_keys_are_named() {
        let mut problems = Vec::new();
        check(
            "kind: SkillCard\nmetadata:\n  name: demo\n",
            None,
            &mut problems,
        );
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            messages.contains(&"`apiVersion` is missing"),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"`metadata.version` is missing"),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"`metadata.description` is missing"),
            "{messages:?}"
        );
    }
}
