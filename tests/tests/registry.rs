//! Push and pull against a real registry (CNCF distribution from the
//! harness) in its three variants, credentials from every source, and the
//! errors users meet: wrong password, nothing listening, a missing tag.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;
use skilld_tests::helper::registry::{PASSWORD, USER};
use skilld_tests::helper::tools::{copy_tree, testdata};
use skilld_tests::helper::{Home, Registry, Run, Variant};

/// Build the toolbox fixture in `home` tagged for `registry`; the reference.
fn build_for(home: &Home, host: &str) -> String {
    let dir = home.root().join("src").join("toolbox");
    copy_tree(&testdata().join("valid/toolbox"), &dir);
    let tag = format!("{host}/acme/toolbox");
    let built = home
        .skillc(&["--json", "build", "-t", &tag, dir.to_str().unwrap()])
        .expect_code(0)
        .json();
    built["reference"].as_str().unwrap().to_string()
}

/// Every entry under `dir`: path, kind, mode and content (or link target).
fn listing(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o777;
            if meta.file_type().is_symlink() {
                out.push((
                    rel,
                    format!("link {}", std::fs::read_link(&path).unwrap().display()),
                ));
            } else if meta.is_dir() {
                out.push((rel.clone(), format!("dir {mode:o}")));
                walk(root, &path, out);
            } else {
                let data = std::fs::read(&path).unwrap();
                out.push((
                    rel,
                    format!(
                        "file {mode:o} {}",
                        base64::engine::general_purpose::STANDARD.encode(data)
                    ),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// `skillc --json login HOST -u USER --password-stdin` with `password`:
/// exit code, stdout, stderr.
fn login(home: &Home, host: &str, password: &str) -> (Option<i32>, String, String) {
    let run = home.login(host, password);
    (run.code, run.stdout, run.stderr)
}

/// Push from one home, pull into a fresh one, compare manifests and trees.
fn round_trip(source: &Home, target: &Home, host: &str) {
    let reference = build_for(source, host);
    let pushed = source
        .skillc(&["--json", "push", &reference])
        .expect_code(0)
        .json();
    assert_eq!(pushed["pushed_blobs"], 2, "config and layer sent");
    let again = source
        .skillc(&["--json", "push", &reference])
        .expect_code(0)
        .json();
    assert_eq!(
        (
            again["pushed_blobs"].as_u64(),
            again["skipped_blobs"].as_u64()
        ),
        (Some(0), Some(2)),
        "nothing sent twice"
    );

    let out = target.root().join("out");
    let pulled = target
        .skillc(&["--json", "pull", &reference, "-o", out.to_str().unwrap()])
        .expect_code(0)
        .json();
    assert_eq!(pulled["digest"], pushed["digest"]);
    assert_eq!(pulled["fetched_blobs"], 2);
    let digest = pushed["digest"].as_str().unwrap();
    assert_eq!(
        std::fs::read(source.blob(digest)).unwrap(),
        std::fs::read(target.blob(digest)).unwrap(),
        "byte-identical manifests"
    );
    let unpacked = PathBuf::from(pulled["unpacked_to"].as_str().unwrap());
    assert_eq!(unpacked, out.join("toolbox"));
    assert_eq!(
        listing(&unpacked),
        listing(&source.root().join("src/toolbox")),
        "identical trees, modes included"
    );
    let images = target.skillc(&["--json", "images"]).expect_code(0).json();
    assert_eq!(images["images"][0]["reference"], reference.as_str());
}

#[test]
fn round_trip_through_an_anonymous_registry() {
    let registry = Registry::start(Variant::Anonymous);
    round_trip(&Home::new(), &Home::new(), &registry.host());
}

#[test]
fn round_trip_through_a_tls_registry_with_its_ca() {
    let registry = Registry::start(Variant::Tls);
    let host = registry.host();
    let config = format!(
        "registries:\n  \"{host}\":\n    ca_file: {}\n",
        registry.ca_cert().display()
    );
    let source = Home::new();
    source.write_config(&config);
    let target = Home::new();
    target.write_config(&config);
    round_trip(&source, &target, &host);

    // Without the CA: a certificate error that names the ca_file key.
    let stranger = Home::new();
    let run = stranger
        .skillc(&["pull", &format!("{host}/acme/toolbox:2.1.0-draft")])
        .expect_code(1);
    assert!(run.stderr.contains("TLS with"), "{}", run.stderr);
    assert!(run.stderr.contains("ca_file"), "{}", run.stderr);
    assert_eq!(stranger.blob_count(), 0);
    // insecure skips verification.
    let careless = Home::new();
    careless.write_config(&format!("registries:\n  \"{host}\":\n    insecure: true\n"));
    careless
        .skillc(&["pull", &format!("{host}/acme/toolbox:2.1.0-draft")])
        .expect_code(0);
}

#[test]
fn basic_auth_login_push_and_pull() {
    let registry = Registry::start(Variant::BasicAuth);
    let host = registry.host();
    let source = Home::new();
    let reference = build_for(&source, &host);

    let run = source.skillc(&["push", &reference]).expect_code(1);
    assert!(
        run.stderr.contains(&format!("skillc login {host}")),
        "{}",
        run.stderr
    );

    let (code, stdout, _) = login(&source, &host, "wrong password");
    assert_eq!(code, Some(1));
    assert!(stdout.contains("unauthorized"), "{stdout}");
    assert!(
        !stdout.contains("wrong password"),
        "the password is never echoed"
    );
    let auth_file = source.skilld_home().join("auth.json");
    assert!(!auth_file.exists(), "wrong credentials are not saved");

    let (code, stdout, stderr) = login(&source, &host, PASSWORD);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout.contains(PASSWORD));
    assert_eq!(
        std::fs::metadata(&auth_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let saved: Value = serde_json::from_slice(&std::fs::read(&auth_file).unwrap()).unwrap();
    assert!(
        saved["auths"][&host]["auth"].is_string(),
        "podman auth.json format: {saved}"
    );

    source.skillc(&["push", &reference]).expect_code(0);
    let log = std::fs::read_to_string(source.skilld_home().join("skilld.log")).unwrap();
    assert!(!log.contains(PASSWORD), "credentials never reach the log");

    // A second home reads the same credentials through REGISTRY_AUTH_FILE.
    let target = Home::with_env(&[("REGISTRY_AUTH_FILE", auth_file.as_os_str())]);
    target.skillc(&["pull", &reference]).expect_code(0);
    let nobody = Home::new();
    let run = nobody.skillc(&["pull", &reference]).expect_code(1);
    assert!(
        run.stderr.contains(&format!("skillc login {host}")),
        "{}",
        run.stderr
    );

    source.skillc(&["logout", &host]).expect_code(0);
    let saved: Value = serde_json::from_slice(&std::fs::read(&auth_file).unwrap()).unwrap();
    assert!(saved["auths"].get(&host).is_none());
}

fn auth_entry() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
}

#[test]
fn credentials_are_found_in_podman_and_docker_files_and_helpers() {
    let registry = Registry::start(Variant::BasicAuth);
    let host = registry.host();
    let publisher = Home::new();
    let reference = build_for(&publisher, &host);
    let file = format!(r#"{{"auths":{{"{host}":{{"auth":"{}"}}}}}}"#, auth_entry());
    std::fs::write(publisher.root().join("auth.json"), &file).unwrap();
    let publisher = Home::with_env(&[(
        "REGISTRY_AUTH_FILE",
        publisher.root().join("auth.json").as_os_str(),
    )]);
    let reference = {
        // Rebuild in the home that has the credentials.
        let _ = reference;
        build_for(&publisher, &host)
    };
    publisher.skillc(&["push", &reference]).expect_code(0);

    // podman, $XDG_RUNTIME_DIR/containers/auth.json
    let runtime = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(runtime.path().join("containers")).unwrap();
    std::fs::write(runtime.path().join("containers/auth.json"), &file).unwrap();
    Home::with_env(&[("XDG_RUNTIME_DIR", runtime.path().as_os_str())])
        .skillc(&["pull", &reference])
        .expect_code(0);

    // podman, ~/.config/containers/auth.json
    let home = Home::new();
    std::fs::create_dir_all(home.user_home().join(".config/containers")).unwrap();
    std::fs::write(home.user_home().join(".config/containers/auth.json"), &file).unwrap();
    home.skillc(&["pull", &reference]).expect_code(0);

    // docker, $DOCKER_CONFIG/config.json auths (keys as docker writes them)
    let docker = tempfile::tempdir().unwrap();
    std::fs::write(
        docker.path().join("config.json"),
        format!(
            r#"{{"auths":{{"http://{host}/v1/":{{"auth":"{}"}}}},"currentContext":"default"}}"#,
            auth_entry()
        ),
    )
    .unwrap();
    Home::with_env(&[("DOCKER_CONFIG", docker.path().as_os_str())])
        .skillc(&["pull", &reference])
        .expect_code(0);

    // docker credHelpers and credsStore, through a helper script on PATH.
    let bin = tempfile::tempdir().unwrap();
    let helper = bin.path().join("docker-credential-skilldtest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\nif [ \"$1\" = get ] && [ \"$server\" = \"{host}\" ]; then\n  printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\nelse\n  echo 'credentials not found in native keychain'; exit 1\nfi\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    for config in [
        format!(r#"{{"credHelpers":{{"{host}":"skilldtest"}}}}"#),
        r#"{"credsStore":"skilldtest"}"#.to_string(),
    ] {
        let docker = tempfile::tempdir().unwrap();
        std::fs::write(docker.path().join("config.json"), &config).unwrap();
        let home = Home::with_env(&[
            ("DOCKER_CONFIG", docker.path().as_os_str()),
            ("PATH", OsStr::new(&path)),
        ]);
        let run = home.skillc(&["pull", &reference]);
        assert_eq!(run.code, Some(0), "{config}: {}", run.stderr);
    }
}

#[test]
fn a_missing_tag_names_the_tags_that_exist_and_tags_are_listed() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let home = Home::new();
    let reference = build_for(&home, &host);
    home.skillc(&["push", &reference]).expect_code(0);
    for version in ["2.1.0-testing", "2.1.0", "10.0.0", "2.0.0"] {
        home.skillc(&["tag", &reference, &format!("{host}/acme/toolbox:{version}")])
            .expect_code(0);
        home.skillc(&["push", &format!("{host}/acme/toolbox:{version}")])
            .expect_code(0);
    }
    let stranger = Home::new();
    let run = stranger
        .skillc(&["pull", &format!("{host}/acme/toolbox:9.9.9")])
        .expect_code(1);
    assert!(run.stderr.contains("was not found"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("has tags: 2.0.0, 2.1.0-draft, 2.1.0-testing, 2.1.0, 10.0.0"),
        "{}",
        run.stderr
    );
    assert_eq!(stranger.blob_count(), 0, "nothing partial stored");

    let tags = stranger
        .skillc(&["--json", "tags", &format!("{host}/acme/toolbox")])
        .expect_code(0)
        .json();
    let names: Vec<&str> = tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["2.0.0", "2.1.0-draft", "2.1.0-testing", "2.1.0", "10.0.0"],
        "semver order"
    );
    assert_eq!(
        tags["tags"][0]["status"], "draft",
        "status read from the manifest"
    );
    // All of them are the same draft manifest: none is published.
    let published = stranger
        .skillc(&[
            "--json",
            "tags",
            "--published",
            &format!("{host}/acme/toolbox"),
        ])
        .expect_code(0)
        .json();
    assert_eq!(published["tags"], serde_json::json!([]));
}

#[test]
fn remote_inspect_reads_manifest_and_config_only() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let home = Home::new();
    let reference = build_for(&home, &host);
    home.skillc(&["push", &reference]).expect_code(0);
    let local = home
        .skillc(&["--json", "inspect", &reference])
        .expect_code(0)
        .json();
    let stranger = Home::new();
    let remote = stranger
        .skillc(&["--json", "inspect", &reference])
        .expect_code(0)
        .json();
    for field in [
        "digest",
        "annotations",
        "config",
        "layers",
        "diff_ids",
        "version",
        "status",
        "format",
        "size",
    ] {
        assert_eq!(local[field], remote[field], "{field}");
    }
    assert_eq!(
        stranger.blob_count(),
        0,
        "inspect stores nothing, reads no layer"
    );
}

#[test]
fn nothing_listening_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = Home::new();
    let run = home
        .skillc(&["pull", &format!("127.0.0.1:{port}/a/b:1")])
        .expect_code(1);
    assert!(run.stderr.contains("cannot reach"), "{}", run.stderr);
    let run = home.skillc(&["pull", "acme/no-registry:1"]).expect_code(1);
    assert!(run.stderr.contains("names no registry"), "{}", run.stderr);
}

#[test]
fn skopeo_and_oras_read_what_we_push() {
    let skopeo = skilld_tests::helper::tools::require("skopeo", "skopeo");
    let umoci = skilld_tests::helper::tools::require("umoci", "umoci");
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let home = Home::new();
    let reference = build_for(&home, &host);
    let pushed = home
        .skillc(&["--json", "push", &reference])
        .expect_code(0)
        .json();

    let raw = Run::of(
        Command::new(&skopeo)
            .args(["inspect", "--tls-verify=false", "--raw"])
            .arg(format!("docker://{reference}")),
    );
    assert_eq!(raw.code, Some(0), "{}", raw.stderr);
    let manifest = raw.json();
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.version"],
        "2.1.0"
    );
    assert_eq!(manifest["annotations"]["io.skillimage.status"], "draft");

    let layout = home.root().join("copied");
    let run = Run::of(
        Command::new(&skopeo)
            .args(["copy", "--src-tls-verify=false"])
            .arg(format!("docker://{reference}"))
            .arg(format!("oci:{}:toolbox", layout.display())),
    );
    assert_eq!(run.code, Some(0), "skopeo copy: {}", run.stderr);
    let bundle = home.root().join("bundle");
    let run = Run::of(
        Command::new(&umoci)
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:toolbox", layout.display()))
            .arg(&bundle),
    );
    assert_eq!(run.code, Some(0), "umoci: {}", run.stderr);
    assert!(bundle.join("rootfs/SKILL.md").is_file());

    // The Python oras SDK pulls the layer; it takes a tar+gzip layer for a
    // packed folder and unpacks it into its output folder.
    let out = home.root().join("oras-out");
    let script = format!(
        "import oras.client\nc = oras.client.OrasClient(hostname='{host}', insecure=True)\nprint('\\n'.join(c.pull(target='{reference}', outdir='{}')))\n",
        out.display()
    );
    // (oras keeps what it unpacks under TMPDIR: the test's own, removed
    // with it.)
    let tmp = home.root().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let run = Run::of(
        Command::new("python3")
            .env("TMPDIR", &tmp)
            .args(["-c", &script]),
    );
    assert_eq!(run.code, Some(0), "pip install oras: {}", run.stderr);
    assert_eq!(
        std::fs::read(out.join("SKILL.md")).unwrap(),
        std::fs::read(testdata().join("valid/toolbox/SKILL.md")).unwrap(),
        "oras got the layer: {}",
        run.stdout
    );
    assert!(out.join("scripts/report.sh").is_file());
    let _ = pushed;
}

#[test]
fn an_agentskills_artifact_pushed_by_oras_pulls_and_unpacks() {
    let registry = Registry::start(Variant::Anonymous);
    let host = registry.host();
    let home = Home::new();
    let work = home.root().join("artifact");
    copy_tree(
        &testdata().join("valid/hello-world"),
        &work.join("hello-world"),
    );
    let run = Run::of(
        Command::new("tar")
            .arg("-czf")
            .arg(work.join("hello-world.tar.gz"))
            .arg("-C")
            .arg(&work)
            .arg("hello-world"),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    std::fs::write(
        work.join("config.json"),
        r#"{"name":"hello-world","version":"1.0.0"}"#,
    )
    .unwrap();
    let reference = format!("{host}/agentskills/hello-world:1.0.0");
    let script = format!(
        "import oras.client\nc = oras.client.OrasClient(hostname='{host}', insecure=True)\nc.push(target='{reference}', files=['{layer}:application/vnd.agentskills.skill.content.v1.tar+gzip'], manifest_config='{config}:application/vnd.agentskills.skill.config.v1+json', disable_path_validation=True)\n",
        layer = work.join("hello-world.tar.gz").display(),
        config = work.join("config.json").display(),
    );
    let run = Run::of(Command::new("python3").args(["-c", &script]));
    assert_eq!(
        run.code,
        Some(0),
        "oras push (pip install oras): {}",
        run.stderr
    );
    let out = home.root().join("out");
    let pulled = home
        .skillc(&["--json", "pull", &reference, "-o", out.to_str().unwrap()])
        .expect_code(0)
        .json();
    assert_eq!(
        pulled["unpacked_to"],
        out.join("hello-world").to_str().unwrap()
    );
    assert_eq!(listing(&out.join("hello-world")).len(), 2);
    assert_eq!(
        std::fs::read(out.join("hello-world/SKILL.md")).unwrap(),
        std::fs::read(testdata().join("valid/hello-world/SKILL.md")).unwrap()
    );
    let inspected = home
        .skillc(&["--json", "inspect", &reference])
        .expect_code(0)
        .json();
    assert_eq!(inspected["format"], "agentskills");
}

#[test]
fn bearer_token_challenge_login_push_and_pull() {
    let registry = Registry::start(Variant::Bearer);
    let host = registry.host();
    let source = Home::new();
    let reference = build_for(&source, &host);
    let run = source.skillc(&["push", &reference]).expect_code(1);
    assert!(
        run.stderr.contains(&format!("skillc login {host}")),
        "{}",
        run.stderr
    );

    let (code, stdout, _) = login(&source, &host, "wrong");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("refused the credentials"), "{stdout}");
    let (code, _, stderr) = login(&source, &host, PASSWORD);
    assert_eq!(code, Some(0), "{stderr}\nregistry log:\n{}", registry.log());
    source.skillc(&["push", &reference]).expect_code(0);

    let target = Home::new();
    assert_eq!(login(&target, &host, PASSWORD).0, Some(0));
    let out = target.root().join("out");
    target
        .skillc(&["pull", &reference, "-o", out.to_str().unwrap()])
        .expect_code(0);
    assert!(out.join("toolbox/SKILL.md").is_file());
    let tags = target
        .skillc(&["--json", "tags", &format!("{host}/acme/toolbox")])
        .expect_code(0)
        .json();
    assert_eq!(tags["tags"][0]["tag"], "2.1.0-draft");
}
