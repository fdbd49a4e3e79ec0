//! `skilld`: parse flags, set up logging and signals, call [`skilld::run`].

use std::process::ExitCode;

use clap::Parser;
use skilld::cli::{Args, CatalogArgs, Command};
use skilld::proto::paths::{Overrides, Paths};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("SKILLD_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let is_tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(is_tty)
        .with_target(false)
        .init();
}

async fn shutdown_on_signals(token: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
            () = token.cancelled() => return,
        }
        token.cancel();
    });
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.verbose);
    match start(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("skilld: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn start(args: Args) -> anyhow::Result<()> {
    let overrides = Overrides {
        home: args.home,
        socket: args.socket,
        config: args.config,
    };
    let paths = Paths::from_env(&overrides)?;
    let mut config = skilld::Config::load(paths)?;
    if let Some(Command::Catalog(catalog)) = args.command {
        return serve_catalog(config, catalog);
    }
    config.exit_when_idle = args.exit_when_idle;
    skilld::memory::one_arena();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Blocking work (SQLite, file I/O, hashing) is short: a few threads
        // suffice, and each thread's allocator arena costs resident memory.
        .max_blocking_threads(4)
        .enable_all()
        .build()?;
    let grace = config.limits.shutdown_grace;
    let held = runtime.block_on(async {
        // Signals first: a SIGTERM that arrives as soon as the socket exists
        // must take the clean path, not kill the process.
        let token = CancellationToken::new();
        shutdown_on_signals(token.clone()).await?;
        // A socket handed over by systemd (LISTEN_FDS) is used as it is.
        let bound = match skilld::server::activation::inherited_listener() {
            Some(listener) => {
                config.exit_when_idle = true;
                skilld::server::bind_inherited(&config, listener)?
            }
            None => skilld::bind(&config)?,
        };
        let held = skilld::run(config, bound, token).await?;
        anyhow::Ok(held)
    })?;
    // Blocking work may still run (a read, a hash, a blob write): it gets
    // the grace period, then the process exits. The lock goes with the
    // process, never before it, so a second daemon can never share the data
    // folder with what is left of this one.
    runtime.shutdown_timeout(grace);
    std::mem::forget(held);
    std::process::exit(0)
}

/// `skilld catalog`: the team catalog server, until SIGTERM or SIGINT.
fn serve_catalog(config: skilld::Config, args: CatalogArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Searches run on blocking threads, one SQLite reader each.
        .max_blocking_threads(8)
        .enable_all()
        .build()?;
    let grace = config.limits.shutdown_grace;
    runtime.block_on(async {
        let token = CancellationToken::new();
        shutdown_on_signals(token.clone()).await?;
        skilld::catalog::server::run(config, args.listen, token).await?;
        anyhow::Ok(())
    })?;
    runtime.shutdown_timeout(grace);
    Ok(())
}
