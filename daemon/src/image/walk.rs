//! Walking a skill folder for the build: every file, dotfiles too, except VCS
//! folders and what `.skillignore` (gitignore syntax) excludes.
//!
//! Regular files, folders and symlinks that stay inside the skill are kept;
//! a symlink that escapes (or is absolute), a socket, a device or a FIFO is
//! an error. File count and total size are capped, and the walk stops as
//! soon as a cap is passed so a hostile folder cannot make it run long.
//! Entries come back sorted by path bytes: the layer's order never depends
//! on the filesystem.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use skilld_proto::skill::{Problem, Severity};

/// Folders never packed.
const VCS: &[&str] = &[".git", ".hg", ".svn", ".bzr", ".jj", "_darcs", "CVS"];
/// The ignore file, at the skill root.
pub const IGNORE_FILE: &str = ".skillignore";
/// Problems reported before the walk gives up listing more.
const MAX_PROBLEMS: usize = 50;

/// Caps on what a build packs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WalkLimits {
    pub max_files: u64,
    pub max_bytes: u64,
}

impl Default for WalkLimits {
    fn default() -> Self {
        WalkLimits {
            max_files: 10_000,
            max_bytes: 512 * 1024 * 1024,
        }
    }
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File { size: u64, executable: bool },
    Symlink { target: PathBuf },
}

/// One entry of the layer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path inside the skill, `/`-separated, no leading `./`.
    pub rel: String,
    pub abs: PathBuf,
    pub kind: Kind,
}

/// The folder's content.
#[derive(Debug, Default)]
pub struct Walked {
    pub entries: Vec<Entry>,
    pub files: u64,
    pub bytes: u64,
}

fn problem(rel: &str, message: String, hint: &str) -> Problem {
    Problem {
        severity: Severity::Error,
        file: rel.to_string(),
        line: None,
        field: String::new(),
        message,
        hint: hint.to_string(),
    }
}

struct Walker {
    canonical_root: PathBuf,
    ignore: Gitignore,
    limits: WalkLimits,
    out: Walked,
    problems: Vec<Problem>,
    stop: bool,
}

/// Walk `root`.
pub fn walk(root: &Path, limits: WalkLimits) -> Result<Walked, Vec<Problem>> {
    let mut builder = GitignoreBuilder::new(root);
    let ignore_path = root.join(IGNORE_FILE);
    if ignore_path.is_file()
        && let Some(e) = builder.add(&ignore_path)
    {
        return Err(vec![problem(
            IGNORE_FILE,
            format!("cannot be read: {e}"),
            "fix the pattern syntax (gitignore rules)",
        )]);
    }
    let ignore = builder.build().map_err(|e| {
        vec![problem(
            IGNORE_FILE,
            format!("cannot be read: {e}"),
            "fix the pattern syntax (gitignore rules)",
        )]
    })?;
    let canonical_root = root.canonicalize().map_err(|e| {
        vec![problem(
            "",
            format!("cannot open {}: {e}", root.display()),
            "check the path",
        )]
    })?;
    let mut walker = Walker {
        canonical_root,
        ignore,
        limits,
        out: Walked::default(),
        problems: Vec::new(),
        stop: false,
    };
    walker.dir(root, "");
    // Judge every link by a walk through the others, exactly as unpack
    // will: a chain of links that each look inside can still climb out.
    let mut links = super::links::Links::default();
    for entry in &walker.out.entries {
        if let Kind::Symlink { target } = &entry.kind {
            let at: Vec<&str> = entry.rel.split('/').collect();
            links.insert(&at, &target.to_string_lossy());
        }
    }
    for (at, why) in links.escapes() {
        walker.problems.push(problem(
            &at,
            format!("is a symlink that {why}"),
            "skills must be self-contained: point the link at a file inside the skill, or replace it with the file",
        ));
    }
    if !walker.problems.is_empty() {
        return Err(walker.problems);
    }
    walker
        .out
        .entries
        .sort_by(|a, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
    Ok(walker.out)
}

impl Walker {
    fn fail(&mut self, p: Problem) {
        self.problems.push(p);
        if self.problems.len() >= MAX_PROBLEMS {
            self.stop = true;
        }
    }

    fn dir(&mut self, dir: &Path, rel_dir: &str) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                return self.fail(problem(
                    rel_dir,
                    format!("cannot list: {e}"),
                    "check its permissions",
                ));
            }
        };
        for entry in entries {
            if self.stop {
                return;
            }
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    return self.fail(problem(
                        rel_dir,
                        format!("cannot list: {e}"),
                        "check its permissions",
                    ));
                }
            };
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                self.fail(problem(
                    rel_dir,
                    format!("{:?} is not a UTF-8 file name", entry.file_name()),
                    "rename it",
                ));
                continue;
            };
            let rel = if rel_dir.is_empty() {
                name.to_string()
            } else {
                format!("{rel_dir}/{name}")
            };
            let abs = entry.path();
            let meta = match std::fs::symlink_metadata(&abs) {
                Ok(m) => m,
                Err(e) => {
                    self.fail(problem(
                        &rel,
                        format!("cannot inspect: {e}"),
                        "check its permissions",
                    ));
                    continue;
                }
            };
            let ft = meta.file_type();
            if ft.is_dir() && VCS.contains(&name) {
                continue;
            }
            if name == ".git" {
                continue; // a worktree's or submodule's .git file
            }
            if self
                .ignore
                .matched_path_or_any_parents(&abs, ft.is_dir())
                .is_ignore()
            {
                continue;
            }
            if ft.is_dir() {
                self.out.entries.push(Entry {
                    rel: rel.clone(),
                    abs: abs.clone(),
                    kind: Kind::Dir,
                });
                self.dir(&abs, &rel);
            } else if ft.is_file() {
                self.out.files += 1;
                self.out.bytes += meta.len();
                let executable = meta.permissions().mode() & 0o111 != 0;
                self.out.entries.push(Entry {
                    rel,
                    abs,
                    kind: Kind::File {
                        size: meta.len(),
                        executable,
                    },
                });
                self.check_caps();
            } else if ft.is_symlink() {
                self.symlink(rel, abs);
                self.out.files += 1;
                self.check_caps();
            } else {
                let what = if ft.is_fifo() {
                    "a FIFO"
                } else if ft.is_socket() {
                    "a socket"
                } else if ft.is_block_device() || ft.is_char_device() {
                    "a device node"
                } else {
                    "not a regular file"
                };
                self.fail(problem(
                    &rel,
                    format!("is {what}; skills hold only files, folders and internal symlinks"),
                    "remove it or list it in .skillignore",
                ));
            }
        }
    }

    fn check_caps(&mut self) {
        if self.out.files > self.limits.max_files {
            self.fail(problem(
                "",
                format!("the skill has more than {} files", self.limits.max_files),
                "exclude generated files with .skillignore, or raise build.max_files in config.yaml",
            ));
            self.stop = true;
        } else if self.out.bytes > self.limits.max_bytes {
            self.fail(problem(
                "",
                format!(
                    "the skill's files add up to more than {} bytes",
                    self.limits.max_bytes
                ),
                "exclude large files with .skillignore, or raise build.max_bytes in config.yaml",
            ));
            self.stop = true;
        }
    }

    fn symlink(&mut self, rel: String, abs: PathBuf) {
        let target = match std::fs::read_link(&abs) {
            Ok(t) => t,
            Err(e) => {
                return self.fail(problem(
                    &rel,
                    format!("cannot read link: {e}"),
                    "check the link",
                ));
            }
        };
        if target.is_absolute() {
            return self.fail(problem(
                &rel,
                format!("is an absolute symlink to {}", target.display()),
                "make it relative to a file inside the skill, or replace it with the file",
            ));
        }
        // Lexically: the target, relative to the link's folder, must stay inside.
        let parent = Path::new(&rel).parent().unwrap_or(Path::new(""));
        let mut depth: i64 = parent.components().count() as i64;
        let mut escapes = false;
        for c in target.components() {
            match c {
                Component::ParentDir => depth -= 1,
                Component::Normal(_) => depth += 1,
                _ => {}
            }
            escapes |= depth < 0;
        }
        // Really: following every link on the way must land inside too.
        if !escapes && let Ok(real) = abs.canonicalize() {
            escapes = !real.starts_with(&self.canonical_root);
        }
        if escapes {
            return self.fail(problem(
                &rel,
                format!("is a symlink to {}, outside the skill", target.display()),
                "skills must be self-contained: copy the file in, or remove the link",
            ));
        }
        self.out.entries.push(Entry {
            rel,
            abs,
            kind: Kind::Symlink { target },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("scripts")).unwrap();
        std::fs::create_dir_all(root.join(".git/objects")).unwrap();
        std::fs::create_dir_all(root.join("build")).unwrap();
        std::fs::write(root.join("SKILL.md"), "x").unwrap();
        std::fs::write(root.join(".hidden"), "x").unwrap();
        std::fs::write(root.join("scripts/run.sh"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(
            root.join("scripts/run.sh"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        std::fs::write(root.join("build/out.bin"), "x").unwrap();
        std::fs::write(root.join("notes.tmp"), "x").unwrap();
        std::fs::write(root.join(".skillignore"), "build/\n*.tmp\n").unwrap();
        symlink("scripts/run.sh", root.join("run")).unwrap();
        dir
    }

    #[test]
    fn keeps_dotfiles_drops_vcs_and_ignored_and_sorts() {
        let dir = tree();
        let walked = walk(dir.path(), WalkLimits::default()).unwrap();
        let rels: Vec<&str> = walked.entries.iter().map(|e| e.rel.as_str()).collect();
        assert_eq!(
            rels,
            [
                ".hidden",
                ".skillignore",
                "SKILL.md",
                "run",
                "scripts",
                "scripts/run.sh"
            ]
        );
        let script = walked
            .entries
            .iter()
            .find(|e| e.rel == "scripts/run.sh")
            .unwrap();
        assert_eq!(
            script.kind,
            Kind::File {
                size: 10,
                executable: true
            }
        );
    }

    #[test]
    fn hostile_entries_are_all_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("SKILL.md"), "x").unwrap();
        symlink("../../etc/passwd", root.join("escape")).unwrap();
        symlink("/etc/passwd", root.join("absolute")).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        symlink("../..", root.join("sub/up")).unwrap();
        let fifo = root.join("pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let problems = walk(root, WalkLimits::default()).unwrap_err();
        let files: Vec<&str> = problems.iter().map(|p| p.file.as_str()).collect();
        for expected in ["escape", "absolute", "sub/up", "pipe"] {
            assert!(files.contains(&expected), "{expected} in {problems:?}");
        }
        let pipe = problems.iter().find(|p| p.file == "pipe").unwrap();
        assert!(pipe.message.contains("FIFO"));
    }

    #[test]
    fn link_chains_and_loops_are_refused_even_when_dangling() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("SKILL.md"), "x").unwrap();
        symlink(".", root.join("u")).unwrap();
        // Dangling (nothing named `gone` anywhere), so canonicalize cannot judge it.
        symlink("u/../gone", root.join("parent")).unwrap();
        symlink("b", root.join("a")).unwrap();
        symlink("a", root.join("b")).unwrap();
        symlink("SKILL.md", root.join("fine")).unwrap();
        let problems = walk(root, WalkLimits::default()).unwrap_err();
        let files: Vec<&str> = problems.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(files, ["a", "b", "parent"], "{problems:?}");
        assert!(
            problems[2].message.contains("outside the skill"),
            "{problems:?}"
        );
        assert!(problems[0].message.contains("loop"), "{problems:?}");
    }

    #[test]
    fn caps_stop_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..20 {
            std::fs::write(dir.path().join(format!("f{i}")), "0123456789").unwrap();
        }
        let err = walk(
            dir.path(),
            WalkLimits {
                max_files: 5,
                max_bytes: 1 << 20,
            },
        )
        .unwrap_err();
        assert!(err[0].message.contains("more than 5 files"), "{err:?}");
        let err = walk(
            dir.path(),
            WalkLimits {
                max_files: 100,
                max_bytes: 50,
            },
        )
        .unwrap_err();
        assert!(err[0].message.contains("more than 50 bytes"), "{err:?}");
    }
}
