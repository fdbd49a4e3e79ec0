//! Collections against a real registry: skillctl's exact artifact pushed
//! and read, installed all or nothing, seeding a project, pinned; bad
//! collections refused with their line; subscriptions converging two homes
//! (one with a hand edit) within one check, a signed-collection policy
//! refusing an unsigned change, one HEAD per subscription; and the
//! Kubernetes YAML checked by `kubernetes-validate`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde_json::Value;
use skilld_tests::helper::raw::{digest, push};
use skilld_tests::helper::skills::{history, publish};
use skilld_tests::helper::tools::require;
use skilld_tests::helper::{Home, Registry, Run, Variant};

/// A SkillCollection YAML listing `skills` (`(name, image)`).
fn collection_yaml(name: &str, version: &str, skills: &[(&str, String)]) -> String {
    let mut out = format!(
        "apiVersion: skillimage.io/v1alpha1\nkind: SkillCollection\nmetadata:\n  name: {name}\n  version: {version}\n  description: Skills of the {name} team\nskills:\n"
    );
    for (n, image) in skills {
        out.push_str(&format!("  - name: {n}\n    image: {image}\n"));
    }
    out
}

/// The manifest skillctl's `collection push` writes for `yaml` (Go's
/// `json.Marshal` of `ocispec.Manifest`: field order, sorted annotations).
fn skillctl_manifest(yaml: &[u8], name: &str, version: &str, created: &str) -> Vec<u8> {
    format!(
        concat!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
            r#""artifactType":"application/vnd.skillimage.collection.v1+yaml","#,
            r#""config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{}","size":2}},"#,
            r#""layers":[{{"mediaType":"application/vnd.skillimage.collection.v1+yaml","digest":"{}","size":{}}}],"#,
            r#""annotations":{{"io.skillimage.collection.name":"{n}","org.opencontainers.image.created":"{c}","#,
            r#""org.opencontainers.image.description":"Skills of the {n} team","org.opencontainers.image.title":"{n}","#,
            r#""org.opencontainers.image.version":"{v}"}}}}"#
        ),
        digest(b"{}"),
        digest(yaml),
        yaml.len(),
        n = name,
        c = created,
        v = version
    )
    .into_bytes()
}

/// Push `yaml` as skillctl does, byte for byte, to `host/repo:tag`.
fn skillctl_push(host: &str, repo: &str, tag: &str, yaml: &str, name: &str, version: &str) {
    let manifest = skillctl_manifest(yaml.as_bytes(), name, version, "2026-05-06T10:00:00Z");
    push(
        host,
        repo,
        tag,
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
        &[b"{}", yaml.as_bytes()],
    );
}

/// The raw manifest `reference` names, read by skopeo.
fn raw_manifest(reference: &str) -> Vec<u8> {
    let skopeo = require("skopeo", "skopeo");
    let out = std::process::Command::new(skopeo)
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// Write `yaml` as `<home>/<file>` and push it with `skillc collection push`.
fn push_yaml(home: &Home, file: &str, yaml: &str, reference: &str) -> PathBuf {
    let path = write(&home.root().join(file), yaml);
    home.skillc(&["collection", "push", path.to_str().unwrap(), reference])
        .expect_code(0);
    path
}

fn skill_dir(home: &Home, target_dir: &str, name: &str) -> PathBuf {
    home.user_home().join(target_dir).join(name)
}

fn version_at(dir: &Path) -> String {
    let card = std::fs::read_to_string(dir.join("skill.yaml")).unwrap();
    card.lines()
        .find_map(|l| l.trim().strip_prefix("version: ").map(str::to_string))
        .unwrap()
}

fn names_installed(home: &Home) -> Vec<String> {
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    let mut names: Vec<String> = list["installs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["status"].as_str().unwrap_or("").contains("unmanaged"))
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn a_collection_pushed_as_skillctl_does_installs_whole_and_seeds_a_project() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let acme = format!("{host}/acme");
    let publisher = Home::new();
    publish(&publisher, &acme, "tone", "1.0.0", "published");
    publish(&publisher, &acme, "review", "1.0.0", "published");
    let yaml = collection_yaml(
        "team",
        "1.0.0",
        &[
            ("tone", format!("{acme}/tone:1.0.0")),
            ("review", format!("{acme}/review:1.0.0")),
        ],
    );
    skillctl_push(&host, "acme/team", "1.0.0", &yaml, "team", "1.0.0");

    // skilld pushes the same artifact: the manifests differ only in time.
    let file = write(&publisher.root().join("team.yaml"), &yaml);
    let pushed = publisher
        .skillc(&[
            "--json",
            "collection",
            "push",
            file.to_str().unwrap(),
            &format!("{acme}/team-ours:1.0.0"),
        ])
        .expect_code(0)
        .json();
    let ours = raw_manifest(&format!("{acme}/team-ours:1.0.0"));
    assert_eq!(pushed["digest"], digest(&ours));
    let ours: Value = serde_json::from_slice(&ours).unwrap();
    let created = ours["annotations"]["org.opencontainers.image.created"]
        .as_str()
        .unwrap();
    assert_eq!(
        String::from_utf8(skillctl_manifest(yaml.as_bytes(), "team", "1.0.0", created)).unwrap(),
        String::from_utf8(raw_manifest(&format!("{acme}/team-ours:1.0.0"))).unwrap(),
        "skilld's collection manifest is skillctl's, byte for byte"
    );

    let user = Home::new();
    let team = format!("{acme}/team:1.0.0");
    let inspected = user
        .skillc(&["--json", "collection", "inspect", &team])
        .expect_code(0)
        .json();
    assert_eq!(inspected["form"], "skillctl");
    assert_eq!(inspected["name"], "team");
    assert_eq!(
        inspected["skills"][1]["reference"],
        format!("{acme}/review:1.0.0")
    );

    // pull -o: the YAML as pushed, and the skills in the store.
    let pulled = user.root().join("pulled.yaml");
    user.skillc(&["collection", "pull", &team, "-o", pulled.to_str().unwrap()])
        .expect_code(0);
    assert_eq!(std::fs::read_to_string(&pulled).unwrap(), yaml);
    let images = user.skillc(&["--json", "images"]).expect_code(0).json();
    assert!(images.to_string().contains("acme/review"), "{images}");

    // Installed into two targets: one copy, one link each.
    let run = user
        .skillc(&[
            "collection",
            "install",
            &team,
            "-t",
            "agents",
            "-t",
            "claude",
        ])
        .expect_code(0);
    assert!(
        run.stdout.contains("installed tone 1.0.0"),
        "{}",
        run.stdout
    );
    assert!(
        skill_dir(&user, ".agents/skills", "tone")
            .join("SKILL.md")
            .is_file()
    );
    assert_eq!(
        std::fs::read_link(skill_dir(&user, ".claude/skills", "review")).unwrap(),
        Path::new("../../.agents/skills/review")
    );
    // Again: nothing to do.
    let again = user
        .skillc(&[
            "--json",
            "collection",
            "install",
            &team,
            "-t",
            "agents",
            "-t",
            "claude",
        ])
        .expect_code(0)
        .json();
    assert!(
        again["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["action"] == "keep"),
        "{again}"
    );

    // All or nothing: one skill missing, nothing installed.
    let broken = collection_yaml(
        "broken",
        "1.0.0",
        &[
            ("tone", format!("{acme}/tone:1.0.0")),
            ("ghost", format!("{acme}/ghost:1.0.0")),
        ],
    );
    let broken_file = write(&user.root().join("broken.yaml"), &broken);
    let fresh = Home::new();
    let failed = fresh
        .skillc(&[
            "collection",
            "install",
            broken_file.to_str().unwrap(),
            "-t",
            "claude",
        ])
        .expect_code(1);
    assert!(failed.stderr.contains("\"ghost\""), "{}", failed.stderr);
    assert!(names_installed(&fresh).is_empty());
    assert!(!skill_dir(&fresh, ".claude/skills", "tone").exists());

    // A hand edit is not overwritten by a one-off install.
    std::fs::write(
        skill_dir(&user, ".agents/skills", "tone").join("SKILL.md"),
        "mine",
    )
    .unwrap();
    let refused = user
        .skillc(&["collection", "install", &team, "-t", "agents"])
        .expect_code(1);
    assert!(
        refused.stderr.contains("edited by hand"),
        "{}",
        refused.stderr
    );

    // Seeding a project: the lock `skillc lock` writes, then a frozen sync.
    let project = user.root().join("app");
    std::fs::create_dir_all(&project).unwrap();
    user.skillc(&[
        "collection",
        "lock",
        &team,
        "--project",
        project.to_str().unwrap(),
    ])
    .expect_code(0);
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(project.join("skills.lock.json")).unwrap())
            .unwrap();
    let tone = lock["skills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "tone")
        .unwrap();
    let tone_digest = digest(&raw_manifest(&format!("{acme}/tone:1.0.0")));
    assert_eq!(tone["source"]["digest"], tone_digest.as_str());
    assert_eq!(tone["path"], ".agents/skills/tone");
    let mut sync = user.command("skillc");
    sync.current_dir(&project).args(["sync", "--frozen"]);
    let synced = Run::of(&mut sync);
    assert_eq!(synced.code, Some(0), "{}{}", synced.stdout, synced.stderr);
    assert!(project.join(".agents/skills/review/SKILL.md").is_file());

    // --pin: each tag written as tag@digest, the rest of the file as it was.
    let pinned = publisher
        .skillc(&[
            "--json",
            "collection",
            "push",
            "--pin",
            file.to_str().unwrap(),
            &format!("{acme}/team:1.0.1"),
        ])
        .expect_code(0)
        .json();
    assert_eq!(pinned["pinned"].as_array().unwrap().len(), 2);
    let pulled_pinned = user.root().join("pinned.yaml");
    user.skillc(&[
        "collection",
        "pull",
        &format!("{acme}/team:1.0.1"),
        "-o",
        pulled_pinned.to_str().unwrap(),
    ])
    .expect_code(0);
    assert_eq!(
        std::fs::read_to_string(&pulled_pinned).unwrap(),
        yaml.replace(
            &format!("{acme}/tone:1.0.0"),
            &format!("{acme}/tone:1.0.0@{tone_digest}")
        )
        .replace(
            &format!("{acme}/review:1.0.0"),
            &format!(
                "{acme}/review:1.0.0@{}",
                digest(&raw_manifest(&format!("{acme}/review:1.0.0")))
            )
        )
    );

    // --dry-run says what would change, and changes nothing.
    let dry = Home::new();
    let said = dry
        .skillc(&[
            "--json",
            "collection",
            "install",
            &team,
            "-t",
            "claude",
            "--dry-run",
        ])
        .expect_code(0)
        .json();
    assert_eq!(said["changes"].as_array().unwrap().len(), 2, "{said}");
    assert_eq!(said["changes"][0]["action"], "install");
    assert!(names_installed(&dry).is_empty());

    // --project: the project's files get the skills, then it is synced.
    let seeded = user.root().join("seeded");
    std::fs::create_dir_all(&seeded).unwrap();
    user.skillc(&[
        "collection",
        "install",
        &team,
        "--project",
        seeded.to_str().unwrap(),
        "-t",
        "claude",
    ])
    .expect_code(0);
    assert!(seeded.join("skills.json").is_file());
    assert!(seeded.join(".agents/skills/tone/SKILL.md").is_file());
    assert_eq!(
        std::fs::read_link(seeded.join(".claude/skills/review")).unwrap(),
        Path::new("../../.agents/skills/review")
    );

    // `install` of a collection says what to do instead.
    let hint = user.skillc(&["install", &team]).expect_code(1);
    assert!(
        hint.stderr.contains("skillc collection install"),
        "{}",
        hint.stderr
    );
}

#[test]
fn an_agent_skills_collection_index_is_read_and_installed() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let acme = format!("{host}/acme");
    let publisher = Home::new();
    // Children live in the index's own repository (distribution checks).
    publish(&publisher, &acme, "set", "1.0.0", "published");
    let child = raw_manifest(&format!("{acme}/set:1.0.0"));
    // As arconia-cli writes one: sizes of 0, the reference annotation.
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "artifactType": "application/vnd.agentskills.collection.v1",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest(&child),
            "size": 0,
            "artifactType": "application/vnd.agentskills.skill.v1",
            "annotations": {
                "io.agentskills.skill.name": "set",
                "org.opencontainers.image.version": "1.0.0",
                "io.agentskills.skill.ref": format!("{acme}/set:1.0.0"),
            }
        }],
        "annotations": {
            "io.agentskills.collection.name": "arconia-team",
            "org.opencontainers.image.version": "3.0.0",
        }
    }))
    .unwrap();
    push(
        &host,
        "acme/set",
        "team",
        "application/vnd.oci.image.index.v1+json",
        &index,
        &[],
    );
    let user = Home::new();
    let info = user
        .skillc(&[
            "--json",
            "collection",
            "inspect",
            &format!("{acme}/set:team"),
        ])
        .expect_code(0)
        .json();
    assert_eq!(info["form"], "agentskills");
    assert_eq!(info["name"], "arconia-team");
    assert_eq!(
        info["skills"][0]["reference"],
        format!("{acme}/set:1.0.0@{}", digest(&child))
    );
    user.skillc(&[
        "collection",
        "install",
        &format!("{acme}/set:team"),
        "-t",
        "claude",
    ])
    .expect_code(0);
    assert!(
        skill_dir(&user, ".claude/skills", "set")
            .join("SKILL.md")
            .is_file()
    );
}

#[test]
fn bad_collections_are_refused_with_file_and_line() {
    let home = Home::new();
    let head = "apiVersion: skillimage.io/v1alpha1\nkind: SkillCollection\nmetadata:\n  name: c\n  version: 1.0.0\nskills:\n";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "twice.yaml",
            format!("{head}  - name: a\n    image: r.io/a:1\n  - name: a\n    image: r.io/b:1\n"),
            ":9: duplicate skill name \"a\"",
        ),
        (
            "both.yaml",
            format!("{head}  - name: a\n    image: r.io/a:1\n    source: https://git.example/x\n"),
            ":7: skills[0]: image and source are mutually exclusive",
        ),
        (
            "version.yaml",
            head.replace("v1alpha1", "v9") + "  - name: a\n    image: r.io/a:1\n",
            ":1: apiVersion is \"skillimage.io/v9\"",
        ),
        (
            "kind.yaml",
            head.replace("SkillCollection", "SkillCard") + "  - name: a\n    image: r.io/a:1\n",
            ":2: kind is \"SkillCard\"",
        ),
        (
            "huge.yaml",
            format!(
                "{head}{}",
                (0..10_000)
                    .map(|i| format!("  - name: s{i}\n    image: r.io/s{i}:1\n"))
                    .collect::<String>()
            ),
            "10000 skills listed, over the 1000",
        ),
    ];
    for (name, text, expected) in cases {
        let file = write(&home.root().join(name), &text);
        let run = home
            .skillc(&["collection", "inspect", file.to_str().unwrap()])
            .expect_code(1);
        assert!(
            run.stderr
                .contains(&format!("{}{expected}", file.display()))
                || run.stderr.contains(expected),
            "{name}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(name),
            "{name}: names the file: {}",
            run.stderr
        );
    }

    // A collection that lists itself, and a subscription to a skill.
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    publish(&home, &acme, "tone", "1.0.0", "published");
    let own = format!("{acme}/loop:1.0.0");
    let looped = write(
        &home.root().join("loop.yaml"),
        &collection_yaml(
            "loop",
            "1.0.0",
            &[
                ("tone", format!("{acme}/tone:1.0.0")),
                ("loop", own.clone()),
            ],
        ),
    );
    home.skillc(&["collection", "push", looped.to_str().unwrap(), &own])
        .expect_code(0);
    let run = home
        .skillc(&["collection", "install", &own, "-t", "claude"])
        .expect_code(1);
    assert!(
        run.stderr.contains("is the collection itself"),
        "{}",
        run.stderr
    );
    assert!(names_installed(&home).is_empty());
    let run = home
        .skillc(&["subscribe", &format!("{acme}/tone:1.0.0")])
        .expect_code(1);
    assert!(
        run.stderr.contains("is not a skill collection"),
        "{}",
        run.stderr
    );
    let subs = home
        .skillc(&["--json", "subscriptions"])
        .expect_code(0)
        .json();
    assert_eq!(subs["subscriptions"], serde_json::json!([]));
}

fn check(home: &Home) -> Value {
    home.skillc(&["--json", "check"]).expect_code(0).json()
}

#[test]
fn two_homes_follow_a_collection_and_converge_in_one_check() {
    let registry = Registry::start_logged(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let publisher = Home::new();
    for (name, version) in [
        ("a", "1.0.0"),
        ("b", "1.0.0"),
        ("b", "1.1.0"),
        ("c", "1.0.0"),
        ("d", "1.0.0"),
    ] {
        publish(&publisher, &acme, name, version, "published");
    }
    let team = format!("{acme}/team:stable");
    push_yaml(
        &publisher,
        "v1.yaml",
        &collection_yaml(
            "team",
            "1.0.0",
            &[
                ("a", format!("{acme}/a:1.0.0")),
                ("b", format!("{acme}/b:1.0.0")),
                ("c", format!("{acme}/c:1.0.0")),
            ],
        ),
        &team,
    );

    let homes = [Home::new(), Home::new()];
    let watcher = Home::new();
    watcher
        .skillc(&["subscribe", &team, "-t", "claude", "--policy", "notify"])
        .expect_code(0);
    assert_eq!(names_installed(&watcher), ["a", "b", "c"]);
    for home in &homes {
        let run = home
            .skillc(&["subscribe", &team, "-t", "agents", "-t", "claude"])
            .expect_code(0);
        assert!(run.stdout.contains("following"), "{}", run.stdout);
        assert_eq!(names_installed(home), ["a", "b", "c"]);
    }
    // Nothing changed: one HEAD each, nothing else.
    let before = registry.requests().len();
    let checked = check(&homes[0]);
    assert_eq!(
        checked["subscriptions"][0]["result"], "unchanged",
        "{checked}"
    );
    let asked: Vec<String> = registry.requests()[before..].to_vec();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].contains("\"HEAD /v2/acme/team/manifests/stable"),
        "{asked:?}"
    );

    // Hand edits in the second home: c (which will leave) and a (which
    // stays as it is in the collection).
    let c2 = skill_dir(&homes[1], ".agents/skills", "c");
    std::fs::write(c2.join("NOTES.md"), "mine").unwrap();

    // v2: b moved, c removed, d added.
    push_yaml(
        &publisher,
        "v2.yaml",
        &collection_yaml(
            "team",
            "2.0.0",
            &[
                ("a", format!("{acme}/a:1.0.0")),
                ("b", format!("{acme}/b:1.1.0")),
                ("d", format!("{acme}/d:1.0.0")),
            ],
        ),
        &team,
    );
    for (i, home) in homes.iter().enumerate() {
        let checked = check(home);
        let outcome = &checked["subscriptions"][0];
        assert_eq!(outcome["result"], "updated", "{checked}");
        assert_eq!(outcome["version"], "2.0.0");
        assert_eq!(version_at(&skill_dir(home, ".agents/skills", "b")), "1.1.0");
        assert_eq!(version_at(&skill_dir(home, ".claude/skills", "b")), "1.1.0");
        assert!(
            skill_dir(home, ".claude/skills", "d")
                .join("SKILL.md")
                .is_file()
        );
        if i == 0 {
            assert!(!skill_dir(home, ".agents/skills", "c").exists());
            assert!(!skill_dir(home, ".claude/skills", "c").exists());
        } else {
            // The edit is kept, reported, and no longer followed.
            assert_eq!(
                std::fs::read_to_string(c2.join("NOTES.md")).unwrap(),
                "mine"
            );
            assert_eq!(outcome["kept"][0]["name"], "c", "{outcome}");
        }
        // The history says who did it.
        let by_subscription = history(home)
            .into_iter()
            .filter(|e| e["actor"] == format!("subscription:{team}"))
            .count();
        assert!(
            by_subscription >= 3,
            "{}",
            home.skillc(&["--json", "history"]).stdout
        );
        // And a second check is quiet.
        assert_eq!(check(home)["subscriptions"][0]["result"], "unchanged");
    }
    // Under notify a change is only reported; subscribing again applies it.
    let noticed = check(&watcher);
    assert_eq!(
        noticed["subscriptions"][0]["result"], "available",
        "{noticed}"
    );
    assert!(
        noticed["subscriptions"][0]["message"]
            .as_str()
            .unwrap()
            .contains("team 2.0.0"),
        "{noticed}"
    );
    assert_eq!(names_installed(&watcher), ["a", "b", "c"]);
    assert_eq!(check(&watcher)["subscriptions"][0]["result"], "available");
    let events = watcher.skillc(&["--json", "events"]).expect_code(0).stdout;
    assert!(events.contains("\"subscription_updated\""), "{events}");
    watcher
        .skillc(&["subscribe", &team, "-t", "claude", "--policy", "notify"])
        .expect_code(0);
    assert_eq!(names_installed(&watcher), ["a", "b", "d"]);

    // The subscription owns its installs (and says so on the wire).
    let a = homes[0].skillc(&["--json", "list"]).expect_code(0).json();
    assert!(
        a["installs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == "a" && i["subscription"] == team.as_str()),
        "{a}"
    );
    // The subscription's installs are not upgraded on their own.
    let upgrade = homes[0].skillc(&["--json", "upgrade", "a"]).json();
    assert!(
        upgrade.to_string().contains("follows the collection"),
        "{upgrade}"
    );

    // Unsubscribe: the skills stay, as the user's own.
    let left = homes[0]
        .skillc(&["--json", "unsubscribe", &team])
        .expect_code(0)
        .json();
    assert!(left["released"].as_u64().unwrap() >= 3, "{left}");
    assert_eq!(names_installed(&homes[0]), ["a", "b", "d"]);
    // With --remove the second home's skills go (its edited c stays).
    homes[1]
        .skillc(&["unsubscribe", &team, "--remove"])
        .expect_code(0);
    assert_eq!(names_installed(&homes[1]), ["c"]);
}

/// A key pair `<root>/<name>.{key,pub}`.
fn keygen(home: &Home, name: &str) -> PathBuf {
    let prefix = home.root().join(name);
    home.skillc(&["keygen", "--output-key-prefix", prefix.to_str().unwrap()])
        .expect_code(0);
    prefix
}

#[test]
fn a_signed_collection_rule_refuses_an_unsigned_change() {
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let publisher = Home::with_env(&[("COSIGN_PASSWORD", OsStr::new("correct horse"))]);
    publish(&publisher, &acme, "a", "1.0.0", "published");
    publish(&publisher, &acme, "b", "1.0.0", "published");
    let key = keygen(&publisher, "team");
    let team = format!("{acme}/team:stable");
    push_yaml(
        &publisher,
        "v1.yaml",
        &collection_yaml("team", "1.0.0", &[("a", format!("{acme}/a:1.0.0"))]),
        &team,
    );
    publisher
        .skillc(&["sign", &team, "--key", &format!("{}.key", key.display())])
        .expect_code(0);

    let user = Home::new();
    user.write_config(&format!(
        "trust:\n  default: {{type: accept}}\n  scopes:\n    {acme}/team: {{type: signed, keys: [{}.pub]}}\n",
        key.display()
    ));
    user.skillc(&["subscribe", &team, "-t", "claude"])
        .expect_code(0);
    assert_eq!(names_installed(&user), ["a"]);

    // v2, unsigned: refused at the check; the old set stays.
    push_yaml(
        &publisher,
        "v2.yaml",
        &collection_yaml(
            "team",
            "2.0.0",
            &[
                ("a", format!("{acme}/a:1.0.0")),
                ("b", format!("{acme}/b:1.0.0")),
            ],
        ),
        &team,
    );
    let checked = check(&user);
    let outcome = &checked["subscriptions"][0];
    assert_eq!(outcome["result"], "refused", "{checked}");
    assert!(
        outcome["message"].as_str().unwrap().contains("(signed)"),
        "{outcome}"
    );
    assert_eq!(names_installed(&user), ["a"]);
    let events = user.skillc(&["--json", "events"]).expect_code(0).stdout;
    assert!(events.contains("\"subscription_refused\""), "{events}");
    // Signed, it goes through at the next check.
    publisher
        .skillc(&["sign", &team, "--key", &format!("{}.key", key.display())])
        .expect_code(0);
    // The same digest was refused once; subscribing again applies it.
    user.skillc(&["subscribe", &team, "-t", "claude"])
        .expect_code(0);
    assert_eq!(names_installed(&user), ["a", "b"]);
}

#[test]
fn kubernetes_yaml_is_valid_and_pinned_to_the_registrys_digests() {
    let validate = require("kubernetes-validate", "kubernetes-validate (pip)");
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let home = Home::new();
    publish(&home, &acme, "tone", "1.0.0", "published");
    publish(&home, &acme, "review", "1.0.0", "published");
    let team = format!("{acme}/team:1.0.0");
    let file = write(
        &home.root().join("team.yaml"),
        &collection_yaml(
            "team",
            "1.0.0",
            &[
                ("tone", format!("{acme}/tone:1.0.0")),
                ("review", format!("{acme}/review:1.0.0")),
            ],
        ),
    );
    home.skillc(&["collection", "push", file.to_str().unwrap(), &team])
        .expect_code(0);
    let tone = format!(
        "{acme}/tone@{}",
        digest(&raw_manifest(&format!("{acme}/tone:1.0.0")))
    );
    let tone_tag = format!("{acme}/tone:1.0.0");
    let forms: Vec<Vec<&str>> = vec![
        vec!["collection", "generate", &team, "--k8s"],
        vec![
            "collection",
            "generate",
            file.to_str().unwrap(),
            "--k8s",
            "--deployment",
            "agents",
            "--mount-path",
            "/opt/skills",
        ],
        vec![
            "collection",
            "generate",
            &team,
            "--k8s",
            "--pod",
            "p",
            "--init-container",
            "quay.io/skilld/skillc:0.1",
            "--pvc",
            "skills",
        ],
        vec!["install", &tone_tag, "--k8s"],
        vec![
            "pull",
            &tone_tag,
            "--k8s",
            "--deployment",
            "d",
            "--init-container",
            "quay.io/skilld/skillc:0.1",
        ],
    ];
    for args in forms {
        let run = home.skillc(&args).expect_code(0);
        assert!(
            run.stdout.contains(&tone),
            "{args:?}: pinned by digest: {}",
            run.stdout
        );
        let path = home.root().join("out.yaml");
        std::fs::write(&path, &run.stdout).unwrap();
        let checked = Run::of(
            std::process::Command::new(&validate)
                .args(["--strict", "-k", "1.33.0"])
                .arg(&path),
        );
        assert_eq!(
            checked.code,
            Some(0),
            "{args:?}: {}{}\n{}",
            checked.stdout,
            checked.stderr,
            run.stdout
        );
        if args.contains(&"--init-container") {
            assert!(run.stdout.contains("\"--verify\""), "{}", run.stdout);
        } else {
            assert!(
                run.stdout.contains("pullPolicy: IfNotPresent"),
                "{}",
                run.stdout
            );
        }
    }
    // Nothing was installed by any of it.
    assert!(names_installed(&home).is_empty());
}
