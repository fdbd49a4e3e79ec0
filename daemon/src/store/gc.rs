//! Garbage collection: blobs that no tag and no install needs.
//!
//! Mark: every kept manifest, and the config and layers it names. Sweep:
//! every other blob. The caller holds the store's GC lock exclusively, so no
//! build or pull is between writing a blob and tagging it.

use std::collections::HashSet;

use super::digest::Digest;
use super::{Store, StoreError};

/// The blobs a collection would remove: digest and size.
pub fn garbage(store: &Store, keep_manifests: &[Digest]) -> Result<Vec<(Digest, u64)>, StoreError> {
    let mut live: HashSet<Digest> = HashSet::new();
    for digest in keep_manifests {
        live.insert(digest.clone());
        // An unreadable manifest keeps only itself: its children are unknown.
        if let Ok((manifest, _)) = store.manifest(digest) {
            live.insert(manifest.config.digest.clone());
            live.extend(manifest.layers.iter().map(|l| l.digest.clone()));
        }
    }
    Ok(store
        .blobs()?
        .into_iter()
        .filter(|(d, _)| !live.contains(d))
        .collect())
}

/// Remove the garbage; how many blobs and bytes went.
pub fn collect(store: &Store, keep_manifests: &[Digest]) -> Result<(u64, u64), StoreError> {
    let garbage = garbage(store, keep_manifests)?;
    let mut bytes = 0;
    for (digest, size) in &garbage {
        store.delete_blob(digest)?;
        bytes += size;
    }
    store.clear_tmp()?;
    Ok((garbage.len() as u64, bytes))
}
