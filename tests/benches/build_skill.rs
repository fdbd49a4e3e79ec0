//! Build benchmark: `skillc build` of a 1,000-file, 50 MB skill beside
//! `tar -czf` of the same tree, in the same run; wall time and peak memory.
//!
//! Run (release binaries, which the bench refuses to run without):
//!   cargo build --release --workspace && cargo bench -p skilld-tests --bench build_skill
//!
//! Peak memory is the maximum resident set of the whole process, from GNU
//! time (`/usr/bin/time`, Debian package `time`): the daemon for one build
//! (started fresh, one build, stopped), and tar with its gzip child.
//! A second tree of 4x the size shows whether memory grows with the skill.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use skilld_tests::helper::tools::{bin, require};
use skilld_tests::helper::{Home, Run, wait_until};

fn make_skill(dir: &Path, files: usize, total: usize) {
    skilld_tests::helper::generate::skill(dir, "bench", files, total);
}

/// `(seconds, peak KiB)` that GNU time wrote.
fn time_output(path: &Path) -> (f64, u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut parts = text.split_whitespace();
    (
        parts.next().unwrap().parse().unwrap(),
        parts.next().unwrap().parse().unwrap(),
    )
}

fn tar_czf(dir: &Path, out: &Path, time: &Path) -> (f64, u64) {
    let times = out.with_extension("time");
    let run = Run::of(
        Command::new(time)
            .args(["-f", "%e %M", "-o"])
            .arg(&times)
            .args(["tar", "-czf"])
            .arg(out)
            .arg("-C")
            .arg(dir)
            .arg("."),
    );
    assert_eq!(run.code, Some(0), "tar: {}", run.stderr);
    time_output(&times)
}

/// One build through a fresh daemon: (build wall seconds, daemon peak KiB).
fn skilld_build(home: &Home, dir: &Path, tag: &str, time: &Path) -> (f64, u64) {
    let times = home.root().join(format!("{tag}.time"));
    let mut cmd = Command::new(time);
    cmd.args(["-f", "%e %M", "-o"])
        .arg(&times)
        .arg(bin("skilld"));
    home.apply_env(&mut cmd);
    let mut daemon = cmd.stderr(std::process::Stdio::null()).spawn().unwrap();
    let socket = home.socket();
    wait_until("skilld to answer", Duration::from_secs(20), || {
        std::os::unix::net::UnixStream::connect(&socket).is_ok()
    });
    let start = Instant::now();
    home.skillc(&[
        "-q",
        "build",
        "-t",
        &format!("bench/x:{tag}"),
        dir.to_str().unwrap(),
    ])
    .expect_code(0);
    let wall = start.elapsed().as_secs_f64();
    home.skillc(&["-q", "daemon", "stop"]).expect_code(0);
    daemon.wait().unwrap();
    (wall, time_output(&times).1)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let time = require("time", "time");
    let home = Home::new();
    println!("| tree | tool | wall (median of 3) | peak RSS |");
    println!("|---|---|---|---|");
    for (label, files, total) in [
        ("1,000 files / 50 MB", 1000usize, 50 << 20),
        ("4,000 files / 200 MB", 4000, 200 << 20),
    ] {
        let dir = home.root().join(format!("bench-{files}")).join("bench");
        make_skill(&dir, files, total);
        let mut tar_times = Vec::new();
        let mut tar_peak = 0;
        let mut ours_times = Vec::new();
        let mut ours_peak = 0;
        for round in 0..3 {
            let (t, m) = tar_czf(
                &dir,
                &home.root().join(format!("out-{files}-{round}.tgz")),
                &time,
            );
            tar_times.push(t);
            tar_peak = tar_peak.max(m);
            let (t, m) = skilld_build(&home, &dir, &format!("{files}-{round}"), &time);
            ours_times.push(t);
            ours_peak = ours_peak.max(m);
        }
        let tar_size = std::fs::metadata(home.root().join(format!("out-{files}-0.tgz")))
            .unwrap()
            .len();
        println!(
            "| {label} | tar -czf | {:.2} s | {:.1} MiB |",
            median(tar_times.clone()),
            tar_peak as f64 / 1024.0
        );
        println!(
            "| {label} | skillc build (daemon) | {:.2} s ({:.2}x tar) | {:.1} MiB |",
            median(ours_times.clone()),
            median(ours_times) / median(tar_times),
            ours_peak as f64 / 1024.0
        );
        eprintln!("{label}: tar.gz {tar_size} bytes");
    }
}
