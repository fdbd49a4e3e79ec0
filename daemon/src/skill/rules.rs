//! The value rules shared by SKILL.md and skill.yaml: skill names,
//! namespaces and versions, each returning every reason a value fails.

/// Longest skill name (Agent Skills specification).
pub const MAX_NAME: usize = 64;
/// Longest namespace.
pub const MAX_NAMESPACE: usize = 128;
/// Longest description (characters).
pub const MAX_DESCRIPTION: usize = 1024;
/// Longest compatibility note (characters).
pub const MAX_COMPATIBILITY: usize = 500;

/// Why `name` is not a valid skill name; empty when it is.
pub fn name_problems(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    if name.is_empty() {
        out.push("is empty".to_string());
        return out;
    }
    if name.chars().count() > MAX_NAME {
        out.push(format!(
            "is {} characters long; the limit is {MAX_NAME}",
            name.chars().count()
        ));
    }
    let bad: String = name
        .chars()
        .filter(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        .collect();
    if !bad.is_empty() {
        out.push(format!(
            "contains {bad:?}; only a-z, 0-9 and '-' are allowed"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        out.push("starts or ends with '-'".to_string());
    }
    if name.contains("--") {
        out.push("contains '--'".to_string());
    }
    out
}

/// A valid name made from `name`, to suggest in a hint.
pub fn suggest_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    let trimmed: String = out.trim_end_matches('-').chars().take(MAX_NAME).collect();
    trimmed.trim_end_matches('-').to_string()
}

/// Why `namespace` is not valid; empty when it is.
pub fn namespace_problems(namespace: &str) -> Vec<String> {
    if namespace.len() > MAX_NAMESPACE {
        return vec![format!(
            "is {} characters long; the limit is {MAX_NAMESPACE}",
            namespace.len()
        )];
    }
    namespace
        .split('/')
        .flat_map(|segment| {
            name_problems(segment)
                .into_iter()
                .map(move |p| format!("segment {segment:?} {p}"))
        })
        .collect()
}

/// Why `version` is not strict semver; `None` when it is.
pub fn version_problem(version: &str) -> Option<(String, String)> {
    if let Some(rest) = version.strip_prefix(['v', 'V'])
        && semver::Version::parse(rest).is_ok()
    {
        return Some((
            format!("{version:?} has a leading 'v'"),
            format!("write {rest:?}; versions are strict semver"),
        ));
    }
    match semver::Version::parse(version) {
        Ok(_) => None,
        Err(e) => Some((
            format!("{version:?} is not a semantic version ({e})"),
            "use MAJOR.MINOR.PATCH, e.g. \"1.0.0\"; quote it in YAML".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        let cases: &[(&str, &[&str])] = &[
            ("code-review", &[]),
            ("a", &[]),
            ("a1-b2", &[]),
            ("", &["is empty"]),
            ("Code-Review", &["contains \"CR\""]),
            ("-lead", &["starts or ends with '-'"]),
            ("trail-", &["starts or ends with '-'"]),
            ("dou--ble", &["contains '--'"]),
            ("under_score", &["contains \"_\""]),
        ];
        for (name, expected) in cases {
            let got = name_problems(name);
            assert_eq!(got.len(), expected.len(), "{name}: {got:?}");
            for (g, e) in got.iter().zip(expected.iter()) {
                assert!(g.contains(e), "{name}: {g} should contain {e}");
            }
        }
        assert_eq!(name_problems(&"a".repeat(64)), Vec::<String>::new());
        assert!(name_problems(&"a".repeat(65))[0].contains("limit is 64"));
    }

    #[test]
    fn suggestions_are_valid_names() {
        for raw in ["Code Review", "--x__y--", "PDF_Tools v2", "ünïcode"] {
            let s = suggest_name(raw);
            assert!(s.is_empty() || name_problems(&s).is_empty(), "{raw} -> {s}");
        }
        assert_eq!(suggest_name("Code Review"), "code-review");
    }

    #[test]
    fn namespace_rules() {
        assert!(namespace_problems("acme").is_empty());
        assert!(namespace_problems("acme/team-a").is_empty());
        assert!(!namespace_problems("acme//x").is_empty());
        assert!(!namespace_problems("Acme").is_empty());
        assert!(!namespace_problems(&"a/".repeat(70)).is_empty());
    }

    #[test]
    fn version_rules() {
        assert!(version_problem("1.0.0").is_none());
        assert!(version_problem("1.2.3-rc.1+build.5").is_none());
        assert!(version_problem("v1.0.0").unwrap().0.contains("leading 'v'"));
        assert!(version_problem("1.0").is_some());
        assert!(version_problem("latest").is_some());
    }
}
