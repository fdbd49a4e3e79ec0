//! Project skill sets against a real registry: `skillc add`, `lock`,
//! `sync` (fresh home, `--frozen`, offline, trust, all or nothing, kill -9)
//! and `outdated`, with lockfiles written in arconia-cli's and
//! skills-oci's shapes.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use skilld_tests::helper::skills::publish;
use skilld_tests::helper::tools::testdata;
use skilld_tests::helper::{Home, Registry, Variant, wait_until};

/// Every file under `dir` (links as their target), sorted, for byte
/// comparison; skilld's own provenance file is left out (it names when).
fn tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                out.push((
                    rel,
                    format!("-> {}", std::fs::read_link(&path).unwrap().display()),
                ));
            } else if meta.is_dir() {
                walk(root, &path, out);
            } else {
                out.push((
                    rel,
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn project_dir(home: &Home, name: &str) -> PathBuf {
    let dir = home.root().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn lock_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("skills.lock.json")).unwrap()).unwrap()
}

fn version_in(dir: &Path, name: &str) -> Option<String> {
    let card =
        std::fs::read_to_string(dir.join(".agents/skills").join(name).join("skill.yaml")).ok()?;
    card.lines()
        .find_map(|l| l.trim().strip_prefix("version: ").map(str::to_string))
}

/// A registry where `names` are published (under `HOST/acme`) at each of
/// `versions`: the registry, the publisher's home, and `HOST/acme`.
fn published(names: &[&str], versions: &[&str]) -> (Registry, Home, String) {
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let publisher = Home::new();
    for name in names {
        for version in versions {
            publish(&publisher, &acme, name, version, "published");
        }
    }
    (registry, publisher, acme)
}

#[test]
fn add_lock_sync_frozen_outdated_and_other_tools_locks() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let acme = format!("{host}/acme");
    let publisher = Home::new();
    publish(&publisher, &acme, "tone", "1.0.0", "published");
    publish(&publisher, &acme, "tone", "1.1.0", "published");
    publish(&publisher, &acme, "tone", "1.2.0", "testing");
    publish(&publisher, &acme, "review", "1.0.0", "published");

    let dev = Home::new();
    let project = project_dir(&dev, "app");
    let added = dev.skillc_in(
        &project,
        &["add", &format!("{acme}/tone@^1.0"), "-t", "claude"],
    );
    assert_eq!(added.code, Some(0), "{}{}", added.stdout, added.stderr);
    assert!(
        added.stdout.contains("installed tone 1.1.0"),
        "{}",
        added.stdout
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(project.join("skills.json")).unwrap())
            .unwrap();
    assert_eq!(
        manifest["skills"][0],
        serde_json::json!({"name": "tone", "source": format!("{acme}/tone"), "version": "^1.0", "targets": ["claude"]})
    );
    let lock = lock_json(&project);
    assert_eq!(lock["lockfileVersion"], 1);
    let tone = &lock["skills"][0];
    assert_eq!(tone["path"], ".agents/skills/tone");
    assert_eq!(
        tone["source"]["tag"], "1.1.0",
        "testing 1.2.0 is not published"
    );
    assert_eq!(tone["source"]["registry"], host.as_str());
    assert_eq!(tone["source"]["repository"], "acme/tone");
    let digest = tone["source"]["digest"].as_str().unwrap().to_string();
    assert_eq!(tone["source"]["ref"], format!("{acme}/tone:1.1.0@{digest}"));
    assert_eq!(
        tone["additionalInstalledPaths"],
        serde_json::json!([".claude/skills/tone"])
    );
    assert_eq!(
        std::fs::read_link(project.join(".claude/skills/tone")).unwrap(),
        Path::new("../../.agents/skills/tone")
    );

    // list --project: each place the lock names, against the lock.
    let statuses = |home: &Home, dir: &Path| -> Vec<(String, String)> {
        let list = home.skillc_in(dir, &["--json", "list", "--project"]).json();
        let mut out: Vec<(String, String)> = list["installs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["path"]
                        .as_str()
                        .unwrap()
                        .rsplit_once(dir.file_name().unwrap().to_str().unwrap())
                        .unwrap()
                        .1
                        .to_string(),
                    i["lock_status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let pair = |p: &str, s: &str| (p.to_string(), s.to_string());
    assert_eq!(
        statuses(&dev, &project),
        [
            pair("/.agents/skills/tone", "locked"),
            pair("/.claude/skills/tone", "locked")
        ]
    );
    let text = dev.skillc_in(&project, &["list", "--project"]).stdout;
    assert!(text.lines().next().unwrap().ends_with("LOCK"), "{text}");

    // Locking again when nothing changed leaves the file as it was.
    let before = std::fs::read(project.join("skills.lock.json")).unwrap();
    let relock = dev.skillc_in(&project, &["lock"]);
    assert!(relock.stdout.contains("up to date"), "{}", relock.stdout);
    assert_eq!(
        std::fs::read(project.join("skills.lock.json")).unwrap(),
        before
    );
    assert!(
        dev.skillc_in(&project, &["sync"])
            .stdout
            .contains("1 skill(s) already as locked")
    );

    // A fresh machine syncs the committed files to the same bytes.
    let ci = Home::new();
    let clone = project_dir(&ci, "app");
    for f in ["skills.json", "skills.lock.json"] {
        std::fs::copy(project.join(f), clone.join(f)).unwrap();
    }
    let synced = ci.skillc_in(&clone, &["sync", "--frozen"]);
    assert_eq!(synced.code, Some(0), "{}{}", synced.stdout, synced.stderr);
    let strip = |t: Vec<(String, String)>| -> Vec<(String, String)> {
        t.into_iter()
            .filter(|(p, _)| !p.ends_with("skill.yaml"))
            .collect()
    };
    assert_eq!(
        strip(tree(&clone.join(".agents"))),
        strip(tree(&project.join(".agents")))
    );
    assert_eq!(tree(&clone.join(".claude")), tree(&project.join(".claude")));
    assert_eq!(
        std::fs::read(clone.join("skills.lock.json")).unwrap(),
        before,
        "--frozen never writes the lock"
    );

    // A hand edit drifts; a link removed by hand is missing; a skill
    // installed by hand into the project's folder is not in the lock.
    std::fs::write(clone.join(".agents/skills/tone/NOTES.md"), "mine").unwrap();
    std::fs::remove_file(clone.join(".claude/skills/tone")).unwrap();
    let other = ci
        .skillc(&[
            "--json",
            "build",
            testdata().join("valid/hello-world").to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    ci.skillc(&[
        "install",
        other["reference"].as_str().unwrap(),
        "-o",
        clone.join(".agents/skills").to_str().unwrap(),
    ])
    .expect_code(0);
    assert_eq!(
        statuses(&ci, &clone),
        [
            pair("/.agents/skills/hello-world", "not in lock"),
            pair("/.agents/skills/tone", "drifted"),
            pair("/.claude/skills/tone", "missing"),
        ]
    );
    // --force puts back what the lock says (the edit kept in a backup).
    let forced = ci.skillc_in(&clone, &["--json", "sync", "--frozen", "--force"]);
    assert_eq!(forced.code, Some(0), "{}{}", forced.stdout, forced.stderr);
    assert_eq!(forced.json()["backups"].as_array().unwrap().len(), 1);
    assert!(!clone.join(".agents/skills/tone/NOTES.md").exists());
    assert_eq!(
        statuses(&ci, &clone),
        [
            pair("/.agents/skills/hello-world", "not in lock"),
            pair("/.agents/skills/tone", "locked"),
            pair("/.claude/skills/tone", "locked"),
        ]
    );
    // --frozen refuses a skills.json the lock does not match, changing nothing.
    let mut wants = manifest.clone();
    wants["skills"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "review", "source": format!("{acme}/review")}));
    std::fs::write(
        clone.join("skills.json"),
        serde_json::to_string_pretty(&wants).unwrap(),
    )
    .unwrap();
    let frozen = ci.skillc_in(&clone, &["sync", "--frozen"]);
    assert_ne!(frozen.code, Some(0));
    assert!(
        frozen
            .stderr
            .contains("\"review\" is in skills.json but not locked")
            && frozen.stderr.contains("skillc lock"),
        "{}",
        frozen.stderr
    );
    assert!(!clone.join(".agents/skills/review").exists());
    assert_eq!(
        std::fs::read(clone.join("skills.lock.json")).unwrap(),
        before
    );
    // Without --frozen, sync locks what changed and installs it.
    let resync = ci.skillc_in(&clone, &["sync"]);
    assert_eq!(resync.code, Some(0), "{}", resync.stderr);
    assert!(
        resync.stdout.contains("skills.lock.json updated"),
        "{}",
        resync.stdout
    );
    assert_eq!(version_in(&clone, "review").as_deref(), Some("1.0.0"));

    // outdated: nothing newer, then a newer published version.
    let fresh = dev.skillc_in(&project, &["outdated"]);
    assert_eq!(fresh.code, Some(0), "{}{}", fresh.stdout, fresh.stderr);
    publish(&publisher, &acme, "tone", "1.3.0", "published");
    let stale = dev.skillc_in(&project, &["--json", "outdated"]);
    assert_eq!(
        stale.code,
        Some(1),
        "exit 1: something is outdated: {}",
        stale.stdout
    );
    let row = &stale.json()["skills"][0];
    assert_eq!(
        (
            row["locked"].as_str(),
            row["wanted"].as_str(),
            row["latest"].as_str()
        ),
        (Some("1.1.0"), Some("1.3.0"), Some("1.3.0"))
    );
    // The daemon never moves a locked skill: an upgrade or a background
    // check only reports the newer version.
    let up = dev
        .skillc(&["--json", "upgrade", "tone"])
        .expect_code(0)
        .json();
    assert_eq!(up["outcomes"][0]["result"], "locked", "{up:#}");
    let check = dev.skillc(&["--json", "check"]).expect_code(0).json();
    let outcome = check["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "tone")
        .unwrap_or_else(|| panic!("{check:#}"));
    assert_eq!(outcome["result"], "available", "{check:#}");
    assert!(
        outcome["message"]
            .as_str()
            .unwrap()
            .contains("skillc lock --update tone"),
        "{check:#}"
    );
    assert_eq!(version_in(&project, "tone").as_deref(), Some("1.1.0"));
    // lock --update moves it; sync follows.
    dev.skillc_in(&project, &["lock", "--update", "tone"])
        .expect_code(0);
    assert_eq!(lock_json(&project)["skills"][0]["source"]["tag"], "1.3.0");
    dev.skillc_in(&project, &["sync"]).expect_code(0);
    assert_eq!(version_in(&project, "tone").as_deref(), Some("1.3.0"));

    // Lockfiles written by arconia-cli and skills-oci sync, offline too.
    let review_digest = lock_json(&clone)["skills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "review")
        .unwrap()["source"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let tone_1_0 = {
        let probe = project_dir(&dev, "probe");
        dev.skillc_in(&probe, &["add", &format!("{acme}/tone:1.0.0")])
            .expect_code(0);
        lock_json(&probe)["skills"][0]["source"]["digest"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for tool in ["arconia", "skills-oci"] {
        let dir = project_dir(&ci, tool);
        for f in ["skills.json", "skills.lock.json"] {
            let text = std::fs::read_to_string(testdata().join("projects").join(tool).join(f))
                .unwrap()
                .replace("127.0.0.1:5000", &host)
                .replace("@TONE_DIGEST@", &tone_1_0)
                .replace("@REVIEW_DIGEST@", &review_digest);
            std::fs::write(dir.join(f), text).unwrap();
        }
        if tool == "arconia" {
            // arconia's lock has review at 1.1.0, which this registry lacks:
            // the files agree, so --frozen fetches by digest only.
            let run = ci.skillc_in(&dir, &["sync", "--frozen"]);
            assert_eq!(run.code, Some(0), "{tool}: {}{}", run.stdout, run.stderr);
            assert_eq!(version_in(&dir, "tone").as_deref(), Some("1.0.0"));
            assert_eq!(version_in(&dir, "review").as_deref(), Some("1.0.0"));
        } else {
            let run = ci.skillc_in(&dir, &["sync", "--frozen"]);
            assert_eq!(run.code, Some(0), "{tool}: {}{}", run.stdout, run.stderr);
            for link in [
                ".claude/skills/tone",
                ".codex/skills/tone",
                ".cursor/skills/tone",
            ] {
                assert!(dir.join(link).join("SKILL.md").is_file(), "{tool}: {link}");
            }
        }
    }
    // Offline: every locked digest is in the store.
    drop(registry);
    let offline = project_dir(&ci, "offline");
    for f in ["skills.json", "skills.lock.json"] {
        std::fs::copy(clone.join(f), offline.join(f)).unwrap();
    }
    let run = ci.skillc_in(&offline, &["sync", "--frozen"]);
    assert_eq!(run.code, Some(0), "offline: {}{}", run.stdout, run.stderr);
    assert_eq!(version_in(&offline, "review").as_deref(), Some("1.0.0"));

    // `skillc remove NAME` in the project: out of both files and its folders.
    let removed = dev.skillc_in(&project, &["remove", "tone"]);
    assert_eq!(
        removed.code,
        Some(0),
        "{}{}",
        removed.stdout,
        removed.stderr
    );
    for f in ["skills.json", "skills.lock.json"] {
        let text = std::fs::read_to_string(project.join(f)).unwrap();
        assert!(!text.contains("\"tone\""), "{f}: {text}");
    }
    for p in [".agents/skills/tone", ".claude/skills/tone"] {
        assert!(std::fs::symlink_metadata(project.join(p)).is_err(), "{p}");
    }
}

#[test]
fn a_sync_is_all_or_nothing_under_refusal_and_kill_9() {
    let (_registry, publisher, acme) = published(&["alpha", "omega"], &["1.0.0", "1.1.0"]);
    let home = Home::new();
    let project = project_dir(&home, "app");
    home.skillc_in(
        &project,
        &[
            "add",
            &format!("{acme}/alpha:1.0.0"),
            &format!("{acme}/omega:1.0.0"),
        ],
    )
    .expect_code(0);
    let pin = |version: &str| {
        let manifest = serde_json::json!({"skills": [
            {"name": "alpha", "source": format!("{acme}/alpha"), "version": version},
            {"name": "omega", "source": format!("{acme}/omega"), "version": version},
        ]});
        std::fs::write(project.join("skills.json"), manifest.to_string()).unwrap();
    };
    pin("1.1.0");
    home.skillc_in(&project, &["lock"]).expect_code(0);

    // The last skill is refused by the trust policy: the first is not
    // changed either.
    let key = publisher.root().join("k");
    let keyed = Home::with_env(&[("COSIGN_PASSWORD", OsStr::new("pw"))]);
    let fingerprint = keyed
        .skillc(&[
            "--json",
            "keygen",
            "--output-key-prefix",
            key.to_str().unwrap(),
        ])
        .expect_code(0)
        .json()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    home.write_config(&format!(
        "trust:\n  scopes:\n    {acme}/omega: {{type: signed, keys: [{}]}}\n",
        key.with_extension("pub").display()
    ));
    home.skillc(&["daemon", "stop"]).expect_code(0);
    let refused = home.skillc_in(&project, &["sync"]);
    assert_ne!(refused.code, Some(0), "{}", refused.stdout);
    assert!(refused.stderr.contains("omega"), "{}", refused.stderr);
    assert_eq!(
        version_in(&project, "alpha").as_deref(),
        Some("1.0.0"),
        "nothing of the set moved"
    );
    assert_eq!(version_in(&project, "omega").as_deref(), Some("1.0.0"));
    home.write_config("");
    home.skillc(&["daemon", "stop"]).expect_code(0);

    // kill -9 after the first swap of two: at restart, both are as before.
    let mut daemon = home.start_slow_daemon(3000);
    let mut syncing = home.command("skillc");
    let mut syncing = syncing
        .current_dir(&project)
        .args(["sync"])
        .spawn()
        .unwrap();
    let omega = project.join(".agents/skills/omega");
    wait_until(
        "alpha swapped, omega moved aside",
        Duration::from_secs(30),
        || version_in(&project, "alpha").as_deref() == Some("1.1.0") && !omega.exists(),
    );
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let _ = syncing.wait();
    home.start_daemon();
    assert_eq!(
        version_in(&project, "alpha").as_deref(),
        Some("1.0.0"),
        "the swap made was undone"
    );
    assert_eq!(version_in(&project, "omega").as_deref(), Some("1.0.0"));
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    for install in list["installs"].as_array().unwrap() {
        assert_eq!(install["version"], "1.0.0", "{list:#}");
        assert_eq!(install["status"], "ok", "{list:#}");
    }
    // And a sync now completes.
    home.skillc_in(&project, &["sync"]).expect_code(0);
    assert_eq!(version_in(&project, "omega").as_deref(), Some("1.1.0"));

    // Signed: the lock records the key that verified omega, and a sync
    // insists on it.
    keyed
        .skillc(&[
            "sign",
            &format!("{acme}/omega:1.1.0"),
            "--key",
            key.with_extension("key").to_str().unwrap(),
        ])
        .expect_code(0);
    home.write_config(&format!(
        "trust:\n  scopes:\n    {acme}/omega: {{type: signed, keys: [{}]}}\n",
        key.with_extension("pub").display()
    ));
    home.skillc(&["daemon", "stop"]).expect_code(0);
    home.skillc_in(&project, &["lock", "--update", "omega"])
        .expect_code(0);
    let lock = lock_json(&project);
    let omega = lock["skills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "omega")
        .unwrap();
    assert_eq!(omega["signer"], fingerprint.as_str(), "{lock:#}");
    let text = std::fs::read_to_string(project.join("skills.lock.json")).unwrap();
    std::fs::write(
        project.join("skills.lock.json"),
        text.replace(&fingerprint, &format!("sha256:{}", "0".repeat(64))),
    )
    .unwrap();
    std::fs::remove_dir_all(project.join(".agents/skills/omega")).unwrap();
    let refused = home.skillc_in(&project, &["sync", "--frozen"]);
    assert_ne!(refused.code, Some(0), "{}", refused.stdout);
    assert!(
        refused
            .stderr
            .contains("was locked as signed by key sha256:000"),
        "{}",
        refused.stderr
    );
    assert!(
        !project.join(".agents/skills/omega").exists(),
        "nothing was written"
    );
}

#[test]
fn dry_runs_gone_digests_and_two_syncs_at_once() {
    let (_registry, _publisher, acme) = published(&["alpha", "omega"], &["1.0.0"]);
    let home = Home::new();
    let project = project_dir(&home, "app");
    let manifest = serde_json::json!({"skills": [
        {"name": "alpha", "source": format!("{acme}/alpha")},
        {"name": "omega", "source": format!("{acme}/omega")},
    ]});
    std::fs::write(project.join("skills.json"), manifest.to_string()).unwrap();
    home.skillc_in(&project, &["lock"]).expect_code(0);

    // --dry-run says what would change and changes nothing.
    let dry = home.skillc_in(&project, &["--json", "sync", "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    let actions: Vec<(String, String)> = dry.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("alpha".to_string(), "install".to_string()),
            ("omega".into(), "install".into())
        ]
    );
    assert!(
        !project.join(".agents").exists(),
        "a dry run writes nothing"
    );

    // Two syncs of one project at once: the second waits, both succeed.
    let spawn = || {
        home.command("skillc")
            .current_dir(&project)
            .args(["-q", "sync"])
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    assert_eq!(version_in(&project, "alpha").as_deref(), Some("1.0.0"));
    assert_eq!(version_in(&project, "omega").as_deref(), Some("1.0.0"));

    // A locked digest nobody has: the error names it and the way out, and
    // nothing changes.
    let clean = Home::new();
    let dir = project_dir(&clean, "app");
    std::fs::copy(project.join("skills.json"), dir.join("skills.json")).unwrap();
    let lock = std::fs::read_to_string(project.join("skills.lock.json")).unwrap();
    let real = lock_json(&project)["skills"][0]["source"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let gone = format!("sha256:{}", "e".repeat(64));
    std::fs::write(dir.join("skills.lock.json"), lock.replace(&real, &gone)).unwrap();
    let failed = clean.skillc_in(&dir, &["sync", "--frozen"]);
    assert_ne!(failed.code, Some(0), "{}", failed.stdout);
    assert!(
        failed.stderr.contains(&gone) && failed.stderr.contains("skillc lock --update alpha"),
        "{}",
        failed.stderr
    );
    assert!(!dir.join(".agents/skills/omega").exists(), "all or nothing");
}
