//! Running as a user service: the systemd units and the LaunchAgent are
//! valid, and socket activation works for real: `systemd-socket-activate`
//! hands skilld the socket, the first request starts it, and it exits when
//! idle.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use skilld_tests::helper::tools::{bin, require};
use skilld_tests::helper::{Home, Run, wait_until};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn systemd_analyze_accepts_the_units() {
    let analyze = require("systemd-analyze", "systemd");
    let dir = tempfile::tempdir().unwrap();
    let (home, runtime) = (dir.path().join("home"), dir.path().join("run"));
    std::fs::create_dir_all(home.join(".cargo/bin")).unwrap();
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    // ExecStart=%h/.cargo/bin/skilld must exist and be executable.
    std::os::unix::fs::symlink(bin("skilld"), home.join(".cargo/bin/skilld")).unwrap();
    let run = Run::of(
        Command::new(analyze)
            .args(["verify", "--user"])
            .arg(repo().join("systemd/skilld.socket"))
            .arg(repo().join("systemd/skilld.service"))
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &runtime),
    );
    assert_eq!(
        run.code,
        Some(0),
        "systemd-analyze verify: {}{}",
        run.stdout,
        run.stderr
    );
    let socket = std::fs::read_to_string(repo().join("systemd/skilld.socket")).unwrap();
    assert!(
        socket.contains("ListenStream=%t/skilld/skilld.sock") && socket.contains("SocketMode=0600")
    );
    let service = std::fs::read_to_string(repo().join("systemd/skilld.service")).unwrap();
    assert!(service.contains("Type=notify"));
}

#[test]
fn the_launch_agent_parses_with_a_socket_and_run_at_load() {
    let script = "import plistlib,sys; d=plistlib.load(open(sys.argv[1],'rb')); assert d['RunAtLoad'] is True; assert d['Sockets']['Listeners']['SockPathMode']==0o600; print(d['Label'])";
    let run = Run::of(
        Command::new("python3")
            .args(["-c", script])
            .arg(repo().join("launchd/dev.skilld.daemon.plist")),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "dev.skilld.daemon");
}

#[test]
fn socket_activation_starts_on_the_first_request_and_exits_when_idle() {
    let activate = require("systemd-socket-activate", "systemd");
    let home = Home::new();
    home.write_config("limits:\n  idle_timeout: 1s\n");
    let run_dir = home.skilld_home().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let socket = home.socket();
    let mut manager = Command::new(activate)
        .arg("-l")
        .arg(&socket)
        .arg("-E")
        .arg(format!("SKILLD_HOME={}", home.skilld_home().display()))
        .arg("-E")
        .arg(format!("HOME={}", home.user_home().display()))
        .arg(bin("skilld"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let manager_pid = manager.id();
    wait_until("the activation socket", Duration::from_secs(20), || {
        socket.exists()
    });
    // Nothing runs yet: the first request starts skilld on the handed-over socket.
    let status = home
        .skillc(&["--no-autostart", "--json", "status"])
        .expect_code(0)
        .json();
    assert_eq!(
        status["pid"], manager_pid,
        "skilld took over the activator's process"
    );
    home.skillc(&["--no-autostart", "status"]).expect_code(0);
    // With no client for the idle timeout, it exits cleanly.
    let mut code = None;
    wait_until("skilld to exit when idle", Duration::from_secs(20), || {
        code = manager.try_wait().unwrap();
        code.is_some()
    });
    assert_eq!(code.and_then(|c| c.code()), Some(0));
    assert!(
        socket.exists(),
        "the socket belongs to the service manager and is left in place"
    );
}

#[test]
fn service_install_writes_units_that_run_this_skilld() {
    let analyze = require("systemd-analyze", "systemd");
    let config = tempfile::tempdir().unwrap();
    let home = Home::with_env(&[("XDG_CONFIG_HOME", config.path().as_os_str())]);
    let run = home.skillc(&["service", "install"]).expect_code(0);
    let dir = config.path().join("systemd/user");
    let service = std::fs::read_to_string(dir.join("skilld.service")).unwrap();
    let skilld = std::fs::canonicalize(bin("skilld")).unwrap();
    assert!(
        service.contains(&format!("ExecStart={}", skilld.display())),
        "{service}"
    );
    assert!(dir.join("skilld.socket").is_file());
    // Here no user session bus answers: the commands to run are printed.
    assert!(
        run.stdout
            .contains("systemctl --user enable --now skilld.socket")
            || run.stdout.contains("enabled and started"),
        "{}",
        run.stdout
    );
    let runtime = tempfile::tempdir().unwrap();
    std::fs::set_permissions(runtime.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let verify = Run::of(
        Command::new(analyze)
            .args(["verify", "--user"])
            .arg(dir.join("skilld.socket"))
            .arg(dir.join("skilld.service"))
            .env("HOME", home.user_home())
            .env("XDG_RUNTIME_DIR", runtime.path()),
    );
    assert_eq!(verify.code, Some(0), "{}{}", verify.stdout, verify.stderr);
    home.skillc(&["service", "status"]).expect_code(0);
    home.skillc(&["service", "uninstall"]).expect_code(0);
    assert!(!dir.join("skilld.service").exists());
    home.skillc(&["service", "status"]).expect_code(1);
}
