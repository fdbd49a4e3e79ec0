//! skilld: a per-user daemon that distributes AI agent skills as OCI images.
//!
//! The library holds everything that does work; `main.rs` only parses flags,
//! sets up logging and signals, and calls [`run`]. Tests start a daemon
//! in-process with [`bind`] and [`run`].
//!
//! Modules, one concern each:
//! - [`config`]: `config.yaml`, strict parsing with file/line errors.
//! - [`server`]: the socket (hygiene, lock, peer check) and the accept loop.
//! - [`api`]: routes, one handler file per endpoint group, the error mapping.
//! - [`index`]: the SQLite index and its embedded migrations.
//! - [`state`]: the shared handle every handler receives.

pub mod api;
pub mod catalog;
pub mod cli;
pub mod collection;
pub mod config;
pub mod depend;
pub mod doctor;
pub mod events;
pub mod image;
pub mod index;
pub mod install;
pub mod memory;
pub mod oci;
pub mod project;
pub mod registry;
pub mod scan;
pub mod server;
pub mod skill;
pub mod source;
pub mod state;
pub mod store;
pub mod trust;
pub mod upgrade;
pub mod user_file;

pub use config::Config;
pub use server::{Bound, StartError, bind, run};
pub use skilld_proto as proto;
