//! Offline transfer: `save` writes tagged images (and their signature tags)
//! as an OCI image layout in a tar (what `skopeo copy oci-archive:` reads);
//! `load` reads one back, checking every blob against its digest.
//!
//! `load` accepts only `oci-layout`, `index.json` and `blobs/sha256/<hex>`
//! regular files, within caps; a blob that does not match its name, or an
//! archive whose tags point at missing blobs, is refused and every blob the
//! load added is removed again.

use std::collections::{BTreeSet, HashSet};

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::digest::Digest;
use super::{MAX_JSON_BLOB, Store, StoreError};
use crate::oci::{Descriptor, ImageIndex, Manifest, annotation, to_canonical_json};

/// Why an archive could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        path: PathBuf,
        op: &'static str,
        source: io::Error,
    },
    #[error("{} is not a skill archive: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
}

fn header(size: u64, dir: bool) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(if dir {
        tar::EntryType::Directory
    } else {
        tar::EntryType::Regular
    });
    h.set_mode(if dir { 0o755 } else { 0o644 });
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Write `entries` (tag name, manifest descriptor) into a tar at `output`.
pub fn save(
    store: &Store,
    entries: &[(String, Descriptor)],
    output: &Path,
) -> Result<(u64, u64), ArchiveError> {
    let io_err = |op: &'static str| {
        let path = output.to_path_buf();
        move |source| ArchiveError::Io { path, op, source }
    };
    let mut blobs: BTreeSet<Digest> = BTreeSet::new();
    let mut index = ImageIndex::default();
    for (name, descriptor) in entries {
        let (manifest, _) = store.manifest(&descriptor.digest)?;
        blobs.insert(descriptor.digest.clone());
        blobs.insert(manifest.config.digest.clone());
        blobs.extend(manifest.layers.iter().map(|l| l.digest.clone()));
        let mut entry = descriptor.clone();
        entry.annotations = [(annotation::REF_NAME.to_string(), name.clone())].into();
        index.manifests.push(entry);
    }
    let dir = output.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".skilld-save-")
        .tempfile_in(dir)
        .map_err(io_err("create a temp file beside"))?;
    let mut tar = tar::Builder::new(io::BufWriter::new(tmp));
    let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
    tar.append_data(
        &mut header(layout.len() as u64, false),
        "oci-layout",
        &layout[..],
    )
    .map_err(io_err("write"))?;
    let index_bytes = to_canonical_json(&index);
    tar.append_data(
        &mut header(index_bytes.len() as u64, false),
        "index.json",
        &index_bytes[..],
    )
    .map_err(io_err("write"))?;
    tar.append_data(&mut header(0, true), "blobs/", io::empty())
        .map_err(io_err("write"))?;
    tar.append_data(&mut header(0, true), "blobs/sha256/", io::empty())
        .map_err(io_err("write"))?;
    let mut bytes = 0;
    for digest in &blobs {
        let size = std::fs::metadata(store.blob_path(digest))
            .map_err(|_| StoreError::MissingBlob(digest.clone()))?
            .len();
        let reader = store.open_blob(digest)?;
        tar.append_data(
            &mut header(size, false),
            format!("blobs/sha256/{}", digest.hex()),
            reader,
        )
        .map_err(io_err("write"))?;
        bytes += size;
    }
    let mut writer = tar.into_inner().map_err(io_err("write"))?;
    writer.flush().map_err(io_err("write"))?;
    let tmp = writer.into_inner().map_err(|e| ArchiveError::Io {
        path: output.to_path_buf(),
        op: "write",
        source: e.into_error(),
    })?;
    tmp.as_file().sync_all().map_err(io_err("fsync"))?;
    tmp.persist(output).map_err(|e| ArchiveError::Io {
        path: output.to_path_buf(),
        op: "write",
        source: e.error,
    })?;
    Ok((blobs.len() as u64, bytes))
}

/// Caps on what `load` accepts.
#[derive(Debug, Clone, Copy)]
pub struct LoadLimits {
    pub max_bytes: u64,
    pub max_entries: u64,
}

/// Read the archive at `input` into the store; the tags it holds (not yet
/// recorded in the index: the caller tags them).
pub fn load(
    store: &Store,
    input: &Path,
    limits: LoadLimits,
) -> Result<Vec<(String, Descriptor)>, ArchiveError> {
    let mut added: Vec<Digest> = Vec::new();
    let result = load_inner(store, input, limits, &mut added);
    if result.is_err() {
        for digest in &added {
            let _ = store.delete_blob(digest);
        }
    }
    result
}

fn load_inner(
    store: &Store,
    input: &Path,
    limits: LoadLimits,
    added: &mut Vec<Digest>,
) -> Result<Vec<(String, Descriptor)>, ArchiveError> {
    let invalid = |reason: String| ArchiveError::Invalid {
        path: input.to_path_buf(),
        reason,
    };
    // A FIFO or device is refused before a byte is read (a FIFO would block
    // for ever); nothing read from the file is ever echoed in a message, as
    // the file may be anything the user can read.
    let file = crate::user_file::open_regular(input).map_err(|source| ArchiveError::Io {
        path: input.to_path_buf(),
        op: "open",
        source,
    })?;
    let not_tar = || {
        invalid("it is not an OCI image layout archive (a tar file as `skillc save` or `skopeo copy ... oci-archive:FILE` writes)".into())
    };
    let mut archive = tar::Archive::new(io::BufReader::new(file));
    let mut index: Option<ImageIndex> = None;
    let mut seen: HashSet<Digest> = HashSet::new();
    let (mut entries_read, mut bytes) = (0u64, 0u64);
    for entry in archive.entries().map_err(|_| not_tar())? {
        let mut entry = entry.map_err(|_| not_tar())?;
        entries_read += 1;
        if entries_read > limits.max_entries {
            return Err(invalid(format!("more than {} entries", limits.max_entries)));
        }
        let name = String::from_utf8_lossy(&entry.path_bytes())
            .trim_start_matches("./")
            .to_string();
        // Names go into messages: short, and escaped by `{:?}`.
        let shown: String = name.chars().take(80).collect();
        let kind = entry.header().entry_type();
        if kind.is_dir()
            && matches!(
                name.as_str(),
                "" | "blobs/" | "blobs/sha256/" | "blobs" | "blobs/sha256"
            )
        {
            continue;
        }
        if kind != tar::EntryType::Regular && kind != tar::EntryType::Continuous {
            return Err(invalid(format!("{shown:?} is not a regular file")));
        }
        let size = entry.header().size().map_err(|_| not_tar())?;
        bytes += size;
        if bytes > limits.max_bytes {
            return Err(invalid(format!(
                "it holds more than {} bytes",
                limits.max_bytes
            )));
        }
        match name.as_str() {
            "oci-layout" => {}
            "index.json" => {
                if size > MAX_JSON_BLOB {
                    return Err(invalid("index.json is too large".into()));
                }
                let mut text = Vec::new();
                entry.read_to_end(&mut text).map_err(|_| not_tar())?;
                index = Some(
                    serde_json::from_slice(&text)
                        .map_err(|e| invalid(format!("index.json: {e}")))?,
                );
            }
            other => {
                let hex = other.strip_prefix("blobs/sha256/").ok_or_else(|| {
                    invalid(format!("{shown:?} does not belong in an image layout"))
                })?;
                let digest = Digest::parse(&format!("sha256:{hex}"))
                    .map_err(|_| invalid(format!("{shown:?} is not named by a sha256 digest")))?;
                if store.has_blob(&digest) {
                    // Still read it through to check the archive is sound.
                    let mut hasher_sink = crate::image::layer::HashingWriter::new(io::sink());
                    io::copy(&mut entry, &mut hasher_sink).map_err(|_| not_tar())?;
                    let (_, actual, _) = hasher_sink.finish();
                    if actual != digest {
                        return Err(invalid(format!("blob {digest} does not match its content")));
                    }
                } else {
                    let mut writer = store.writer()?;
                    io::copy(&mut entry, &mut writer).map_err(|_| not_tar())?;
                    store.commit(writer, Some(&digest)).map_err(|e| match e {
                        StoreError::DigestMismatch { .. } => invalid(format!(
                            "blob {digest} does not match its content; nothing was loaded"
                        )),
                        other => ArchiveError::Store(other),
                    })?;
                    added.push(digest.clone());
                }
                seen.insert(digest);
            }
        }
    }
    let index = index.ok_or_else(|| invalid("it has no index.json".into()))?;
    let mut tags = Vec::new();
    for descriptor in index.manifests {
        let Some(name) = descriptor.annotations.get(annotation::REF_NAME).cloned() else {
            continue;
        };
        crate::image::reference::Reference::parse(&name).map_err(|e| invalid(e.to_string()))?;
        let (manifest, _): (Manifest, u64) = store.manifest(&descriptor.digest)?;
        for blob in std::iter::once(&manifest.config).chain(manifest.layers.iter()) {
            if !store.has_blob(&blob.digest) {
                return Err(invalid(format!(
                    "{name} needs blob {}, which the archive lacks",
                    blob.digest
                )));
            }
        }
        let mut clean = descriptor.clone();
        clean.annotations.clear();
        tags.push((name, clean));
    }
    let _ = seen;
    Ok(tags)
}
