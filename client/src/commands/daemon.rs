//! `skillc status` and `skillc daemon start|stop|status`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use hyper::Method;
use skilld_proto::status::{self, ShutdownResponse, StatusResponse};

use crate::conn::{self, Answer};
use crate::ctx::Ctx;
use crate::error::ClientError;
use crate::{autostart, render};

/// How long `daemon stop` waits for the daemon to go away.
const STOP_DEADLINE: Duration = Duration::from_secs(30);

fn show(ctx: &Ctx, answer: &Answer) -> Result<(), ClientError> {
    if ctx.cli.json {
        ctx.print_json(answer);
        return Ok(());
    }
    let status: StatusResponse = answer.parse()?;
    if !ctx.cli.quiet {
        print!("{}", render::status(&status));
    }
    Ok(())
}

pub async fn status(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    let answer = ctx.request(Method::GET, status::ROUTE, None).await?;
    show(ctx, &answer)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn daemon_status(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    match ctx.conn.try_send(Method::GET, status::ROUTE, None).await? {
        Some(answer) => {
            show(ctx, &answer)?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let e = ClientError::NotRunning {
                socket: ctx.paths.socket.clone(),
            };
            if ctx.cli.json {
                println!("{}", String::from_utf8_lossy(&e.to_json()));
            } else {
                println!(
                    "skilld is not running (socket {})",
                    ctx.paths.socket.display()
                );
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

pub async fn start(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    let started = autostart::ensure_running(&ctx.paths)?;
    let answer = ctx.conn.send(Method::GET, status::ROUTE, None).await?;
    let status: StatusResponse = answer.parse()?;
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else if started.is_some() {
        ctx.say(format!(
            "started skilld (pid {}) on {}",
            status.pid,
            status.paths.socket.display()
        ));
    } else {
        ctx.say(format!(
            "skilld already running (pid {}) on {}",
            status.pid,
            status.paths.socket.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn stop(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    let Some(answer) = ctx
        .conn
        .try_send(Method::POST, status::SHUTDOWN_ROUTE, Some(b"{}".to_vec()))
        .await?
    else {
        ctx.say("skilld is not running");
        return Ok(ExitCode::SUCCESS);
    };
    let reply: ShutdownResponse = answer.parse()?;
    // Wait until the daemon has drained and removed its socket.
    let deadline = Instant::now() + STOP_DEADLINE;
    while conn::answers(&ctx.paths.socket) || ctx.paths.socket.exists() {
        if Instant::now() > deadline {
            return Err(ClientError::Other(format!(
                "skilld (pid {}) is still running {STOP_DEADLINE:?} after being asked to stop; \
                 look at its log, or kill it with `kill {}`",
                reply.pid, reply.pid
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if ctx.cli.json {
        ctx.print_json(&answer);
    } else {
        ctx.say(format!("stopped skilld (pid {})", reply.pid));
    }
    Ok(ExitCode::SUCCESS)
}
