//! Bringing the catalog up to date with its sources, incrementally.
//!
//! Per repository: one tag-list request. When the list hashes as it did
//! last time, that is all. When it changed, each tag is asked with a HEAD
//! (its digest: a new tag may name a manifest already indexed), and a
//! manifest is fetched only when its digest is new to the index; a new
//! repository's tags are fetched with one GET each (the digest comes with
//! the bytes). A repository that is
//! gone between the list and its tags is dropped; one that fails keeps
//! what the index had, and the failure is reported, not fatal.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use sha2::{Digest as _, Sha256};
use skilld_proto::catalog::RefreshResponse;
use skilld_proto::stream::Progress;

use super::entry::{self, Entry};
use super::{CatalogConfig, RefreshError, listing};
use crate::image::reference::Reference;
use crate::index::Index;
use crate::index::catalog::KnownRepo;
use crate::registry::{Registries, RegistryError, fetch, remote};

/// Requests made, counted as they are sent.
#[derive(Debug, Default)]
struct Counts {
    tag_lists: AtomicU64,
    heads: AtomicU64,
    fetched: AtomicU64,
    changed: AtomicU64,
    removed: AtomicU64,
    done: AtomicU64,
}

/// What reading one repository came to.
enum Read {
    Unchanged,
    Changed {
        hash: String,
        tags: Vec<(String, String)>,
        new: Vec<(String, Entry)>,
        signed: Vec<String>,
    },
    Gone,
}

/// The hash of a tag list (order does not matter).
fn hash_tags(tags: &[String]) -> String {
    let mut sorted: Vec<&String> = tags.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    for t in sorted {
        h.update(t.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The most tags read of one repository.
const MAX_TAGS: usize = 1000;

async fn read_repo(
    registries: &Registries,
    index: &Index,
    registry: &str,
    path: &str,
    full: bool,
    counts: &Counts,
) -> Result<Read, RegistryError> {
    let repository = Reference {
        registry: Some(registry.to_string()),
        path: path.to_string(),
        tag: None,
        digest: None,
    };
    counts.tag_lists.fetch_add(1, Ordering::Relaxed);
    let mut names = match remote::all_tag_names(registries, &repository).await {
        Ok(names) => names,
        Err(RegistryError::NotFound { .. }) => return Ok(Read::Gone),
        Err(e) => return Err(e),
    };
    // A tag no reference could name (a registry may list anything) is
    // never put in a URL or the index.
    names.retain(|t| crate::image::reference::tag_ok(t));
    names.truncate(MAX_TAGS);
    // A new signature changes the list, so the repository is read again.
    let hash = hash_tags(&names);
    // cosign's signature tags say which digests are signed; they and its
    // other tags are not versions, and are never fetched.
    let signed: Vec<String> = names
        .iter()
        .filter_map(|t| t.strip_prefix("sha256-")?.strip_suffix(".sig"))
        .map(|hex| format!("sha256:{hex}"))
        .collect();
    names.retain(|t| !remote::is_cosign_tag(t));
    let (registry_owned, path_owned) = (registry.to_string(), path.to_string());
    let known: Option<KnownRepo> = index
        .read(move |conn| crate::index::catalog::known_repo(conn, &registry_owned, &path_owned))
        .await
        .map_err(|e| RegistryError::Other {
            host: registry.to_string(),
            message: e.to_string(),
        })?;
    if !full && known.as_ref().is_some_and(|k| k.tags_hash == hash) {
        return Ok(Read::Unchanged);
    }
    let mut tags = Vec::with_capacity(names.len());
    let mut new: Vec<(String, Entry)> = Vec::new();
    for tag in names {
        let reference = repository.with_tag(&tag);
        let known_digest = known.as_ref().and_then(|k| k.tags.get(&tag));
        let digest = if known.is_some() {
            counts.heads.fetch_add(1, Ordering::Relaxed);
            match remote::head_digest(registries, &reference).await {
                Ok(d) => Some(d.to_string()),
                // Deleted since the list: left out.
                Err(RegistryError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        let indexed = match &digest {
            Some(d) if known_digest == Some(d) || new.iter().any(|(n, _)| n == d) => true,
            Some(d) => {
                let d = d.clone();
                index
                    .read(move |conn| crate::index::catalog::has_manifest(conn, &d))
                    .await
                    .unwrap_or(false)
            }
            None => false,
        };
        if indexed {
            tags.push((tag, digest.unwrap_or_default()));
            continue;
        }
        let by = match &digest {
            Some(d) => match crate::store::digest::Digest::parse(d) {
                Ok(d) => Reference {
                    digest: Some(d),
                    ..repository.clone()
                },
                Err(_) => reference,
            },
            None => reference,
        };
        counts.fetched.fetch_add(1, Ordering::Relaxed);
        let bytes = match fetch::fetch_raw(registries, &by).await {
            Ok((bytes, _, _)) => bytes,
            Err(RegistryError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        let digest = crate::store::digest::Digest::of(&bytes).to_string();
        if !new.iter().any(|(d, _)| *d == digest) {
            new.push((digest.clone(), entry::read(&bytes)));
        }
        tags.push((tag, digest));
    }
    Ok(Read::Changed {
        hash,
        tags,
        new,
        signed,
    })
}

/// The repositories the index holds of `source`.
async fn known_paths(index: &Index, source: &super::Source) -> Result<Vec<String>, RefreshError> {
    let (registry, ns) = (source.registry.clone(), source.namespace.clone());
    let explicit = source.repositories.clone();
    Ok(index
        .read(move |conn| {
            let mut stmt = conn.prepare("SELECT path FROM catalog_repos WHERE registry = ?1")?;
            let paths = stmt
                .query_map([&registry], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(paths
                .into_iter()
                .filter(|p| {
                    if !explicit.is_empty() {
                        return explicit.contains(p);
                    }
                    ns.as_ref().is_none_or(|n| p.starts_with(&format!("{n}/")))
                })
                .collect())
        })
        .await?)
}

/// Refresh the catalog in `index` from `config`'s sources.
pub async fn refresh(
    config: &CatalogConfig,
    registries: &Registries,
    index: &Index,
    full: bool,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<RefreshResponse, RefreshError> {
    if config.sources.is_empty() {
        return Err(RefreshError::NoSources);
    }
    let counts = Arc::new(Counts::default());
    let mut errors = Vec::new();
    let mut pages = 0;
    // The repositories to keep, by registry (sorted for lookup).
    let mut kept: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut work: Vec<(String, String)> = Vec::new();
    for source in &config.sources {
        match listing::list(registries, source).await {
            Ok(listed) => {
                pages += listed.pages;
                if let Some(why) = listed.truncated {
                    errors.push(format!("{}: stopped listing at {why}", source.registry));
                    // An incomplete list drops nothing.
                    let old = known_paths(index, source).await?;
                    kept.entry(source.registry.clone()).or_default().extend(old);
                }
                for path in listed.repositories {
                    work.push((source.registry.clone(), path));
                }
            }
            Err(e) => {
                errors.push(format!("{}: {e}", source.registry));
                // Keep what the index had of this source.
                let old = known_paths(index, source).await?;
                kept.entry(source.registry.clone()).or_default().extend(old);
            }
        }
    }
    work.sort();
    work.dedup();
    let total = work.len() as u64;
    progress(Progress {
        phase: "catalog".into(),
        current: 0,
        total: Some(total),
        unit: Some("repositories".into()),
        message: Some(format!("{total} repositories to read")),
        item: None,
    });
    let now = crate::events::now();
    let results: Vec<((String, String), Result<Read, RegistryError>)> =
        futures_util::stream::iter(work.iter().cloned())
            .map(|(registry, path)| {
                let counts = Arc::clone(&counts);
                let now = now.clone();
                async move {
                    let read = read_repo(registries, index, &registry, &path, full, &counts).await;
                    // Written as each repository is read: a refresh stopped
                    // half way keeps what it read.
                    let outcome = match read {
                        Ok(Read::Changed {
                            hash,
                            tags,
                            new,
                            signed,
                        }) => {
                            counts.changed.fetch_add(1, Ordering::Relaxed);
                            let (r, p) = (registry.clone(), path.clone());
                            index
                                .write(move |conn| {
                                    let tx = conn.transaction()?;
                                    let read = crate::index::catalog::RepoRead {
                                        tags_hash: &hash,
                                        tags: &tags,
                                        new: &new,
                                        signed: &signed,
                                    };
                                    crate::index::catalog::write_repo(&tx, &r, &p, &read, &now)?;
                                    tx.commit()
                                })
                                .await
                                .map(|()| Read::Unchanged)
                                .map_err(|e| RegistryError::Other {
                                    host: registry.clone(),
                                    message: e.to_string(),
                                })
                        }
                        other => other,
                    };
                    let done = counts.done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress(Progress {
                        phase: "catalog".into(),
                        current: done,
                        total: Some(total),
                        unit: Some("repositories".into()),
                        message: None,
                        item: None,
                    });
                    ((registry, path), outcome)
                }
            })
            .buffer_unordered(config.concurrency)
            .collect()
            .await;
    for ((registry, path), outcome) in results {
        match outcome {
            Ok(Read::Gone) => {
                let (r, p) = (registry.clone(), path.clone());
                if index
                    .write(move |conn| crate::index::catalog::remove_repo(conn, &r, &p))
                    .await?
                {
                    counts.removed.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(_) => kept.entry(registry).or_default().push(path),
            Err(e) => {
                errors.push(format!("{registry}/{path}: {e}"));
                kept.entry(registry).or_default().push(path);
            }
        }
    }
    for paths in kept.values_mut() {
        paths.sort();
        paths.dedup();
    }
    let finished = crate::events::now();
    let stamp = finished.clone();
    let (removed, versions) = index
        .write(move |conn| {
            let tx = conn.transaction()?;
            let removed = crate::index::catalog::remove_repos_except(&tx, &kept)?;
            crate::index::catalog::set_meta(&tx, "refreshed_at", &stamp)?;
            let versions = crate::index::catalog::version_count(&tx)?;
            tx.commit()?;
            Ok((removed, versions))
        })
        .await?;
    let counts = &counts;
    Ok(RefreshResponse {
        repositories: total,
        changed: counts.changed.load(Ordering::Relaxed),
        removed: counts.removed.load(Ordering::Relaxed) + removed,
        catalog_pages: pages,
        tag_lists: counts.tag_lists.load(Ordering::Relaxed),
        manifest_heads: counts.heads.load(Ordering::Relaxed),
        manifests_fetched: counts.fetched.load(Ordering::Relaxed),
        versions,
        errors,
        refreshed_at: finished,
    })
}
