//! The `skilld` binary's command line. (Having an integration test here also
//! makes `cargo test --workspace` build the binary the end-to-end suite runs.)

use std::process::Command;

fn skilld() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skilld"));
    cmd.env_remove("SKILLD_HOME").env_remove("SKILLD_SOCKET");
    cmd
}

#[test]
fn help_documents_flags_and_environment() {
    let out = skilld().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--home",
        "--socket",
        "--config",
        "--verbose",
        "SKILLD_HOME",
        "SKILLD_SOCKET",
        "SKILLD_LOG",
    ] {
        assert!(help.contains(needle), "--help mentions {needle}:\n{help}");
    }
}

#[test]
fn version_is_the_crate_version() {
    let out = skilld().arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("skilld {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_unreadable_config_path_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = skilld()
        .arg("--home")
        .arg(dir.path())
        .arg("--config")
        .arg(dir.path()) // a folder, not a file
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("cannot read config file"), "{stderr}");
}
