//! The content-addressed blob store: a valid OCI image layout (`oci-layout`,
//! `index.json`, `blobs/sha256/`) that skopeo and umoci read as it is.
//!
//! Blobs are immutable and written once ([`blob`]); `index.json` holds the
//! tags ([`layout`]); [`gc`] removes blobs nothing needs. The SQLite index
//! mirrors the tags for fast listing ([`catalog`]). Every method here is
//! blocking file I/O: async callers run it on a blocking thread.

pub mod archive;
pub mod blob;
pub mod catalog;
pub mod digest;
pub mod gc;
pub mod layout;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use blob::{BlobWriter, VerifyingReader};
use digest::Digest;

use crate::oci::{Descriptor, ImageIndex, annotation};

/// Largest manifest or config accepted (they are small JSON documents; a
/// huge one is hostile).
pub const MAX_JSON_BLOB: u64 = 4 * 1024 * 1024;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        path: PathBuf,
        op: &'static str,
        source: std::io::Error,
    },
    #[error("blob {0} is missing from the store; pull or build the image again")]
    MissingBlob(Digest),
    #[error("blob {digest} at {} is corrupt (its content does not match its digest); remove the image and build or pull it again", path.display())]
    Corrupt { digest: Digest, path: PathBuf },
    #[error("blob {digest} is {size} bytes, more than the {max} allowed for it")]
    TooLarge { digest: Digest, size: u64, max: u64 },
    #[error("content digest {actual} does not match the expected {expected}; nothing was stored")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("{} is not a valid image layout file: {message}", path.display())]
    BadLayout { path: PathBuf, message: String },
    #[error("manifest {digest} is not a valid OCI manifest: {message}")]
    BadManifest { digest: Digest, message: String },
}

impl StoreError {
    pub fn io(path: &Path, op: &'static str, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    }
}

/// The store on disk.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    blobs: PathBuf,
    tmp: PathBuf,
    /// Serialises read-modify-write of `index.json`.
    index_lock: Mutex<()>,
}

impl Store {
    /// Open the layout at `root`, creating it when missing; temp files go to
    /// `tmp` (same filesystem, outside the layout).
    pub fn open(root: &Path, tmp: &Path) -> Result<Store, StoreError> {
        let blobs = root.join("blobs").join("sha256");
        for dir in [&blobs, tmp] {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, "create", e))?;
        }
        layout::init(root)?;
        Ok(Store {
            root: root.to_path_buf(),
            blobs,
            tmp: tmp.to_path_buf(),
            index_lock: Mutex::new(()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs.join(digest.hex())
    }

    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Start writing a blob.
    pub fn writer(&self) -> Result<BlobWriter, StoreError> {
        BlobWriter::new(&self.tmp)
    }

    /// Finish a blob; with `expected`, refuse content that hashes otherwise.
    pub fn commit(
        &self,
        writer: BlobWriter,
        expected: Option<&Digest>,
    ) -> Result<(Digest, u64), StoreError> {
        writer.commit(&self.blobs, expected)
    }

    /// Store `bytes` as a blob.
    pub fn put(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        let digest = Digest::of(bytes);
        if self.has_blob(&digest) {
            return Ok(digest);
        }
        let mut writer = self.writer()?;
        std::io::Write::write_all(&mut writer, bytes)
            .map_err(|e| StoreError::io(&self.tmp, "write", e))?;
        Ok(self.commit(writer, Some(&digest))?.0)
    }

    /// A whole small blob, digest checked.
    pub fn read(&self, digest: &Digest, max: u64) -> Result<Vec<u8>, StoreError> {
        blob::read_verified(&self.blob_path(digest), digest, max)
    }

    /// A streaming reader that fails at EOF when the content is corrupt.
    pub fn open_blob(&self, digest: &Digest) -> Result<VerifyingReader, StoreError> {
        VerifyingReader::open(&self.blob_path(digest), digest)
    }

    /// Read and parse a manifest.
    pub fn manifest(&self, digest: &Digest) -> Result<(crate::oci::Manifest, u64), StoreError> {
        let bytes = self.read(digest, MAX_JSON_BLOB)?;
        let manifest = serde_json::from_slice(&bytes).map_err(|e| StoreError::BadManifest {
            digest: digest.clone(),
            message: e.to_string(),
        })?;
        Ok((manifest, bytes.len() as u64))
    }

    /// Every tag: `(name, descriptor)`, as `index.json` lists them.
    pub fn refs(&self) -> Result<Vec<(String, Descriptor)>, StoreError> {
        let index = layout::read_index(&self.root)?;
        Ok(index
            .manifests
            .into_iter()
            .filter_map(|d| Some((d.annotations.get(annotation::REF_NAME)?.clone(), d)))
            .collect())
    }

    /// The descriptor tagged `name`.
    pub fn resolve(&self, name: &str) -> Result<Option<Descriptor>, StoreError> {
        Ok(self
            .refs()?
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d))
    }

    /// Change the tags in one atomic rewrite of `index.json`.
    pub fn update_refs<R>(&self, f: impl FnOnce(&mut ImageIndex) -> R) -> Result<R, StoreError> {
        let _guard = self.index_lock.lock().unwrap_or_else(|p| p.into_inner());
        // Blobs a tag is about to name must survive a crash with it.
        blob::sync_dir(&self.blobs)?;
        let mut index = layout::read_index(&self.root)?;
        let result = f(&mut index);
        layout::write_index(&self.root, &index)?;
        Ok(result)
    }

    /// Point `name` at `descriptor` (replacing what it pointed at).
    pub fn set_ref(&self, name: &str, descriptor: &Descriptor) -> Result<(), StoreError> {
        let mut entry = descriptor.clone();
        entry.annotations = [(annotation::REF_NAME.to_string(), name.to_string())].into();
        self.update_refs(|index| {
            index.manifests.retain(|d| {
                d.annotations.get(annotation::REF_NAME).map(String::as_str) != Some(name)
            });
            index.manifests.push(entry);
            index.manifests.sort_by(|a, b| {
                a.annotations
                    .get(annotation::REF_NAME)
                    .cmp(&b.annotations.get(annotation::REF_NAME))
            });
        })
    }

    /// Remove the tag `name`; what it pointed at.
    pub fn remove_ref(&self, name: &str) -> Result<Option<Descriptor>, StoreError> {
        self.update_refs(|index| {
            let pos = index.manifests.iter().position(|d| {
                d.annotations.get(annotation::REF_NAME).map(String::as_str) == Some(name)
            })?;
            Some(index.manifests.remove(pos))
        })
    }

    /// Every blob file: digest and size.
    pub fn blobs(&self) -> Result<Vec<(Digest, u64)>, StoreError> {
        let mut out = Vec::new();
        let entries =
            std::fs::read_dir(&self.blobs).map_err(|e| StoreError::io(&self.blobs, "list", e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(&self.blobs, "list", e))?;
            let name = entry.file_name();
            let Ok(digest) = Digest::parse(&format!("sha256:{}", name.to_string_lossy())) else {
                continue;
            };
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            out.push((digest, size));
        }
        Ok(out)
    }

    /// Remove a blob file.
    pub fn delete_blob(&self, digest: &Digest) -> Result<(), StoreError> {
        let path = self.blob_path(digest);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(StoreError::io(&path, "remove", e))
            }
            _ => Ok(()),
        }
    }

    /// Remove leftover temp files of interrupted writes.
    pub fn clear_tmp(&self) -> Result<u64, StoreError> {
        let mut removed = 0;
        let entries =
            std::fs::read_dir(&self.tmp).map_err(|e| StoreError::io(&self.tmp, "list", e))?;
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with("blob-")
                && std::fs::remove_file(entry.path()).is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store"), &dir.path().join("tmp")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_new_store_is_a_valid_layout() {
        let (_dir, store) = store();
        let layout = std::fs::read_to_string(store.root().join("oci-layout")).unwrap();
        assert_eq!(layout, r#"{"imageLayoutVersion":"1.0.0"}"#);
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(store.root().join("index.json")).unwrap())
                .unwrap();
        assert_eq!(index["schemaVersion"], 2);
        assert_eq!(index["manifests"], serde_json::json!([]));
    }

    #[test]
    fn blobs_round_trip_and_deduplicate() {
        let (_dir, store) = store();
        let a = store.put(b"hello").unwrap();
        let b = store.put(b"hello").unwrap();
        assert_eq!(a, b);
        assert_eq!(store.read(&a, 100).unwrap(), b"hello");
        assert_eq!(store.blobs().unwrap().len(), 1);
    }

    #[test]
    fn a_corrupted_blob_is_reported_not_used() {
        let (_dir, store) = store();
        let digest = store.put(b"original content").unwrap();
        std::fs::write(store.blob_path(&digest), b"tampered content").unwrap();
        let err = store.read(&digest, 100).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        let mut reader = store.open_blob(&digest).unwrap();
        let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
    }

    #[test]
    fn a_wrong_expected_digest_stores_nothing() {
        let (_dir, store) = store();
        let mut writer = store.writer().unwrap();
        std::io::Write::write_all(&mut writer, b"data").unwrap();
        let lie = Digest::of(b"other");
        assert!(matches!(
            store.commit(writer, Some(&lie)),
            Err(StoreError::DigestMismatch { .. })
        ));
        assert!(store.blobs().unwrap().is_empty());
        assert_eq!(
            std::fs::read_dir(_dir.path().join("tmp")).unwrap().count(),
            0,
            "no temp file left"
        );
    }

    #[test]
    fn refs_are_set_replaced_and_removed() {
        let (_dir, store) = store();
        let d1 = store.put(b"m1").unwrap();
        let d2 = store.put(b"m2").unwrap();
        let desc = |d: &Digest| Descriptor {
            media_type: crate::oci::MANIFEST_V1.into(),
            digest: d.clone(),
            size: 2,
            artifact_type: None,
            annotations: Default::default(),
        };
        store.set_ref("acme/x:1.0.0", &desc(&d1)).unwrap();
        store.set_ref("acme/x:1.0.0", &desc(&d2)).unwrap();
        store.set_ref("acme/a:1", &desc(&d1)).unwrap();
        let refs = store.refs().unwrap();
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].0, "acme/a:1", "sorted by name");
        assert_eq!(store.resolve("acme/x:1.0.0").unwrap().unwrap().digest, d2);
        assert_eq!(
            store.remove_ref("acme/x:1.0.0").unwrap().unwrap().digest,
            d2
        );
        assert!(store.resolve("acme/x:1.0.0").unwrap().is_none());
    }
}
