//! One copy, many agents: an install without `-t` reaches the agents found
//! on the machine, through one copy in `~/.agents/skills` linked into each
//! other agent's folder; the set upgrades, rolls back, pins, drifts and is
//! removed as one install.

use std::path::Path;

use serde_json::Value;
use skilld_tests::helper::skills::publish;
use skilld_tests::helper::{Home, Registry, Variant};

/// The install of `name` in `target`, from `skillc --json list`.
fn row(home: &Home, name: &str, target: &str) -> Value {
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    list["installs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name && i["target"] == target)
        .unwrap_or_else(|| panic!("{name} in {target}: {list:#}"))
        .clone()
}

fn link_of(path: &Path) -> std::path::PathBuf {
    std::fs::read_link(path).unwrap_or_else(|e| panic!("{} is not a link: {e}", path.display()))
}

/// A home where Claude Code, Cursor and Hermes are installed (their own
/// folders exist), and nothing else.
fn home_with_agents() -> Home {
    let home = Home::new();
    for agent in [".claude", ".cursor", ".hermes"] {
        std::fs::create_dir_all(home.user_home().join(agent)).unwrap();
    }
    home
}

#[test]
fn without_a_target_the_agents_found_here_get_one_copy_linked() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let publisher = Home::new();
    publish(
        &publisher,
        &format!("{host}/acme"),
        "tone",
        "1.0.0",
        "published",
    );
    let home = home_with_agents();
    let h = home.user_home();

    let targets = home.skillc(&["targets"]).expect_code(0);
    assert!(
        targets.stdout.contains(
            "An install without -t goes to: claude, cursor, hermes; one copy in the shared folder"
        ),
        "{}",
        targets.stdout
    );

    let reference = format!("{host}/acme/tone:1.0.0");
    let run = home.skillc(&["install", &reference]).expect_code(0);
    assert!(
        run.stdout.contains("seen by: ") && run.stdout.contains("Claude Code"),
        "the user is told which agents see it: {}",
        run.stdout
    );
    let copy = h.join(".agents/skills/tone");
    assert!(
        std::fs::symlink_metadata(&copy).unwrap().is_dir(),
        "the one copy is a folder"
    );
    for agent in [".claude", ".cursor"] {
        let link = h.join(agent).join("skills/tone");
        assert_eq!(link_of(&link), Path::new("../../.agents/skills/tone"));
        assert!(link.join("SKILL.md").is_file(), "the link reaches the copy");
    }
    // Hermes does not load linked skills: it gets a copy.
    let hermes = h.join(".hermes/skills/tone");
    assert!(std::fs::symlink_metadata(&hermes).unwrap().is_dir());
    for (target, link) in [("agents", None), ("claude", Some(&copy)), ("hermes", None)] {
        let r = row(&home, "tone", target);
        assert_eq!(r["version"], "1.0.0", "{target}");
        assert_eq!(r["status"], "ok", "{target}");
        assert_eq!(
            r["link"].as_str().map(Path::new),
            link.map(|p| p.as_path()),
            "{target}"
        );
    }
    let ls = home.skillc(&["list"]).expect_code(0);
    assert!(ls.stdout.contains("claude (link)"), "{}", ls.stdout);

    // An upgrade of any member upgrades the set once; the links follow.
    publish(
        &publisher,
        &format!("{host}/acme"),
        "tone",
        "1.1.0",
        "published",
    );
    let up = home
        .skillc(&["--json", "upgrade", "tone", "-t", "claude"])
        .expect_code(0)
        .json();
    let outcomes = up["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 1, "one upgrade for the set: {up:#}");
    assert_eq!(
        (&outcomes[0]["target"], &outcomes[0]["result"]),
        (&Value::from("agents"), &Value::from("upgraded"))
    );
    for target in ["agents", "claude", "cursor"] {
        assert_eq!(row(&home, "tone", target)["version"], "1.1.0", "{target}");
    }
    assert_eq!(
        row(&home, "tone", "hermes")["version"],
        "1.0.0",
        "a copy of its own is upgraded on its own"
    );
    assert_eq!(
        link_of(&h.join(".claude/skills/tone")),
        Path::new("../../.agents/skills/tone")
    );

    // Rollback from a link rolls the set back.
    home.skillc(&["rollback", "tone", "-t", "cursor"])
        .expect_code(0);
    for target in ["agents", "claude", "cursor"] {
        assert_eq!(row(&home, "tone", target)["version"], "1.0.0", "{target}");
    }

    // Pinning a link pins the set.
    home.skillc(&["pin", "tone", "-t", "claude"]).expect_code(0);
    for target in ["agents", "claude", "cursor"] {
        assert_eq!(row(&home, "tone", target)["pinned"], true, "{target}");
    }
    assert_eq!(row(&home, "tone", "hermes")["pinned"], false);
}

#[test]
fn a_linked_set_drifts_and_is_removed_as_one() {
    let home = home_with_agents();
    let h = home.user_home();
    let built = home
        .skillc(&[
            "--json",
            "build",
            skilld_tests::helper::tools::testdata()
                .join("valid/hello-world")
                .to_str()
                .unwrap(),
        ])
        .expect_code(0)
        .json();
    let reference = built["reference"].as_str().unwrap();
    home.skillc(&[
        "install", reference, "-t", "claude", "-t", "opencode", "--link",
    ])
    .expect_code(0);
    let copy = h.join(".agents/skills/hello-world");
    let claude = h.join(".claude/skills/hello-world");
    let opencode = h.join(".config/opencode/skills/hello-world");
    assert_eq!(
        link_of(&opencode),
        Path::new("../../../.agents/skills/hello-world")
    );

    // `--copy` makes copies, and turns a link back into a folder.
    home.skillc(&[
        "install", reference, "-t", "claude", "-t", "cursor", "--copy",
    ])
    .expect_code(0);
    assert!(std::fs::symlink_metadata(&claude).unwrap().is_dir());
    assert!(row(&home, "hello-world", "claude")["link"].is_null());
    // And `--link` back again.
    home.skillc(&["install", reference, "-t", "claude", "-t", "cursor"])
        .expect_code(0);
    assert!(link_of(&claude).ends_with(".agents/skills/hello-world"));
    assert!(link_of(&h.join(".cursor/skills/hello-world")).ends_with(".agents/skills/hello-world"));

    // An edit made through a link is an edit of the copy.
    std::fs::write(
        claude.join("SKILL.md"),
        "---\nname: hello-world\ndescription: mine\n---\n",
    )
    .unwrap();
    let modified = || {
        let r = home.skillc(&["--json", "list"]).expect_code(0).json();
        r["installs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["target"] == "agents")
            .map(|i| i["status"] == "modified")
            .unwrap_or(false)
    };
    skilld_tests::helper::wait_until(
        "the copy marked modified",
        std::time::Duration::from_secs(10),
        modified,
    );
    assert_eq!(
        row(&home, "hello-world", "claude")["status"],
        "ok",
        "the link itself is intact"
    );

    // Removing the set refuses while the copy holds an edit: nothing goes.
    let refused = home.skillc(&["remove", "hello-world", "-t", "agents"]);
    assert_ne!(refused.code, Some(0), "{}", refused.stdout);
    assert!(
        refused.stderr.contains("edited by hand"),
        "{}",
        refused.stderr
    );
    assert!(claude.join("SKILL.md").is_file(), "the links stay");

    // A link replaced by hand is a modified install of its own.
    std::fs::remove_file(&opencode).unwrap();
    std::fs::create_dir(&opencode).unwrap();
    std::fs::write(opencode.join("SKILL.md"), "mine").unwrap();
    skilld_tests::helper::wait_until(
        "the replaced link marked modified",
        std::time::Duration::from_secs(10),
        || row(&home, "hello-world", "opencode")["status"] == "modified",
    );

    // Removing one link leaves the rest.
    home.skillc(&["remove", "hello-world", "-t", "cursor"])
        .expect_code(0);
    assert!(std::fs::symlink_metadata(h.join(".cursor/skills/hello-world")).is_err());
    assert!(claude.join("SKILL.md").is_file());

    // With --force the copy goes with its links (the edits kept in backups).
    let removed = home
        .skillc(&["--json", "remove", "hello-world", "-t", "agents", "--force"])
        .expect_code(0)
        .json();
    let gone: Vec<&str> = removed["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["target"].as_str().unwrap())
        .collect();
    assert_eq!(gone, ["claude", "opencode", "agents"], "{removed:#}");
    for path in [&copy, &claude, &opencode] {
        assert!(
            std::fs::symlink_metadata(path).is_err(),
            "{}",
            path.display()
        );
    }
    let backups = removed["backups"].as_array().unwrap();
    assert_eq!(
        backups.len(),
        2,
        "the edited copy and the hand-made folder: {removed:#}"
    );
}
