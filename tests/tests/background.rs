//! The daemon on its own: periodic upgrade checks within policy, backoff
//! when a registry fails, the event stream and the audit history.

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use serde_json::Value;
use skilld_tests::helper::skills::{history, publish, version_of};
use skilld_tests::helper::tools::{copy_tree, testdata};
use skilld_tests::helper::{Home, Registry, Variant, wait_until};

#[test]
fn periodic_checks_upgrade_within_policy_and_report_the_rest() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let publisher = Home::new();
    for name in ["alpha", "pinned", "edited"] {
        publish(
            &publisher,
            &format!("{host}/acme"),
            name,
            "1.0.0",
            "published",
        );
    }
    let user = Home::new();
    user.write_config("upgrades:\n  check_interval: 1s\n");
    for name in ["alpha", "pinned", "edited"] {
        user.skillc(&["install", &format!("{host}/acme/{name}:1.0.0")])
            .expect_code(0);
    }
    user.skillc(&["pin", "pinned"]).expect_code(0);
    let edited = user.user_home().join(".agents/skills/edited/SKILL.md");
    std::fs::write(&edited, "---\nname: edited\ndescription: mine\n---\n").unwrap();

    // Follow the events while the scheduler works.
    let mut follower = user
        .command("skillc")
        .args(["--json", "events", "--follow"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follower.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });

    publish(
        &publisher,
        &format!("{host}/acme"),
        "alpha",
        "1.1.0",
        "published",
    );
    publish(
        &publisher,
        &format!("{host}/acme"),
        "alpha",
        "1.2.0",
        "testing",
    );
    publish(
        &publisher,
        &format!("{host}/acme"),
        "alpha",
        "2.0.0",
        "published",
    );
    for name in ["pinned", "edited"] {
        publish(
            &publisher,
            &format!("{host}/acme"),
            name,
            "1.1.0",
            "published",
        );
    }
    wait_until(
        "alpha to be upgraded to 1.1.0 by the scheduler",
        Duration::from_secs(30),
        || version_of(&user, "alpha") == "1.1.0",
    );
    let mut seen: Vec<Value> = Vec::new();
    wait_until("the events", Duration::from_secs(30), || {
        seen.extend(rx.try_iter());
        let has = |kind: &str, skill: Option<&str>| {
            seen.iter()
                .any(|e| e["kind"] == kind && skill.is_none_or(|s| e["skill"] == s))
        };
        has("upgraded", Some("alpha"))
            && has("upgrade_available", Some("alpha"))
            && has("upgrade_available", Some("edited"))
            && has("check_started", None)
            && has("check_finished", None)
            && has("drift_detected", Some("edited"))
    });
    let _ = follower.kill();
    let _ = follower.wait();
    let available = seen
        .iter()
        .find(|e| e["kind"] == "upgrade_available" && e["skill"] == "alpha")
        .unwrap();
    assert_eq!(
        available["to_version"], "2.0.0",
        "2.0.0 is outside the default minor policy: {available}"
    );
    assert_eq!(version_of(&user, "pinned"), "1.0.0", "a pinned skill stays");
    assert_eq!(
        version_of(&user, "edited"),
        "1.0.0",
        "a modified skill stays"
    );
    assert!(
        std::fs::read_to_string(&edited).unwrap().contains("mine"),
        "the edit is untouched"
    );

    let entries = history(&user);
    let auto: Vec<&Value> = entries.iter().filter(|e| e["actor"] == "auto").collect();
    assert!(
        auto.iter().any(|e| e["skill"] == "alpha"
            && e["outcome"] == "ok"
            && e["from_version"] == "1.0.0"
            && e["to_version"] == "1.1.0"),
        "{entries:#?}"
    );
    assert!(
        auto.iter()
            .any(|e| e["skill"] == "edited" && e["outcome"] == "refused"),
        "{entries:#?}"
    );
    assert!(
        !auto.iter().any(|e| e["to_version"] == "1.2.0"),
        "1.2.0-testing never counts"
    );

    // The major policy takes alpha to 2.0.0 on the next check.
    user.skillc(&["policy", "alpha", "major"]).expect_code(0);
    wait_until("alpha to reach 2.0.0", Duration::from_secs(30), || {
        version_of(&user, "alpha") == "2.0.0"
    });
    let run = user.skillc(&["history", "alpha"]).expect_code(0);
    assert!(run.stdout.contains("1.1.0 → 2.0.0"), "{}", run.stdout);
}

#[test]
fn a_registry_that_goes_away_backs_off_and_comes_back() {
    let mut registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let publisher = Home::new();
    publish(
        &publisher,
        &format!("{host}/acme"),
        "beta",
        "1.0.0",
        "published",
    );
    let user = Home::new();
    user.write_config("upgrades:\n  check_interval: 1s\n");
    user.skillc(&["install", &format!("{host}/acme/beta:1.0.0")])
        .expect_code(0);

    registry.stop();
    let mut failures = 0;
    wait_until("the check to fail twice", Duration::from_secs(30), || {
        let status = user.skillc(&["--json", "status"]).expect_code(0).json();
        failures = status["failing_registries"]
            .as_array()
            .and_then(|f| f.first())
            .and_then(|f| f["failures"].as_u64())
            .unwrap_or(0);
        failures >= 2
    });
    let status = user.skillc(&["--json", "status"]).expect_code(0).json();
    let failing = &status["failing_registries"][0];
    assert_eq!(failing["host"], host.as_str());
    assert!(
        failing["error"].as_str().unwrap().contains("cannot reach"),
        "{failing}"
    );
    let events = user.skillc(&["--json", "events"]).expect_code(0).stdout;
    assert!(events.contains("\"kind\":\"check_failed\""), "{events}");
    let human = user.skillc(&["status"]).expect_code(0);
    assert!(
        human.stdout.contains("failing") && human.stdout.contains(&host),
        "{}",
        human.stdout
    );
    user.skillc(&["list"]).expect_code(0);

    registry.restart();
    publish(
        &publisher,
        &format!("{host}/acme"),
        "beta",
        "1.0.1",
        "published",
    );
    wait_until(
        "the registry to be healthy and beta upgraded",
        Duration::from_secs(40),
        || {
            let status = user.skillc(&["--json", "status"]).expect_code(0).json();
            status["failing_registries"]
                .as_array()
                .is_some_and(|f| f.is_empty())
                && version_of(&user, "beta") == "1.0.1"
        },
    );
    let status = user.skillc(&["--json", "status"]).expect_code(0).json();
    assert!(
        status["last_check"].is_string() && status["next_check"].is_string(),
        "{status}"
    );
}

#[test]
fn a_client_that_never_reads_does_not_stall_the_daemon() {
    let home = Home::new();
    let daemon = home.start_daemon();
    let _ = daemon;
    // Subscribe and never read.
    let mut stalled = std::os::unix::net::UnixStream::connect(home.socket()).unwrap();
    stalled
        .write_all(b"GET /v1/events?follow=true HTTP/1.1\r\nhost: s\r\n\r\n")
        .unwrap();
    let dir = home.root().join("src/hello-world");
    copy_tree(&testdata().join("valid/hello-world"), &dir);
    let built = home
        .skillc(&["--json", "build", dir.to_str().unwrap()])
        .expect_code(0)
        .json();
    let reference = built["reference"].as_str().unwrap().to_string();
    // Far more events than the bus buffers.
    for i in 0..150 {
        let out = home.root().join(format!("t{i}"));
        home.skillc(&["-q", "install", &reference, "-o", out.to_str().unwrap()])
            .expect_code(0);
        home.skillc(&["-q", "remove", "hello-world", "-t", "dir"])
            .expect_code(0);
    }
    home.skillc(&["--no-autostart", "status"]).expect_code(0);
    let recent = home.skillc(&["--json", "events"]).expect_code(0);
    assert!(
        recent.stdout.lines().count() >= 100,
        "recent events are kept"
    );
}

#[test]
fn a_check_asks_for_each_new_manifest_once_however_many_installs_follow_it() {
    let registry = Registry::start_logged(Variant::Anonymous);
    let host = registry.host();
    let publisher = Home::new();
    publish(
        &publisher,
        &format!("{host}/acme"),
        "tone",
        "1.0.0",
        "published",
    );
    let user = Home::new();
    for i in 0..3 {
        let out = user.root().join(format!("installs/{i}"));
        user.skillc(&[
            "-q",
            "install",
            &format!("{host}/acme/tone:1.0.0"),
            "-o",
            out.to_str().unwrap(),
        ])
        .expect_code(0);
    }
    publish(
        &publisher,
        &format!("{host}/acme"),
        "tone",
        "1.0.1",
        "published",
    );
    let before = registry.requests().len();
    let check = user.skillc(&["--json", "check"]).expect_code(0).json();
    let upgraded = check["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["result"] == "upgraded" && o["to"] == "1.0.1")
        .count();
    assert_eq!(upgraded, 3, "{check}");
    let requests: Vec<String> = registry.requests().into_iter().skip(before).collect();
    let manifest_gets = requests
        .iter()
        .filter(|l| l.contains("GET /v2/acme/tone/manifests/1.0.1"))
        .count();
    // Read once for its status; the upgrade's pull reuses it, and the other
    // two installs find the image in the store.
    assert_eq!(manifest_gets, 1, "{requests:#?}");
    let blob_gets = requests.iter().filter(|l| l.contains("/blobs/")).count();
    assert_eq!(blob_gets, 2, "config and layer, once: {requests:#?}");
}

/// `installs` with `known_upgrades` answers what the last check found for
/// each install at its digest, asking no registry (the registry is stopped
/// before the last answers); an install that changed since is not answered
/// until it is at that digest again.
#[test]
fn known_upgrades_are_answered_without_a_registry() {
    use skilld_tests::helper::http;
    let mut registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let home = Home::new();
    let _daemon = home.start_daemon();
    publish(&home, &format!("{host}/acme"), "tone", "1.0.0", "published");
    publish(&home, &format!("{host}/acme"), "tone", "1.1.0", "published");
    home.skillc(&["install", &format!("{host}/acme/tone:1.0.0")])
        .expect_code(0);
    home.skillc(&["policy", "tone", "notify"]).expect_code(0);
    let known = |home: &Home| -> Value {
        let reply = http::request(
            &home.socket(),
            "POST",
            "/v1/installs",
            br#"{"known_upgrades": true}"#,
        );
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()["installs"][0]["latest"].clone()
    };
    assert_eq!(known(&home), Value::Null, "nothing looked at yet");
    home.skillc(&["check"]).expect_code(0);
    assert_eq!(known(&home), "1.1.0");
    // Upgraded: the entry was for the old digest.
    home.skillc(&["upgrade", "tone"]).expect_code(0);
    assert_eq!(version_of(&home, "tone"), "1.1.0");
    assert_eq!(known(&home), Value::Null);
    home.skillc(&["rollback", "tone"]).expect_code(0);
    registry.stop();
    assert_eq!(known(&home), "1.1.0", "answered with the registry gone");
    let asked = http::request(
        &home.socket(),
        "POST",
        "/v1/installs",
        br#"{"upgradable": true}"#,
    );
    assert_eq!(asked.status, 502, "the registry is really gone");
}
