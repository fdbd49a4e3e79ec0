//! `skillc`: turn flags into a request to the skilld daemon and its answer
//! into text (or, with `--json`, into exactly the daemon's JSON).

// Doc comments on the flags are clap's help text, written for a terminal
// (`<name>` and `[:PORT]` are placeholders there, not HTML or links).
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

mod autostart;
mod commands;
mod conn;
mod ctx;
mod error;
mod markdown;
mod render;
mod stream;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use skilld_proto::paths::{Overrides, Paths};

use conn::Conn;
use ctx::Ctx;
use skillc::cli::{self, Cli};

fn main() -> ExitCode {
    // A shell asking for completions (COMPLETE=bash ...) is answered here,
    // and the process exits.
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command).complete();
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
    match runtime.block_on(commands::dispatch(&ctx)) {
        Ok(code) => code,
        Err(e) => {
            if ctx.cli.json {
                let _ = std::io::stdout().write_all(&e.to_json());
                println!();
            } else {
                for problem in e.problems() {
                    eprintln!("{problem}");
                }
                eprintln!("skillc: error: {e}");
            }
            ExitCode::FAILURE
        }
    }
}
