//! Hardening, first half: what an image or a reference can make skilld do.
//! Hostile layers (symlink chains in every entry order) pushed to the real
//! registry are refused by install and `pull -o` with nothing written; the
//! watcher never follows links; every spelling of a registry meets the
//! rule written for it; malformed scopes stop the daemon with the line; a
//! re-tagged image meets the rule of where it came from.

use std::path::Path;

use skilld_tests::helper::raw::push_image;
use skilld_tests::helper::skills::{install_hello, publish};
use skilld_tests::helper::{Home, Registry, Variant, wait_until};

/// (name, type, link target, data)
type Entry<'a> = (&'a str, tar::EntryType, &'a str, &'a [u8]);

/// A gzipped tar of raw entries (names written into the header as given).
fn layer(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, kind, link, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(*kind);
        h.set_mode(if *kind == tar::EntryType::Symlink {
            0o777
        } else {
            0o644
        });
        h.set_size(data.len() as u64);
        if !link.is_empty() {
            h.set_link_name(link).unwrap();
        }
        h.set_cksum();
        builder.append(&h, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

const SKILL_MD: &[u8] = b"---\nname: chain\ndescription: A skill with a symlink chain.\n---\nHi.\n";

/// Every file and folder under `dir` (links not followed), relative.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            out.push(e.path().strip_prefix(dir).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn symlink_chains_are_refused_in_every_entry_order_by_install_and_pull() {
    use tar::EntryType::{Regular, Symlink};
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let deep = "u/u/u/u/u/u/u/u/u/u/u/u/../../../../../../../../../../../..";
    let chain: [Entry<'_>; 3] = [
        ("u", Symlink, ".", b""),
        ("rootfs", Symlink, deep, b""),
        ("parent", Symlink, "u/..", b""),
    ];
    // (case, entries, what the refusal says)
    let mut cases: Vec<(String, Vec<Entry<'_>>, &str)> = Vec::new();
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let mut entries = vec![("SKILL.md", Regular, "", SKILL_MD)];
        entries.extend(order.iter().map(|&i| chain[i]));
        cases.push((
            format!("chain-{}{}{}", order[0], order[1], order[2]),
            entries,
            "outside the skill",
        ));
    }
    cases.push((
        "chain-first".into(),
        vec![
            ("parent", Symlink, "u/..", b""),
            ("u", Symlink, ".", b""),
            ("SKILL.md", Regular, "", SKILL_MD),
        ],
        "outside the skill",
    ));
    cases.push((
        "loop".into(),
        vec![
            ("SKILL.md", Regular, "", SKILL_MD),
            ("a", Symlink, "b", b""),
            ("b", Symlink, "a", b""),
        ],
        "loop",
    ));
    cases.push((
        "into-absolute".into(),
        vec![
            ("SKILL.md", Regular, "", SKILL_MD),
            ("x", Symlink, "y/passwd", b""),
            ("y", Symlink, "/etc", b""),
        ],
        "outside the skill",
    ));
    let home = Home::new();
    for (i, (case, entries, message)) in cases.iter().enumerate() {
        push_image(&host, "hostile/chain", case, &layer(entries));
        let reference = format!("{host}/hostile/chain:{case}");
        let out = home.root().join(format!("out-{case}"));
        let run = home
            .skillc(&["install", &reference, "-o", out.to_str().unwrap()])
            .expect_code(1);
        assert!(run.stderr.contains(message), "{case}: {}", run.stderr);
        assert!(
            tree(&out).is_empty(),
            "{case}: install left {:?}",
            tree(&out)
        );
        let pulled = home.root().join(format!("pulled-{case}"));
        let run = home
            .skillc(&["pull", &reference, "-o", pulled.to_str().unwrap()])
            .expect_code(1);
        assert!(run.stderr.contains(message), "{case}: {}", run.stderr);
        assert!(
            tree(&pulled).is_empty(),
            "{case}: pull left {:?}",
            tree(&pulled)
        );
        if i == 0 {
            let run = home
                .skillc(&["install", &reference, "-t", "claude"])
                .expect_code(1);
            assert!(run.stderr.contains(message), "{}", run.stderr);
            let claude = home.user_home().join(".claude/skills");
            assert!(tree(&claude).is_empty(), "{:?}", tree(&claude));
        }
    }
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(list["installs"], serde_json::json!([]));
}

/// inotify watches the daemon holds (`inotify wd:` lines of its fdinfo).
fn inotify_watches(pid: u64) -> usize {
    let mut count = 0;
    for fd in std::fs::read_dir(format!("/proc/{pid}/fdinfo"))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(fd.path()).unwrap_or_default();
        count += text
            .lines()
            .filter(|l| l.starts_with("inotify wd:"))
            .count();
    }
    count
}

#[test]
fn the_watcher_follows_no_links_and_watches_only_skilld_folders() {
    let home = Home::new();
    let target = home.root().join("skills");
    install_hello(&home, &target);
    let pid = home.skillc(&["--json", "status"]).expect_code(0).json()["pid"]
        .as_u64()
        .unwrap();
    // A hand edit adds a link to a large tree; a folder beside the skill,
    // not skilld's, links there too.
    std::os::unix::fs::symlink("/usr", target.join("hello-world/usr")).unwrap();
    std::fs::create_dir(target.join("mine")).unwrap();
    std::os::unix::fs::symlink("/usr", target.join("mine/usr")).unwrap();
    // The drift check sees the edit (so the watch is live), and a second
    // install makes the watcher look at its folders again.
    wait_until(
        "the edit to be noticed",
        std::time::Duration::from_secs(10),
        || home.skillc(&["--json", "list"]).json()["installs"][0]["status"] == "modified",
    );
    home.skillc(&[
        "install",
        "examples/hello-world:1.0.0-draft",
        "-o",
        home.root().join("other").to_str().unwrap(),
    ])
    .expect_code(0);
    let watches = inotify_watches(pid);
    // Two install folders (and their subfolders) and two target folders:
    // a handful, not the thousands of folders under /usr.
    assert!(watches > 0 && watches < 20, "{watches} inotify watches");
}

/// A skill author's home that published `tool` at `versions` under
/// `<host>/<namespace>` for each `(namespace, version)`, and a key pair
/// `team.{key,pub}` nothing is signed with.
fn author_with_key(host: &str, published: &[(&str, &str)]) -> (Home, std::path::PathBuf) {
    let author = Home::with_env(&[("COSIGN_PASSWORD", "pw".as_ref())]);
    for (namespace, version) in published {
        publish(
            &author,
            &format!("{host}/{namespace}"),
            "tool",
            version,
            "published",
        );
    }
    let key = author.root().join("team");
    author
        .skillc(&["keygen", "--output-key-prefix", key.to_str().unwrap()])
        .expect_code(0);
    (author, key)
}

#[test]
fn every_spelling_of_a_registry_meets_the_rule_written_for_it() {
    let registry = Registry::start(Variant::Anonymous);
    let (host, port) = (registry.host(), registry.port());
    let (_author, key) = author_with_key(&host, &[("acme", "1.1.0"), ("blocked", "1.0.0")]);
    let home = Home::new();
    home.write_config(&format!(
        "trust:\n  scopes:\n    127.0.0.1:{port}/acme: {{type: signed, keys: [{}]}}\n    127.0.0.1:{port}/blocked: {{type: reject}}\n",
        key.with_extension("pub").display()
    ));
    // (reference as a user may write it, the rule it must meet)
    let signed = format!("scopes.\"127.0.0.1:{port}/acme\"");
    let rejected = format!("scopes.\"127.0.0.1:{port}/blocked\"");
    let cases = [
        (format!("127.0.0.1:{port}/acme/tool:1.1.0"), &signed),
        (format!("127.0.0.1:0{port}/acme/tool:1.1.0"), &signed),
        (format!("localhost:{port}/acme/tool:1.1.0"), &signed),
        (format!("LOCALHOST:{port}/acme/tool:1.1.0"), &signed),
        (format!("127.0.0.1:{port}/blocked/tool:1.0.0"), &rejected),
        (format!("localhost:{port}/blocked/tool:1.0.0"), &rejected),
        (format!("127.0.0.1:00{port}/blocked/tool:1.0.0"), &rejected),
    ];
    let out = home.root().join("out");
    for (reference, rule) in &cases {
        let run = home
            .skillc(&["--json", "install", reference, "-o", out.to_str().unwrap()])
            .expect_code(1);
        let error = &run.json()["error"];
        assert_eq!(error["code"], "untrusted", "{reference}: {}", run.stdout);
        assert_eq!(error["details"]["rule"], rule.as_str(), "{reference}");
        assert!(tree(&out).is_empty(), "{reference}: {:?}", tree(&out));
    }
    // Spellings with no single identity are refused, naming the registry.
    for reference in [
        format!("127.1:{port}/acme/tool:1.1.0"),
        format!("127.0.0.1.:{port}/acme/tool:1.1.0"),
        "127.0.0.1:0/acme/tool:1.1.0".to_string(),
    ] {
        let run = home
            .skillc(&["install", &reference, "-o", out.to_str().unwrap()])
            .expect_code(1);
        assert!(
            run.stderr.contains("registry"),
            "{reference}: {}",
            run.stderr
        );
    }
    // A character outside [a-z0-9._-] inside a name once spun a daemon
    // thread for ever: now a prompt refusal, and the daemon still answers.
    for reference in ["acme/toOl:1", "acme/to%ol:1"] {
        let run = home
            .skillc(&["install", reference, "-o", out.to_str().unwrap()])
            .expect_code(1);
        assert!(
            run.stderr.contains("name component"),
            "{reference}: {}",
            run.stderr
        );
    }
    home.skillc(&["--no-autostart", "status"]).expect_code(0);
    // `upgrade --all` has nothing to move: nothing was installed.
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(list["installs"], serde_json::json!([]));
}

#[test]
fn malformed_scopes_stop_the_daemon_with_the_line() {
    // (scope as written, what the message says)
    let cases = [
        ("127.0.0.1:5000/ACME", "not a repository name component"),
        ("quay.io/aCme", "not a repository name component"),
        ("http://127.0.0.1:5000/acme", "scheme"),
        ("docker://quay.io/acme", "scheme"),
        ("127.0.0.1:5000/acme/*", "wildcard"),
        ("\" quay.io/acme\"", "spaces"),
        ("127.1:5000/acme", "standard a.b.c.d"),
        ("quay.io/acme:1.0", "tag"),
    ];
    for (scope, message) in cases {
        let home = Home::new();
        home.write_config(&format!(
            "trust:\n  default: {{type: accept}}\n  scopes:\n    quay.io/fine: {{type: reject}}\n    {scope}: {{type: reject}}\n"
        ));
        let mut daemon = home.spawn_daemon(&[]);
        let code = daemon.wait_exit(std::time::Duration::from_secs(10));
        assert_eq!(code, Some(1), "{scope}");
        let stderr = daemon.stderr();
        assert!(stderr.contains("config.yaml:5:"), "{scope}: {stderr}");
        assert!(stderr.contains(message), "{scope}: {stderr}");
    }
    // Two spellings of one scope: refused, at the second one's line.
    let home = Home::new();
    home.write_config(
        "trust:\n  scopes:\n    127.0.0.1:5000/acme: {type: signed, keys: [k.pub]}\n    LOCALHOST:5000/acme: {type: accept}\n",
    );
    let mut daemon = home.spawn_daemon(&[]);
    assert_eq!(
        daemon.wait_exit(std::time::Duration::from_secs(10)),
        Some(1)
    );
    let stderr = daemon.stderr();
    assert!(stderr.contains("config.yaml:4:"), "{stderr}");
    assert!(stderr.contains("name the same scope"), "{stderr}");
}

#[test]
fn a_retagged_image_meets_the_rule_of_where_it_came_from() {
    let registry = Registry::start(Variant::Anonymous);
    let (host, port) = (registry.host(), registry.port());
    let (_author, key) = author_with_key(&host, &[("acme", "1.0.0")]);
    let home = Home::new();
    home.write_config(&format!(
        "trust:\n  scopes:\n    127.0.0.1:{port}/acme: {{type: signed, keys: [{}]}}\n",
        key.with_extension("pub").display()
    ));
    let pulled = format!("{host}/acme/tool:1.0.0");
    // Into the store only: allowed, nothing is written to disk.
    home.skillc(&["pull", &pulled]).expect_code(0);
    let out = home.root().join("out");
    for alias in [
        "mine/tool:1.0.0".to_string(),
        format!("{host}/free/tool:1.0.0"),
    ] {
        home.skillc(&["tag", &pulled, &alias]).expect_code(0);
        let run = home
            .skillc(&["--json", "install", &alias, "-o", out.to_str().unwrap()])
            .expect_code(1);
        let error = &run.json()["error"];
        assert_eq!(error["code"], "untrusted", "{alias}: {}", run.stdout);
        assert_eq!(
            error["details"]["rule"],
            format!("scopes.\"127.0.0.1:{port}/acme\"")
        );
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("was pulled from"),
            "{error}"
        );
        assert!(tree(&out).is_empty(), "{alias}: {:?}", tree(&out));
    }
    // A skill built here keeps its own path as its scope: it installs.
    install_hello(&home, &out);
}
