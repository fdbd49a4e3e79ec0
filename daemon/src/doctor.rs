//! `skillc doctor`, the daemon's half: each thing that can be wrong on
//! this machine is checked and explained with a fix. The socket and data
//! folders, `config.yaml` as it is on disk now (it may have been edited
//! since start), free disk space, every target folder, every registry in
//! use (reachable, TLS, where credentials come from; never a secret), the
//! trust policy's keys, and what interrupted installs left. Each check is
//! bounded in time, so a dead registry costs seconds, not minutes.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use skilld_proto::doctor::{Check, CheckStatus};

use crate::state::State;

/// Longest a registry check may take.
const REGISTRY_DEADLINE: Duration = Duration::from_secs(5);
/// Below this much free space, a warning; below a tenth of it, a failure.
const LOW_DISK: u64 = 1 << 30;

fn check(area: &str, name: &str, status: CheckStatus, message: String, fix: Option<&str>) -> Check {
    Check {
        area: area.into(),
        name: name.into(),
        status,
        message,
        fix: fix.map(str::to_string),
    }
}

fn ok(area: &str, name: &str, message: String) -> Check {
    check(area, name, CheckStatus::Ok, message, None)
}

/// Every check, in the order `skillc doctor` prints them.
pub async fn run(state: &State) -> Vec<Check> {
    let paths = &state.config().paths;
    let mut out = vec![
        socket_folder(&paths.socket),
        data_folder(&paths.data_dir),
        config(state),
    ];
    out.push(disk(&paths.data_dir));
    out.extend(targets(state));
    out.extend(registries(state).await);
    out.extend(trust_keys(state));
    out.extend(staging(state).await);
    out
}

fn socket_folder(socket: &Path) -> Check {
    let Some(dir) = socket.parent() else {
        return ok("socket", "socket", socket.display().to_string());
    };
    match std::fs::symlink_metadata(dir) {
        Ok(m)
            if m.uid() == crate::server::socket::euid() && m.permissions().mode() & 0o077 == 0 =>
        {
            ok(
                "socket",
                "socket",
                format!(
                    "{} in a folder only you can use (mode {:o})",
                    socket.display(),
                    m.permissions().mode() & 0o777
                ),
            )
        }
        Ok(m) => check(
            "socket",
            "socket",
            CheckStatus::Fail,
            format!(
                "{} is mode {:o}, owner uid {}",
                dir.display(),
                m.permissions().mode() & 0o777,
                m.uid()
            ),
            Some(
                "the socket folder must be yours and mode 0700: chmod 700 it (skilld sets it so at start)",
            ),
        ),
        Err(e) => check(
            "socket",
            "socket",
            CheckStatus::Fail,
            format!("{}: {e}", dir.display()),
            None,
        ),
    }
}

fn data_folder(dir: &Path) -> Check {
    let probe = tempfile::Builder::new().prefix(".doctor-").tempfile_in(dir);
    match probe {
        Ok(_) => ok("data", "data", format!("{} is writable", dir.display())),
        Err(e) => check(
            "data",
            "data",
            CheckStatus::Fail,
            format!("cannot write in {}: {e}", dir.display()),
            Some(
                "the store and index live there: make it writable by you, or point SKILLD_HOME elsewhere",
            ),
        ),
    }
}

fn config(state: &State) -> Check {
    let paths = state.config().paths.clone();
    let file = paths.config_file.display().to_string();
    if !paths.config_file.exists() {
        return ok(
            "config",
            "config",
            format!("{file} does not exist: the defaults apply"),
        );
    }
    match crate::config::Config::load(paths) {
        Ok(_) => ok("config", "config", format!("{file} is valid")),
        Err(e) => check(
            "config",
            "config",
            CheckStatus::Fail,
            e.to_string(),
            Some(
                "fix the file; the running daemon keeps the settings it started with until it restarts (`skillc daemon stop`)",
            ),
        ),
    }
}

fn disk(dir: &Path) -> Check {
    match rustix::fs::statvfs(dir) {
        Ok(s) => {
            let free = s.f_bavail.saturating_mul(s.f_frsize);
            let shown = format!(
                "{:.1} GiB free where the store is ({})",
                free as f64 / (1u64 << 30) as f64,
                dir.display()
            );
            if free < LOW_DISK / 10 {
                check(
                    "disk",
                    "disk",
                    CheckStatus::Fail,
                    shown,
                    Some("free some space: `skillc prune` removes blobs nothing needs"),
                )
            } else if free < LOW_DISK {
                check(
                    "disk",
                    "disk",
                    CheckStatus::Warn,
                    shown,
                    Some("space is low: `skillc prune` removes blobs nothing needs"),
                )
            } else {
                ok("disk", "disk", shown)
            }
        }
        Err(e) => check(
            "disk",
            "disk",
            CheckStatus::Warn,
            format!("cannot measure free space: {e}"),
            None,
        ),
    }
}

/// The targets that matter here: the default, and those whose agent is
/// installed or whose folder exists (the rest are counted in one line).
fn targets(state: &State) -> Vec<Check> {
    let env = state.target_env();
    let install = &state.config().install;
    let defaults = crate::install::plan::default_targets(env, install.default_target.as_deref());
    let is_default =
        |t: &crate::install::targets::Target| defaults.iter().any(|d| d.name == t.name);
    let (shown, hidden): (Vec<&crate::install::targets::Target>, Vec<_>) =
        crate::install::targets::all().iter().partition(|t| {
            is_default(t)
                || t.installed(env)
                || t.resolve(env, None).is_some_and(|(d, _)| d.exists())
        });
    let mut checks: Vec<Check> = shown
        .into_iter()
        .filter_map(|t| {
            let (dir, _) = t.resolve(env, None)?;
            let shown = dir.display();
            Some(match std::fs::metadata(&dir) {
                Ok(m) if !m.is_dir() => check(
                    "target",
                    t.name,
                    CheckStatus::Fail,
                    format!("{shown} is not a folder"),
                    Some("move the file away: agents look for skills in that folder"),
                ),
                Ok(_) => match rustix::fs::access(&dir, rustix::fs::Access::WRITE_OK) {
                    Ok(()) => {
                        let skills = std::fs::read_dir(&dir)
                            .map(|d| {
                                d.flatten()
                                    .filter(|e| e.path().join("SKILL.md").is_file())
                                    .count()
                            })
                            .unwrap_or(0);
                        ok("target", t.name, format!("{shown}: {skills} skill(s)"))
                    }
                    Err(e) => check(
                        "target",
                        t.name,
                        CheckStatus::Fail,
                        format!("{shown} is not writable: {e}"),
                        Some("make it writable by you, or install into another target"),
                    ),
                },
                Err(_) => {
                    // The default target is made at the first install, agent
                    // or not (the shared ~/.agents/skills has no agent of its own).
                    let message = if t.installed(env) || is_default(t) {
                        format!("{shown} does not exist yet; it is made at the first install")
                    } else {
                        format!("{shown}: the agent's folder is not on this machine")
                    };
                    ok("target", t.name, message)
                }
            })
        })
        .collect();
    let names: Vec<&str> = defaults.iter().map(|t| t.name).collect();
    let why = if install.default_target.is_some() {
        "install.default_target"
    } else if names == ["agents"] {
        "no agent found here"
    } else {
        "the agents found here"
    };
    let how = if names.len() > 1 && install.mode == skilld_proto::install::InstallMode::Link {
        ": one copy in the shared folder, linked into the others"
    } else {
        ""
    };
    checks.push(ok(
        "target",
        "default",
        format!(
            "an install without -t goes to {} ({why}){how}",
            names.join(", ")
        ),
    ));
    if !hidden.is_empty() {
        checks.push(ok(
            "target",
            "others",
            format!(
                "{} other agents are not installed here (skillc targets --all lists them)",
                hidden.len()
            ),
        ));
    }
    checks
}

/// Registries named in config.yaml and those installs came from.
async fn registries(state: &State) -> Vec<Check> {
    let mut hosts: Vec<String> = state.config().registries.keys().cloned().collect();
    if let Ok(rows) = state.index().read(crate::index::installs::all).await {
        hosts.extend(rows.into_iter().filter_map(|r| r.registry));
    }
    hosts.sort();
    hosts.dedup();
    let mut out = Vec::new();
    for host in hosts {
        let reached = tokio::time::timeout(REGISTRY_DEADLINE, probe(state, &host)).await;
        out.push(match reached {
            Ok(Ok((scheme, answer, credentials))) => {
                let credentials = match credentials {
                    Some(source) => format!("credentials from {source}"),
                    None => "no credentials".to_string(),
                };
                let access = if answer == 401 || answer == 403 {
                    "asks for a login"
                } else {
                    "open"
                };
                ok("registry", &host, format!("answers over {scheme} ({access}); {credentials}"))
            }
            Ok(Err(e)) => check(
                "registry",
                &host,
                CheckStatus::Fail,
                e.to_string(),
                Some("see the message; `skillc login HOST` saves credentials, `registries:` in config.yaml sets a CA file or plain HTTP"),
            ),
            Err(_) => check(
                "registry",
                &host,
                CheckStatus::Fail,
                format!("no answer within {} s", REGISTRY_DEADLINE.as_secs()),
                Some("check the address and the network (or a proxy) between here and it"),
            ),
        });
    }
    out
}

/// Ask `host`'s API root (`GET /v2/`): the scheme used, the status it
/// answered, where credentials for it come from. A status other than 200,
/// 401 or 403 is not a registry's answer.
async fn probe(
    state: &State,
    host: &str,
) -> Result<(&'static str, u16, Option<String>), crate::registry::RegistryError> {
    let endpoint = state.registries().endpoint(host, "").await?;
    let url = format!("{}://{}/v2/", endpoint.scheme, endpoint.host);
    let response = endpoint
        .http
        .get(&url)
        .send()
        .await
        .map_err(|e| crate::registry::error::from_request(host, &e))?;
    let status = response.status().as_u16();
    if !matches!(status, 200 | 401 | 403) {
        return Err(crate::registry::RegistryError::Other {
            host: host.to_string(),
            message: format!("GET {url} answered {status}; is this a registry?"),
        });
    }
    Ok((endpoint.scheme, status, endpoint.credential_source))
}

fn trust_keys(state: &State) -> Vec<Check> {
    let trust = &state.config().trust;
    let rules = std::iter::once(("default".to_string(), &trust.default)).chain(
        trust
            .scopes
            .iter()
            .map(|s| (format!("scopes.{:?}", s.written), &s.rule)),
    );
    let mut out = Vec::new();
    for (name, rule) in rules {
        for key in &rule.keys {
            out.push(match crate::trust::keys::verifier(key) {
                Ok((_, fingerprint)) => ok("trust", &key.display().to_string(), format!("{name}: key {fingerprint}")),
                Err(e) => check(
                    "trust",
                    &key.display().to_string(),
                    CheckStatus::Fail,
                    format!("{name}: {e}"),
                    Some("restore the key file: a signed rule without its key refuses every image in its scope"),
                ),
            });
        }
    }
    out
}

/// What interrupted installs left in staging folders (removed at start).
async fn staging(state: &State) -> Vec<Check> {
    let Ok(areas) = state.index().read(crate::index::staging::all).await else {
        return Vec::new();
    };
    let left: usize = areas
        .iter()
        .map(|a| {
            std::fs::read_dir(Path::new(a).join(crate::install::swap::STAGING))
                .map(|d| d.count())
                .unwrap_or(0)
        })
        .sum();
    vec![if left == 0 {
        ok(
            "staging",
            "staging",
            format!(
                "nothing left by interrupted installs in {} folder(s)",
                areas.len()
            ),
        )
    } else {
        check(
            "staging",
            "staging",
            CheckStatus::Warn,
            format!(
                "{left} folder(s) in .skilld-staging, left by interrupted installs (or an install under way)"
            ),
            Some(
                "the daemon removes them when it starts: `skillc daemon stop`, then any skillc command",
            ),
        )
    }]
}
