//! The daemon's life: socket hygiene, single instance, stale sockets,
//! signals, configuration errors. Real `skilld` binaries in temp homes.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;

use rustix::process::Signal;
use skilld_tests::helper::{Home, http, wait_until};

#[test]
fn status_round_trip_reports_the_running_daemon() {
    let home = Home::new();
    let daemon = home.start_daemon();
    let run = home.skillc(&["--json", "status"]).expect_code(0);
    let status = run.json();
    assert_eq!(status["pid"], daemon.pid());
    assert_eq!(status["protocol"], skilld_proto::PROTOCOL);
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["paths"]["socket"], home.socket().to_str().unwrap());
    assert_eq!(
        status["paths"]["data_dir"],
        home.skilld_home().to_str().unwrap()
    );
    assert_eq!(status["counts"]["images"], 0);
    assert_eq!(status["counts"]["installs"], 0);

    let human = home.skillc(&["status"]).expect_code(0);
    assert!(
        human.stdout.contains(&format!("pid {}", daemon.pid())),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains(home.socket().to_str().unwrap()),
        "{}",
        human.stdout
    );
}

#[test]
fn socket_is_0600_in_a_0700_folder_and_index_is_wal() {
    let home = Home::new();
    let _daemon = home.start_daemon();
    let socket = std::fs::metadata(home.socket()).unwrap();
    assert_eq!(socket.mode() & 0o777, 0o600);
    let dir = std::fs::metadata(home.socket().parent().unwrap()).unwrap();
    assert_eq!(dir.mode() & 0o777, 0o700);
    assert_eq!(dir.uid(), rustix::process::geteuid().as_raw());
    assert!(
        home.skilld_home().join("index.db-wal").exists(),
        "index opened in WAL mode"
    );
}

#[test]
fn a_widened_socket_folder_is_tightened_and_a_symlinked_one_refused() {
    let home = Home::new();
    let run_dir = home.skilld_home().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    {
        let _daemon = home.start_daemon();
        assert_eq!(std::fs::metadata(&run_dir).unwrap().mode() & 0o777, 0o700);
    }
    let elsewhere = home.root().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::remove_dir_all(&run_dir).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &run_dir).unwrap();
    let mut daemon = home.spawn_daemon(&[]);
    assert_eq!(daemon.wait_exit(Duration::from_secs(20)), Some(1));
    assert!(
        daemon.stderr().contains("symbolic link"),
        "{}",
        daemon.stderr()
    );
    assert!(
        std::fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "nothing created through the link"
    );
}

#[test]
fn a_second_daemon_on_the_same_home_is_refused() {
    let home = Home::new();
    let first = home.start_daemon();
    let mut second = home.spawn_daemon(&[]);
    assert_eq!(second.wait_exit(Duration::from_secs(20)), Some(1));
    let stderr = second.stderr();
    assert!(stderr.contains("already runs"), "{stderr}");
    assert!(
        stderr.contains(&first.pid().to_string()),
        "names the running pid: {stderr}"
    );
    // The first is untouched and still serves.
    assert_eq!(
        home.skillc(&["--json", "status"]).expect_code(0).json()["pid"],
        first.pid()
    );
}

#[test]
fn a_live_socket_of_another_home_is_left_alone() {
    let first = Home::new();
    let _daemon = first.start_daemon();
    let second = Home::new();
    let socket = first.socket();
    let mut intruder = second.spawn_daemon(&["--socket", socket.to_str().unwrap()]);
    assert_eq!(intruder.wait_exit(Duration::from_secs(20)), Some(1));
    assert!(
        intruder.stderr().contains("already answers"),
        "{}",
        intruder.stderr()
    );
    first.skillc(&["status"]).expect_code(0);
}

#[test]
fn a_stale_socket_file_is_cleaned_up() {
    let home = Home::new();
    let run_dir = home.skilld_home().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    // A socket file nobody listens on, as a killed daemon leaves behind.
    drop(std::os::unix::net::UnixListener::bind(home.socket()).unwrap());
    assert!(home.socket().exists());
    let daemon = home.start_daemon();
    assert_eq!(
        home.skillc(&["--json", "status"]).expect_code(0).json()["pid"],
        daemon.pid()
    );
}

#[test]
fn after_kill_9_the_next_daemon_starts_cleanly() {
    let home = Home::new();
    let mut daemon = home.start_daemon();
    daemon.signal(Signal::KILL);
    daemon.wait_exit(Duration::from_secs(20));
    assert!(
        home.socket().exists(),
        "kill -9 leaves the socket file behind"
    );
    let again = home.start_daemon();
    assert_eq!(
        home.skillc(&["--json", "status"]).expect_code(0).json()["pid"],
        again.pid()
    );
}

#[test]
fn sigterm_and_sigint_remove_the_socket_and_exit_0() {
    for signal in [Signal::TERM, Signal::INT] {
        let home = Home::new();
        let mut daemon = home.start_daemon();
        daemon.signal(signal);
        assert_eq!(
            daemon.wait_exit(Duration::from_secs(20)),
            Some(0),
            "{signal:?}: {}",
            daemon.stderr()
        );
        assert!(
            !home.socket().exists(),
            "{signal:?} leaves no socket behind"
        );
        // The lock is released: a new daemon starts on the same home.
        let _next = home.start_daemon();
    }
}

#[test]
fn shutdown_over_the_api_replies_then_exits_0() {
    let home = Home::new();
    let mut daemon = home.start_daemon();
    let reply = http::request(&home.socket(), "POST", "/v1/shutdown", b"{}");
    assert_eq!(reply.status, 202);
    assert_eq!(reply.json()["shutting_down"], true);
    assert_eq!(daemon.wait_exit(Duration::from_secs(20)), Some(0));
    assert!(!home.socket().exists());
}

#[test]
fn an_in_flight_request_finishes_before_shutdown() {
    // A request whose body is still arriving when SIGTERM comes is served
    // to the end, within the grace period.
    use std::io::{Read, Write};
    let home = Home::new();
    let mut daemon = home.start_daemon();
    let mut stream = std::os::unix::net::UnixStream::connect(home.socket()).unwrap();
    stream
        .write_all(b"POST /v1/shutdown HTTP/1.1\r\nhost: s\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    daemon.signal(Signal::TERM);
    std::thread::sleep(Duration::from_millis(100));
    stream.write_all(b"}").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 202"), "{reply}");
    assert_eq!(daemon.wait_exit(Duration::from_secs(20)), Some(0));
}

#[test]
fn a_config_with_an_unknown_key_names_the_key_and_line() {
    let home = Home::new();
    home.write_config("# limits for tests\nlimits:\n  max_body_bytes: 4096\n  max_conections: 8\n");
    let mut daemon = home.spawn_daemon(&[]);
    assert_eq!(daemon.wait_exit(Duration::from_secs(20)), Some(1));
    let stderr = daemon.stderr();
    let config = home.config_file();
    assert!(
        stderr.contains(&format!("{}:4:", config.display())),
        "file and line: {stderr}"
    );
    assert!(stderr.contains("max_conections"), "the key: {stderr}");
    assert!(!home.socket().exists(), "nothing bound");
}

#[test]
fn a_config_with_a_wrong_type_names_the_line() {
    let home = Home::new();
    home.write_config("limits:\n  header_timeout: soon\n");
    let mut daemon = home.spawn_daemon(&[]);
    assert_eq!(daemon.wait_exit(Duration::from_secs(20)), Some(1));
    let stderr = daemon.stderr();
    assert!(stderr.contains("config.yaml:2:"), "{stderr}");
}

#[test]
fn an_index_from_a_newer_skilld_is_refused_and_kept() {
    let home = Home::new();
    {
        let _daemon = home.start_daemon();
    }
    let index = home.skilld_home().join("index.db");
    let status = std::process::Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version=99'); c.commit()"])
        .arg(&index)
        .status()
        .expect("python3 with sqlite3");
    assert!(status.success());
    let mut daemon = home.spawn_daemon(&[]);
    assert_eq!(daemon.wait_exit(Duration::from_secs(20)), Some(1));
    assert!(
        daemon.stderr().contains("schema version 99"),
        "{}",
        daemon.stderr()
    );
    wait_until("socket removed", Duration::from_secs(5), || {
        !home.socket().exists()
    });
}

/// A daemon keeps its lock until its process ends, and its process gives
/// blocking work (here a swap held by the test delay) the shutdown grace:
/// a start in that moment, socket gone but lock still held, waits for the
/// lock instead of failing with "already runs".
#[test]
fn a_start_while_the_old_daemon_finishes_blocking_work_waits_for_it() {
    let home = Home::with_env(&[("SKILLD_TEST_SWAP_DELAY_MS", "1500".as_ref())]);
    home.write_config("limits:\n  shutdown_grace: 300ms\n");
    let skill = skilld_tests::helper::tools::testdata().join("valid/hello-world");
    home.skillc(&["build", skill.to_str().unwrap()])
        .expect_code(0);
    let out = home.root().join("out");
    let mut install = home.command("skillc");
    install.args([
        "install",
        "examples/hello-world:1.0.0-draft",
        "-o",
        out.to_str().unwrap(),
    ]);
    let mut child = install.spawn().unwrap();
    wait_until("the skill to be staged", Duration::from_secs(20), || {
        std::fs::read_dir(out.join(".skilld-staging")).is_ok_and(|mut d| d.next().is_some())
    });
    home.skillc(&["daemon", "stop"]).expect_code(0);
    let run = home.skillc(&["status"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let _ = child.wait();
}
