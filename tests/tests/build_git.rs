//! `skillc build GIT_URL` and `skillc build --all`: skills fetched by the
//! daemon from a real git server on a loopback port (git's own
//! `git http-backend`, with a token), built with exact provenance and the
//! commit's time, reproducibly; whole trees built and pushed to a real
//! registry, one failing skill not stopping the others.

use serde_json::Value;
use skilld_tests::helper::git::{self, GitServer, TOKEN, USER};
use skilld_tests::helper::{Home, Registry, Variant};

fn skill_md(name: &str, description: &str) -> String {
    format!(
        "---\nname: {name}\ndescription: {description}\n---\n# {name}\n\nDo the {name} thing.\n"
    )
}

/// A repository of skills: two under skills/, one under .claude/skills,
/// one vendored (never built), one without a name (fails).
fn skills_repository() -> tempfile::TempDir {
    let alpha = skill_md("alpha", "First skill.");
    let beta = skill_md("beta", "Second skill.");
    let gamma = skill_md("gamma", "Third skill.");
    git::work_repository(&[
        ("README.md", "# team skills\n"),
        ("skills/alpha/SKILL.md", &alpha),
        ("skills/alpha/scripts/run.sh", "#!/bin/sh\necho alpha\n"),
        ("skills/beta/SKILL.md", &beta),
        (".claude/skills/gamma/SKILL.md", &gamma),
        (
            "node_modules/dep/SKILL.md",
            &skill_md("vendored", "Never built."),
        ),
    ])
}

/// A home whose ~/.git-credentials holds the server's token.
fn home_with_token(server: &GitServer) -> Home {
    let home = Home::new();
    std::fs::write(
        home.user_home().join(".git-credentials"),
        format!("http://{USER}:{TOKEN}@{}\n", server.addr()),
    )
    .unwrap();
    home
}

fn build_json(home: &Home, args: &[&str]) -> Value {
    let mut all = vec!["--json", "build"];
    all.extend_from_slice(args);
    home.skillc(&all).expect_code(0).json()
}

/// No file under the home (the daemon's log, index, store) holds `secret`.
fn assert_nowhere(home: &Home, secret: &str) {
    fn walk(dir: &std::path::Path, secret: &[u8]) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                walk(&path, secret);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_default();
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret),
                    "{} holds the token",
                    path.display()
                );
            }
        }
    }
    walk(&home.skilld_home(), secret.as_bytes());
}

#[test]
fn build_from_git_by_ref_and_path_with_exact_provenance() {
    let work = skills_repository();
    let first = git::git_in(work.path(), &["rev-parse", "HEAD"]);
    git::git_in(work.path(), &["tag", "v1"]);
    let second = git::commit_files(
        work.path(),
        &[(
            "skills/alpha/SKILL.md",
            &skill_md("alpha", "Changed on main."),
        )],
        "second",
    );
    let server = GitServer::start_with_token();
    server.publish("team-skills.git", work.path());
    let url = server.url("team-skills.git");
    let home = home_with_token(&server);

    // By tag: the first commit's alpha, with where it came from.
    let alpha_at_v1 = [
        url.as_str(),
        "--ref",
        "v1",
        "--path",
        "skills/alpha",
        "-t",
        "acme/alpha",
    ];
    let built = build_json(&home, &alpha_at_v1);
    assert_eq!(built["reference"], "acme/alpha:0.1.0-draft");
    assert_eq!(
        built["provenance"],
        serde_json::json!({"source": url, "commit": first, "path": "skills/alpha"})
    );
    let inspected = home
        .skillc(&["--json", "inspect", "acme/alpha:0.1.0-draft"])
        .expect_code(0)
        .json();
    let a = &inspected["annotations"];
    assert_eq!(a["org.opencontainers.image.source"], url.as_str());
    assert_eq!(a["org.opencontainers.image.revision"], first.as_str());
    assert_eq!(a["org.opencontainers.image.description"], "First skill.");
    assert_eq!(
        a["org.opencontainers.image.created"], "2026-05-01T10:00:00Z",
        "SOURCE_DATE_EPOCH defaults to the commit's time"
    );

    // By commit id: the same commit, the same image.
    let by_id = build_json(
        &home,
        &[
            &url,
            "--ref",
            &first,
            "--path",
            "skills/alpha",
            "-t",
            "acme/alpha:by-id",
        ],
    );
    assert_eq!(by_id["digest"], built["digest"]);

    // The default branch: the second commit.
    let head = build_json(
        &home,
        &[&url, "--path", "/skills/alpha/", "-t", "acme/alpha:head"],
    );
    assert_eq!(head["provenance"]["commit"], second.as_str());
    assert_ne!(head["digest"], built["digest"]);

    // Reproducible: another machine (another home, another clone) builds
    // the same digest from the same commit.
    let other = home_with_token(&server);
    let again = build_json(&other, &alpha_at_v1);
    assert_eq!(again["digest"], built["digest"]);
    assert_eq!(again["layer_digest"], built["layer_digest"]);

    // A file:// URL of the same repository: the same files, its own
    // provenance.
    let bare = server.root.path().join("team-skills.git");
    let file_url = format!("file://{}", bare.display());
    let local = build_json(
        &home,
        &[
            &file_url,
            "--ref",
            "v1",
            "--path",
            "skills/alpha",
            "-t",
            "acme/alpha:file",
        ],
    );
    assert_eq!(local["provenance"]["source"], file_url.as_str());
    assert_eq!(local["provenance"]["commit"], first.as_str());
    assert_eq!(local["layer_digest"], built["layer_digest"]);

    // Every request that reached git carried the token; none was logged
    // or recorded, and no checkout is left behind.
    let asked = server.asked();
    assert!(
        asked
            .iter()
            .any(|a| a.status == 200 && a.authorization.is_some())
    );
    assert_nowhere(&home, TOKEN);
    assert_nowhere(&other, TOKEN);

    // Human output says where it came from.
    let human = home
        .skillc(&["build", &url, "--ref", "v1", "--path", "skills/beta"])
        .expect_code(0);
    assert!(
        human
            .stdout
            .contains(&format!("source  {url} at {first}, folder skills/beta")),
        "{}",
        human.stdout
    );
}

#[test]
fn bad_git_sources_fail_with_what_to_do_and_write_nothing() {
    let work = skills_repository();
    let server = GitServer::start_with_token();
    server.publish("team-skills.git", work.path());
    let url = server.url("team-skills.git");
    let home = home_with_token(&server);
    home.start_daemon();
    let images_before = home.skillc(&["--json", "images"]).expect_code(0).json();

    let fails = |args: &[&str], says: &str| {
        let mut all = vec!["build"];
        all.extend_from_slice(args);
        let run = home.skillc(&all);
        assert_ne!(run.code, Some(0), "{args:?} succeeded");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains(TOKEN));
    };
    fails(
        &[&url, "--ref", "no-such-branch"],
        "has no \"no-such-branch\" (a branch, tag, full ref name or commit id)",
    );
    fails(
        &[&url, "--path", "skills/missing"],
        "has no folder \"skills/missing\"",
    );
    fails(&[&url, "--path", "../../etc"], "must be a relative folder");
    fails(&[&url, "--path", "README.md"], "has no folder");
    fails(&[&url, "--path", "skills"], "SKILL.md");
    fails(&["ext::sh -c id"], "is not a git URL");
    fails(
        &["ext::sh"],
        "remote helpers (`ext::`, `fd::`, …) are not allowed",
    );
    fails(&["http://u:p@git.example.com/r"], "use https");
    fails(&["https://user@-oProxyCommand=x/r"], "cannot fetch");
    fails(&[&url, "--all", "--ref", "nope"], "nope");
    // A folder here takes neither --ref nor --path.
    let here = work.path().to_str().unwrap().to_string();
    fails(
        &[&here, "--ref", "v1"],
        "--ref and --path are for git sources",
    );

    // Without the token: the server's refusal, and no token anywhere.
    let stranger = Home::new();
    let run = stranger.skillc(&["build", &url, "--path", "skills/alpha"]);
    assert_ne!(run.code, Some(0));
    assert!(
        run.stderr.contains(&format!("cannot fetch {url}")),
        "{}",
        run.stderr
    );

    let images_after = home.skillc(&["--json", "images"]).expect_code(0).json();
    assert_eq!(images_before, images_after, "nothing was built");
    // Checkouts go under the daemon's data folder, and are removed.
    let checkouts = home.skilld_home().join("tmp/git");
    assert!(
        checkouts.is_dir(),
        "{} holds the fetches",
        checkouts.display()
    );
    let leftovers: Vec<_> = std::fs::read_dir(&checkouts).unwrap().collect();
    assert!(leftovers.is_empty(), "checkouts left: {leftovers:?}");
}

#[test]
fn build_all_pushes_every_skill_and_reports_the_one_that_fails() {
    let work = skills_repository();
    // One broken skill: SKILL.md without a name.
    git::commit_files(
        work.path(),
        &[(
            "skills/broken/SKILL.md",
            "---\ndescription: no name\n---\nbody\n",
        )],
        "broken",
    );
    let commit = git::git_in(work.path(), &["rev-parse", "HEAD"]);
    let server = GitServer::start_with_token();
    server.publish("team-skills.git", work.path());
    let url = server.url("team-skills.git");
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let home = home_with_token(&server);
    let prefix = format!("{host}/team");

    let run = home.skillc(&["--json", "build", &url, "--all", "-t", &prefix, "--push"]);
    assert_eq!(run.code, Some(1), "one skill failed: {}", run.stderr);
    let all = run.json();
    assert_eq!(
        all["source"],
        serde_json::json!({"source": url, "commit": commit})
    );
    assert_eq!(
        (&all["built"], &all["skipped"], &all["failed"]),
        (&3.into(), &0.into(), &1.into())
    );
    let paths: Vec<&str> = all["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            ".claude/skills/gamma",
            "skills/alpha",
            "skills/beta",
            "skills/broken"
        ],
        "vendored folders are not built"
    );
    let broken = &all["skills"][3];
    assert_eq!(broken["outcome"], "failed");
    assert!(
        broken["problem"].as_str().unwrap().contains("name"),
        "{broken}"
    );
    for skill in &all["skills"].as_array().unwrap()[..3] {
        assert_eq!(skill["outcome"], "built", "{skill}");
        assert_eq!(skill["pushed"], true);
        let reference = skill["reference"].as_str().unwrap();
        assert!(reference.starts_with(&format!("{prefix}/")), "{reference}");
        // In the registry, at that digest; its provenance names its folder.
        let remote = home
            .skillc(&["--json", "inspect", "--remote", reference])
            .expect_code(0)
            .json();
        assert_eq!(remote["digest"], skill["digest"], "{reference}");
        assert_eq!(
            remote["annotations"]["org.opencontainers.image.revision"],
            commit.as_str()
        );
    }

    // Again: nothing new to push; the same lines, `same`, and the summary.
    let again = home.skillc(&["build", &url, "--all", "-t", &prefix, "--push"]);
    assert_eq!(again.code, Some(1));
    assert!(
        again.stdout.contains("same   skills/alpha"),
        "{}",
        again.stdout
    );
    assert!(
        again.stderr.contains("FAILED skills/broken: ")
            && again
                .stderr
                .contains("4 skill(s): 0 built, 3 unchanged, 1 failed"),
        "{}",
        again.stderr
    );

    // A local tree, without the broken skill: exit 0.
    git::git_in(work.path(), &["rm", "-q", "-r", "skills/broken"]);
    let tree = work.path().to_str().unwrap();
    let local = home.skillc(&["--json", "build", tree, "--all"]);
    assert_eq!(local.code, Some(0), "{}", local.stderr);
    let local = local.json();
    assert_eq!(local["failed"], 0);
    assert_eq!(local["skills"].as_array().unwrap().len(), 3);
    assert_eq!(local["source"], Value::Null);
}

#[test]
fn a_hostile_tree_is_refused_and_modes_and_links_are_kept() {
    // A commit whose tree holds a file named `..` (git itself never makes
    // one; `git mktree` writes what it is given), beside a real skill.
    let work = skills_repository();
    let script = r#"set -e
b=$(printf 'pwned\n' | git hash-object -w --stdin)
skill=$(git rev-parse HEAD:skills/alpha)
t=$(printf "100644 blob $b\t..\n040000 tree $skill\tskill\n" | git mktree)
c=$(git commit-tree -m hostile "$t")
git update-ref refs/heads/hostile "$c"
"#;
    git::script_in(work.path(), script);
    // An executable script and a link inside the skill, on main.
    std::os::unix::fs::symlink("run.sh", work.path().join("skills/alpha/scripts/latest.sh"))
        .unwrap();
    git::git_in(work.path(), &["add", "-A"]);
    git::git_in(
        work.path(),
        &["update-index", "--chmod=+x", "skills/alpha/scripts/run.sh"],
    );
    git::git_in(work.path(), &["commit", "-q", "-m", "modes"]);
    let server = GitServer::start();
    server.publish("skills.git", work.path());
    let url = server.url("skills.git");
    let home = Home::new();

    // Only the folder asked for is written: the bad name at the root is
    // not reached from `--path skill`, and is refused from the root.
    let fine = home.skillc(&["build", &url, "--ref", "hostile", "--path", "skill"]);
    assert!(
        fine.stderr
            .contains("differs from the folder name \"skill\""),
        "{}",
        fine.stderr
    );
    let run = home.skillc(&["build", &url, "--ref", "hostile"]);
    assert_ne!(run.code, Some(0));
    assert!(
        run.stderr.contains("refused at") && run.stderr.contains("a file named \"..\""),
        "{}",
        run.stderr
    );
    let checkouts = home.skilld_home().join("tmp/git");
    assert_eq!(std::fs::read_dir(&checkouts).unwrap().count(), 0);
    // The executable bit and the link survive the fetch into the image.
    build_json(&home, &[&url, "--path", "skills/alpha", "-t", "acme/alpha"]);
    let out = home.root().join("out");
    home.skillc(&[
        "install",
        "acme/alpha:0.1.0-draft",
        "-o",
        out.to_str().unwrap(),
    ])
    .expect_code(0);
    use std::os::unix::fs::PermissionsExt as _;
    let script = out.join("alpha/scripts/run.sh");
    let mode = std::fs::metadata(&script).unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0o111, "{mode:o}");
    assert_eq!(
        std::fs::read_link(out.join("alpha/scripts/latest.sh")).unwrap(),
        std::path::Path::new("run.sh")
    );
}

#[test]
fn an_https_git_server_with_a_private_ca_is_trusted_through_git_config() {
    let work = skills_repository();
    let server = GitServer::start_tls();
    server.publish("team.git", work.path());
    let url = server.url("team.git");
    assert!(url.starts_with("https://"), "{url}");

    // The system's roots do not know the test CA: refused, nothing built.
    let home = Home::new();
    let refused = home
        .skillc(&["build", &url, "--path", "skills/alpha"])
        .expect_code(1);
    assert!(
        refused.stderr.to_lowercase().contains("certificate"),
        "{}",
        refused.stderr
    );
    let images = home.skillc(&["--json", "images"]).expect_code(0).json();
    assert_eq!(images["images"], serde_json::json!([]), "{images}");

    // git's own setting for it, in ~/.gitconfig: the build goes through.
    let ca = server.ca_cert().unwrap();
    std::fs::write(
        home.user_home().join(".gitconfig"),
        format!("[http]\n\tsslCAInfo = {}\n", ca.display()),
    )
    .unwrap();
    let built = build_json(&home, &[&url, "--path", "skills/alpha"]);
    assert_eq!(built["reference"], "alpha:0.1.0-draft", "{built}");
    assert_eq!(built["provenance"]["source"], url.as_str());

    // GIT_SSL_CAINFO names it as well, as for git.
    let by_env = Home::with_env(&[("GIT_SSL_CAINFO", ca.as_os_str())]);
    let built = build_json(&by_env, &[&url, "--path", "skills/beta"]);
    assert_eq!(built["reference"], "beta:0.1.0-draft", "{built}");

    // A setting that names no certificate says so.
    std::fs::write(
        home.user_home().join(".gitconfig"),
        "[http]\n\tsslCAInfo = /nonexistent/ca.pem\n",
    )
    .unwrap();
    let bad = home
        .skillc(&["build", &url, "--path", "skills/beta"])
        .expect_code(1);
    assert!(
        bad.stderr
            .contains("http.sslCAInfo names /nonexistent/ca.pem, which cannot be read"),
        "{}",
        bad.stderr
    );
}

#[test]
fn credentials_come_from_git_s_credential_helper_when_no_file_has_them() {
    let work = skills_repository();
    let server = GitServer::start_with_token();
    server.publish("team.git", work.path());
    let url = server.url("team.git");
    // No ~/.git-credentials: git's configured helper is asked, as git does:
    // one that reads the request on its stdin, as git's protocol says, and
    // the one-line form CI documentation writes, which answers every action
    // without reading what it is sent.
    for helper in [
        "!f() { cat >/dev/null; test \\\"$1\\\" = get && echo username=USER && echo password=TOKEN; }; f",
        "!f() { echo username=USER; echo password=TOKEN; }; f",
    ] {
        let home = Home::new();
        let helper = helper
            .replace("=USER", &format!("={USER}"))
            .replace("=TOKEN", &format!("={TOKEN}"));
        std::fs::write(
            home.user_home().join(".gitconfig"),
            format!("[credential]\n\thelper = \"{helper}\"\n"),
        )
        .unwrap();
        let built = build_json(&home, &[&url, "--path", "skills/alpha"]);
        assert_eq!(built["reference"], "alpha:0.1.0-draft", "{helper}: {built}");
        let asked = server.asked();
        assert!(
            asked
                .iter()
                .any(|a| a.status == 200 && a.authorization.is_some()),
            "{asked:?}"
        );
        assert_nowhere(&home, TOKEN);
    }

    // Without any: the server's refusal, said as such, and nothing built.
    let bare = Home::new();
    let run = bare.skillc(&["build", &url, "--path", "skills/alpha"]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let images = bare.skillc(&["--json", "images"]).expect_code(0).json();
    assert_eq!(images["images"], serde_json::json!([]), "{images}");
}

#[test]
fn an_ssh_url_runs_ssh_as_git_does() {
    // No sshd here: the ssh program the daemon runs (GIT_SSH_COMMAND, as
    // for git) is a stand-in that runs the remote command (everything after
    // the options and the host, as ssh joins it) on this machine and logs
    // how it was called, as git's own tests do.
    let work = skills_repository();
    let server = GitServer::start();
    let bare = server.publish("team.git", work.path());
    let tools = tempfile::tempdir().unwrap();
    let (fake, log) = (tools.path().join("ssh"), tools.path().join("ssh.log"));
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$@\" >> {}\nwhile [ $# -gt 0 ]; do case $1 in -o|-p|-i|-l|-F) shift 2;; -*) shift;; *) break;; esac; done\nshift\nexec sh -c \"$*\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let home = Home::with_env(&[("GIT_SSH_COMMAND", fake.as_os_str())]);
    let url = format!("ssh://git@skills.example{}", bare.display());
    let built = build_json(&home, &[&url, "--path", "skills/alpha"]);
    assert_eq!(built["reference"], "alpha:0.1.0-draft", "{built}");
    assert_eq!(built["provenance"]["source"], url.as_str());
    let called = std::fs::read_to_string(&log).unwrap();
    assert!(
        called.contains("git@skills.example") && called.contains("git-upload-pack"),
        "{called}"
    );
}
