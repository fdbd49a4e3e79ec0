//! The deterministic layer: a tar of the walked entries, gzipped, streamed
//! straight into a store blob, never held in memory.
//!
//! Every header is built from scratch: GNU format, entries in walk order
//! (sorted by path), mtime fixed, uid/gid 0, no user or group names, modes
//! 0755 for folders and executables and 0644 for other files. gzip gets a
//! fixed header (mtime 0, no file name, OS "unknown"). The same folder thus
//! gives the same bytes on any machine, whatever its file times and owners.

use std::io::{self, Read, Write};

use flate2::{Compression, GzBuilder};
use sha2::{Digest as _, Sha256};

use super::walk::{Entry, Kind};
use crate::store::digest::Digest;

/// gzip level: the same as `gzip` and `tar -z` by default.
const LEVEL: u32 = 6;

/// Hashes and counts what passes through to `inner`.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    pub fn finish(self) -> (W, Digest, u64) {
        (self.inner, Digest::from_hasher(self.hasher), self.count)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What the layer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// Digest of the uncompressed tar: the config's `rootfs.diff_ids` entry.
    pub diff_id: Digest,
    pub tar_bytes: u64,
}

fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_size(size);
    // Names are empty already in a new header; nothing user-specific leaks in.
    h
}

/// Write the layer for `entries` into `out` (gzip applied here). `prefix`
/// roots every path under a folder (`<name>/` for the Agent Skills form).
/// `progress` is called with the bytes of file content written so far.
pub fn write<W: Write>(
    entries: &[Entry],
    prefix: Option<&str>,
    mtime: u64,
    out: W,
    progress: &mut dyn FnMut(u64),
) -> io::Result<(W, LayerInfo)> {
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(out, Compression::new(LEVEL));
    let mut tar = tar::Builder::new(HashingWriter::new(gz));
    let path_of = |rel: &str| match prefix {
        Some(p) => format!("{p}/{rel}"),
        None => rel.to_string(),
    };
    if let Some(p) = prefix {
        let mut h = header(tar::EntryType::Directory, 0o755, 0, mtime);
        tar.append_data(&mut h, format!("{p}/"), io::empty())?;
    }
    let mut done = 0u64;
    for entry in entries {
        let path = path_of(&entry.rel);
        match &entry.kind {
            Kind::Dir => {
                let mut h = header(tar::EntryType::Directory, 0o755, 0, mtime);
                tar.append_data(&mut h, format!("{path}/"), io::empty())?;
            }
            Kind::File { size, executable } => {
                let mode = if *executable { 0o755 } else { 0o644 };
                let mut h = header(tar::EntryType::Regular, mode, *size, mtime);
                // Swapped for a FIFO since the walk? Refused, never blocked on.
                let file = crate::user_file::open_regular(&entry.abs)?;
                let mut reader = SizedReader {
                    inner: file.take(*size),
                    remaining: *size,
                    rel: &entry.rel,
                };
                tar.append_data(&mut h, &path, &mut reader)?;
                done += size;
                progress(done);
            }
            Kind::Symlink { target } => {
                let mut h = header(tar::EntryType::Symlink, 0o777, 0, mtime);
                tar.append_link(&mut h, &path, target)?;
            }
        }
    }
    let hashing = tar.into_inner()?;
    let (gz, diff_id, tar_bytes) = hashing.finish();
    let out = gz.finish()?;
    Ok((out, LayerInfo { diff_id, tar_bytes }))
}

/// Fails if a file shrinks while it is packed (its header already promised
/// the size seen during the walk).
struct SizedReader<'a, R> {
    inner: R,
    remaining: u64,
    rel: &'a str,
}

impl<R: Read> Read for SizedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.remaining > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{} changed while it was being packed; build again",
                    self.rel
                ),
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::walk::{WalkLimits, walk};
    use std::os::unix::fs::PermissionsExt;

    fn layer_of(dir: &std::path::Path, mtime: u64) -> (Vec<u8>, LayerInfo) {
        let walked = walk(dir, WalkLimits::default()).unwrap();
        let (bytes, info) = write(&walked.entries, None, mtime, Vec::new(), &mut |_| {}).unwrap();
        (bytes, info)
    }

    fn make(dir: &std::path::Path) {
        std::fs::create_dir_all(dir.join("scripts")).unwrap();
        std::fs::write(dir.join("SKILL.md"), "---\nname: x\n---\n").unwrap();
        std::fs::write(dir.join("scripts/run.sh"), "#!/bin/sh\necho hi\n").unwrap();
        std::fs::set_permissions(
            dir.join("scripts/run.sh"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        std::os::unix::fs::symlink("scripts/run.sh", dir.join("run")).unwrap();
    }

    #[test]
    fn same_tree_same_bytes_whatever_the_times() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        make(a.path());
        std::thread::sleep(std::time::Duration::from_millis(20));
        make(b.path());
        std::fs::set_permissions(
            b.path().join("SKILL.md"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let (la, ia) = layer_of(a.path(), 0);
        let (lb, ib) = layer_of(b.path(), 0);
        assert_eq!(Digest::of(&la), Digest::of(&lb));
        assert_eq!(ia, ib);
        let (lc, _) = layer_of(a.path(), 1_700_000_000);
        assert_ne!(
            Digest::of(&la),
            Digest::of(&lc),
            "mtime is part of the content"
        );
    }

    #[test]
    fn headers_are_normalised() {
        let a = tempfile::tempdir().unwrap();
        make(a.path());
        let (bytes, info) = layer_of(a.path(), 42);
        let mut tar_bytes = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut tar_bytes)
            .unwrap();
        assert_eq!(Digest::of(&tar_bytes), info.diff_id);
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "gzip mtime is zero");
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert_eq!(
                (h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap()),
                (0, 0, 42)
            );
            assert_eq!(h.username().unwrap(), Some(""));
            seen.push((
                entry.path().unwrap().display().to_string(),
                h.mode().unwrap(),
            ));
        }
        assert_eq!(
            seen,
            [
                ("SKILL.md".to_string(), 0o644),
                ("run".to_string(), 0o777),
                ("scripts/".to_string(), 0o755),
                ("scripts/run.sh".to_string(), 0o755)
            ]
        );
    }

    #[test]
    fn prefix_roots_the_tree() {
        let a = tempfile::tempdir().unwrap();
        make(a.path());
        let walked = walk(a.path(), WalkLimits::default()).unwrap();
        let (bytes, _) = write(&walked.entries, Some("demo"), 0, Vec::new(), &mut |_| {}).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let paths: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(paths[0], "demo/");
        assert!(paths.iter().all(|p| p.starts_with("demo/")), "{paths:?}");
    }
}
