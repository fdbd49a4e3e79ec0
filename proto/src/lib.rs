//! Wire types shared by the `skilld` daemon, the `skillc` client and editor
//! plugins: one request and one response type per endpoint, the error object,
//! the NDJSON stream frames, and where the daemon's files and socket live.
//!
//! This crate is data only: serde, no tokio, no hyper, no I/O beyond looking
//! up paths in the environment.

pub mod catalog;
pub mod collection;
pub mod doctor;
pub mod error;
pub mod events;
pub mod images;
pub mod install;
#[cfg(feature = "schema")]
pub mod openapi;
pub mod paths;
pub mod project;
pub mod registry;
pub mod routes;
pub mod scan;
pub mod skill;
pub mod status;
pub mod stream;
pub mod trust;

pub use error::{ErrorBody, ErrorCode, ErrorResponse};
pub use paths::{Env, Paths};

/// The wire protocol number. Bumped on any incompatible change to a route,
/// a request or a response; the client refuses to talk to a daemon that
/// answers with another number.
pub const PROTOCOL: u32 = 1;

/// Every response carries this header with the daemon's [`PROTOCOL`], so a
/// client notices a mismatched daemon on any route, not only on status.
pub const PROTOCOL_HEADER: &str = "skilld-protocol";

/// Prefix of every route.
pub const API_PREFIX: &str = "/v1";
