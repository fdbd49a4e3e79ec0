//! `skillc`: turn flags into a request to the skilld daemon and its answer
//! into text (or, with `--json`, into exactly the daemon's JSON).

mod autostart;
mod cli;
mod conn;
mod error;
mod render;

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use hyper::Method;
use skilld_proto::paths::{Overrides, Paths};
use skilld_proto::status::{self, ShutdownResponse, StatusResponse};

use cli::{Cli, Command, DaemonCommand};
use conn::{Answer, Conn};
use error::ClientError;

/// How long `daemon stop` waits for the daemon to go away.
const STOP_DEADLINE: Duration = Duration::from_secs(30);

struct Ctx {
    cli: Cli,
    paths: Paths,
    conn: Conn,
}

impl Ctx {
    /// Print a line for a person unless `--quiet` or `--json`.
    fn say(&self, line: impl std::fmt::Display) {
        if !self.cli.quiet && !self.cli.json {
            println!("{line}");
        }
    }

    /// Send a request, starting the daemon first when none answers.
    async fn request(
        &self,
        method: Method,
        route: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, ClientError> {
        if let Some(answer) = self
            .conn
            .try_send(method.clone(), route, body.clone())
            .await?
        {
            return Ok(answer);
        }
        if self.cli.no_autostart {
            return Err(ClientError::NotRunning {
                socket: self.conn.socket().to_path_buf(),
            });
        }
        if let Some(pid) = autostart::ensure_running(&self.paths)?
            && !self.cli.quiet
            && !self.cli.json
        {
            eprintln!("skillc: started skilld (pid {pid})");
        }
        self.conn.send(method, route, body).await
    }

    fn print_json(&self, answer: &Answer) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&answer.body);
        let _ = out.write_all(b"\n");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        socket: cli.socket.clone(),
        ..Overrides::default()
    };
    let paths = match Paths::from_env(&overrides) {
        Ok(paths) => paths,
        Err(e) => {
            eprintln!("skillc: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("skillc: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ctx = Ctx {
        conn: Conn::new(paths.socket.clone()),
        paths,
        cli,
    };
    match runtime.block_on(dispatch(&ctx)) {
        Ok(code) => code,
        Err(e) => {
            if ctx.cli.json {
                let _ = std::io::stdout().write_all(&e.to_json());
                println!();
            } else {
                eprintln!("skillc: error: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(ctx: &Ctx) -> Result<ExitCode, ClientError> {
    match &ctx.cli.command {
        Command::Status => {
            let answer = ctx.request(Method::GET, status::ROUTE, None).await?;
            show_status(ctx, &answer)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Daemon(DaemonCommand::Status) => {
            match ctx.conn.try_send(Method::GET, status::ROUTE, None).await? {
                Some(answer) => {
                    show_status(ctx, &answer)?;
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    let e = ClientError::NotRunning {
                        socket: ctx.paths.socket.clone(),
                    };
                    if ctx.cli.json {
                        let _ = std::io::stdout().write_all(&e.to_json());
                        println!();
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
        Command::Daemon(DaemonCommand::Start) => {
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
        Command::Daemon(DaemonCommand::Stop) => stop(ctx).await,
    }
}

fn show_status(ctx: &Ctx, answer: &Answer) -> Result<(), ClientError> {
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

async fn stop(ctx: &Ctx) -> Result<ExitCode, ClientError> {
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
