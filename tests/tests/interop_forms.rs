//! Images other tools push that are not one skill at the layer root, each
//! pushed byte for byte to the real registry: a skillctl collection is
//! refused with the skills it lists; a layer with no SKILL.md is refused
//! with what it holds; a layer whose one folder holds the skill (a
//! Containerfile's `COPY . /name/`) installs that folder.

use skilld_tests::helper::raw::{self, PLAIN_CONFIG, digest, image_manifest, push, push_image};
use skilld_tests::helper::tools::testdata;
use skilld_tests::helper::{Home, Registry, Variant};

/// A gzip tar of regular files `(path, content)`, folders made implicitly.
fn layer(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, path, content.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

const SKILL_MD: &str =
    "---\nname: tone\ndescription: Keeps a steady tone in replies.\n---\n# Tone\n";

/// `skillc install REFERENCE -o OUT`, its outcome unchecked.
fn install_into(home: &Home, reference: &str, out: &std::path::Path) -> skilld_tests::helper::Run {
    home.skillc(&["install", reference, "-o", out.to_str().unwrap()])
}

/// Nothing of `reference` was installed into `out`, and no staging folder
/// was left behind.
fn nothing_installed(home: &Home, out: &std::path::Path) {
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(list["installs"].as_array().unwrap().len(), 0, "{list}");
    let left: Vec<String> = std::fs::read_dir(out)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != ".skilld-staging")
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "left in {}: {left:?}", out.display());
    let staging = out.join(".skilld-staging");
    if staging.exists() {
        assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0);
    }
}

#[test]
fn a_skillctl_collection_is_refused_with_the_skills_it_lists() {
    let registry = Registry::start(Variant::Anonymous);
    let yaml = std::fs::read(testdata().join("skillctl/collection/hr-skills.yaml")).unwrap();
    let config = b"{}".to_vec();
    // As skillctl's BuildCollectionArtifact writes it.
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.skillimage.collection.v1+yaml",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.skillimage.collection.v1+yaml", "digest": digest(&yaml), "size": yaml.len()}],
        "annotations": {
            "org.opencontainers.image.title": "hr-skills",
            "org.opencontainers.image.version": "1.0.0",
            "io.skillimage.collection.name": "hr-skills",
        },
    }))
    .unwrap();
    push(
        &registry.host(),
        "acme/hr-skills",
        "1.0.0",
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
        &[&config, &yaml],
    );
    let home = Home::new();
    let reference = format!("{}/acme/hr-skills:1.0.0", registry.host());
    let out = home.root().join("out");
    for args in [
        vec!["install", reference.as_str(), "-o", out.to_str().unwrap()],
        vec!["pull", reference.as_str()],
    ] {
        let run = home.skillc(&args).expect_code(1);
        for expected in [
            "is a skill collection, not a skill",
            "\"hr-skills\" 1.0.0 lists 2 skill(s)",
            "document-summarizer (quay.io/skillimage/business/document-summarizer:1.0.0)",
            "document-reviewer (ghcr.io/acme/document-reviewer:2.1.0)",
            "skillc collection install",
        ] {
            assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        }
    }
    let json = home
        .skillc(&["--json", "pull", &reference])
        .expect_code(1)
        .json();
    assert_eq!(json["error"]["code"], "invalid_request");
    assert_eq!(json["error"]["details"]["kind"], "collection");
    nothing_installed(&home, &out);
    let images = home.skillc(&["--json", "images"]).expect_code(0).json();
    assert!(!images.to_string().contains("hr-skills"), "{images}");
}

#[test]
fn a_layer_without_a_skill_md_is_refused_with_what_it_holds() {
    let registry = Registry::start(Variant::Anonymous);
    push_image(
        &registry.host(),
        "acme/docs",
        "1.0.0",
        &layer(&[("README.md", "# Docs\n"), ("docs/guide.md", "guide\n")]),
    );
    let home = Home::new();
    let out = home.root().join("out");
    let run =
        install_into(&home, &format!("{}/acme/docs:1.0.0", registry.host()), &out).expect_code(1);
    assert!(
        run.stderr.contains(
            "holds no SKILL.md at its root, so it is not a skill: found README.md, docs/"
        ),
        "{}",
        run.stderr
    );
    nothing_installed(&home, &out);
}

#[test]
fn several_skills_in_one_layer_are_refused_and_named() {
    let registry = Registry::start(Variant::Anonymous);
    push_image(
        &registry.host(),
        "acme/pair",
        "1.0.0",
        &layer(&[("one/SKILL.md", SKILL_MD), ("two/SKILL.md", SKILL_MD)]),
    );
    let home = Home::new();
    let out = home.root().join("out");
    let run =
        install_into(&home, &format!("{}/acme/pair:1.0.0", registry.host()), &out).expect_code(1);
    assert!(
        run.stderr
            .contains("found one/, two/ (2 folders hold a SKILL.md"),
        "{}",
        run.stderr
    );
    nothing_installed(&home, &out);
}

#[test]
fn a_skill_in_the_layers_one_folder_installs_that_folder() {
    let registry = Registry::start(Variant::Anonymous);
    // `COPY . /tone/` in a Containerfile, plus a stray file beside it.
    let files = [
        ("tone/SKILL.md", SKILL_MD),
        ("tone/scripts/check.sh", "#!/bin/sh\necho ok\n"),
        ("NOTICE", "built by a Containerfile\n"),
    ];
    let config = PLAIN_CONFIG;
    let layer = layer(&files);
    let manifest = image_manifest(config, &[&layer]);
    push(
        &registry.host(),
        "acme/tone",
        "1.0.0",
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
        &[config, &layer],
    );
    let home = Home::new();
    let out = home.root().join("out");
    install_into(&home, &format!("{}/acme/tone:1.0.0", registry.host()), &out).expect_code(0);
    let skill = out.join("tone");
    assert_eq!(
        std::fs::read_to_string(skill.join("SKILL.md")).unwrap(),
        SKILL_MD
    );
    assert_eq!(
        std::fs::read_to_string(skill.join("scripts/check.sh")).unwrap(),
        "#!/bin/sh\necho ok\n"
    );
    assert!(!skill.join("tone").exists(), "not one level too deep");
    assert!(!skill.join("NOTICE").exists(), "only the skill's folder");
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    let installs = list["installs"].as_array().unwrap();
    assert_eq!(installs.len(), 1, "{list}");
    assert_eq!(installs[0]["name"], "tone");
    assert_eq!(installs[0]["status"], "ok", "{list}");
    // The same through `pull -o`.
    let pulled = home.root().join("pulled");
    home.skillc(&[
        "pull",
        &format!("{}/acme/tone:1.0.0", registry.host()),
        "-o",
        pulled.to_str().unwrap(),
    ])
    .expect_code(0);
    assert!(pulled.join("tone/SKILL.md").is_file());
    assert!(!pulled.join("tone/tone").exists());
}

/// A plain image as `podman build` of `FROM scratch` + `COPY` makes it: no
/// annotations, one layer of the skill's files.
fn push_plain(host: &str, repo: &str, tag: &str, skill_md: &str) {
    push_image(
        host,
        repo,
        tag,
        &layer(&[("SKILL.md", skill_md), ("notes.md", tag)]),
    );
}

fn upgrade_outcome(home: &Home, name: &str) -> serde_json::Value {
    let answer = home
        .skillc(&["--json", "upgrade", name])
        .expect_code(0)
        .json();
    answer["outcomes"][0].clone()
}

#[test]
fn a_plain_images_version_is_its_release_tag_and_it_upgrades_once() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    push_plain(&host, "acme/tone", "1.0.0", SKILL_MD);
    let home = Home::new();
    let out = home.root().join("out");
    install_into(&home, &format!("{host}/acme/tone:1.0.0"), &out).expect_code(0);
    let card = std::fs::read_to_string(out.join("tone/skill.yaml")).unwrap();
    assert!(card.contains("version: \"1.0.0\""), "{card}");
    push_plain(&host, "acme/tone", "1.1.0", SKILL_MD);
    let list = home
        .skillc(&["--json", "list", "--upgradable"])
        .expect_code(0)
        .json();
    assert_eq!(list["installs"][0]["version"], "1.0.0", "{list}");
    assert_eq!(list["installs"][0]["latest"], "1.1.0", "{list}");
    let first = upgrade_outcome(&home, "tone");
    assert_eq!(first["result"], "upgraded", "{first}");
    assert_eq!(first["from"], "1.0.0");
    assert_eq!(first["to"], "1.1.0");
    let again = upgrade_outcome(&home, "tone");
    assert_eq!(again["result"], "up_to_date", "no reinstall loop: {again}");
    assert_eq!(
        std::fs::read_to_string(out.join("tone/notes.md")).unwrap(),
        "1.1.0"
    );
}

#[test]
fn a_plain_image_with_no_version_is_said_to_have_none_and_never_reinstalled() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    push_plain(&host, "acme/tone", "latest", SKILL_MD);
    push_plain(&host, "acme/tone", "1.1.0", SKILL_MD);
    let home = Home::new();
    let out = home.root().join("out");
    install_into(&home, &format!("{host}/acme/tone:latest"), &out).expect_code(0);
    let card = std::fs::read_to_string(out.join("tone/skill.yaml")).unwrap();
    assert!(!card.contains("version"), "no version is claimed: {card}");
    let list = home
        .skillc(&["--json", "list", "--upgradable"])
        .expect_code(0)
        .json();
    assert!(list["installs"][0]["version"].is_null(), "{list}");
    assert!(
        list["installs"][0]["latest"].is_null(),
        "not offered: {list}"
    );
    let history_before = skilld_tests::helper::skills::history(&home).len();
    for _ in 0..2 {
        let outcome = upgrade_outcome(&home, "tone");
        assert_eq!(outcome["result"], "unversioned", "{outcome}");
        assert!(
            outcome["message"]
                .as_str()
                .unwrap()
                .contains(&format!("skillc install {host}/acme/tone:TAG")),
            "{outcome}"
        );
    }
    let check = home.skillc(&["--json", "check"]).expect_code(0).json();
    let outcome = &check["outcomes"][0];
    assert_eq!(outcome["result"], "unversioned", "{check}");
    assert_eq!(
        skilld_tests::helper::skills::history(&home).len(),
        history_before,
        "nothing was reinstalled"
    );
    // Its SKILL.md's metadata.version, when the image says nothing else.
    let versioned = "---\nname: tone\ndescription: Keeps a steady tone in replies.\nmetadata:\n  version: \"2.0.0\"\n---\n# Tone\n";
    push_plain(&host, "acme/tone", "edge", versioned);
    let other = home.root().join("other");
    install_into(&home, &format!("{host}/acme/tone:edge"), &other).expect_code(0);
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    let edge = list["installs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["path"]
                .as_str()
                .unwrap()
                .starts_with(other.to_str().unwrap())
        })
        .unwrap()
        .clone();
    assert_eq!(edge["version"], "2.0.0", "{list}");
}

/// An uncompressed tar of entries: regular files `(path, Some(content))`
/// and symlinks `(path, None)` with the target after `->` in the path.
fn tar_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in entries {
        let mut header = tar::Header::new_gnu();
        if let Some((link, target)) = path.split_once(" -> ") {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            header.set_mode(0o777);
            builder.append_link(&mut header, link, target).unwrap();
        } else {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            builder
                .append_data(&mut header, path, content.as_bytes())
                .unwrap();
        }
    }
    builder.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// `data` compressed by the zstd command (Debian's `zstd`).
fn zstd(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    skilld_tests::helper::tools::require("zstd", "zstd");
    let mut child = std::process::Command::new("zstd")
        .args(["-q", "-c", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

/// Push a plain image of `layers` (media type, bytes).
fn push_layers(host: &str, repo: &str, tag: &str, layers: &[(&str, Vec<u8>)]) {
    let refs: Vec<(&str, &[u8])> = layers.iter().map(|(t, l)| (*t, l.as_slice())).collect();
    raw::push_layers(host, repo, tag, &refs);
}

#[test]
fn layers_apply_in_order_with_whiteouts_in_gzip_plain_and_zstd() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let v2 = SKILL_MD.replace("# Tone", "# Tone, second edition");
    push_layers(
        &host,
        "acme/tone",
        "1.0.0",
        &[
            (
                "application/vnd.oci.image.layer.v1.tar+gzip",
                gzip(&tar_of(&[
                    ("SKILL.md", SKILL_MD),
                    ("old.md", "removed by a whiteout"),
                    ("docs/a.md", "a"),
                    ("docs/b.md", "b"),
                    ("keep/k.md", "k"),
                ])),
            ),
            (
                "application/vnd.oci.image.layer.v1.tar",
                tar_of(&[
                    ("SKILL.md", &v2),
                    (".wh.old.md", ""),
                    ("docs/.wh..wh..opq", ""),
                    ("docs/c.md", "c"),
                ]),
            ),
            (
                "application/vnd.oci.image.layer.v1.tar+zstd",
                zstd(&tar_of(&[("scripts/run.sh", "#!/bin/sh\n")])),
            ),
        ],
    );
    let home = Home::new();
    let out = home.root().join("out");
    install_into(&home, &format!("{host}/acme/tone:1.0.0"), &out).expect_code(0);
    let skill = out.join("tone");
    let mut found: Vec<String> = Vec::new();
    fn walk(dir: &std::path::Path, rel: &str, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let name = format!("{rel}{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &format!("{name}/"), found);
            } else {
                found.push(name);
            }
        }
    }
    walk(&skill, "", &mut found);
    found.sort();
    assert_eq!(
        found,
        [
            "SKILL.md",
            "docs/c.md",
            "keep/k.md",
            "scripts/run.sh",
            "skill.yaml"
        ],
        "later layers win, whiteouts remove and are never written"
    );
    assert_eq!(std::fs::read_to_string(skill.join("SKILL.md")).unwrap(), v2);
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(list["installs"][0]["status"], "ok", "{list}");
    assert_eq!(list["installs"][0]["version"], "1.0.0", "{list}");
}

#[test]
fn a_link_chain_across_layers_that_escapes_is_refused() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    // Each link stays inside on its own text; together `d/esc` is `..` of
    // the skill's root.
    push_layers(
        &host,
        "acme/chain",
        "1.0.0",
        &[
            (
                "application/vnd.oci.image.layer.v1.tar",
                tar_of(&[("SKILL.md", SKILL_MD), ("d/up -> ..", "")]),
            ),
            (
                "application/vnd.oci.image.layer.v1.tar",
                tar_of(&[("d/esc -> up/..", "")]),
            ),
        ],
    );
    let home = Home::new();
    let out = home.root().join("out");
    let run = install_into(&home, &format!("{host}/acme/chain:1.0.0"), &out).expect_code(1);
    assert!(
        run.stderr.contains("\"d/esc\"") && run.stderr.contains("symlink"),
        "{}",
        run.stderr
    );
    nothing_installed(&home, &out);
}

#[test]
fn a_later_layer_cannot_write_through_an_earlier_layers_link() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    push_layers(
        &host,
        "acme/through",
        "1.0.0",
        &[
            (
                "application/vnd.oci.image.layer.v1.tar",
                tar_of(&[("SKILL.md", SKILL_MD), ("docs -> scripts", "")]),
            ),
            (
                "application/vnd.oci.image.layer.v1.tar",
                tar_of(&[("docs/x.md", "through the link")]),
            ),
        ],
    );
    let home = Home::new();
    let out = home.root().join("out");
    let run = install_into(&home, &format!("{host}/acme/through:1.0.0"), &out).expect_code(1);
    assert!(
        run.stderr.contains("goes through a symlink"),
        "{}",
        run.stderr
    );
    nothing_installed(&home, &out);
}

/// A one-layer skill image whose notes.md says `note`: its manifest and
/// blobs, for an index to name.
fn skill_image(note: &str) -> (Vec<u8>, Vec<Vec<u8>>) {
    let config = PLAIN_CONFIG.to_vec();
    let layer = layer(&[("SKILL.md", SKILL_MD), ("notes.md", note)]);
    (image_manifest(&config, &[&layer]), vec![config, layer])
}

/// Push an image index at `repo:tag` of `children` (platform, note) plus,
/// with `attest`, a `docker buildx` attestation manifest; the index digest.
fn push_index(
    host: &str,
    repo: &str,
    tag: &str,
    children: &[(&str, &str)],
    attest: bool,
) -> String {
    use raw::MANIFEST;
    let mut entries = Vec::new();
    for (platform, note) in children {
        let (manifest, blobs) = skill_image(note);
        let refs: Vec<&[u8]> = blobs.iter().map(Vec::as_slice).collect();
        push(host, repo, &digest(&manifest), MANIFEST, &manifest, &refs);
        let (os, arch) = platform.split_once('/').unwrap();
        entries.push(serde_json::json!({
            "mediaType": MANIFEST, "digest": digest(&manifest), "size": manifest.len(),
            "platform": {"os": os, "architecture": arch},
        }));
    }
    if attest {
        let config = br#"{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
        let statement = br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}"#;
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": digest(statement), "size": statement.len(),
                        "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}}],
        }))
        .unwrap();
        push(
            host,
            repo,
            &digest(&manifest),
            MANIFEST,
            &manifest,
            &[config, statement],
        );
        entries.push(serde_json::json!({
            "mediaType": MANIFEST, "digest": digest(&manifest), "size": manifest.len(),
            "platform": {"os": "unknown", "architecture": "unknown"},
            "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                            "vnd.docker.reference.digest": entries[0]["digest"]},
        }));
    }
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    }))
    .unwrap();
    push(
        host,
        repo,
        tag,
        "application/vnd.oci.image.index.v1+json",
        &index,
        &[],
    );
    digest(&index)
}

#[test]
fn an_image_index_installs_its_linux_amd64_manifest_and_names_the_index() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let index = push_index(
        &host,
        "acme/tone",
        "1.0.0",
        &[("linux/arm64", "arm64"), ("linux/amd64", "amd64")],
        true,
    );
    let home = Home::new();
    let out = home.root().join("out");
    install_into(&home, &format!("{host}/acme/tone:1.0.0"), &out).expect_code(0);
    assert_eq!(
        std::fs::read_to_string(out.join("tone/notes.md")).unwrap(),
        "amd64"
    );
    let card = std::fs::read_to_string(out.join("tone/skill.yaml")).unwrap();
    assert!(
        card.contains(&format!("source: \"{host}/acme/tone:1.0.0@{index}\"")),
        "provenance names the index the tag named: {card}"
    );
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(list["installs"][0]["version"], "1.0.0", "{list}");
    // By the index's digest, from the store, as from the registry.
    home.skillc(&["pull", &format!("{host}/acme/tone@{index}")])
        .expect_code(0);
    // A newer index: one upgrade, then nothing more.
    push_index(
        &host,
        "acme/tone",
        "1.1.0",
        &[("linux/amd64", "amd64 1.1")],
        true,
    );
    let first = upgrade_outcome(&home, "tone");
    assert_eq!(first["result"], "upgraded", "{first}");
    assert_eq!(first["to"], "1.1.0");
    assert_eq!(
        std::fs::read_to_string(out.join("tone/notes.md")).unwrap(),
        "amd64 1.1"
    );
    assert_eq!(upgrade_outcome(&home, "tone")["result"], "up_to_date");
}

#[test]
fn an_index_picks_its_only_image_and_names_the_platforms_when_it_cannot_choose() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    push_index(
        &host,
        "acme/arm",
        "1.0.0",
        &[("linux/arm64", "arm64")],
        true,
    );
    push_index(
        &host,
        "acme/many",
        "1.0.0",
        &[("linux/arm64", "arm64"), ("linux/s390x", "s390x")],
        false,
    );
    let home = Home::new();
    let out = home.root().join("out");
    install_into(&home, &format!("{host}/acme/arm:1.0.0"), &out).expect_code(0);
    assert_eq!(
        std::fs::read_to_string(out.join("tone/notes.md")).unwrap(),
        "arm64",
        "the one image beside an attestation"
    );
    let run = install_into(
        &home,
        &format!("{host}/acme/many:1.0.0"),
        &home.root().join("many"),
    )
    .expect_code(1);
    assert!(
        run.stderr
            .contains("an image index for linux/arm64, linux/s390x and no linux/amd64"),
        "{}",
        run.stderr
    );
}

#[test]
fn upgrades_say_which_newer_versions_they_skip_for_their_status() {
    use skilld_tests::helper::skills::publish;
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let author = Home::new();
    let prefix = format!("{host}/acme");
    publish(&author, &prefix, "tone", "1.0.0", "published");
    publish(&author, &prefix, "tone", "1.1.0", "published");
    // 1.2.0 under a plain release tag, but annotated testing; 1.3.0
    // published, then deprecated.
    publish(&author, &prefix, "tone", "1.2.0", "testing");
    author
        .skillc(&[
            "copy",
            &format!("{prefix}/tone:1.2.0-testing"),
            &format!("{prefix}/tone:1.2.0"),
        ])
        .expect_code(0);
    publish(&author, &prefix, "tone", "1.3.0", "published");
    author
        .skillc(&[
            "promote",
            &format!("{prefix}/tone:1.3.0"),
            "--to",
            "deprecated",
        ])
        .expect_code(0);

    let tags = author
        .skillc(&["tags", &format!("{prefix}/tone")])
        .expect_code(0);
    for tag in ["1.2.0", "1.3.0"] {
        let line = tags
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{tag} ")))
            .unwrap_or_else(|| panic!("{tag} in {}", tags.stdout));
        assert!(line.contains("not published: upgrades skip it"), "{line}");
    }
    let published = tags
        .stdout
        .lines()
        .find(|l| l.starts_with("1.1.0 "))
        .unwrap();
    assert!(!published.contains("not published"), "{published}");

    let home = Home::new();
    home.skillc(&["install", &format!("{prefix}/tone:1.0.0")])
        .expect_code(0);
    let list = home
        .skillc(&["--json", "list", "--upgradable"])
        .expect_code(0)
        .json();
    let item = &list["installs"][0];
    assert_eq!(item["latest"], "1.1.0", "{list}");
    assert_eq!(
        item["unpublished"],
        serde_json::json!([
            {"version": "1.3.0", "status": "deprecated"},
            {"version": "1.2.0", "status": "testing"},
        ]),
        "{list}"
    );
    let text = home.skillc(&["list", "--upgradable"]).expect_code(0);
    assert!(
        text.stdout.contains(
            "tone (agents): newer but not published, so upgrades skip it: 1.3.0 (deprecated), 1.2.0 (testing)"
        ),
        "{}",
        text.stdout
    );
    let upgraded = home.skillc(&["upgrade", "tone"]).expect_code(0);
    assert!(
        upgraded.stdout.contains("1.0.0 → 1.1.0; newer but not published, so skipped: 1.3.0 (deprecated), 1.2.0 (testing)"),
        "{}",
        upgraded.stdout
    );
    let again = home.skillc(&["upgrade", "tone"]).expect_code(0);
    assert!(
        again.stdout.contains("1.1.0 is the newest published version; newer but not published, so skipped: 1.3.0 (deprecated), 1.2.0 (testing)"),
        "{}",
        again.stdout
    );
}

#[test]
fn an_image_umoci_builds_layer_by_layer_with_a_whiteout_installs() {
    // A real peer writes the layers: umoci unpacks the image, files are
    // added (and one removed, which umoci records as a whiteout), umoci
    // repacks a layer each time; skopeo copies the layout to the registry.
    let umoci = skilld_tests::helper::tools::require("umoci", "umoci");
    let skopeo = skilld_tests::helper::tools::require("skopeo", "skopeo");
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    let image = format!("{}:1.0.0", layout.display());
    let run = |program: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new(program)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} {args:?}: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&umoci, &["init", "--layout", layout.to_str().unwrap()]);
    run(&umoci, &["new", "--image", &image]);
    let bundle = |name: &str| {
        let dir = work.path().join(name);
        run(
            &umoci,
            &[
                "unpack",
                "--rootless",
                "--image",
                &image,
                dir.to_str().unwrap(),
            ],
        );
        dir
    };
    let first = bundle("first");
    std::fs::write(first.join("rootfs/SKILL.md"), SKILL_MD).unwrap();
    std::fs::write(first.join("rootfs/old.md"), "removed by the next layer").unwrap();
    run(
        &umoci,
        &["repack", "--image", &image, first.to_str().unwrap()],
    );
    let second = bundle("second");
    std::fs::create_dir_all(second.join("rootfs/scripts")).unwrap();
    std::fs::write(
        second.join("rootfs/scripts/check.sh"),
        "#!/bin/sh\necho ok\n",
    )
    .unwrap();
    std::fs::remove_file(second.join("rootfs/old.md")).unwrap();
    run(
        &umoci,
        &["repack", "--image", &image, second.to_str().unwrap()],
    );
    run(
        &skopeo,
        &[
            "copy",
            "--dest-tls-verify=false",
            &format!("oci:{image}"),
            &format!("docker://{host}/acme/umoci:1.0.0"),
        ],
    );
    let home = Home::new();
    let inspected = home
        .skillc(&["--json", "inspect", &format!("{host}/acme/umoci:1.0.0")])
        .expect_code(0)
        .json();
    assert_eq!(
        inspected["layers"].as_array().unwrap().len(),
        2,
        "one layer per repack: {inspected}"
    );
    let out = home.root().join("out");
    install_into(&home, &format!("{host}/acme/umoci:1.0.0"), &out).expect_code(0);
    let skill = out.join("tone");
    assert_eq!(
        std::fs::read_to_string(skill.join("SKILL.md")).unwrap(),
        SKILL_MD
    );
    assert_eq!(
        std::fs::read_to_string(skill.join("scripts/check.sh")).unwrap(),
        "#!/bin/sh\necho ok\n"
    );
    assert!(!skill.join("old.md").exists(), "the whiteout removed it");
    let names: Vec<String> = std::fs::read_dir(&skill)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".wh.")),
        "no whiteout written: {names:?}"
    );
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(list["installs"][0]["version"], "1.0.0", "{list}");
    assert_eq!(list["installs"][0]["status"], "ok", "{list}");
}
