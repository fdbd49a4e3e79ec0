//! `skillc add`, `lock`, `sync`, `outdated`: a project's skill set.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use skilld_proto::project::{
    ADD_ROUTE, AddRequest, LOCK_ROUTE, LockRequest, LockResponse, OUTDATED_ROUTE, OutdatedRequest,
    OutdatedResponse, SYNC_ROUTE, SyncRequest, SyncResponse,
};

use crate::ctx::Ctx;
use crate::error::ClientError;
use crate::render;

fn absolute(path: &Path) -> Result<PathBuf, ClientError> {
    std::path::absolute(path)
        .map_err(|e| ClientError::Other(format!("cannot resolve {}: {e}", path.display())))
}

/// The changes of a sync, one line each (kept skills only counted).
pub(crate) fn report(ctx: &Ctx, r: &SyncResponse) {
    if r.relocked {
        ctx.say("skills.lock.json updated from skills.json");
    }
    let mut kept = 0;
    for c in &r.changes {
        let v = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        match c.action.as_str() {
            "keep" => kept += 1,
            "install" => ctx.say(format!(
                "installed {} {} into {}",
                c.name,
                v(&c.to),
                c.path.display()
            )),
            "update" => ctx.say(format!(
                "updated {} {} → {} in {}",
                c.name,
                v(&c.from),
                v(&c.to),
                c.path.display()
            )),
            "link" => ctx.say(format!("linked {} into {}", c.name, c.path.display())),
            "remove" => ctx.say(format!(
                "removed {} {} from {}",
                c.name,
                v(&c.from),
                c.path.display()
            )),
            other => ctx.say(format!("{other} {} {}", c.name, c.path.display())),
        }
    }
    for b in &r.backups {
        ctx.say(format!("kept the previous folder in {}", b.display()));
    }
    if kept > 0 {
        ctx.say(format!("{kept} skill(s) already as locked"));
    }
}

pub async fn add(
    ctx: &Ctx,
    project: &Path,
    references: &[String],
    targets: &[String],
) -> Result<ExitCode, ClientError> {
    let request = AddRequest {
        project: absolute(project)?,
        references: references.to_vec(),
        targets: targets.to_vec(),
    };
    let (r, answer): (SyncResponse, _) = ctx.post_streaming(ADD_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    report(ctx, &r);
    Ok(ExitCode::SUCCESS)
}

pub async fn lock(
    ctx: &Ctx,
    project: &Path,
    update: bool,
    names: &[String],
) -> Result<ExitCode, ClientError> {
    let request = LockRequest {
        project: absolute(project)?,
        update,
        names: names.to_vec(),
    };
    let (r, answer): (LockResponse, _) = ctx.post_streaming(LOCK_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    for s in r.skills.iter().filter(|s| s.changed) {
        match &s.previous {
            Some(p) => ctx.say(format!("{}: {p} → {}", s.name, s.tag)),
            None => ctx.say(format!("{}: {}", s.name, s.tag)),
        }
    }
    ctx.say(if r.written {
        format!("wrote skills.lock.json ({} skills)", r.skills.len())
    } else {
        "skills.lock.json is up to date".to_string()
    });
    Ok(ExitCode::SUCCESS)
}

pub async fn sync(
    ctx: &Ctx,
    project: &Path,
    frozen: bool,
    dry_run: bool,
    force: bool,
) -> Result<ExitCode, ClientError> {
    let request = SyncRequest {
        project: absolute(project)?,
        frozen,
        dry_run,
        force,
    };
    let (r, answer): (SyncResponse, _) = ctx.post_streaming(SYNC_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    if dry_run {
        ctx.say("dry run: nothing was changed");
    }
    report(ctx, &r);
    Ok(ExitCode::SUCCESS)
}

pub async fn outdated(ctx: &Ctx, project: &Path) -> Result<ExitCode, ClientError> {
    let request = OutdatedRequest {
        project: absolute(project)?,
    };
    let (r, answer): (OutdatedResponse, _) = ctx.post(OUTDATED_ROUTE, &request).await?;
    let any = r.skills.iter().any(|s| s.outdated);
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else if !ctx.cli.quiet {
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let rows: Vec<Vec<String>> = r
            .skills
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    dash(&s.requirement),
                    dash(&s.locked),
                    dash(&s.wanted),
                    dash(&s.latest),
                ]
            })
            .collect();
        print!(
            "{}",
            render::table(
                &["NAME", "REQUIREMENT", "LOCKED", "WANTED", "LATEST"],
                &rows
            )
        );
    }
    Ok(if any {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
