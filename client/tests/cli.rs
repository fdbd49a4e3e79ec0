//! The `skillc` binary's command line. (Having an integration test here also
//! makes `cargo test --workspace` build the binary the end-to-end suite runs.)

use std::process::Command;

fn skillc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_skillc"))
}

#[test]
fn help_lists_global_flags_and_exit_codes() {
    let out = skillc().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--json",
        "--socket",
        "--quiet",
        "--no-autostart",
        "status",
        "daemon",
        "Exit status",
    ] {
        assert!(help.contains(needle), "--help mentions {needle}:\n{help}");
    }
}

#[test]
fn a_usage_error_exits_2() {
    let out = skillc().args(["daemon", "explode"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
