//! `skillc validate DIR` and `skillc build DIR`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use skilld_proto::images::{BUILD_ROUTE, BuildRequest, BuildResponse};
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

pub async fn build(ctx: &Ctx, args: &BuildArgs) -> Result<ExitCode, ClientError> {
    let source_date_epoch = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().parse::<i64>().map_err(|_| {
            ClientError::Other(format!(
                "SOURCE_DATE_EPOCH={v:?} is not a number of seconds since 1970"
            ))
        })?),
        _ => None,
    };
    let request = BuildRequest {
        path: absolute(&args.dir)?,
        tag: args.tag.clone(),
        media_types: args.media_type.into(),
        format: args.format.into(),
        strict: args.strict,
        namespace: args.namespace.clone(),
        source_date_epoch,
    };
    let (built, answer): (BuildResponse, _) = ctx.post_streaming(BUILD_ROUTE, &request).await?;
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
    Ok(ExitCode::SUCCESS)
}
