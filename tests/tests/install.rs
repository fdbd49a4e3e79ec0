//! Installing skills into agent folders: targets, the whole life of an
//! install against a real registry, drift protection, conflicts, and
//! crash safety of the swap.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use skilld_tests::helper::tools::{copy_tree, testdata};
use skilld_tests::helper::{Home, Registry, Variant, wait_until};

fn install_row<'a>(list: &'a Value, name: &str, target: &str) -> &'a Value {
    list["installs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name && i["target"] == target)
        .unwrap_or_else(|| panic!("{name} in {target}: {list:#}"))
}

#[test]
fn targets_resolve_under_home_and_their_overrides() {
    let home = Home::new();
    let targets = home.skillc(&["--json", "targets"]).expect_code(0).json();
    let path = |t: &Value, name: &str| -> String {
        t["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap()["path"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let h = home.user_home();
    for (name, below) in [
        ("claude", ".claude/skills"),
        ("agents", ".agents/skills"),
        ("cursor", ".cursor/skills"),
        ("windsurf", ".codeium/windsurf/skills"),
        ("opencode", ".config/opencode/skills"),
        ("openclaw", ".openclaw/skills"),
        ("codex", ".codex/skills"),
        ("gemini", ".gemini/skills"),
        ("copilot", ".copilot/skills"),
        ("goose", ".config/goose/skills"),
    ] {
        assert_eq!(
            path(&targets, name),
            h.join(below).display().to_string(),
            "{name}"
        );
    }
    assert_eq!(targets["default"], "agents");

    let elsewhere = tempfile::tempdir().unwrap();
    let (c, x, cx) = (
        elsewhere.path().join("claude"),
        elsewhere.path().join("xdg"),
        elsewhere.path().join("codex"),
    );
    let moved = Home::with_env(&[
        ("CLAUDE_CONFIG_DIR", c.as_os_str()),
        ("XDG_CONFIG_HOME", x.as_os_str()),
        ("CODEX_HOME", cx.as_os_str()),
    ]);
    let targets = moved.skillc(&["--json", "targets"]).expect_code(0).json();
    assert_eq!(
        path(&targets, "claude"),
        c.join("skills").display().to_string()
    );
    assert_eq!(
        path(&targets, "opencode"),
        x.join("opencode/skills").display().to_string()
    );
    assert_eq!(
        path(&targets, "goose"),
        x.join("goose/skills").display().to_string()
    );
    assert_eq!(
        path(&targets, "codex"),
        cx.join("skills").display().to_string()
    );

    let run = home.skillc(&["install", "x:1", "-t", "vim"]).expect_code(1);
    assert!(
        run.stderr
            .contains("unknown target \"vim\"; known targets: claude, agents"),
        "{}",
        run.stderr
    );
}

fn build(home: &Home, fixture: &str, extra: &[&str]) -> Value {
    let dir = home.root().join("src").join(fixture);
    if !dir.exists() {
        copy_tree(&testdata().join("valid").join(fixture), &dir);
    }
    let mut args = vec!["--json", "build"];
    args.extend_from_slice(extra);
    args.push(dir.to_str().unwrap());
    home.skillc(&args).expect_code(0).json()
}

#[test]
fn a_local_image_installs_into_targets_projects_and_folders_with_provenance() {
    let home = Home::new();
    let built = build(&home, "hello-world", &[]);
    let reference = built["reference"].as_str().unwrap();
    let installed = home
        .skillc(&[
            "--json", "install", reference, "-t", "claude", "-t", "agents",
        ])
        .expect_code(0)
        .json();
    assert_eq!(installed["installed"].as_array().unwrap().len(), 2);
    let folder = home.user_home().join(".claude/skills/hello-world");
    assert!(folder.join("SKILL.md").is_file());
    let card = std::fs::read_to_string(folder.join("skill.yaml")).unwrap();
    assert!(
        card.contains(&format!("  source: \"{reference}\"")),
        "{card}"
    );
    assert!(
        card.contains(&format!(
            "  commit: \"{}\"",
            built["digest"].as_str().unwrap()
        )),
        "{card}"
    );
    assert!(
        card.contains("display-name: Hello World"),
        "the rest of the card is kept: {card}"
    );
    assert!(
        card.contains("  path: hello-world"),
        "provenance.path is kept: {card}"
    );

    // A skill without skill.yaml gets a minimal card with provenance.
    let crlf = build(&home, "crlf-skill", &[]);
    let project = home.root().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let run = home
        .command("skillc")
        .current_dir(&project)
        .args([
            "--json",
            "install",
            crlf["reference"].as_str().unwrap(),
            "--project",
            "-t",
            "claude",
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let card =
        std::fs::read_to_string(project.join(".claude/skills/crlf-skill/skill.yaml")).unwrap();
    assert!(
        card.contains("kind: SkillCard") && card.contains("commit: \"sha256:"),
        "{card}"
    );

    let out = home.root().join("anywhere");
    home.skillc(&["install", reference, "-o", out.to_str().unwrap()])
        .expect_code(0);
    assert!(out.join("hello-world/SKILL.md").is_file());
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(install_row(&list, "hello-world", "dir")["status"], "ok");
    assert_eq!(install_row(&list, "crlf-skill", "claude")["status"], "ok");
    let status = home.skillc(&["--json", "status"]).expect_code(0).json();
    assert_eq!(status["counts"]["installs"], 4);

    std::fs::remove_dir_all(out.join("hello-world")).unwrap();
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(
        install_row(&list, "hello-world", "dir")["status"],
        "missing"
    );
    let ls = home
        .skillc(&["ls", "--installed", "-t", "claude"])
        .expect_code(0);
    assert!(
        ls.stdout.starts_with("NAME") && ls.stdout.contains("crlf-skill"),
        "{}",
        ls.stdout
    );
    assert!(
        !ls.stdout.contains(" dir "),
        "--target filters: {}",
        ls.stdout
    );
}

#[test]
fn folders_skilld_did_not_install_are_listed_and_protected() {
    let home = Home::new();
    let built = build(&home, "hello-world", &[]);
    let foreign = home.user_home().join(".agents/skills/hello-world");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(
        foreign.join("SKILL.md"),
        "---\nname: hello-world\ndescription: mine\n---\n",
    )
    .unwrap();
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(
        install_row(&list, "hello-world", "agents")["status"],
        "unmanaged"
    );
    let run = home
        .skillc(&["install", built["reference"].as_str().unwrap()])
        .expect_code(1);
    assert!(
        run.stderr.contains("was not installed by skilld"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(foreign.join("SKILL.md")).unwrap(),
        "---\nname: hello-world\ndescription: mine\n---\n"
    );
    let forced = home
        .skillc(&[
            "--json",
            "install",
            "--force",
            built["reference"].as_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    let backup = PathBuf::from(forced["backups"][0].as_str().unwrap());
    assert!(
        std::fs::read_to_string(backup.join("SKILL.md"))
            .unwrap()
            .contains("description: mine"),
        "the foreign skill is kept"
    );
}

#[test]
fn two_skills_with_one_name_are_refused_naming_both_sources() {
    let home = Home::new();
    let a = build(&home, "hello-world", &["-t", "team-a/hello-world"]);
    let b = build(&home, "hello-world", &["-t", "team-b/hello-world"]);
    home.skillc(&["install", a["reference"].as_str().unwrap()])
        .expect_code(0);
    let run = home
        .skillc(&["install", b["reference"].as_str().unwrap()])
        .expect_code(1);
    assert!(
        run.stderr.contains("team-a/hello-world") && run.stderr.contains("team-b/hello-world"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_hand_edit_is_noticed_within_a_second_and_never_lost() {
    let home = Home::new();
    let built = build(&home, "hello-world", &[]);
    let reference = built["reference"].as_str().unwrap();
    home.skillc(&["install", reference]).expect_code(0);
    let skill = home.user_home().join(".agents/skills/hello-world/SKILL.md");
    std::fs::write(
        &skill,
        "---\nname: hello-world\ndescription: my own words\n---\n",
    )
    .unwrap();
    wait_until(
        "the daemon to notice the edit",
        Duration::from_secs(1),
        || {
            let list = home.skillc(&["--json", "list"]).json();
            install_row(&list, "hello-world", "agents")["status"] == "modified"
        },
    );
    for args in [vec!["install", reference], vec!["remove", "hello-world"]] {
        let run = home.skillc(&args).expect_code(1);
        assert!(
            run.stderr.contains("edited by hand"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            std::fs::read_to_string(&skill)
                .unwrap()
                .contains("my own words")
        );
    }
    let removed = home
        .skillc(&["--json", "remove", "--force", "hello-world"])
        .expect_code(0)
        .json();
    let backup = PathBuf::from(removed["backups"][0].as_str().unwrap());
    assert!(
        std::fs::read_to_string(backup.join("SKILL.md"))
            .unwrap()
            .contains("my own words")
    );
    assert!(!skill.exists());
}

/// A copy of hello-world at `version` pushed to `registry` and promoted to `state`.
fn publish(home: &Home, host: &str, version: &str, state: &str) {
    let dir = home
        .root()
        .join("src")
        .join(format!("v{version}"))
        .join("hello-world");
    copy_tree(&testdata().join("valid/hello-world"), &dir);
    let card = std::fs::read_to_string(dir.join("skill.yaml")).unwrap();
    std::fs::write(
        dir.join("skill.yaml"),
        card.replace("version: 1.0.0", &format!("version: {version}")),
    )
    .unwrap();
    std::fs::write(dir.join("CHANGES.md"), format!("{version}\n")).unwrap();
    let repo = format!("{host}/examples/hello-world");
    home.skillc(&["build", "-t", &repo, dir.to_str().unwrap()])
        .expect_code(0);
    home.skillc(&["push", &format!("{repo}:{version}-draft")])
        .expect_code(0);
    let steps: &[&str] = match state {
        "draft" => &[],
        "testing" => &["testing"],
        "published" => &["testing", "published"],
        "deprecated" => &["testing", "published", "deprecated"],
        other => panic!("{other}"),
    };
    let mut tag = format!("{version}-draft");
    for step in steps {
        home.skillc(&["promote", &format!("{repo}:{tag}"), "--to", step])
            .expect_code(0);
        tag = match *step {
            "testing" => format!("{version}-testing"),
            _ => version.to_string(),
        };
    }
}

#[test]
fn install_list_upgrade_rollback_remove_against_a_registry() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let publisher = Home::new();
    publish(&publisher, &host, "1.0.0", "published");
    let user = Home::new();
    let reference = format!("{host}/examples/hello-world:1.0.0");
    user.skillc(&["install", &reference, "-t", "claude"])
        .expect_code(0);
    let list = user
        .skillc(&["--json", "list", "--upgradable"])
        .expect_code(0)
        .json();
    let row = install_row(&list, "hello-world", "claude");
    assert_eq!(
        (
            row["version"].as_str(),
            row["status"].as_str(),
            row["latest"].as_str()
        ),
        (Some("1.0.0"), Some("ok"), None)
    );

    publish(&publisher, &host, "1.1.0", "published");
    publish(&publisher, &host, "1.2.0", "testing");
    publish(&publisher, &host, "1.3.0", "draft");
    publish(&publisher, &host, "2.0.0", "deprecated");
    let list = user
        .skillc(&["--json", "list", "--upgradable"])
        .expect_code(0)
        .json();
    assert_eq!(
        install_row(&list, "hello-world", "claude")["latest"],
        "1.1.0",
        "testing, draft and deprecated never count"
    );

    user.skillc(&["pin", "hello-world"]).expect_code(0);
    let pinned = user
        .skillc(&["--json", "upgrade", "--all"])
        .expect_code(0)
        .json();
    assert_eq!(pinned["outcomes"][0]["result"], "pinned");
    user.skillc(&["unpin", "hello-world"]).expect_code(0);
    let dry = user
        .skillc(&["--json", "upgrade", "hello-world", "--dry-run"])
        .expect_code(0)
        .json();
    assert_eq!(dry["outcomes"][0]["result"], "would_upgrade");
    let run = user.skillc(&["upgrade", "hello-world"]).expect_code(0);
    assert!(
        run.stdout.contains("hello-world (claude): 1.0.0 → 1.1.0"),
        "{}",
        run.stdout
    );
    let folder = user.user_home().join(".claude/skills/hello-world");
    assert_eq!(
        std::fs::read_to_string(folder.join("CHANGES.md")).unwrap(),
        "1.1.0\n"
    );
    let up = user
        .skillc(&["--json", "upgrade", "--all"])
        .expect_code(0)
        .json();
    assert_eq!(up["outcomes"][0]["result"], "up_to_date");

    // Rollback works from the store alone: stop the registry first.
    drop(registry);
    user.skillc(&["rollback", "hello-world"]).expect_code(0);
    assert_eq!(
        std::fs::read_to_string(folder.join("CHANGES.md")).unwrap(),
        "1.0.0\n"
    );
    let list = user.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(
        install_row(&list, "hello-world", "claude")["version"],
        "1.0.0"
    );

    user.skillc(&["remove", "hello-world"]).expect_code(0);
    assert!(!folder.exists());
    let events = user.skillc(&["--json", "events"]).expect_code(0);
    let kinds: Vec<String> = events
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|e| e["kind"].as_str().unwrap_or_default().to_string())
        .collect();
    for kind in ["installed", "upgraded", "rolled_back", "removed"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    let list = user.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(list["installs"], serde_json::json!([]));
}

#[test]
fn a_kill_9_in_the_middle_of_a_swap_leaves_one_whole_version() {
    let home = Home::new();
    let one = build(&home, "hello-world", &[]);
    home.skillc(&["install", one["reference"].as_str().unwrap()])
        .expect_code(0);
    home.skillc(&["daemon", "stop"]).expect_code(0);
    // A second version of the same skill, installed by a daemon that
    // pauses between its two renames: killed there, on restart the index
    // must agree with the disk.
    let dir = home.root().join("src/hello-world");
    std::fs::write(dir.join("EXTRA.md"), "two\n").unwrap();
    let two = build(
        &home,
        "hello-world",
        &["-t", "examples/hello-world:1.0.0-two"],
    );
    home.skillc(&["daemon", "stop"]).expect_code(0);
    let mut daemon = home.start_slow_daemon(5000);
    let mut installing = home
        .command("skillc")
        .args(["install", two["reference"].as_str().unwrap()])
        .spawn()
        .unwrap();
    let folder = home.user_home().join(".agents/skills/hello-world");
    wait_until(
        "the old folder to be moved aside",
        Duration::from_secs(20),
        || !folder.exists(),
    );
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let _ = installing.wait();

    home.start_daemon();
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    let row = install_row(&list, "hello-world", "agents");
    assert_eq!(
        row["status"], "ok",
        "index and disk agree after recovery: {list:#}"
    );
    assert!(
        folder.join("SKILL.md").is_file(),
        "a whole skill is in place"
    );
    let has_extra = folder.join("EXTRA.md").exists();
    let digest = if has_extra {
        &two["digest"]
    } else {
        &one["digest"]
    };
    assert_eq!(
        &row["digest"], digest,
        "the index names the version on disk"
    );
    let leftovers: Vec<String> = std::fs::read_dir(folder.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".skilld"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no staging folders left: {leftovers:?}"
    );
    let _ = Path::new("");
}

#[test]
fn targets_show_the_agents_installed_here_and_every_one_with_all() {
    let elsewhere = tempfile::tempdir().unwrap();
    let grok = elsewhere.path().join("grok");
    std::fs::create_dir_all(&grok).unwrap();
    let home = Home::with_env(&[("GROK_HOME", grok.as_os_str())]);
    // Kiro is installed here (its own folder exists); Grok's folder is moved.
    std::fs::create_dir_all(home.user_home().join(".kiro")).unwrap();
    let json = home.skillc(&["--json", "targets"]).expect_code(0).json();
    let all = json["targets"].as_array().unwrap();
    assert!(all.len() >= 40, "every known target: {}", all.len());
    let row = |name: &str| all.iter().find(|t| t["name"] == name).unwrap().clone();
    assert_eq!(row("kiro")["installed"], true);
    assert_eq!(row("roo")["installed"], false);
    assert_eq!(
        row("grok")["installed"],
        true,
        "found where GROK_HOME points"
    );
    assert_eq!(
        row("grok")["path"],
        grok.join("skills").display().to_string()
    );
    assert_eq!(row("grok")["overridden_by"], "GROK_HOME");
    // Codex and OpenClaw read these in a project (their own sources).
    let project = elsewhere.path().join("proj");
    std::fs::create_dir_all(&project).unwrap();
    let text = home.skillc(&["targets"]).expect_code(0).stdout;
    assert!(text.contains("AGENT HERE"), "{text}");
    // Without -t, an install goes to the agents found here.
    let kiro = text
        .lines()
        .find(|l| l.starts_with("kiro (default) "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(kiro.contains(" yes "), "{kiro}");
    assert!(
        text.contains(
            "An install without -t goes to: grok, kiro; one copy in the shared folder, linked into the others"
        ),
        "{text}"
    );
    assert_eq!(json["default_targets"], serde_json::json!(["grok", "kiro"]));
    assert!(
        !text.lines().any(|l| l.starts_with("roo ")),
        "agents not found here are left out: {text}"
    );
    assert!(
        text.contains("more targets for agents not found here: skillc targets --all"),
        "{text}"
    );
    let every = home.skillc(&["targets", "--all"]).expect_code(0).stdout;
    assert!(every.lines().any(|l| l.starts_with("roo ")), "{every}");
    // Installing into a new agent's folder works like any other target.
    home.skillc(&[
        "build",
        testdata().join("valid/hello-world").to_str().unwrap(),
    ])
    .expect_code(0);
    home.skillc(&[
        "install",
        "examples/hello-world:1.0.0-draft",
        "-t",
        "codex",
        "--project",
        project.to_str().unwrap(),
    ])
    .expect_code(0);
    assert!(
        project
            .join(".agents/skills/hello-world/SKILL.md")
            .is_file()
    );
}
