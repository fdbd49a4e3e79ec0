//! A digest of a folder's content, for drift detection: every entry's
//! path, kind, executable bit, and content (or link target), in sorted
//! order. File times and owners do not count; an edit, a new file, a
//! removed file or a chmod +x does.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::store::digest::Digest;

/// One entry of a folder, as a walk meets it.
enum Entry<'a> {
    Link(std::path::PathBuf),
    Dir,
    /// A FIFO, socket or device (never opened: a FIFO would block).
    Special(u32),
    File {
        exec: bool,
        len: u64,
        path: &'a Path,
    },
}

/// Call `f` with every entry under `dir` (its path from `dir`, `/`-led),
/// in sorted order, parents before children; links never followed.
fn visit(
    dir: &Path,
    rel: &str,
    f: &mut dyn FnMut(&str, Entry<'_>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = format!("{rel}/{}", entry.file_name().to_string_lossy());
        let at = entry.path();
        let meta = std::fs::symlink_metadata(&at)?;
        if meta.file_type().is_symlink() {
            f(&path, Entry::Link(std::fs::read_link(&at)?))?;
        } else if meta.is_dir() {
            f(&path, Entry::Dir)?;
            visit(&at, &path, f)?;
        } else if !meta.is_file() {
            f(&path, Entry::Special(meta.permissions().mode()))?;
        } else {
            let exec = meta.permissions().mode() & 0o111 != 0;
            f(
                &path,
                Entry::File {
                    exec,
                    len: meta.len(),
                    path: &at,
                },
            )?;
        }
    }
    Ok(())
}

/// Feed the content of the file at `path` to `hasher`.
fn hash_file(path: &Path, hasher: &mut Sha256, buf: &mut [u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::open(path)?;
    loop {
        let n = file.read(buf)?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buf[..n]);
    }
}

/// The tree digest of `dir` (an error if it cannot be read). Links are
/// hashed as links, never followed, the folder itself included: a skill
/// folder replaced by a link to a large tree is a change, not a tree to read.
pub fn digest(dir: &Path) -> std::io::Result<Digest> {
    let mut hasher = Sha256::new();
    let meta = std::fs::symlink_metadata(dir)?;
    if meta.file_type().is_symlink() {
        hasher.update(format!("L \0{}\0", std::fs::read_link(dir)?.display()).as_bytes());
        return Ok(Digest::from_hasher(hasher));
    }
    let mut buf = vec![0u8; 64 * 1024];
    visit(dir, "", &mut |path, entry| {
        match entry {
            Entry::Link(target) => {
                hasher.update(format!("L {path}\0{}\0", target.display()).as_bytes())
            }
            Entry::Dir => hasher.update(format!("D {path}\0").as_bytes()),
            Entry::Special(mode) => hasher.update(format!("S {path}\0{mode:o}\0").as_bytes()),
            Entry::File {
                exec,
                len,
                path: at,
            } => {
                hasher.update(format!("F {path}\0{exec}\0{len}\0").as_bytes());
                hash_file(at, &mut hasher, &mut buf)?;
            }
        }
        Ok(())
    })?;
    Ok(Digest::from_hasher(hasher))
}

/// What each file and link under `dir` holds, by path from `dir` (without
/// the leading `/`): a file's sha256 and executable bit, a link's target.
/// Two folders differ in a path exactly where these differ.
pub fn fingerprints(dir: &Path) -> std::io::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut buf = vec![0u8; 64 * 1024];
    visit(dir, "", &mut |path, entry| {
        let path = path.trim_start_matches('/').to_string();
        match entry {
            Entry::Link(target) => {
                out.insert(path, format!("link {}", target.display()));
            }
            Entry::Dir => {}
            Entry::Special(mode) => {
                out.insert(path, format!("special {mode:o}"));
            }
            Entry::File { exec, path: at, .. } => {
                let mut hasher = Sha256::new();
                hash_file(at, &mut hasher, &mut buf)?;
                let exec = if exec { " +x" } else { "" };
                out.insert(path, format!("{}{exec}", hex::encode(hasher.finalize())));
            }
        }
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_change_the_digest_times_do_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "1").unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/b"), "2").unwrap();
        let first = digest(dir.path()).unwrap();
        std::fs::write(dir.path().join("a"), "1").unwrap();
        assert_eq!(
            digest(dir.path()).unwrap(),
            first,
            "rewriting the same bytes is no change"
        );
        std::fs::write(dir.path().join("d/b"), "3").unwrap();
        let edited = digest(dir.path()).unwrap();
        assert_ne!(edited, first);
        std::fs::set_permissions(dir.path().join("a"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        assert_ne!(digest(dir.path()).unwrap(), edited, "chmod +x is a change");
        std::fs::write(dir.path().join("new"), "").unwrap();
        assert_ne!(digest(dir.path()).unwrap(), edited);
    }
}
