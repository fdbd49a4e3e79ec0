//! Hardening, second half: what a crash, a full disk, a hostile path or a
//! crowd of clients can do to skilld's state. Nothing a crash leaves is
//! seen by an agent or survives a restart; a failed final write leaves disk
//! and index agreeing at once; FIFOs and devices are refused without a hang
//! or an echo; one folder has one identity and one writer; remove, rollback
//! and pin act on the install the user names and report each outcome.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use skilld_tests::helper::skills::{HELLO, build_hello, history, publish};
use skilld_tests::helper::tools::testdata;
use skilld_tests::helper::{Home, Registry, Run, Variant, wait_until};

fn installs(home: &Home) -> Vec<serde_json::Value> {
    home.skillc(&["--json", "list"]).expect_code(0).json()["installs"]
        .as_array()
        .unwrap()
        .clone()
}

/// Names in `dir` (not recursive), sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// Folders one level down in `dir` that an agent would load (they hold a
/// SKILL.md), other than `allowed`.
fn loadable_besides(dir: &Path, allowed: &str) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n != allowed && dir.join(n).join("SKILL.md").exists())
        .collect()
}

/// A registry holding `acme/tool` 1.0.0 and 1.1.0, both published (and the
/// author's home, which must outlive the test's use of the registry).
fn two_versions() -> (Registry, Home) {
    let registry = Registry::start(Variant::Anonymous);
    let author = Home::new();
    for version in ["1.0.0", "1.1.0"] {
        publish(
            &author,
            &format!("{}/acme", registry.host()),
            "tool",
            version,
            "published",
        );
    }
    (registry, author)
}

#[test]
fn a_crash_mid_install_leaves_nothing_an_agent_loads_and_nothing_after_restart() {
    let (registry, _author) = two_versions();
    let host = registry.host();
    let home = Home::with_env(&[("SKILLD_TEST_SWAP_DELAY_MS", "3000".as_ref())]);
    let target = home.root().join("skills");
    let mut daemon = home.start_daemon();
    home.skillc(&[
        "install",
        &format!("{host}/acme/tool:1.0.0"),
        "-o",
        target.to_str().unwrap(),
    ])
    .expect_code(0);
    // Kill -9 in the middle of the next swap.
    let mut upgrade = home.command("skillc");
    upgrade.args([
        "install",
        &format!("{host}/acme/tool:1.1.0"),
        "-o",
        target.to_str().unwrap(),
    ]);
    let mut child = upgrade.spawn().unwrap();
    wait_until(
        "the new version to be staged",
        Duration::from_secs(20),
        || {
            names(&target.join(".skilld-staging"))
                .iter()
                .any(|n| n.starts_with("old-"))
        },
    );
    // While it is staged, no agent sees anything but the skill itself.
    assert_eq!(loadable_besides(&target, "tool"), Vec::<String>::new());
    daemon.signal(rustix::process::Signal::KILL);
    daemon.wait_exit(Duration::from_secs(10));
    let _ = child.wait();
    // Leftovers of older versions' crashes beside the skills, too.
    for old in [".skilld-staged-tool-1-2", ".skilld-old-tool-1-3"] {
        std::fs::create_dir(target.join(old)).unwrap();
        std::fs::write(target.join(old).join("SKILL.md"), "half").unwrap();
    }
    let _daemon = home.start_daemon();
    assert_eq!(names(&target), ["tool"], "everything skilld left is gone");
    let list = installs(&home);
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0]["version"], "1.0.0",
        "the interrupted upgrade was undone"
    );
    assert_eq!(list[0]["status"], "ok");
}

/// Run `sql` on the daemon's index (SQLite, shared with the running daemon).
fn sql(home: &Home, sql: &str) {
    let run = Run::of(Command::new("python3").args([
        "-c",
        "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()",
        home.skilld_home().join("index.db").to_str().unwrap(),
        sql,
    ]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn a_failed_final_index_write_is_undone_before_the_answer() {
    let (registry, _author) = two_versions();
    let host = registry.host();
    let home = Home::new();
    let target = home.root().join("skills");
    home.skillc(&[
        "install",
        &format!("{host}/acme/tool:1.0.0"),
        "-o",
        target.to_str().unwrap(),
    ])
    .expect_code(0);
    // The index refuses the final write, as a full disk does.
    sql(
        &home,
        "CREATE TRIGGER full BEFORE INSERT ON installs BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
    );
    let run = home
        .skillc(&[
            "install",
            &format!("{host}/acme/tool:1.1.0"),
            "-o",
            target.to_str().unwrap(),
        ])
        .expect_code(1);
    assert!(run.stderr.contains("undone on disk"), "{}", run.stderr);
    let card = std::fs::read_to_string(target.join("tool/skill.yaml")).unwrap();
    assert!(
        card.contains("version: 1.0.0"),
        "the old version is in place: {card}"
    );
    let list = installs(&home);
    assert_eq!(
        (list.len(), list[0]["version"].as_str()),
        (1, Some("1.0.0"))
    );
    assert_eq!(list[0]["status"], "ok", "disk and index agree");
    assert_eq!(names(&target), ["tool"]);
    sql(&home, "DROP TRIGGER full;");
    home.skillc(&[
        "install",
        &format!("{host}/acme/tool:1.1.0"),
        "-o",
        target.to_str().unwrap(),
    ])
    .expect_code(0);
    assert_eq!(installs(&home)[0]["version"], "1.1.0");
}

#[test]
fn fifos_and_devices_are_refused_at_once_and_never_echoed() {
    let marker = "skilld-secret-marker-7f3a";
    let home = Home::with_env(&[("SKILLD_TEST_MARKER", marker.as_ref())]);
    let fifo = home.root().join("pipe.tar");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let run = home
        .skillc(&["load", fifo.to_str().unwrap()])
        .expect_code(1);
    assert!(
        run.stderr.contains("a FIFO, not a regular file"),
        "{}",
        run.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    let run = home.skillc(&["load", "/dev/urandom"]).expect_code(1);
    assert!(
        run.stderr.contains("a device, not a regular file"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.len() < 400, "{}", run.stderr);
    let run = home.skillc(&["load", "/proc/self/environ"]).expect_code(1);
    assert!(
        !run.stderr.contains(marker),
        "the environment leaked: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("not an OCI image layout archive"),
        "{}",
        run.stderr
    );
    // A FIFO as SKILL.md is a problem, not a hang.
    let skill = home.root().join("piped");
    std::fs::create_dir(&skill).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(skill.join("SKILL.md"))
            .status()
            .unwrap()
            .success()
    );
    let run = home.skillc(&["validate", skill.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // The daemon stops at once: nothing blocks it.
    let started = Instant::now();
    home.skillc(&["daemon", "stop"]).expect_code(0);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn one_folder_under_several_spellings_is_one_install() {
    let home = Home::new();
    build_hello(&home);
    let real = home.root().join("t");
    std::fs::create_dir(&real).unwrap();
    std::os::unix::fs::symlink(&real, home.root().join("link")).unwrap();
    let spellings = [
        real.join("o"),
        home.root().join("t/../t/o"),
        home.root().join("link/o"),
        home.root().join("t/./o"),
    ];
    for dir in &spellings {
        home.skillc(&["install", HELLO, "-o", dir.to_str().unwrap(), "--force"])
            .expect_code(0);
    }
    let list = installs(&home);
    assert_eq!(list.len(), 1, "{list:?}");
    let path = PathBuf::from(list[0]["path"].as_str().unwrap());
    assert_eq!(path, real.canonicalize().unwrap().join("o/hello-world"));
    assert!(
        !home.skilld_home().join("backups").exists(),
        "skilld never backs up its own copy"
    );
    // `install -o FILE` is the caller's mistake, said as such.
    let file = home.root().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let run = home
        .skillc(&["--json", "install", HELLO, "-o", file.to_str().unwrap()])
        .expect_code(1);
    assert_eq!(
        run.json()["error"]["code"],
        "invalid_request",
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("not a folder"), "{}", run.stdout);
}

#[test]
fn parallel_installs_into_one_folder_each_get_a_true_answer() {
    let home = Home::new();
    build_hello(&home);
    let dir = home.root().join("skills");
    home.skillc(&["status"]).expect_code(0);
    for force in [false, true] {
        let runs: Vec<Run> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..10)
                .map(|_| {
                    s.spawn(|| {
                        let mut args = vec!["install", HELLO, "-o", dir.to_str().unwrap()];
                        if force {
                            args.push("--force");
                        }
                        home.skillc(&args)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for run in &runs {
            assert_eq!(run.code, Some(0), "force={force}: {}", run.stderr);
        }
        assert_eq!(installs(&home).len(), 1);
        assert_eq!(names(&dir), ["hello-world"]);
        assert!(
            !home.skilld_home().join("backups").exists(),
            "force={force}"
        );
    }
}

#[test]
fn remove_rollback_and_pin_act_on_the_install_named_and_report_each() {
    let home = Home::new();
    build_hello(&home);
    let [a, b, c] = ["a", "b", "c"].map(|d| home.root().join(d));
    for dir in [&a, &b, &c] {
        home.skillc(&["install", HELLO, "-o", dir.to_str().unwrap()])
            .expect_code(0);
    }
    // One install, by its folder.
    let run = home
        .skillc(&["--json", "pin", "hello-world", "-o", a.to_str().unwrap()])
        .expect_code(0);
    assert_eq!(run.json()["changed"].as_array().unwrap().len(), 1);
    let run = home
        .skillc(&[
            "remove",
            "hello-world",
            "-t",
            "dir",
            "-o",
            a.to_str().unwrap(),
        ])
        .expect_code(0);
    assert!(
        run.stdout.contains(&a.display().to_string()),
        "{}",
        run.stdout
    );
    assert!(!a.join("hello-world").exists());
    assert!(b.join("hello-world").exists() && c.join("hello-world").exists());
    // Several at once: the edited one is kept and reported, the other goes.
    std::fs::write(b.join("hello-world/SKILL.md"), "edited by hand").unwrap();
    let run = home.skillc(&["--json", "remove", "hello-world", "-t", "dir"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let answer = run.json();
    assert_eq!(answer["changed"].as_array().unwrap().len(), 1);
    assert_eq!(answer["failed"][0]["code"], "conflict");
    assert!(
        answer["failed"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with(b.canonicalize().unwrap().to_str().unwrap()),
        "{answer}"
    );
    assert!(!c.join("hello-world").exists());
    assert!(b.join("hello-world").exists(), "the hand edit is kept");
    let entries = history(&home);
    let removes: Vec<&str> = entries
        .iter()
        .filter(|e| e["action"] == "remove")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        removes.iter().filter(|o| **o == "ok").count(),
        2,
        "{removes:?}"
    );
    assert_eq!(
        removes.iter().filter(|o| **o == "refused").count(),
        1,
        "{removes:?}"
    );
    // No earlier version: refused, and recorded.
    let run = home
        .skillc(&["rollback", "hello-world", "-o", b.to_str().unwrap()])
        .expect_code(1);
    assert!(run.stderr.contains("no earlier version"), "{}", run.stderr);
    assert!(
        history(&home)
            .iter()
            .any(|e| e["action"] == "rollback" && e["outcome"] == "refused"),
        "the refused rollback is in the history"
    );
    // Nothing at that folder: not found, naming it.
    let run = home
        .skillc(&["rollback", "hello-world", "-o", a.to_str().unwrap()])
        .expect_code(1);
    assert!(run.stderr.contains("is installed at"), "{}", run.stderr);
}

#[test]
fn an_out_of_range_source_date_epoch_is_a_clear_error() {
    let home = Home::with_env(&[("SOURCE_DATE_EPOCH", "253402300800".as_ref())]);
    let run = home
        .skillc(&[
            "--json",
            "build",
            testdata().join("valid/hello-world").to_str().unwrap(),
        ])
        .expect_code(1);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "invalid_request", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("253402300799"),
        "{error}"
    );
    home.skillc(&["--no-autostart", "status"]).expect_code(0);
}

#[test]
fn an_image_index_and_a_thousand_layers_get_short_true_messages() {
    use skilld_tests::helper::raw::{image_manifest, push, push_image};
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let layer = b"not even a tar";
    let child = push_image(&host, "acme/multi", "child", layer);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": child, "size": 1,
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    }))
    .unwrap();
    push(
        &host,
        "acme/multi",
        "1.0.0",
        "application/vnd.oci.image.index.v1+json",
        &index,
        &[],
    );
    let home = Home::new();
    let out = home.root().join("out");
    let run = home
        .skillc(&[
            "install",
            &format!("{host}/acme/multi:1.0.0"),
            "-o",
            out.to_str().unwrap(),
        ])
        .expect_code(1);
    // The index is read (see interop_forms); the size it claims for its
    // manifest is a lie, and the message says which.
    assert!(
        run.stderr
            .contains("the image index says its linux/amd64 manifest"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("is 1 bytes, but the registry sent"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not found"), "{}", run.stderr);
    // A thousand layers: refused, in a message of a few lines.
    let config = skilld_tests::helper::raw::PLAIN_CONFIG;
    let layers: Vec<&[u8]> = vec![&layer[..]; 1000];
    let manifest = image_manifest(config, &layers);
    push(
        &host,
        "acme/layers",
        "1.0.0",
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
        &[config, layer],
    );
    let run = home
        .skillc(&["pull", &format!("{host}/acme/layers:1.0.0")])
        .expect_code(1);
    assert!(run.stderr.contains("1000 layer(s)"), "{}", run.stderr);
    assert!(
        run.stderr.len() < 1000,
        "{} bytes: {}",
        run.stderr.len(),
        run.stderr
    );
}

#[test]
fn installs_recorded_with_an_old_spelling_get_the_canonical_one_at_start() {
    let (registry, _author) = two_versions();
    let (host, port) = (registry.host(), registry.port());
    let home = Home::new();
    let target = home.root().join("skills");
    home.skillc(&[
        "install",
        &format!("{host}/acme/tool:1.0.0"),
        "-o",
        target.to_str().unwrap(),
    ])
    .expect_code(0);
    home.skillc(&["daemon", "stop"]).expect_code(0);
    // As an older skilld recorded an install typed with a leading-zero port.
    sql(
        &home,
        &format!(
            "UPDATE installs SET source_ref = '127.0.0.1:0{port}/acme/tool:1.0.0', registry = '127.0.0.1:0{port}', repository = '127.0.0.1:0{port}/acme/tool';"
        ),
    );
    let list = installs(&home);
    assert_eq!(list[0]["source"], format!("{host}/acme/tool:1.0.0"));
}
