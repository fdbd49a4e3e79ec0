//! Helpers shared by every end-to-end test.
//!
//! - [`home`]: a temp `SKILLD_HOME` and `HOME`, `skillc` runs, a real `skilld`.
//! - [`registry`]: CNCF distribution (`docker-registry`) in three variants.
//! - [`git`]: a loopback git server (`git http-backend`), with a token variant.
//! - [`http`]: raw HTTP/1.1 over the Unix socket, for malformed requests a
//!   well-behaved client would never send.
//! - [`raw`]: pushing hand-made (hostile) images to the real registry.
//! - [`skills`]: publishing a skill's versions, reading installs and history.
//! - [`wait`]: polling with a deadline instead of sleeping.

pub mod bench;
pub mod fake;
pub mod generate;
pub mod git;
pub mod home;
pub mod http;
pub mod raw;
pub mod registry;
pub mod skills;
pub mod tools;
pub mod wait;

pub use home::{Daemon, Home, Run};
pub use registry::{Registry, Variant};
pub use wait::wait_until;
