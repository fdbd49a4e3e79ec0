//! Trust: cosign-compatible keys ([`keys`]) and signatures ([`cosign`]),
//! the signatures kept in the store beside the images they sign
//! ([`signatures`]), the trust policy ([`policy`]) and its enforcement on
//! every path that writes a skill to disk ([`enforce`]).

pub mod cosign;
pub mod enforce;
pub mod keys;
pub mod policy;
pub mod signatures;
