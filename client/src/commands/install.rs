//! `skillc targets`, `install`, `list`, `upgrade`, `remove`, `rollback`, `pin`, `unpin`.

use std::path::Path;
use std::process::ExitCode;

use skilld_proto::install::{
    ChangeResponse, INSTALL_ROUTE, InstallRequest, InstallResponse, LIST_ROUTE, ListRequest,
    ListResponse, PIN_ROUTE, PinRequest, REMOVE_ROUTE, ROLLBACK_ROUTE, RemoveRequest,
    RollbackRequest, TARGETS_ROUTE, TargetsResponse, UPGRADE_ROUTE, UpgradeRequest,
    UpgradeResponse,
};

use crate::cli::Which;
use crate::ctx::Ctx;
use crate::error::ClientError;
use crate::render;

fn absolute(path: &Path) -> Result<std::path::PathBuf, ClientError> {
    std::path::absolute(path)
        .map_err(|e| ClientError::Other(format!("cannot resolve {}: {e}", path.display())))
}

pub async fn targets(ctx: &Ctx, all: bool) -> Result<ExitCode, ClientError> {
    let (r, answer): (TargetsResponse, _) = ctx.get(TARGETS_ROUTE).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    // An older daemon names one default.
    let defaults = if r.default_targets.is_empty() {
        vec![r.default.clone()]
    } else {
        r.default_targets.clone()
    };
    let is_default = |name: &String| defaults.contains(name);
    let rows: Vec<Vec<String>> = r
        .targets
        .iter()
        .filter(|t| all || t.installed || t.exists || is_default(&t.name))
        .map(|t| {
            let name = if is_default(&t.name) {
                format!("{} (default)", t.name)
            } else {
                t.name.clone()
            };
            let path = match &t.overridden_by {
                Some(var) => format!("{} (${var})", t.path.display()),
                None => t.path.display().to_string(),
            };
            vec![
                name,
                path,
                if t.exists { "yes".into() } else { "no".into() },
                if t.installed {
                    "yes".into()
                } else {
                    "-".into()
                },
                t.agents.clone(),
            ]
        })
        .collect();
    if !ctx.cli.quiet {
        print!(
            "{}",
            render::table(
                &["TARGET", "PATH", "EXISTS", "AGENT HERE", "READ BY"],
                &rows
            )
        );
        if !all {
            let hidden = r.targets.len() - rows.len();
            if hidden > 0 {
                println!("({hidden} more targets for agents not found here: skillc targets --all)");
            }
        }
        let how = if defaults.len() > 1 && r.mode == skilld_proto::install::InstallMode::Link {
            "; one copy in the shared folder, linked into the others"
        } else {
            ""
        };
        println!(
            "An install without -t goes to: {}{how}",
            defaults.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Where an install goes, as the command line says.
pub struct Where<'a> {
    pub targets: &'a [String],
    pub project: Option<&'a Path>,
    pub output: Option<&'a Path>,
    pub mode: Option<skilld_proto::install::InstallMode>,
}

pub async fn install(
    ctx: &Ctx,
    reference: &str,
    place: Where<'_>,
    force: bool,
    no_dependencies: bool,
) -> Result<ExitCode, ClientError> {
    let request = InstallRequest {
        reference: reference.into(),
        targets: place.targets.to_vec(),
        project: place.project.map(absolute).transpose()?,
        output: place.output.map(absolute).transpose()?,
        force,
        mode: place.mode,
        no_dependencies,
    };
    let (r, answer): (InstallResponse, _) = ctx.post_streaming(INSTALL_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    for backup in &r.backups {
        ctx.say(format!("kept the previous folder in {}", backup.display()));
    }
    for i in &r.installed {
        // Who needs it, among what this install put in place.
        let mut needed_by: Vec<&str> = r
            .installed
            .iter()
            .filter(|o| o.needs.contains(&i.path))
            .map(|o| o.name.as_str())
            .collect();
        needed_by.sort_unstable();
        let why = if needed_by.is_empty() {
            String::new()
        } else {
            format!(", needed by {}", needed_by.join(", "))
        };
        match &i.link {
            _ if i.status == "kept" => ctx.say(format!(
                "kept {} {} in {} ({}{why}): already there",
                i.name,
                i.version.as_deref().unwrap_or("-"),
                i.path.display(),
                i.target
            )),
            Some(copy) => ctx.say(format!(
                "linked {} -> {} ({}{why})",
                i.path.display(),
                copy.display(),
                i.target
            )),
            None => ctx.say(format!(
                "installed {} {} into {} ({}{why})",
                i.name,
                i.version.as_deref().unwrap_or("-"),
                i.path.display(),
                i.target
            )),
        }
        if let Some(signer) = i.signer.as_ref().filter(|_| i.link.is_none()) {
            ctx.say(format!("  signature verified: key {signer}"));
        }
    }
    if !r.seen_by.is_empty() {
        ctx.say(format!("seen by: {}", r.seen_by.join("; ")));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn list(
    ctx: &Ctx,
    target: Option<&str>,
    upgradable: bool,
    project: Option<&Path>,
    tree: bool,
) -> Result<ExitCode, ClientError> {
    let request = ListRequest {
        target: target.map(str::to_string),
        upgradable,
        known_upgrades: false,
        project: project.map(absolute).transpose()?,
    };
    let (r, answer): (ListResponse, _) = ctx.post(LIST_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    if tree {
        if !ctx.cli.quiet {
            print!("{}", render_tree(&r.installs));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut headers = vec![
        "NAME", "VERSION", "TARGET", "SOURCE", "DIGEST", "SIGNED", "FINDINGS", "STATUS",
    ];
    if upgradable {
        headers.push("LATEST");
    }
    if project.is_some() {
        headers.push("LOCK");
    }
    let rows: Vec<Vec<String>> = r
        .installs
        .iter()
        .map(|i| {
            let status = if i.pinned {
                format!("{} (pinned)", i.status)
            } else if i.subscription.is_some() {
                // It moves with its collection (`skillc subscriptions`).
                format!("{} (subscribed)", i.status)
            } else {
                i.status.clone()
            };
            let mut row = vec![
                i.name.clone(),
                i.version.clone().unwrap_or_else(|| "-".into()),
                // A link to the skill's one copy (in another target).
                if i.link.is_some() {
                    format!("{} (link)", i.target)
                } else {
                    i.target.clone()
                },
                if i.source.is_empty() {
                    i.path.display().to_string()
                } else {
                    i.source.clone()
                },
                if i.digest.is_empty() {
                    "-".into()
                } else {
                    render::short_digest(&i.digest)
                },
                // The verifying key's fingerprint, short like a digest.
                i.signer
                    .as_deref()
                    .map_or_else(|| "-".into(), render::short_digest),
                // What the content scan found when it was installed.
                match i.findings.as_deref() {
                    None => "-".into(),
                    Some("no findings") => "none".into(),
                    Some(f) => f.to_string(),
                },
                status,
            ];
            if upgradable {
                row.push(i.latest.clone().unwrap_or_else(|| "-".into()));
            }
            if project.is_some() {
                row.push(i.lock_status.clone().unwrap_or_else(|| "-".into()));
            }
            row
        })
        .collect();
    if !ctx.cli.quiet {
        print!("{}", render::table(&headers, &rows));
        // Newer versions that exist but that upgrades skip, and why.
        for i in r.installs.iter().filter(|i| !i.unpublished.is_empty()) {
            let versions: Vec<String> = i
                .unpublished
                .iter()
                .map(|u| format!("{} ({})", u.version, u.status))
                .collect();
            println!(
                "{} ({}): newer but not published, so upgrades skip it: {}",
                i.name,
                i.target,
                versions.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The installs as trees, one per folder: each skill nothing else needs
/// at the top, what it needs below it (a skill met again is marked `*`
/// and not expanded twice).
fn render_tree(installs: &[skilld_proto::install::Installed]) -> String {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    let by_path: BTreeMap<&Path, &skilld_proto::install::Installed> =
        installs.iter().map(|i| (i.path.as_path(), i)).collect();
    let mut folders: BTreeMap<&Path, Vec<&skilld_proto::install::Installed>> = BTreeMap::new();
    for i in installs {
        folders
            .entry(i.path.parent().unwrap_or(Path::new("")))
            .or_default()
            .push(i);
    }
    fn label(i: &skilld_proto::install::Installed) -> String {
        let mut notes = Vec::new();
        if i.dependency {
            notes.push("dependency".to_string());
        }
        if i.status != "ok" {
            notes.push(i.status.clone());
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        format!("{} {}{notes}", i.name, i.version.as_deref().unwrap_or("-"))
    }
    fn walk(
        out: &mut String,
        i: &skilld_proto::install::Installed,
        by_path: &BTreeMap<&Path, &skilld_proto::install::Installed>,
        prefix: &str,
        seen: &mut Vec<std::path::PathBuf>,
    ) {
        let count = i.needs.len();
        for (n, need) in i.needs.iter().enumerate() {
            let last = n + 1 == count;
            let (branch, next) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            match by_path.get(need.as_path()) {
                Some(child) if seen.contains(need) => {
                    let _ = writeln!(out, "{prefix}{branch}{} *", label(child));
                }
                Some(child) => {
                    let _ = writeln!(out, "{prefix}{branch}{}", label(child));
                    seen.push(need.clone());
                    walk(out, child, by_path, &format!("{prefix}{next}"), seen);
                }
                None => {
                    let _ = writeln!(out, "{prefix}{branch}{} (missing)", need.display());
                }
            }
        }
    }
    let mut out = String::new();
    for (folder, members) in folders {
        let _ = writeln!(out, "{} ({})", folder.display(), members[0].target);
        let needed: Vec<&Path> = members
            .iter()
            .flat_map(|i| i.needs.iter().map(|p| p.as_path()))
            .collect();
        let mut seen = Vec::new();
        for top in members
            .iter()
            .filter(|i| !needed.contains(&i.path.as_path()))
        {
            let _ = writeln!(out, "{}", label(top));
            walk(&mut out, top, &by_path, "", &mut seen);
        }
    }
    out
}

pub async fn upgrade(
    ctx: &Ctx,
    names: &[String],
    all: bool,
    target: Option<&str>,
    dry_run: bool,
    force: bool,
) -> Result<ExitCode, ClientError> {
    let request = UpgradeRequest {
        names: names.to_vec(),
        all,
        target: target.map(str::to_string),
        dry_run,
        force,
    };
    let (r, answer): (UpgradeResponse, _) = ctx.post_streaming(UPGRADE_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        for o in &r.outcomes {
            let from = o.from.as_deref().unwrap_or("-");
            let line = match o.result.as_str() {
                "upgraded" => format!(
                    "{} ({}): {from} → {}{}",
                    o.name,
                    o.target,
                    o.to.as_deref().unwrap_or("-"),
                    o.message
                        .as_deref()
                        .map(|m| format!("; {m}"))
                        .unwrap_or_default()
                ),
                "would_upgrade" => format!(
                    "{} ({}): {from} → {} (dry run){}",
                    o.name,
                    o.target,
                    o.to.as_deref().unwrap_or("-"),
                    o.message
                        .as_deref()
                        .map(|m| format!("; {m}"))
                        .unwrap_or_default()
                ),
                "up_to_date" => format!(
                    "{} ({}): {from} is the newest published version{}",
                    o.name,
                    o.target,
                    o.message
                        .as_deref()
                        .map(|m| format!("; {m}"))
                        .unwrap_or_default()
                ),
                "pinned" => format!("{} ({}): pinned at {from}", o.name, o.target),
                _ => format!(
                    "{} ({}): {}: {}",
                    o.name,
                    o.target,
                    o.result,
                    o.message.as_deref().unwrap_or("")
                ),
            };
            ctx.say(line);
        }
        for backup in &r.backups {
            ctx.say(format!("kept the edited folder in {}", backup.display()));
        }
    }
    let failed = r
        .outcomes
        .iter()
        .any(|o| matches!(o.result.as_str(), "failed" | "modified" | "untrusted"));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Print what changed and what failed; exit 1 when anything failed.
fn show_change(ctx: &Ctx, verb: &str, r: &ChangeResponse) -> ExitCode {
    for backup in &r.backups {
        ctx.say(format!("kept the edited folder in {}", backup.display()));
    }
    for i in &r.changed {
        ctx.say(format!(
            "{verb} {} {} ({}, {})",
            i.name,
            i.version.as_deref().unwrap_or("-"),
            i.target,
            i.path.display()
        ));
    }
    for f in &r.failed {
        // The message names the folder already.
        eprintln!("skillc: {} ({}): {}", f.name, f.target, f.message);
    }
    if !r.orphans.is_empty() {
        let names: Vec<String> = r
            .orphans
            .iter()
            .map(|o| format!("{} ({})", o.name, o.path.display()))
            .collect();
        ctx.say(format!(
            "no longer needed by anything: {}; remove with `skillc autoremove`",
            names.join(", ")
        ));
    }
    if r.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `-o DIR` → the install folder `DIR/NAME`, absolute.
fn install_path(which: &Which) -> Result<Option<std::path::PathBuf>, ClientError> {
    which
        .output
        .as_deref()
        .map(|dir| absolute(dir).map(|d| d.join(&which.name)))
        .transpose()
}

/// Post a change request and report it.
async fn change<R: serde::Serialize>(
    ctx: &Ctx,
    route: &str,
    request: &R,
    verb: &str,
) -> Result<ExitCode, ClientError> {
    let (r, answer): (ChangeResponse, _) = ctx.post(route, request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(if r.failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    Ok(show_change(ctx, verb, &r))
}

pub async fn remove(ctx: &Ctx, which: &Which, force: bool) -> Result<ExitCode, ClientError> {
    // In a project folder, a skill its skills.json lists leaves the project.
    let here = std::env::current_dir().ok();
    let project = here.filter(|d| {
        which.target.is_none() && which.output.is_none() && d.join("skills.json").is_file()
    });
    let request = RemoveRequest {
        name: which.name.clone(),
        target: which.target.clone(),
        path: install_path(which)?,
        force,
        project,
    };
    change(ctx, REMOVE_ROUTE, &request, "removed").await
}

pub async fn autoremove(
    ctx: &Ctx,
    target: Option<&str>,
    dry_run: bool,
    force: bool,
) -> Result<ExitCode, ClientError> {
    let request = skilld_proto::install::AutoremoveRequest {
        target: target.map(str::to_string),
        dry_run,
        force,
    };
    let (r, answer): (ChangeResponse, _) = ctx
        .post(skilld_proto::install::AUTOREMOVE_ROUTE, &request)
        .await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else if r.changed.is_empty() && r.failed.is_empty() {
        ctx.say("nothing to remove: every skill installed as a dependency is still needed");
    } else {
        show_change(ctx, if dry_run { "would remove" } else { "removed" }, &r);
    }
    Ok(if r.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub async fn rollback(ctx: &Ctx, which: &Which, force: bool) -> Result<ExitCode, ClientError> {
    let request = RollbackRequest {
        name: which.name.clone(),
        target: which.target.clone(),
        path: install_path(which)?,
        force,
    };
    change(ctx, ROLLBACK_ROUTE, &request, "rolled back to").await
}

pub async fn pin(ctx: &Ctx, which: &Which, pinned: bool) -> Result<ExitCode, ClientError> {
    let request = PinRequest {
        name: which.name.clone(),
        target: which.target.clone(),
        path: install_path(which)?,
        pinned,
    };
    change(
        ctx,
        PIN_ROUTE,
        &request,
        if pinned { "pinned" } else { "unpinned" },
    )
    .await
}

pub async fn check(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    let (r, answer): (skilld_proto::install::CheckResponse, _) = ctx
        .post(skilld_proto::install::CHECK_ROUTE, &serde_json::json!({}))
        .await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    ctx.say(format!(
        "checked {} repositor{}",
        r.repositories,
        if r.repositories == 1 { "y" } else { "ies" }
    ));
    for o in &r.outcomes {
        let line = match o.result.as_str() {
            "upgraded" => format!(
                "  {} ({}): {} → {}",
                o.name,
                o.target,
                o.from.as_deref().unwrap_or("-"),
                o.to.as_deref().unwrap_or("-")
            ),
            "up_to_date" => continue,
            _ => format!(
                "  {} ({}): {}: {}",
                o.name,
                o.target,
                o.result,
                o.message.as_deref().unwrap_or("")
            ),
        };
        ctx.say(line);
    }
    super::collection::check_lines(ctx, &r.subscriptions);
    for f in &r.failing {
        eprintln!(
            "skillc: {} fails ({} time(s)): {}; retried at {}",
            f.host, f.failures, f.error, f.retry_at
        );
    }
    Ok(if r.failing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub async fn policy(
    ctx: &Ctx,
    name: &str,
    policy: &str,
    target: Option<&str>,
) -> Result<ExitCode, ClientError> {
    let request = skilld_proto::install::PolicyRequest {
        name: name.into(),
        target: target.map(str::to_string),
        policy: policy.into(),
    };
    let (r, answer): (ChangeResponse, _) = ctx
        .post(skilld_proto::install::POLICY_ROUTE, &request)
        .await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        for i in &r.changed {
            ctx.say(format!("{} ({}): policy {policy}", i.name, i.target));
        }
    }
    Ok(ExitCode::SUCCESS)
}
