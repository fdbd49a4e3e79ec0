//! Moving skills between registries and across air gaps: remote promotion,
//! copy (with the signature tag), save/load archives that skopeo reads,
//! and mirrors tried before the registry.

use std::process::Command;

use skilld_tests::helper::tools::{copy_tree, require, testdata};
use skilld_tests::helper::{Home, Registry, Run, Variant};

fn build_push(home: &Home, host: &str, repo: &str) -> (String, String) {
    let dir = home.root().join("src").join("hello-world");
    if !dir.exists() {
        copy_tree(&testdata().join("valid/hello-world"), &dir);
    }
    let built = home
        .skillc(&[
            "--json",
            "build",
            "-t",
            &format!("{host}/{repo}"),
            dir.to_str().unwrap(),
        ])
        .expect_code(0)
        .json();
    let reference = built["reference"].as_str().unwrap().to_string();
    home.skillc(&["push", &reference]).expect_code(0);
    (reference, built["digest"].as_str().unwrap().to_string())
}

fn remote_tags(home: &Home, repo: &str) -> serde_json::Value {
    home.skillc(&["--json", "tags", repo]).expect_code(0).json()
}

fn tag_digest(tags: &serde_json::Value, tag: &str) -> Option<String> {
    tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tag"] == tag)
        .map(|t| t["digest"].as_str().unwrap().to_string())
}

#[test]
fn promotion_on_the_registry_moves_only_manifests() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let home = Home::new();
    let (reference, draft_digest) = build_push(&home, &host, "examples/hello-world");
    let repo = format!("{host}/examples/hello-world");
    let stranger = Home::new();
    let p = stranger
        .skillc(&["--json", "promote", &reference, "--to", "testing"])
        .expect_code(0)
        .json();
    assert_eq!(p["reference"], format!("{repo}:1.0.0-testing"));
    let p = stranger
        .skillc(&[
            "--json",
            "promote",
            &format!("{repo}:1.0.0-testing"),
            "--to",
            "published",
        ])
        .expect_code(0)
        .json();
    assert_eq!(
        p["tags"],
        serde_json::json!([format!("{repo}:1.0.0"), format!("{repo}:latest")])
    );
    assert_eq!(stranger.blob_count(), 0, "nothing pulled");
    let tags = remote_tags(&stranger, &repo);
    assert_eq!(
        tag_digest(&tags, "1.0.0-draft").unwrap(),
        draft_digest,
        "the draft tag never moves"
    );
    assert_eq!(tag_digest(&tags, "latest"), tag_digest(&tags, "1.0.0"));
    let published = stranger
        .skillc(&["--json", "tags", "--published", &repo])
        .expect_code(0)
        .json();
    let names: Vec<&str> = published["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["1.0.0"],
        "latest is not a version; drafts and tests are not published"
    );

    let run = stranger
        .skillc(&["promote", &format!("{repo}:1.0.0"), "--to", "archived"])
        .expect_code(1);
    assert!(run.stderr.contains("one step at a time"), "{}", run.stderr);
    stranger
        .skillc(&["promote", &format!("{repo}:1.0.0"), "--to", "deprecated"])
        .expect_code(0);
    let tags = remote_tags(&stranger, &repo);
    assert!(
        tag_digest(&tags, "latest").is_none(),
        "latest leaves a deprecated version: {tags}"
    );
    let inspected = stranger
        .skillc(&["--json", "inspect", &format!("{repo}:1.0.0")])
        .expect_code(0)
        .json();
    assert_eq!(inspected["status"], "deprecated");
}

#[test]
fn copy_carries_the_signature_tag_between_registries() {
    let a = Registry::start(Variant::Anonymous);
    let b = Registry::start(Variant::Anonymous);
    let home = Home::new();
    let (reference, digest) = build_push(&home, &a.host(), "acme/hello-world");
    // Stand-in for a cosign signature: any manifest under the .sig tag.
    let sig_tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
    let crlf = home.root().join("src").join("crlf-skill");
    copy_tree(&testdata().join("valid/crlf-skill"), &crlf);
    let sig_ref = format!("{}/acme/hello-world:{sig_tag}", a.host());
    home.skillc(&["build", "-t", &sig_ref, crlf.to_str().unwrap()])
        .expect_code(0);
    home.skillc(&["push", &sig_ref]).expect_code(0);

    let stranger = Home::new();
    let destination = format!("{}/mirror/hello-world:1.0.0-draft", b.host());
    let copied = stranger
        .skillc(&["--json", "copy", &reference, &destination])
        .expect_code(0)
        .json();
    assert_eq!(copied["digest"], digest);
    assert_eq!(
        copied["signatures"],
        serde_json::json!([format!("{}/mirror/hello-world:{sig_tag}", b.host())])
    );
    assert_eq!(
        stranger.blob_count(),
        0,
        "registry to registry never touches the store"
    );
    let tags = remote_tags(&stranger, &format!("{}/mirror/hello-world", b.host()));
    assert_eq!(
        tag_digest(&tags, "1.0.0-draft").unwrap(),
        digest,
        "same digest on the mirror"
    );
    assert!(
        tag_digest(&tags, &sig_tag).is_none(),
        "tags lists versions, not cosign tags"
    );
    let source_sig = stranger
        .skillc(&["--json", "inspect", &sig_ref])
        .expect_code(0)
        .json();
    let mirrored_sig = stranger
        .skillc(&[
            "--json",
            "inspect",
            &format!("{}/mirror/hello-world:{sig_tag}", b.host()),
        ])
        .expect_code(0)
        .json();
    assert_eq!(
        mirrored_sig["digest"], source_sig["digest"],
        "the signature tag came along unchanged"
    );

    // Store to registry, and a second copy sends nothing again.
    let second = format!("{}/other/hello-world:1.0.0-draft", b.host());
    let copied = home
        .skillc(&["--json", "copy", "--", &reference, &second])
        .expect_code(0)
        .json();
    assert_eq!(copied["digest"], digest);
    let again = home
        .skillc(&["--json", "copy", &reference, &second])
        .expect_code(0)
        .json();
    assert_eq!(again["copied_blobs"], 0);
}

#[test]
fn save_load_and_skopeo_oci_archive_interop() {
    let skopeo = require("skopeo", "skopeo");
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let home = Home::new();
    let dir = home.root().join("src").join("toolbox");
    copy_tree(&testdata().join("valid/toolbox"), &dir);
    let built = home
        .skillc(&["--json", "build", dir.to_str().unwrap()])
        .expect_code(0)
        .json();
    let reference = built["reference"].as_str().unwrap();
    let archive = home.root().join("skills.tar");
    let saved = home
        .skillc(&["--json", "save", reference, "-o", archive.to_str().unwrap()])
        .expect_code(0)
        .json();
    assert_eq!(saved["references"], serde_json::json!([reference]));

    // Air gap: another home loads the archive, every blob checked.
    let offline = Home::new();
    let loaded = offline
        .skillc(&["--json", "load", archive.to_str().unwrap()])
        .expect_code(0)
        .json();
    assert_eq!(loaded["references"], serde_json::json!([reference]));
    let inspected = offline
        .skillc(&["--json", "inspect", reference])
        .expect_code(0)
        .json();
    assert_eq!(inspected["digest"], built["digest"]);

    // skopeo reads the archive and copies it into a registry; we pull it.
    let target = format!("{host}/acme/platform/toolbox:2.1.0-draft");
    let run = Run::of(
        Command::new(&skopeo)
            .args(["copy", "--dest-tls-verify=false"])
            .arg(format!("oci-archive:{}:{reference}", archive.display()))
            .arg(format!("docker://{target}")),
    );
    assert_eq!(run.code, Some(0), "skopeo copy oci-archive: {}", run.stderr);
    let puller = Home::new();
    let out = puller.root().join("out");
    let pulled = puller
        .skillc(&["--json", "pull", &target, "-o", out.to_str().unwrap()])
        .expect_code(0)
        .json();
    assert_eq!(
        pulled["digest"], built["digest"],
        "skopeo kept the manifest byte for byte"
    );
    assert!(out.join("toolbox/scripts/report.sh").is_file());
}

#[test]
fn a_tampered_archive_is_refused_and_loads_nothing() {
    let home = Home::new();
    let dir = home.root().join("src").join("hello-world");
    copy_tree(&testdata().join("valid/hello-world"), &dir);
    let built = home
        .skillc(&["--json", "build", dir.to_str().unwrap()])
        .expect_code(0)
        .json();
    let archive = home.root().join("a.tar");
    home.skillc(&[
        "save",
        built["reference"].as_str().unwrap(),
        "-o",
        archive.to_str().unwrap(),
    ])
    .expect_code(0);
    // Flip a byte inside the (uncompressed) layer blob's bytes in the tar.
    let mut bytes = std::fs::read(&archive).unwrap();
    let layer_hex = built["layer_digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let at = bytes
        .windows(layer_hex.len())
        .position(|w| w == layer_hex.as_bytes())
        .expect("layer entry in the tar");
    let data = (at / 512 + 1) * 512 + 20;
    bytes[data] ^= 0xff;
    std::fs::write(&archive, bytes).unwrap();
    let offline = Home::new();
    let run = offline
        .skillc(&["load", archive.to_str().unwrap()])
        .expect_code(1);
    assert!(
        run.stderr.contains("does not match its content"),
        "{}",
        run.stderr
    );
    assert_eq!(offline.blob_count(), 0, "nothing was loaded");
}

#[test]
fn mirrors_are_tried_before_the_registry() {
    let upstream = Registry::start(Variant::Anonymous);
    let mirror = Registry::start(Variant::Anonymous);
    let publisher = Home::new();
    // The image exists only on the mirror, under a path prefix.
    let (_, digest) = build_push(&publisher, &mirror.host(), "upstream-copy/acme/hello-world");
    let home = Home::new();
    home.write_config(&format!(
        "registries:\n  \"{}\":\n    mirrors: [\"{}/upstream-copy\"]\n",
        upstream.host(),
        mirror.host()
    ));
    let wanted = format!("{}/acme/hello-world:1.0.0-draft", upstream.host());
    let pulled = home
        .skillc(&["--json", "pull", &wanted])
        .expect_code(0)
        .json();
    assert_eq!(pulled["digest"], digest);
    assert_eq!(
        pulled["reference"], wanted,
        "tagged under the name asked for"
    );
    assert_eq!(
        pulled["source"],
        format!(
            "{}/upstream-copy/acme/hello-world:1.0.0-draft",
            mirror.host()
        )
    );

    // A mirror that is down is skipped: the registry itself answers.
    let (_, upstream_digest) = build_push(&publisher, &upstream.host(), "acme/other");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let fallback = Home::new();
    fallback.write_config(&format!(
        "registries:\n  \"{}\":\n    mirrors: [\"127.0.0.1:{port}\"]\n",
        upstream.host()
    ));
    let pulled = fallback
        .skillc(&[
            "--json",
            "pull",
            &format!("{}/acme/other:1.0.0-draft", upstream.host()),
        ])
        .expect_code(0)
        .json();
    assert_eq!(pulled["digest"], upstream_digest);
}
