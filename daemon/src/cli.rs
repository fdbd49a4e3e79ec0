//! The daemon's command line, here in the library so that `cargo run -p
//! xtask -- man` writes `skilld.1` from the same definitions `main.rs`
//! parses.

use std::path::PathBuf;

use clap::Parser;

/// The skilld daemon: agent skills from OCI registries, kept in place and current.
///
/// It runs in the foreground and serves a JSON API on a private Unix
/// socket; `skillc` is its client and starts it on demand (or the user
/// service starts it on the first connection). It stops cleanly on SIGTERM,
/// SIGINT or `POST /v1/shutdown`.
#[derive(Debug, Parser)]
#[command(name = "skilld", version)]
pub struct Args {
    /// Keep config, data and socket under DIR (config.yaml, store/,
    /// index.db, run/skilld.sock).
    #[arg(long, env = "SKILLD_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Listen on this socket path.
    #[arg(long, env = "SKILLD_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Read configuration from FILE instead of the default config.yaml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Exit after limits.idle_timeout with no client and no upgrade check due
    /// soon (skillc's autostart passes this; implied under socket activation).
    #[arg(long)]
    pub exit_when_idle: bool,

    /// More logging: -v for debug, -vv for trace. SKILLD_LOG (an EnvFilter
    /// such as `skilld=debug,hyper=info`) wins when set.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}
