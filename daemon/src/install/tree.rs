//! A digest of a folder's content, for drift detection: every entry's
//! path, kind, executable bit, and content (or link target), in sorted
//! order. File times and owners do not count; an edit, a new file, a
//! removed file or a chmod +x does.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::store::digest::Digest;

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
    walk(dir, "", &mut hasher)?;
    Ok(Digest::from_hasher(hasher))
}

fn walk(dir: &Path, rel: &str, hasher: &mut Sha256) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut buf = vec![0u8; 64 * 1024];
    for entry in entries {
        let name = entry.file_name();
        let path = format!("{rel}/{}", name.to_string_lossy());
        let meta = std::fs::symlink_metadata(entry.path())?;
        if meta.file_type().is_symlink() {
            hasher.update(
                format!(
                    "L {path}\0{}\0",
                    std::fs::read_link(entry.path())?.display()
                )
                .as_bytes(),
            );
        } else if meta.is_dir() {
            hasher.update(format!("D {path}\0").as_bytes());
            walk(&entry.path(), &path, hasher)?;
        } else if !meta.is_file() {
            // A FIFO, socket or device put there by hand: its kind counts,
            // it is never opened (a FIFO would block the check for ever).
            hasher.update(format!("S {path}\0{:o}\0", meta.permissions().mode()).as_bytes());
        } else {
            let exec = meta.permissions().mode() & 0o111 != 0;
            hasher.update(format!("F {path}\0{exec}\0{}\0", meta.len()).as_bytes());
            let mut file = std::fs::File::open(entry.path())?;
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
        }
    }
    Ok(())
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
