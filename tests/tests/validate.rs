//! `skillc validate`: every rule has a failing fixture in testdata/invalid/
//! with its asserted problem, and real-world shapes in testdata/valid/ pass.

use skilld_tests::helper::Home;
use skilld_tests::helper::tools::testdata;

/// (case, folder, strict, file, line, field, message part)
type Case = (
    &'static str,
    &'static str,
    bool,
    &'static str,
    Option<u32>,
    &'static str,
    &'static str,
);

const INVALID: &[Case] = &[
    (
        "no-skill-md",
        "empty",
        false,
        "SKILL.md",
        None,
        "",
        "has no SKILL.md",
    ),
    (
        "no-frontmatter",
        "plain",
        false,
        "SKILL.md",
        Some(1),
        "",
        "no YAML frontmatter",
    ),
    (
        "unterminated-frontmatter",
        "open",
        false,
        "SKILL.md",
        Some(1),
        "",
        "no YAML frontmatter",
    ),
    (
        "broken-yaml",
        "broken",
        false,
        "SKILL.md",
        Some(4),
        "",
        "while parsing a flow sequence at line 3",
    ),
    (
        "name-missing",
        "nameless",
        false,
        "SKILL.md",
        Some(1),
        "",
        "`name` is missing",
    ),
    (
        "name-charset",
        "Bad_Name",
        false,
        "SKILL.md",
        Some(2),
        "name",
        "only a-z, 0-9 and '-'",
    ),
    (
        "name-leading-hyphen",
        "-lead",
        false,
        "SKILL.md",
        Some(2),
        "name",
        "starts or ends with '-'",
    ),
    (
        "name-trailing-hyphen",
        "trail-",
        false,
        "SKILL.md",
        Some(2),
        "name",
        "starts or ends with '-'",
    ),
    (
        "name-double-hyphen",
        "dou--ble",
        false,
        "SKILL.md",
        Some(2),
        "name",
        "contains '--'",
    ),
    (
        "name-too-long",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        false,
        "SKILL.md",
        Some(2),
        "name",
        "the limit is 64",
    ),
    (
        "name-not-folder",
        "folder",
        false,
        "SKILL.md",
        Some(2),
        "name",
        "differs from the folder name",
    ),
    (
        "description-missing",
        "nodesc",
        false,
        "SKILL.md",
        Some(1),
        "",
        "`description` is missing",
    ),
    (
        "description-empty",
        "emptydesc",
        false,
        "SKILL.md",
        Some(3),
        "description",
        "description is empty",
    ),
    (
        "description-too-long",
        "longdesc",
        true,
        "SKILL.md",
        Some(3),
        "description",
        "the Agent Skills specification allows 1024",
    ),
    (
        "compatibility-too-long",
        "compat",
        true,
        "SKILL.md",
        Some(4),
        "compatibility",
        "the Agent Skills specification allows 500",
    ),
    (
        "metadata-not-map",
        "meta",
        false,
        "SKILL.md",
        Some(4),
        "metadata",
        "must be a mapping of strings",
    ),
    (
        "metadata-non-string",
        "metanum",
        false,
        "SKILL.md",
        Some(5),
        "metadata.version",
        "must be a string",
    ),
    (
        "allowed-tools-list",
        "tools",
        false,
        "SKILL.md",
        Some(4),
        "allowed-tools",
        "must be a string",
    ),
    (
        "metadata-version-not-semver",
        "badver",
        false,
        "SKILL.md",
        Some(5),
        "metadata.version",
        "not a semantic version",
    ),
    (
        "unknown-key-strict",
        "strict",
        true,
        "SKILL.md",
        Some(4),
        "version",
        "not a field of the Agent Skills",
    ),
    (
        "card-api-version",
        "cardapi",
        false,
        "skill.yaml",
        Some(1),
        "apiVersion",
        "apiVersion must be",
    ),
    (
        "card-kind",
        "cardkind",
        false,
        "skill.yaml",
        Some(2),
        "kind",
        "kind must be",
    ),
    (
        "card-unknown-key",
        "cardkey",
        false,
        "skill.yaml",
        Some(7),
        "metadata.colour",
        "unknown key `colour`",
    ),
    (
        "card-version-v",
        "cardv",
        false,
        "skill.yaml",
        Some(5),
        "metadata.version",
        "leading 'v'",
    ),
    (
        "card-version-missing",
        "cardnover",
        false,
        "skill.yaml",
        Some(3),
        "",
        "`metadata.version` is missing",
    ),
    (
        "card-namespace",
        "cardns",
        false,
        "skill.yaml",
        Some(7),
        "metadata.namespace",
        "namespace \"Acme//team\"",
    ),
    (
        "card-name-mismatch",
        "cardname",
        false,
        "skill.yaml",
        Some(4),
        "metadata.name",
        "differs from SKILL.md's name",
    ),
    (
        "card-tags-not-list",
        "cardtags",
        false,
        "skill.yaml",
        Some(7),
        "metadata.tags",
        "must be a list of strings",
    ),
    (
        "card-author-no-name",
        "cardauthor",
        false,
        "skill.yaml",
        Some(7),
        "metadata.authors",
        "has no `name`",
    ),
    (
        "card-broken-yaml",
        "cardyaml",
        false,
        "skill.yaml",
        Some(2),
        "",
        "not valid YAML",
    ),
];

#[test]
fn every_rule_has_a_failing_fixture_with_its_message() {
    let home = Home::new();
    let mut failures = Vec::new();
    for (case, folder, strict, file, line, field, message) in INVALID {
        let dir = testdata().join("invalid").join(case).join(folder);
        assert!(dir.is_dir(), "fixture {} exists", dir.display());
        let dir = dir.to_str().unwrap();
        let mut args = vec!["--json", "validate"];
        if *strict {
            args.push("--strict");
        }
        args.push(dir);
        let run = home.skillc(&args);
        if run.code != Some(1) {
            failures.push(format!("{case}: exit {:?}, expected 1", run.code));
            continue;
        }
        let response = run.json();
        assert_eq!(response["valid"], false, "{case}");
        let problems = response["problems"].as_array().unwrap();
        let found = problems.iter().any(|p| {
            p["severity"] == "error"
                && p["file"] == *file
                && p["line"].as_u64().map(|l| l as u32) == *line
                && p["field"] == *field
                && p["message"].as_str().unwrap().contains(message)
                && !p["hint"].as_str().unwrap().is_empty()
        });
        if !found {
            failures.push(format!(
                "{case}: no error {file}:{line:?} {field} {message:?} in {problems:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn all_problems_are_reported_at_once_for_people() {
    let home = Home::new();
    let dir = testdata().join("invalid/many-problems/many");
    let run = home
        .skillc(&["validate", dir.to_str().unwrap()])
        .expect_code(1);
    for expected in [
        "SKILL.md:2: error: name: name \"Many_X\" contains",
        "SKILL.md:2: error: name: name \"Many_X\" differs from the folder name \"many\"",
        "SKILL.md:3: error: description: description is empty",
        "SKILL.md:6: error: metadata.version: metadata.version must be a string",
        "SKILL.md:7: warning: extra:",
        "4 error(s), 1 warning(s)",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected} in:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("hint: try \"many-x\""),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_keys_are_warnings_unless_strict() {
    let home = Home::new();
    let dir = testdata().join("invalid/unknown-key-strict/strict");
    let run = home
        .skillc(&["--json", "validate", dir.to_str().unwrap()])
        .expect_code(0);
    let problems = run.json()["problems"].as_array().unwrap().clone();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0]["severity"], "warning");
}

#[test]
fn spec_limits_agents_do_not_enforce_are_warnings_unless_strict() {
    // Published skills with descriptions over 1,024 characters exist, and
    // agents load them: they validate, build and install with a warning.
    let home = Home::new();
    for (case, folder, field) in [
        ("description-too-long", "longdesc", "description"),
        ("compatibility-too-long", "compat", "compatibility"),
    ] {
        let dir = testdata().join("invalid").join(case).join(folder);
        let run = home
            .skillc(&["--json", "validate", dir.to_str().unwrap()])
            .expect_code(0);
        let problems = run.json()["problems"].as_array().unwrap().clone();
        assert_eq!(problems.len(), 1, "{case}: {problems:?}");
        assert_eq!(problems[0]["severity"], "warning", "{case}");
        assert_eq!(problems[0]["field"], field, "{case}");
        let built = home
            .skillc(&["--json", "build", dir.to_str().unwrap()])
            .expect_code(0)
            .json();
        let out = home.root().join("out").join(case);
        home.skillc(&[
            "install",
            built["reference"].as_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .expect_code(0);
        home.skillc(&["validate", "--strict", dir.to_str().unwrap()])
            .expect_code(1);
    }
}

#[test]
fn real_world_shapes_pass() {
    let home = Home::new();
    for (skill, version, namespace) in [
        ("hello-world", "1.0.0", Some("examples")),
        ("crlf-skill", "0.2.0", None),
        ("toolbox", "2.1.0", Some("acme/platform")),
    ] {
        let dir = testdata().join("valid").join(skill);
        let run = home
            .skillc(&["--json", "validate", dir.to_str().unwrap()])
            .expect_code(0);
        let response = run.json();
        assert_eq!(response["valid"], true, "{skill}: {response:#}");
        assert_eq!(response["card"]["metadata"]["name"], skill);
        assert_eq!(response["card"]["metadata"]["version"], version);
        assert_eq!(
            response["card"]["metadata"]["namespace"].as_str(),
            namespace,
            "{skill}"
        );
        let errors = response["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["severity"] == "error")
            .count();
        assert_eq!(errors, 0, "{skill}");
    }
}

#[test]
fn a_relative_path_is_resolved_by_the_client() {
    let home = Home::new();
    let run = home
        .command("skillc")
        .current_dir(testdata().join("valid"))
        .args(["validate", "hello-world"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("valid skill hello-world 1.0.0"));
}
