//! Shell completion through a real bash: the script `skillc completions
//! bash` prints is sourced, bash's completion function is called as bash
//! calls it, and COMPREPLY holds subcommands, installed skill names, local
//! images and targets asked of the daemon; with no daemon, completion still
//! answers (flags, subcommands) and starts none.

use std::process::Command;

use skilld_tests::helper::skills::install_hello;
use skilld_tests::helper::tools::{bin, require};
use skilld_tests::helper::{Home, Run, wait_until};

/// What bash completes for `words`, the last being the word under the cursor.
fn complete(home: &Home, words: &[&str]) -> Vec<String> {
    let bash = require("bash", "bash");
    let dir = bin("skillc").parent().unwrap().to_path_buf();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source <(skillc completions bash) || exit 3\nCOMP_WORDS=(skillc {})\nCOMP_CWORD={}\nCOMP_TYPE=9\n_clap_complete_skillc skillc '{}' skillc\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        quoted.join(" "),
        words.len(),
        words.last().unwrap()
    );
    let mut cmd = Command::new(bash);
    home.apply_env(&mut cmd);
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Run::of(cmd.env("PATH", path).args(["-c", &script]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_commands_installed_skills_images_and_targets() {
    let home = Home::new();
    install_hello(&home, &home.root().join("out"));
    assert_eq!(complete(&home, &["rem"]), ["remove"]);
    assert_eq!(complete(&home, &["remove", "he"]), ["hello-world"]);
    assert_eq!(complete(&home, &["pin", "h"]), ["hello-world"]);
    assert_eq!(
        complete(&home, &["install", "ex"]),
        ["examples/hello-world:1.0.0-draft"]
    );
    // Every target the daemon knows whose name starts with "c".
    let targets = home.skillc(&["--json", "targets"]).expect_code(0).json();
    let mut expected: Vec<String> = targets["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .filter(|n| n.starts_with('c'))
        .map(str::to_string)
        .collect();
    expected.sort();
    assert!(expected.len() >= 4, "{expected:?}");
    let mut completed = complete(&home, &["list", "-t", "c"]);
    completed.sort();
    assert_eq!(completed, expected);

    // No daemon: flags and subcommands still complete, none is started.
    home.skillc(&["daemon", "stop"]).expect_code(0);
    wait_until(
        "the daemon to be gone",
        std::time::Duration::from_secs(10),
        || !home.socket().exists(),
    );
    let none = complete(&home, &["remove", "he"]);
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(complete(&home, &["remove", "--fo"]), ["--force"]);
    assert!(!home.socket().exists(), "completion never starts a daemon");
}

#[test]
fn every_shell_gets_a_registration_script() {
    let home = Home::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = home
            .skillc(&["--no-autostart", "completions", shell])
            .expect_code(0);
        assert!(run.stdout.contains("COMPLETE"), "{shell}: {}", run.stdout);
        assert!(run.stdout.contains("skillc"), "{shell}");
    }
    let run = home.skillc(&["completions", "tcsh"]).expect_code(2);
    assert!(run.stderr.contains("bash"), "{}", run.stderr);
}
