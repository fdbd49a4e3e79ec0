//! Enforcing the trust policy on every path that writes a skill to disk
//! (install, upgrade by hand or by the scheduler, rollback, `pull -o`), and
//! the explicit `pull --verify --key` check.
//!
//! An image is judged by the rule of the reference it is installed by and
//! by the rule of every registry repository its manifest was pulled from
//! (the store records them): a local tag of a pulled image (`skillc tag
//! quay.io/acme/x:1 mine/x:1`) meets quay.io/acme's rule, not the default.
//!
//! Signatures come from, in order: those fetched beside the image's blobs
//! ([`prefetch`]), the store (kept by an earlier check, `save` or `load`),
//! the image's registry. Verified ones from a registry are kept in the
//! store once the skill is written, so a rollback or an air-gapped install
//! needs no network, and a signature added on the registry later is still
//! found.

use std::path::PathBuf;
use std::sync::Arc;

use super::keys;
use super::policy::{Applied, RuleType};
use super::signatures::{self, Key, Signatures};
use crate::image::reference::Reference;
use crate::state::State;
use crate::store::digest::Digest;

/// What the policy decided for an image it lets through.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Fingerprint of the key whose signature verified, under a signed rule.
    pub signer: Option<String>,
    /// Verified signatures fetched from the registry, for the store, with
    /// the repository they were found for.
    fetched: Option<(Reference, Arc<Signatures>)>,
}

impl Verdict {
    /// Keep the verified signatures in the store, in the background, once
    /// the image is written (so that work never slows the write): for
    /// rollback, `save` and offline checks. A failure only costs a later
    /// fetch.
    pub fn keep_signatures(self, state: &State, digest: &Digest) {
        let Some((subject, found)) = self.fetched else {
            return;
        };
        let (state, repository, digest) = (state.clone(), subject.repository(), digest.clone());
        tokio::spawn(async move {
            let kept = signatures::keep(
                state.catalog(),
                state.registries(),
                &repository,
                &digest,
                &found,
            );
            if let Err(e) = kept.await {
                tracing::warn!(error = %e, "cannot keep signatures in the store");
            }
        });
    }
}

/// Why an image may not be written (or a trust check could not be made).
#[derive(Debug, Clone, thiserror::Error)]
pub enum TrustError {
    /// The policy, or `pull --verify`, refused the image: `rule` and its
    /// `kind` name the policy rule (none for `--verify`).
    #[error("{message}")]
    Refused {
        message: String,
        rule: Option<String>,
        kind: Option<&'static str>,
        repository: String,
    },
    /// Keys given with `--verify --key` cannot be used.
    #[error("{0}")]
    BadKeys(String),
    /// Where the image came from cannot be read.
    #[error("cannot read where {digest} came from: {message}")]
    Origins { digest: Digest, message: String },
}

fn refusal(applied: &Applied<'_>, repository: &str, message: String) -> TrustError {
    TrustError::Refused {
        message,
        rule: Some(applied.name.clone()),
        kind: Some(applied.rule.kind.as_str()),
        repository: repository.to_string(),
    }
}

fn rejected(applied: &Applied<'_>, reference: &Reference) -> TrustError {
    refusal(
        applied,
        &reference.repository(),
        format!(
            "{reference} is refused by {applied}, which rejects every image in its scope; nothing was written. Change the trust section of config.yaml to allow it"
        ),
    )
}

/// Whether the policy lets `reference` be fetched at all: `reject` refuses
/// before any network traffic. Other rules are decided by [`check`].
pub fn precheck(state: &State, reference: &Reference) -> Result<(), TrustError> {
    let applied = state.config().trust.rule_for(reference);
    match applied.rule.kind {
        RuleType::Reject => Err(rejected(&applied, reference)),
        RuleType::Accept | RuleType::Signed => Ok(()),
    }
}

/// Decide whether the image `reference` at `digest` may be written to disk:
/// under its own rule, and under the rule of every repository the store
/// says it was pulled from. The first signer found is the one recorded.
pub async fn check(
    state: &State,
    reference: &Reference,
    digest: &Digest,
    prefetched: Option<Arc<Signatures>>,
) -> Result<Verdict, TrustError> {
    let mut verdict = check_one(state, reference, digest, prefetched, None).await?;
    let origins = state
        .catalog()
        .origins(digest)
        .await
        .map_err(|e| TrustError::Origins {
            digest: digest.clone(),
            message: e.to_string(),
        })?;
    for origin in origins {
        if origin == reference.repository() {
            continue;
        }
        let Ok(mut subject) = Reference::parse(&origin) else {
            continue;
        };
        subject.digest = Some(digest.clone());
        let judged = check_one(state, &subject, digest, None, Some(reference)).await?;
        if verdict.signer.is_none() {
            verdict = judged;
        }
    }
    Ok(verdict)
}

/// [`check`] under the rule of `reference` alone; `named`, when the image
/// is installed under another name than `reference` (its origin), goes in
/// the refusal so the user sees why that rule applies.
async fn check_one(
    state: &State,
    reference: &Reference,
    digest: &Digest,
    prefetched: Option<Arc<Signatures>>,
    named: Option<&Reference>,
) -> Result<Verdict, TrustError> {
    let repository = reference.repository();
    let applied = state.config().trust.rule_for(reference);
    let came_from = named
        .map(|n| {
            format!("{n} was pulled from {repository}, so it is judged by that registry's rule: ")
        })
        .unwrap_or_default();
    match applied.rule.kind {
        RuleType::Reject => Err(refusal(
            &applied,
            &repository,
            format!(
                "{came_from}{reference} is refused by {applied}, which rejects every image in its scope; nothing was written. Change the trust section of config.yaml to allow it"
            ),
        )),
        RuleType::Accept => Ok(Verdict {
            signer: None,
            fetched: None,
        }),
        RuleType::Signed => {
            let keys = load_keys(&applied.rule.keys).map_err(|e| {
                refusal(
                    &applied,
                    &repository,
                    format!("{came_from}{applied}: {e}; nothing was written"),
                )
            })?;
            match require_signature(state, reference, digest, &keys, prefetched).await {
                Ok((signer, fetched)) => Ok(Verdict {
                    signer: Some(signer),
                    fetched: fetched.map(|f| (reference.clone(), f)),
                }),
                Err(why) => {
                    // A reference pinned by digest names it already.
                    let pinned = if reference.digest.is_some() {
                        String::new()
                    } else {
                        format!(" ({digest})")
                    };
                    Err(refusal(
                        &applied,
                        &repository,
                        format!(
                            "{came_from}{reference}{pinned} is refused by {applied}: {why}; nothing was written. Sign it with `skillc sign {reference} --key cosign.key` using a key the rule trusts"
                        ),
                    ))
                }
            }
        }
    }
}

/// Under a `signed` rule, start fetching the registry's signatures of
/// `digest` on a task of its own, to run beside the image's blob download;
/// the result goes to [`check`]. Failures are left to [`check`], which
/// looks again and explains.
pub fn prefetch(
    state: &State,
    reference: &Reference,
    digest: &Digest,
) -> Option<tokio::task::JoinHandle<Option<Signatures>>> {
    if state.config().trust.rule_for(reference).rule.kind != RuleType::Signed {
        return None;
    }
    let (state, reference, digest) = (state.clone(), reference.clone(), digest.clone());
    Some(tokio::spawn(async move {
        signatures::fetch(state.registries(), &reference, &digest)
            .await
            .inspect_err(|e| tracing::debug!(%reference, error = %e, "signatures not prefetched"))
            .ok()
            .flatten()
    }))
}

/// `pull --verify --key K`: a signature by one of `paths` is required,
/// whatever the policy says.
pub async fn check_keys(
    state: &State,
    reference: &Reference,
    digest: &Digest,
    paths: &[PathBuf],
) -> Result<Verdict, TrustError> {
    let keys = load_keys(paths).map_err(|e| TrustError::BadKeys(e.to_string()))?;
    let (signer, fetched) = require_signature(state, reference, digest, &keys, None)
        .await
        .map_err(|why| {
            TrustError::Refused {
                message: format!("{reference} ({digest}) is not verified by the given keys: {why}; nothing was unpacked"),
                rule: None,
                kind: None,
                repository: reference.repository(),
            }
        })?;
    Ok(Verdict {
        signer: Some(signer),
        fetched: fetched.map(|f| (reference.clone(), f)),
    })
}

fn load_keys(paths: &[PathBuf]) -> Result<Vec<Key>, keys::KeyError> {
    paths.iter().map(|p| keys::verifier(p)).collect()
}

/// The fingerprint of a key that verifies a signature on `digest`: among
/// the `prefetched` signatures, else the store's, else the registry's;
/// otherwise why none does. With the fingerprint, the verified signatures
/// when they came from the registry (the store does not have them yet).
async fn require_signature(
    state: &State,
    reference: &Reference,
    digest: &Digest,
    keys: &[Key],
    prefetched: Option<Arc<Signatures>>,
) -> Result<(String, Option<Arc<Signatures>>), String> {
    let repository = reference.repository();
    let mut reasons = Vec::new();
    if let Some(found) = prefetched {
        match verified(&signatures::check(&found, digest, keys)) {
            Ok(signer) => return Ok((signer, Some(found))),
            Err(why) => reasons.push(why),
        }
    }
    let kept = signatures::kept(state.catalog(), &repository, digest)
        .await
        .map_err(|e| format!("the kept signatures cannot be read: {e}"))?;
    if let Some(found) = kept {
        match verified(&signatures::check(&found, digest, keys)) {
            Ok(signer) => return Ok((signer, None)),
            Err(why) => reasons.push(why),
        }
    }
    if reference.registry.is_some() {
        match signatures::fetch(state.registries(), reference, digest).await {
            Ok(Some(found)) => match verified(&signatures::check(&found, digest, keys)) {
                Ok(signer) => return Ok((signer, Some(Arc::new(found)))),
                Err(why) => reasons.push(why),
            },
            Ok(None) => {}
            Err(e) => reasons.push(format!("its signatures cannot be fetched: {e}")),
        }
    }
    if reasons.is_empty() {
        reasons.push("it has no signatures".into());
    }
    reasons.dedup();
    Err(reasons.join("; "))
}

/// The verifying fingerprint among `checks`, or why none verified.
fn verified(checks: &[skilld_proto::trust::SignatureCheck]) -> Result<String, String> {
    if let Some(fingerprint) = checks
        .iter()
        .find(|c| c.verified)
        .and_then(|c| c.fingerprint.clone())
    {
        return Ok(fingerprint);
    }
    let mut reasons: Vec<String> = checks.iter().filter_map(|c| c.reason.clone()).collect();
    reasons.dedup();
    Err(match reasons.len() {
        0 => "it has no signatures".into(),
        n => format!("{n} signature(s), none verified: {}", reasons.join(", ")),
    })
}
