//! Finding the binaries under test and the external tools tests need.

use std::path::PathBuf;

/// The folder holding the workspace's built binaries (`target/debug`).
///
/// `cargo test --workspace` builds `skilld` and `skillc` before running any
/// test, because the daemon and client crates have integration tests of their
/// own; the test executable lives in `target/debug/deps/`.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary has a folder");
    deps.parent().expect("deps has a parent").to_path_buf()
}

/// Path of a workspace binary, e.g. `bin("skilld")`.
///
/// Refuses a binary older than the sources it is built from: `cargo test -p
/// skilld-tests` alone does not rebuild it, and testing stale code passes or
/// fails for the wrong reasons.
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing; run the suite with `cargo test --workspace`, which builds it",
        path.display()
    );
    let built = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("binary mtime");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let sources: &[&str] = match name {
        "skilld" => &["proto", "daemon"],
        "skillc" => &["proto", "client"],
        _ => &[],
    };
    for crate_dir in sources {
        if let Some(newer) = newest(&root.join(crate_dir).join("src"))
            && newer > built
        {
            panic!(
                "{} is older than the sources in {crate_dir}/src; run `cargo test --workspace` (or `cargo build --workspace`) so the tests run the current code",
                path.display()
            );
        }
    }
    path
}

/// The newest modification time of any file under `dir`.
fn newest(dir: &std::path::Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let t = if entry.file_type().ok()?.is_dir() {
            self::newest(&entry.path())
        } else {
            entry.metadata().ok()?.modified().ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// Path of an external tool; panics naming the Debian package when missing.
pub fn require(tool: &str, package: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("this test needs `{tool}`, which is not installed: apt-get install {package}")
        })
}

/// The repository's `testdata/` folder.
pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("testdata")
}

/// Copy a folder tree (files, folders, symlinks; modes kept).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let ft = entry.file_type().unwrap();
        if ft.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
