//! Safe unpacking of a skill layer into a folder.
//!
//! Whatever the layer holds, nothing is written outside the target: only
//! regular files, folders and symlinks that stay inside are accepted; no
//! absolute paths, no `..`, no entry through a symlink, no hardlinks, no
//! devices or FIFOs, no setuid/setgid/sticky bits; caps on total bytes and
//! entry count stop decompression bombs. Files get 0644 or 0755, folders
//! 0755. The caller unpacks into a fresh temp folder and renames it into
//! place only when everything succeeded.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use super::inflate::with_inflated;
use super::links::Links;

/// Caps on what a layer may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct UnpackLimits {
    pub max_bytes: u64,
    pub max_entries: u64,
}

impl UnpackLimits {
    /// The limits of an install: what a build may pack (`build:` in
    /// config.yaml), with room for the folders beside the files.
    pub fn of_build(build: &crate::image::walk::WalkLimits) -> UnpackLimits {
        UnpackLimits {
            max_bytes: build.max_bytes,
            max_entries: build.max_files.saturating_mul(2),
        }
    }
}

/// Reads each regular file as a layer is unpacked (the content scanner,
/// so a layer is inflated once for both): it is handed the file's first
/// `head()` + 1 bytes (one more than it reads, so it can tell a file was
/// longer), after they are written.
pub trait FileTap {
    /// The bytes of each file it reads.
    fn head(&self) -> u64;
    /// Regular file `path` (as the tar entry names it, without `./`) of
    /// layer `layer` (0 first) begins with `head`.
    fn file(&mut self, layer: usize, path: &str, head: Vec<u8>);
}

/// What was unpacked.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Unpacked {
    pub files: u64,
    pub bytes: u64,
}

/// Why a layer was refused.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("the layer holds {path:?}, which {why}; refused, nothing was installed")]
    Hostile { path: String, why: String },
    #[error(
        "the layer unpacks to more than {0} bytes; refused (raise build.max_bytes if the skill is really this large)"
    )]
    TooLarge(u64),
    #[error("the layer holds more than {0} entries; refused")]
    TooManyEntries(u64),
    #[error("the layer is not a valid (compressed) tar: {0}")]
    Corrupt(String),
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

fn hostile(path: &str, why: &str) -> UnpackError {
    UnpackError::Hostile {
        path: path.to_string(),
        why: why.to_string(),
    }
}

/// Split an entry name into safe components, or say why it is unsafe.
fn components(name: &str) -> Result<Vec<&str>, UnpackError> {
    if name.contains('\0') {
        return Err(hostile(name, "contains a NUL byte"));
    }
    if name.starts_with('/') {
        return Err(hostile(name, "is an absolute path"));
    }
    let mut out = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err(hostile(name, "climbs out with '..'")),
            p => out.push(p),
        }
    }
    Ok(out)
}

/// Whether a symlink at `rel` (components) pointing to `target` stays inside.
fn link_stays_inside(rel: &[&str], target: &str) -> bool {
    if target.starts_with('/') || target.is_empty() {
        return false;
    }
    let mut depth = rel.len() as i64 - 1;
    for c in Path::new(target).components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// Refuse to go through a symlink: every existing ancestor must be a real
/// folder. `known` holds the folders this unpack already checked or made
/// (the staging folder is private to the user, so they stay what they were).
fn ensure_parents(
    root: &Path,
    parts: &[&str],
    name: &str,
    known: &mut HashSet<PathBuf>,
    made: &mut HashSet<PathBuf>,
) -> Result<PathBuf, UnpackError> {
    let mut dir = root.to_path_buf();
    for part in &parts[..parts.len().saturating_sub(1)] {
        dir.push(part);
        if known.contains(&dir) {
            continue;
        }
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(hostile(name, "goes through a symlink"));
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(hostile(name, "goes through a file")),
            Err(_) => {
                fs::DirBuilder::new()
                    .mode(0o755)
                    .create(&dir)
                    .map_err(|source| UnpackError::Io {
                        path: dir.clone(),
                        source,
                    })?;
                made.insert(dir.clone());
            }
        }
        known.insert(dir.clone());
    }
    Ok(dir)
}

/// Bytes read from the layer before each write of a file.
const COPY_BUFFER: usize = 256 * 1024;

enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// Copy `from` into `to` through `buffer`, filling it before each write
/// (the decompressor hands out a few KiB per read); the bytes copied.
fn copy(from: &mut impl Read, to: &mut impl Write, buffer: &mut [u8]) -> Result<u64, CopyError> {
    let mut total = 0u64;
    loop {
        let mut filled = 0;
        while filled < buffer.len() {
            match from.read(&mut buffer[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(CopyError::Read(e)),
            }
        }
        if filled == 0 {
            return Ok(total);
        }
        to.write_all(&buffer[..filled]).map_err(CopyError::Write)?;
        total += filled as u64;
        if filled < buffer.len() {
            return Ok(total);
        }
    }
}

/// How a layer's tar stream is compressed, from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

impl Compression {
    /// The compression of a layer of `media_type`, if it is a tar layer
    /// skilld reads (OCI, Docker schema 2, skillimage, Agent Skills).
    pub fn of(media_type: &str) -> Option<Compression> {
        match media_type {
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.redhat.agentskill.layer.v1.tar+gzip"
            | "application/vnd.agentskills.skill.content.v1.tar+gzip" => Some(Compression::Gzip),
            "application/vnd.oci.image.layer.v1.tar+zstd" => Some(Compression::Zstd),
            "application/vnd.oci.image.layer.v1.tar" => Some(Compression::None),
            _ => None,
        }
    }
}

/// A folder that layers are applied to in order, as the OCI image spec
/// applies them: a later layer's entry replaces what an earlier one put at
/// its path, `.wh.NAME` removes NAME of earlier layers, `.wh..wh..opq`
/// empties its folder of what earlier layers put there. Caps count across
/// all layers.
pub struct Tree<'a> {
    root: &'a Path,
    strip_root: Option<&'a str>,
    limits: UnpackLimits,
    done: Unpacked,
    entries_seen: u64,
    layers: usize,
    tap: Option<&'a mut dyn FileTap>,
}

impl<'a> Tree<'a> {
    /// An empty folder `root` to apply layers to. With `strip_root`, every
    /// entry must sit under that folder name, which is removed (the Agent
    /// Skills form).
    pub fn new(root: &'a Path, strip_root: Option<&'a str>, limits: UnpackLimits) -> Tree<'a> {
        Tree {
            root,
            strip_root,
            limits,
            done: Unpacked::default(),
            entries_seen: 0,
            layers: 0,
            tap: None,
        }
    }

    /// Hand every regular file unpacked to `tap` as well.
    pub fn tapped(mut self, tap: &'a mut dyn FileTap) -> Tree<'a> {
        self.tap = Some(tap);
        self
    }

    /// Apply the next layer, `compression` compressed (gzip is inflated on
    /// another thread while the files are written: see [`super::inflate`]).
    pub fn apply<R: Read + Send>(
        &mut self,
        layer: R,
        compression: Compression,
    ) -> Result<(), UnpackError> {
        match compression {
            Compression::Gzip => with_inflated(layer, |tar| self.apply_tar(tar))?,
            Compression::Zstd => self.apply_tar(ZstdFrames::new(layer))?,
            Compression::None => self.apply_tar(layer)?,
        }
        self.layers += 1;
        Ok(())
    }

    /// Once every layer is applied: walk each symlink of the result through
    /// the others (links of different layers may chain); what was unpacked.
    pub fn finish(self) -> Result<Unpacked, UnpackError> {
        if self.layers > 1 {
            let mut links = Links::default();
            collect_links(self.root, &mut Vec::new(), &mut links).map_err(|source| {
                UnpackError::Io {
                    path: self.root.to_path_buf(),
                    source,
                }
            })?;
            if let Some((at, why)) = links.first_escape() {
                return Err(hostile(&at, &format!("is a symlink that {why}")));
            }
        }
        Ok(self.done)
    }

    /// Apply one (uncompressed) tar stream.
    fn apply_tar(&mut self, tar: impl Read) -> Result<(), UnpackError> {
        let (root, limits, lower) = (self.root, self.limits, self.layers > 0);
        let mut archive = tar::Archive::new(tar);
        let mut links = Links::default();
        let mut known_dirs = HashSet::new();
        // What this layer made: a path it names twice is refused, a path an
        // earlier layer made is replaced.
        let mut made: HashSet<PathBuf> = HashSet::new();
        // One buffer for every file: fewer, larger writes than io::copy's 8 KiB.
        let mut buffer = vec![0u8; COPY_BUFFER];
        let entries = archive
            .entries()
            .map_err(|e| UnpackError::Corrupt(e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| UnpackError::Corrupt(e.to_string()))?;
            self.entries_seen += 1;
            if self.entries_seen > limits.max_entries {
                return Err(UnpackError::TooManyEntries(limits.max_entries));
            }
            // A pax global header (`git archive` writes one) carries metadata,
            // not a file.
            if entry.header().entry_type() == tar::EntryType::XGlobalHeader {
                continue;
            }
            let raw = entry.path_bytes().into_owned();
            let name = String::from_utf8(raw)
                .map_err(|_| hostile("<non-UTF-8 name>", "has a name that is not UTF-8"))?;
            let mut parts = components(&name)?;
            if let Some(top) = self.strip_root {
                if parts.first() != Some(&top) {
                    return Err(hostile(
                        &name,
                        &format!("is not under the artifact's root folder {top:?}"),
                    ));
                }
                parts.remove(0);
            }
            if parts.is_empty() {
                continue; // the root folder itself
            }
            let header = entry.header();
            let mode = header
                .mode()
                .map_err(|e| UnpackError::Corrupt(e.to_string()))?;
            if mode & 0o7000 != 0 {
                return Err(hostile(&name, "has a setuid, setgid or sticky bit"));
            }
            let kind = header.entry_type();
            let parent = ensure_parents(root, &parts, &name, &mut known_dirs, &mut made)?;
            let last = parts[parts.len() - 1];
            // Whiteouts are never written; in the first layer they have
            // nothing to remove.
            if let Some(hidden) = last.strip_prefix(WHITEOUT) {
                if hidden == OPAQUE {
                    if lower {
                        remove_lower(&parent, &made)?;
                        // What was checked may be gone: check again.
                        known_dirs.clear();
                    }
                } else {
                    if hidden.is_empty() || hidden == "." || hidden == ".." {
                        return Err(hostile(&name, "is a whiteout of no valid name"));
                    }
                    let gone = parent.join(hidden);
                    if lower && !made.contains(&gone) {
                        remove_any(&gone)?;
                        known_dirs.clear();
                    }
                }
                continue;
            }
            let path = parent.join(last);
            let io_err = |source| UnpackError::Io {
                path: path.clone(),
                source,
            };
            // In the first layer a file or link that exists was named twice
            // (creating it fails below); only folders, and any entry of a
            // later layer, need a look at what is there.
            let existing = if lower || kind == tar::EntryType::Directory {
                fs::symlink_metadata(&path).ok()
            } else {
                None
            };
            let keeps_dir = kind == tar::EntryType::Directory
                && existing
                    .as_ref()
                    .is_some_and(|m| m.is_dir() && !m.file_type().is_symlink());
            if existing.is_some() && !keeps_dir {
                if made.contains(&path) || !lower {
                    return Err(hostile(&name, "appears twice"));
                }
                // An earlier layer's entry, replaced by this one (a folder
                // checked before may now be a link: check again).
                remove_any(&path)?;
                known_dirs.clear();
            }
            match kind {
                tar::EntryType::Directory => {
                    if !keeps_dir {
                        fs::DirBuilder::new()
                            .mode(0o755)
                            .create(&path)
                            .map_err(io_err)?;
                    }
                    known_dirs.insert(path.clone());
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let size = header
                        .size()
                        .map_err(|e| UnpackError::Corrupt(e.to_string()))?;
                    if self.done.bytes + size > limits.max_bytes {
                        return Err(UnpackError::TooLarge(limits.max_bytes));
                    }
                    let file_mode = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
                    let mut file = OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(file_mode)
                        .open(&path)
                        .map_err(|e| match e.kind() {
                            io::ErrorKind::AlreadyExists => hostile(&name, "appears twice"),
                            _ => UnpackError::Io {
                                path: path.clone(),
                                source: e,
                            },
                        })?;
                    let budget = limits.max_bytes - self.done.bytes;
                    let copy_err = |e| match e {
                        CopyError::Read(e) => UnpackError::Corrupt(e.to_string()),
                        CopyError::Write(source) => UnpackError::Io {
                            path: path.clone(),
                            source,
                        },
                    };
                    let mut rest = (&mut entry).take(budget + 1);
                    // The tap's head first (read whole, written, handed
                    // over), then the rest through the buffer.
                    let head = match &self.tap {
                        Some(tap) => {
                            // Sized up front: read in large pieces, never
                            // grown and copied (the header's size is only
                            // a hint here, bounded by what the tap reads).
                            let wanted = tap.head().saturating_add(1);
                            let mut head =
                                Vec::with_capacity(usize::try_from(size.min(wanted)).unwrap_or(0));
                            (&mut rest)
                                .take(wanted)
                                .read_to_end(&mut head)
                                .map_err(|e| UnpackError::Corrupt(e.to_string()))?;
                            file.write_all(&head).map_err(io_err)?;
                            Some(head)
                        }
                        None => None,
                    };
                    let headed = head.as_ref().map_or(0, |h| h.len() as u64);
                    let written =
                        headed + copy(&mut rest, &mut file, &mut buffer).map_err(copy_err)?;
                    if written > budget {
                        return Err(UnpackError::TooLarge(limits.max_bytes));
                    }
                    file.flush().map_err(io_err)?;
                    if let (Some(tap), Some(head)) = (self.tap.as_deref_mut(), head) {
                        tap.file(self.layers, name.trim_start_matches("./"), head);
                    }
                    self.done.bytes += written;
                    self.done.files += 1;
                }
                tar::EntryType::Symlink => {
                    let target = entry
                        .link_name()
                        .map_err(|e| UnpackError::Corrupt(e.to_string()))?
                        .ok_or_else(|| hostile(&name, "is a symlink without a target"))?;
                    let target = target
                        .to_str()
                        .ok_or_else(|| hostile(&name, "links to a non-UTF-8 path"))?
                        .to_string();
                    if !link_stays_inside(&parts, &target) {
                        return Err(hostile(
                            &name,
                            &format!("is a symlink to {target:?}, outside the skill"),
                        ));
                    }
                    links.insert(&parts, &target);
                    std::os::unix::fs::symlink(&target, &path).map_err(|e| match e.kind() {
                        io::ErrorKind::AlreadyExists => hostile(&name, "appears twice"),
                        _ => UnpackError::Io {
                            path: path.clone(),
                            source: e,
                        },
                    })?;
                    self.done.files += 1;
                }
                tar::EntryType::Link => {
                    return Err(hostile(&name, "is a hardlink (skills hold plain files)"));
                }
                tar::EntryType::Char | tar::EntryType::Block => {
                    return Err(hostile(&name, "is a device node"));
                }
                tar::EntryType::Fifo => return Err(hostile(&name, "is a FIFO")),
                other => {
                    return Err(hostile(
                        &name,
                        &format!("has an unsupported entry type {other:?}"),
                    ));
                }
            }
            made.insert(path);
        }
        // Each link passed the check of its own text; now that every entry of
        // the layer is known, walk each one through the others (see `links`).
        if let Some((at, why)) = links.first_escape() {
            return Err(hostile(&at, &format!("is a symlink that {why}")));
        }
        Ok(())
    }
}

/// Unpack the gzip-compressed tar `layer` into the empty folder `root`
/// (one layer: see [`Tree`] for several).
pub fn unpack<R: Read + Send>(
    layer: R,
    root: &Path,
    strip_root: Option<&str>,
    limits: UnpackLimits,
) -> Result<Unpacked, UnpackError> {
    let mut tree = Tree::new(root, strip_root, limits);
    tree.apply(layer, Compression::Gzip)?;
    tree.finish()
}

/// The prefix of a whiteout entry, and the name of an opaque one.
const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..opq";

/// Remove whatever is at `path` (a link itself, never what it points to).
fn remove_any(path: &Path) -> Result<(), UnpackError> {
    let removed = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(_) => return Ok(()),
    };
    removed.map_err(|source| UnpackError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Empty `dir` of what earlier layers put there (an opaque whiteout).
fn remove_lower(dir: &Path, made: &HashSet<PathBuf>) -> Result<(), UnpackError> {
    let io = |source| UnpackError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if !made.contains(&path) {
            remove_any(&path)?;
        }
    }
    Ok(())
}

/// Every symlink under `dir` (never followed), by its path from the root.
fn collect_links(dir: &Path, at: &mut Vec<String>, links: &mut Links) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        at.push(name);
        if kind.is_symlink() {
            let target = fs::read_link(entry.path())?;
            let parts: Vec<&str> = at.iter().map(String::as_str).collect();
            links.insert(&parts, &target.to_string_lossy());
        } else if kind.is_dir() {
            collect_links(&entry.path(), at, links)?;
        }
        at.pop();
    }
    Ok(())
}

/// A zstd stream of one or more frames, as one reader.
/// The decompressed stream of a zstd layer (every frame in a row).
pub fn zstd_reader<R: Read>(input: R) -> impl Read {
    ZstdFrames::new(input)
}

struct ZstdFrames<R: Read> {
    input: Option<io::BufReader<R>>,
    frame: Option<
        ruzstd::decoding::StreamingDecoder<io::BufReader<R>, ruzstd::decoding::FrameDecoder>,
    >,
}

impl<R: Read> ZstdFrames<R> {
    fn new(input: R) -> ZstdFrames<R> {
        ZstdFrames {
            input: Some(io::BufReader::new(input)),
            frame: None,
        }
    }
}

impl<R: Read> Read for ZstdFrames<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        use io::BufRead;
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame.read(out)?;
                if n > 0 || out.is_empty() {
                    return Ok(n);
                }
                // The frame ended: maybe another follows.
                let frame = self.frame.take().expect("a frame is being read");
                self.input = Some(frame.into_inner());
            }
            let Some(mut input) = self.input.take() else {
                return Ok(0);
            };
            if input.fill_buf()?.is_empty() {
                return Ok(0);
            }
            let frame = ruzstd::decoding::StreamingDecoder::new(input)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
            self.frame = Some(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: UnpackLimits = UnpackLimits {
        max_bytes: 1 << 20,
        max_entries: 1000,
    };

    /// (name, type, mode, data, link target)
    type RawEntry<'a> = (&'a str, tar::EntryType, u32, &'a [u8], &'a str);

    /// A gzipped tar from raw entries; names
    /// are written into the header bytes directly so hostile ones survive.
    fn layer(entries: &[RawEntry<'_>]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (name, kind, mode, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_entry_type(*kind);
            h.set_mode(*mode);
            h.set_size(data.len() as u64);
            if !link.is_empty() {
                h.set_link_name(link).unwrap();
            }
            h.set_cksum();
            builder.append(&h, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn run(
        entries: &[(&str, tar::EntryType, u32, &[u8], &str)],
    ) -> (tempfile::TempDir, Result<Unpacked, UnpackError>) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir(&root).unwrap();
        let result = unpack(&layer(entries)[..], &root, None, LIMITS);
        (dir, result)
    }

    use tar::EntryType as T;

    #[test]
    fn a_normal_layer_unpacks_with_normalised_modes() {
        let (dir, result) = run(&[
            ("SKILL.md", T::Regular, 0o600, b"hi", ""),
            ("scripts/", T::Directory, 0o700, b"", ""),
            ("scripts/run.sh", T::Regular, 0o700, b"#!/bin/sh", ""),
            ("run", T::Symlink, 0o777, b"", "scripts/run.sh"),
        ]);
        assert_eq!(
            result.unwrap(),
            Unpacked {
                files: 3,
                bytes: 11
            }
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| {
            fs::metadata(dir.path().join("root").join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777
        };
        assert_eq!(mode("SKILL.md"), 0o644);
        assert_eq!(mode("scripts/run.sh"), 0o755);
    }

    #[test]
    fn hostile_layers_are_refused_and_write_nothing_outside() {
        let cases: &[(&[RawEntry<'_>], &str)] = &[
            (&[("../evil", T::Regular, 0o644, b"x", "")], "climbs out"),
            (
                &[("a/../../evil", T::Regular, 0o644, b"x", "")],
                "climbs out",
            ),
            (
                &[("/etc/evil", T::Regular, 0o644, b"x", "")],
                "absolute path",
            ),
            (
                &[("link", T::Symlink, 0o777, b"", "../../etc/passwd")],
                "outside the skill",
            ),
            (
                &[("link", T::Symlink, 0o777, b"", "/etc/passwd")],
                "outside the skill",
            ),
            (&[("hard", T::Link, 0o644, b"", "/etc/passwd")], "hardlink"),
            (&[("dev", T::Char, 0o644, b"", "")], "device node"),
            (&[("fifo", T::Fifo, 0o644, b"", "")], "FIFO"),
            (&[("suid", T::Regular, 0o4755, b"x", "")], "setuid"),
            (
                &[
                    ("d", T::Symlink, 0o777, b"", "."),
                    ("d/x", T::Regular, 0o644, b"x", ""),
                ],
                "through a symlink",
            ),
            (
                &[
                    ("x", T::Regular, 0o644, b"1", ""),
                    ("x", T::Regular, 0o644, b"2", ""),
                ],
                "appears twice",
            ),
        ];
        for (entries, message) in cases {
            let (dir, result) = run(entries);
            let err = result.unwrap_err().to_string();
            assert!(err.contains(message), "{message}: {err}");
            assert!(!dir.path().join("evil").exists());
            let outside: Vec<_> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(outside, ["root"], "{message}: nothing beside the root");
        }
    }

    #[test]
    fn symlink_chains_are_refused_in_every_entry_order() {
        let deep = "u/u/u/u/u/u/u/u/u/u/u/u/../../../../../../../../../../../..";
        let chain: [RawEntry<'_>; 3] = [
            ("u", T::Symlink, 0o777, b"", "."),
            ("rootfs", T::Symlink, 0o777, b"", deep),
            ("parent", T::Symlink, 0o777, b"", "u/.."),
        ];
        for order in [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ] {
            let mut entries = vec![("SKILL.md", T::Regular, 0o644, &b"x"[..], "")];
            entries.extend(order.iter().map(|&i| chain[i]));
            let (_dir, result) = run(&entries);
            let err = result.unwrap_err().to_string();
            assert!(err.contains("outside the skill"), "{order:?}: {err}");
        }
        // A loop is refused too; a link through a link that stays inside is fine.
        let (_dir, result) = run(&[
            ("a", T::Symlink, 0o777, b"", "b"),
            ("b", T::Symlink, 0o777, b"", "a"),
        ]);
        assert!(result.unwrap_err().to_string().contains("loop"));
        let (_dir, result) = run(&[
            ("docs/", T::Directory, 0o755, b"", ""),
            ("docs/v2.md", T::Regular, 0o644, b"x", ""),
            ("docs/latest", T::Symlink, 0o777, b"", "v2.md"),
            ("readme", T::Symlink, 0o777, b"", "docs/latest"),
        ]);
        assert_eq!(result.unwrap().files, 3);
    }

    #[test]
    fn a_pax_global_header_is_not_a_file() {
        let (dir, result) = run(&[
            (
                "pax_global_header",
                T::XGlobalHeader,
                0o644,
                b"52 comment=0123456789abcdef0123456789abcdef01234567\n",
                "",
            ),
            ("SKILL.md", T::Regular, 0o644, b"x", ""),
        ]);
        assert_eq!(result.unwrap().files, 1);
        assert!(!dir.path().join("root/pax_global_header").exists());
    }

    #[test]
    fn bombs_hit_the_caps() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![0u8; 2 << 20];
        let err = unpack(
            &layer(&[("zeros", T::Regular, 0o644, &big, "")])[..],
            dir.path(),
            None,
            LIMITS,
        )
        .unwrap_err();
        assert!(matches!(err, UnpackError::TooLarge(_)), "{err}");
        let names: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
        let many: Vec<RawEntry<'_>> = names
            .iter()
            .map(|n| (n.as_str(), T::Regular, 0o644, &b""[..], ""))
            .collect();
        let err = unpack(
            &layer(&many)[..],
            dir.path(),
            None,
            UnpackLimits {
                max_bytes: 1 << 20,
                max_entries: 10,
            },
        )
        .unwrap_err();
        assert!(matches!(err, UnpackError::TooManyEntries(10)), "{err}");
    }

    #[test]
    fn agentskills_layers_are_stripped_of_their_root() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = layer(&[
            ("demo/", T::Directory, 0o755, b"", ""),
            ("demo/SKILL.md", T::Regular, 0o644, b"x", ""),
        ]);
        unpack(&bytes[..], dir.path(), Some("demo"), LIMITS).unwrap();
        assert!(dir.path().join("SKILL.md").is_file());
        let other = tempfile::tempdir().unwrap();
        let bytes = layer(&[("elsewhere/SKILL.md", T::Regular, 0o644, b"x", "")]);
        let err = unpack(&bytes[..], other.path(), Some("demo"), LIMITS).unwrap_err();
        assert!(err.to_string().contains("root folder"), "{err}");
    }

    #[test]
    fn zstd_frames_in_a_row_are_one_stream_and_garbage_is_an_error() {
        use ruzstd::encoding::{CompressionLevel, compress_to_vec};
        let mut packed = compress_to_vec(&b"one frame, "[..], CompressionLevel::Fastest);
        packed.extend(compress_to_vec(
            &b"and another"[..],
            CompressionLevel::Fastest,
        ));
        let mut out = Vec::new();
        ZstdFrames::new(packed.as_slice())
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"one frame, and another");
        let garbage = vec![0x42u8; 64];
        assert!(
            ZstdFrames::new(garbage.as_slice())
                .read_to_end(&mut Vec::new())
                .is_err()
        );
    }
}
