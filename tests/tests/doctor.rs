//! `skillc doctor` against real registries: a healthy set-up passes with
//! every area checked; then, on the same running daemon, a config edited
//! into nonsense, a registry that stopped, a key file gone and a staging
//! leftover are each reported with a fix, and the exit code says so. No
//! secret ever appears in its output.

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;
use skilld_tests::helper::registry::{PASSWORD, USER};
use skilld_tests::helper::skills::publish;
use skilld_tests::helper::{Home, Registry, Variant};

fn doctor(home: &Home) -> (Option<i32>, Vec<Value>, String) {
    let run = home.skillc(&["--json", "doctor"]);
    let checks = run.json()["checks"].as_array().unwrap().clone();
    let text = home.skillc(&["doctor"]).stdout;
    (run.code, checks, text)
}

fn find<'a>(checks: &'a [Value], area: &str, name: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| c["area"] == area && c["name"] == name)
        .unwrap_or_else(|| panic!("no {area} {name} check in {checks:?}"))
}

#[test]
fn doctor_checks_every_area_and_says_how_to_fix_what_is_wrong() {
    let mut open = Registry::start(Variant::Anonymous);
    let locked = Registry::start(Variant::BasicAuth);
    let author = Home::with_env(&[("COSIGN_PASSWORD", "pw".as_ref())]);
    publish(
        &author,
        &format!("{}/acme", open.host()),
        "tool",
        "1.0.0",
        "published",
    );
    let key = author.root().join("team");
    author
        .skillc(&["keygen", "--output-key-prefix", key.to_str().unwrap()])
        .expect_code(0);
    let home = Home::new();
    home.write_config(&format!(
        "registries:\n  {}:\n    plain_http: true\ntrust:\n  scopes:\n    example.com/acme: {{type: signed, keys: [{}]}}\n",
        locked.host(),
        key.with_extension("pub").display()
    ));
    let mut login = home.command("skillc");
    login
        .args(["login", &locked.host(), "-u", USER, "--password-stdin"])
        .stdin(Stdio::piped());
    let mut child = login.spawn().unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(child.wait().unwrap().success());
    let out = home.root().join("out");
    home.skillc(&[
        "install",
        &format!("{}/acme/tool:1.0.0", open.host()),
        "-o",
        out.to_str().unwrap(),
    ])
    .expect_code(0);

    // Claude Code is installed here (its folder exists); Roo Code is not.
    std::fs::create_dir_all(home.user_home().join(".claude")).unwrap();
    let (code, checks, text) = doctor(&home);
    assert_eq!(code, Some(0), "{text}");
    for area in [
        "daemon", "service", "socket", "data", "config", "disk", "staging",
    ] {
        assert_eq!(find(&checks, area, area)["status"], "ok", "{area}: {text}");
    }
    assert_eq!(find(&checks, "target", "claude")["status"], "ok");
    assert!(
        find(&checks, "target", "claude")["message"]
            .as_str()
            .unwrap()
            .contains("does not exist yet; it is made at the first install"),
        "{text}"
    );
    assert_eq!(
        find(&checks, "target", "default")["message"],
        "an install without -t goes to claude (the agents found here)",
        "{text}"
    );
    assert!(
        find(&checks, "target", "others")["message"]
            .as_str()
            .unwrap()
            .contains("other agents are not installed here"),
        "{text}"
    );
    assert!(
        !checks
            .iter()
            .any(|c| c["area"] == "target" && c["name"] == "roo"),
        "agents not found here are not checked one by one: {text}"
    );
    let reg = find(&checks, "registry", &open.host());
    assert_eq!(reg["status"], "ok");
    assert!(
        reg["message"]
            .as_str()
            .unwrap()
            .contains("answers over http (open)"),
        "{reg}"
    );
    let reg = find(&checks, "registry", &locked.host());
    assert_eq!(reg["status"], "ok", "{reg}");
    assert!(
        reg["message"]
            .as_str()
            .unwrap()
            .contains("asks for a login"),
        "{reg}"
    );
    assert!(
        reg["message"]
            .as_str()
            .unwrap()
            .contains("credentials from"),
        "{reg}"
    );
    let pub_key = key.with_extension("pub").display().to_string();
    assert_eq!(find(&checks, "trust", &pub_key)["status"], "ok");
    assert!(!text.contains(PASSWORD), "no secret in the output");

    // Break things under the running daemon.
    std::fs::write(home.config_file(), "limits:\n  max_conections: 3\n").unwrap();
    open.stop();
    std::fs::remove_file(key.with_extension("pub")).unwrap();
    std::fs::create_dir_all(out.join(".skilld-staging/staged-tool-1-1")).unwrap();
    let (code, checks, text) = doctor(&home);
    assert_eq!(code, Some(1), "{text}");
    let config = find(&checks, "config", "config");
    assert_eq!(config["status"], "fail");
    assert!(
        config["message"]
            .as_str()
            .unwrap()
            .contains("config.yaml:2:"),
        "{config}"
    );
    assert!(
        config["fix"]
            .as_str()
            .unwrap()
            .contains("skillc daemon stop"),
        "{config}"
    );
    let reg = find(&checks, "registry", &open.host());
    assert_eq!(reg["status"], "fail", "{reg}");
    assert!(
        reg["message"].as_str().unwrap().contains("cannot reach"),
        "{reg}"
    );
    assert_eq!(find(&checks, "trust", &pub_key)["status"], "fail");
    assert_eq!(find(&checks, "staging", "staging")["status"], "warn");
    assert!(text.contains("FAIL") && text.contains("fix: "), "{text}");
    assert!(!text.contains(PASSWORD), "no secret in the output");
}
