//! Keys in cosign's format, through the sigstore crate: ECDSA P-256, the
//! private key as an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM (scrypt +
//! secretbox, as `cosign generate-key-pair` writes it), the public key as a
//! `PUBLIC KEY` PEM. A key's fingerprint is `sha256:` of its DER form.

use std::path::Path;

use base64::Engine as _;
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::crypto::{CosignVerificationKey, SigStoreSigner, SigningScheme};

use crate::store::digest::Digest;

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        op: &'static str,
        source: std::io::Error,
    },
}

fn sig(e: impl std::fmt::Display) -> KeyError {
    KeyError::Invalid(e.to_string())
}

/// A new key pair: (encrypted private PEM, public PEM, fingerprint).
pub fn generate(password: &str) -> Result<(String, String, String), KeyError> {
    let signer = SigningScheme::ECDSA_P256_SHA256_ASN1
        .create_signer()
        .map_err(sig)?;
    let pair = signer.to_sigstore_keypair().map_err(sig)?;
    let private = pair
        .private_key_to_encrypted_pem(password.as_bytes())
        .map_err(sig)?
        .to_string();
    let public = pair.public_key_to_pem().map_err(sig)?;
    let fingerprint = fingerprint(&public)?;
    Ok((private, public, fingerprint))
}

/// Largest key file read (a PEM key is a few hundred bytes).
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The signer in an encrypted private key file.
pub fn signer(path: &Path, password: &str) -> Result<(SigStoreSigner, String), KeyError> {
    let pem =
        crate::user_file::read_regular(path, MAX_KEY_FILE).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            op: "read",
            source,
        })?;
    let pair = SigStoreKeyPair::from_encrypted_pem(&pem, password.as_bytes()).map_err(|e| {
        KeyError::Invalid(format!(
            "cannot open {}: {e} (wrong password? it is read from COSIGN_PASSWORD or asked for)",
            path.display()
        ))
    })?;
    let public = pair.public_key_to_pem().map_err(sig)?;
    let signer = pair
        .to_sigstore_signer(&SigningScheme::ECDSA_P256_SHA256_ASN1)
        .map_err(sig)?;
    Ok((signer, fingerprint(&public)?))
}

/// A verification key from a public key file, and its fingerprint.
pub fn verifier(path: &Path) -> Result<(CosignVerificationKey, String), KeyError> {
    let pem =
        crate::user_file::read_regular_text(path, MAX_KEY_FILE).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            op: "read",
            source,
        })?;
    let key = CosignVerificationKey::try_from_pem(pem.as_bytes()).map_err(|e| {
        KeyError::Invalid(format!(
            "{} is not a public key cosign can use: {e}",
            path.display()
        ))
    })?;
    Ok((key, fingerprint(&pem)?))
}

/// `sha256:` of the DER inside a public key PEM.
pub fn fingerprint(public_pem: &str) -> Result<String, KeyError> {
    let body: String = public_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| KeyError::Invalid(format!("the public key is not PEM: {e}")))?;
    Ok(Digest::of(&der).to_string())
}
