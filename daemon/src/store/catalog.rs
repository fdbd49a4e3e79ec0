//! The store and its SQLite mirror, kept in step: every tag change writes
//! `index.json` (the truth, read by skopeo and umoci) and then the `refs`
//! table (the fast path for listing). A crash between the two is repaired by
//! [`Catalog::reconcile`] at start.

use std::sync::Arc;

use crate::index::refs::{self, RefRow};
use crate::index::{Index, IndexError};
use crate::oci::{Descriptor, annotation};

use super::digest::Digest;
use super::{Store, StoreError};
use crate::image::reference::Reference;

/// Why a catalog operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Why a local image was not found.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error(transparent)]
    Reference(#[from] crate::image::reference::BadReference),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// Nothing local by that name; `reference` and the repository's other
    /// `tags` when a name (not a digest) was asked for.
    #[error("{message}")]
    NotFound {
        message: String,
        reference: Option<String>,
        tags: Vec<String>,
    },
}

impl From<StoreError> for FindError {
    fn from(e: StoreError) -> FindError {
        FindError::Catalog(e.into())
    }
}

/// Cheap-to-clone handle on the store and the index together.
#[derive(Clone, Debug)]
pub struct Catalog {
    store: Arc<Store>,
    index: Index,
    /// Held shared while blobs are written and tagged, exclusively by prune.
    gc: Arc<tokio::sync::RwLock<()>>,
}

/// The row describing tag `name` pointing at `descriptor`.
pub fn row_for(store: &Store, name: &str, descriptor: &Descriptor) -> Result<RefRow, StoreError> {
    let (manifest, len) = store.manifest(&descriptor.digest)?;
    let (repository, tag) = match Reference::parse(name) {
        Ok(r) => (r.repository(), r.tag.unwrap_or_default()),
        Err(_) => match name.rsplit_once(':') {
            Some((repo, tag)) => (repo.to_string(), tag.to_string()),
            None => (name.to_string(), String::new()),
        },
    };
    Ok(RefRow {
        name: name.to_string(),
        repository,
        tag,
        digest: descriptor.digest.to_string(),
        media_type: descriptor.media_type.clone(),
        artifact_type: manifest.artifact_type.clone(),
        version: manifest.annotations.get(annotation::VERSION).cloned(),
        status: manifest.status().map(str::to_string),
        created: manifest.annotations.get(annotation::CREATED).cloned(),
        size: manifest.total_size(len),
    })
}

impl Catalog {
    pub fn new(store: Arc<Store>, index: Index) -> Catalog {
        Catalog {
            store,
            index,
            gc: Arc::new(tokio::sync::RwLock::new(())),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Shared hold on the store: blobs written under it survive a prune.
    pub async fn write_guard(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.gc.read().await
    }

    /// Run blocking store work on a blocking thread.
    pub async fn blocking<R, F>(&self, f: F) -> Result<R, CatalogError>
    where
        R: Send + 'static,
        F: FnOnce(&Store) -> Result<R, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| IndexError::Join(e.to_string()))?
            .map_err(CatalogError::from)
    }

    /// Point tag `name` at `descriptor`, in index.json and in the index. A
    /// name that is a reference is kept in its canonical form, so one image
    /// has one name whichever spelling of its registry was used.
    pub async fn tag(&self, name: &str, descriptor: &Descriptor) -> Result<RefRow, CatalogError> {
        let name = Reference::parse(name).map_or_else(|_| name.to_string(), |r| r.to_string());
        let descriptor = descriptor.clone();
        let row = self
            .blocking(move |store| {
                let row = row_for(store, &name, &descriptor)?;
                store.set_ref(&name, &descriptor)?;
                Ok(row)
            })
            .await?;
        let stored = row.clone();
        self.index
            .write(move |conn| refs::upsert(conn, &stored))
            .await?;
        Ok(row)
    }

    /// Record that the manifest `digest` came from the registry repository
    /// `repository` (see [`crate::index::origins`]).
    pub async fn record_origin(
        &self,
        digest: &Digest,
        repository: &str,
    ) -> Result<(), CatalogError> {
        let (digest, repository) = (digest.to_string(), repository.to_string());
        self.index
            .write(move |conn| crate::index::origins::record(conn, &digest, &repository))
            .await?;
        Ok(())
    }

    /// The registry repositories the manifest `digest` came from.
    pub async fn origins(&self, digest: &Digest) -> Result<Vec<String>, CatalogError> {
        let digest = digest.to_string();
        Ok(self
            .index
            .read(move |conn| crate::index::origins::of(conn, &digest))
            .await?)
    }

    /// Find `input` (a reference, or a bare manifest digest) in the store.
    pub async fn find(&self, input: &str) -> Result<(Reference, Descriptor), FindError> {
        let by_digest = |digest: Digest| async move {
            let refs = self.blocking(|store| store.refs()).await?;
            refs.into_iter()
                .find(|(_, d)| {
                    d.digest == digest
                        || d.annotations.get(crate::oci::annotation::INDEX_DIGEST)
                            == Some(&digest.to_string())
                })
                .and_then(|(name, d)| Some((Reference::parse(&name).ok()?, d)))
                .ok_or_else(|| FindError::NotFound {
                    message: format!("no local image has digest {digest}; see `skillc images`"),
                    reference: None,
                    tags: Vec::new(),
                })
        };
        if let Ok(digest) = Digest::parse(input) {
            return by_digest(digest).await;
        }
        let reference = Reference::parse(input)?;
        if let Some(digest) = reference.digest.clone() {
            return by_digest(digest).await;
        }
        let reference = if reference.tag.is_some() {
            reference
        } else {
            reference.with_tag("latest")
        };
        let name = reference.to_string();
        let lookup = name.clone();
        if let Some(descriptor) = self.blocking(move |store| store.resolve(&lookup)).await? {
            return Ok((reference, descriptor));
        }
        let tags: Vec<String> = self
            .in_repository(&reference.repository())
            .await?
            .into_iter()
            .map(|r| r.tag)
            .collect();
        let message = if tags.is_empty() {
            format!(
                "no image {name} in the local store; build it with `skillc build`, or see `skillc images`"
            )
        } else {
            format!(
                "no image {name} in the local store; {} has tags: {}",
                reference.repository(),
                tags.join(", ")
            )
        };
        Err(FindError::NotFound {
            message,
            reference: Some(name),
            tags,
        })
    }

    /// Remove tag `name`; what it pointed at.
    pub async fn untag(&self, name: &str) -> Result<Option<Descriptor>, CatalogError> {
        let owned = name.to_string();
        let removed = self.blocking(move |store| store.remove_ref(&owned)).await?;
        let owned = name.to_string();
        self.index
            .write(move |conn| refs::delete(conn, &owned))
            .await?;
        Ok(removed)
    }

    pub async fn list(&self) -> Result<Vec<RefRow>, CatalogError> {
        Ok(self.index.read(refs::all).await?)
    }

    pub async fn get(&self, name: &str) -> Result<Option<RefRow>, CatalogError> {
        let name = name.to_string();
        Ok(self.index.read(move |conn| refs::get(conn, &name)).await?)
    }

    pub async fn in_repository(&self, repository: &str) -> Result<Vec<RefRow>, CatalogError> {
        let repository = repository.to_string();
        Ok(self
            .index
            .read(move |conn| refs::in_repository(conn, &repository))
            .await?)
    }

    /// Manifests that must be kept: tagged ones and installed ones.
    pub async fn live_manifests(&self) -> Result<Vec<Digest>, CatalogError> {
        let tagged = self.blocking(|store| store.refs()).await?;
        let installed = self.index.read(refs::installed_digests).await?;
        let mut keep: Vec<Digest> = tagged.into_iter().map(|(_, d)| d.digest).collect();
        keep.extend(installed.iter().filter_map(|d| Digest::parse(d).ok()));
        keep.sort();
        keep.dedup();
        Ok(keep)
    }

    /// Signature tags (`repo:sha256-<hex>.sig`) whose image is neither
    /// tagged nor installed any more: kept signatures of nothing.
    async fn orphan_signatures(&self) -> Result<Vec<String>, CatalogError> {
        let tagged = self.blocking(|store| store.refs()).await?;
        let installed = self.index.read(refs::installed_digests).await?;
        let signed_digest = |name: &str| {
            let tag = name.rsplit_once(':')?.1;
            let hex = tag.strip_prefix("sha256-")?.strip_suffix(".sig")?;
            Some(format!("sha256:{hex}"))
        };
        let images: std::collections::HashSet<String> = tagged
            .iter()
            .filter(|(name, _)| signed_digest(name).is_none())
            .map(|(_, d)| d.digest.to_string())
            .chain(installed)
            .collect();
        Ok(tagged
            .into_iter()
            .filter(|(name, _)| signed_digest(name).is_some_and(|d| !images.contains(&d)))
            .map(|(name, _)| name)
            .collect())
    }

    /// Remove every blob nothing needs (and the signatures of images that
    /// are gone); (blobs, bytes) removed.
    pub async fn prune(&self) -> Result<(u64, u64), CatalogError> {
        let _exclusive = self.gc.write().await;
        for name in self.orphan_signatures().await? {
            self.untag(&name).await?;
        }
        let keep = self.live_manifests().await?;
        self.blocking(move |store| super::gc::collect(store, &keep))
            .await
    }

    /// Bytes a prune would free now.
    pub async fn reclaimable(&self) -> Result<u64, CatalogError> {
        let keep = self.live_manifests().await?;
        let garbage = self
            .blocking(move |store| super::gc::garbage(store, &keep))
            .await?;
        Ok(garbage.iter().map(|(_, size)| size).sum())
    }

    /// Make the `refs` table match index.json; rows changed.
    pub async fn reconcile(&self) -> Result<usize, CatalogError> {
        let truth = self
            .blocking(|store| {
                let mut rows = Vec::new();
                for (name, descriptor) in store.refs()? {
                    match row_for(store, &name, &descriptor) {
                        Ok(row) => rows.push(row),
                        Err(e) => tracing::warn!(%name, error = %e, "tag points at an unreadable manifest; listing it without metadata"),
                    }
                }
                Ok(rows)
            })
            .await?;
        let current = self.index.read(refs::all).await?;
        if current == truth {
            return Ok(0);
        }
        let changed = truth.len().abs_diff(current.len()).max(1);
        self.index
            .write(move |conn| {
                let tx = conn.transaction()?;
                tx.execute("DELETE FROM refs", [])?;
                for row in &truth {
                    refs::upsert(&tx, row)?;
                }
                tx.commit()
            })
            .await?;
        tracing::info!(changed, "index reconciled with the store's index.json");
        Ok(changed)
    }
}
