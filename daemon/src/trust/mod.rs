//! Trust: cosign-compatible keys ([`keys`]) and signatures ([`cosign`]).

pub mod cosign;
pub mod keys;
