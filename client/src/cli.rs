//! Command-line flags. Every subcommand maps to one request to the daemon.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// skillc: the command-line client of skilld, which distributes AI agent
/// skills as OCI images.
///
/// skillc sends each command to the skilld daemon over its private Unix
/// socket and prints the answer. When no daemon answers, skillc starts one in
/// the background first (unless --no-autostart is given).
///
/// Exit status: 0 on success, 1 on failure, 2 on a usage error.
#[derive(Debug, Parser)]
#[command(name = "skillc", version, propagate_version = true)]
pub struct Cli {
    /// Print the daemon's JSON answer exactly as sent, for scripts.
    #[arg(long, global = true)]
    pub json: bool,

    /// Talk to the daemon on this socket [env: SKILLD_SOCKET].
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Print nothing but errors and requested data.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Fail instead of starting a daemon when none answers.
    #[arg(long, global = true)]
    pub no_autostart: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the daemon's version, protocol, paths and what it holds.
    Status,
    /// Start, stop or query the background daemon.
    #[command(subcommand)]
    Daemon(DaemonCommand),
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Start skilld in the background unless one already answers.
    Start,
    /// Ask skilld to finish in-flight work and exit; waits until it has.
    Stop,
    /// Say whether skilld answers, without starting it (exit 1 if not).
    Status,
}
