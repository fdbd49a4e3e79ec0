//! The OCI image layout files: `oci-layout` and `index.json`.
//!
//! `index.json` lists every tagged manifest with its name in the
//! `org.opencontainers.image.ref.name` annotation, so skopeo (`oci:DIR:NAME`)
//! and umoci (`--image DIR:NAME`) find our images. It is rewritten whole,
//! through a temp file, fsync and rename, so readers never see half of it.

use std::io::Write;
use std::path::Path;

use super::StoreError;
use super::blob::sync_dir;
use crate::oci::{ImageIndex, to_canonical_json};

pub const OCI_LAYOUT: &str = "oci-layout";
pub const INDEX_JSON: &str = "index.json";
const LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// Largest `index.json` read.
const MAX_INDEX: u64 = 64 * 1024 * 1024;

/// Create the layout files in `root` when missing.
pub fn init(root: &Path) -> Result<(), StoreError> {
    let layout = root.join(OCI_LAYOUT);
    if !layout.exists() {
        write_atomic(root, OCI_LAYOUT, LAYOUT_CONTENT)?;
    }
    if !root.join(INDEX_JSON).exists() {
        write_index(root, &ImageIndex::default())?;
    }
    Ok(())
}

/// Read `index.json`.
pub fn read_index(root: &Path) -> Result<ImageIndex, StoreError> {
    let path = root.join(INDEX_JSON);
    let len = std::fs::metadata(&path)
        .map_err(|e| StoreError::io(&path, "read", e))?
        .len();
    if len > MAX_INDEX {
        return Err(StoreError::io(
            &path,
            "read",
            std::io::Error::other(format!("{len} bytes is more than the {MAX_INDEX} allowed")),
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| StoreError::io(&path, "read", e))?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::BadLayout {
        path: path.clone(),
        message: e.to_string(),
    })
}

/// Replace `index.json` atomically.
pub fn write_index(root: &Path, index: &ImageIndex) -> Result<(), StoreError> {
    write_atomic(root, INDEX_JSON, &to_canonical_json(index))
}

fn write_atomic(root: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let target = root.join(name);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempfile_in(root)
        .map_err(|e| StoreError::io(root, "create a temp file in", e))?;
    tmp.write_all(bytes)
        .map_err(|e| StoreError::io(tmp.path(), "write", e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| StoreError::io(tmp.path(), "fsync", e))?;
    tmp.persist(&target)
        .map_err(|e| StoreError::io(&target, "replace", e.error))?;
    sync_dir(root)
}
