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
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing; run the whole suite with `cargo test --workspace`, which builds it",
        path.display()
    );
    path
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
