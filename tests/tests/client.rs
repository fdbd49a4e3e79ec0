//! `skillc` against real daemons: autostart, daemon start/stop/status,
//! exit codes, `--json`, protocol mismatch.

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::time::Duration;

use skilld_tests::helper::{Home, wait_until};

fn daemon_pid(home: &Home) -> u64 {
    home.skillc(&["--no-autostart", "--json", "status"])
        .expect_code(0)
        .json()["pid"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_client_with_no_daemon_autostarts_one() {
    let home = Home::new();
    assert!(!home.socket().exists());
    let run = home.skillc(&["--json", "status"]).expect_code(0);
    let status = run.json();
    assert_eq!(status["paths"]["socket"], home.socket().to_str().unwrap());
    // The autostarted daemon keeps running after the client exits.
    assert_eq!(daemon_pid(&home), status["pid"].as_u64().unwrap());
    assert!(
        home.skilld_home().join("skilld.log").exists(),
        "its log goes to skilld.log"
    );
}

#[test]
fn concurrent_clients_start_one_daemon() {
    let home = Home::new();
    let handles: Vec<_> = (0..6)
        .map(|_| {
            home.command("skillc")
                .args(["--json", "status"])
                .spawn_output()
        })
        .collect();
    let mut pids: Vec<u64> = handles
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["pid"]
                .as_u64()
                .unwrap()
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(
        pids.len(),
        1,
        "all six clients, started at once, share one daemon: {pids:?}"
    );
}

trait SpawnOutput {
    fn spawn_output(&mut self) -> std::process::Child;
}

impl SpawnOutput for std::process::Command {
    fn spawn_output(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

#[test]
fn no_autostart_fails_with_what_to_do() {
    let home = Home::new();
    let run = home.skillc(&["--no-autostart", "status"]).expect_code(1);
    assert!(run.stderr.contains("skillc daemon start"), "{}", run.stderr);
    assert!(!home.socket().exists(), "nothing was started");
    let run = home
        .skillc(&["--no-autostart", "--json", "status"])
        .expect_code(1);
    assert_eq!(run.json()["error"]["code"], "unavailable");
}

#[test]
fn daemon_start_stop_status() {
    let home = Home::new();
    let run = home.skillc(&["daemon", "status"]).expect_code(1);
    assert!(run.stdout.contains("not running"), "{}", run.stdout);
    assert!(!home.socket().exists(), "daemon status never starts one");

    let run = home.skillc(&["daemon", "start"]).expect_code(0);
    assert!(run.stdout.starts_with("started skilld"), "{}", run.stdout);
    let pid = daemon_pid(&home);
    let run = home.skillc(&["daemon", "start"]).expect_code(0);
    assert!(run.stdout.contains("already running"), "{}", run.stdout);
    assert_eq!(daemon_pid(&home), pid);
    home.skillc(&["daemon", "status"]).expect_code(0);

    let run = home.skillc(&["daemon", "stop"]).expect_code(0);
    assert!(
        run.stdout.contains(&format!("stopped skilld (pid {pid})")),
        "{}",
        run.stdout
    );
    assert!(
        !home.socket().exists(),
        "stop waits until the socket is gone"
    );
    let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    wait_until(
        "the daemon process to exit",
        Duration::from_secs(10),
        || std::fs::read_to_string(proc_dir.join("stat")).map_or(true, |s| s.contains(") Z ")),
    );
    home.skillc(&["daemon", "stop"]).expect_code(0);
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let home = Home::new();
    let run = home.skillc(&["no-such-command"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let run = home.skillc(&["--help"]).expect_code(0);
    assert!(run.stdout.contains("Exit status"), "{}", run.stdout);
    assert!(!home.socket().exists());
}

#[test]
fn a_daemon_speaking_another_protocol_is_refused_with_how_to_restart() {
    let home = Home::new();
    let run_dir = home.skilld_home().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    let listener = UnixListener::bind(home.socket()).unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        let body = r#"{"version":"9.0.0","protocol":999}"#;
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nskilld-protocol: 999\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let run = home.skillc(&["--no-autostart", "status"]).expect_code(1);
    server.join().unwrap();
    assert!(run.stderr.contains("protocol 999"), "{}", run.stderr);
    assert!(run.stderr.contains("skillc daemon stop"), "{}", run.stderr);
}

#[test]
fn a_daemon_error_is_shown_with_its_message() {
    let home = Home::new();
    let run_dir = home.skilld_home().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    // A daemon that answers 503 with an error object: the client prints the
    // message as sent and, with --json, the object as sent.
    let listener = UnixListener::bind(home.socket()).unwrap();
    let body = r#"{"error":{"code":"unavailable","message":"the daemon is busy; retry shortly"}}"#;
    let server = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 503 Service Unavailable\r\nskilld-protocol: 1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let run = home.skillc(&["--no-autostart", "status"]).expect_code(1);
    assert_eq!(
        run.stderr.trim(),
        "skillc: error: the daemon is busy; retry shortly"
    );
    let run = home
        .skillc(&["--no-autostart", "--json", "status"])
        .expect_code(1);
    assert_eq!(run.stdout.trim(), body);
    server.join().unwrap();
}
