//! Starting `skilld` in the background when no daemon answers.
//!
//! Under a start-up lock (so two clients started at once start one daemon),
//! the client checks the socket again, starts `skilld` (next to its own
//! executable, else on PATH) in its own process group with its output going
//! to a log file, and waits for the socket to answer, with a deadline. A
//! daemon that exits early is reported with the end of its log.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use skilld_proto::Paths;

use crate::conn::answers;
use crate::error::ClientError;

/// How long a new daemon gets to answer.
const START_DEADLINE: Duration = Duration::from_secs(15);
/// How long to wait for another client that is starting a daemon.
const LOCK_DEADLINE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);

/// Environment variable naming the `skilld` binary to start (tests, packagers).
pub const ENV_DAEMON_BIN: &str = "SKILLD_BIN";

/// Start a daemon for `paths` unless one answers; returns its pid when this
/// call started it.
pub fn ensure_running(paths: &Paths) -> Result<Option<u32>, ClientError> {
    if answers(&paths.socket) {
        return Ok(None);
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&paths.data_dir)
        .map_err(|e| {
            failed(
                paths,
                format!("cannot create {}: {e}", paths.data_dir.display()),
            )
        })?;
    let _lock =
        lock_with_deadline(&paths.autostart_lock).map_err(|reason| failed(paths, reason))?;
    // Another client may have started it while we waited for the lock.
    if answers(&paths.socket) {
        return Ok(None);
    }
    let binary = daemon_binary().map_err(|reason| failed(paths, reason))?;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&paths.autostart_log)
        .map_err(|e| {
            failed(
                paths,
                format!("cannot open {}: {e}", paths.autostart_log.display()),
            )
        })?;
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let mut child = Command::new(&binary)
        .arg("--socket")
        .arg(&paths.socket)
        .arg("--config")
        .arg(&paths.config_file)
        .arg("--home")
        .arg(&paths.data_dir)
        .arg("--exit-when-idle")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        // Its own process group: a Ctrl-C meant for this client must not stop it.
        .process_group(0)
        .spawn()
        .map_err(|e| failed(paths, format!("cannot run {}: {e}", binary.display())))?;
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if answers(&paths.socket) {
            return Ok(Some(child.id()));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(failed(
                paths,
                format!(
                    "skilld exited with {status}: {}",
                    log_tail(&paths.autostart_log, log_start)
                ),
            ));
        }
        if Instant::now() > deadline {
            return Err(failed(
                paths,
                format!(
                    "skilld did not answer on {} within {START_DEADLINE:?}",
                    paths.socket.display()
                ),
            ));
        }
        std::thread::sleep(POLL);
    }
}

fn failed(paths: &Paths, reason: String) -> ClientError {
    ClientError::StartFailed {
        reason,
        log: paths.autostart_log.clone(),
    }
}

fn lock_with_deadline(path: &Path) -> Result<File, String> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let deadline = Instant::now() + LOCK_DEADLINE;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(POLL)
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "another skillc held {} for {LOCK_DEADLINE:?}",
                    path.display()
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", path.display()));
            }
        }
    }
}

/// `$SKILLD_BIN`, else `skilld` beside this executable, else on PATH.
fn daemon_binary() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os(ENV_DAEMON_BIN).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(bin));
    }
    if let Some(beside) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("skilld")))
        .filter(|p| p.is_file())
    {
        return Ok(beside);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("skilld"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "cannot find the skilld binary beside skillc or on PATH; install it \
             (cargo install --path daemon) or set SKILLD_BIN"
                .to_string()
        })
}

/// The last lines the daemon wrote to its log since `from`.
fn log_tail(path: &Path, from: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let _ = file.seek(SeekFrom::Start(from));
        let _ = file.take(64 * 1024).read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" | ");
    if tail.is_empty() {
        "no output".into()
    } else {
        tail
    }
}
