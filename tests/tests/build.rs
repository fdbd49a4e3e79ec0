//! Building skills into the local OCI store: the image's shape, reproducible
//! digests, interop with skopeo and umoci, hostile folders, and the store's
//! commands (images, tag, inspect, rmi, prune, promote).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use skilld_tests::helper::tools::{copy_tree, require, testdata};
use skilld_tests::helper::{Home, Run};

/// A copy of a valid fixture under the home's temp folder.
fn fixture(home: &Home, name: &str, into: &str) -> PathBuf {
    let dir = home.root().join(into).join(name);
    copy_tree(&testdata().join("valid").join(name), &dir);
    dir
}

fn build(home: &Home, dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--json", "build"];
    args.extend_from_slice(extra);
    args.push(dir.to_str().unwrap());
    home.skillc(&args).expect_code(0).json()
}

fn inspect(home: &Home, reference: &str) -> Value {
    home.skillc(&["--json", "inspect", reference])
        .expect_code(0)
        .json()
}

fn sh(script: &str) -> String {
    let run = Run::of(Command::new("sh").args(["-c", script]));
    assert_eq!(run.code, Some(0), "{script}: {}", run.stderr);
    run.stdout
}

#[test]
fn build_gives_the_skillimage_shape_with_every_annotation() {
    let home = Home::new();
    let dir = fixture(&home, "hello-world", "src");
    let built = build(&home, &dir, &[]);
    assert_eq!(built["reference"], "examples/hello-world:1.0.0-draft");
    assert_eq!(built["files"], 2);
    let i = inspect(&home, "examples/hello-world:1.0.0-draft");
    assert_eq!(i["digest"], built["digest"]);
    assert_eq!(i["format"], "skillimage");
    assert_eq!(
        i["media_type"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        i["config"]["media_type"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert_eq!(
        i["layers"][0]["media_type"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let a = &i["annotations"];
    assert_eq!(a["org.opencontainers.image.title"], "Hello World");
    assert_eq!(
        a["org.opencontainers.image.description"],
        "Greets the user warmly."
    );
    assert_eq!(a["org.opencontainers.image.version"], "1.0.0");
    assert_eq!(
        a["org.opencontainers.image.authors"],
        "Ada Lovelace <ada@example.com>"
    );
    assert_eq!(a["org.opencontainers.image.licenses"], "Apache-2.0");
    assert_eq!(a["org.opencontainers.image.vendor"], "examples");
    assert_eq!(
        a["org.opencontainers.image.source"],
        "https://example.com/skills.git"
    );
    assert_eq!(a["org.opencontainers.image.revision"], "0123456789abcdef");
    assert!(
        a["org.opencontainers.image.created"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(a["io.skillimage.status"], "draft");
    assert_eq!(a["io.skillimage.tags"], r#"["greeting","example"]"#);
    assert_eq!(
        a["io.skillimage.compatibility"],
        "Any agent that reads SKILL.md"
    );
    assert_eq!(
        a["io.skillimage.wordcount"], "17",
        "words of the body, after the frontmatter"
    );
    // rootfs.diff_ids is the digest of the uncompressed layer.
    let layer = home.blob(i["layers"][0]["digest"].as_str().unwrap());
    let diff_id = sh(&format!(
        "gzip -dc '{}' | sha256sum | cut -d' ' -f1",
        layer.display()
    ));
    assert_eq!(
        i["diff_ids"],
        serde_json::json!([format!("sha256:{}", diff_id.trim())])
    );
}

#[test]
fn default_reference_tag_override_and_namespace() {
    let home = Home::new();
    let dir = fixture(&home, "crlf-skill", "src");
    assert_eq!(
        build(&home, &dir, &[])["reference"],
        "crlf-skill:0.2.0-draft"
    );
    assert_eq!(
        build(&home, &dir, &["--namespace", "team"])["reference"],
        "team/crlf-skill:0.2.0-draft"
    );
    assert_eq!(
        build(&home, &dir, &["-t", "local/x"])["reference"],
        "local/x:0.2.0-draft"
    );
    assert_eq!(
        build(&home, &dir, &["-t", "127.0.0.1:5000/a/b:9"])["reference"],
        "127.0.0.1:5000/a/b:9"
    );
    let run = home
        .skillc(&["build", "-t", "Bad Ref", dir.to_str().unwrap()])
        .expect_code(1);
    assert!(
        run.stderr.contains("not a valid image reference"),
        "{}",
        run.stderr
    );
}

/// Make `dir` look as if another user wrote it at another time.
fn disturb(dir: &Path, when: &str, owner: u32) {
    sh(&format!(
        "find '{}' -exec touch -h -d '{when}' {{}} +",
        dir.display()
    ));
    if rustix::process::geteuid().is_root() {
        sh(&format!("chown -hR {owner}:{owner} '{}'", dir.display()));
    }
}

#[test]
fn the_same_folder_builds_to_the_same_digests_anywhere() {
    let home = Home::new();
    let a = fixture(&home, "toolbox", "a");
    let b = fixture(&home, "toolbox", "b");
    disturb(&a, "2001-02-03 04:05:06", 1234);
    disturb(&b, "2023-09-08 07:06:05", 4321);
    std::fs::set_permissions(b.join("SKILL.md"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let ba = build(&home, &a, &["-t", "x/a:1"]);
    let bb = build(&home, &b, &["-t", "x/b:1"]);
    assert_eq!(
        ba["layer_digest"], bb["layer_digest"],
        "layer digest ignores file times, owners and modes"
    );

    let epoch = |dir: &Path, tag: &str| {
        let run = Run::of(
            home.command("skillc")
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .args(["--json", "build", "-t", tag, dir.to_str().unwrap()]),
        );
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        run.json()
    };
    let ea = epoch(&a, "x/a:2");
    let eb = epoch(&b, "x/b:2");
    assert_eq!(
        ea["digest"], eb["digest"],
        "SOURCE_DATE_EPOCH fixes the manifest digest"
    );
    assert_ne!(
        ea["layer_digest"], ba["layer_digest"],
        "file times come from SOURCE_DATE_EPOCH"
    );
    let i = inspect(&home, "x/a:2");
    assert_eq!(i["created"], "2023-11-14T22:13:20Z");
}

#[test]
fn skopeo_and_umoci_read_the_store_and_files_survive() {
    let skopeo = require("skopeo", "skopeo");
    let umoci = require("umoci", "umoci");
    let home = Home::new();
    let dir = fixture(&home, "toolbox", "src");
    std::fs::create_dir_all(dir.join("build-cache")).unwrap();
    std::fs::write(dir.join("build-cache/junk"), "ignored").unwrap();
    std::fs::write(dir.join("debug.log"), "ignored").unwrap();
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/main").unwrap();
    std::os::unix::fs::symlink("scripts/report.sh", dir.join("report")).unwrap();
    let built = build(&home, &dir, &[]);
    let reference = built["reference"].as_str().unwrap();
    assert_eq!(reference, "acme/platform/toolbox:2.1.0-draft");

    let store = home.store();
    let run = Run::of(
        Command::new(&skopeo)
            .arg("inspect")
            .arg(format!("oci:{}:{reference}", store.display())),
    );
    assert_eq!(run.code, Some(0), "skopeo inspect: {}", run.stderr);
    let seen = run.json();
    assert_eq!(seen["Digest"], built["digest"]);
    assert_eq!(seen["Layers"], serde_json::json!([built["layer_digest"]]));
    let raw = Run::of(
        Command::new(&skopeo)
            .arg("inspect")
            .arg("--raw")
            .arg(format!("oci:{}:{reference}", store.display())),
    )
    .json();
    assert_eq!(
        raw["annotations"]["org.opencontainers.image.version"],
        "2.1.0"
    );

    let bundle = home.root().join("bundle");
    let run = Run::of(
        Command::new(&umoci)
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:{reference}", store.display()))
            .arg(&bundle),
    );
    assert_eq!(run.code, Some(0), "umoci unpack: {}", run.stderr);
    let rootfs = bundle.join("rootfs");
    assert!(
        rootfs.join("SKILL.md").is_file(),
        "SKILL.md at the layer root"
    );
    let mode = |p: &str| {
        std::fs::symlink_metadata(rootfs.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(
        mode("scripts/report.sh"),
        0o755,
        "the executable bit survives"
    );
    assert_eq!(mode("scripts/helper.py"), 0o755);
    assert_eq!(mode("SKILL.md"), 0o644);
    assert_eq!(
        std::fs::read(rootfs.join("assets/logo.bin")).unwrap(),
        std::fs::read(dir.join("assets/logo.bin")).unwrap()
    );
    assert!(
        rootfs.join("reference/résumé-模板.md").is_file(),
        "unicode names"
    );
    assert!(rootfs.join(".editorconfig").is_file(), "dotfiles are kept");
    assert_eq!(
        std::fs::read_link(rootfs.join("report")).unwrap(),
        Path::new("scripts/report.sh")
    );
    for gone in ["build-cache", "debug.log", ".git"] {
        assert!(!rootfs.join(gone).exists(), "{gone} is excluded");
    }
}

#[test]
fn agentskills_and_redhat_forms() {
    let home = Home::new();
    let dir = fixture(&home, "hello-world", "src");
    build(
        &home,
        &dir,
        &["--format", "agentskills", "-t", "a/hello-world:1"],
    );
    let i = inspect(&home, "a/hello-world:1");
    assert_eq!(i["format"], "agentskills");
    assert_eq!(i["artifact_type"], "application/vnd.agentskills.skill.v1");
    assert_eq!(
        i["config"]["media_type"],
        "application/vnd.agentskills.skill.config.v1+json"
    );
    assert_eq!(
        i["layers"][0]["media_type"],
        "application/vnd.agentskills.skill.content.v1.tar+gzip"
    );
    assert_eq!(i["name"], "hello-world");
    let listing = sh(&format!(
        "tar -tzf '{}'",
        home.blob(i["layers"][0]["digest"].as_str().unwrap())
            .display()
    ));
    let paths: Vec<&str> = listing.lines().collect();
    assert_eq!(
        paths,
        [
            "hello-world/",
            "hello-world/SKILL.md",
            "hello-world/skill.yaml"
        ]
    );

    build(
        &home,
        &dir,
        &["--media-type", "redhat", "-t", "r/hello-world:1"],
    );
    let i = inspect(&home, "r/hello-world:1");
    assert_eq!(
        i["config"]["media_type"],
        "application/vnd.redhat.agentskill.config.v1+json"
    );
    assert_eq!(
        i["layers"][0]["media_type"],
        "application/vnd.redhat.agentskill.layer.v1.tar+gzip"
    );

    let run = home
        .skillc(&[
            "build",
            "--format",
            "agentskills",
            "--media-type",
            "redhat",
            dir.to_str().unwrap(),
        ])
        .expect_code(1);
    assert!(
        run.stderr.contains("skillimage format only"),
        "{}",
        run.stderr
    );
}

/// Puts something hostile into a skill folder.
type Maker = Box<dyn Fn(&Path)>;

#[test]
fn hostile_folders_are_refused_and_nothing_is_stored() {
    let home = Home::new();
    home.write_config("build:\n  max_files: 5\n");
    let cases: Vec<(&str, Maker, &str)> = vec![
        (
            "escaping symlink",
            Box::new(|d: &Path| {
                std::os::unix::fs::symlink("../../../etc/passwd", d.join("leak")).unwrap()
            }),
            "outside the skill",
        ),
        (
            "absolute symlink",
            Box::new(|d: &Path| std::os::unix::fs::symlink("/etc/passwd", d.join("leak")).unwrap()),
            "absolute symlink",
        ),
        (
            "fifo",
            Box::new(|d: &Path| sh(&format!("mkfifo '{}'", d.join("pipe").display())).clear()),
            "is a FIFO",
        ),
        (
            "socket",
            Box::new(|d: &Path| {
                drop(std::os::unix::net::UnixListener::bind(d.join("sock")).unwrap())
            }),
            "is a socket",
        ),
        (
            "too many files",
            Box::new(|d: &Path| {
                for i in 0..10 {
                    std::fs::write(d.join(format!("f{i}.txt")), "x").unwrap();
                }
            }),
            "more than 5 files",
        ),
    ];
    for (i, (what, make, message)) in cases.iter().enumerate() {
        let dir = fixture(&home, "hello-world", &format!("case{i}"));
        make(&dir);
        let run = home
            .skillc(&["build", dir.to_str().unwrap()])
            .expect_code(1);
        assert!(run.stderr.contains(message), "{what}: {}", run.stderr);
        assert!(
            run.stderr.contains("nothing was built"),
            "{what}: {}",
            run.stderr
        );
        assert_eq!(home.blob_count(), 0, "{what}: no blob was stored");
    }
    let images = home.skillc(&["--json", "images"]).expect_code(0).json();
    assert_eq!(images["images"], serde_json::json!([]));
    home.skillc(&["--no-autostart", "status"]).expect_code(0);
}

/// A copy of hello-world with another version.
fn versioned(home: &Home, version: &str) -> PathBuf {
    let dir = fixture(home, "hello-world", &format!("v{version}"));
    let card = std::fs::read_to_string(dir.join("skill.yaml")).unwrap();
    std::fs::write(
        dir.join("skill.yaml"),
        card.replace("version: 1.0.0", &format!("version: {version}")),
    )
    .unwrap();
    std::fs::write(dir.join("notes.md"), format!("release {version}\n")).unwrap();
    dir
}

fn digest_of(home: &Home, reference: &str) -> Option<String> {
    let images = home.skillc(&["--json", "images"]).expect_code(0).json();
    images["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["reference"] == reference)
        .map(|i| i["digest"].as_str().unwrap().to_string())
}

fn promote(home: &Home, reference: &str, to: &str) -> Value {
    home.skillc(&["--json", "promote", reference, "--to", to])
        .expect_code(0)
        .json()
}

#[test]
fn promotion_moves_tags_forward_and_latest_never_rests_on_deprecated() {
    let home = Home::new();
    let repo = "examples/hello-world";
    for v in ["1.0.0", "2.0.0"] {
        build(&home, &versioned(&home, v), &[]);
    }
    let draft_digest = digest_of(&home, &format!("{repo}:1.0.0-draft")).unwrap();
    let layer = inspect(&home, &format!("{repo}:1.0.0-draft"))["layers"][0]["digest"].clone();

    let run = home
        .skillc(&[
            "promote",
            &format!("{repo}:1.0.0-draft"),
            "--to",
            "published",
        ])
        .expect_code(1);
    assert!(
        run.stderr.contains("one step at a time (draft → testing)"),
        "{}",
        run.stderr
    );

    let p = promote(&home, &format!("{repo}:2.0.0-draft"), "testing");
    assert_eq!(p["reference"], format!("{repo}:2.0.0-testing"));
    let p = promote(&home, &format!("{repo}:2.0.0-testing"), "published");
    assert_eq!(
        p["tags"],
        serde_json::json!([format!("{repo}:2.0.0"), format!("{repo}:latest")])
    );
    promote(&home, &format!("{repo}:1.0.0-draft"), "testing");
    let p = promote(&home, &format!("{repo}:1.0.0-testing"), "published");
    assert_eq!(
        p["tags"],
        serde_json::json!([format!("{repo}:1.0.0")]),
        "latest stays on the higher 2.0.0"
    );
    assert_eq!(
        digest_of(&home, &format!("{repo}:latest")),
        digest_of(&home, &format!("{repo}:2.0.0"))
    );

    let i = inspect(&home, &format!("{repo}:1.0.0"));
    assert_eq!(i["status"], "published");
    assert_eq!(
        i["layers"][0]["digest"], layer,
        "only the status annotation changes"
    );
    assert_eq!(
        digest_of(&home, &format!("{repo}:1.0.0-draft")).unwrap(),
        draft_digest,
        "tags never move backwards"
    );
    assert_eq!(
        inspect(&home, &format!("{repo}:1.0.0-draft"))["status"],
        "draft"
    );

    let p = promote(&home, &format!("{repo}:2.0.0"), "deprecated");
    assert_eq!(p["reference"], format!("{repo}:2.0.0"));
    assert_eq!(
        inspect(&home, &format!("{repo}:2.0.0"))["status"],
        "deprecated"
    );
    assert_eq!(
        digest_of(&home, &format!("{repo}:latest")),
        digest_of(&home, &format!("{repo}:1.0.0")),
        "latest falls back to 1.0.0"
    );

    let p = promote(&home, &format!("{repo}:1.0.0"), "deprecated");
    assert_eq!(p["untagged"], serde_json::json!([format!("{repo}:latest")]));
    assert_eq!(
        digest_of(&home, &format!("{repo}:latest")),
        None,
        "no published version left: no latest"
    );
    let p = promote(&home, &format!("{repo}:1.0.0"), "archived");
    assert_eq!(p["to"], "archived");
    let run = home
        .skillc(&["promote", &format!("{repo}:1.0.0"), "--to", "published"])
        .expect_code(1);
    assert!(
        run.stderr.contains("archived is the last state"),
        "{}",
        run.stderr
    );
}

#[test]
fn tag_rmi_and_prune_free_what_nothing_needs() {
    let home = Home::new();
    let dir = fixture(&home, "hello-world", "src");
    build(&home, &dir, &[]);
    let run = home
        .skillc(&[
            "--json",
            "tag",
            "examples/hello-world:1.0.0-draft",
            "mine/hello",
        ])
        .expect_code(0);
    assert_eq!(run.json()["reference"], "mine/hello:latest");
    assert_eq!(
        digest_of(&home, "mine/hello:latest"),
        digest_of(&home, "examples/hello-world:1.0.0-draft")
    );
    let blobs = home.blob_count();
    assert_eq!(blobs, 3, "manifest, config, layer");

    let removed = home
        .skillc(&["--json", "rmi", "mine/hello"])
        .expect_code(0)
        .json();
    assert_eq!(removed["reclaimable_bytes"], 0, "still tagged elsewhere");
    let removed = home
        .skillc(&["--json", "rmi", "examples/hello-world:1.0.0-draft"])
        .expect_code(0)
        .json();
    let reclaimable = removed["reclaimable_bytes"].as_u64().unwrap();
    assert!(reclaimable > 0);
    let pruned = home.skillc(&["--json", "prune"]).expect_code(0).json();
    assert_eq!(pruned["blobs_removed"], 3);
    assert_eq!(pruned["bytes_freed"].as_u64().unwrap(), reclaimable);
    assert_eq!(home.blob_count(), 0);
    let run = home
        .skillc(&["rmi", "examples/hello-world:1.0.0-draft"])
        .expect_code(1);
    assert!(
        run.stderr
            .contains("no image examples/hello-world:1.0.0-draft"),
        "{}",
        run.stderr
    );
}

#[test]
fn inspect_reads_no_layer_and_a_corrupt_blob_is_reported() {
    let home = Home::new();
    let dir = fixture(&home, "hello-world", "src");
    let built = build(&home, &dir, &[]);
    let reference = built["reference"].as_str().unwrap();
    // A damaged layer does not matter to inspect: it never opens the layer.
    std::fs::write(
        home.blob(built["layer_digest"].as_str().unwrap()),
        b"garbage",
    )
    .unwrap();
    assert_eq!(inspect(&home, reference)["digest"], built["digest"]);
    // A damaged manifest is caught by its digest.
    let manifest = home.blob(built["digest"].as_str().unwrap());
    let mut bytes = std::fs::read(&manifest).unwrap();
    bytes[10] ^= 0x20;
    std::fs::write(&manifest, bytes).unwrap();
    let run = home.skillc(&["inspect", reference]).expect_code(1);
    assert!(run.stderr.contains("is corrupt"), "{}", run.stderr);
}

#[test]
fn a_missing_image_names_the_tags_that_exist() {
    let home = Home::new();
    build(&home, &fixture(&home, "hello-world", "src"), &[]);
    let run = home
        .skillc(&["inspect", "examples/hello-world:9.9.9"])
        .expect_code(1);
    assert!(
        run.stderr.contains("has tags: 1.0.0-draft"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_index_is_rebuilt_from_the_layout_after_a_crash() {
    let home = Home::new();
    let mut daemon = home.start_daemon();
    build(&home, &fixture(&home, "hello-world", "src"), &[]);
    daemon.signal(rustix::process::Signal::KILL);
    daemon.wait_exit(std::time::Duration::from_secs(10));
    // Lose the index rows, as if the daemon died between the two writes.
    let index = home.skilld_home().join("index.db");
    let run = Run::of(Command::new("python3").args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM refs'); c.commit()"]).arg(&index));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let _daemon = home.start_daemon();
    let images = home.skillc(&["--json", "images"]).expect_code(0).json();
    assert_eq!(
        images["images"][0]["reference"],
        "examples/hello-world:1.0.0-draft"
    );
    assert_eq!(images["images"][0]["status"], "draft");
}

#[test]
fn an_agentskills_config_is_what_arconia_writes_and_oras_unpacks() {
    let home = Home::new();
    let dir = fixture(&home, "toolbox", "src");
    build(
        &home,
        &dir,
        &["--format", "agentskills", "-t", "a/toolbox:2.1.0"],
    );
    let i = inspect(&home, "a/toolbox:2.1.0");
    let config: serde_json::Value = serde_json::from_slice(
        &std::fs::read(home.blob(i["config"]["digest"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(testdata().join("agentskills/toolbox.config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config, expected, "the same JSON value as arconia-cli's");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.blob(i["digest"].as_str().unwrap())).unwrap())
            .unwrap();
    let a = &manifest["annotations"];
    assert_eq!(a["io.agentskills.skill.name"], "toolbox");
    assert_eq!(
        a["io.agentskills.skill.compatibility"],
        "Needs a POSIX shell and Python 3."
    );
    let layer = &manifest["layers"][0]["annotations"];
    assert_eq!(layer["org.opencontainers.image.title"], "toolbox");
    assert_eq!(layer["io.deis.oras.content.unpack"], "true");
    let gz = std::fs::read(home.blob(manifest["layers"][0]["digest"].as_str().unwrap())).unwrap();
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut tar).unwrap();
    assert_eq!(
        layer["io.deis.oras.content.digest"],
        skilld_tests::helper::raw::digest(&tar),
        "the uncompressed tar's digest"
    );
}
