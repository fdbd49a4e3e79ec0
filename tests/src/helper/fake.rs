//! A dishonest registry (tests/fixtures/fake_registry.py) serving whatever a
//! test puts in its folder: lying blobs, oversized manifests, non-skill images.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::tools::require;
use super::wait::wait_until;

pub struct FakeRegistry {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl FakeRegistry {
    pub fn start() -> FakeRegistry {
        let python = require("python3", "python3");
        let dir = tempfile::Builder::new().prefix("fake").tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/fake_registry.py");
        let port_file = dir.path().join("port");
        let child = Command::new(python)
            .arg(&script)
            .arg(&port_file)
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the fake registry");
        wait_until(
            "the fake registry to listen",
            Duration::from_secs(20),
            || port_file.exists(),
        );
        let port = std::fs::read_to_string(&port_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        FakeRegistry { child, dir, port }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Serve `body` as the manifest `name:reference`.
    pub fn manifest(&self, name: &str, reference: &str, body: &[u8]) {
        let dir = self.dir.path().join("manifests").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(reference), body).unwrap();
    }

    /// Serve `body` under the blob digest `sha256:<hex>`, whatever it hashes to.
    pub fn blob(&self, digest: &str, body: &[u8]) {
        let dir = self.dir.path().join("blobs");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(digest.trim_start_matches("sha256:")), body).unwrap();
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
