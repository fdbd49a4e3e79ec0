//! What a version's page and skillctl's content route fetch from the
//! registry, once per manifest digest: the skill's SKILL.md (the image
//! pulled into the server's store and unpacked into a private temporary
//! folder under the install limits, as `skillc show` does), and the
//! verdict on its cosign signatures under the config's trust policy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::Site;
use crate::catalog::show::{Subject, read};
use crate::image::reference::Reference;
use crate::image::unpack::UnpackLimits;
use crate::store::digest::Digest;
use crate::trust::policy::RuleType;
use crate::trust::{keys, signatures};

/// Verdicts and SKILL.md texts kept (each map emptied when it is full).
const KEPT: usize = 512;

/// Why SKILL.md could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The registry did not give the image.
    #[error("pulling {reference}: {message}")]
    Pull { reference: String, message: String },
    /// The image has no SKILL.md.
    #[error("{reference} holds no SKILL.md")]
    Missing { reference: String },
    #[error("reading {reference}: {message}")]
    Read { reference: String, message: String },
}

/// A version's signature state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// A signature verifies with a key of the trust rule.
    Verified { fingerprint: String, rule: String },
    /// The trust rule wants a signature and none verifies.
    Refused { rule: String, reason: String },
    /// A cosign signature is published; no rule names a key to check it.
    Unchecked,
    /// No signature is published.
    Unsigned,
}

/// What was fetched: SKILL.md by manifest digest, verdicts by repository,
/// digest and whether a signature is published.
#[derive(Debug, Default)]
pub struct Cache {
    skill_md: Mutex<HashMap<String, Arc<String>>>,
    signatures: Mutex<HashMap<String, Signature>>,
}

fn remember<V: Clone>(map: &Mutex<HashMap<String, V>>, key: &str, value: &V) {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= KEPT {
        map.clear();
    }
    map.insert(key.to_string(), value.clone());
}

fn recall<V: Clone>(map: &Mutex<HashMap<String, V>>, key: &str) -> Option<V> {
    map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(key)
        .cloned()
}

fn pinned(registry: &str, path: &str, digest: &str) -> Result<(Reference, Digest), String> {
    let digest = Digest::parse(digest).map_err(|e| e.to_string())?;
    let reference =
        Reference::parse(&format!("{registry}/{path}@{digest}")).map_err(|e| e.to_string())?;
    Ok((reference, digest))
}

/// The SKILL.md of `registry/path@digest`.
pub async fn skill_md(
    site: &Site,
    registry: &str,
    path: &str,
    digest: &str,
) -> Result<Arc<String>, ContentError> {
    if let Some(known) = recall(&site.contents().skill_md, digest) {
        return Ok(known);
    }
    let named = format!("{registry}/{path}@{digest}");
    let read_error = |message: String| ContentError::Read {
        reference: named.clone(),
        message,
    };
    let (reference, digest_parsed) = pinned(registry, path, digest).map_err(&read_error)?;
    let store = Arc::clone(site.store().store());
    if !store.has_blob(&digest_parsed) {
        crate::registry::pull::pull(site.store(), site.registries(), &reference, &|_| {}, None)
            .await
            .map_err(|e| ContentError::Pull {
                reference: named.clone(),
                message: e.to_string(),
            })?;
    }
    let tmp = site.config().paths.data_dir.join("tmp");
    let limits = UnpackLimits::of_build(&site.config().build);
    let subject_digest = digest_parsed.clone();
    let fallback_name = reference.name().to_string();
    let repository = reference.repository();
    let text = tokio::task::spawn_blocking(move || {
        let (manifest, _) = store.manifest(&subject_digest).map_err(|e| e.to_string())?;
        let subject = Subject {
            manifest,
            digest: subject_digest.to_string(),
            repository,
            fallback_name,
        };
        read(&store, &subject, &tmp, limits, &[])
            .map(|c| c.skill_md)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| read_error(e.to_string()))?
    .map_err(read_error)?;
    if text.is_empty() {
        return Err(ContentError::Missing { reference: named });
    }
    let text = Arc::new(text);
    remember(&site.contents().skill_md, digest, &text);
    Ok(text)
}

/// The signature state of `registry/path@digest`; `published` says whether
/// the repository has its cosign signature tag (from the index, so an
/// unsigned version costs no request).
pub async fn signature(
    site: &Site,
    registry: &str,
    path: &str,
    digest: &str,
    published: bool,
) -> Signature {
    // The verdict depends on the repository's trust rule, and changes when
    // a refresh finds a signature published.
    let key = format!("{registry}/{path}@{digest} {published}");
    if let Some(known) = recall(&site.contents().signatures, &key) {
        return known;
    }
    let Ok((reference, digest_parsed)) = pinned(registry, path, digest) else {
        return Signature::Unsigned;
    };
    let applied = site.config().trust.rule_for(&reference);
    let verdict = if applied.rule.kind != RuleType::Signed {
        if published {
            Signature::Unchecked
        } else {
            Signature::Unsigned
        }
    } else {
        let rule = applied.to_string();
        let keys: Result<Vec<_>, _> = applied
            .rule
            .keys
            .iter()
            .map(|p| keys::verifier(p))
            .collect();
        match keys {
            Err(e) => Signature::Refused {
                rule,
                reason: e.to_string(),
            },
            Ok(keys) => {
                match signatures::fetch(site.registries(), &reference, &digest_parsed).await {
                    Ok(None) => Signature::Refused {
                        rule,
                        reason: "no signature is published".into(),
                    },
                    Err(e) => {
                        // Not kept: the registry may answer next time.
                        return Signature::Refused {
                            rule,
                            reason: format!("the signatures could not be read: {e}"),
                        };
                    }
                    Ok(Some(found)) => {
                        let checks = signatures::check(&found, &digest_parsed, &keys);
                        match checks.iter().find(|c| c.verified) {
                            Some(ok) => Signature::Verified {
                                fingerprint: ok.fingerprint.clone().unwrap_or_default(),
                                rule,
                            },
                            None => Signature::Refused {
                                rule,
                                reason: checks
                                    .iter()
                                    .find_map(|c| c.reason.clone())
                                    .unwrap_or_else(|| "no signature verifies".into()),
                            },
                        }
                    }
                }
            }
        }
    };
    remember(&site.contents().signatures, &key, &verdict);
    verdict
}
