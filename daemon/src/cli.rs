//! The daemon's command line, here in the library so that `cargo run -p
//! xtask -- man` writes `skilld.1` from the same definitions `main.rs`
//! parses.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The skilld daemon: agent skills from OCI registries, kept in place and current.
///
/// It runs in the foreground and serves a JSON API on a private Unix
/// socket; `skillc` is its client and starts it on demand (or the user
/// service starts it on the first connection). It stops cleanly on SIGTERM,
/// SIGINT or `POST /v1/shutdown`.
///
/// `skilld catalog` instead serves the catalog of `catalog.sources` to a
/// team over TCP: skillctl's `/api/v1` and a web page.
#[derive(Debug, Parser)]
#[command(name = "skilld", version)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Keep config, data and socket under DIR (config.yaml, store/,
    /// index.db, run/skilld.sock).
    #[arg(long, env = "SKILLD_HOME", value_name = "DIR", global = true)]
    pub home: Option<PathBuf>,

    /// Listen on this socket path.
    #[arg(long, env = "SKILLD_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Read configuration from FILE instead of the default config.yaml.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Exit after limits.idle_timeout with no client and no upgrade check due
    /// soon (skillc's autostart passes this; implied under socket activation).
    #[arg(long)]
    pub exit_when_idle: bool,

    /// More logging: -v for debug, -vv for trace. SKILLD_LOG (an EnvFilter
    /// such as `skilld=debug,hyper=info`) wins when set.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// What skilld runs instead of the per-user daemon.
#[derive(Debug, Subcommand)]
pub enum Command {
    Catalog(CatalogArgs),
}

/// Serve the catalog of `catalog.sources` to a team, read-only, over TCP.
///
/// The registries named in the config's `catalog.sources` are indexed
/// from their manifests alone (as `skillc search` does) into the index
/// under `--home`, and refreshed every `catalog.refresh_interval` (and on
/// `POST /api/v1/sync`). When the index has never been refreshed, the
/// first refresh runs before the server answers.
///
/// Served: skillctl's catalog API (`GET /api/v1/skills?q=&status=&namespace=
/// &compatibility=&tags=&page=&per_page=`, `/api/v1/skills/NS/NAME`,
/// `…/versions`, `…/versions/VER/content`, `POST /api/v1/sync`,
/// `/api/v1/collections`), `GET /healthz`, and a web page at `/` (search,
/// filters, each skill's versions, signature state, SKILL.md, and the
/// `skillc install` and Kubernetes snippets to copy). The page runs no
/// script, and says so to the browser (Content-Security-Policy).
///
/// Credentials come from the usual places (`skillc login`'s file,
/// `REGISTRY_AUTH_FILE`, podman's and docker's auth files); the server
/// needs read access only. Stops cleanly on SIGTERM or SIGINT.
///
/// Example: `skilld --home /var/lib/skilld catalog --listen 0.0.0.0:8080
/// --config /etc/skilld/config.yaml`
#[derive(Debug, clap::Args)]
pub struct CatalogArgs {
    /// Listen on ADDR (`HOST:PORT`; port 0 picks a free one, and the
    /// address served is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
}
