//! Every skill folder of a tree: a folder holding a `SKILL.md`. A skill's
//! own sub-folders are not searched (they are its files), nor are
//! version-control, vendored and build folders (`.git`, `node_modules`,
//! `vendor`, `target`, `.venv`, `venv`, `__pycache__`, `dist`, `build`),
//! nor what the tree's `.gitignore` files exclude.

use std::path::{Path, PathBuf};

const SKIPPED: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "vendor",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    "dist",
    "build",
];

/// At most this many folders are looked at (a hostile tree cannot make
/// the walk endless).
const MAX_FOLDERS: usize = 100_000;

/// The skill folders under `root`, relative to it, sorted.
pub fn skill_folders(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![(PathBuf::new(), Vec::<ignore::gitignore::Gitignore>::new())];
    let mut seen = 0usize;
    while let Some((relative, ignores)) = pending.pop() {
        seen += 1;
        if seen > MAX_FOLDERS {
            return Err(std::io::Error::other(format!(
                "more than {MAX_FOLDERS} folders under {}; build a smaller part of it (--path)",
                root.display()
            )));
        }
        let dir = root.join(&relative);
        if dir.join("SKILL.md").is_file() {
            found.push(relative);
            continue;
        }
        let mut ignores = ignores;
        let gitignore = dir.join(".gitignore");
        if gitignore.is_file() {
            let (g, _) = ignore::gitignore::Gitignore::new(&gitignore);
            ignores.push(g);
        }
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            // Symbolic links are not followed: no loops, nothing outside.
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if SKIPPED.contains(&name) {
                continue;
            }
            let path = entry.path();
            if ignores
                .iter()
                .any(|g| g.matched_path_or_any_parents(&path, true).is_ignore())
            {
                continue;
            }
            pending.push((relative.join(name), ignores.clone()));
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_skills_and_skips_vendored_ignored_and_nested() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for path in [
            "skills/a/SKILL.md",
            "skills/b/SKILL.md",
            "skills/b/examples/inner/SKILL.md",
            ".claude/skills/c/SKILL.md",
            "node_modules/pkg/SKILL.md",
            "vendor/x/SKILL.md",
            "scratch/d/SKILL.md",
            "docs/README.md",
        ] {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "---\nname: x\n---\n").unwrap();
        }
        std::fs::write(root.join(".gitignore"), "scratch/\n").unwrap();
        let found = skill_folders(root).unwrap();
        let found: Vec<&str> = found.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(found, [".claude/skills/c", "skills/a", "skills/b"]);
    }

    #[test]
    fn a_skill_at_the_root_is_the_only_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("SKILL.md"), "x").unwrap();
        assert_eq!(skill_folders(dir.path()).unwrap(), [PathBuf::new()]);
    }
}
