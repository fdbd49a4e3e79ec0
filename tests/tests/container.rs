//! The init-container image (`container/build.sh`): a valid OCI image
//! (read by `skopeo inspect`), whose static binaries run from its unpacked
//! root file system alone (a chroot: nothing of the host's libraries), and
//! whose `skillc pull --verify --key … -o /skills` works there with HOME
//! unwritable, as the init containers `collection generate --k8s
//! --init-container` prints run it.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use skilld_tests::helper::skills::publish;
use skilld_tests::helper::tools::require;
use skilld_tests::helper::{Home, Registry, Run, Variant};

/// Run `args` in a chroot of `root` (user and mount namespaces: no root
/// needed), with /dev and /proc bound as a container runtime provides
/// them, and only the image's environment.
fn in_chroot(root: &Path, env: &[String], args: &[&str]) -> Run {
    let unshare = require("unshare", "util-linux");
    let chroot = require("chroot", "coreutils");
    for dir in ["dev", "proc"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    let script = format!(
        "mount --rbind /dev {r}/dev && mount --rbind /proc {r}/proc && exec env -i {env} {c} {r} {args}",
        r = root.display(),
        c = chroot.display(),
        env = env.join(" "),
        args = args.join(" ")
    );
    Run::of(Command::new(unshare).args(["-r", "-m", "sh", "-c", &script]))
}

#[test]
fn the_init_container_image_is_valid_and_pulls_a_verified_skill_from_its_own_rootfs() {
    let umoci = require("umoci", "umoci");
    let skopeo = require("skopeo", "skopeo");
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    let build = Run::of(
        Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../container/build.sh"))
            .args(["--profile", "dev", "--tag", "test", "--out"])
            .arg(&layout),
    );
    assert_eq!(build.code, Some(0), "{}{}", build.stdout, build.stderr);
    let image = format!("oci:{}:test", layout.display());
    assert_eq!(build.stdout.trim(), image);

    // skopeo reads it as an image: linux/amd64, the entrypoint, the env.
    let inspect = Run::of(Command::new(&skopeo).args(["inspect", &image]));
    assert_eq!(inspect.code, Some(0), "{}", inspect.stderr);
    let info: Value = serde_json::from_str(&inspect.stdout).unwrap();
    assert_eq!(info["Os"], "linux");
    assert_eq!(info["Architecture"], "amd64");
    let env: Vec<String> = info["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(
        env.contains(&"SKILLD_HOME=/tmp/skilld".to_string()),
        "{env:?}"
    );
    let config = Run::of(Command::new(&skopeo).args(["inspect", "--config", &image]));
    let config: Value = serde_json::from_str(&config.stdout).unwrap();
    assert_eq!(config["config"]["Entrypoint"][0], "/usr/local/bin/skillc");
    assert_eq!(config["config"]["User"], "65532:65532");

    let bundle = work.path().join("bundle");
    let unpacked = Run::of(
        Command::new(&umoci)
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:test", layout.display()))
            .arg(&bundle),
    );
    assert_eq!(unpacked.code, Some(0), "{}", unpacked.stderr);
    let root = bundle.join("rootfs");
    assert!(root.join("usr/local/bin/skilld").is_file());
    let files: Vec<String> = walk(&root);
    assert!(
        files.iter().all(|f| !f.contains("/lib")),
        "nothing but the binaries and their files: {files:?}"
    );

    // A signed skill on a loopback registry, the key as the Secret gives it.
    let registry = Registry::start(Variant::Anonymous);
    let acme = format!("{}/acme", registry.host());
    let publisher = Home::with_env(&[("COSIGN_PASSWORD", OsStr::new("correct horse"))]);
    publish(&publisher, &acme, "tone", "1.0.0", "published");
    let prefix = publisher.root().join("team");
    publisher
        .skillc(&["keygen", "--output-key-prefix", prefix.to_str().unwrap()])
        .expect_code(0);
    let reference = format!("{acme}/tone:1.0.0");
    publisher
        .skillc(&[
            "sign",
            &reference,
            "--key",
            &format!("{}.key", prefix.display()),
        ])
        .expect_code(0);
    std::fs::create_dir_all(root.join("etc/skilld/keys")).unwrap();
    std::fs::copy(
        format!("{}.pub", prefix.display()),
        root.join("etc/skilld/keys/cosign.pub"),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("skills")).unwrap();

    // The image's environment; HOME points nowhere writable.
    let mut env: Vec<String> = env
        .into_iter()
        .filter(|e| !e.starts_with("HOME="))
        .collect();
    env.push("HOME=/nonexistent".into());
    let version = in_chroot(&root, &env, &["/usr/local/bin/skillc", "--version"]);
    assert_eq!(
        version.code,
        Some(0),
        "static: runs alone: {}",
        version.stderr
    );
    assert!(version.stdout.starts_with("skillc "), "{}", version.stdout);
    let pulled = pull_verified(&root, &env, &reference);
    assert_eq!(pulled.code, Some(0), "{}{}", pulled.stdout, pulled.stderr);
    assert!(root.join("skills/tone/SKILL.md").is_file());
    assert!(pulled.stdout.contains("verified"), "{}", pulled.stdout);

    // An unsigned skill is not unpacked.
    publish(&publisher, &acme, "other", "1.0.0", "published");
    let refused = pull_verified(&root, &env, &format!("{acme}/other:1.0.0"));
    assert_eq!(
        refused.code,
        Some(1),
        "{}{}",
        refused.stdout,
        refused.stderr
    );
    assert!(!root.join("skills/other").exists());
}

/// What an init container runs: `skillc pull --verify` of `reference`
/// into /skills, with the key the Secret gives; then the daemon it started
/// is stopped (a pod's init container ends with its process).
fn pull_verified(root: &Path, env: &[String], reference: &str) -> Run {
    let skillc = "/usr/local/bin/skillc";
    let key = "/etc/skilld/keys/cosign.pub";
    let run = in_chroot(
        root,
        env,
        &[
            skillc, "pull", "--verify", "--key", key, "-o", "/skills", reference,
        ],
    );
    let stop = in_chroot(root, env, &[skillc, "daemon", "stop"]);
    assert_eq!(stop.code, Some(0), "{}{}", stop.stdout, stop.stderr);
    run
}

/// Every file under `root`, relative.
fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out
}
