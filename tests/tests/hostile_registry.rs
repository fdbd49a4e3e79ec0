//! A registry that lies: every refusal is clear and leaves nothing in the
//! store (no blob, no tag), and the daemon keeps serving.

use serde_json::json;
use sha2::{Digest as _, Sha256};
use skilld_tests::helper::Home;
use skilld_tests::helper::fake::FakeRegistry;

fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// A skill manifest whose config and layer are `config` and `layer`.
fn manifest(config: &[u8], layer: &[u8], layer_type: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": config.len()},
        "layers": [{"mediaType": layer_type, "digest": digest(layer), "size": layer.len()}],
    }))
    .unwrap()
}

fn assert_refused(home: &Home, reference: &str, message: &str) {
    let run = home.skillc(&["pull", reference]).expect_code(1);
    assert!(run.stderr.contains(message), "{message}: {}", run.stderr);
    assert_eq!(home.blob_count(), 0, "{message}: nothing stored");
    let images = home.skillc(&["--json", "images"]).expect_code(0).json();
    assert_eq!(images["images"], json!([]), "{message}: nothing tagged");
    home.skillc(&["--no-autostart", "status"]).expect_code(0);
}

const LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

#[test]
fn a_blob_that_lies_about_its_digest_is_refused() {
    let fake = FakeRegistry::start();
    let config = skilld_tests::helper::raw::PLAIN_CONFIG;
    let layer = b"the real layer";
    fake.manifest("acme/liar", "1.0.0", &manifest(config, layer, LAYER));
    fake.blob(&digest(config), config);
    fake.blob(&digest(layer), b"the evil layer"); // same length, other content
    assert_refused(
        &Home::new(),
        &format!("{}/acme/liar:1.0.0", fake.host()),
        "refused, nothing stored",
    );
}

#[test]
fn a_blob_longer_than_declared_is_refused() {
    let fake = FakeRegistry::start();
    let config = br#"{}"#;
    let layer = b"short";
    fake.manifest("acme/long", "1", &manifest(config, layer, LAYER));
    fake.blob(&digest(config), config);
    fake.blob(&digest(layer), &vec![b'x'; 1 << 20]);
    assert_refused(
        &Home::new(),
        &format!("{}/acme/long:1", fake.host()),
        "more bytes than the manifest declares",
    );
}

#[test]
fn a_pinned_digest_that_does_not_match_is_refused() {
    let fake = FakeRegistry::start();
    let config = br#"{}"#;
    let layer = b"layer";
    fake.manifest("acme/pin", "1", &manifest(config, layer, LAYER));
    let wrong = digest(b"another manifest");
    fake.manifest("acme/pin", &wrong, &manifest(config, layer, LAYER));
    assert_refused(
        &Home::new(),
        &format!("{}/acme/pin@{wrong}", fake.host()),
        "refused, nothing stored",
    );
}

/// A project's lock pins a digest; the registry serves other content for
/// it: the sync is refused and writes nothing.
#[test]
fn a_locked_digest_served_with_other_content_is_refused_at_sync() {
    let fake = FakeRegistry::start();
    let (config, layer) = (br#"{}"#, b"layer");
    let wrong = digest(b"what the lock pinned");
    fake.manifest("acme/pin", &wrong, &manifest(config, layer, LAYER));
    let home = Home::new();
    let project = home.root().join("app");
    std::fs::create_dir_all(&project).unwrap();
    let source = format!("{}/acme/pin", fake.host());
    std::fs::write(
        project.join("skills.json"),
        json!({"skills": [{"name": "pin", "source": source, "version": "1"}]}).to_string(),
    )
    .unwrap();
    let lock = json!({"lockfileVersion": 1, "generatedAt": "2026-12-01T00:00:00Z", "skills": [{
        "name": "pin", "path": ".agents/skills/pin", "installedAt": "2026-12-01T00:00:00Z",
        "source": {"registry": fake.host(), "repository": "acme/pin", "tag": "1", "digest": wrong,
                   "ref": format!("{source}:1@{wrong}")}}]})
    .to_string();
    std::fs::write(project.join("skills.lock.json"), &lock).unwrap();
    let mut cmd = home.command("skillc");
    cmd.current_dir(&project).args(["sync", "--frozen"]);
    let run = skilld_tests::helper::Run::of(&mut cmd);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stderr.contains("refused, nothing stored"),
        "{}",
        run.stderr
    );
    assert!(!project.join(".agents").exists(), "nothing written");
    assert_eq!(
        std::fs::read_to_string(project.join("skills.lock.json")).unwrap(),
        lock
    );
    assert_eq!(home.blob_count(), 0);
}

#[test]
fn an_oversized_manifest_is_refused() {
    let fake = FakeRegistry::start();
    let mut huge = manifest(b"{}", b"x", LAYER);
    huge.pop();
    huge.extend_from_slice(b",\"annotations\":{\"pad\":\"");
    huge.extend(std::iter::repeat_n(b'a', 5 << 20));
    huge.extend_from_slice(b"\"}}");
    fake.manifest("acme/huge", "1", &huge);
    assert_refused(
        &Home::new(),
        &format!("{}/acme/huge:1", fake.host()),
        "over the",
    );
}

#[test]
fn images_that_are_not_skills_are_refused_naming_their_media_types() {
    let fake = FakeRegistry::start();
    let config = br#"{}"#;
    // A Helm chart: an OCI artifact, but no tar of files skilld unpacks
    // (plain tar, gzip and zstd layers are installed: see interop_forms).
    fake.manifest(
        "acme/plain",
        "1",
        &manifest(
            config,
            b"x",
            "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        ),
    );
    fake.blob(&digest(config), config);
    let home = Home::new();
    assert_refused(
        &home,
        &format!("{}/acme/plain:1", fake.host()),
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
    );
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []})).unwrap();
    fake.manifest("acme/index", "1", &index);
    std::fs::write(
        fake.root().join("manifests/acme/index/1.type"),
        "application/vnd.oci.image.index.v1+json",
    )
    .unwrap();
    let run = home
        .skillc(&["pull", &format!("{}/acme/index:1", fake.host())])
        .expect_code(1);
    assert!(
        run.stderr.contains("index") || run.stderr.contains("not"),
        "{}",
        run.stderr
    );
    assert_eq!(home.blob_count(), 0);
}

#[test]
fn a_hostile_layer_is_stored_but_never_unpacked() {
    // The layer's digest is honest, its content is a path traversal: the
    // pull may keep the blob, but -o must refuse and write nothing outside.
    let fake = FakeRegistry::start();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut header = tar::Header::new_gnu();
    let name = b"../../escaped";
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_size(4);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append(&header, &b"evil"[..]).unwrap();
    let layer = tar.into_inner().unwrap().finish().unwrap();
    let config = br#"{}"#;
    fake.manifest("acme/evil", "1", &manifest(config, &layer, LAYER));
    fake.blob(&digest(config), config);
    fake.blob(&digest(&layer), &layer);
    let home = Home::new();
    let out = home.root().join("out").join("inner");
    let run = home
        .skillc(&[
            "pull",
            &format!("{}/acme/evil:1", fake.host()),
            "-o",
            out.to_str().unwrap(),
        ])
        .expect_code(1);
    assert!(run.stderr.contains("climbs out"), "{}", run.stderr);
    assert!(!home.root().join("escaped").exists() && !home.root().join("out/escaped").exists());
    let left: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.count())
        .into_iter()
        .collect();
    assert_eq!(
        left,
        [0],
        "no half-unpacked folder is left in {}",
        out.display()
    );
}

/// A layer of raw tar entries (name, type, mode, data, link), hostile names kept.
fn raw_layer(entries: &[(&str, tar::EntryType, u32, &[u8], &str)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, kind, mode, data, link) in entries {
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_entry_type(*kind);
        header.set_mode(*mode);
        header.set_size(data.len() as u64);
        if !link.is_empty() {
            header.set_link_name(link).unwrap();
        }
        header.set_cksum();
        tar.append(&header, *data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

#[test]
fn hostile_layers_never_install_and_never_write_outside() {
    use tar::EntryType as T;
    let fake = FakeRegistry::start();
    let skill_md: &[u8] = b"---\nname: evil\ndescription: d\n---\n";
    let zeros = vec![0u8; 3 << 20];
    let many: Vec<String> = (0..300).map(|i| format!("f{i}")).collect();
    let mut many_entries: Vec<(&str, T, u32, &[u8], &str)> =
        vec![("SKILL.md", T::Regular, 0o644, skill_md, "")];
    many_entries.extend(
        many.iter()
            .map(|n| (n.as_str(), T::Regular, 0o644, &b""[..], "")),
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "traversal",
            raw_layer(&[
                ("SKILL.md", T::Regular, 0o644, skill_md, ""),
                ("../../../outside", T::Regular, 0o644, b"x", ""),
            ]),
            "climbs out",
        ),
        (
            "absolute",
            raw_layer(&[("/tmp/skilld-evil-absolute", T::Regular, 0o644, b"x", "")]),
            "absolute path",
        ),
        (
            "symlink",
            raw_layer(&[
                ("SKILL.md", T::Regular, 0o644, skill_md, ""),
                ("link", T::Symlink, 0o777, b"", "../../.."),
            ]),
            "outside the skill",
        ),
        (
            "hardlink",
            raw_layer(&[
                ("SKILL.md", T::Regular, 0o644, skill_md, ""),
                ("hard", T::Link, 0o644, b"", "/etc/passwd"),
            ]),
            "hardlink",
        ),
        (
            "device",
            raw_layer(&[
                ("SKILL.md", T::Regular, 0o644, skill_md, ""),
                ("dev", T::Char, 0o644, b"", ""),
            ]),
            "device node",
        ),
        (
            "setuid",
            raw_layer(&[
                ("SKILL.md", T::Regular, 0o644, skill_md, ""),
                ("suid", T::Regular, 0o4755, b"x", ""),
            ]),
            "setuid",
        ),
        (
            "bomb",
            raw_layer(&[
                ("SKILL.md", T::Regular, 0o644, skill_md, ""),
                ("zeros", T::Regular, 0o644, &zeros, ""),
            ]),
            "more than",
        ),
        ("entries", raw_layer(&many_entries), "more than"),
    ];
    let home = Home::new();
    home.write_config("build:\n  max_bytes: 1048576\n  max_files: 100\n");
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    fake.blob(&digest(config), config);
    for (i, (what, layer, message)) in cases.iter().enumerate() {
        let tag = format!("{i}");
        fake.manifest("acme/evil", &tag, &manifest(config, layer, LAYER));
        fake.blob(&digest(layer), layer);
        let out = home.root().join("targets").join(what);
        std::fs::create_dir_all(&out).unwrap();
        let run = home
            .skillc(&[
                "install",
                &format!("{}/acme/evil:{tag}", fake.host()),
                "-o",
                out.to_str().unwrap(),
            ])
            .expect_code(1);
        assert!(run.stderr.contains(message), "{what}: {}", run.stderr);
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "{what}: nothing left in the target"
        );
        assert!(
            !home.root().join("outside").exists() && !home.root().join("targets/outside").exists(),
            "{what}"
        );
        assert!(
            !std::path::Path::new("/tmp/skilld-evil-absolute").exists(),
            "{what}"
        );
        home.skillc(&["--no-autostart", "status"]).expect_code(0);
    }
    let list = home.skillc(&["--json", "list"]).expect_code(0).json();
    assert_eq!(list["installs"], json!([]), "no install was recorded");
}

/// A signatures manifest for `digest` whose layers are `layers`
/// (descriptors as JSON), with an empty config served beside it.
fn signatures(fake: &FakeRegistry, repo: &str, image: &str, layers: Vec<serde_json::Value>) {
    let config = br#"{}"#;
    fake.blob(&digest(config), config);
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": config.len()},
        "layers": layers,
    }))
    .unwrap();
    let tag = format!("sha256-{}.sig", image.trim_start_matches("sha256:"));
    fake.manifest(repo, &tag, &body);
}

#[test]
fn hostile_signatures_are_refused_without_harm() {
    let fake = FakeRegistry::start();
    let home = Home::with_env(&[("COSIGN_PASSWORD", std::ffi::OsStr::new("pw"))]);
    let key = home.root().join("cosign");
    home.skillc(&["keygen", "--output-key-prefix", key.to_str().unwrap()])
        .expect_code(0);
    home.skillc(&["daemon", "stop"]).expect_code(0);
    home.write_config(&format!(
        "trust:\n  default: {{type: signed, keys: [{}]}}\n",
        key.with_extension("pub").display()
    ));
    let config = skilld_tests::helper::raw::PLAIN_CONFIG;
    let layer = b"never unpacked: refused first";
    let image = manifest(config, layer, LAYER);
    fake.blob(&digest(config), config);
    fake.blob(&digest(layer), layer);
    let payload = br#"{"critical":{}}"#;
    let signature = |size: usize, annotation: &str| {
        json!({"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
               "digest": digest(payload), "size": size,
               "annotations": {"dev.cosignproject.cosign/signature": annotation}})
    };
    fake.blob(&digest(payload), payload);
    let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
        (
            "many",
            (0..1000)
                .map(|_| signature(payload.len(), "AAAA"))
                .collect(),
            "1000 signatures, over the 64 read",
        ),
        (
            "bigpayload",
            vec![signature(64 << 20, "AAAA")],
            "the payload cannot be read",
        ),
        (
            "garbage",
            vec![signature(payload.len(), "not base64 at all!")],
            "no given key verifies",
        ),
    ];
    let out = home.root().join("skills");
    for (name, layers, message) in cases {
        let repo = format!("acme/{name}");
        fake.manifest(&repo, "1.0.0", &image);
        signatures(&fake, &repo, &digest(&image), layers);
        let run = home
            .skillc(&[
                "install",
                &format!("{}/{repo}:1.0.0", fake.host()),
                "-o",
                out.to_str().unwrap(),
            ])
            .expect_code(1);
        assert!(run.stderr.contains(message), "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("trust rule default (signed)"),
            "{name}: {}",
            run.stderr
        );
        assert!(
            !out.exists() || std::fs::read_dir(&out).unwrap().next().is_none(),
            "{name}: something was written"
        );
        home.skillc(&["--no-autostart", "status"]).expect_code(0);
    }
}
