//! Writing and reading blobs safely.
//!
//! A blob is written to a temp file beside the store (same filesystem), hashed
//! as it goes, fsynced, then renamed to `blobs/sha256/<hex>`: a crash leaves
//! either no blob or a whole one. Every read checks the digest: a corrupted
//! blob is reported, never used.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::StoreError;
use super::digest::Digest;

/// A blob being written. Dropped without [`Store::commit`](super::Store::commit), it leaves nothing.
pub struct BlobWriter {
    file: tempfile::NamedTempFile,
    hasher: Sha256,
    size: u64,
}

impl BlobWriter {
    pub(super) fn new(tmp_dir: &Path) -> Result<BlobWriter, StoreError> {
        let file = tempfile::Builder::new()
            .prefix("blob-")
            .tempfile_in(tmp_dir)
            .map_err(|source| StoreError::io(tmp_dir, "create a temp file in", source))?;
        Ok(BlobWriter {
            file,
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flush, fsync and move the blob into place; its digest and size. When
    /// `expected` is given and differs, nothing is stored.
    pub(super) fn commit(
        self,
        blobs_dir: &Path,
        expected: Option<&Digest>,
    ) -> Result<(Digest, u64), StoreError> {
        let digest = Digest::from_hasher(self.hasher);
        if let Some(expected) = expected
            && *expected != digest
        {
            return Err(StoreError::DigestMismatch {
                expected: expected.clone(),
                actual: digest,
            });
        }
        let target = blobs_dir.join(digest.hex());
        let mut file = self.file;
        file.flush()
            .map_err(|e| StoreError::io(file.path(), "flush", e))?;
        file.as_file()
            .sync_all()
            .map_err(|e| StoreError::io(file.path(), "fsync", e))?;
        if target.exists() {
            // Content-addressed: the same bytes are already there.
            return Ok((digest, self.size));
        }
        file.persist(&target)
            .map_err(|e| StoreError::io(&target, "move a blob into", e.error))?;
        // The folder itself is fsynced once, before a tag names the blob
        // (Store::update_refs): an untagged blob lost in a crash is harmless.
        Ok((digest, self.size))
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// fsync a folder so a rename into it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(dir, "fsync", e))
}

/// Read a whole blob of at most `max` bytes and check its digest.
pub fn read_verified(path: &Path, digest: &Digest, max: u64) -> Result<Vec<u8>, StoreError> {
    let file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => StoreError::MissingBlob(digest.clone()),
        _ => StoreError::io(path, "read", e),
    })?;
    let len = file
        .metadata()
        .map_err(|e| StoreError::io(path, "inspect", e))?
        .len();
    if len > max {
        return Err(StoreError::TooLarge {
            digest: digest.clone(),
            size: len,
            max,
        });
    }
    let mut data = Vec::with_capacity(len as usize);
    file.take(max + 1)
        .read_to_end(&mut data)
        .map_err(|e| StoreError::io(path, "read", e))?;
    if Digest::of(&data) != *digest {
        return Err(StoreError::Corrupt {
            digest: digest.clone(),
            path: path.to_path_buf(),
        });
    }
    Ok(data)
}

/// A reader that hashes what it reads and fails at the end if the digest
/// differs: the caller must read to EOF before trusting what it read.
pub struct VerifyingReader {
    file: File,
    hasher: Sha256,
    expected: Digest,
    path: PathBuf,
    done: bool,
}

impl VerifyingReader {
    pub(super) fn open(path: &Path, expected: &Digest) -> Result<VerifyingReader, StoreError> {
        let file = File::open(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::MissingBlob(expected.clone()),
            _ => StoreError::io(path, "read", e),
        })?;
        Ok(VerifyingReader {
            file,
            hasher: Sha256::new(),
            expected: expected.clone(),
            path: path.to_path_buf(),
            done: false,
        })
    }
}

impl Read for VerifyingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.hasher.update(&buf[..n]);
        if n == 0 && !buf.is_empty() && !self.done {
            self.done = true;
            let actual = Digest::from_hasher(std::mem::take(&mut self.hasher));
            if actual != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "blob {} at {} is corrupt (its content hashes to {actual})",
                        self.expected,
                        self.path.display()
                    ),
                ));
            }
        }
        Ok(n)
    }
}
