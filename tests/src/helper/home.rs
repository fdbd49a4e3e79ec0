//! A temp home for one test: `SKILLD_HOME` and `HOME` under a fresh temp
//! folder, `skillc` runs against it, and a real `skilld` that is killed when
//! the test ends, whatever happens.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::tools::bin;
use super::wait::wait_until;

/// How long a daemon gets to start answering.
pub const START: Duration = Duration::from_secs(20);

/// Variables of the outer environment that must not leak into a test.
const SCRUBBED: &[&str] = &[
    "SKILLD_HOME",
    "SKILLD_SOCKET",
    "SKILLD_LOG",
    "SKILLD_BIN",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_RUNTIME_DIR",
    "XDG_CACHE_HOME",
    // git's own settings from the outer environment (a CA bundle, a global
    // config elsewhere) would leak into the daemon's git fetches.
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "GIT_SSL_NO_VERIFY",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
];

/// One isolated home.
pub struct Home {
    dir: tempfile::TempDir,
    /// Extra environment for every command (and so for an autostarted daemon).
    env: Vec<(String, std::ffi::OsString)>,
}

/// The outcome of a `skillc` run.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Run `cmd` to completion.
    pub fn of(cmd: &mut Command) -> Run {
        Run::from(
            cmd.output()
                .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}")),
        )
    }

    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panic with both streams unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code,
            Some(code),
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Default for Home {
    fn default() -> Self {
        Home::new()
    }
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::Builder::new()
            .prefix("sk")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir(dir.path().join("home")).unwrap();
        Home {
            dir,
            env: Vec::new(),
        }
    }

    /// A home whose commands (and autostarted daemon) also get `vars`.
    pub fn with_env(vars: &[(&str, &std::ffi::OsStr)]) -> Home {
        let mut home = Home::new();
        home.env = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_os_string()))
            .collect();
        home
    }

    /// The temp folder holding everything of this test.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `SKILLD_HOME`.
    pub fn skilld_home(&self) -> PathBuf {
        self.root().join("skilld")
    }

    /// `HOME`.
    pub fn user_home(&self) -> PathBuf {
        self.root().join("home")
    }

    pub fn socket(&self) -> PathBuf {
        self.skilld_home().join("run").join("skilld.sock")
    }

    /// The daemon's OCI image layout.
    pub fn store(&self) -> PathBuf {
        self.skilld_home().join("store")
    }

    /// Number of blob files in the store.
    pub fn blob_count(&self) -> usize {
        std::fs::read_dir(self.store().join("blobs/sha256")).map_or(0, |d| d.count())
    }

    /// Path of a blob in the store.
    pub fn blob(&self, digest: &str) -> PathBuf {
        self.store()
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    }

    pub fn config_file(&self) -> PathBuf {
        self.skilld_home().join("config.yaml")
    }

    /// Write `config.yaml`.
    pub fn write_config(&self, yaml: &str) {
        std::fs::create_dir_all(self.skilld_home()).unwrap();
        std::fs::write(self.config_file(), yaml).unwrap();
    }

    /// `skillc --json login HOST -u USER --password-stdin` (the test
    /// registry's [`super::registry::USER`]) with `password` on stdin.
    pub fn login(&self, host: &str, password: &str) -> Run {
        let mut cmd = self.command("skillc");
        cmd.args([
            "--json",
            "login",
            host,
            "-u",
            super::registry::USER,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        std::io::Write::write_all(
            child.stdin.as_mut().unwrap(),
            format!("{password}\n").as_bytes(),
        )
        .unwrap();
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// A command for a workspace binary with this home's environment.
    pub fn command(&self, binary: &str) -> Command {
        let mut cmd = Command::new(bin(binary));
        self.apply_env(&mut cmd);
        cmd
    }

    /// Give `cmd` this home's environment (and nothing of the outer one's).
    pub fn apply_env(&self, cmd: &mut Command) {
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        cmd.env("SKILLD_HOME", self.skilld_home())
            .env("HOME", self.user_home())
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
    }

    /// Run `skillc ARGS` to completion in the folder `dir` (a project).
    pub fn skillc_in(&self, dir: &std::path::Path, args: &[&str]) -> Run {
        let mut cmd = self.command("skillc");
        cmd.current_dir(dir).args(args);
        Run::of(&mut cmd)
    }

    /// Run `skillc ARGS` to completion.
    pub fn skillc(&self, args: &[&str]) -> Run {
        Run::from(
            self.command("skillc")
                .args(args)
                .output()
                .expect("run skillc"),
        )
    }

    /// Start `skilld` in the foreground of a child process and wait until it
    /// answers.
    pub fn start_daemon(&self) -> Daemon {
        let daemon = self.spawn_daemon(&[]);
        let socket = self.socket();
        let mut daemon = daemon;
        wait_until("skilld to answer", START, || {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("skilld exited with {status}:\n{}", daemon.stderr());
            }
            // Connecting succeeds as soon as the socket is bound; wait for
            // an HTTP answer, which comes once the daemon serves.
            std::os::unix::net::UnixStream::connect(&socket).is_ok()
                && super::http::request(&socket, "GET", "/v1/status", b"").status == 200
        });
        daemon
    }

    /// Start this home's daemon with every folder swap paused `delay_ms`
    /// between its two renames (skilld's `SKILLD_TEST_SWAP_DELAY_MS`), so a
    /// test can kill it mid-swap; waits until it answers.
    pub fn start_slow_daemon(&self, delay_ms: u32) -> Child {
        let child = self
            .command("skilld")
            .env("SKILLD_TEST_SWAP_DELAY_MS", delay_ms.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn skilld");
        wait_until("the slow daemon", START, || {
            self.skillc(&["--no-autostart", "status"]).code == Some(0)
        });
        child
    }

    /// Spawn `skilld ARGS` without waiting for it.
    pub fn spawn_daemon(&self, args: &[&str]) -> Daemon {
        std::fs::create_dir_all(self.root().join("logs")).unwrap();
        let log = self
            .root()
            .join("logs")
            .join(format!("skilld-{}.log", unique()));
        let child = self
            .command("skilld")
            .args(args)
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("spawn skilld");
        Daemon { child, log }
    }
}

/// A running `skilld catalog` (killed when dropped) and the address it
/// serves.
pub struct CatalogServer {
    pub daemon: Daemon,
    pub addr: String,
}

impl CatalogServer {
    /// GET `path`.
    pub fn get(&self, path: &str) -> super::http::RawResponse {
        super::http::tcp(&self.addr, "GET", path, b"")
    }
}

impl Home {
    /// Start `skilld catalog --listen 127.0.0.1:0` over this home's config
    /// and wait until it serves (after its first refresh).
    pub fn start_catalog_server(&self) -> CatalogServer {
        let mut daemon = self.spawn_daemon(&["catalog", "--listen", "127.0.0.1:0"]);
        let addr = daemon.served_addr();
        CatalogServer { daemon, addr }
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A running `skilld`; killed (SIGKILL) when dropped.
pub struct Daemon {
    pub child: Child,
    log: PathBuf,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the daemon wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Send `signal` to the daemon.
    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.pid() as i32).expect("pid");
        rustix::process::kill_process(pid, signal).expect("kill");
    }

    /// The address a `skilld catalog` serves (`HOST:PORT`, from the line it
    /// prints on stderr), once it serves; panics with its log if it exits.
    pub fn served_addr(&mut self) -> String {
        let mut addr = String::new();
        wait_until("skilld catalog to serve", Duration::from_secs(60), || {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("skilld catalog exited with {status}:\n{}", self.stderr());
            }
            match self.stderr().split("serving http://").nth(1) {
                Some(rest) => {
                    addr = rest.split('/').next().unwrap_or("").to_string();
                    true
                }
                None => false,
            }
        });
        addr
    }

    /// Wait for the daemon to exit, with a deadline; its exit code.
    pub fn wait_exit(&mut self, deadline: Duration) -> Option<i32> {
        let mut status = None;
        wait_until("skilld to exit", deadline, || {
            status = self.child.try_wait().expect("try_wait");
            status.is_some()
        });
        status.and_then(|s| s.code())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Home {
    /// A daemon that `skillc` autostarted is not our child: ask it to stop so
    /// no test leaves a daemon behind.
    fn drop(&mut self) {
        let socket = self.socket();
        if let Ok(mut stream) = std::os::unix::net::UnixStream::connect(&socket) {
            use std::io::{Read, Write};
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.write_all(
                b"POST /v1/shutdown HTTP/1.1\r\nhost: s\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            );
            let _ = stream.read_to_end(&mut Vec::new());
            let end = std::time::Instant::now() + Duration::from_secs(10);
            while socket.exists() && std::time::Instant::now() < end {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}
