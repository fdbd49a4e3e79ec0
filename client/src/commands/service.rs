//! `skillc service install|uninstall|status`: skilld as a user service.
//!
//! Linux: `skilld.socket` and `skilld.service` into the user's systemd
//! folder (`$XDG_CONFIG_HOME/systemd/user`), with `ExecStart` naming the
//! installed `skilld`, then `systemctl --user daemon-reload` and
//! `enable --now skilld.socket`. macOS: the LaunchAgent into
//! `~/Library/LaunchAgents`, then `launchctl bootstrap`. When the service
//! manager cannot be reached (no user session bus, a container), the exact
//! commands to run are printed instead.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use crate::ctx::Ctx;
use crate::error::ClientError;

const SOCKET_UNIT: &str = include_str!("../../../systemd/skilld.socket");
const SERVICE_UNIT: &str = include_str!("../../../systemd/skilld.service");
const LAUNCH_AGENT: &str = include_str!("../../../launchd/dev.skilld.daemon.plist");
const LABEL: &str = "dev.skilld.daemon";

fn home() -> Result<PathBuf, ClientError> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .ok_or_else(|| {
            ClientError::Other("HOME is not set; cannot find the user's service folder".into())
        })
}

/// The skilld binary the service should run: beside skillc, else on PATH.
fn skilld_path() -> Result<PathBuf, ClientError> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("skilld")))
        .filter(|p| p.is_file());
    let found = beside.or_else(|| {
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|d| d.join("skilld"))
            .find(|p| p.is_file())
    });
    let path = found.ok_or_else(|| {
        ClientError::Other(
            "cannot find the skilld binary beside skillc or on PATH; install it first".into(),
        )
    })?;
    std::fs::canonicalize(&path)
        .map_err(|e| ClientError::Other(format!("cannot resolve {}: {e}", path.display())))
}

fn unit_dir() -> Result<PathBuf, ClientError> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .map_or_else(|| home().map(|h| h.join(".config")), Ok)?;
    Ok(config.join("systemd").join("user"))
}

fn agent_path() -> Result<PathBuf, ClientError> {
    Ok(home()?
        .join("Library/LaunchAgents")
        .join(format!("{LABEL}.plist")))
}

/// Run a service-manager command quietly; whether it worked.
fn try_run(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn write(path: &Path, text: &str) -> Result<(), ClientError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| ClientError::Other(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| ClientError::Other(format!("cannot write {}: {e}", path.display())))
}

fn manual(ctx: &Ctx, commands: &[String]) {
    ctx.say("the service manager could not be reached from here; run:");
    for c in commands {
        ctx.say(format!("  {c}"));
    }
}

pub fn install(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    let skilld = skilld_path()?;
    if cfg!(target_os = "macos") {
        let path = agent_path()?;
        let socket = ctx.paths.socket.display().to_string();
        let text = LAUNCH_AGENT
            .replace(
                "/Users/you/.cargo/bin/skilld",
                &skilld.display().to_string(),
            )
            .replace(
                "/Users/you/Library/Application Support/skilld/run/skilld.sock",
                &socket,
            );
        write(&path, &text)?;
        ctx.say(format!("wrote {}", path.display()));
        let uid = std::env::var("UID").unwrap_or_else(|_| "$(id -u)".into());
        let domain = format!("gui/{uid}");
        if try_run(
            "launchctl",
            &["bootstrap", &domain, &path.display().to_string()],
        ) {
            ctx.say("loaded the LaunchAgent");
        } else {
            manual(
                ctx,
                &[format!(
                    "launchctl bootstrap gui/$(id -u) {}",
                    path.display()
                )],
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let dir = unit_dir()?;
    let service = SERVICE_UNIT.replace(
        "ExecStart=%h/.cargo/bin/skilld",
        &format!("ExecStart={}", skilld.display()),
    );
    write(&dir.join("skilld.socket"), SOCKET_UNIT)?;
    write(&dir.join("skilld.service"), &service)?;
    ctx.say(format!(
        "wrote {} and {}",
        dir.join("skilld.socket").display(),
        dir.join("skilld.service").display()
    ));
    if try_run("systemctl", &["--user", "daemon-reload"])
        && try_run("systemctl", &["--user", "enable", "--now", "skilld.socket"])
    {
        ctx.say("enabled and started skilld.socket; skilld starts on the first request");
    } else {
        manual(
            ctx,
            &[
                "systemctl --user daemon-reload".into(),
                "systemctl --user enable --now skilld.socket".into(),
            ],
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn uninstall(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    if cfg!(target_os = "macos") {
        let path = agent_path()?;
        if !try_run(
            "launchctl",
            &[
                "bootout",
                &format!("gui/{}", std::env::var("UID").unwrap_or_default()),
                &path.display().to_string(),
            ],
        ) {
            manual(
                ctx,
                &[format!("launchctl bootout gui/$(id -u) {}", path.display())],
            );
        }
        let _ = std::fs::remove_file(&path);
        ctx.say(format!("removed {}", path.display()));
        return Ok(ExitCode::SUCCESS);
    }
    let dir = unit_dir()?;
    let stopped = try_run(
        "systemctl",
        &[
            "--user",
            "disable",
            "--now",
            "skilld.socket",
            "skilld.service",
        ],
    );
    for unit in ["skilld.socket", "skilld.service"] {
        let path = dir.join(unit);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| {
                ClientError::Other(format!("cannot remove {}: {e}", path.display()))
            })?;
            ctx.say(format!("removed {}", path.display()));
        }
    }
    if stopped {
        let _ = try_run("systemctl", &["--user", "daemon-reload"]);
    } else {
        manual(
            ctx,
            &[
                "systemctl --user disable --now skilld.socket skilld.service".into(),
                "systemctl --user daemon-reload".into(),
            ],
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The user service: (unit files or agent plist installed, socket unit
/// active), or `None`
/// when the files' folder cannot be known (no HOME).
pub fn state() -> Option<(bool, bool)> {
    let files: Vec<PathBuf> = if cfg!(target_os = "macos") {
        vec![agent_path().ok()?]
    } else {
        let dir = unit_dir().ok()?;
        vec![dir.join("skilld.socket"), dir.join("skilld.service")]
    };
    let installed = files.iter().all(|f| f.is_file());
    let active = installed
        && !cfg!(target_os = "macos")
        && try_run(
            "systemctl",
            &["--user", "is-active", "--quiet", "skilld.socket"],
        );
    Some((installed, active))
}

pub fn status(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    let files: Vec<PathBuf> = if cfg!(target_os = "macos") {
        vec![agent_path()?]
    } else {
        let dir = unit_dir()?;
        vec![dir.join("skilld.socket"), dir.join("skilld.service")]
    };
    let installed = files.iter().all(|f| f.is_file());
    let active = !cfg!(target_os = "macos")
        && try_run(
            "systemctl",
            &["--user", "is-active", "--quiet", "skilld.socket"],
        );
    if ctx.cli.json {
        println!(
            "{}",
            serde_json::json!({ "installed": installed, "active": active, "files": files })
        );
    } else {
        for f in &files {
            ctx.say(format!(
                "{} {}",
                if f.is_file() {
                    "installed"
                } else {
                    "missing  "
                },
                f.display()
            ));
        }
        ctx.say(if active {
            "skilld.socket is active"
        } else {
            "skilld.socket is not active (or systemctl --user is not reachable)"
        });
    }
    Ok(if installed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
