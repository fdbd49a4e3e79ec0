//! Publishing skills to a registry and reading back what a home installed.

use serde_json::Value;

use super::Home;
use super::tools::{copy_tree, testdata};

/// The reference `skillc build testdata/valid/hello-world` gives.
pub const HELLO: &str = "examples/hello-world:1.0.0-draft";

/// Build hello-world into `home`'s store; its reference ([`HELLO`]).
pub fn build_hello(home: &Home) -> &'static str {
    home.skillc(&[
        "build",
        testdata().join("valid/hello-world").to_str().unwrap(),
    ])
    .expect_code(0);
    HELLO
}

/// Build hello-world and install it into `dir` (`-o DIR`).
pub fn install_hello(home: &Home, dir: &std::path::Path) {
    build_hello(home);
    home.skillc(&["install", HELLO, "-o", dir.to_str().unwrap()])
        .expect_code(0);
}

/// hello-world at `version` (with `name` as its skill name), built as
/// `<prefix>/<name>` (e.g. `127.0.0.1:5000/acme/tool`), pushed, and
/// promoted to `state` (draft, testing or published).
pub fn publish(home: &Home, prefix: &str, name: &str, version: &str, state: &str) {
    publish_edited(home, prefix, name, version, state, |_| {});
}

/// [`publish`], with `edit` applied to the skill's folder before the build
/// (to add a file, or a line to SKILL.md).
pub fn publish_edited(
    home: &Home,
    prefix: &str,
    name: &str,
    version: &str,
    state: &str,
    edit: impl Fn(&std::path::Path),
) {
    let dir = home
        .root()
        .join("src")
        .join(format!("{name}-{version}"))
        .join(name);
    copy_tree(&testdata().join("valid/hello-world"), &dir);
    let card = std::fs::read_to_string(dir.join("skill.yaml")).unwrap();
    std::fs::write(
        dir.join("skill.yaml"),
        card.replace("version: 1.0.0", &format!("version: {version}"))
            .replace("name: hello-world", &format!("name: {name}")),
    )
    .unwrap();
    let md = std::fs::read_to_string(dir.join("SKILL.md")).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        md.replace("name: hello-world", &format!("name: {name}")),
    )
    .unwrap();
    edit(&dir);
    let repo = format!("{prefix}/{name}");
    home.skillc(&["build", "-t", &repo, dir.to_str().unwrap()])
        .expect_code(0);
    home.skillc(&["push", &format!("{repo}:{version}-draft")])
        .expect_code(0);
    let mut tag = format!("{version}-draft");
    let steps: &[&str] = match state {
        "testing" => &["testing"],
        "published" => &["testing", "published"],
        _ => &[],
    };
    for step in steps {
        home.skillc(&["promote", &format!("{repo}:{tag}"), "--to", step])
            .expect_code(0);
        tag = if *step == "testing" {
            format!("{version}-testing")
        } else {
            version.to_string()
        };
    }
}

/// The first install of `name` in `home`'s `skillc list`, as JSON.
pub fn installed(home: &Home, name: &str) -> Value {
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    list["installs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not installed: {list}"))
        .clone()
}

/// The installed version of `name` (the first install of that name).
pub fn version_of(home: &Home, name: &str) -> String {
    installed(home, name)["version"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every history entry, oldest first.
pub fn history(home: &Home) -> Vec<Value> {
    home.skillc(&["--json", "history"]).expect_code(0).json()["entries"]
        .as_array()
        .unwrap()
        .clone()
}

/// Wait (up to 30 s) for the scheduler's first refused change in `home`'s
/// history; that entry.
pub fn wait_for_auto_refusal(home: &Home) -> Value {
    let mut refusal = Value::Null;
    super::wait_until(
        "a refused automatic upgrade",
        std::time::Duration::from_secs(30),
        || {
            refusal = history(home)
                .into_iter()
                .find(|e| e["actor"] == "auto" && e["outcome"] == "refused")
                .unwrap_or(Value::Null);
            !refusal.is_null()
        },
    );
    refusal
}
