//! Small timing helpers for the bench binaries.

use std::process::Command;
use std::time::Instant;

use super::{Home, Run};

/// Run `cmd` to success; its wall time in seconds.
pub fn timed(cmd: &mut Command) -> f64 {
    let start = Instant::now();
    let run = Run::of(cmd);
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(run.code, Some(0), "{cmd:?}: {}", run.stderr);
    elapsed
}

/// The median of `samples`.
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

/// The floor of a fetch: `layers` (`repository digest` per line) fetched
/// from the plain-HTTP registry at `host` with `curl`, four at a time,
/// each piped into `tar -xz` in a folder of its own; the wall time in
/// seconds.
pub fn curl_tar(curl: &std::path::Path, host: &str, layers: &str) -> f64 {
    let out = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut xargs = Command::new("xargs")
        .args(["-P4", "-L1", "sh", "-c"])
        .arg(format!(
            "mkdir -p \"$0/${{2#sha256:}}\" && {} -sf \"http://{host}/v2/$1/blobs/$2\" | tar -xz -C \"$0/${{2#sha256:}}\"",
            curl.display()
        ))
        .arg(out.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut xargs.stdin.take().unwrap(), layers.as_bytes()).unwrap();
    assert!(xargs.wait().unwrap().success());
    start.elapsed().as_secs_f64()
}

/// Skill `name` at `version` (10 generated files, 40 KiB), built as
/// `HOST/bench/NAME`, pushed and published.
pub fn publish_generated(home: &Home, host: &str, name: &str, version: &str) {
    let dir = home.root().join("src").join(version).join(name);
    super::generate::skill(&dir, name, 10, 40 * 1024);
    let md = std::fs::read_to_string(dir.join("SKILL.md")).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        md.replace("version: \"1.0.0\"", &format!("version: \"{version}\"")),
    )
    .unwrap();
    let repo = format!("{host}/bench/{name}");
    home.skillc(&[
        "-q",
        "build",
        "-t",
        &format!("{repo}:{version}-draft"),
        dir.to_str().unwrap(),
    ])
    .expect_code(0);
    home.skillc(&["-q", "push", &format!("{repo}:{version}-draft")])
        .expect_code(0);
    for (from, to) in [("draft", "testing"), ("testing", "published")] {
        home.skillc(&[
            "-q",
            "promote",
            &format!("{repo}:{version}-{from}"),
            "--to",
            to,
        ])
        .expect_code(0);
    }
}
