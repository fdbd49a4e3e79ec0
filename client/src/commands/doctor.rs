//! `skillc doctor`: what only a client can see (does a daemon answer, of
//! this protocol; the user service), then the daemon's checks
//! (`GET /v1/doctor`), each with a fix. Exit 1 when any check fails.

use std::process::ExitCode;

use skilld_proto::doctor::{Check, CheckStatus, DOCTOR_ROUTE, DoctorResponse};

use crate::ctx::Ctx;
use crate::error::ClientError;

fn check(area: &str, status: CheckStatus, message: String, fix: Option<String>) -> Check {
    Check {
        area: area.into(),
        name: area.into(),
        status,
        message,
        fix,
    }
}

/// Is the user service installed (and on Linux, active)?
fn service() -> Check {
    let state = super::service::state();
    match state {
        Some((true, active)) => check(
            "service",
            CheckStatus::Ok,
            if active {
                "installed and active".into()
            } else {
                "installed (the socket unit is not active, or systemctl --user is not reachable)"
                    .into()
            },
            None,
        ),
        Some((false, _)) | None => check(
            "service",
            CheckStatus::Ok,
            "not installed: skillc starts the daemon when it is needed".into(),
            Some(
                "`skillc service install` runs it as a user service with socket activation".into(),
            ),
        ),
    }
}

pub async fn doctor(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    let was_running = std::os::unix::net::UnixStream::connect(ctx.conn.socket()).is_ok();
    let mut checks = Vec::new();
    let daemon: Result<(DoctorResponse, _), ClientError> = ctx.get(DOCTOR_ROUTE).await;
    match daemon {
        Ok((answer, _)) => {
            checks.push(check(
                "daemon",
                CheckStatus::Ok,
                format!(
                    "{} on {}, protocol {}",
                    if was_running {
                        "running"
                    } else {
                        "started for this check"
                    },
                    ctx.conn.socket().display(),
                    skilld_proto::PROTOCOL
                ),
                None,
            ));
            checks.push(service());
            checks.extend(answer.checks);
        }
        Err(e) => {
            checks.push(check(
                "daemon",
                CheckStatus::Fail,
                e.to_string(),
                Some(
                    "see the message; `skilld -v` runs the daemon in the foreground with its log"
                        .into(),
                ),
            ));
            checks.push(service());
        }
    }
    let failed = checks.iter().any(|c| c.status == CheckStatus::Fail);
    if ctx.cli.json {
        println!(
            "{}",
            serde_json::to_string(&DoctorResponse { checks }).unwrap_or_default()
        );
    } else if !ctx.cli.quiet {
        for c in &checks {
            let mark = match c.status {
                CheckStatus::Ok => "ok  ",
                CheckStatus::Warn => "warn",
                CheckStatus::Fail => "FAIL",
            };
            let what = if c.name == c.area {
                c.area.clone()
            } else {
                format!("{} {}", c.area, c.name)
            };
            println!("{mark}  {what}: {}", c.message);
            if c.status != CheckStatus::Ok
                && let Some(fix) = &c.fix
            {
                println!("      fix: {fix}");
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
