//! `skillc validate DIR` and `skillc build DIR|GIT_URL [--all]`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use skilld_proto::images::{
    BUILD_ALL_ROUTE, BUILD_ROUTE, BuildAllRequest, BuildAllResponse, BuildOutcome, BuildRequest,
    BuildResponse, GitSource,
};
use skilld_proto::skill::{Severity, VALIDATE_ROUTE, ValidateRequest, ValidateResponse};

use crate::cli::{BuildArgs, ValidateArgs};
use crate::ctx::Ctx;
use crate::error::ClientError;
use crate::render;

/// The daemon does not share our working folder: send an absolute path
/// (not canonicalised, so the folder keeps the name the user typed).
fn absolute(dir: &Path) -> Result<PathBuf, ClientError> {
    std::path::absolute(dir)
        .map_err(|e| ClientError::Other(format!("cannot resolve {}: {e}", dir.display())))
}

pub async fn validate(ctx: &Ctx, args: &ValidateArgs) -> Result<ExitCode, ClientError> {
    let request = ValidateRequest {
        path: absolute(&args.dir)?,
        strict: args.strict,
        namespace: args.namespace.clone(),
    };
    let (response, answer): (ValidateResponse, _) = ctx.post(VALIDATE_ROUTE, &request).await?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        for problem in &response.problems {
            if !ctx.cli.quiet || problem.severity == Severity::Error {
                eprintln!("{problem}");
            }
        }
        let errors = response
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count();
        let warnings = response.problems.len() - errors;
        match &response.card {
            Some(card) if response.valid => ctx.say(format!(
                "{}: valid skill {} {}{}",
                args.dir.display(),
                card.metadata.name,
                card.metadata.version,
                if warnings > 0 {
                    format!(" ({warnings} warning(s))")
                } else {
                    String::new()
                }
            )),
            _ => eprintln!(
                "{}: {errors} error(s), {warnings} warning(s)",
                args.dir.display()
            ),
        }
    }
    Ok(if response.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Where to build from: a folder here, or a git repository the daemon
/// fetches. A folder that exists wins over a URL of the same spelling.
fn source(args: &BuildArgs) -> Result<(PathBuf, Option<GitSource>), ClientError> {
    let local = Path::new(&args.source);
    if local.exists() {
        if args.reference.is_some() || args.path.is_some() {
            return Err(ClientError::Other(format!(
                "--ref and --path are for git sources; {} is a folder here (give its sub-folder instead)",
                args.source
            )));
        }
        return Ok((absolute(local)?, None));
    }
    let looks_local = args.source.starts_with('.')
        || args.source.starts_with('/')
        || args.source.starts_with('~')
        || (!args.source.contains("://")
            && !args.source.contains(':')
            && args.source.matches('/').count() != 1);
    if looks_local {
        return Err(ClientError::Other(format!(
            "{} does not exist; give the folder that holds the skill's SKILL.md, or a git URL",
            args.source
        )));
    }
    Ok((
        PathBuf::new(),
        Some(GitSource {
            url: args.source.clone(),
            reference: args.reference.clone(),
            path: args.path.clone(),
        }),
    ))
}

/// A fetch that failed for `OWNER/REPO` says it was read as GitHub's,
/// since the user may have meant a folder that is not here.
fn read_as_github(args: &BuildArgs, e: ClientError) -> ClientError {
    match e {
        ClientError::Daemon { mut body, raw }
            if body.code == skilld_proto::ErrorCode::Upstream
                && !args.source.contains(':')
                && args.source.matches('/').count() == 1 =>
        {
            body.message.push_str(&format!(
                " (there is no folder {} here, so it was read as GitHub's {0}; for a folder, check the path)",
                args.source
            ));
            ClientError::Daemon { body, raw }
        }
        e => e,
    }
}

fn source_date_epoch() -> Result<Option<i64>, ClientError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => Ok(Some(v.trim().parse::<i64>().map_err(|_| {
            ClientError::Other(format!(
                "SOURCE_DATE_EPOCH={v:?} is not a number of seconds since 1970"
            ))
        })?)),
        _ => Ok(None),
    }
}

pub async fn build(ctx: &Ctx, args: &BuildArgs) -> Result<ExitCode, ClientError> {
    if args.all {
        return build_all(ctx, args).await;
    }
    let (path, git) = source(args)?;
    let request = BuildRequest {
        path,
        git,
        tag: args.tag.clone(),
        media_types: args.media_type.into(),
        format: args.format.into(),
        strict: args.strict,
        namespace: args.namespace.clone(),
        source_date_epoch: source_date_epoch()?,
    };
    let (built, answer): (BuildResponse, _) = ctx
        .post_streaming(BUILD_ROUTE, &request)
        .await
        .map_err(|e| read_as_github(args, e))?;
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    if !ctx.cli.quiet {
        for warning in &built.warnings {
            eprintln!("{warning}");
        }
        crate::render::findings(&built.findings);
    }
    ctx.say(format!("built {}", built.reference));
    ctx.say(format!("  digest  {}", built.digest));
    ctx.say(format!(
        "  files   {} ({}), image {}",
        built.files,
        render::bytes(built.content_bytes),
        render::bytes(built.size)
    ));
    if let Some(p) = &built.provenance {
        ctx.say(format!(
            "  source  {} at {}{}",
            p.source.as_deref().unwrap_or("?"),
            p.commit.as_deref().unwrap_or("?"),
            p.path
                .as_deref()
                .map(|p| format!(", folder {p}"))
                .unwrap_or_default()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

async fn build_all(ctx: &Ctx, args: &BuildArgs) -> Result<ExitCode, ClientError> {
    let (path, git) = source(args)?;
    let request = BuildAllRequest {
        path,
        git,
        prefix: args.tag.clone(),
        push: args.push,
        media_types: args.media_type.into(),
        format: args.format.into(),
        strict: args.strict,
        namespace: args.namespace.clone(),
        source_date_epoch: source_date_epoch()?,
    };
    let (all, answer): (BuildAllResponse, _) = ctx
        .post_streaming(BUILD_ALL_ROUTE, &request)
        .await
        .map_err(|e| read_as_github(args, e))?;
    let code = if all.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    };
    if ctx.cli.json {
        ctx.print_json(&answer);
        return Ok(code);
    }
    if let Some(p) = &all.source {
        ctx.say(format!(
            "{} at {}",
            p.source.as_deref().unwrap_or("?"),
            p.commit.as_deref().unwrap_or("?")
        ));
    }
    for skill in &all.skills {
        let what = match skill.outcome {
            BuildOutcome::Built if skill.pushed => "pushed ",
            BuildOutcome::Built => "built  ",
            BuildOutcome::Skipped => "same   ",
            BuildOutcome::Failed => "FAILED ",
        };
        let line = match (&skill.reference, &skill.problem) {
            (_, Some(problem)) => format!("{what}{}: {problem}", skill.path),
            (Some(reference), None) => format!(
                "{what}{}  {reference}  {}",
                skill.path,
                skill.digest.as_deref().map(short).unwrap_or_default()
            ),
            (None, None) => format!("{what}{}", skill.path),
        };
        if skill.outcome == BuildOutcome::Failed {
            eprintln!("{line}");
        } else {
            ctx.say(line);
        }
    }
    let summary = format!(
        "{} skill(s): {} built, {} unchanged, {} failed",
        all.skills.len(),
        all.built,
        all.skipped,
        all.failed
    );
    if all.failed > 0 {
        eprintln!("{summary}");
    } else {
        ctx.say(summary);
    }
    Ok(code)
}

/// `sha256:0123456789ab`.
fn short(digest: &str) -> String {
    digest.chars().take(19).collect()
}
